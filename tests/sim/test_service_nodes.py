"""Node actions, fault re-application after a restart, the topology's timeline and token
auth, on in-process labs (the runtime with node actions: orchestrator.labs)."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

import topology
from orchestrator.client import LabClient, UnauthenticatedError
from orchestrator.service import LabServer, inprocess_deploy, start_server

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
  - at: 0.2s
    endpoint: r1:eth1
    loss: 100%
    duration: 0.5s
"""


@pytest.fixture(scope="module")
def server() -> Iterator[LabServer]:
    srv = start_server("127.0.0.1:0", deploy_fn=inprocess_deploy, token="s3cret")
    try:
        yield srv
    finally:
        srv.stop(grace=0.2)


@pytest.fixture(scope="module")
def client(server: LabServer) -> Iterator[LabClient]:
    with LabClient(server.address, token="s3cret") as c:
        c.deploy(path=topology.example_path("quickstart"))
        yield c


def test_calls_without_the_token_are_unauthenticated(server: LabServer) -> None:
    for token in (None, "wrong"):
        with LabClient(server.address, token=token) as c:
            assert c.healthy()  # health checks need no token
            with pytest.raises(UnauthenticatedError, match="authorization"):
                c.list_labs()
            with pytest.raises(UnauthenticatedError):
                list(c.watch_events("quickstart"))


def test_restart_reapplies_unexpired_faults_with_their_counters(client: LabClient) -> None:
    fault = client.add_fault("quickstart", endpoint="r1:eth1", loss=0.5, seed=3, duration=30)
    client.ping("quickstart", "h1", "h2", count=20, interval=0.005, wait=0.2)
    before = client.fault("quickstart", fault.fault_id).counters
    assert before.dropped > 0
    reply = client.node_action("quickstart", "r1", "restart")
    assert reply.state == "running" and reply.faults_reapplied == 1
    after = client.fault("quickstart", fault.fault_id)
    assert after.state == "active" and after.counters.dropped == before.dropped
    assert after.parts[0].remaining_ms < 30_000
    client.ping("quickstart", "h1", "h2", count=20, interval=0.005, wait=0.2)
    assert client.fault("quickstart", fault.fault_id).counters.dropped > before.dropped
    client.clear_fault("quickstart", fault.fault_id)
    assert client.ping("quickstart", "h1", "h2", count=2, interval=0.01).received == 2


def test_stop_and_start_a_node(client: LabClient) -> None:
    assert client.node_action("quickstart", "h2", "stop").state == "exited"
    lab = client.get_lab("quickstart")
    assert lab.state == "degraded"
    assert client.ping("quickstart", "h1", "h2", count=1, wait=0.2).received == 0
    assert client.node_action("quickstart", "h2", "start").state == "running"
    assert client.ping("quickstart", "h1", "h2", count=1, wait=1.0).received == 1


def test_pause_with_a_duration_unpauses_by_itself(client: LabClient) -> None:
    assert client.node_action("quickstart", "r1", "pause", duration=0.4).state == "paused"
    assert client.ping("quickstart", "h1", "h2", count=1, wait=0.1).received == 0
    time.sleep(0.6)
    assert client.get_lab("quickstart").nodes[1].state == "running"
    assert client.ping("quickstart", "h1", "h2", count=1, wait=1.0).received == 1


def test_the_topology_timeline_runs_after_deploy(client: LabClient) -> None:
    lab = client.deploy(yaml=TIMELINE)
    try:
        assert client.list_faults(lab.name) == []
        time.sleep(0.35)
        faults = client.list_faults(lab.name)
        assert [(f.origin, f.state) for f in faults] == [("timeline", "active")]
        assert client.ping(lab.name, "h1", "h2", count=1, wait=0.1).received == 0
        time.sleep(0.5)
        assert client.ping(lab.name, "h1", "h2", count=1, wait=1.0).received == 1
        assert client.list_faults(lab.name)[0].state == "expired"
    finally:
        client.destroy(lab.name)
