"""End-to-end scenarios on the quickstart lab (h1 - r1 - h2), written once and run on
every backend: tests/sim/test_scenarios_quickstart.py (sim) and
tests/docker/test_docker_scenarios.py (docker) bind these test functions into their
modules, whose ``wirelab_topology`` marker picks the backend. They go through the
user-facing path only: the pytest plugin's ``wirelab_lab`` (LabService over gRPC),
including its live configuration of the router's MTU.

The module is not a test file itself (no ``test_`` prefix): the test files load it by
path (tests/ is no package) and bind every function of :data:`SCENARIOS`.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from orchestrator.client import FailedPrecondition, Lab
from orchestrator.domain.faults import FaultState, LabFault
from orchestrator.domain.lab import InterfaceInfo
from orchestrator.domain.results import PingReport, TcpConnection, TransferReport

QUICKSTART = str(Path(__file__).resolve().parents[1] / "topology" / "examples" / "quickstart.yaml")
FRAG_NEEDED = (3, 4)  # ICMP destination unreachable, fragmentation needed
LOW_MTU = 1000


# ---- helpers --------------------------------------------------------------------------


def size(lab: Lab, sim: int, docker: int) -> int:
    return docker if lab.info.backend == "docker" else sim


def ping_ok(lab: Lab, src: str, dst: str, count: int = 3) -> PingReport:
    reply = lab.ping(src, dst, count=count, interval="50ms", wait="2s")
    assert reply.received == count, f"{src} -> {dst}: {reply}"
    return reply


def ping_fails(lab: Lab, src: str, dst: str) -> None:
    reply = lab.ping(src, dst, count=2, interval="100ms", wait="500ms")
    assert reply.received == 0, f"{src} -> {dst} should fail: {reply}"


def ping_recovers(lab: Lab, src: str, dst: str, within: float = 2.0) -> None:
    """Pings succeed again within ``within`` seconds (the lab reports a fault expired by
    its own clock, which starts before the agents' parts are installed one by one, so a
    part may outlive it by the install time), then three in a row."""
    deadline = time.monotonic() + within
    while lab.ping(src, dst, count=1, wait="200ms").received != 1:
        assert time.monotonic() < deadline, f"{src} -> {dst} still fails after {within} s"
    ping_ok(lab, src, dst)


def wait_fault_state(lab: Lab, fault_id: str, state: FaultState, timeout: float) -> LabFault:
    deadline = time.monotonic() + timeout
    while True:
        fault = lab.fault(fault_id)
        if fault.state == state or time.monotonic() > deadline:
            assert fault.state == state, f"fault {fault_id} is {fault.state}, not {state}"
            return fault
        time.sleep(0.05)


def set_mtu(lab: Lab, node: str, iface: str, mtu: int) -> InterfaceInfo:
    """The lab's live configuration (not a fault): it stays until set again."""
    return lab.set_interface(node, iface, mtu=mtu)


def established(lab: Lab, node: str, port: int) -> TcpConnection | None:
    """The node's established connection to ``port`` (None when there is none)."""
    for info in lab.connections(node).connections:
        if info.remote_port == port and info.state == "ESTABLISHED":
            return info
    return None


# ---- the scenarios ----------------------------------------------------------------------


def test_ping_across_the_router(wirelab_lab: Lab) -> None:
    reply = ping_ok(wirelab_lab, "h1", "h2")
    assert all(r.ttl == 63 for r in reply.results)  # one hop: r1 decremented it
    ping_ok(wirelab_lab, "h2", "h1")


def test_transfer_under_five_percent_loss(wirelab_lab: Lab) -> None:
    fault = wirelab_lab.add_fault(endpoint="r1:eth1", direction="egress", loss=0.05, seed=7)
    n = size(wirelab_lab, 1 << 20, 2 << 20)
    result = wirelab_lab.transfer("h1", "h2", size=n, timeout=120.0)
    assert not result.error
    assert result.bytes_received == n and result.sha256_match
    assert result.retransmits > 0
    dropped = wirelab_lab.fault_counters(fault.fault_id).dropped
    assert dropped > 0
    assert result.retransmits >= dropped // 2  # every lost data segment came again


