"""The in-process wire and the simulation engine: LANs, delays, impairments, ordering."""

from __future__ import annotations

from nodes.apps.ping import Ping
from nodes.faults.model import Direction
from nodes.io.memory import Wire
from nodes.io.simulate import Simulation, build_line
from nodes.stack.host import Host


def test_learning_segment_floods_unknown_then_unicasts() -> None:
    wire = Wire()
    wire.connect(("a", "e"), ("b", "e"), ("c", "e"), name="lan")
    bcast = b"\xff" * 6 + b"\x02\x00\x00\x00\x00\x0a" + b"\x08\x06"
    assert wire.transmit(("a", "e"), bcast) == (0.0, [("b", "e"), ("c", "e")])
    to_a = b"\x02\x00\x00\x00\x00\x0a" + b"\x02\x00\x00\x00\x00\x0b" + b"\x08\x00"
    assert wire.transmit(("b", "e"), to_a) == (0.0, [("a", "e")])
    seg = wire.segment_of(("a", "e"))
    assert seg is not None
    seg.up = False
    assert wire.transmit(("b", "e"), to_a) == (0.0, []) and seg.dropped_down == 1


def test_lan_of_three_hosts_pings() -> None:
    sim = Simulation()
    hosts = [Host(f"h{i}") for i in range(3)]
    for i, h in enumerate(hosts):
        h.add_interface("eth0", f"02:00:00:00:00:0{i}", f"10.0.0.{i + 1}", 24)
        sim.add(h)
    sim.lan([(h.name, "eth0") for h in hosts], delay=0.001)
    sim.run_until(0.01)  # gratuitous ARPs settle (they resolve nothing: arp_accept=0)
    ping = Ping(hosts[0], 0x0A000003)
    seq = ping.send(now=sim.now)
    assert sim.run(lambda: ping.answered(seq), timeout=1)
    assert abs(ping.replies[seq].rtt - 0.004) < 1e-9  # ARP + echo, 1 ms each way
    assert hosts[1].counters()["eth_in_other_host"] == 0  # the switch learned


class DelayDrop:
    """Delays egress frames on eth0 by 10 ms and drops every 3rd one."""

    def __init__(self) -> None:
        self.n = 0

    def active(self, ifname: str, direction: Direction) -> bool:
        return ifname == "eth0" and direction is Direction.EGRESS

    def process(
        self, ifname: str, direction: Direction, frame: bytes, *, now: float
    ) -> list[tuple[float, bytes]]:
        self.n += 1
        return [] if self.n % 3 == 0 else [(now + 0.010, frame)]

    def next_deadline(self) -> float | None:
        return None

    def on_timer(self, *, now: float) -> None:
        return None


def test_impairment_delays_and_drops() -> None:
    line = build_line(1)
    line.sim.run_until_idle()
    line.sim.set_impairment("h1", DelayDrop())
    ping = Ping(line.left, line.address("h2"))
    ping.start(3, now=line.sim.now, interval=1.0)
    line.sim.run_until(line.sim.now + 5)
    assert len(ping.replies) == 2  # every 3rd frame (ARP + echo) was dropped
    rtts = sorted(round(r.rtt, 9) for r in ping.replies.values())
    assert rtts == [0.010, 0.020]  # egress delay; the first also waited for ARP


def test_runs_are_deterministic_and_go_idle() -> None:
    def trace() -> list[tuple[float, str, bytes]]:
        line = build_line(2, delay=0.002)
        line.sim.capture = []
        ping = Ping(line.left, line.address("h2"), size=3000)
        ping.start(3, now=0.0)
        assert line.sim.run_until_idle(timeout=100)
        return [(c.time, c.node, c.frame) for c in line.sim.capture]

    first = trace()
    assert first == trace() and len(first) > 20


def test_arp_frames_decode_with_scapy() -> None:
    from scapy.layers.l2 import ARP, Ether

    line = build_line(1)
    line.sim.capture = []
    ping = Ping(line.left, line.address("h2"))
    ping.send(now=0.0)
    line.sim.run_until(1.0)
    arps = [Ether(c.frame) for c in line.sim.capture if c.frame[12:14] == b"\x08\x06"]
    req = next(p for p in arps if p[ARP].op == 1 and p[ARP].psrc == "10.0.0.1" != p[ARP].pdst)
    rep = next(p for p in arps if p[ARP].op == 2 and p[ARP].pdst == "10.0.0.1")
    assert req.dst == "ff:ff:ff:ff:ff:ff" and req[ARP].pdst == "10.0.0.2"
    assert rep[ARP].psrc == "10.0.0.2" and rep[ARP].hwsrc == rep.src
