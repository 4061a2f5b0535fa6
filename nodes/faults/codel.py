"""CoDel (RFC 8289) for the virtual-time token bucket of :mod:`nodes.faults.rate`.

The bucket knows a frame's dequeue time (its departure) when the frame arrives, and its
queue is FIFO, so departures grow in arrival order: running CoDel's dequeue logic for
each frame at admission, with ``now`` = its departure and sojourn = departure - arrival,
visits the frames in exactly the order a real dequeue would. A frame CoDel drops takes
no tokens, so the frames behind it leave earlier, as when a real CoDel drops the head
and sends the next one at once.

State and control law follow the RFC's pseudocode (section 5): ``first_above_time``,
``drop_next``, ``count``, ``lastcount``, ``dropping``; the drop spacing is
``interval / sqrt(count)``; ``count`` restarts from its last value when a new dropping
state begins within 16 intervals of the last one. Where the RFC also requires more than
one MTU of bytes in the queue, this one relies on the target's floor instead (see
:class:`~nodes.faults.model.Codel`): a sojourn above one full frame's transmission time
means more than a frame was queued ahead.
"""

from __future__ import annotations

import math

from .model import Codel

MAX_FRAME = 1514  # bytes: the target is at least this frame's transmission time


class CodelState:
    __slots__ = (
        "count",
        "drop_next",
        "dropping",
        "first_above_time",
        "interval",
        "lastcount",
        "target",
    )

    def __init__(self, spec: Codel, rate_bytes_per_s: float) -> None:
        self.target = max(spec.target, MAX_FRAME / rate_bytes_per_s)
        self.interval = spec.interval
        self.first_above_time = 0.0  # 0: sojourn below target (or not long enough yet)
        self.drop_next = 0.0
        self.count = 0
        self.lastcount = 0
        self.dropping = False

    def _ok_to_drop(self, now: float, sojourn: float) -> bool:
        if sojourn < self.target:
            self.first_above_time = 0.0
            return False
        if self.first_above_time == 0.0:
            self.first_above_time = now + self.interval
            return False
        return now >= self.first_above_time

    def _control_law(self, t: float) -> float:
        return t + self.interval / math.sqrt(self.count)

    def drop(self, now: float, sojourn: float) -> bool:
        """Whether the frame dequeued at ``now`` after waiting ``sojourn`` is dropped."""
        ok = self._ok_to_drop(now, sojourn)
        if self.dropping:
            if not ok:
                self.dropping = False
                return False
            if now >= self.drop_next:
                self.count += 1
                self.drop_next = self._control_law(self.drop_next)
                return True
            return False
        if not ok:
            return False
        self.dropping = True
        delta = self.count - self.lastcount
        recent = now - self.drop_next < 16 * self.interval
        self.count = delta if delta > 1 and recent else 1
        self.drop_next = self._control_law(now)
        self.lastcount = self.count
        return True
