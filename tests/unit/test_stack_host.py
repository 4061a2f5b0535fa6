"""Host: transport contract, loopback, local ICMP, interfaces, counters."""

from __future__ import annotations

import pytest

from nodes.io.simulate import Simulation, build_line
from nodes.stack.host import Host
from nodes.wire.addr import ip_from_str
from nodes.wire.icmp import (
    IcmpMessage,
    IcmpType,
    QuotedPacket,
    UnreachCode,
    build_echo,
    build_timestamp,
    parse_icmp,
    parse_timestamp,
)
from nodes.wire.ipv4 import IPv4Packet


class FakeTransport:
    def __init__(self) -> None:
        self.packets: list[tuple[int, bytes]] = []
        self.errors: list[tuple[int, int, int]] = []
        self.deadline: float | None = None
        self.fired: list[float] = []

    def on_packet(self, packet: IPv4Packet, *, now: float) -> None:
        self.packets.append((packet.src, bytes(packet.payload)))

    def on_icmp_error(self, msg: IcmpMessage, quoted: QuotedPacket, *, now: float) -> None:
        self.errors.append((msg.type, msg.code, msg.next_hop_mtu))

    def next_deadline(self) -> float | None:
        return self.deadline

    def on_timer(self, *, now: float) -> None:
        self.fired.append(now)
        self.deadline = None

    def counters(self) -> dict[str, int]:
        return {"tcp_fake": 7}


class Listener:
    def __init__(self) -> None:
        self.msgs: list[tuple[int, int, bytes]] = []

    def on_icmp(self, packet: IPv4Packet, msg: IcmpMessage, *, now: float) -> None:
        self.msgs.append((packet.src, msg.type, bytes(msg.payload)))


def test_registered_transport_gets_packets_errors_and_timers() -> None:
    line = build_line(1, mtus=[1500, 576])
    t1, t2 = FakeTransport(), FakeTransport()
    line.left.register_protocol(6, t1)
    line.right.register_protocol(6, t2)
    assert line.left.handlers[6] is t1
    dst = line.address("h2")
    assert line.left.route_mtu(dst) == 1500 and line.left.source_address_for(dst) == 0x0A000001
    assert line.left.send_ip(dst, 6, b"x" * 3000, now=0.0)
    line.sim.run_until(1.0)
    assert t2.packets == [(line.address("h1"), b"x" * 3000)]
    assert line.left.send_ip(dst, 6, b"y" * 1000, now=1.0, df=True)
    line.sim.run_until(2.0)
    assert t1.errors == [(IcmpType.DEST_UNREACH, UnreachCode.FRAG_NEEDED, 576)]
    t1.deadline = 5.0
    line.sim.run_until(6.0)
    assert t1.fired == [5.0]
    assert line.left.counters()["tcp_fake"] == 7


def test_send_to_own_address_loops_back_without_reentry() -> None:
    h = Host("solo")
    h.add_interface("eth0", "02:00:00:00:00:01", "10.0.0.1", 24)
    t = FakeTransport()
    h.register_protocol(6, t)
    assert h.send_ip(0x0A000001, 6, b"self", now=0.0)
    assert t.packets == [] and h.next_deadline() == 0.0
    h.on_timer(now=0.0)
    assert t.packets == [(0x0A000001, b"self")]
    assert h.route_mtu(0x0A000001) == 65535


def test_unknown_protocol_gets_protocol_unreachable() -> None:
    line = build_line(1)
    lst = Listener()
    line.left.add_icmp_listener(lst)
    line.left.send_ip(line.address("h2"), 99, b"abcdefgh", now=0.0)
    line.sim.run_until(1.0)
    assert [(m[1]) for m in lst.msgs] == [IcmpType.DEST_UNREACH]
    assert line.right.counters()["ip_in_unknown_protos"] == 1


def test_timestamp_reply() -> None:
    line = build_line(1)
    lst = Listener()
    line.left.add_icmp_listener(lst)
    line.sim.run_until(2.0)
    req = build_timestamp(IcmpType.TIMESTAMP, 1, 2, 123, 0, 0)
    line.left.send_ip(line.address("h2"), 1, req, now=2.0)
    line.sim.run_until(3.0)
    ((src, typ, _),) = lst.msgs
    assert typ == IcmpType.TIMESTAMP_REPLY and src == line.address("h2")
    msg = parse_icmp(build_timestamp(14, 1, 2, *[0, 0, 0]))
    assert parse_timestamp(msg) == (0, 0, 0)
    assert line.right.counters()["icmp_out_timestamp_reps"] == 1


