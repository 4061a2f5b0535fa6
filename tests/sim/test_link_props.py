"""Link properties on nodes in virtual time (h1 -- h2, nodes/io/simulate.py): each end's
FaultEngine shapes what it sends with the link's rate, delay and queue, beneath its faults.
A 10 Mbit/s, 20 ms link gives TCP a goodput close to 10 Mbit/s and ping a 40 ms round
trip; asymmetric rates show in each direction; faults stack on top and leave the link
when cleared; a short queue drops (counted); CoDel keeps the standing queue short."""

from __future__ import annotations

import contextlib
import statistics
from dataclasses import dataclass
from functools import partial

import pytest

from nodes.apps.ping import Ping
from nodes.faults import Codel, Direction, Effects, FaultEngine, FaultSpec, LinkProps
from nodes.io.simulate import Line, build_line
from nodes.stack.tcp.api import TcpSocket

MBIT = 1e6
WIRE = 1448 / 1514  # TCP payload per frame (MSS 1448 with timestamps; the rate counts L2)


@dataclass
class Flow:
    goodput: float  # bit/s, from the connection's establishment to the last byte read
    retrans: int
    rtts: list[float]  # ms, of pings sent during the flow


def link(a: LinkProps, b: LinkProps | None = None) -> Line:
    """h1 -- h2: h1 sends with ``a``, h2 with ``b`` (default: ``a``), as the agent
    installs a topology link's properties on each end's egress."""
    line = build_line(0, seed=3)
    line.sim.set_link_props("h1", "eth0", a, seed=11)
    line.sim.set_link_props("h2", "eth0", a if b is None else b, seed=12)
    return line


def routed(props: LinkProps) -> Line:
    """h1 -- r1 -- h2 whose bottleneck is r1's link toward h2 (``props``; h2 answers with
    the same delay): the queue a bulk flow fills is a router's. A sender's own link queue
    stays short under TCP small queues, as in Linux (tests/sim/test_small_queues.py)."""
    line = build_line(1, seed=3)
    line.sim.set_link_props("r1", "eth1", props, seed=11)
    line.sim.set_link_props("h2", "eth0", LinkProps(delay=props.delay), seed=12)
    return line


def engine(line: Line, node: str) -> FaultEngine:
    imp = line.sim.impairments[node]
    assert isinstance(imp, FaultEngine)
    return imp


def ping_rtt(line: Line, src: str = "h1", dst: str = "h2") -> float:
    """One ping's round trip, ms (ARP resolved first)."""
    ping = Ping(line.node(src), line.address(dst))
    for seq in (1, 2):
        ping.send(now=line.sim.now, seq=seq)
        assert line.sim.run(partial(ping.answered, seq), timeout=10)
    ping.close()
    return ping.replies[2].rtt * 1000


def transfer(line: Line, size: int, *, src: str = "h1", dst: str = "h2",
             ping_every: float | None = None) -> Flow:  # fmt: skip
    """``size`` bytes from ``src`` to ``dst`` over TCP (CUBIC, Linux defaults)."""
    sim = line.sim
    server = line.node(dst).tcp.socket()
    server.bind(0, 5001)
    server.listen(8)
    client = line.node(src).tcp.socket()
    client.connect(line.address(dst), 5001, now=sim.now)
    data = memoryview(bytes(size))
    peers: list[TcpSocket] = []
    state = {"sent": 0, "got": 0}
    start: list[float] = []
    ping = Ping(line.node(src), line.address(dst)) if ping_every else None
    next_ping = [sim.now + 1.0]  # once the flow is going

    def pump() -> bool:
        now = sim.now
        if ping is not None and ping_every is not None and now >= next_ping[0]:
            ping.send(now=now)
            next_ping[0] = now + ping_every
        if not peers:
            with contextlib.suppress(BlockingIOError):
                peers.append(server.accept())
        if client.state == "ESTABLISHED":
            if not start:
                start.append(now)
            with contextlib.suppress(BlockingIOError):
                while state["sent"] < size:
                    state["sent"] += client.send(data[state["sent"] : state["sent"] + 65536],
                                                 now=now)  # fmt: skip
        for peer in peers:
            with contextlib.suppress(BlockingIOError):
                while chunk := peer.recv(1 << 20, now=now):
                    state["got"] += len(chunk)
        return state["got"] >= size

    assert sim.run(pump, timeout=600), f"stalled at {state['got']}/{size}"
    info = client.info()
    assert info is not None
    rtts = [] if ping is None else [r.rtt * 1000 for r in ping.replies.values()]
    client.close(now=sim.now)
    return Flow(size * 8 / (sim.now - start[0]), info.retrans, rtts)


def test_a_10mbit_20ms_link_gives_10mbit_goodput_and_a_40ms_round_trip() -> None:
    line = link(LinkProps(rate=10 * MBIT, delay=0.020))
    assert ping_rtt(line) == pytest.approx(40.0, abs=0.01)  # 20 ms each way, no queue
    flow = transfer(line, 4_000_000)
    assert 0.9 * 10 * MBIT * WIRE < flow.goodput <= 10 * MBIT * WIRE  # 9.38 Mbit/s
    assert flow.retrans == 0  # the 1000-packet queue takes the whole window
    counters = engine(line, "h1").links()[0].counters
    assert counters.queued > 1000 and counters.dropped == 0
    assert engine(line, "h1").list() == []  # a link property is no fault


