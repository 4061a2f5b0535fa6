"""TCP small queues in virtual time (nodes/stack/tcp/output.py, Linux TSQ): a bulk
sender whose own link is the bottleneck (h1's egress: 10 Mbit/s, 20 ms, the default
1000-packet queue) keeps at most ~2 segments in that queue, so the RTT other traffic
and the flow itself see is the link's (40 ms), not a second of queue, at the same
goodput. With small queues off the same flow fills the queue (the control: what the
test measures is TSQ). A router's queue is the topology's and is not ours to bound:
a ping through a router whose bottleneck queue holds 50 packets waits at most that."""

from __future__ import annotations

import contextlib
import statistics
from dataclasses import dataclass

from nodes.apps.ping import Ping
from nodes.faults import FaultEngine, LinkProps
from nodes.io.simulate import Line, build_line
from nodes.stack.config import StackConfig
from nodes.stack.tcp.api import TcpSocket
from nodes.stack.tcp.config import TcpConfig

MBIT = 1e6
RATE = 10 * MBIT
WIRE = 1448 / 1514  # TCP payload per frame (MSS 1448 with timestamps; the rate counts L2)
FRAME_MS = 1514 * 8 / RATE * 1000  # one full frame at 10 Mbit/s: 1.2 ms


@dataclass
class Flow:
    goodput: float  # bit/s
    rtts: list[float]  # ms, pings h1 -> h2 sent during the flow
    max_srtt: float  # ms, the sender's smoothed RTT at its highest (from 1 s on)
    max_queued: int  # bytes, the most h1's egress queue held when sampled
    throttled: int  # the sender's tcp_tsq_throttled


def flow(line: Line, size: int, queue_node: str) -> Flow:
    """``size`` bytes h1 -> h2 while h1 pings h2 every 100 ms; samples the sender's srtt
    and ``queue_node``'s egress queue toward h2 every 10 ms."""
    sim = line.sim
    h1, h2 = line.node("h1"), line.node("h2")
    server = h2.tcp.socket()
    server.bind(0, 5001)
    server.listen(8)
    client = h1.tcp.socket()
    client.connect(line.address("h2"), 5001, now=sim.now)
    data = memoryview(bytes(size))
    ping = Ping(h1, line.address("h2"))
    gauge = sim.impairments[queue_node]
    assert isinstance(gauge, FaultEngine)
    ifname = "eth0" if queue_node == "h1" else "eth1"
    peers: list[TcpSocket] = []
    state = {"sent": 0, "got": 0, "start": -1.0, "ping": 1.0, "sample": 0.0}
    srtts: list[float] = []
    queued: list[int] = []

    def pump() -> bool:
        now = sim.now
        if now >= state["ping"]:  # from 1 s on: the flow is going
            ping.send(now=now)
            state["ping"] = now + 0.1
        if now >= state["sample"]:
            state["sample"] = now + 0.01
            queued.append(gauge.queued(ifname, now) or 0)
            info = client.info()
            if info is not None and info.srtt is not None and now >= 1.0:  # ARP, handshake done
                srtts.append(info.srtt * 1000)
        if not peers:
            with contextlib.suppress(BlockingIOError):
                peers.append(server.accept())
        if client.state == "ESTABLISHED":
            if state["start"] < 0:
                state["start"] = now
            with contextlib.suppress(BlockingIOError):
                while state["sent"] < size:
                    chunk = data[int(state["sent"]) : int(state["sent"]) + 65536]
                    state["sent"] += client.send(chunk, now=now)
        for peer in peers:
            with contextlib.suppress(BlockingIOError):
                while got := peer.recv(1 << 20, now=now):
                    state["got"] += len(got)
        return state["got"] >= size

    assert sim.run(pump, timeout=600), f"stalled at {state['got']}/{size}"
    ping.close()
    return Flow(
        goodput=size * 8 / (sim.now - state["start"]),
        rtts=[r.rtt * 1000 for r in ping.replies.values()],
        max_srtt=max(srtts),
        max_queued=max(queued),
        throttled=h1.tcp.stats["tsq_throttled"],
    )


def own_link(*, small_queues: bool) -> Line:
    """h1 -- h2, both ends 10 Mbit/s + 20 ms with the default 1000-packet queue."""
    config = StackConfig(tcp=TcpConfig(small_queues=small_queues))
    line = build_line(0, seed=3, host_config=config)
    props = LinkProps(rate=RATE, delay=0.020)
    line.sim.set_link_props("h1", "eth0", props, seed=11)
    line.sim.set_link_props("h2", "eth0", props, seed=12)
    return line


def test_a_bulk_sender_keeps_its_own_link_queue_small_and_the_rtt_the_links() -> None:
    tsq = flow(own_link(small_queues=True), 6_000_000, "h1")
    assert len(tsq.rtts) > 30
    # 40 ms of links, the ping behind at most the ~3 frames TSQ lets queue (2 segments'
    # limit, the one that crossed it) and the one on the wire
    assert max(tsq.rtts) < 40.0 + 5 * FRAME_MS
    assert tsq.max_srtt < 40.0 + 5 * FRAME_MS
    assert tsq.max_queued <= 4 * 1514
    assert tsq.throttled > 0
    assert tsq.goodput > 0.95 * RATE * WIRE  # the link stays full: nothing lost by it


def test_without_small_queues_the_same_flow_fills_its_own_link_queue() -> None:
    """The control: the same flow, TSQ off, is Linux without it (bufferbloat at home)."""
    bloat = flow(own_link(small_queues=False), 6_000_000, "h1")
    assert statistics.median(bloat.rtts) > 40.0 + 50.0
    assert bloat.max_srtt > 40.0 + 50.0
    assert bloat.max_queued > 50 * 1514
    assert bloat.throttled == 0


def test_a_ping_through_a_loaded_router_waits_at_most_the_topologys_queue() -> None:
    """h1 -- r1 -- h2, r1's link toward h2 10 Mbit/s + 20 ms with a 50-packet queue:
    the flow fills that queue (it is the router's: TSQ at h1 cannot see it), and a ping
    crossing it waits the links' 40 ms plus at most one queue's worth, never more."""
    line = build_line(1, seed=3)
    line.sim.set_link_props("r1", "eth1", LinkProps(rate=RATE, delay=0.020, queue_packets=50))
    line.sim.set_link_props("h2", "eth0", LinkProps(delay=0.020))
    result = flow(line, 4_000_000, "r1")
    assert max(result.rtts) < 40.0 + 51 * FRAME_MS
    assert statistics.median(result.rtts) > 40.0 + 10 * FRAME_MS  # the queue is used
    assert result.max_queued <= 50 * 1514


def test_a_real_time_loops_slack_buys_a_few_more_frames_of_queue_not_more() -> None:
    """A loop whose timers may fire 5 ms late (the real-time Runner) lets TCP queue what
    the link sends in 5 ms (10 Mbit/s: ~4 frames), so a late wake-up does not idle the
    link; the queue and the RTT stay bounded by that."""
    line = own_link(small_queues=True)
    engine = line.sim.impairments["h1"]
    assert isinstance(engine, FaultEngine)
    line.node("h1").set_egress_gauge(engine, slack=0.005)
    result = flow(line, 6_000_000, "h1")
    assert 4 * 1514 < result.max_queued <= 6 * 1514
    assert max(result.rtts) < 40.0 + 7 * FRAME_MS
    assert result.goodput > 0.95 * RATE * WIRE
