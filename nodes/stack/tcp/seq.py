"""Sequence-number arithmetic modulo 2**32 (RFC 9293 section 3.4; RFC 1982 style).

On the wire sequence numbers wrap. Inside a connection we keep *absolute* numbers
(plain Python ints that never wrap), converting at the edge: ``unwrap`` maps a 32-bit
wire value to the absolute value nearest a reference, ``wire`` maps back. So buffers,
the SACK scoreboard and the window checks compare ordinary ints.
"""

from __future__ import annotations

MOD = 1 << 32
MASK = MOD - 1
HALF = 1 << 31


def seq_add(a: int, n: int) -> int:
    return (a + n) & MASK


def seq_diff(a: int, b: int) -> int:
    """Signed distance a - b in (-2**31, 2**31]."""
    d = (a - b) & MASK
    return d - MOD if d > HALF else d


def seq_lt(a: int, b: int) -> bool:
    return 0 < ((b - a) & MASK) < HALF


def seq_le(a: int, b: int) -> bool:
    return ((b - a) & MASK) < HALF


def seq_gt(a: int, b: int) -> bool:
    return seq_lt(b, a)


def seq_ge(a: int, b: int) -> bool:
    return seq_le(b, a)


def seq_in(a: int, lo: int, hi: int) -> bool:
    """lo <= a < hi in sequence space (an empty range contains nothing)."""
    return ((a - lo) & MASK) < ((hi - lo) & MASK)


def unwrap(value: int, reference: int) -> int:
    """The absolute number congruent to the 32-bit ``value`` that is nearest ``reference``."""
    d = (value - reference) & MASK
    if d > HALF:
        d -= MOD
    return reference + d


def wire(absolute: int) -> int:
    return absolute & MASK
