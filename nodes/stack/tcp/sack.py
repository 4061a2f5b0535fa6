"""The sender's SACK scoreboard (RFC 6675): disjoint, sorted SACKed ranges above SND.UNA,
in absolute sequence numbers, and the loss queries recovery needs."""

from __future__ import annotations

from bisect import bisect_right

DUP_THRESH = 3


class Scoreboard:
    __slots__ = ("ends", "sacked", "starts")

    def __init__(self) -> None:
        self.starts: list[int] = []
        self.ends: list[int] = []
        self.sacked = 0  # total SACKed bytes

    def __bool__(self) -> bool:
        return bool(self.starts)

    def clear(self) -> None:
        self.starts.clear()
        self.ends.clear()
        self.sacked = 0

    def add(self, start: int, end: int) -> int:
        """Record [start, end); returns how many bytes were newly SACKed."""
        if end <= start:
            return 0
        starts, ends = self.starts, self.ends
        i = bisect_right(starts, start) - 1
        if i >= 0 and ends[i] >= start:
            start = starts[i]
        else:
            i += 1
        j = i
        covered = 0
        new_end = end
        while j < len(starts) and starts[j] <= new_end:
            new_end = max(new_end, ends[j])
            covered += ends[j] - starts[j]
            j += 1
        del starts[i:j]
        del ends[i:j]
        starts.insert(i, start)
        ends.insert(i, new_end)
        added = (new_end - start) - covered
        self.sacked += added
        return added

    def ack(self, una: int) -> None:
        """Forget everything below the cumulative ACK point."""
        starts, ends = self.starts, self.ends
        while starts and ends[0] <= una:
            self.sacked -= ends[0] - starts[0]
            del starts[0]
            del ends[0]
        if starts and starts[0] < una:
            self.sacked -= una - starts[0]
            starts[0] = una

    def skip_sacked(self, seq: int) -> int:
        """``seq`` if it is not SACKed, else the end of the SACKed range containing it."""
        i = bisect_right(self.starts, seq) - 1
        if i >= 0 and self.ends[i] > seq:
            return self.ends[i]
        return seq

    def next_sacked_start(self, seq: int) -> int | None:
        """The start of the first SACKed range above ``seq``."""
        i = bisect_right(self.starts, seq)
        return self.starts[i] if i < len(self.starts) else None

    def sacked_in(self, lo: int, hi: int) -> int:
        total = 0
        for s, e in zip(self.starts, self.ends, strict=True):
            if s >= hi:
                break
            if e > lo:
                total += min(e, hi) - max(s, lo)
        return total

    def lost_boundary(self, mss: int, dupthresh: int = DUP_THRESH) -> int:
        """RFC 6675 IsLost: an unSACKed byte below the returned point has more than
        (DupThresh-1)*SMSS bytes, or DupThresh discontiguous ranges, SACKed above it.
        Returns 0 (nothing lost) when no such point exists."""
        limit = (dupthresh - 1) * mss
        cum = 0
        for k in range(len(self.starts) - 1, -1, -1):
            cum += self.ends[k] - self.starts[k]
            if cum > limit or len(self.starts) - k >= dupthresh:
                return self.starts[k]
        return 0

    def highest(self) -> int:
        return self.ends[-1] if self.ends else 0
