"""pytest plugin: deploy a wirelab topology for a test module, give tests the running lab.

    import pytest

    pytestmark = pytest.mark.wirelab_topology("quickstart", backend="sim")

    def test_ping(wirelab_lab):
        assert wirelab_lab.ping("h1", "h2", count=3).received == 3

    def test_transfer_under_loss(wirelab_lab):
        fault = wirelab_lab.add_fault(endpoint="r1:eth1", loss="5%", seed=1)
        result = wirelab_lab.transfer("h1", "h2", size="1MB")
        assert result.sha256_match and result.retransmits > 0
        assert wirelab_lab.fault_counters(fault.fault_id).dropped > 0

The marker's topology is a path (relative to the test file, else to the working
directory) or a bundled example's name (``quickstart``, ``diamond`` ...), so a test runs
from any folder.

Fixtures:
    wirelab_lab           module scope: the :class:`~orchestrator.client.lab.Lab` of the
                          module's ``wirelab_topology`` marker (``backend=``, ``name=``,
                          ``seed=``), destroyed after the module; faults are cleared after
                          each test that added some
    wirelab_lab_factory   module scope: ``factory(topology, backend=..., name=...)`` -> Lab
                          (its ``made``: the labs it deployed)
    wirelab_client        session scope: a LabClient of the session's server

The server: ``--wirelab-server ADDR`` (or $WIRELAB_SERVER) uses a running ``wirelab serve``;
otherwise one is started in the test process (sim labs then run in-process, no Docker).
``--wirelab-backend docker`` runs every marked module on Docker instead.

``backend="virtual"`` (or ``--wirelab-backend virtual``) runs the same topology in
virtual time in the server's process: deterministic (the same seed and operations give the
same frames, counters and results, run after run) and faster than real time. Time passes
only while an operation waits (ping, transfer ...): ``wirelab_lab.wait("5s")`` lets the
topology's timeline and fault durations play out.

When a test that used a lab fails, each of the module's labs writes its journal (seed,
topology, every operation with its lab time and result) to ``--wirelab-journals DIR``
(default: beside ``--junitxml``, else ``./wirelab-journals``) and the report's
"wirelab journals" section names the files: ``wirelab replay FILE`` runs them again.
Registered with the ``pytest11`` entry point ``wirelab``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Generator, Iterator
from pathlib import Path

import pytest

from orchestrator.client.connect import LabClient
from orchestrator.client.lab import Lab


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("wirelab")
    group.addoption(
        "--wirelab-server",
        default=None,
        metavar="ADDR",
        help="LabService to use (default: start one in the test process)",
    )
    group.addoption(
        "--wirelab-journals",
        default=None,
        metavar="DIR",
        help="where the journals of a failed test's labs go (default: beside --junitxml, "
        "else ./wirelab-journals)",
    )
    group.addoption(
        "--wirelab-backend",
        default=None,
        choices=("sim", "docker", "virtual", "swarm"),
        help="override the backend of every wirelab_topology marker (virtual: the same "
        "topologies in virtual time, deterministic and faster than real time)",
    )


def pytest_configure(config: pytest.Config) -> None:
    # the saturation guard: every CPU-bound measurement shows in the warnings summary,
    # not only the first of each place (users may still make it an error with -W)
    config.addinivalue_line("filterwarnings", "always::orchestrator.client.lab.CpuBoundWarning")
    config.addinivalue_line(
        "markers",
        "wirelab_topology(topology, backend='sim', name=None, seed=None): the topology (a "
        "path or a bundled example's name) the wirelab_lab fixture deploys for this module",
    )


@pytest.fixture(scope="session")
def wirelab_client(request: pytest.FixtureRequest) -> Iterator[LabClient]:
    address = request.config.getoption("--wirelab-server") or os.environ.get("WIRELAB_SERVER")
    token = os.environ.get("WIRELAB_TOKEN") or None
    if address:
        client = LabClient(address, token=token)
        if not client.wait_ready(5.0):
            client.close()
            pytest.fail(f"no wirelab server answers at {address}")
        with client:
            yield client
        return
    from orchestrator.service.server import start_server

    server = start_server("127.0.0.1:0", token=token)
    try:
        with LabClient(server.address, token=token) as client:
            yield client
    finally:
        server.stop(grace=0.5)


class LabFactory:
    """``factory(topology, backend=..., name=..., seed=..., skip_timeline=...)`` -> Lab;
    ``made``: the labs it deployed, in order."""

    def __init__(self, request: pytest.FixtureRequest, client: LabClient) -> None:
        self._request = request
        self._client = client
        self._override = request.config.getoption("--wirelab-backend")
        self.made: list[Lab] = []

    def __call__(
        self,
        topology: str | Path,
        *,
        backend: str = "sim",
        name: str = "",
        seed: int | None = None,
        skip_timeline: bool = False,
    ) -> Lab:
        ref = Path(topology)
        beside = Path(str(self._request.path)).parent / ref
        if not ref.is_absolute() and beside.exists():
            ref = beside
        lab = self._client.deploy(
            ref if ref.exists() else str(topology),
            backend=self._override or backend,
            name=name,
            seed=seed,
            skip_timeline=skip_timeline,
        )
        if all(m.name != lab.name for m in self.made):
            self.made.append(lab)
        return lab


Factory = Callable[..., Lab]


@pytest.fixture(scope="module")
def wirelab_lab_factory(
    request: pytest.FixtureRequest, wirelab_client: LabClient
) -> Iterator[LabFactory]:
    factory = LabFactory(request, wirelab_client)
    yield factory
    for lab in reversed(factory.made):
        try:
            wirelab_client.destroy(lab.name)
        except Exception as exc:  # teardown: report, do not mask the test's outcome
            print(f"wirelab: destroying {lab.name}: {exc}")


_CALL_REPORT = pytest.StashKey[pytest.TestReport]()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    if report.when == "call":
        item.stash[_CALL_REPORT] = report
    return report


def journal_dir(config: pytest.Config) -> Path:
    """--wirelab-journals, else the folder of --junitxml, else ./wirelab-journals."""
    chosen = config.getoption("--wirelab-journals")
    if chosen:
        return Path(chosen)
    junit = config.getoption("xmlpath", None)
    if junit:
        return Path(junit).resolve().parent
    return Path(str(config.rootpath)) / "wirelab-journals"


@pytest.fixture(autouse=True)
def _wirelab_journal_on_failure(request: pytest.FixtureRequest) -> Iterator[None]:
    """After a failed test that used a wirelab lab: write each lab's journal (replay it
    with ``wirelab replay FILE --backend virtual``) and name the files in the report."""
    yield
    if "wirelab_lab_factory" not in request.fixturenames:
        return
    report = request.node.stash.get(_CALL_REPORT, None)
    if report is None or not report.failed:
        return
    factory = request.getfixturevalue("wirelab_lab_factory")
    folder = journal_dir(request.config)
    test = re.sub(r"[^\w.-]+", "_", request.node.nodeid).strip("_")[:150]
    written = []
    for lab in factory.made:
        target = folder / f"{test}.{lab.name}.jsonl"
        try:
            folder.mkdir(parents=True, exist_ok=True)
            lab.write_journal(target)
        except Exception as exc:  # the lab may be gone: say so, keep the test's own failure
            written.append(f"{lab.name}: no journal ({exc})")
            continue
        written.append(f"{lab.name}: {target} (replay: wirelab replay {target})")
    if written:
        request.node.add_report_section("teardown", "wirelab journals", "\n".join(written))


@pytest.fixture(scope="module")
def wirelab_lab(request: pytest.FixtureRequest, wirelab_lab_factory: Factory) -> Lab:
    marker = request.node.get_closest_marker("wirelab_topology")
    if marker is None or not marker.args:
        pytest.fail(
            "wirelab_lab needs pytestmark = pytest.mark.wirelab_topology('lab.yaml') in the module"
        )
    return wirelab_lab_factory(marker.args[0], **marker.kwargs)


@pytest.fixture(autouse=True)
def _wirelab_clear_faults(request: pytest.FixtureRequest) -> Iterator[None]:
    """After a test that used wirelab_lab: clear the faults it left (the next test starts
    from a clean lab)."""
    if "wirelab_lab" not in request.fixturenames:
        yield
        return
    lab = request.getfixturevalue("wirelab_lab")
    yield
    if isinstance(lab, Lab) and lab.faults(active_only=True):
        lab.clear_faults()
