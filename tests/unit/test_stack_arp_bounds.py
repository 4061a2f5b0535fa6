"""The neighbour table's bounds (Linux gc_thresh1/2/3, forced and periodic GC), the
unresolved queues' caps, who may create an entry, and a flood of ARP requests from
random senders that leaves the table and memory flat."""

from __future__ import annotations

import random

from nodes.stack.arp import UNRES_OVERHEAD, ArpEngine, NeighState
from nodes.stack.config import StackConfig
from nodes.stack.counters import Counters
from nodes.stack.host import Host
from nodes.stack.interfaces import Interface, Interfaces
from nodes.wire.addr import BROADCAST_MAC, ZERO_MAC
from nodes.wire.arp import ArpOp, ArpPacket
from nodes.wire.ethernet import ETH_P_ARP, build_ethernet
from tests.floodkit import measure, run_timers

ME = 0x0A000001
NET = 0x0A000000


def make(**cfg: object) -> tuple[ArpEngine, Interface, list[tuple[str, bytes]], Counters]:
    ifaces = Interfaces()
    iface = Interface("eth0", b"\x02\x00\x00\x00\x00\x01", ME, 16)
    ifaces.add(iface)
    out: list[tuple[str, bytes]] = []
    c = Counters()
    return ArpEngine(ifaces, StackConfig(**cfg), c, out), iface, out, c  # type: ignore[arg-type]


def mac(k: int) -> bytes:
    return b"\x02\x00" + k.to_bytes(4, "big")


def request(k: int, target: int = ME) -> ArpPacket:
    return ArpPacket(ArpOp.REQUEST, mac(k), NET + 100 + k, ZERO_MAC, target)


SMALL = {"arp_gc_thresh1": 2, "arp_gc_thresh2": 4, "arp_gc_thresh3": 8}


def test_hard_limit_refuses_new_entries_and_sends_no_reply() -> None:
    arp, iface, out, c = make(**SMALL)
    for k in range(8):
        arp.receive(iface, request(k), now=0.0)
    assert len(arp.neighbors) == 8 and len(out) == 8
    out.clear()
    arp.receive(iface, request(8), now=1.0)  # nothing older than 5 s: GC frees nothing
    assert len(arp.neighbors) == 8 and out == []  # Linux answers only with an entry
    assert c["arp_table_fulls"] == 1 and c["arp_forced_gc_runs"] >= 1
    arp.receive(iface, request(0), now=1.0)  # a known sender is still answered
    assert len(out) == 1


def test_forced_gc_evicts_entries_idle_over_5s_oldest_first_down_to_thresh2() -> None:
    arp, iface, _out, c = make(**SMALL)
    for k in range(8):
        arp.receive(iface, request(k), now=float(k))  # entry k updated at k seconds
    arp.receive(iface, request(8), now=12.0)  # 0..6 are older than 5 s: 4 go (8 - 4)
    keys = sorted(ip - NET - 100 for _, ip in arp.neighbors)
    assert keys == [4, 5, 6, 7, 8]
    assert c["arp_table_fulls"] == 0 and c["arp_destroys"] == 4 and c["arp_allocs"] == 9


def test_soft_limit_runs_forced_gc_at_most_every_5s() -> None:
    arp, iface, _out, c = make(**SMALL)
    for k in range(4):
        arp.receive(iface, request(k), now=0.0)
    arp.receive(iface, request(4), now=10.0)  # at gc_thresh2, last flush long ago
    assert c["arp_forced_gc_runs"] == 1 and len(arp.neighbors) == 5  # cleans to 4, adds
    arp.receive(iface, request(5), now=11.0)  # flushed 1 s ago: no GC below thresh3
    assert c["arp_forced_gc_runs"] == 1 and len(arp.neighbors) == 6


def test_entries_with_a_timer_are_never_collected() -> None:
    arp, iface, _out, c = make(**SMALL)
    for k in range(8):
        arp.output(iface, NET + 100 + k, b"x", now=0.0)  # INCOMPLETE, resolving
    arp.output(iface, NET + 200, b"y", now=0.9)
    assert c["arp_table_fulls"] == 1 and c["ip_out_discards"] == 1
    assert all(n.state is NeighState.INCOMPLETE for n in arp.neighbors.values())


def test_periodic_gc_only_from_thresh1_and_only_stale_unused_entries() -> None:
    arp, iface, _out, c = make(**SMALL)
    arp.receive(iface, request(0), now=0.0)
    assert arp.next_deadline() is None  # one entry, below gc_thresh1: nothing armed
    arp.receive(iface, request(1), now=0.0)
    assert arp.next_deadline() == 15.0  # reachable_time / 2
    arp.on_timer(now=15.0)
    assert len(arp.neighbors) == 2 and c["arp_periodic_gc_runs"] == 1
    for t in (30.0, 45.0, 60.0):
        arp.on_timer(now=t)
    assert len(arp.neighbors) == 2  # gc_stale_time (60 s) not passed yet
    arp.on_timer(now=75.0)
    assert len(arp.neighbors) == 0 and arp.next_deadline() is None


