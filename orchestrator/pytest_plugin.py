"""pytest plugin: deploy a wirelab topology for a test module, give tests a lab handle.

    import pytest

    pytestmark = pytest.mark.wirelab_topology("topology/examples/quickstart.yaml")

    def test_ping(wirelab_lab):
        assert wirelab_lab.ping("h1", "h2", count=3).received == 3

    def test_transfer_under_loss(wirelab_lab):
        fault = wirelab_lab.add_fault(endpoint="r1:eth1", loss=0.05, seed=1)
        result = wirelab_lab.transfer("h1", "h2", size=1_000_000)
        assert result.sha256_match and result.retransmits > 0
        assert wirelab_lab.fault_counters(fault.fault_id).dropped > 0
        wirelab_lab.clear_faults()

Fixtures:
    wirelab_lab           module scope: the lab of the module's ``wirelab_topology`` marker
                          (``path``, ``backend="sim"``, ``name=``, ``seed=``), destroyed after
                          the module; faults are cleared after each test that added some
    wirelab_lab_factory   module scope: ``factory(path, backend=..., name=...)`` -> Lab
    wirelab_client        session scope: a LabClient of the session's server

The server: ``--wirelab-server ADDR`` (or $WIRELAB_SERVER) uses a running ``wirelab serve``;
otherwise one is started in the test process (sim labs then run in-process, no Docker).
``--wirelab-backend docker`` runs every marked module on Docker instead.
Registered with the ``pytest11`` entry point ``wirelab``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from wirelab.v1 import common_pb2, lab_pb2, node_pb2

from orchestrator.client import LabClient


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
        "wirelab_topology(path, backend='sim', name=None, seed=None): the topology the "
        "wirelab_lab fixture deploys for this module",
    )


class Lab:
    """A deployed lab for tests: the LabClient's calls with the lab's name filled in."""

    def __init__(self, client: LabClient, info: lab_pb2.LabInfo) -> None:
        self.client = client
        self.info = info
        self.name = info.name

    # ---- state ---------------------------------------------------------------------------
    def refresh(self) -> lab_pb2.LabInfo:
        self.info = self.client.get_lab(self.name)
        return self.info

    @property
    def nodes(self) -> list[str]:
        return [n.name for n in self.info.nodes]

    def address(self, node: str, iface: str | None = None) -> str:
        for n in self.info.nodes:
            if n.name == node:
                for i in n.interfaces:
                    if iface is None or i.name == iface:
                        return i.address
                raise KeyError(f"{node} has no interface {iface!r}")
        raise KeyError(f"lab {self.name} has no node {node!r}")

    def counters(self, node: str) -> node_pb2.GetCountersResponse:
        return self.client.counters(self.name, node)

    def connections(self, node: str) -> node_pb2.GetConnectionsResponse:
        return self.client.connections(self.name, node)

    def routes(self, node: str) -> list[node_pb2.RouteEntry]:
        return self.client.routes(self.name, node)

    # ---- measurements ----------------------------------------------------------------------
    def ping(self, node: str, destination: str, **kwargs: Any) -> node_pb2.PingResponse:
        return self.client.ping(self.name, node, destination, **kwargs)

    def traceroute(self, node: str, destination: str, **kwargs: Any) -> node_pb2.TracerouteResponse:
        return self.client.traceroute(self.name, node, destination, **kwargs)

    def transfer(self, source: str, destination: str, **kwargs: Any) -> lab_pb2.TransferResponse:
        return self.client.transfer(self.name, source, destination, **kwargs)

    def http_get(self, node: str, url: str, **kwargs: Any) -> node_pb2.HttpGetResponse:
        return self.client.http_get(self.name, node, url, **kwargs)

    def exec(self, node: str, argv: Sequence[str], **kwargs: Any) -> lab_pb2.ExecResponse:
        return self.client.exec(self.name, node, argv, **kwargs)

    # ---- faults ------------------------------------------------------------------------------
    def add_fault(self, **kwargs: Any) -> lab_pb2.LabFault:
        """``endpoint=``/``link=``/``node=`` plus effects (see client.fault_spec)."""
        return self.client.add_fault(self.name, **kwargs)

    def partition(self, *groups: Sequence[str], **kwargs: Any) -> lab_pb2.LabFault:
        return self.client.partition(self.name, groups, **kwargs)

    def node_action(self, node: str, action: str, **kwargs: Any) -> lab_pb2.NodeActionResponse:
        return self.client.node_action(self.name, node, action, **kwargs)

    def faults(self, *, active_only: bool = False) -> list[lab_pb2.LabFault]:
        return self.client.list_faults(self.name, active_only=active_only)

    def fault_counters(self, fault_id: str) -> common_pb2.FaultCounters:
        return self.client.fault(self.name, fault_id).counters

    def clear_faults(self) -> list[lab_pb2.LabFault]:
        return self.client.clear_fault(self.name, all=True)

    # ---- captures ----------------------------------------------------------------------------
    def capture(
        self,
        node: str,
        iface: str = "*",
        *,
        max_packets: int | None = None,
        duration: float | None = None,
    ) -> bytes:
        """A whole pcap file (give max_packets or duration, or it never ends)."""
        if max_packets is None and duration is None:
            raise ValueError("give max_packets or duration")
        chunks = self.client.capture(
            self.name, node, iface, max_packets=max_packets, duration=duration
        )
        return b"".join(c.data for c in chunks)

    def __repr__(self) -> str:
        return f"<wirelab Lab {self.name} ({self.info.backend}): {', '.join(self.nodes)}>"


# ---- fixtures ------------------------------------------------------------------------------


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
    from orchestrator.service import start_server

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
        path: str | Path,
        *,
        backend: str = "sim",
        name: str = "",
        seed: int | None = None,
        skip_timeline: bool = False,
    ) -> Lab:
        file = Path(path)
        if not file.is_absolute() and not file.exists():
            file = Path(str(request.path)).parent / file
        info = wirelab_client.deploy(
            path=file,
            backend=override or backend,
            name=name,
            seed=seed,
            skip_timeline=skip_timeline,
        )
        made.append(info.name)
        return Lab(wirelab_client, info)

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