def test_mtu_drop_midway_frag_needed_then_transfer_completes(wirelab_lab: Lab) -> None:
    lab = wirelab_lab
    # a rate limit stretches the transfer so that the MTU drops while it runs
    lab.add_fault(endpoint="r1:eth1", direction="egress", rate="40mbit")
    n = size(lab, 3 << 20, 3 << 20)
    port = 5003
    outcome: dict[str, TransferReport | BaseException] = {}

    def run() -> None:
        try:
            outcome["result"] = lab.transfer("h1", "h2", size=n, port=port, timeout=120.0)
        except BaseException as exc:
            outcome["result"] = exc

    sender = threading.Thread(target=run, daemon=True)
    sender.start()
    try:
        deadline = time.monotonic() + 30.0
        while True:
            info = established(lab, "h1", port)
            if info is not None and info.bytes_acked > 64 * 1024:
                break
            assert time.monotonic() < deadline and sender.is_alive(), "no transfer to catch"
            time.sleep(0.01)
        assert info.pmtu == 1500
        assert set_mtu(lab, "r1", "eth1", LOW_MTU).mtu == LOW_MTU
        sender.join(150.0)
        result = outcome["result"]
        assert isinstance(result, TransferReport), result
        assert not result.error and result.sha256_match and result.bytes_received == n
        assert result.final is not None
        assert result.final.pmtu == LOW_MTU  # PMTUD took the router's frag-needed
        assert result.final.mss <= LOW_MTU - 40
        # r1 rate-limits its ICMP errors to h1 (one a second, as Linux): the transfer's
        # frag-needed used them up, so give the probes a second or so
        reply = lab.ping("h1", "h2", count=3, interval="600ms", size=1200, dont_fragment=True)
        assert reply.received == 0
        errors = [r for r in reply.results if r.icmp_type is not None]
        assert errors, reply
        for err in errors:
            assert (err.icmp_type, err.icmp_code) == FRAG_NEEDED
            assert err.next_hop_mtu == LOW_MTU
            assert err.source == lab.address("r1", "eth0")
        ping_ok(lab, "h1", "h2")  # small packets never cared
    finally:
        sender.join(150.0)
        set_mtu(lab, "r1", "eth1", 1500)


def test_link_down_then_up(wirelab_lab: Lab) -> None:
    fault = wirelab_lab.add_fault(endpoint="r1:eth1", down=True, duration=2.0)
    ping_fails(wirelab_lab, "h1", "h2")
    assert wirelab_lab.fault_counters(fault.fault_id).dropped > 0
    wait_fault_state(wirelab_lab, fault.fault_id, FaultState.EXPIRED, timeout=10.0)
    ping_recovers(wirelab_lab, "h1", "h2")


def test_router_killed_and_restarted_gets_its_live_faults_back(wirelab_lab: Lab) -> None:
    lab = wirelab_lab
    delay = lab.add_fault(endpoint="r1:eth0", delay="20ms", duration="5m", seed=1)
    brief = lab.add_fault(endpoint="r1:eth1", delay="1ms", duration="300ms", seed=2)
    wait_fault_state(lab, brief.fault_id, FaultState.EXPIRED, timeout=10.0)
    assert lab.node_action("r1", "kill").state == "exited"
    assert lab.refresh().state == "degraded"
    ping_fails(lab, "h1", "h2")
    with pytest.raises(FailedPrecondition, match=r"r1.*exited"):
        lab.node_action("r1", "pause")
    reply = lab.node_action("r1", "restart")
    assert reply.state == "running" and reply.faults_reapplied == 1  # not the expired one
    assert lab.refresh().state == "running"
    pings = ping_ok(lab, "h1", "h2")
    assert (pings.rtt_min_ms or 0) >= 35.0  # 20 ms each way through r1:eth0: the delay is back
    assert lab.fault(delay.fault_id).state is FaultState.ACTIVE


def test_router_paused_then_unpaused(wirelab_lab: Lab) -> None:
    lab = wirelab_lab
    assert lab.node_action("r1", "pause").state == "paused"
    ping_fails(lab, "h1", "h2")
    with pytest.raises(FailedPrecondition, match=r"start r1: it is paused"):
        lab.node_action("r1", "start")
    assert lab.node_action("r1", "unpause").state == "running"
    ping_ok(lab, "h1", "h2")
    with pytest.raises(FailedPrecondition, match=r"unpause r1: it is running"):
        lab.node_action("r1", "unpause")


def test_partition_drops_both_ways_then_heals(wirelab_lab: Lab) -> None:
    lab = wirelab_lab
    fault = lab.partition(["h1"], ["h2"], duration=2.0)
    ping_fails(lab, "h1", "h2")
    ping_fails(lab, "h2", "h1")
    ping_ok(lab, "h1", "r1", count=1)  # r1 is in neither group
    assert lab.fault_counters(fault.fault_id).dropped > 0
    wait_fault_state(lab, fault.fault_id, FaultState.EXPIRED, timeout=10.0)
    ping_recovers(lab, "h1", "h2")
    ping_recovers(lab, "h2", "h1")


SCENARIOS = (
    test_ping_across_the_router,
    test_transfer_under_five_percent_loss,
    test_mtu_drop_midway_frag_needed_then_transfer_completes,
    test_link_down_then_up,
    test_router_killed_and_restarted_gets_its_live_faults_back,
    test_router_paused_then_unpaused,
    test_partition_drops_both_ways_then_heals,
)
