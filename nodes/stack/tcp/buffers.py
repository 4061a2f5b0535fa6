"""Send and receive buffers in absolute sequence numbers (see seq.py). Bytes move in
slices (bytearray/memoryview), never one at a time."""

from __future__ import annotations

from bisect import bisect_right


class SendBuffer:
    """Unacknowledged + unsent bytes. ``start`` is the sequence number of the first byte,
    ``end`` one past the last (a plain attribute: the send path reads it per segment)."""

    __slots__ = ("capacity", "data", "end", "start")

    def __init__(self, start: int, capacity: int) -> None:
        self.start = start
        self.end = start
        self.capacity = capacity
        self.data = bytearray()

    def __len__(self) -> int:
        return len(self.data)

    def free(self) -> int:
        return max(0, self.capacity - len(self.data))

    def write(self, data: bytes | bytearray | memoryview) -> int:
        n = min(len(data), self.free())
        if n:
            self.data += data[:n]
            self.end += n
        return n

    def get(self, seq: int, n: int) -> bytes:
        off = seq - self.start
        return bytes(self.data[off : off + n])

    def ack_to(self, seq: int) -> int:
        """Release bytes before ``seq``; returns how many were released."""
        n = min(max(0, seq - self.start), len(self.data))
        if n:
            del self.data[:n]
            self.start += n
        return n


class ReceiveBuffer:
    """In-order bytes waiting for the application plus an out-of-order queue of disjoint
    blocks. ``nxt`` is RCV.NXT for data (absolute)."""

    __slots__ = ("_blocks", "_starts", "capacity", "last_block", "nxt", "ooo_bytes", "ready")

    def __init__(self, nxt: int, capacity: int) -> None:
        self.nxt = nxt
        self.capacity = capacity
        self.ready = bytearray()
        self._starts: list[int] = []
        self._blocks: list[bytearray] = []
        self.ooo_bytes = 0
        self.last_block: tuple[int, int] | None = None

    def free(self) -> int:
        return max(0, self.capacity - len(self.ready))

    def window_end(self) -> int:
        return self.nxt + self.free()

    def has_gaps(self) -> bool:
        return bool(self._starts)

    def add(self, seq: int, data: bytes | memoryview) -> int:
        """Accept ``data`` at ``seq`` (clipped to [nxt, window end)); returns how many bytes
        became readable in order. Duplicates are dropped, overlaps trimmed."""
        end = seq + len(data)
        limit = self.nxt + max(0, self.capacity - len(self.ready))  # window_end()
        if end > limit:
            data = data[: max(0, limit - seq)]
            end = seq + len(data)
        if end <= self.nxt or end <= seq:
            return 0
        if seq < self.nxt:
            data = data[self.nxt - seq :]
            seq = self.nxt
        if seq > self.nxt:
            self._insert(seq, data)
            return 0
        before = len(self.ready)
        self.ready += data
        self.nxt = end
        if self._starts:
            self._drain()
        return len(self.ready) - before

    def _insert(self, seq: int, data: bytes | memoryview) -> None:
        starts, blocks = self._starts, self._blocks
        end = seq + len(data)
        i = bisect_right(starts, seq) - 1
        if i >= 0 and starts[i] + len(blocks[i]) >= seq:
            cur_end = starts[i] + len(blocks[i])
            if end > cur_end:
                blocks[i] += data[cur_end - seq :]
                self.ooo_bytes += end - cur_end
        else:
            i += 1
            starts.insert(i, seq)
            blocks.insert(i, bytearray(data))
            self.ooo_bytes += len(data)
        block_end = starts[i] + len(blocks[i])
        while i + 1 < len(starts) and starts[i + 1] <= block_end:
            nxt_start, nxt_block = starts.pop(i + 1), blocks.pop(i + 1)
            nxt_end = nxt_start + len(nxt_block)
            overlap = block_end - nxt_start
            self.ooo_bytes -= overlap if nxt_end > block_end else len(nxt_block)
            if nxt_end > block_end:
                blocks[i] += nxt_block[overlap:]
                block_end = nxt_end
        self.last_block = (starts[i], block_end)

    def _drain(self) -> None:
        starts, blocks = self._starts, self._blocks
        while starts and starts[0] <= self.nxt:
            start, block = starts.pop(0), blocks.pop(0)
            self.ooo_bytes -= len(block)
            end = start + len(block)
            if end > self.nxt:
                self.ready += block[self.nxt - start :]
                self.nxt = end

    def blocks(self) -> list[tuple[int, int]]:
        return [(s, s + len(b)) for s, b in zip(self._starts, self._blocks, strict=True)]

    def sack_blocks(self, limit: int) -> list[tuple[int, int]]:
        """Up to ``limit`` blocks, the most recently changed first (RFC 2018 section 4)."""
        blocks = self.blocks()
        first = self.last_block
        out: list[tuple[int, int]] = []
        if first is not None:
            for b in blocks:
                if b[0] <= first[0] < b[1]:
                    out.append(b)
                    break
        for b in reversed(blocks):
            if len(out) >= limit:
                break
            if b not in out:
                out.append(b)
        return out[:limit]

    def read(self, n: int) -> bytes:
        ready = self.ready
        if n >= len(ready):  # all of it: one copy, not a slice and then its copy
            out = bytes(ready)
            ready.clear()
            return out
        out = bytes(ready[:n])
        del ready[:n]
        return out
