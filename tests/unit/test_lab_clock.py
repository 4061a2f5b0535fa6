"""A lab's clock (orchestrator/lab/clock.py): wall time on a scheduler thread, or the lab's
world, whose control timers run the lab's actions at their exact virtual instant."""

from __future__ import annotations

import threading
import time

import pytest

from nodes.io.world import World
from orchestrator.lab.clock import RealClock, VirtualClock


def test_the_virtual_clock_runs_actions_when_lab_time_reaches_them() -> None:
    world = World("lab")
    clock = VirtualClock(world)
    assert clock.virtual and clock.lock is world.lock
    seen: list[float] = []
    clock.call_at(2.0, lambda: seen.append(clock.now()))
    clock.call_later(0.5, lambda: seen.append(clock.now()))
    assert seen == [] and clock.pending() == 2
    clock.sleep(1.0)
    assert seen == [0.5] and clock.now() == 1.0
    clock.sleep(5.0)
    assert seen == [0.5, 2.0] and clock.now() == 6.0
    assert clock.stamp() == 6.0  # events carry lab time, as the nodes' own events do


def test_a_failing_action_is_logged_and_the_lab_goes_on(caplog: pytest.LogCaptureFixture) -> None:
    clock = VirtualClock(World())
    seen: list[str] = []
    clock.call_at(1.0, lambda: 1 / 0)
    clock.call_at(1.0, lambda: seen.append("next"))
    clock.sleep(2.0)
    assert seen == ["next"]
    assert "scheduled lab action failed" in caplog.text


def test_closing_the_virtual_clock_cancels_its_actions_only() -> None:
    world = World()
    clock = VirtualClock(world)
    seen: list[str] = []
    clock.call_at(1.0, lambda: seen.append("lab"))
    world.call_at(1.0, lambda: seen.append("other"))
    clock.close()
    clock.call_at(1.5, lambda: seen.append("after close"))
    world.sleep(2.0)
    assert seen == ["other"]


def test_the_real_clock_runs_actions_on_its_thread_in_wall_time() -> None:
    clock = RealClock("lab")
    try:
        assert not clock.virtual
        assert abs(clock.stamp() - time.time()) < 5.0
        done = threading.Event()
        t0 = clock.now()
        clock.call_later(0.05, done.set)
        assert done.wait(5.0)
        assert clock.now() - t0 >= 0.05
        started = time.monotonic()
        clock.sleep(0.02)
        assert time.monotonic() - started >= 0.02
    finally:
        clock.close()
