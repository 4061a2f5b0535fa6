"""The sim backend end to end: quickstart deployed in this process, pinged over the agents'
gRPC, destroyed; linux-kind nodes refused."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

import topology
from orchestrator.domain.errors import FailedPrecondition
from orchestrator.domain.requests import ping
from orchestrator.lab import measure
from orchestrator.lab.backends.sim import SimBackend
from orchestrator.lab.deploy import deploy
from orchestrator.lab.inspect import inspect, list_labs
from orchestrator.lab.progress import DeployError
from orchestrator.lab.remove import destroy
from orchestrator.lab.session import LabSession

RPC = 10.0


@pytest.fixture
def backend() -> Iterator[SimBackend]:
    sim = SimBackend()
    yield sim
    sim.close()


def test_quickstart_deploys_pings_and_goes_away(backend: SimBackend) -> None:
    before = {t.name for t in threading.enumerate()}
    lab = topology.load_file(topology.example_path("quickstart"))
    deployed = deploy(lab, backend)
    session = LabSession(deployed)
    try:
        reply = measure.ping(session, "h1", ping("h2", count=2, interval="20ms"))
        assert reply.received == 2, reply
        status = session.status("h2")
        assert status.ready and set(status.apps) >= {"http-server:80", "sink:5001"}
        assert deploy(lab, backend).agents == deployed.agents  # no-op
        info = inspect("quickstart", backend)
        assert info.running and {n.name for n in info.nodes} == {"h1", "r1", "h2"}
        assert [s.name for s in list_labs(backend)] == ["quickstart"]
    finally:
        session.close(destroy=False)
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
    session = LabSession(deploy(lab, backend))
    try:
        with pytest.raises(FailedPrecondition, match="no shell"):
            session.exec("h1", ["true"])
    finally:
        session.close(destroy=True)
    assert backend.lab_names() == []