def test_periodic_gc_leaves_small_tables_alone() -> None:
    arp, iface, _out, _c = make()
    arp.receive(iface, request(0), now=0.0)
    arp.on_timer(now=10_000.0)
    assert len(arp.neighbors) == 1 and arp.next_deadline() is None


def test_only_requests_for_us_create_entries() -> None:
    arp, iface, _out, c = make()
    arp.receive(iface, request(1, target=ME + 5), now=0.0)  # for someone else
    gratuitous = ArpPacket(ArpOp.REQUEST, mac(2), NET + 102, ZERO_MAC, NET + 102)
    arp.receive(iface, gratuitous, now=0.0)
    reply = ArpPacket(ArpOp.REPLY, mac(3), NET + 103, iface.mac, ME)
    arp.receive(iface, reply, now=0.0)
    assert arp.neighbors == {}
    assert c["arp_in_not_for_us"] == 1 and c["arp_in_unsolicited"] == 1


def test_martian_senders_are_refused() -> None:
    arp, iface, out, c = make()
    for sender in (0xE0000001, 0xFFFFFFFF, 0x7F000001):
        arp.receive(iface, ArpPacket(ArpOp.REQUEST, mac(1), sender, ZERO_MAC, ME), now=0.0)
    assert out == [] and arp.neighbors == {} and c["arp_in_bad_sender"] == 3


def test_unresolved_total_cap_across_entries() -> None:
    per_entry = 10 * (100 + UNRES_OVERHEAD)
    arp, iface, _out, c = make(arp_unres_qlen_bytes=per_entry, arp_unres_total_bytes=per_entry)
    for _ in range(10):
        arp.output(iface, NET + 100, b"a" * 100, now=0.0)
    arp.output(iface, NET + 101, b"b" * 100, now=0.0)  # the table's total is used up
    assert c["arp_unresolved_discards"] == 1 and arp.unres_bytes == per_entry
    for t in (1.0, 2.0, 3.0):  # both resolutions fail: their queues' charge is released
        arp.on_timer(now=t)
    assert arp.unres_bytes == 0 and len(arp.failed) == 10


def test_resolution_releases_the_queue_charge() -> None:
    arp, iface, out, _c = make()
    arp.output(iface, NET + 100, b"a" * 100, now=0.0)
    assert arp.unres_bytes == 100 + UNRES_OVERHEAD
    arp.receive(iface, ArpPacket(ArpOp.REPLY, mac(0), NET + 100, iface.mac, ME), now=0.1)
    assert arp.unres_bytes == 0 and out[-1][1].endswith(b"a" * 100)


# ---- the flood ---------------------------------------------------------------------
def flood_host() -> tuple[Host, random.Random]:
    h = Host("h1", rng=random.Random(1))
    h.add_interface("eth0", "02:00:00:00:00:01", "10.0.0.1", 8)
    h.frames_to_send()
    return h, random.Random(7)


def test_arp_request_flood_keeps_the_table_and_memory_flat() -> None:
    """The issue's measurement: 20,000 requests for h1 from random senders (1000/s)."""
    h, rng = flood_host()
    iface = h.interfaces.get("eth0")
    frames = [
        build_ethernet(
            BROADCAST_MAC, b"\x02" + rng.randbytes(5), ETH_P_ARP,
            ArpPacket(ArpOp.REQUEST, b"\x02" + rng.randbytes(5),
                      0x0A000000 | rng.getrandbits(24), ZERO_MAC, iface.address).build(),
        )
        for _ in range(20_000)
    ]  # fmt: skip
    largest = [0]

    def flood(start: int, stop: int) -> None:
        for k in range(start, stop):
            now = k / 1000
            h.receive_frame("eth0", frames[k], now=now)
            run_timers(h, now)
            largest[0] = max(largest[0], len(h.arp.neighbors))

    growth = measure(flood, 10_000)
    c = h.counters()
    assert largest[0] == h.config.arp_gc_thresh3 == 1024
    assert c["arp_table_fulls"] > 0 and c["arp_forced_gc_runs"] > 0
    assert c["arp_allocs"] - c["arp_destroys"] == len(h.arp.neighbors)
    # a full table costs well under 1 MiB; the second 10,000 requests add nothing
    assert growth.first < 1024 * 1024, growth
    growth.assert_flat()


def test_the_host_reports_how_full_its_tables_are() -> None:
    h, _rng = flood_host()
    h.receive_frame(
        "eth0",
        build_ethernet(BROADCAST_MAC, mac(1), ETH_P_ARP, request(1, target=0x0A000001).build()),
        now=0.0,
    )
    c = h.counters()
    assert c["arp_entries"] == 1 and c["ip_frag_queues"] == 0 and c["ip_frag_memory"] == 0
    assert c["arp_unresolved_bytes"] == 0 and c["icmp_ratelimit_peers"] == 0
