"""Every parser, fed random and mutated bytes, either succeeds or raises a WireError:
never IndexError, struct.error or anything else from below."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from nodes.wire.arp import ArpOp, ArpPacket, parse_arp
from nodes.wire.errors import WireError
from nodes.wire.ethernet import parse_ethernet
from nodes.wire.icmp import (
    IcmpMessage,
    IcmpType,
    build_error,
    build_timestamp,
    parse_icmp,
    parse_quoted,
    parse_timestamp,
)
from nodes.wire.ipv4 import (
    RecordRoute,
    SourceRoute,
    Timestamp,
    build_ipv4,
    encode_options,
    parse_ipv4,
    parse_options,
    record_route_in_place,
)
from nodes.wire.udp import build_udp, parse_udp

FUZZ = settings(max_examples=250, deadline=None)
SRC, DST = 0x0A000001, 0x0A000002


def _accepts(parse: Callable[[], Any]) -> None:
    with contextlib.suppress(WireError):
        parse()


_UDP = build_udp(SRC, DST, 1, 2, b"hello world")
_IP_OPTS = encode_options(
    [
        RecordRoute(8, (1, 0, 0), 15),
        Timestamp(5, 0, 1, ((0, 0),)),
        SourceRoute(False, 4, (3,)),
    ]
)
_IP = build_ipv4(src=SRC, dst=DST, proto=17, payload=_UDP, options=_IP_OPTS)
_ERR = build_error(IcmpType.DEST_UNREACH, 4, _IP, mtu=1400)
_TS = build_timestamp(IcmpType.TIMESTAMP, 1, 2, 3, 4, 5)
SEEDS = [_UDP, _IP, _ERR, _TS, ArpPacket(ArpOp.REQUEST, b"\x02" * 6, 1, b"\x00" * 6, 2).build()]


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    """A valid packet with a few bytes overwritten, and maybe cut or extended."""
    buf = bytearray(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(1, 4))):
        pos = draw(st.integers(0, len(buf) - 1))
        buf[pos] = draw(st.integers(0, 255))
    cut = draw(st.integers(0, len(buf)))
    return bytes(buf[:cut]) + draw(st.binary(max_size=8))


ANY_BYTES = st.one_of(st.binary(max_size=120), mutated())


@FUZZ
@given(ANY_BYTES)
def test_parse_ethernet(data: bytes) -> None:
    _accepts(lambda: parse_ethernet(data))


@FUZZ
@given(ANY_BYTES)
def test_parse_arp(data: bytes) -> None:
    _accepts(lambda: parse_arp(data))


@FUZZ
@given(ANY_BYTES, st.booleans())
def test_parse_ipv4(data: bytes, verify: bool) -> None:
    _accepts(lambda: parse_ipv4(data, verify_checksum=verify))


@FUZZ
@given(st.integers(5, 15), st.binary(min_size=0, max_size=60))
def test_parse_ipv4_random_options(ihl: int, rest: bytes) -> None:
    """Headers with version 4 and any IHL, so random bytes reach the option parser."""
    data = bytes([0x40 | ihl, 0]) + (20 + len(rest)).to_bytes(2, "big") + bytes(16) + rest
    try:
        parse_ipv4(data, verify_checksum=False)
    except WireError:
        return
    buf = bytearray(data)
    if record_route_in_place(buf, 0x01020304):
        parse_ipv4(buf)  # still decodes, checksum now valid


@FUZZ
@given(st.binary(max_size=40))
def test_parse_options(data: bytes) -> None:
    _accepts(lambda: parse_options(data))


@FUZZ
@given(ANY_BYTES, st.booleans())
def test_parse_icmp_quoted_timestamp(data: bytes, verify: bool) -> None:
    try:
        msg = parse_icmp(data, verify_checksum=verify)
    except WireError:
        return
    _accepts(lambda: parse_quoted(msg))
    _accepts(lambda: parse_timestamp(msg))
    assert msg.ident >= 0 and msg.seq >= 0 and msg.pointer >= 0 and msg.next_hop_mtu >= 0


@FUZZ
@given(st.integers(0, 255), st.integers(0, 255), st.integers(0, 2**32 - 1), ANY_BYTES)
def test_parse_quoted_and_timestamp_on_any_message(
    t: int, code: int, rest: int, data: bytes
) -> None:
    msg = IcmpMessage(t, code, 0, rest, memoryview(data))
    _accepts(lambda: parse_quoted(msg))
    _accepts(lambda: parse_timestamp(msg))


@FUZZ
@given(ANY_BYTES, st.booleans(), st.integers(0, 2**32 - 1))
def test_parse_udp(data: bytes, verify: bool, dst: int) -> None:
    _accepts(lambda: parse_udp(data, SRC, dst, verify_checksum=verify))
