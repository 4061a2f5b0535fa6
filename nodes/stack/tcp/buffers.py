"""Send and receive buffers in absolute sequence numbers (see seq.py). Bytes move in
slices (bytearray/memoryview), never one at a time."""

from __future__ import annotations

from bisect import bisect_right
from collections import deque


def frozen(data: bytes | bytearray | memoryview) -> bytes | memoryview:
    """``data`` itself when nobody can change it later (``bytes``, or a contiguous
    read-only byte view of ``bytes``: a received frame, an application's bytes), else a
    copy, as a socket's send() copies: what the buffers below keep."""
    if type(data) is bytes:
        return data
    if (
        type(data) is memoryview
        and data.readonly
        and type(data.obj) is bytes
        and data.contiguous
        and data.itemsize == 1
    ):
        return data
    return bytes(data)


class SendBuffer:
    """Unacknowledged + unsent bytes. ``start`` is the sequence number of the first byte,
    ``end`` one past the last (a plain attribute: the send path reads it per segment).

    The bytes are kept as the chunks the application wrote: immutable data (``bytes``, or
    a read-only memoryview of ``bytes``) by reference, anything else as a copy, like a
    socket's send(). So a write costs at most one copy and never moves what is already
    queued (a single bytearray grown at the end and cut at the front moved the whole
    queue on reallocation: 14% of a jumbo-frame sender), and :meth:`get` slices one
    chunk (no copy for a view) unless a segment spans two."""

    __slots__ = ("_chunks", "_head", "_starts", "capacity", "end", "start")

    def __init__(self, start: int, capacity: int) -> None:
        self.start = start
        self.end = start
        self.capacity = capacity
        self._chunks: list[bytes | memoryview] = []
        self._starts: list[int] = []  # sequence number of each chunk's first byte
        self._head = 0  # the first chunk still (partly) unacknowledged

    def __len__(self) -> int:
        return self.end - self.start

    def free(self) -> int:
        return max(0, self.capacity - (self.end - self.start))

    def write(self, data: bytes | bytearray | memoryview) -> int:
        n = min(len(data), self.capacity - (self.end - self.start))
        if n <= 0:
            return 0
        if n < len(data):
            data = memoryview(data)[:n]
        self._chunks.append(frozen(data))
        self._starts.append(self.end)
        self.end += n
        return n

    def get(self, seq: int, n: int) -> bytes | memoryview:
        """``n`` bytes from ``seq`` (within [start, end))."""
        starts = self._starts
        i = bisect_right(starts, seq, self._head) - 1
        chunk = self._chunks[i]
        off = seq - starts[i]
        if off + n <= len(chunk):
            return chunk[off : off + n]
        parts = [chunk[off:]]
        got = len(parts[0])
        while got < n:
            i += 1
            part = self._chunks[i][: n - got]
            parts.append(part)
            got += len(part)
        return b"".join(parts)

    def ack_to(self, seq: int) -> int:
        """Release bytes before ``seq``; returns how many were released."""
        n = min(max(0, seq - self.start), self.end - self.start)
        if n:
            self.start += n
            starts, head = self._starts, self._head
            last = len(starts) - 1
            while head < last and starts[head + 1] <= self.start:
                head += 1
            if head >= 64 and 2 * head >= len(starts):  # drop released chunks in bulk
                del starts[:head]
                del self._chunks[:head]
                head = 0
            self._head = head
        return n


class ByteQueue:
    """In-order bytes waiting for the application, as the chunks that arrived: views of
    received frames are kept by reference when they are immutable (a frame read from a
    raw socket is ``bytes``), anything else is copied; :meth:`read` copies once. (A single
    bytearray appended to and cut at the front moved its whole content on reallocation:
    ~12% of a jumbo-frame receiver.)"""

    __slots__ = ("_chunks", "_len")

    def __init__(self) -> None:
        self._chunks: deque[bytes | memoryview] = deque()
        self._len = 0

    def __len__(self) -> int:
        return self._len

    def __bool__(self) -> bool:
        return self._len > 0

    def __bytes__(self) -> bytes:
        return b"".join(self._chunks)

    def append(self, data: bytes | bytearray | memoryview) -> None:
        n = len(data)
        if n:
            self._chunks.append(frozen(data))
            self._len += n

    def read(self, n: int) -> bytes:
        """Up to ``n`` bytes from the front."""
        chunks = self._chunks
        if n >= self._len:
            out = b"".join(chunks)
            chunks.clear()
            self._len = 0
            return out
        parts = []
        need = n
        while need:
            chunk = chunks[0]
            if len(chunk) <= need:
                parts.append(chunks.popleft())
                need -= len(chunk)
            else:
                parts.append(chunk[:need])
                chunks[0] = chunk[need:]
                need = 0
        self._len -= n
        return b"".join(parts)


class ReceiveBuffer:
    """In-order bytes waiting for the application plus an out-of-order queue of disjoint
    blocks. ``nxt`` is RCV.NXT for data (absolute)."""

    __slots__ = ("_blocks", "_starts", "capacity", "last_block", "nxt", "ooo_bytes", "ready")

    def __init__(self, nxt: int, capacity: int) -> None:
        self.nxt = nxt
        self.capacity = capacity
        self.ready = ByteQueue()
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
        self.ready.append(data)
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
                self.ready.append(bytes(memoryview(block)[self.nxt - start :]))  # one copy
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
        return self.ready.read(n)
