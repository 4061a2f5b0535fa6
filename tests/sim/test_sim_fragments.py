"""Fragmentation across a 576-MTU link, DF, reassembly order/duplicates/overlaps/timeout,
checked against scapy as an independent decoder."""

from __future__ import annotations

from nodes.apps.ping import Ping
from nodes.faults.model import Direction
from nodes.io.simulate import Line, build_line
from nodes.stack.ipv4 import fragment
from nodes.wire.addr import ip_from_str
from nodes.wire.ethernet import EtherType, build_ethernet
from nodes.wire.icmp import IcmpType, TimeExceededCode, UnreachCode, build_echo
from nodes.wire.ipv4 import IPProto

MTUS = [1500, 576, 1500]


class Reverser:
    """Holds IPv4 fragments on one interface; when the last arrives, releases them all in
    reverse order, each one twice (duplicates)."""

    def __init__(self, ifname: str) -> None:
        self.ifname = ifname
        self.held: list[bytes] = []

    def active(self, ifname: str, direction: Direction) -> bool:
        return ifname == self.ifname and direction is Direction.EGRESS

    def process(
        self, ifname: str, direction: Direction, frame: bytes, *, now: float
    ) -> list[tuple[float, bytes]]:
        if frame[12:14] != b"\x08\x00" or not (frame[20] & 0x3F or frame[21]):
            return [(now, frame)]  # not a fragment
        self.held.append(frame)
        if frame[20] & 0x20:  # MF: wait for the rest
            return []
        out = [(now, f) for f in reversed(self.held) for _ in range(2)]
        self.held = []
        return out

    def next_deadline(self) -> float | None:
        return None

    def on_timer(self, *, now: float) -> None:
        return None


def test_big_ping_crosses_a_576_link_fragmented_and_reassembled() -> None:
    line = build_line(2, mtus=MTUS)
    line.sim.capture = []
    ping = Ping(line.left, line.address("h2"), size=4000)
    seq = ping.send(now=0.0)
    assert line.sim.run(lambda: ping.answered(seq), timeout=5)
    assert ping.replies[seq].size == 4000
    r1, h2 = line.routers[0].counters(), line.right.counters()
    assert r1["ip_frag_oks"] >= 3 and r1["ip_frag_creates"] > 3
    assert h2["ip_reasm_oks"] == 1 and line.left.counters()["ip_reasm_oks"] == 1
    _check_with_scapy(line)


def _check_with_scapy(line: Line) -> None:
    from scapy.layers.inet import ICMP, IP, defragment
    from scapy.layers.l2 import Ether

    frames = [c.frame for c in line.sim.capture or [] if c.node == "r1" and c.ifname == "eth1"]
    frags = [Ether(f)[IP] for f in frames if f[12:14] == b"\x08\x00"]
    assert len(frags) >= 8
    for ip in frags:
        assert ip.len <= 576
        if ip.flags.MF:
            assert (ip.len - ip.ihl * 4) % 8 == 0
        rebuilt = IP(bytes(ip))
        del rebuilt.chksum
        assert IP(bytes(rebuilt)).chksum == ip.chksum  # header checksum verifies
    whole = defragment(frags)  # type: ignore[no-untyped-call]
    icmp = whole[0][ICMP]
    assert icmp.type == 8 and len(bytes(icmp.payload)) == 4000


def test_df_set_gives_frag_needed_carrying_576() -> None:
    line = build_line(2, mtus=MTUS)
    ping = Ping(line.left, line.address("h2"), size=1000, df=True)
    seq = ping.send(now=0.0)
    assert line.sim.run(lambda: ping.answered(seq), timeout=5)
    (err,) = ping.errors
    assert (err.type, err.code, err.mtu) == (3, UnreachCode.FRAG_NEEDED, 576)
    assert err.reporter == ip_from_str("10.0.0.2")
    assert line.routers[0].counters()["ip_frag_fails"] == 1


