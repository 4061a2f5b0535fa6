"""nodes/wire/icmp.py: echo, errors (every unreachable code, frag-needed MTU, time
exceeded, parameter problem, redirect), timestamps and quoted packets, against scapy."""

from __future__ import annotations

from typing import Any

import pytest
from scapy.layers.inet import ICMP, IP, UDP, IPerror, TCPerror, UDPerror
from scapy.packet import Raw

from nodes.wire.addr import ip_from_str
from nodes.wire.errors import BadChecksum, Malformed, Truncated, WireError
from nodes.wire.icmp import (
    ICMP_ERROR_TYPES,
    ICMP_HLEN,
    IcmpMessage,
    IcmpType,
    ParamProblemCode,
    QuotedPacket,
    TimeExceededCode,
    UnreachCode,
    build_echo,
    build_error,
    build_icmp,
    build_timestamp,
    parse_icmp,
    parse_quoted,
    parse_timestamp,
    quote_length,
)
from nodes.wire.ipv4 import IPProto, RecordRoute, build_ipv4, encode_options, parse_ipv4
from nodes.wire.udp import build_udp

A = ip_from_str
SRC = A("192.0.2.1")
DST = A("198.51.100.7")


def _offending_udp(payload: bytes = b"0123456789abcdef", **kw: Any) -> bytes:
    return build_ipv4(
        src=SRC,
        dst=DST,
        proto=IPProto.UDP,
        payload=build_udp(SRC, DST, 40000, 33434, payload),
        ident=0x1234,
        ttl=1,
        **kw,
    )


def _scapy_checksum_verdict(raw: bytes) -> None:
    """scapy recomputes the ICMP checksum after we delete it: it must match ours."""
    s = ICMP(raw)
    rebuilt = s.copy()
    del rebuilt.chksum
    assert ICMP(bytes(rebuilt)).chksum == s.chksum


# ---------------------------------------------------------------- echo

ECHO_CASES = [
    (IcmpType.ECHO_REQUEST, 1, 1, b""),
    (IcmpType.ECHO_REQUEST, 0xBEEF, 0xFFFF, bytes(range(56))),
    (IcmpType.ECHO_REPLY, 0, 0, b"odd"),
    (IcmpType.ECHO_REPLY, 7, 65000, bytes(1472)),
]


@pytest.mark.parametrize(("type_", "ident", "seq", "data"), ECHO_CASES)
def test_echo_round_trip(type_: int, ident: int, seq: int, data: bytes) -> None:
    raw = build_echo(type_, ident, seq, data)
    msg = parse_icmp(raw)
    assert (msg.type, msg.code, msg.ident, msg.seq) == (type_, 0, ident, seq)
    assert bytes(msg.payload) == data
    assert not msg.is_error


@pytest.mark.parametrize(("type_", "ident", "seq", "data"), ECHO_CASES)
def test_scapy_decodes_our_echo(type_: int, ident: int, seq: int, data: bytes) -> None:
    raw = build_echo(type_, ident, seq, data)
    s = ICMP(raw)
    assert (s.type, s.code, s.id, s.seq) == (type_, 0, ident, seq)
    assert bytes(s.payload) == data
    _scapy_checksum_verdict(raw)


@pytest.mark.parametrize(("type_", "ident", "seq", "data"), ECHO_CASES)
def test_we_decode_scapy_echo(type_: int, ident: int, seq: int, data: bytes) -> None:
    raw = bytes(ICMP(type=type_, id=ident, seq=seq) / Raw(data))
    msg = parse_icmp(raw)
    assert (msg.type, msg.ident, msg.seq, bytes(msg.payload)) == (type_, ident, seq, data)


def test_echo_inside_ip_from_scapy() -> None:
    raw = bytes(IP(src="192.0.2.1", dst="198.51.100.7") / ICMP(id=9, seq=3) / Raw(b"ping"))
    msg = parse_icmp(parse_ipv4(raw).payload)
    assert (msg.type, msg.ident, msg.seq, bytes(msg.payload)) == (8, 9, 3, b"ping")


def test_echo_rejects_other_types() -> None:
    with pytest.raises(ValueError):
        build_echo(IcmpType.TIMESTAMP, 1, 1, b"")


# ---------------------------------------------------------------- errors we build

