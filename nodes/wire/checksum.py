"""Internet checksum (RFC 1071), pseudo-header sums and incremental update (RFC 1624).

Sums are computed 16 bits at a time over the whole buffer with one big-integer
conversion: ``int.from_bytes`` of the buffer, folded by repeated shifts. That keeps the
per-byte work in C; there is no per-byte Python loop.
"""

from __future__ import annotations

_MASK16 = 0xFFFF


def ones_sum(data: bytes | bytearray | memoryview, initial: int = 0) -> int:
    """Return the 16-bit ones' complement sum of ``data`` (odd length padded with 0),
    added to ``initial`` (an unfolded or folded partial sum). Not complemented."""
    n = len(data)
    if n & 1:
        data = bytes(data) + b"\x00"
        n += 1
    total = initial
    if n:
        # Reading the buffer as one big integer and folding it with mod 0xFFFF is
        # the ones' complement sum of its 16-bit words (2**16 == 1 mod 0xFFFF).
        value = int.from_bytes(data, "big")
        s = value % _MASK16
        if s == 0 and value != 0:
            s = _MASK16
        total += s
    while total >> 16:
        total = (total & _MASK16) + (total >> 16)
    return total


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
