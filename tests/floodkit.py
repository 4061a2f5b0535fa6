"""Flood tests' tools: a host fed crafted frames at a manual clock, and a tracemalloc
measurement of how much a flood grows memory (the tables must stay flat).

A flood is measured in two halves of equal size: what the first half allocated (the
table filling up to its bound) and what the second half added on top (with a bounded
table, nothing that grows with the flood). Deterministic: seeded randomness, virtual
time, no I/O.
"""

from __future__ import annotations

import gc
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass

from nodes.stack.host import Host
from nodes.wire.ethernet import ETH_P_IP, build_ethernet

PEER_MAC = b"\x02\x00\x00\x00\xee\x01"


@dataclass(frozen=True, slots=True)
class Growth:
    """Bytes still allocated after the first and after both halves of a flood."""

    first: int
    total: int

    @property
    def second(self) -> int:
        """What the second half added: ~0 when the table is bounded."""
        return self.total - self.first

    def assert_flat(self, slack: int = 256 * 1024) -> None:
        """The second half added (almost) nothing: less than a quarter of the first half
        (a leak would add as much again) and less than ``slack`` bytes, room for a
        bounded cache (the FIB's, 4096 entries, cleared when full) caught in another
        phase of its fill-and-clear cycle than at the first measurement."""
        assert self.second < min(slack, self.first // 4), self


def measure(flood: Callable[[int, int], None], half: int) -> Growth:
    """Run ``flood(start, stop)`` for packets [0, half) then [half, 2 * half) under
    tracemalloc; what each point holds over the baseline (after a full collection)."""
    gc.collect()
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        flood(0, half)
        gc.collect()
        first = tracemalloc.get_traced_memory()[0] - base
        flood(half, 2 * half)
        gc.collect()
        total = tracemalloc.get_traced_memory()[0] - base
    finally:
        tracemalloc.stop()
    return Growth(first, total)


def run_timers(host: Host, now: float) -> None:
    """What the runner does between frames: timers due by ``now``, output drained."""
    for _ in range(100):
        t = host.next_deadline()
        if t is None or t > now:
            break
        host.on_timer(now=now)
    host.frames_to_send()


def ip_frame(host: Host, ifname: str, raw_ip: bytes) -> bytes:
    """An Ethernet frame carrying ``raw_ip`` to ``host``'s interface ``ifname``."""
    return build_ethernet(host.interfaces.get(ifname).mac, PEER_MAC, ETH_P_IP, raw_ip)