ERROR_CASES: list[tuple[int, int, dict[str, int]]] = [
    *[(IcmpType.DEST_UNREACH, code, {}) for code in UnreachCode if code != 4],
    (IcmpType.DEST_UNREACH, UnreachCode.FRAG_NEEDED, {"mtu": 1400}),
    (IcmpType.DEST_UNREACH, UnreachCode.FRAG_NEEDED, {"mtu": 68}),
    (IcmpType.DEST_UNREACH, UnreachCode.FRAG_NEEDED, {"mtu": 0}),  # pre-RFC 1191 router
    (IcmpType.TIME_EXCEEDED, TimeExceededCode.TTL, {}),
    (IcmpType.TIME_EXCEEDED, TimeExceededCode.REASSEMBLY, {}),
    (IcmpType.PARAM_PROBLEM, ParamProblemCode.POINTER, {"pointer": 20}),
    (IcmpType.PARAM_PROBLEM, ParamProblemCode.POINTER, {"pointer": 0}),
    (IcmpType.PARAM_PROBLEM, ParamProblemCode.BAD_LENGTH, {}),
    (IcmpType.SOURCE_QUENCH, 0, {}),
    (IcmpType.REDIRECT, 1, {"gateway": A("10.9.8.7")}),
]


def _error_id(case: tuple[int, int, dict[str, int]]) -> str:
    return f"{case[0]}-{case[1]}-{case[2]}"


@pytest.mark.parametrize("case", ERROR_CASES, ids=_error_id)
def test_error_round_trip_and_quote(case: tuple[int, int, dict[str, int]]) -> None:
    type_, code, kw = case
    offending = _offending_udp()
    raw = build_error(type_, code, offending, **kw)
    msg = parse_icmp(raw)
    assert (msg.type, msg.code) == (type_, code)
    assert msg.is_error
    assert bytes(msg.payload) == offending[: 20 + 8]  # IP header + 8 bytes (RFC 792)
    if code == UnreachCode.FRAG_NEEDED and type_ == IcmpType.DEST_UNREACH:
        assert msg.next_hop_mtu == kw["mtu"] and msg.rest >> 16 == 0
    elif type_ == IcmpType.PARAM_PROBLEM:
        assert msg.pointer == kw.get("pointer", 0) and msg.rest & 0xFFFFFF == 0
    elif type_ == IcmpType.REDIRECT:
        assert msg.gateway == kw["gateway"]
    else:
        assert msg.rest == 0
    quoted = parse_quoted(msg)
    assert quoted == QuotedPacket(
        SRC, DST, IPProto.UDP, 0x1234, 20, len(offending), msg.payload[20:], (40000, 33434), 0, 1
    )
    assert len(quoted.l4) == 8


@pytest.mark.parametrize("case", ERROR_CASES, ids=_error_id)
def test_scapy_decodes_our_errors(case: tuple[int, int, dict[str, int]]) -> None:
    type_, code, kw = case
    raw = build_error(type_, code, _offending_udp(), **kw)
    outer = build_ipv4(src=A("10.0.0.254"), dst=SRC, proto=IPProto.ICMP, payload=raw)
    s = IP(outer)
    icmp = s[ICMP]
    assert (icmp.type, icmp.code) == (type_, code)
    if type_ == IcmpType.DEST_UNREACH and code == UnreachCode.FRAG_NEEDED:
        assert icmp.nexthopmtu == kw["mtu"]
    if type_ == IcmpType.PARAM_PROBLEM:
        assert icmp.ptr == kw.get("pointer", 0)
    if type_ == IcmpType.REDIRECT:
        assert icmp.gw == "10.9.8.7"
    inner = s[IPerror]
    assert (inner.src, inner.dst, inner.id, inner.ttl) == ("192.0.2.1", "198.51.100.7", 0x1234, 1)
    assert (s[UDPerror].sport, s[UDPerror].dport) == (40000, 33434)
    _scapy_checksum_verdict(raw)


def test_error_quotes_options_and_only_8_payload_bytes() -> None:
    opts = encode_options([RecordRoute(4, (0, 0, 0), 15)])
    offending = _offending_udp(bytes(100), options=opts)
    msg = parse_icmp(build_error(IcmpType.TIME_EXCEEDED, 0, offending))
    assert len(msg.payload) == 36 + 8
    quoted = parse_quoted(msg)
    assert quoted.header_length == 36 and len(quoted.l4) == 8
    assert quoted.ports == (40000, 33434)
    s = IPerror(bytes(msg.payload))
    assert s.ihl == 9 and s.options[0].length == 15


def test_error_quote_never_includes_link_padding() -> None:
    offending = build_ipv4(src=SRC, dst=DST, proto=IPProto.UDP, payload=b"abc")
    assert quote_length(offending + bytes(30)) == 23
    msg = parse_icmp(build_error(IcmpType.DEST_UNREACH, UnreachCode.PORT, offending + bytes(30)))
    assert bytes(msg.payload) == offending
    quoted = parse_quoted(msg)
    assert bytes(quoted.l4) == b"abc" and quoted.ports is None  # fewer than 4 bytes


