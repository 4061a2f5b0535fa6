"""One virtual clock for a whole lab: the nodes of a lab take turns in one process, and
time jumps to the next thing that can happen instead of passing by itself.

A :class:`World` holds its members (one per node, keyed by the node's name), a set of
members that have input waiting (a frame arrived, a command ran), each member's next
wake-up time, and control timers (the lab's fault timeline, fault expiry). Time moves
only inside :meth:`World.run` (and :meth:`World.sleep` / :meth:`World.wait`, built on
it): whoever waits for something in the lab (a ping's reply, a transfer's end, ``wirelab
wait``) drives the world until it happens, and the clock runs as fast as the CPU allows.
An idle lab's clock stands still.

Determinism: at each instant the due control timers run first (in the order they were
set), then the members take turns in the order of their names until none has anything
due at that instant; only then does the clock move on. Nothing depends on threads,
wall time or hashing, so the same members given the same calls do the same thing.

Thread safety: one re-entrant lock (:attr:`World.lock`) guards everything; a :class:`Seat`
(a node's place in the world) takes it for each call, and :meth:`World.run` holds it while
time moves, so a call from another thread waits for the current operation to end. A call
only marks its node ready: turns are taken only while time is let pass, so configuring
nodes in parallel threads, say, gives the same lab as configuring them one by one.

Errors: :class:`WorldStuck` when members keep being due without time moving (a bug: a
timer that never advances), :class:`WorldDeadline` when the wall-clock deadline of the
caller passes first, :class:`WorldIdle` when a wait can never end (nothing will ever
happen again and no virtual timeout was given).
"""

from __future__ import annotations

import heapq
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from typing import Protocol, TypeVar

T = TypeVar("T")

EPOCH = 0.0  # virtual time when a world is made
MAX_TURNS_AT_ONCE = 100_000  # turns at one instant before the world is declared stuck


class WorldError(RuntimeError):
    """Base of the world's errors."""


class WorldStuck(WorldError):
    """Members kept being due without the clock moving."""


class WorldDeadline(WorldError, TimeoutError):
    """The caller's wall-clock deadline passed before what it waited for happened."""


class WorldIdle(WorldError):
    """Nothing will ever happen again, and the wait had no virtual timeout."""


class SeatPaused(WorldError):
    """A call reached a paused member (a frozen node runs nothing)."""


class Member(Protocol):
    """A node's event loop, driven: runs what is due at ``now`` and says when it next
    needs a turn (None: only when input arrives)."""

    def turn(self, now: float) -> float | None: ...


