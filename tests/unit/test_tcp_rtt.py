from __future__ import annotations

import pytest

from nodes.stack.tcp.rtt import RttEstimator


def test_initial_rto_is_one_second_and_backs_off_to_the_cap() -> None:
    r = RttEstimator()
    assert r.rto == 1.0
    seen = []
    for _ in range(9):
        r.back_off()
        seen.append(r.rto)
    assert seen == [2, 4, 8, 16, 32, 64, 120, 120, 120]


def test_rfc6298_first_and_later_samples() -> None:
    r = RttEstimator()
    r.sample(0.5)
    assert r.srtt == 0.5 and r.rttvar == 0.25
    assert r.rto == pytest.approx(0.5 + 4 * 0.25)
    r.sample(0.1)
    assert r.rttvar == pytest.approx(0.75 * 0.25 + 0.25 * 0.4)
    assert r.srtt == pytest.approx(0.875 * 0.5 + 0.125 * 0.1)


def test_min_rto_200ms_like_linux() -> None:
    r = RttEstimator()
    for _ in range(50):
        r.sample(0.001)
    assert r.rto == pytest.approx(0.001 + 0.2, abs=1e-3)  # SRTT + max(4*RTTVAR, 200 ms)
    r.back_off()
    assert r.rto == pytest.approx(2 * (0.001 + 0.2), abs=2e-3)
    r.sample(0.001)  # a new sample clears the backoff (RFC 6298 5.7 is about the timer)
    assert r.backoff == 0


def test_max_rto_120s() -> None:
    r = RttEstimator()
    r.sample(100.0)
    assert r.rto == 120.0
