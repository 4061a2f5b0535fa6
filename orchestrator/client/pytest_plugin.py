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
    wirelab_client        session scope: a LabClient of the session's server

The server: ``--wirelab-server ADDR`` (or $WIRELAB_SERVER) uses a running ``wirelab serve``;
otherwise one is started in the test process (sim labs then run in-process, no Docker).
``--wirelab-backend docker`` runs every marked module on Docker instead.
Registered with the ``pytest11`` entry point ``wirelab``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
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
        "--wirelab-backend",
        default=None,
        choices=("sim", "docker"),
        help="override the backend of every wirelab_topology marker",
    )


def pytest_configure(config: pytest.Config) -> None:
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


Factory = Callable[..., Lab]


@pytest.fixture(scope="module")
def wirelab_lab_factory(
    request: pytest.FixtureRequest, wirelab_client: LabClient
) -> Iterator[Factory]:
    made: list[str] = []
    override = request.config.getoption("--wirelab-backend")

    def factory(
        topology: str | Path,
        *,
        backend: str = "sim",
        name: str = "",
        seed: int | None = None,
        skip_timeline: bool = False,
    ) -> Lab:
        ref = Path(topology)
        beside = Path(str(request.path)).parent / ref
        if not ref.is_absolute() and beside.exists():
            ref = beside
        lab = wirelab_client.deploy(
            ref if ref.exists() else str(topology),
            backend=override or backend,
            name=name,
            seed=seed,
            skip_timeline=skip_timeline,
        )
        made.append(lab.name)
        return lab

    yield factory
    for name in reversed(made):
        try:
            wirelab_client.destroy(name)
        except Exception as exc:  # teardown: report, do not mask the test's outcome
            print(f"wirelab: destroying {name}: {exc}")


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