def test_df_too_big_for_own_interface_is_reported_locally() -> None:
    line = build_line(1)
    ping = Ping(line.left, line.address("h2"), size=2000, df=True)
    seq = ping.send(now=0.0)
    assert ping.send_failures == 1
    assert line.sim.run(lambda: ping.answered(seq), timeout=1)
    assert [(e.code, e.mtu) for e in ping.errors] == [(UnreachCode.FRAG_NEEDED, 1500)]


def test_fragments_in_reverse_order_with_duplicates_reassemble() -> None:
    line = build_line(2, mtus=MTUS)
    line.sim.set_impairment("r2", Reverser("eth1"))
    ping = Ping(line.left, line.address("h2"), size=3000)
    seq = ping.send(now=0.0)
    assert line.sim.run(lambda: ping.answered(seq), timeout=5)
    assert ping.replies[seq].size == 3000
    assert line.right.counters()["ip_reasm_oks"] == 1


def _inject(line: Line, frags: list[bytes]) -> None:
    """Frames from r2 to h2 carrying ``frags``."""
    h2 = line.right.interfaces.get("eth0")
    r2 = line.routers[-1].interfaces.get("eth1")
    for raw in frags:
        frame = build_ethernet(h2.mac, r2.mac, EtherType.IPV4, raw)
        line.right.receive_frame("eth0", frame, now=line.sim.now)


def _echo_fragments(line: Line, ident: int = 0x1234, size: int = 2000) -> list[bytes]:
    msg = build_echo(IcmpType.ECHO_REQUEST, ident, 7, bytes(size))
    src, dst = line.address("h1"), line.address("h2")
    return fragment(src=src, dst=dst, proto=IPProto.ICMP, payload=msg, mtu=576, ident=99, ttl=62)


def test_overlapping_fragments_drop_the_datagram_and_are_counted() -> None:
    line = build_line(2)
    line.sim.run_until(1.0)
    frags = _echo_fragments(line)
    # a forged second fragment that overlaps the first by 8 bytes (RFC 5722)
    from nodes.wire.ipv4 import build_ipv4, parse_ipv4

    f1 = parse_ipv4(frags[1])
    evil = build_ipv4(
        src=f1.src,
        dst=f1.dst,
        proto=f1.proto,
        payload=f1.payload,
        ttl=62,
        ident=99,
        mf=True,
        frag_offset=f1.frag_offset - 8,
    )
    _inject(line, [frags[0], evil, *frags[1:]])
    line.sim.run_until(40.0)
    c = line.right.counters()
    assert c["ip_reasm_overlaps"] == 1
    assert c["ip_reasm_oks"] == 0
    assert c["icmp_out_echo_reps"] == 0


def test_missing_fragment_times_out_with_time_exceeded_code_1() -> None:
    line = build_line(2)
    line.sim.run_until(1.0)
    ping = Ping(line.left, line.address("h2"))  # listens for errors quoting ident 0x1234
    ping.sent[7] = 1.0
    frags = _echo_fragments(line)
    _inject(line, frags[:-1])  # the last fragment never comes
    line.sim.run_until(30.5)
    assert ping.errors == []
    line.sim.run_until(32.0)
    (err,) = ping.errors
    assert (err.type, err.code) == (IcmpType.TIME_EXCEEDED, TimeExceededCode.REASSEMBLY)
    assert err.reporter == line.address("h2") and abs(err.time - 31.0) < 1e-9
    c = line.right.counters()
    assert c["ip_reasm_timeout"] == 1 and c["icmp_out_time_excds"] == 1


def test_timeout_without_fragment_zero_sends_nothing() -> None:
    line = build_line(2)
    line.sim.run_until(1.0)
    _inject(line, _echo_fragments(line)[1:])
    line.sim.run_until(40.0)
    c = line.right.counters()
    assert c["ip_reasm_timeout"] == 1 and c["icmp_out_time_excds"] == 0
