"""CoDel (RFC 8289) on the token bucket's queue: its state machine, and its effect."""

from __future__ import annotations

import itertools
import math

import pytest

from nodes.faults import Codel, RateLimit
from nodes.faults.codel import CodelState
from nodes.faults.rate import TokenBucket

FAST = 1e9  # bytes/s: the target floor (one frame's time) stays far below 5 ms


def test_no_drop_while_the_sojourn_stays_below_target() -> None:
    c = CodelState(Codel(), FAST)
    assert not any(c.drop(t * 0.001, 0.0049) for t in range(10_000))


def test_first_drop_after_a_whole_interval_above_target_then_faster_and_faster() -> None:
    c = CodelState(Codel(target=0.005, interval=0.1), FAST)
    drops = [t / 1e4 for t in range(40_000) if c.drop(t / 1e4, 0.050)]  # 10 kHz dequeues
    assert drops[0] == pytest.approx(0.1)  # above target since t=0: drop once it lasted 100 ms
    gaps = [b - a for a, b in itertools.pairwise(drops)]
    for count, gap in enumerate(gaps[:20], start=1):  # interval / sqrt(count)
        assert gap == pytest.approx(0.1 / math.sqrt(count), abs=2e-4)


def test_leaving_and_soon_reentering_the_dropping_state_keeps_the_drop_rate() -> None:
    c = CodelState(Codel(), FAST)
    t = 0.0
    while c.count < 9:  # a long dropping state
        c.drop(t, 0.05)
        t += 1e-4
    c.drop(t, 0.0)  # the queue drained: the dropping state ends
    assert not c.dropping
    t += 0.05
    while not c.drop(t, 0.05):  # above target again, within 16 intervals
        t += 1e-4
    assert c.count > 1  # resumes near the last drop rate (RFC 8289 / Linux)


def test_target_is_at_least_one_full_frame_time() -> None:
    assert CodelState(Codel(target=0.005), 1e6 / 8).target == pytest.approx(1514 * 8 / 1e6)
    assert CodelState(Codel(target=0.005), 100e6 / 8).target == 0.005


def test_the_bucket_drops_by_aqm_without_spending_tokens() -> None:
    """A frame CoDel drops at its dequeue takes no tokens: the next one leaves when the
    dropped one would have; a full queue's drop is not CoDel's."""
    bucket = TokenBucket(RateLimit(8e6, queue_limit_packets=200, codel=Codel()))  # 1 MB/s
    departures: list[float] = []
    now = 0.0
    while True:  # 1000-byte frames at twice the rate: a standing queue grows
        departure = bucket.admit(1000, now)
        if departure is None:
            break
        departures.append(departure)
        now += 0.0005
    assert bucket.dropped_by_aqm
    sojourn = departures[-1] - (now - 0.0005)
    assert sojourn > 0.005 and departures[-1] >= 0.1  # above target for a whole interval
    assert bucket.admit(1000, now) == pytest.approx(departures[-1] + 0.001)
    for _ in range(300):
        if bucket.admit(1000, now) is None and not bucket.dropped_by_aqm:
            break
    else:
        pytest.fail("the 200-packet queue never filled")