def test_error_about_a_short_buffer_quotes_what_there_is() -> None:
    assert quote_length(b"") == 0
    assert quote_length(b"\x45\x00") == 2
    msg = parse_icmp(build_error(IcmpType.PARAM_PROBLEM, 0, b"\x45\x00", pointer=1))
    with pytest.raises(Truncated):
        parse_quoted(msg)


def test_error_builder_rejects_bad_arguments() -> None:
    off = _offending_udp()
    with pytest.raises(ValueError):
        build_error(IcmpType.ECHO_REPLY, 0, off)
    with pytest.raises(ValueError):
        build_error(IcmpType.DEST_UNREACH, UnreachCode.FRAG_NEEDED, off, mtu=70000)
    with pytest.raises(ValueError):
        build_error(IcmpType.PARAM_PROBLEM, 0, off, pointer=256)


def test_error_types_constant() -> None:
    assert frozenset({3, 4, 5, 11, 12}) == ICMP_ERROR_TYPES
    for t in IcmpType:
        assert IcmpMessage(t, 0, 0, 0, memoryview(b"")).is_error is (t in {3, 4, 5, 11, 12})


# ---------------------------------------------------------------- errors scapy builds


def _scapy_inner_udp() -> Any:
    return IPerror(src="192.0.2.1", dst="198.51.100.7", id=77, ttl=3) / UDPerror(
        sport=5353, dport=53
    )


SCAPY_ERRORS = [(ICMP(type=3, code=c), {"type": 3, "code": c}) for c in range(16) if c != 4] + [
    (ICMP(type=3, code=4, nexthopmtu=1280), {"type": 3, "code": 4, "next_hop_mtu": 1280}),
    (ICMP(type=11, code=0), {"type": 11, "code": 0}),
    (ICMP(type=11, code=1), {"type": 11, "code": 1}),
    (ICMP(type=12, code=0, ptr=22), {"type": 12, "code": 0, "pointer": 22}),
    (ICMP(type=5, code=1, gw="10.1.1.1"), {"type": 5, "code": 1, "gateway": A("10.1.1.1")}),
    (ICMP(type=4, code=0), {"type": 4, "code": 0}),
]


@pytest.mark.parametrize(("layer", "expect"), SCAPY_ERRORS)
def test_we_decode_scapy_errors(layer: Any, expect: dict[str, int]) -> None:
    raw = bytes(IP(src="10.0.0.254", dst="192.0.2.1") / layer / _scapy_inner_udp())
    msg = parse_icmp(parse_ipv4(raw).payload)
    assert msg.is_error
    for name, value in expect.items():
        assert getattr(msg, name) == value, name
    quoted = parse_quoted(msg)
    assert (quoted.src, quoted.dst, quoted.proto) == (SRC, DST, IPProto.UDP)
    assert (quoted.ident, quoted.ttl, quoted.header_length) == (77, 3, 20)
    assert quoted.ports == (5353, 53)
    assert len(quoted.l4) == 8


def test_we_decode_scapy_error_about_tcp() -> None:
    inner = IPerror(src="192.0.2.1", dst="198.51.100.7") / TCPerror(sport=443, dport=51000, seq=7)
    raw = bytes(ICMP(type=3, code=4, nexthopmtu=1492) / inner)
    msg = parse_icmp(raw)
    quoted = parse_quoted(msg)
    assert quoted.proto == IPProto.TCP and quoted.ports == (443, 51000)
    assert msg.next_hop_mtu == 1492
    assert int.from_bytes(quoted.l4[4:8], "big") == 7


def test_we_decode_a_kernel_style_long_quote() -> None:
    # Linux quotes up to 576 bytes: l4 is everything quoted (cut to the quoted total length)
    inner = IP(src="192.0.2.1", dst="198.51.100.7") / UDP(sport=1, dport=2) / Raw(bytes(100))
    raw = bytes(ICMP(type=3, code=3) / IPerror(bytes(inner)))
    quoted = parse_quoted(parse_icmp(raw))
    assert len(quoted.l4) == 108 and quoted.total_length == 128
    assert quoted.ports == (1, 2)


# ---------------------------------------------------------------- parse_quoted sanity


def _error_with_quote(quote: bytes) -> IcmpMessage:
    return parse_icmp(build_icmp(IcmpType.DEST_UNREACH, 3, 0, quote))


def test_quoted_icmp_has_no_ports() -> None:
    inner = build_ipv4(src=SRC, dst=DST, proto=IPProto.ICMP, payload=build_echo(8, 1, 2, b""))
    quoted = parse_quoted(parse_icmp(build_error(IcmpType.TIME_EXCEEDED, 0, inner)))
    assert quoted.proto == IPProto.ICMP and quoted.ports is None
    assert bytes(quoted.l4[:1]) == b"\x08"