class World:
    def __init__(self, name: str = "") -> None:
        self.name = name
        self.lock = threading.RLock()
        self._now = EPOCH
        self._members: dict[str, Member] = {}
        self._order: list[str] = []  # member names, sorted
        self._wake: dict[str, float] = {}  # a member's next wake-up (absent: none)
        self._ready: set[str] = set()  # input waiting
        self._paused: set[str] = set()
        self._timers: list[tuple[float, int, Callable[[], object]]] = []
        self._cancelled: set[int] = set()
        self._seq = 0
        self.turns = 0  # member turns taken (all time)
        self.steps = 0  # distinct instants the clock stopped at

    # ---- the clock ---------------------------------------------------------------------
    def now(self) -> float:
        return self._now

    # ---- members -----------------------------------------------------------------------
    def seat(self, name: str) -> Seat:
        """A member's place (not attached yet)."""
        return Seat(self, name)

    def _attach(self, name: str, member: Member) -> None:
        with self.lock:
            if name in self._members:
                raise ValueError(f"world {self.name}: {name} is attached already")
            self._members[name] = member
            self._order = sorted(self._members)
            self._ready.add(name)

    def _detach(self, name: str) -> None:
        with self.lock:
            if self._members.pop(name, None) is not None:
                self._order = sorted(self._members)
            self._wake.pop(name, None)
            self._ready.discard(name)
            self._paused.discard(name)

    def members(self) -> list[str]:
        with self.lock:
            return list(self._order)

    def mark(self, name: str) -> None:
        """``name`` has input waiting (a frame, a command): it takes a turn at once."""
        self._ready.add(name)

    def pause(self, name: str) -> None:
        with self.lock:
            self._paused.add(name)

    def unpause(self, name: str) -> None:
        with self.lock:
            self._paused.discard(name)
            self._ready.add(name)  # overdue timers fire, queued frames are read

    def paused(self, name: str) -> bool:
        return name in self._paused

    # ---- control timers ------------------------------------------------------------------
    def call_at(self, when: float, fn: Callable[[], object]) -> int:
        """Run ``fn()`` when the clock reaches ``when`` (at once on the next step if that is
        past); returns a handle for :meth:`cancel`."""
        with self.lock:
            self._seq += 1
            heapq.heappush(self._timers, (max(when, self._now), self._seq, fn))
            return self._seq

    def call_later(self, delay: float, fn: Callable[[], object]) -> int:
        with self.lock:
            return self.call_at(self._now + max(0.0, delay), fn)

    def cancel(self, handle: int) -> None:
        with self.lock:
            self._cancelled.add(handle)

    def cancel_timers(self) -> None:
        with self.lock:
            self._timers.clear()
            self._cancelled.clear()

    def pending_timers(self) -> int:
        with self.lock:
            return sum(1 for _, seq, _ in self._timers if seq not in self._cancelled)

    # ---- time moving -----------------------------------------------------------------------
    def settle(self) -> None:
        """Give turns at the current instant until no member has anything due now."""
        with self.lock:
            now = self._now
            taken = 0
            while True:
                due = [
                    n
                    for n in self._order
                    if n not in self._paused
                    and (n in self._ready or (n in self._wake and self._wake[n] <= now))
                ]
                if not due:
                    return
                for name in due:
                    member = self._members.get(name)
                    if member is None:  # detached by an earlier turn's consequences
                        continue
                    self._ready.discard(name)
                    wake = member.turn(now)
                    if name not in self._members:
                        continue
                    if wake is None:
                        self._wake.pop(name, None)
                    else:
                        self._wake[name] = wake
                    taken += 1
                self.turns += len(due)
                if taken > MAX_TURNS_AT_ONCE:
                    stuck = ", ".join(due[:5])
                    raise WorldStuck(
                        f"world {self.name}: {taken} turns at t={now:.6f} s without time "
                        f"moving (still due: {stuck})"
                    )

    def next_time(self) -> float | None:
        """When something next happens (a member's wake-up, a control timer)."""
        with self.lock:
            self._drop_cancelled()
            best = self._timers[0][0] if self._timers else None
            for name, at in self._wake.items():
                if name not in self._paused and (best is None or at < best):
                    best = at
            return best

    def _drop_cancelled(self) -> None:
        timers = self._timers
        while timers and timers[0][1] in self._cancelled:
            self._cancelled.discard(heapq.heappop(timers)[1])

    def _advance(self, limit: float | None) -> bool:
        """Move to the next instant something happens, if it is not after ``limit``, and
        run it; False when nothing happens until ``limit`` (the clock then stands at
        ``limit``, or where it was when ``limit`` is None)."""
        self.settle()
        at = self.next_time()
        if at is None or (limit is not None and at > limit):
            if limit is not None and limit > self._now:
                self._now = limit
            return False
        if at > self._now:
            self._now = at
            self.steps += 1
        timers = self._timers
        while True:
            self._drop_cancelled()
            if not timers or timers[0][0] > self._now:
                break
            _, _, fn = heapq.heappop(timers)
            fn()
        self.settle()
        return True

    def run(
        self,
        predicate: Callable[[], bool] | None = None,
        *,
        timeout: float | None = None,
        deadline: float | None = None,
        cancelled: Callable[[], bool] | None = None,
    ) -> bool:
        """Let time pass until ``predicate()`` holds (True), ``timeout`` virtual seconds
        have passed or ``cancelled()`` holds (False). ``deadline`` is a wall-clock
        ``time.monotonic()`` value: WorldDeadline once it passes. Without a timeout,
        WorldIdle when nothing can happen any more and the predicate still fails."""
        with self.lock:
            limit = None if timeout is None else self._now + max(0.0, timeout)
            self.settle()
            while True:
                if predicate is not None and predicate():
                    return True
                if cancelled is not None and cancelled():
                    return False
                if deadline is not None and time.monotonic() >= deadline:
                    raise WorldDeadline(
                        f"world {self.name}: the wall-clock deadline passed at virtual "
                        f"t={self._now:.3f} s"
                    )
                if limit is not None and self._now >= limit:
                    self._advance(limit)  # what is due exactly at the limit
                    return predicate is not None and predicate()
                if not self._advance(limit):
                    if limit is None:
                        if predicate is None:
                            return False
                        raise WorldIdle(
                            f"world {self.name}: nothing left to happen at t={self._now:.3f} s"
                        )
                    continue

    def sleep(self, seconds: float, *, deadline: float | None = None) -> None:
        """Let ``seconds`` of virtual time pass (everything due meanwhile happens)."""
        self.run(timeout=seconds, deadline=deadline)

    def wait(
        self,
        future: Future[T],
        timeout: float | None = None,
        *,
        deadline: float | None = None,
        cancelled: Callable[[], bool] | None = None,
    ) -> T:
        """Drive the world until ``future`` is done and return its result (TimeoutError
        after ``timeout`` virtual seconds or when cancelled)."""
        if not self.run(future.done, timeout=timeout, deadline=deadline, cancelled=cancelled):
            raise TimeoutError(f"world {self.name}: not done in {timeout} virtual s")
        return future.result(0)


class Seat:
    """A node's place in a :class:`World`: the runtime attaches its driven runner here and
    makes every call into its stack through :meth:`call`."""

    def __init__(self, world: World, name: str) -> None:
        self.world = world
        self.name = name

    def attach(self, member: Member) -> None:
        self.world._attach(self.name, member)

    def detach(self) -> None:
        self.world._detach(self.name)

    @property
    def attached(self) -> bool:
        return self.name in self.world._members

    @property
    def paused(self) -> bool:
        return self.world.paused(self.name)

    def mark(self) -> None:
        with self.world.lock:
            self.world.mark(self.name)

    def call(self, fn: Callable[[], T]) -> Future[T]:
        """Run ``fn()`` now, at the current virtual instant, and give the node a turn at
        this same instant the next time the world runs (its output leaves then, what it
        made due runs). Nothing else runs here: which calls happen between two waits, in
        whichever threads, cannot change what the nodes do. SeatPaused for a paused node."""
        future: Future[T] = Future()
        world = self.world
        with world.lock:
            if world.paused(self.name):
                raise SeatPaused(f"{self.name} is paused")
            try:
                future.set_result(fn())
            except Exception as exc:
                future.set_exception(exc)
            world.mark(self.name)
        return future

    def wait(
        self,
        future: Future[T],
        timeout: float | None = None,
        *,
        deadline: float | None = None,
        cancelled: Callable[[], bool] | None = None,
    ) -> T:
        return self.world.wait(future, timeout, deadline=deadline, cancelled=cancelled)
