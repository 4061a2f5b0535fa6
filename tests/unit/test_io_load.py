"""The saturation guard's measurement (nodes/io/load.py): busy time and late timers
from a loop's turns, and the load between two snapshots of its counters."""

from __future__ import annotations

import pytest

from nodes.io.load import LoopLoad, busy_between


def test_busy_is_the_wall_time_not_spent_waiting() -> None:
    load = LoopLoad()
    load.turn(0.0, 0.010, 0.012, None)  # waited 10 ms for input, worked 2 ms
    load.turn(0.012, 0.020, 0.030, None)  # waited 8 ms, worked 10 ms
    c = load.counters()
    assert c["wall_us"] == 30_000 and c["busy_us"] == 12_000
    assert c["wakeups"] == 0


def test_a_timer_reached_more_than_1ms_late_counts_as_late() -> None:
    load = LoopLoad()
    load.turn(0.0, 0.0105, 0.011, 0.010)  # 0.5 ms late: on time
    load.turn(0.011, 0.025, 0.026, 0.020)  # 5 ms late
    load.turn(0.026, 0.027, 0.028, 0.030)  # input came before its deadline: no wake-up
    c = load.counters()
    assert (c["wakeups"], c["late_wakeups"], c["late_us"]) == (2, 1, 5000)


def test_the_load_between_two_snapshots_says_whether_the_loop_was_saturated() -> None:
    load = LoopLoad()
    load.turn(0.0, 0.5, 0.6, None)
    before = {f"io_{k}": v for k, v in load.counters().items()}
    for i in range(100):  # 1 s of turns busy 95% of the time
        start = 0.6 + i * 0.01
        load.turn(start, start + 0.0005, start + 0.01, start)
    after = {f"io_{k}": v for k, v in load.counters().items()}
    figures = busy_between(before, after)
    assert figures is not None
    assert figures.busy_fraction == pytest.approx(0.95, abs=0.01)
    assert figures.seconds == pytest.approx(1.0, abs=0.001)
    assert figures.saturated
    idle = busy_between(after, after | {"io_wall_us": after["io_wall_us"] + 1_000_000})
    assert idle is not None and idle.busy_fraction == 0.0 and not idle.saturated


def test_late_timers_alone_make_a_loop_saturated() -> None:
    """A loop descheduled by others (a shared CPU) is not busy itself, but its timers
    fire late: what it measures is still the CPU's, not the lab's."""
    load = LoopLoad()
    before = {f"io_{k}": v for k, v in load.counters().items()}
    start = 0.0
    for _ in range(20):  # each turn waits 50 ms for a timer due after 45 ms, works 0.1 ms
        load.turn(start, start + 0.05, start + 0.0501, start + 0.045)
        start += 0.0501
    after = {f"io_{k}": v for k, v in load.counters().items()}
    figures = busy_between(before, after)
    assert figures is not None and figures.busy_fraction < 0.01
    assert figures.late_fraction == 1.0 and figures.saturated


def test_no_load_counters_no_figures() -> None:
    assert busy_between({"io_turns": 1}, {"io_turns": 2}) is None
