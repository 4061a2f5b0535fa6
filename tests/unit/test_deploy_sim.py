"""The sim backend end to end: quickstart deployed in this process, pinged over the agents'
gRPC, destroyed; linux-kind nodes refused."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from wirelab.v1 import node_pb2

import topology
from orchestrator.backend.sim import SimBackend
from orchestrator.deploy import DeployError, deploy, destroy, inspect, list_labs

RPC = 10.0


@pytest.fixture
def backend() -> Iterator[SimBackend]:
    sim = SimBackend()
    yield sim
    sim.close()


def test_quickstart_deploys_pings_and_goes_away(backend: SimBackend) -> None:
    before = {t.name for t in threading.enumerate()}
    lab = topology.load_file(topology.example_path("quickstart"))
    with deploy(lab, backend) as handle:
        reply = handle.agent("h1").Ping(
            node_pb2.PingRequest(destination=handle.address("h2"), count=2, interval_ms=20),
            timeout=RPC,
        )
        assert reply.received == 2, reply
        status = handle.agent("h2").GetStatus(node_pb2.GetStatusRequest(), timeout=RPC)
        assert status.ready and set(status.apps) >= {"http-server:80", "sink:5001"}
        assert deploy(lab, backend).agent_addresses == handle.agent_addresses  # no-op
        info = inspect("quickstart", backend)
        assert info.running and {n.name for n in info.nodes} == {"h1", "r1", "h2"}
        assert [s.name for s in list_labs(backend)] == ["quickstart"]
    removed = destroy("quickstart", backend)
    assert sorted(removed.nodes) == ["h1", "h2", "r1"]
    assert backend.lab_names() == []
    left = {t.name for t in threading.enumerate()} - before
    assert not [name for name in left if name.startswith("sim-")], left


def test_linux_nodes_are_refused_with_a_clear_error(backend: SimBackend) -> None:
    lab = topology.load_file(topology.example_path("mixed-linux"))
    with pytest.raises(DeployError, match=r"lx1, lx2 are linux nodes .*use the docker backend"):
        deploy(lab, backend)
    assert backend.lab_names() == []


def test_exec_is_refused(backend: SimBackend) -> None:
    lab = topology.load_file(topology.example_path("quickstart"))
    with deploy(lab, backend) as handle, pytest.raises(RuntimeError, match="no shell"):
        handle.exec("h1", ["true"])
    destroy("quickstart", backend)
