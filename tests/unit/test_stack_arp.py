"""ARP cache: resolution, queueing, retries, failure, learning rules, stale/probe."""

from __future__ import annotations

from nodes.stack.arp import UNRES_OVERHEAD, ArpEngine, NeighState
from nodes.stack.config import StackConfig
from nodes.stack.counters import Counters
from nodes.stack.interfaces import Interface, Interfaces
from nodes.wire.addr import BROADCAST_MAC, ZERO_MAC
from nodes.wire.arp import ArpOp, ArpPacket, parse_arp
from nodes.wire.ethernet import EtherType, parse_ethernet

ME = 0x0A000001
PEER = 0x0A000002
PEER_MAC = b"\x02\x00\x00\x00\x00\x02"


def make(**cfg: object) -> tuple[ArpEngine, Interface, list[tuple[str, bytes]], Counters]:
    ifaces = Interfaces()
    iface = Interface("eth0", b"\x02\x00\x00\x00\x00\x01", ME, 24)
    ifaces.add(iface)
    out: list[tuple[str, bytes]] = []
    c = Counters()
    return ArpEngine(ifaces, StackConfig(**cfg), c, out), iface, out, c  # type: ignore[arg-type]


def arps(out: list[tuple[str, bytes]]) -> list[ArpPacket]:
    res = []
    for _, f in out:
        eth = parse_ethernet(f)
        if eth.ethertype == EtherType.ARP:
            res.append(parse_arp(eth.payload))
    return res


def test_resolve_queue_and_flush_on_reply() -> None:
    arp, iface, out, _c = make()
    arp.output(iface, PEER, b"p1", now=0.0)
    arp.output(iface, PEER, b"p2", now=0.1)
    (req,) = arps(out)
    assert (req.op, req.target_ip, req.sender_ip) == (ArpOp.REQUEST, PEER, ME)
    assert parse_ethernet(out[0][1]).dst == BROADCAST_MAC
    out.clear()
    arp.receive(iface, ArpPacket(ArpOp.REPLY, PEER_MAC, PEER, iface.mac, ME), now=0.2)
    assert [bytes(parse_ethernet(f).payload) for _, f in out] == [b"p1", b"p2"]
    assert all(parse_ethernet(f).dst == PEER_MAC for _, f in out)
    n = arp.lookup("eth0", PEER)
    assert n is not None and n.state is NeighState.REACHABLE
    assert arp.next_deadline() is None


def test_three_probes_one_second_apart_then_failure() -> None:
    arp, iface, out, c = make()
    arp.output(iface, PEER, b"p1", now=0.0)
    for t in (1.0, 2.0):
        assert arp.next_deadline() == t
        arp.on_timer(now=t)
    assert len(arps(out)) == 3
    assert arp.next_deadline() == 3.0
    arp.on_timer(now=3.0)
    assert arp.failed == [b"p1"]
    assert c["arp_resolution_failed"] == 1 and c["arp_failed_packets"] == 1
    assert arp.lookup("eth0", PEER) is None


def test_queue_cap_drops_oldest() -> None:
    arp, iface, _out, c = make(arp_unres_qlen_bytes=2 * (100 + UNRES_OVERHEAD))
    for i in range(5):
        arp.output(iface, PEER, bytes([i]) * 100, now=0.0)
    assert c["arp_unresolved_discards"] == 3
    n = arp.lookup("eth0", PEER)
    assert n is not None and [p[0] for p in n.queue] == [3, 4]


def test_reply_only_for_own_address_and_learn_from_requests() -> None:
    arp, iface, out, c = make()
    arp.receive(iface, ArpPacket(ArpOp.REQUEST, PEER_MAC, PEER, ZERO_MAC, 0x0A000009), now=0.0)
    assert out == [] and c["arp_in_not_for_us"] == 1
    assert arp.lookup("eth0", PEER) is None
    arp.receive(iface, ArpPacket(ArpOp.REQUEST, PEER_MAC, PEER, ZERO_MAC, ME), now=0.0)
    (reply,) = arps(out)
    assert (reply.op, reply.sender_ip, reply.sender_mac) == (ArpOp.REPLY, ME, iface.mac)
    assert (reply.target_ip, reply.target_mac) == (PEER, PEER_MAC)
    n = arp.lookup("eth0", PEER)
    assert n is not None and n.state is NeighState.STALE and n.mac == PEER_MAC


def test_unsolicited_reply_does_not_create_and_conflicts_are_counted() -> None:
    arp, iface, _out, c = make()
    arp.receive(iface, ArpPacket(ArpOp.REPLY, PEER_MAC, PEER, iface.mac, ME), now=0.0)
    assert arp.lookup("eth0", PEER) is None and c["arp_in_unsolicited"] == 1
    arp.receive(iface, ArpPacket(ArpOp.REPLY, PEER_MAC, ME, iface.mac, ME), now=0.0)
    assert c["arp_conflicts"] == 1
    arp.receive(iface, ArpPacket(ArpOp.REQUEST, BROADCAST_MAC, PEER, ZERO_MAC, ME), now=0.0)
    assert c["arp_in_bad_sender"] == 1


def test_stale_entry_is_used_then_reprobed_by_unicast() -> None:
    arp, iface, out, _c = make()
    arp.output(iface, PEER, b"p", now=0.0)
    arp.receive(iface, ArpPacket(ArpOp.REPLY, PEER_MAC, PEER, iface.mac, ME), now=0.0)
    out.clear()
    arp.output(iface, PEER, b"q", now=31.0)  # reachable_time passed: stale -> delay
    assert len(out) == 1 and parse_ethernet(out[0][1]).dst == PEER_MAC
    n = arp.lookup("eth0", PEER)
    assert n is not None and n.state is NeighState.DELAY and arp.next_deadline() == 36.0
    arp.on_timer(now=36.0)
    (probe,) = arps(out)
    assert parse_ethernet(out[-1][1]).dst == PEER_MAC and probe.target_ip == PEER
    arp.receive(iface, ArpPacket(ArpOp.REPLY, PEER_MAC, PEER, iface.mac, ME), now=36.1)
    assert arp.lookup("eth0", PEER) is n and n.mac == PEER_MAC
    assert arp.next_deadline() is None
    assert str(n.state) == str(NeighState.REACHABLE)


def test_unanswered_probes_remove_the_entry() -> None:
    arp, iface, _out, c = make()
    arp.output(iface, PEER, b"p", now=0.0)
    arp.receive(iface, ArpPacket(ArpOp.REPLY, PEER_MAC, PEER, iface.mac, ME), now=0.0)
    arp.output(iface, PEER, b"q", now=40.0)
    for t in (45.0, 46.0, 47.0, 48.0):
        arp.on_timer(now=t)
    assert arp.lookup("eth0", PEER) is None and c["arp_probe_failed"] == 1


def test_gratuitous_announce() -> None:
    arp, iface, out, c = make()
    arp.announce(iface)
    (g,) = arps(out)
    assert g.sender_ip == g.target_ip == ME and c["arp_out_gratuitous"] == 1