def test_without_link_properties_the_same_transfer_is_far_faster() -> None:
    """The control: what the test above measures is the link, not the stack (the same
    20 ms each way, as a plain wire delay)."""
    line = build_line(0, delay=0.020, seed=3)
    assert ping_rtt(line) == pytest.approx(40.0, abs=0.01)
    flow = transfer(line, 4_000_000)
    assert flow.goodput > 5 * 10 * MBIT


def test_asymmetric_rates_show_in_each_direction() -> None:
    line = link(LinkProps(rate=10 * MBIT, delay=0.010), LinkProps(rate=2 * MBIT, delay=0.010))
    down = transfer(line, 2_000_000, src="h1", dst="h2").goodput
    up = transfer(line, 1_000_000, src="h2", dst="h1").goodput
    assert 0.9 * 10 * MBIT * WIRE < down <= 10 * MBIT * WIRE  # 9.2 Mbit/s
    assert 0.9 * 2 * MBIT * WIRE < up <= 2 * MBIT * WIRE  # 1.87 Mbit/s


def test_asymmetric_delays_add_up_to_the_round_trip() -> None:
    line = link(LinkProps(delay=0.005), LinkProps(delay=0.045))
    assert ping_rtt(line) == pytest.approx(50.0, abs=0.01)


def test_a_linux_peers_direction_applied_at_our_ingress_shapes_the_same() -> None:
    """A linux end cannot shape what it sends: its direction is applied where it arrives,
    at our end's ingress. h1 stands for the linux end here: it sends unshaped."""
    line = build_line(0, seed=3)
    line.sim.set_link_props("h2", "eth0", LinkProps(rate=2 * MBIT, delay=0.01), seed=1)
    line.sim.set_link_props("h2", "eth0", LinkProps(rate=2 * MBIT, delay=0.01), Direction.INGRESS)
    assert ping_rtt(line) == pytest.approx(20.0, abs=0.01)
    flow = transfer(line, 1_000_000, src="h1", dst="h2")
    assert 0.9 * 2 * MBIT * WIRE < flow.goodput <= 2 * MBIT * WIRE
    ingress = [i for i in engine(line, "h2").links() if i.direction is Direction.INGRESS]
    assert ingress[0].counters.queued > 100


def test_a_fault_stacks_on_the_link_and_clearing_it_leaves_the_link() -> None:
    line = link(LinkProps(rate=10 * MBIT, delay=0.020))
    h1 = engine(line, "h1")
    assert ping_rtt(line) == pytest.approx(40.0, abs=0.01)
    h1.add(FaultSpec("eth0", Effects(delay=0.030), Direction.EGRESS, seed=1), now=line.sim.now)
    assert ping_rtt(line) == pytest.approx(70.0, abs=0.01)
    h1.add(FaultSpec("*", Effects(loss=1.0), Direction.EGRESS, seed=2), now=line.sim.now)
    ping = Ping(line.left, line.address("h2"))
    seq = ping.send(now=line.sim.now)
    assert not line.sim.run(lambda: ping.answered(seq), timeout=2)
    cleared = h1.clear()
    assert len(cleared) == 2 and h1.list() == []
    assert ping_rtt(line) == pytest.approx(40.0, abs=0.01)  # the link's own delay, as before
    (layer,) = h1.links()
    assert layer.props == LinkProps(rate=10 * MBIT, delay=0.020) and layer.counters.seen >= 6


def test_a_short_queue_drops_and_counts_what_it_drops() -> None:
    line = routed(LinkProps(rate=10 * MBIT, delay=0.020, queue_packets=20))
    flow = transfer(line, 2_000_000)
    counters = engine(line, "r1").links()[0].counters
    assert counters.shaped > 0 and counters.dropped == counters.shaped
    assert flow.retrans >= counters.shaped  # every drop was a data segment TCP resent
    assert flow.goodput > 0.5 * 10 * MBIT * WIRE  # still a working link


def test_codel_keeps_the_standing_queue_near_its_target_under_a_bulk_flow() -> None:
    """The same 10 Mbit/s, 20 ms link (at a router) with its default 1000-packet queue:
    drop-tail lets CUBIC build a standing queue (bufferbloat) that pings sent during the
    flow wait in; CoDel (target 5 ms) keeps it short at almost the same goodput."""
    base = {"rate": 10 * MBIT, "delay": 0.020}
    bloated = transfer(routed(LinkProps(**base)), 6_000_000, ping_every=0.1)  # type: ignore[arg-type]
    line = routed(LinkProps(**base, codel=Codel()))  # type: ignore[arg-type]
    codel = transfer(line, 6_000_000, ping_every=0.1)
    tail_queue = statistics.median(bloated.rtts) - 40.0
    codel_queue = statistics.median(codel.rtts) - 40.0
    assert len(codel.rtts) > 20 and len(bloated.rtts) > 20
    assert tail_queue > 50.0  # ~140 ms: the queue grows with CUBIC's window
    assert codel_queue < 15.0  # ~3 ms
    assert codel.goodput > 0.85 * 10 * MBIT * WIRE
    assert engine(line, "r1").links()[0].counters.dropped_aqm > 0