def test_broadcast_echo_ignored_and_interface_down() -> None:
    line = build_line(1)
    line.left.send_ip(0x0A0000FF, 1, build_echo(8, 1, 1, b""), now=0.0)
    line.sim.run_until(1.0)
    assert line.routers[0].counters()["icmp_in_echo_ignored"] == 1
    line.right.set_interface_up("eth0", False)
    assert line.right.source_address_for(line.address("h1")) is None
    assert not line.right.send_ip(line.address("h1"), 17, b"", now=1.0)
    line.left.send_ip(line.address("h2"), 17, bytes(8), now=1.0)
    line.sim.run_until(2.0)
    assert line.right.counters()["eth_in_if_down"] >= 1
    line.right.set_interface_up("eth0", True)
    assert line.right.counters()["arp_out_gratuitous"] == 2  # announced again on up
    assert line.right.source_address_for(line.address("h1")) == line.address("h2")


def test_a_live_address_change() -> None:
    from scapy.layers.l2 import ARP, Ether

    from nodes.apps.ping import Ping
    from nodes.router.fib import RouteKind

    line = build_line(1, delay=0.001)
    h1, h2 = line.left, line.right
    ping = Ping(h1, line.address("h2"))
    first = ping.send(now=0.0)
    assert line.sim.run(lambda: ping.answered(first), timeout=2)
    assert h2.arp.lookup("eth0", line.address("r1", "eth1")) is not None
    before = h2.counters()
    h2.frames_to_send()
    h2.set_address("eth0", "10.0.1.77", 24)
    assert h2.interfaces.get("eth0").address == ip_from_str("10.0.1.77")
    assert h2.interfaces.owner_of(ip_from_str("10.0.1.2")) is None
    assert not h2.arp.neighbors  # the entries learnt on it are gone
    (announce,) = h2.frames_to_send()  # a gratuitous ARP for the new address
    arp = Ether(announce[1])[ARP]
    assert announce[0] == "eth0" and arp.op == 1 and arp.psrc == arp.pdst == "10.0.1.77"
    after = h2.counters()
    assert after["eth_in_frames"] == before["eth_in_frames"]  # counters stay
    assert after["arp_out_gratuitous"] == before["arp_out_gratuitous"] + 1
    # a new subnet: the connected route moves with it; the default route stays
    h2.set_address("eth0", "10.0.9.2", 24)
    connected = [(r.prefix, r.prefix_len) for r in h2.fib.routes() if r.kind is RouteKind.CONNECTED]
    assert connected == [(ip_from_str("10.0.9.0"), 24)]
    h2.set_address("eth0", "10.0.1.77", 24)
    new = Ping(h1, ip_from_str("10.0.1.77"))
    seq = new.send(now=line.sim.now)
    assert line.sim.run(lambda: new.answered(seq), timeout=5) and new.replies
    assert new.replies[seq].src == ip_from_str("10.0.1.77")
    with pytest.raises(ValueError, match="prefix length 40"):
        h2.set_address("eth0", "10.0.1.78", 40)
    r1 = line.routers[0]
    with pytest.raises(ValueError, match="already on eth0"):
        r1.set_address("eth1", line.address("r1", "eth0"), 24)
    assert h2.interfaces.get("eth0").address == ip_from_str("10.0.1.77")  # unchanged


def test_hosts_do_not_forward() -> None:
    sim = Simulation()
    a, b = Host("a"), Host("b")
    a.add_interface("eth0", "02:00:00:00:00:01", "10.0.0.1", 24)
    b.add_interface("eth0", "02:00:00:00:00:02", "10.0.0.2", 24)
    a.add_route("0.0.0.0", 0, "10.0.0.2")
    for h in (a, b):
        sim.add(h)
    sim.link(("a", "eth0"), ("b", "eth0"))
    a.send_ip(0x08080808, 17, bytes(8), now=0.0)
    sim.run_until(1.0)
    assert b.counters()["ip_in_addr_errors"] == 1 and b.counters()["ip_forw_datagrams"] == 0


def test_every_counter_is_named_and_starts_at_zero() -> None:
    c = Host("x").counters()
    assert len(c) > 80 and set(c.values()) == {0}
    assert all(name.islower() and " " not in name for name in c)
