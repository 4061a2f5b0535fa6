"""Link properties through the node agents, in real time over the in-process lab: the
topology's rate and delay reach each node in Configure, shape its egress beneath its
faults, show in GetCounters (never in ListFaults) and survive ClearFault."""

from __future__ import annotations

from collections.abc import Iterator

import grpc
import pytest
from wirelab.v1 import common_pb2, node_pb2, node_pb2_grpc

import topology
from tests.agentlab import InProcessLab

T = 10.0
TOPOLOGY = """
name: shaped
nodes:
  h1: {kind: host, apps: [sink:5001]}
  r1: {kind: router}
  h2: {kind: host, apps: [sink:5001]}
links:
  - endpoints: [h1, r1]
    rate: {h1: 2mbit, r1: 8mbit}   # what h1 sends, what r1 sends to h1
    delay: 10ms
  - endpoints: [r1, h2]
    delay: 5ms
    queue: {r1: 64KB}
    rate: {r1: 100mbit}
"""


class Lab:
    def __init__(self, inproc: InProcessLab) -> None:
        self.inproc = inproc
        self.channels = {n: grpc.insecure_channel(node.address) for n, node in inproc.nodes.items()}
        self.stubs = {n: node_pb2_grpc.NodeAgentStub(ch) for n, ch in self.channels.items()}

    def __getitem__(self, name: str) -> node_pb2_grpc.NodeAgentStub:
        return self.stubs[name]

    def address(self, node: str) -> str:
        return str(self.inproc.lab.node(node).interfaces[0].address)

    def ping_ms(self, src: str, dst: str, count: int = 5) -> float:
        request = node_pb2.PingRequest(destination=self.address(dst), count=count,
                                       interval_ms=50)  # fmt: skip
        reply = self[src].Ping(request, timeout=T)
        assert reply.received == count
        return reply.rtt_min_ms

    def goodput(self, src: str, dst: str, size: int) -> float:
        request = node_pb2.BulkSendRequest(destination=self.address(dst), port=5001,
                                           size_bytes=size, timeout_ms=30e3)  # fmt: skip
        reply = self[src].BulkSend(request, timeout=40)
        assert not reply.error and reply.bytes == size
        return reply.goodput_bps


@pytest.fixture(scope="module")
def lab() -> Iterator[Lab]:
    inproc = InProcessLab(topology.load_text(TOPOLOGY))
    handle = Lab(inproc)
    try:
        inproc.configure(seed=5)
        yield handle
    finally:
        for ch in handle.channels.values():
            ch.close()
        inproc.close()


def test_each_node_gets_its_ends_properties_as_link_layers(lab: Lab) -> None:
    h1 = lab["h1"].GetCounters(node_pb2.GetCountersRequest(), timeout=T)
    (layer,) = h1.links
    assert layer.iface == "eth0" and layer.direction == common_pb2.DIRECTION_EGRESS
    assert layer.shaping.rate_bps == 2e6 and layer.shaping.delay_ms == pytest.approx(10.0)
    assert layer.shaping.queue_packets == 1000 and layer.seed > 0
    assert not h1.faults
    r1 = lab["r1"].GetCounters(node_pb2.GetCountersRequest(), timeout=T)
    got = {(x.iface, x.shaping.rate_bps, x.shaping.queue_bytes) for x in r1.links}
    assert got == {("eth0", 8e6, 0), ("eth1", 100e6, 64_000)}
    h2 = lab["h2"].GetCounters(node_pb2.GetCountersRequest(), timeout=T)
    assert [x.shaping.delay_ms for x in h2.links] == [pytest.approx(5.0)]
    assert not h2.links[0].shaping.HasField("rate_bps")


def test_the_round_trip_is_twice_the_one_way_delays(lab: Lab) -> None:
    rtt = lab.ping_ms("h1", "h2")
    assert 30.0 <= rtt < 40.0  # (10 + 5) ms each way, plus the nodes' own time


def test_asymmetric_rates_show_in_each_direction(lab: Lab) -> None:
    up = lab.goodput("h1", "h2", 400_000)
    down = lab.goodput("h2", "h1", 1_500_000)
    assert 1.4e6 < up <= 2e6  # ~1.8 Mbit/s
    assert 5.0e6 < down <= 8e6  # ~7.4 Mbit/s
    h1 = lab["h1"].GetCounters(node_pb2.GetCountersRequest(), timeout=T)
    assert h1.links[0].counters.queued > 100  # the sender waited for the rate


def test_a_fault_stacks_on_top_and_clearing_it_leaves_the_link(lab: Lab) -> None:
    base = lab.ping_ms("h1", "h2")
    spec = common_pb2.FaultSpec(iface="eth0", delay_ms=40, direction=common_pb2.DIRECTION_EGRESS)
    lab["h1"].AddFault(node_pb2.AddFaultRequest(fault=spec, fault_id="slow"), timeout=T)
    listed = lab["h1"].ListFaults(node_pb2.ListFaultsRequest(), timeout=T).faults
    assert [f.fault_id for f in listed] == ["slow"]  # the link property is no fault
    assert lab.ping_ms("h1", "h2") >= base + 39.0
    lab["h1"].ClearFault(node_pb2.ClearFaultRequest(all=True), timeout=T)
    status = lab["h1"].GetStatus(node_pb2.GetStatusRequest(), timeout=T)
    assert status.faults == 0
    assert 30.0 <= lab.ping_ms("h1", "h2") < base + 5.0  # the link's own delay, as before
    (layer,) = lab["h1"].GetCounters(node_pb2.GetCountersRequest(), timeout=T).links
    assert layer.shaping.delay_ms == pytest.approx(10.0) and layer.shaping.rate_bps == 2e6
