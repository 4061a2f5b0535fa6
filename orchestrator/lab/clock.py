"""A lab's clock: what the service reads lab time from and schedules the lab's own actions
on (the fault timeline, fault deadlines, node-action undo), per backend.

- :class:`RealClock` (docker, sim): wall time (``time.monotonic``); actions run on a
  :class:`~orchestrator.lab.scheduler.Scheduler` thread when their time comes; waiting
  is sleeping.
- :class:`VirtualClock` (virtual): the lab's :class:`~nodes.io.world.World`. Actions are
  the world's control timers: they run inside the world, at their exact virtual instant,
  while somebody lets time pass (a ping, a transfer, ``wirelab wait``); waiting *is*
  letting virtual time pass, as fast as the CPU allows.

``lock`` is what the lab's fault manager serializes on: a virtual lab's is the world's
own lock, so a timeline action (which runs holding the world) and an API call (which
enters the world) always take the two in the same order.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Protocol

from nodes.io.world import World
from orchestrator.lab.scheduler import Scheduler

log = logging.getLogger(__name__)


class LabClock(Protocol):
    virtual: bool

    @property
    def lock(self) -> threading.RLock: ...

    def now(self) -> float:
        """Lab seconds on a monotonic scale (differences are durations)."""

    def stamp(self) -> float:
        """An event's timestamp: Unix time, or a virtual lab's seconds since it began (as
        its nodes' events and captures count)."""

    def call_at(self, when: float, fn: Callable[[], object]) -> None:
        """Run ``fn()`` at lab time ``when`` (errors are logged)."""

    def call_later(self, delay: float, fn: Callable[[], object]) -> None: ...

    def sleep(self, seconds: float, *, deadline: float | None = None) -> None:
        """Let ``seconds`` of lab time pass (``deadline``: a wall ``time.monotonic()``
        bound, for a virtual clock)."""

    def close(self) -> None: ...


class RealClock:
    """Wall time: what a lab of containers (or real-time in-process nodes) lives in."""

    virtual = False

    def __init__(self, name: str) -> None:
        self._scheduler = Scheduler(name)
        self._lock = threading.RLock()

    @property
    def lock(self) -> threading.RLock:
        return self._lock

    def now(self) -> float:
        return time.monotonic()

    def stamp(self) -> float:
        return time.time()

    def call_at(self, when: float, fn: Callable[[], object]) -> None:
        self._scheduler.call_at(when, fn)

    def call_later(self, delay: float, fn: Callable[[], object]) -> None:
        self._scheduler.call_later(delay, fn)

    def pending(self) -> int:
        return self._scheduler.pending()

    def sleep(self, seconds: float, *, deadline: float | None = None) -> None:
        time.sleep(max(0.0, seconds))

    def close(self) -> None:
        self._scheduler.close()


class VirtualClock:
    """A virtual lab's world: its actions are the world's control timers."""

    virtual = True

    def __init__(self, world: World) -> None:
        self.world = world
        self._handles: list[int] = []
        self._closed = False

    @property
    def lock(self) -> threading.RLock:
        return self.world.lock

    def now(self) -> float:
        return self.world.now()

    def stamp(self) -> float:
        return self.world.now()

    def call_at(self, when: float, fn: Callable[[], object]) -> None:
        def run() -> None:
            if self._closed:
                return
            try:
                fn()
            except Exception:
                log.exception("scheduled lab action failed (virtual t=%.6f s)", when)

        with self.world.lock:
            if not self._closed:
                self._handles.append(self.world.call_at(when, run))

    def call_later(self, delay: float, fn: Callable[[], object]) -> None:
        with self.world.lock:
            self.call_at(self.world.now() + max(0.0, delay), fn)

    def pending(self) -> int:
        return self.world.pending_timers()

    def sleep(self, seconds: float, *, deadline: float | None = None) -> None:
        self.world.sleep(max(0.0, seconds), deadline=deadline)

    def close(self) -> None:
        with self.world.lock:
            self._closed = True
            for handle in self._handles:
                self.world.cancel(handle)
            self._handles.clear()
