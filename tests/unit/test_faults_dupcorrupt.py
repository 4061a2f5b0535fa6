"""Duplicate and corrupt: rates, copies, exactly one flipped bit past the Ethernet header."""

from __future__ import annotations

import math
import random

from nodes.faults import Direction, Effects, FaultEngine, FaultSpec

EG = Direction.EGRESS
FRAME = bytes(range(100))


def engine_with(spec: FaultSpec) -> FaultEngine:
    engine = FaultEngine(rng=random.Random(0))
    engine.add(spec, now=0.0)
    return engine


def within_5_sigma(count: int, n: int, p: float) -> bool:
    return abs(count - n * p) < 5 * math.sqrt(n * p * (1 - p))


def test_duplicate_rate_and_copies() -> None:
    n, p = 50_000, 0.1
    engine = engine_with(FaultSpec("eth0", Effects(duplicate=p), EG, seed=1))
    outs = [engine.process("eth0", EG, FRAME, now=1.0) for _ in range(n)]
    doubled = [out for out in outs if len(out) == 2]
    assert within_5_sigma(len(doubled), n, p)
    assert all(out == [(1.0, FRAME), (1.0, FRAME)] for out in doubled)
    assert all(len(out) in (1, 2) for out in outs)
    assert engine.list()[0].counters.duplicated == len(doubled)


def test_duplicates_get_their_own_jitter() -> None:
    engine = engine_with(
        FaultSpec("eth0", Effects(duplicate=1.0, delay=0.1, jitter=0.05), EG, seed=3)
    )
    pairs = [engine.process("eth0", EG, FRAME, now=0.0) for _ in range(100)]
    assert all(len(pair) == 2 for pair in pairs)
    assert sum(pair[0][0] != pair[1][0] for pair in pairs) == 100


def flipped_bits(a: bytes, b: bytes) -> list[int]:
    assert len(a) == len(b)
    return [i * 8 + bit for i in range(len(a)) for bit in range(8) if (a[i] ^ b[i]) >> bit & 1]


def test_corrupt_rate_and_exactly_one_bit_past_the_header() -> None:
    n, p = 50_000, 0.05
    engine = engine_with(FaultSpec("eth0", Effects(corrupt=p), EG, seed=2))
    changed = []
    for _ in range(n):
        ((_, frame),) = engine.process("eth0", EG, FRAME, now=0.0)
        if frame != FRAME:
            changed.append(frame)
    assert within_5_sigma(len(changed), n, p)
    assert engine.list()[0].counters.corrupted == len(changed)
    positions = set()
    for frame in changed:
        (bit,) = flipped_bits(FRAME, frame)
        assert bit >= 14 * 8
        positions.add(bit // 8)
    assert positions == set(range(14, 100))  # every byte past the header gets hit


def test_corrupt_leaves_header_only_frames_alone() -> None:
    engine = engine_with(FaultSpec("eth0", Effects(corrupt=1.0), EG, seed=2))
    header = bytes(14)
    assert engine.process("eth0", EG, header, now=0.0) == [(0.0, header)]
    assert engine.list()[0].counters.corrupted == 0
    ((_, one),) = engine.process("eth0", EG, header + b"\x00", now=0.0)
    assert len(flipped_bits(header + b"\x00", one)) == 1


def test_corrupt_then_duplicate_sends_two_equal_corrupted_copies() -> None:
    engine = engine_with(FaultSpec("eth0", Effects(corrupt=1.0, duplicate=1.0), EG, seed=5))
    (_, a), (_, b) = engine.process("eth0", EG, FRAME, now=0.0)
    assert a == b != FRAME
