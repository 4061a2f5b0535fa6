"""Reassembly's bounds: the memory cap (ipfrag_high_thresh) charges what a queue really
holds, so it bounds memory and the number of queues; a flood of first fragments from
random sources and idents stays at the cap with flat memory."""

from __future__ import annotations

import gc
import random
import tracemalloc

from nodes.stack.config import StackConfig
from nodes.stack.counters import Counters
from nodes.stack.host import Host
from nodes.stack.ipv4 import FRAG_OVERHEAD, QUEUE_OVERHEAD, Reassembler
from nodes.wire.ipv4 import IPv4Packet, build_ipv4, parse_ipv4
from tests.floodkit import ip_frame, measure, run_timers

ME = 0x0A000001


def first_fragment(rng: random.Random, size: int = 8) -> bytes:
    return build_ipv4(
        src=0x0B000000 | rng.getrandbits(24), dst=ME, proto=17, payload=rng.randbytes(size),
        ident=rng.getrandbits(16), mf=True,
    )  # fmt: skip


def traced(packets: list[IPv4Packet], r: Reassembler) -> int:
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for p in packets:
            r.add(p, now=0.0)
        gc.collect()
        return tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()


def test_the_charge_covers_what_queues_really_hold() -> None:
    rng = random.Random(3)
    r = Reassembler(StackConfig(ipfrag_high_thresh=1 << 30), Counters())
    queues = [parse_ipv4(first_fragment(rng)) for _ in range(3000)]
    assert traced(queues, r) <= r.mem == 3000 * (QUEUE_OVERHEAD + FRAG_OVERHEAD + 8)
    r = Reassembler(StackConfig(ipfrag_high_thresh=1 << 30), Counters())
    frags = [
        parse_ipv4(build_ipv4(src=1, dst=ME, proto=17, payload=b"x" * 8, ident=k // 1000,
                              mf=True, frag_offset=8 * (k % 1000)))
        for k in range(3000)
    ]  # fmt: skip
    assert traced(frags, r) <= r.mem


def test_queues_hold_copies_not_the_frames_they_came_in() -> None:
    r = Reassembler(StackConfig(), Counters())
    frame = bytearray(first_fragment(random.Random(1), size=1000))
    r.add(parse_ipv4(memoryview(frame)), now=0.0)
    gc.collect()
    frame += b"more"  # BufferError if the queue still held a view of the frame
    (quote,) = r.on_timer(now=31.0)
    assert quote[:1] == b"\x45" and len(quote) == 28


def test_the_cap_bounds_the_number_of_queues() -> None:
    cap = 64 * 1024
    c = Counters()
    r = Reassembler(StackConfig(ipfrag_high_thresh=cap), c)
    rng = random.Random(5)
    for _ in range(1000):
        r.add(parse_ipv4(first_fragment(rng)), now=0.0)
    assert len(r) == cap // (QUEUE_OVERHEAD + FRAG_OVERHEAD + 8) and r.mem <= cap
    assert c["ip_reasm_mem_drops"] == 1000 - len(r) == c["ip_reasm_fails"]
    r.on_timer(now=31.0)
    assert len(r) == 0 and r.mem == 0


def test_first_fragment_flood_keeps_reassembly_and_memory_flat() -> None:
    """20,000 first fragments from random sources and idents, 1000 per second (none
    expires: ipfrag_time is 30 s), through the host's receive path."""
    h = Host("h1", rng=random.Random(1))
    h.add_interface("eth0", "02:00:00:00:00:01", "10.0.0.1", 24)
    h.add_route("0.0.0.0", 0, "10.0.0.254")
    h.frames_to_send()
    rng = random.Random(11)
    frames = [ip_frame(h, "eth0", first_fragment(rng, size=rng.randrange(8, 200, 8)))
              for _ in range(20_000)]  # fmt: skip
    most = [0]

    def flood(start: int, stop: int) -> None:
        for k in range(start, stop):
            now = k / 1000
            h.receive_frame("eth0", frames[k], now=now)
            run_timers(h, now)
            most[0] = max(most[0], len(h.reassembler))

    growth = measure(flood, 10_000)
    c = h.counters()
    cap = h.config.ipfrag_high_thresh
    assert h.reassembler.mem <= cap and most[0] <= cap // (QUEUE_OVERHEAD + FRAG_OVERHEAD)
    assert c["ip_reasm_mem_drops"] > 0 and c["ip_reasm_reqds"] == 20_000
    assert c["ip_reasm_mem_drops"] + len(h.reassembler) == 20_000
    assert growth.total < cap * 1.1, growth  # what the cap charges is what it holds
    growth.assert_flat()
