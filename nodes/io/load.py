"""How busy a node's event loop is: the saturation guard's measurement.

A loop that spends nearly all its wall time working (not waiting in epoll), or whose
timers fire late, is CPU-bound: what it measures then is our CPU, not the lab's links.
Mininet's users meet this trap; wirelab says so in its results (the transfer report's
``cpu_bound_nodes``, the pytest plugin, ``make bench``).

Sans-I/O: the loop reports each turn's times (its own clock), :class:`LoopLoad` sums
them; the counters are integers (microseconds) so that a reader diffs two snapshots
taken around a measurement (:func:`busy_between`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

LATE_S = 0.001  # a timer wake-up later than this after its deadline counts as late
SATURATED_BUSY = 0.9  # a loop busy this fraction of the wall time is CPU-bound
SATURATED_LATE = 0.2  # ... or one whose timer wake-ups were late this often


@dataclass(slots=True)
class LoopLoad:
    busy: float = 0.0  # seconds of wall time spent working (between waits)
    wall: float = 0.0  # seconds since the first turn began
    wakeups: int = 0  # turns that waited for a deadline and reached it
    late_wakeups: int = 0  # of those, more than LATE_S after it
    late: float = 0.0  # their lateness, summed (seconds)
    _last_end: float | None = None

    def turn(self, start: float, woke: float, end: float, deadline: float | None) -> None:
        """One turn: it began waiting at ``start``, stopped at ``woke``, finished its work
        at ``end``; it waited for ``deadline`` (None: only for input)."""
        last = start if self._last_end is None else self._last_end
        self._last_end = end
        spent = end - last
        self.wall += spent
        worked = spent - (woke - start)
        if worked > 0.0:
            self.busy += worked
        if deadline is not None and woke >= deadline:
            self.wakeups += 1
            late = woke - deadline
            if late > LATE_S:
                self.late_wakeups += 1
                self.late += late

    def counters(self) -> dict[str, int]:
        """Integers for the agent's counters: times in microseconds."""
        return {
            "busy_us": round(self.busy * 1e6),
            "wall_us": round(self.wall * 1e6),
            "wakeups": self.wakeups,
            "late_wakeups": self.late_wakeups,
            "late_us": round(self.late * 1e6),
        }


@dataclass(frozen=True, slots=True)
class LoadFigures:
    busy_fraction: float  # of the wall time between the snapshots
    late_fraction: float  # of the deadline wake-ups between them
    wakeups: int
    seconds: float  # the wall time between them

    @property
    def saturated(self) -> bool:
        return self.busy_fraction >= SATURATED_BUSY or (
            self.wakeups >= 10 and self.late_fraction >= SATURATED_LATE
        )


def busy_between(
    before: Mapping[str, int], after: Mapping[str, int], prefix: str = "io_"
) -> LoadFigures | None:
    """The load between two snapshots of a loop's counters (``io_busy_us`` ... as the
    agent reports them); None when they hold no load counters or no time passed."""
    keys = ("busy_us", "wall_us", "wakeups", "late_wakeups")
    if any(prefix + k not in before or prefix + k not in after for k in keys):
        return None
    busy, wall, wakeups, late = (after[prefix + k] - before[prefix + k] for k in keys)
    if wall <= 0:
        return None
    return LoadFigures(
        busy_fraction=min(1.0, max(0.0, busy / wall)),
        late_fraction=late / wakeups if wakeups > 0 else 0.0,
        wakeups=wakeups,
        seconds=wall / 1e6,
    )
