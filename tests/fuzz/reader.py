"""A byte reader that turns a fuzz input into decisions, like atheris's
FuzzedDataProvider but ours: targets do not depend on atheris (the corpus replays and the
hypothesis fallback run them without it), and the format is simple enough to write seeds
in (:class:`Writer` is its inverse).

Integers are big-endian and taken modulo the range; reading past the end gives zeros
and empty bytes, so every input is valid and a mutated input still decodes.
"""

from __future__ import annotations


class Reader:
    __slots__ = ("_data", "_pos")

    def __init__(self, data: bytes) -> None:
        self._data = data
        self._pos = 0

    def remaining(self) -> int:
        return len(self._data) - self._pos

    def take(self, n: int) -> bytes:
        out = self._data[self._pos : self._pos + n]
        self._pos += len(out)
        return out

    def rest(self) -> bytes:
        return self.take(self.remaining())

    def uint(self, size: int) -> int:
        """An unsigned integer of ``size`` bytes (0 past the end)."""
        return int.from_bytes(self.take(size), "big")

    def pick(self, n: int) -> int:
        """An index in range(n), from one byte (two when n > 256)."""
        return self.uint(1 if n <= 256 else 2) % n

    def chunk(self) -> bytes:
        """A length-prefixed byte string (2-byte length)."""
        return self.take(self.uint(2))


class Writer:
    """Builds inputs that :class:`Reader` reads back: seeds for the corpus."""

    __slots__ = ("_parts",)

    def __init__(self) -> None:
        self._parts: list[bytes] = []

    def uint(self, value: int, size: int) -> Writer:
        self._parts.append(value.to_bytes(size, "big"))
        return self

    def pick(self, index: int, n: int) -> Writer:
        return self.uint(index, 1 if n <= 256 else 2)

    def raw(self, data: bytes) -> Writer:
        self._parts.append(data)
        return self

    def chunk(self, data: bytes) -> Writer:
        return self.uint(len(data), 2).raw(data)

    def build(self) -> bytes:
        return b"".join(self._parts)
