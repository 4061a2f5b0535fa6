"""Token bucket rate limit: long-run rate, burst, queue limits (packets, bytes), policer."""

from __future__ import annotations

import itertools
import random

import pytest

from nodes.faults import Direction, Effects, FaultEngine, FaultSpec, RateLimit

EG = Direction.EGRESS
RATE = 1_000_000  # bit/s = 125,000 B/s


def engine_with(rate: RateLimit, delay: float = 0.0) -> FaultEngine:
    engine = FaultEngine(rng=random.Random(0))
    engine.add(FaultSpec("eth0", Effects(rate=rate, delay=delay), EG, seed=1), now=0.0)
    return engine


def offer(engine: FaultEngine, size: int, gap: float, count: int) -> list[tuple[float, float]]:
    """(arrival, departure) of each frame that was not dropped."""
    out = []
    for i in range(count):
        for release, _ in engine.process("eth0", EG, bytes(size), now=i * gap):
            out.append((i * gap, release))
    return out


def test_bytes_released_over_time_match_the_rate() -> None:
    engine = engine_with(RateLimit(RATE, burst_bytes=3000, queue_limit_packets=None))
    sent = offer(engine, 1000, 0.004, 2500)  # 250 kB/s offered for 10 s, twice the rate
    assert len(sent) == 2500  # no limit: everything queues
    for horizon in (1.0, 5.0, 10.0, 19.0):
        released = 1000 * sum(1 for _, dep in sent if dep <= horizon)
        assert released == pytest.approx(3000 + RATE / 8 * horizon, abs=1000)
    departures = [dep for _, dep in sent]
    assert departures == sorted(departures)  # FIFO
    gaps = {round(b - a, 9) for a, b in itertools.pairwise(departures[10:])}
    assert gaps == {0.008}  # 1000 B at 125 kB/s, once the bucket is drained


def test_traffic_under_the_rate_is_not_delayed() -> None:
    engine = engine_with(RateLimit(RATE))
    sent = offer(engine, 1000, 0.01, 500)  # 100 kB/s < 125 kB/s
    assert all(arr == dep for arr, dep in sent)
    assert engine.list()[0].counters.queued == 0


def test_burst_leaves_at_once_after_idle() -> None:
    engine = engine_with(RateLimit(RATE, burst_bytes=10_000))
    first = [engine.process("eth0", EG, bytes(1000), now=0.0)[0][0] for _ in range(12)]
    assert first[:10] == [0.0] * 10
    assert first[10:] == pytest.approx([0.008, 0.016])
    later = [engine.process("eth0", EG, bytes(1000), now=100.0)[0][0] for _ in range(10)]
    assert later == [100.0] * 10  # the bucket refilled, capped at the burst


def test_packet_queue_limit_drops_and_counts_shaped() -> None:
    engine = engine_with(RateLimit(RATE, burst_bytes=1000, queue_limit_packets=10))
    sent = offer(engine, 1000, 0.004, 2500)
    for arrival, _ in sent:
        waiting = sum(1 for a, d in sent if a <= arrival < d)
        assert waiting <= 10
    counters = engine.list()[0].counters
    assert counters.shaped == counters.dropped == 2500 - len(sent)
    assert len(sent) == pytest.approx(1250, abs=15)  # the rate decides what gets through
    assert counters.queued > 1000


def test_byte_queue_limit() -> None:
    engine = engine_with(
        RateLimit(RATE, burst_bytes=1000, queue_limit_bytes=5000, queue_limit_packets=None)
    )
    sent = offer(engine, 1000, 0.001, 200)
    assert max(sum(1 for a, d in sent if a <= t < d) for t, _ in sent) == 5
    assert engine.list()[0].counters.shaped == 200 - len(sent)


def test_zero_queue_is_a_policer() -> None:
    engine = engine_with(RateLimit(RATE, burst_bytes=2000, queue_limit_packets=0))
    sent = offer(engine, 1000, 0.004, 1000)
    assert all(arr == dep for arr, dep in sent)  # nothing waits
    assert len(sent) == pytest.approx(500, abs=3)


def test_frames_larger_than_the_burst_keep_the_rate() -> None:
    engine = engine_with(RateLimit(RATE, burst_bytes=500, queue_limit_packets=None))
    sent = offer(engine, 1500, 0.001, 1000)
    assert sent[-1][1] == pytest.approx(1500 * 999 / (RATE / 8), rel=1e-6)


def test_rate_then_delay() -> None:
    engine = engine_with(RateLimit(RATE, burst_bytes=1000), delay=0.05)
    a = engine.process("eth0", EG, bytes(1000), now=0.0)
    b = engine.process("eth0", EG, bytes(1000), now=0.0)
    assert a[0][0] == pytest.approx(0.05)
    assert b[0][0] == pytest.approx(0.058)


def test_each_interface_direction_has_its_own_bucket() -> None:
    engine = FaultEngine(rng=random.Random(0))
    engine.add(FaultSpec("eth0", Effects(rate=RateLimit(RATE, burst_bytes=1000)), seed=1), now=0.0)
    eg = [engine.process("eth0", EG, bytes(1000), now=0.0)[0][0] for _ in range(2)]
    ing = [engine.process("eth0", Direction.INGRESS, bytes(1000), now=0.0)[0][0] for _ in range(2)]
    assert eg == ing == pytest.approx([0.0, 0.008])


def test_the_egress_backlog_is_what_waits_for_the_rate_and_drains_as_frames_leave() -> None:
    """What TCP small queues read (FaultEngine.queued / drained_to): bytes waiting for the
    rate now, and when the queue is down to a limit (a transmit completion)."""
    engine = engine_with(RateLimit(RATE, burst_bytes=1000, queue_limit_packets=None), delay=0.5)
    assert engine.queued("eth1", 0.0) is None  # no rate there: nothing ever queues
    for _ in range(5):  # the first leaves at once (burst), four wait 8 ms each after it
        engine.process("eth0", EG, bytes(1000), now=0.0)
    assert engine.queued("eth0", 0.0) == 4000  # the delay holds frames in flight, not queued
    assert engine.drained_to("eth0", 4000, 0.0) == 0.0
    assert engine.drained_to("eth0", 2500, 0.0) == pytest.approx(0.016)  # two have left
    assert engine.drained_to("eth0", 0, 0.0) == pytest.approx(0.032)
    assert engine.queued("eth0", 0.016) == 2000
    assert engine.queued("eth0", 0.032) == 0
    assert engine.drained_to("eth0", 0, 0.04) == 0.04


def test_the_backlog_counts_the_link_layer_and_rate_faults_in_series() -> None:
    from nodes.faults import LinkProps

    engine = engine_with(RateLimit(RATE, burst_bytes=1000, queue_limit_packets=None))
    engine.set_link("eth0", EG, LinkProps(rate=RATE / 2), seed=1)  # the link: half the rate
    releases = [at for _ in range(3) for at, _ in engine.process("eth0", EG, bytes(1000), now=0.0)]
    assert (engine.queued("eth0", 0.0) or 0) >= 2000  # at least the two behind the first
    assert engine.drained_to("eth0", 0, 0.0) == pytest.approx(max(releases))  # all gone


def test_the_egress_rate_is_the_slowest_on_the_interface() -> None:
    from nodes.faults import LinkProps

    engine = engine_with(RateLimit(RATE, burst_bytes=1000, queue_limit_packets=None))
    assert engine.rate("eth0") == RATE / 8 and engine.rate("eth1") is None
    engine.set_link("eth0", EG, LinkProps(rate=RATE / 2), seed=1)
    assert engine.rate("eth0") == RATE / 16
