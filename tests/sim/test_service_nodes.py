"""Node actions, fault re-application after a restart, the topology's timeline and token
auth, on sim labs (node actions through the lab session: orchestrator/lab/session.py)."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from orchestrator.client import Lab, LabClient, Unauthenticated
from orchestrator.domain.faults import FaultState
from orchestrator.service.server import LabServer, start_server

TIMELINE = """
name: timeline
nodes:
  h1: {kind: host}
  r1: {kind: router}
  h2: {kind: host}
links:
  - endpoints: [h1:eth0, r1:eth0]
  - endpoints: [r1:eth1, h2:eth0]
routes: auto
faults:
  - at: 1.5s
    endpoint: r1:eth1
    loss: 100%
    duration: 1.5s
"""


@pytest.fixture(scope="module")
def server() -> Iterator[LabServer]:
    srv = start_server("127.0.0.1:0", token="s3cret")
    try:
        yield srv
    finally:
        srv.stop(grace=0.2)


@pytest.fixture(scope="module")
def client(server: LabServer) -> Iterator[LabClient]:
    with LabClient(server.address, token="s3cret") as c:
        yield c


@pytest.fixture(scope="module")
def lab(client: LabClient) -> Lab:
    return client.deploy("quickstart", backend="sim")


def test_calls_without_the_token_are_unauthenticated(server: LabServer) -> None:
    for token in (None, "wrong"):
        with LabClient(server.address, token=token) as c:
            assert c.healthy()  # health checks need no token
            with pytest.raises(Unauthenticated, match="authorization"):
                c.labs()
            with pytest.raises(Unauthenticated):
                list(c.wire.events("quickstart"))


def test_restart_reapplies_unexpired_faults_with_their_counters(lab: Lab) -> None:
    fault = lab.add_fault(endpoint="r1:eth1", loss=0.5, seed=3, duration=30)
    lab.ping("h1", "h2", count=20, interval="5ms", wait="200ms")
    before = lab.fault(fault.fault_id).counters
    assert before.dropped > 0
    reply = lab.node_action("r1", "restart")
    assert reply.state == "running" and reply.faults_reapplied == 1
    after = lab.fault(fault.fault_id)
    assert after.state is FaultState.ACTIVE and after.counters.dropped == before.dropped
    assert (after.parts[0].remaining_ms or 0) < 30_000
    lab.ping("h1", "h2", count=20, interval="5ms", wait="200ms")
    assert lab.fault(fault.fault_id).counters.dropped > before.dropped
    lab.clear_fault(fault.fault_id)
    assert lab.ping("h1", "h2", count=2, interval="10ms").received == 2


def test_stop_and_start_a_node(lab: Lab) -> None:
    assert lab.node_action("h2", "stop").state == "exited"
    assert lab.refresh().state == "degraded"
    assert lab.ping("h1", "h2", count=1, wait="200ms").received == 0
    assert lab.node_action("h2", "start").state == "running"
    assert lab.ping("h1", "h2", count=1, wait="1s").received == 1


def test_pause_with_a_duration_unpauses_by_itself(lab: Lab) -> None:
    assert lab.node_action("r1", "pause", duration="1500ms").state == "paused"
    assert lab.ping("h1", "h2", count=1, wait="100ms").received == 0
    _until(lambda: lab.refresh().node("r1").state == "running")
    assert lab.ping("h1", "h2", count=1, wait="1s").received == 1


def _until(check, timeout: float = 10.0):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not (result := check()):
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.05)
    return result


def test_the_topology_timeline_runs_after_deploy(client: LabClient) -> None:
    # The fault starts 1.5 s after deploy and lasts 1.5 s: polled, not slept, so a loaded
    # machine changes how long the test takes, not what it sees.
    lab = client.deploy(yaml=TIMELINE, backend="sim")
    try:
        assert lab.faults() == []
        faults = _until(lambda: [f for f in lab.faults() if f.state is FaultState.ACTIVE])
        assert [(f.origin, f.state) for f in faults] == [("timeline", FaultState.ACTIVE)]
        assert lab.ping("h1", "h2", count=1, wait="100ms").received == 0
        _until(lambda: lab.faults()[0].state is FaultState.EXPIRED)
        assert lab.ping("h1", "h2", count=1, wait="1s").received == 1
    finally:
        lab.destroy()
