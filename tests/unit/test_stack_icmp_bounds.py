"""The ICMP rate limiter's per-destination state is bounded (icmp_ratelimit_peers):
refilled buckets go first, losslessly, then the least recently updated; a flood that
makes a host send errors to 20,000 destinations keeps the state and memory flat."""

from __future__ import annotations

import random

from nodes.stack.config import StackConfig
from nodes.stack.counters import Counters
from nodes.stack.host import Host
from nodes.stack.icmp import IcmpRateLimiter
from nodes.wire.addr import BROADCAST_MAC
from nodes.wire.arp import ArpOp, ArpPacket
from nodes.wire.ethernet import ETH_P_ARP, build_ethernet
from nodes.wire.icmp import IcmpType
from nodes.wire.ipv4 import build_ipv4
from nodes.wire.udp import build_udp
from tests.floodkit import PEER_MAC, ip_frame, measure, run_timers

UNREACH = IcmpType.DEST_UNREACH


def limiter(**cfg: object) -> tuple[IcmpRateLimiter, Counters]:
    c = Counters()
    return IcmpRateLimiter(StackConfig(**cfg), c), c  # type: ignore[arg-type]


def test_refilled_buckets_are_forgotten_first_without_counting() -> None:
    lim, c = limiter(icmp_ratelimit_peers=4)
    for dst in range(4):
        assert lim.allow(UNREACH, dst, now=0.0) is None
    assert lim.allow(UNREACH, 10, now=2.0) is None  # buckets of 0..3 refilled at 1 s
    assert len(lim) == 4 and c["icmp_ratelimit_peer_evictions"] == 0


def test_beyond_the_bound_the_least_recently_updated_goes_and_is_counted() -> None:
    lim, c = limiter(icmp_ratelimit_peers=4)
    for dst in range(4):
        lim.allow(UNREACH, dst, now=0.0)
    lim.allow(UNREACH, 0, now=0.1)  # 0 is now the most recently updated
    lim.allow(UNREACH, 10, now=0.2)  # nothing refilled: 1 (the oldest) is evicted
    assert len(lim) == 4 and c["icmp_ratelimit_peer_evictions"] == 1
    for _ in range(5):
        lim.allow(UNREACH, 0, now=0.3)
    assert lim.allow(UNREACH, 0, now=0.3) == "icmp_out_ratelimit_host"  # 0 kept its state


def test_limits_still_hold_per_destination() -> None:
    lim, _c = limiter()
    verdicts = [lim.allow(UNREACH, 7, now=0.0) for _ in range(8)]
    assert verdicts.count(None) == 6 and verdicts[-1] == "icmp_out_ratelimit_host"


def test_port_unreachable_flood_to_many_destinations_keeps_the_state_flat() -> None:
    """20,000 UDP datagrams to a closed port from random sources (1000/s): the host
    answers each with port unreachable while the limits allow."""
    h = Host("h1", rng=random.Random(1))
    me = h.add_interface("eth0", "02:00:00:00:00:01", "10.0.0.1", 24).address
    gw = 0x0A0000FE
    h.add_route("0.0.0.0", 0, gw)
    h.frames_to_send()
    gw_hello = build_ethernet(
        BROADCAST_MAC, PEER_MAC, ETH_P_ARP,
        ArpPacket(ArpOp.REQUEST, PEER_MAC, gw, bytes(6), me).build(),
    )  # fmt: skip
    rng = random.Random(13)
    frames = []
    for _ in range(20_000):
        src = 0x0B000000 | rng.getrandbits(24)
        udp = build_udp(src, me, rng.randrange(1024, 65536), 9, b"x" * 16)
        frames.append(ip_frame(h, "eth0", build_ipv4(src=src, dst=me, proto=17, payload=udp)))
    most = [0]

    def flood(start: int, stop: int) -> None:
        for k in range(start, stop):
            now = k / 1000
            if k % 500 == 0:  # the gateway stays resolved
                h.receive_frame("eth0", gw_hello, now=now)
            h.receive_frame("eth0", frames[k], now=now)
            run_timers(h, now)
            most[0] = max(most[0], len(h.icmp_limiter))

    growth = measure(flood, 10_000)
    c = h.counters()
    assert most[0] <= h.config.icmp_ratelimit_peers
    assert c["udp_no_ports"] == 20_000 and c["icmp_out_dest_unreachs"] > 10_000
    growth.assert_flat()