def test_quoted_non_first_fragment_has_no_ports() -> None:
    inner = _offending_udp(frag_offset=1480)
    quoted = parse_quoted(parse_icmp(build_error(IcmpType.TIME_EXCEEDED, 1, inner)))
    assert quoted.frag_offset == 1480 and quoted.ports is None


@pytest.mark.parametrize(
    ("first", "total"),
    [(0x65, 40), (0x44, 40), (0x45, 19)],
    ids=["version6", "ihl4", "total-below-ihl"],
)
def test_quoted_malformed(first: int, total: int) -> None:
    quote = bytearray(_offending_udp()[:28])
    quote[0] = first
    quote[2:4] = total.to_bytes(2, "big")
    with pytest.raises(Malformed):
        parse_quoted(_error_with_quote(bytes(quote)))


@pytest.mark.parametrize("cut", range(20))
def test_quoted_truncated_header(cut: int) -> None:
    with pytest.raises(Truncated):
        parse_quoted(_error_with_quote(_offending_udp()[:cut]))


def test_quoted_options_beyond_quote_are_truncated() -> None:
    opts = encode_options([RecordRoute(4, (0, 0, 0), 15)])
    with pytest.raises(Truncated):
        parse_quoted(_error_with_quote(_offending_udp(options=opts)[:30]))


def test_quoted_header_checksum_is_not_checked() -> None:
    quote = bytearray(_offending_udp()[:28])
    quote[10] ^= 0xFF
    assert parse_quoted(_error_with_quote(bytes(quote))).ports == (40000, 33434)


# ---------------------------------------------------------------- timestamps


@pytest.mark.parametrize("type_", [IcmpType.TIMESTAMP, IcmpType.TIMESTAMP_REPLY])
def test_timestamp_round_trip_and_scapy(type_: int) -> None:
    raw = build_timestamp(type_, 0x0102, 9, 1000, 86_399_999, 0x80000000 | 5)
    assert len(raw) == 20
    msg = parse_icmp(raw)
    assert (msg.type, msg.ident, msg.seq) == (type_, 0x0102, 9)
    assert parse_timestamp(msg) == (1000, 86_399_999, 0x80000000 | 5)
    s = ICMP(raw)
    assert (s.type, s.id, s.seq) == (type_, 0x0102, 9)
    assert (s.ts_ori, s.ts_rx, s.ts_tx) == (1000, 86_399_999, 0x80000005)
    _scapy_checksum_verdict(raw)


def test_we_decode_scapy_timestamp() -> None:
    raw = bytes(ICMP(type=13, id=5, seq=6, ts_ori=11, ts_rx=22, ts_tx=33))
    msg = parse_icmp(raw)
    assert parse_timestamp(msg) == (11, 22, 33)


@pytest.mark.parametrize("cut", range(ICMP_HLEN, 20))
def test_short_timestamp_is_truncated(cut: int) -> None:
    raw = build_icmp(IcmpType.TIMESTAMP, 0, 0, bytes(cut - ICMP_HLEN))
    with pytest.raises(Truncated):
        parse_timestamp(parse_icmp(raw))


def test_timestamp_of_other_type_is_malformed() -> None:
    with pytest.raises(Malformed):
        parse_timestamp(parse_icmp(build_echo(8, 1, 1, bytes(12))))
    with pytest.raises(ValueError):
        build_timestamp(IcmpType.ECHO_REQUEST, 0, 0, 0, 0, 0)


# ---------------------------------------------------------------- integrity


@pytest.mark.parametrize("cut", range(ICMP_HLEN))
def test_truncated_header(cut: int) -> None:
    with pytest.raises(Truncated) as info:
        parse_icmp(build_echo(8, 1, 1, b"abc")[:cut])
    assert info.value.layer == "icmp"


def test_every_truncation_of_a_message_is_an_error() -> None:
    raw = build_echo(8, 0x1234, 1, b"some data")
    for cut in range(len(raw)):
        with pytest.raises(WireError):
            parse_icmp(raw[:cut])


def test_bad_checksum_anywhere() -> None:
    raw = build_error(IcmpType.DEST_UNREACH, 3, _offending_udp())
    for pos in range(len(raw)):
        bad = bytearray(raw)
        bad[pos] ^= 0x40
        with pytest.raises(BadChecksum):
            parse_icmp(bad)
        assert parse_icmp(bad, verify_checksum=False).checksum >= 0


def test_payload_is_a_view() -> None:
    backing = bytearray(build_echo(8, 1, 1, b"abcd"))
    msg = parse_icmp(memoryview(backing), verify_checksum=False)
    backing[-1] = ord("Z")
    assert bytes(msg.payload) == b"abcZ"
