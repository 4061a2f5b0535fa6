"""The virtual clock of a lab (nodes/io/world.py): turns in name order, time jumping to the
next event, control timers, waits, pauses and the errors."""

from __future__ import annotations

import time
from concurrent.futures import Future

import pytest

from nodes.io.world import (
    EPOCH,
    SeatPaused,
    World,
    WorldDeadline,
    WorldIdle,
    WorldStuck,
)


class Ticker:
    """A member that wakes every ``period`` seconds and logs its turns."""

    def __init__(self, name: str, log: list[tuple[float, str]], period: float | None) -> None:
        self.name, self.log, self.period = name, log, period
        self.next: float | None = None if period is None else EPOCH + period

    def turn(self, now: float) -> float | None:
        self.log.append((now, self.name))
        if self.next is not None and self.next <= now and self.period is not None:
            self.next = now + self.period
        return self.next


def test_members_take_turns_in_name_order_whatever_the_attach_order() -> None:
    log: list[tuple[float, str]] = []
    world = World("w")
    for name in ("c", "a", "b"):
        world.seat(name).attach(Ticker(name, log, None))
    world.settle()
    assert log == [(0.0, "a"), (0.0, "b"), (0.0, "c")]
    world.settle()  # nothing ready, nothing due
    assert len(log) == 3


def test_time_jumps_to_the_next_wakeup_and_stops_at_the_timeout() -> None:
    log: list[tuple[float, str]] = []
    world = World()
    world.seat("fast").attach(Ticker("fast", log, 0.3))
    world.seat("slow").attach(Ticker("slow", log, 1.0))
    world.sleep(1.0)
    assert world.now() == pytest.approx(1.0)
    times = [(round(t, 6), n) for t, n in log]
    assert times == [
        (0.0, "fast"), (0.0, "slow"), (0.3, "fast"), (0.6, "fast"), (0.9, "fast"),
        (1.0, "slow"),
    ]  # fmt: skip
    assert world.steps == 4


def test_control_timers_run_at_their_instant_before_the_members_and_can_be_cancelled() -> None:
    log: list[tuple[float, str]] = []
    world = World()
    seat = world.seat("n")
    seat.attach(Ticker("n", log, None))

    def timer() -> None:
        log.append((world.now(), "timer"))
        seat.mark()

    world.call_at(2.0, timer)
    handle = world.call_later(1.0, lambda: log.append((world.now(), "cancelled")))
    world.cancel(handle)
    world.call_at(2.0, lambda: log.append((world.now(), "second")))
    world.sleep(5.0)
    assert log == [(0.0, "n"), (2.0, "timer"), (2.0, "second"), (2.0, "n")]
    assert world.now() == 5.0
    assert world.pending_timers() == 0


def test_run_until_a_predicate_holds_and_wait_for_a_future() -> None:
    world = World()
    future: Future[str] = Future()
    world.call_at(3.5, lambda: future.set_result("done"))
    assert world.wait(future) == "done"
    assert world.now() == 3.5
    assert world.run(lambda: world.now() >= 10.0, timeout=2.0) is False
    assert world.now() == 5.5


def test_a_wait_that_nothing_can_end_is_idle_and_a_timeout_ends_it() -> None:
    world = World()
    future: Future[int] = Future()
    with pytest.raises(WorldIdle):
        world.wait(future)
    with pytest.raises(TimeoutError):
        world.wait(future, timeout=1.0)
    assert world.now() == 1.0


def test_a_member_always_due_is_stuck() -> None:
    class Spinner:
        def turn(self, now: float) -> float:
            return now  # due again at once, forever

    world = World("spin")
    world.seat("s").attach(Spinner())
    with pytest.raises(WorldStuck, match="without time moving"):
        world.settle()


def test_the_wall_deadline_ends_a_long_virtual_run() -> None:
    world = World()
    world.seat("t").attach(Ticker("t", [], 1e-6))
    with pytest.raises(WorldDeadline):
        world.run(lambda: False, deadline=time.monotonic() + 0.05)
    assert world.now() > 0


def test_cancelled_ends_a_run_without_error() -> None:
    world = World()
    world.seat("t").attach(Ticker("t", [], 0.1))
    calls = iter(range(10))
    assert world.run(lambda: False, cancelled=lambda: next(calls) >= 3) is False
    assert world.now() == pytest.approx(0.3)


def test_a_paused_member_takes_no_turns_and_refuses_calls_then_catches_up() -> None:
    log: list[tuple[float, str]] = []
    world = World()
    seat = world.seat("n")
    seat.attach(Ticker("n", log, 1.0))
    world.settle()
    world.pause("n")
    with pytest.raises(SeatPaused):
        seat.call(lambda: 1)
    world.sleep(3.0)
    assert log == [(0.0, "n")]
    world.unpause("n")
    world.settle()  # the overdue timer fires at once
    assert log == [(0.0, "n"), (3.0, "n")]
    assert seat.call(lambda: 7).result() == 7


def test_a_call_runs_at_once_and_the_member_acts_on_it_when_time_next_passes() -> None:
    log: list[tuple[float, str]] = []
    world = World()
    seat = world.seat("n")
    seat.attach(Ticker("n", log, None))
    world.settle()
    world.sleep(2.0)
    future = seat.call(lambda: world.now())
    assert future.result() == 2.0
    assert log == [(0.0, "n")]  # no turn inside the call
    world.sleep(0.0)
    assert log == [(0.0, "n"), (2.0, "n")]
    failed = seat.call(lambda: 1 / 0)
    assert isinstance(failed.exception(), ZeroDivisionError)


def test_detached_members_are_gone_and_names_are_unique() -> None:
    log: list[tuple[float, str]] = []
    world = World()
    seat = world.seat("n")
    seat.attach(Ticker("n", log, 1.0))
    with pytest.raises(ValueError, match="attached already"):
        world.seat("n").attach(Ticker("n", log, 1.0))
    seat.detach()
    assert not seat.attached and world.members() == []
    world.sleep(5.0)
    assert log == []
