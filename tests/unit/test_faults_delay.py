"""Delay + jitter (uniform, normal) and netem-style reorder."""

from __future__ import annotations

import math
import random
import statistics

import pytest

from nodes.faults import Direction, Distribution, Effects, FaultEngine, FaultSpec

EG = Direction.EGRESS
FRAME = bytes(100)


def delays(spec: FaultSpec, n: int, gap: float = 1e-3) -> list[float]:
    engine = FaultEngine(rng=random.Random(0))
    engine.add(spec, now=0.0)
    out = []
    for i in range(n):
        ((release, frame),) = engine.process("eth0", EG, FRAME, now=i * gap)
        assert frame == FRAME
        out.append(release - i * gap)
    return out


def test_fixed_delay_is_exact() -> None:
    engine = FaultEngine(rng=random.Random(0))
    engine.add(FaultSpec("eth0", Effects(delay=0.25), EG, seed=1), now=0.0)
    assert engine.process("eth0", EG, FRAME, now=10.0) == [(10.25, FRAME)]
    assert engine.process("eth0", Direction.INGRESS, FRAME, now=10.0) == [(10.0, FRAME)]
    assert engine.list()[0].counters.delayed == 1


def test_uniform_jitter_mean_and_bounds() -> None:
    n, delay, jitter = 20_000, 0.1, 0.02
    got = delays(FaultSpec("eth0", Effects(delay=delay, jitter=jitter), EG, seed=3), n)
    sd = jitter / math.sqrt(3)
    assert abs(statistics.fmean(got) - delay) < 5 * sd / math.sqrt(n)
    assert statistics.stdev(got) == pytest.approx(sd, rel=0.05)
    assert delay - jitter <= min(got) < delay - 0.99 * jitter
    assert delay + 0.99 * jitter < max(got) <= delay + jitter


def test_normal_jitter_mean_sd_and_cut() -> None:
    n, delay, jitter = 20_000, 0.1, 0.01
    spec = FaultSpec(
        "eth0", Effects(delay=delay, jitter=jitter, distribution=Distribution.NORMAL), EG, seed=3
    )
    got = delays(spec, n)
    assert abs(statistics.fmean(got) - delay) < 5 * jitter / math.sqrt(n)
    assert statistics.stdev(got) == pytest.approx(jitter, rel=0.05)
    within_one_sd = sum(abs(d - delay) <= jitter for d in got) / n
    assert within_one_sd == pytest.approx(0.6827, abs=0.02)
    assert delay - 4 * jitter <= min(got) and max(got) <= delay + 4 * jitter


def test_jitter_never_releases_before_now() -> None:
    got = delays(FaultSpec("eth0", Effects(delay=0.001, jitter=0.01), EG, seed=8), 2000)
    assert min(got) == 0.0
    assert max(got) > 0.01


def test_reorder_sends_some_at_once_and_delays_the_rest() -> None:
    n, p, delay = 20_000, 0.25, 0.05
    engine = FaultEngine(rng=random.Random(0))
    engine.add(FaultSpec("eth0", Effects(delay=delay, reorder=p), EG, seed=9), now=0.0)
    releases = []
    for i in range(n):
        ((release, _),) = engine.process("eth0", EG, i.to_bytes(4, "big") * 25, now=i * 0.01)
        releases.append(release - i * 0.01)
    immediate = sum(1 for d in releases if d == 0.0)
    assert all(d == 0.0 or d == pytest.approx(delay) for d in releases)
    assert abs(immediate - n * p) < 5 * math.sqrt(n * p * (1 - p))
    counters = engine.list()[0].counters
    assert (counters.reordered, counters.delayed) == (immediate, n - immediate)


def test_reordered_frame_overtakes_its_predecessors() -> None:
    engine = FaultEngine(rng=random.Random(0))
    engine.add(FaultSpec("eth0", Effects(delay=0.1, reorder=0.3), EG, seed=2), now=0.0)
    sent = [(engine.process("eth0", EG, bytes([i]) * 60, now=i * 0.01)[0]) for i in range(50)]
    order = [frame[0] for _, frame in sorted(sent)]
    assert order != list(range(50))
    assert sorted(order) == list(range(50))
    first_fast = next(i for i, (t, _) in enumerate(sent) if t == pytest.approx(i * 0.01))
    if first_fast > 0:  # it leaves before the delayed frame sent just before it
        assert sent[first_fast][0] < sent[first_fast - 1][0]


def test_reorder_one_sends_everything_at_once() -> None:
    got = delays(FaultSpec("eth0", Effects(delay=0.2, reorder=1.0), EG, seed=1), 100)
    assert set(got) == {0.0}


def test_reorder_with_jitter_jitters_the_delayed_ones() -> None:
    spec = FaultSpec("eth0", Effects(delay=0.1, jitter=0.01, reorder=0.5), EG, seed=1)
    got = delays(spec, 2000)
    slow = [d for d in got if d > 0]
    assert 800 < len(slow) < 1200
    assert 0.09 <= min(slow) < 0.091 and 0.109 < max(slow) <= 0.11
