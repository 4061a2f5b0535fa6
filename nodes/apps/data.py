"""Deterministic pseudo-random payloads: the same ``(seed, size)`` always gives the same
bytes, generated block by block so a multi-gigabyte stream never sits in memory.

Block 0 is 64 KiB of Python's Mersenne Twister seeded with ``seed``
(``random.Random(seed).randbytes(65536)``); block ``k`` is block 0 rotated left by
``k * 4099 % 65536`` bytes; the last block is cut to size. Any Python 3.9+ reproduces it
(a Linux peer's sender script does, orchestrator/linuxtools.py). A rotation is a slice of
block 0 twice over (no copy); drawing costs ~2.3 ns a byte: at bulk rates a draw per
block was 7% of a sender's CPU. A segment misplaced by whole blocks still breaks the
sha256 (each block differs from the others).
"""

from __future__ import annotations

import random
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from hashlib import _Hash

BLOCK = 65536
ROTATE = 4099  # bytes of rotation per block (odd: no two of the 16 first blocks align)


def sha256() -> _Hash:
    """A new sha256 hash object, imported when first asked for: an idle node never loads
    hashlib's OpenSSL backend (libcrypto, ~3.7 MB resident). OpenSSL's sha256 is taken
    even when ``hashlib`` was imported without it (the node launcher,
    nodes/agent/launch.py, keeps ``_hashlib`` out during start-up): the builtin one is
    ~3.6x slower, too slow for bulk transfers."""
    try:
        import _hashlib
    except ImportError:  # a Python built without OpenSSL
        import hashlib

        return hashlib.sha256()
    return _hashlib.openssl_sha256()


class PatternStream:
    """``size`` bytes from ``seed``; read with ``peek``/``advance`` (no copies) or ``read``."""

    __slots__ = ("_block", "_double", "_index", "_pos", "remaining", "seed", "size")

    def __init__(self, seed: int, size: int) -> None:
        if size < 0:
            raise ValueError(f"size must be >= 0, got {size}")
        self.size = size
        self.remaining = size
        self.seed = seed
        self._double = memoryview(b"")  # block 0 twice: every rotation is a slice of it
        self._index = 0
        self._block = memoryview(b"")
        self._pos = 0

    def peek(self, n: int = BLOCK) -> memoryview:
        """Up to ``n`` next bytes without consuming them (empty at the end)."""
        if self._pos >= len(self._block):
            if self.remaining <= 0:
                return memoryview(b"")
            self._block = self._next_block()[: self.remaining]
            self._pos = 0
        return self._block[self._pos : self._pos + n]

    def _next_block(self) -> memoryview:
        if not self._double:
            base = random.Random(self.seed).randbytes(BLOCK)
            self._double = memoryview(base + base)
        shift = self._index * ROTATE % BLOCK
        self._index += 1
        return self._double[shift : shift + BLOCK]  # no copy

    def advance(self, n: int) -> None:
        """Consume ``n`` bytes of what ``peek`` returned."""
        self._pos += n
        self.remaining -= n

    def read(self, n: int = BLOCK) -> bytes:
        out = bytes(self.peek(n))
        self.advance(len(out))
        return out


def pattern_bytes(size: int, seed: int = 0) -> bytes:
    """The whole stream at once (for small sizes and tests)."""
    stream = PatternStream(seed, size)
    return b"".join(iter(lambda: stream.read(BLOCK), b""))


def pattern_sha256(size: int, seed: int = 0) -> str:
    """Hex sha256 of the stream, computed block by block."""
    digest = sha256()
    stream = PatternStream(seed, size)
    while block := stream.peek(BLOCK):
        digest.update(block)
        stream.advance(len(block))
    return digest.hexdigest()
