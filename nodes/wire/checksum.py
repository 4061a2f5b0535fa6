"""Internet checksum (RFC 1071), pseudo-header sums and incremental update (RFC 1624).

Sums are computed 16 bits at a time over the whole buffer with one big-integer
conversion: ``int.from_bytes`` of the buffer, folded by repeated shifts. That keeps the
per-byte work in C; there is no per-byte Python loop.

``ones_sum`` is the compiled ``nodes.wire._checksum`` when the installed wheel has it
(setup.py builds it into wheels, never in place), else :func:`ones_sum_pure`, the tested
fallback with the same results (tests/unit/test_wire_checksum_c.py).
"""

from __future__ import annotations

from typing import Protocol

_MASK16 = 0xFFFF
_SPLIT = 600  # bytes: longer buffers are summed in four chunks
_from_bytes = int.from_bytes


def ones_sum_pure(data: bytes | bytearray | memoryview, initial: int = 0) -> int:
    """Return the 16-bit ones' complement sum of ``data`` (odd length padded with 0),
    added to ``initial`` (an unfolded or folded partial sum). Not complemented."""
    # Reading a buffer as one big integer and folding it with mod 0xFFFF is the ones'
    # complement sum of its 16-bit words (2**16 == 1 mod 0xFFFF). An odd length is the
    # value shifted by one byte (the zero pad), without copying. Long buffers are read
    # in four even-aligned chunks whose values add up first: the modulo (a per-digit
    # division in CPython) then runs over a quarter of the digits.
    n = len(data)
    if n > _SPLIT:
        mv = data if isinstance(data, memoryview) else memoryview(data)
        q = (n >> 3) << 1
        value = (
            _from_bytes(mv[:q], "big")
            + _from_bytes(mv[q : 2 * q], "big")
            + _from_bytes(mv[2 * q : 3 * q], "big")
        )
        last = _from_bytes(mv[3 * q :], "big")
        value += last << 8 if n & 1 else last
    else:
        value = _from_bytes(data, "big")
        if n & 1:
            value <<= 8
    total = initial
    if value:
        total += value % _MASK16 or _MASK16
    while total >> 16:
        total = (total & _MASK16) + (total >> 16)
    return total


class OnesSum(Protocol):
    def __call__(self, data: bytes | bytearray | memoryview, initial: int = 0, /) -> int: ...


def _compiled() -> OnesSum | None:
    try:
        from nodes.wire._checksum import ones_sum as compiled
    except ImportError:
        return None
    return compiled


ones_sum_c = _compiled()  # None: this install has no compiled extension
ones_sum: OnesSum = ones_sum_c or ones_sum_pure


def internet_checksum(data: bytes | bytearray | memoryview, initial: int = 0) -> int:
    """The Internet checksum of ``data``: the complement of the ones' complement sum."""
    return (~ones_sum(data, initial)) & _MASK16


def pseudo_header_sum(src: int, dst: int, proto: int, length: int) -> int:
    """Partial sum of the IPv4 pseudo-header used by UDP and TCP (RFC 768/9293)."""
    total = (src >> 16) + (src & _MASK16) + (dst >> 16) + (dst & _MASK16) + proto + length
    while total >> 16:
        total = (total & _MASK16) + (total >> 16)
    return total


def transport_checksum(
    src: int, dst: int, proto: int, segment: bytes | bytearray | memoryview
) -> int:
    """Checksum of a UDP/TCP segment (checksum field zeroed) with its pseudo-header."""
    return internet_checksum(segment, pseudo_header_sum(src, dst, proto, len(segment)))


def verify_transport(
    src: int, dst: int, proto: int, segment: bytes | bytearray | memoryview
) -> bool:
    """True when a segment's checksum (in place) verifies against its pseudo-header."""
    return ones_sum(segment, pseudo_header_sum(src, dst, proto, len(segment))) == _MASK16


def incremental_update(checksum: int, old_word: int, new_word: int) -> int:
    """RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m'), for one 16-bit word changing m -> m'."""
    total = (~checksum & _MASK16) + (~old_word & _MASK16) + new_word
    while total >> 16:
        total = (total & _MASK16) + (total >> 16)
    return (~total) & _MASK16
