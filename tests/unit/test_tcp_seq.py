from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from nodes.stack.tcp.seq import (
    MASK,
    seq_add,
    seq_diff,
    seq_ge,
    seq_gt,
    seq_in,
    seq_le,
    seq_lt,
    unwrap,
    wire,
)


def test_comparisons_across_the_wrap() -> None:
    assert seq_lt(0xFFFFFFF0, 0x10)
    assert seq_gt(0x10, 0xFFFFFFF0)
    assert seq_le(5, 5) and seq_ge(5, 5) and not seq_lt(5, 5)
    assert seq_add(0xFFFFFFFF, 2) == 1
    assert seq_diff(1, 0xFFFFFFFF) == 2
    assert seq_diff(0xFFFFFFFF, 1) == -2
    assert seq_in(0xFFFFFFFE, 0xFFFFFFF0, 0x20)
    assert not seq_in(0x20, 0xFFFFFFF0, 0x20)
    assert not seq_in(5, 5, 5)


def test_unwrap_picks_the_nearest_absolute_value() -> None:
    ref = (1 << 32) + 100  # one wrap in
    assert unwrap(150, ref) == ref + 50
    assert unwrap(50, ref) == ref - 50
    assert unwrap(0xFFFFFF00, ref) == ref - 100 - 0x100
    assert wire(ref + 50) == 150


u32 = st.integers(0, MASK)


@given(u32, st.integers(-(2**31) + 1, 2**31 - 1))
def test_unwrap_inverts_wire(ref: int, delta: int) -> None:
    base = ref + (1 << 40)
    assert unwrap(wire(base + delta), base) == base + delta
    assert seq_diff(wire(base + delta), wire(base)) == delta
    assert seq_lt(wire(base), wire(base + delta)) == (delta > 0)
