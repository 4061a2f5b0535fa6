"""A token bucket computed in virtual time.

Sans-I/O: the caller does not wait; :meth:`TokenBucket.admit` returns the time the frame
leaves the bucket (or None when the queue is full), and the bucket remembers which
frames are still waiting so the queue limit holds at every instant. With CoDel
(:mod:`nodes.faults.codel`) a frame may also be dropped by the AQM at its dequeue time;
``dropped_by_aqm`` then tells the two drops apart."""

from __future__ import annotations

from collections import deque

from .codel import CodelState
from .model import RateLimit


class TokenBucket:
    __slots__ = (
        "_burst",
        "_codel",
        "_limit_bytes",
        "_limit_packets",
        "_queue",
        "_queued_bytes",
        "_rate",
        "_stamp",
        "_tokens",
        "dropped_by_aqm",
    )

    def __init__(self, spec: RateLimit) -> None:
        self._rate = spec.rate_bps / 8.0  # bytes per second
        self._burst = float(spec.burst_bytes)
        self._limit_bytes = spec.queue_limit_bytes
        self._limit_packets = spec.queue_limit_packets
        self._tokens = self._burst  # tokens at time _stamp (may be negative, see RateLimit)
        self._stamp: float | None = None  # departure time of the last admitted frame
        self._queue: deque[tuple[float, int]] = deque()  # (departure, size) still waiting
        self._queued_bytes = 0
        self._codel = None if spec.codel is None else CodelState(spec.codel, self._rate)
        self.dropped_by_aqm = False  # why the last admit() returned None: CoDel, not a full queue

    def admit(self, size: int, now: float) -> float | None:
        """Departure time (>= now) of a ``size``-byte frame arriving at ``now``, or None if
        it must wait and the queue is full, or CoDel drops it at its dequeue (the frame is
        dropped; the bucket is as if it never came)."""
        queue = self._queue
        while queue and queue[0][0] <= now:
            self._queued_bytes -= queue.popleft()[1]
        start = now if self._stamp is None or self._stamp < now else self._stamp  # FIFO
        tokens = self._tokens
        if self._stamp is not None:
            tokens = min(self._burst, tokens + (start - self._stamp) * self._rate)
        need = min(float(size), self._burst)
        departure = start
        if tokens < need:
            departure = start + (need - tokens) / self._rate
            tokens = need
        if departure > now:
            if self._limit_packets is not None and len(queue) + 1 > self._limit_packets:
                self.dropped_by_aqm = False
                return None
            if self._limit_bytes is not None and self._queued_bytes + size > self._limit_bytes:
                self.dropped_by_aqm = False
                return None
        if self._codel is not None and self._codel.drop(departure, departure - now):
            self.dropped_by_aqm = True
            return None
        if departure > now:
            queue.append((departure, size))
            self._queued_bytes += size
        self._tokens = tokens - size
        self._stamp = departure
        return departure

    @property
    def rate(self) -> float:
        """Bytes per second."""
        return self._rate

    def backlog(self, now: float) -> int:
        """Bytes still waiting for the rate at ``now`` (what the queue holds)."""
        queue = self._queue
        while queue and queue[0][0] <= now:
            self._queued_bytes -= queue.popleft()[1]
        return self._queued_bytes

    def drained_to(self, limit: int, now: float) -> float:
        """When, with nothing more arriving, at most ``limit`` bytes still wait: ``now``
        if that holds already, else the departure of the frame whose leaving brings the
        backlog down to ``limit`` (a transmit completion, in the sender's terms)."""
        if self.backlog(now) <= limit:
            return now
        left = self._queued_bytes
        for departure, size in self._queue:  # oldest first: each leaving lowers it
            left -= size
            if left <= limit:
                return departure
        return self._queue[-1][0]  # unreachable with limit >= 0: the last one empties it
