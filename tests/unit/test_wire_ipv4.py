"""nodes/wire/ipv4.py: header and options against scapy both ways, integrity and sanity
errors, truncation at every length, option helpers."""

from __future__ import annotations

import struct
from typing import Any

import pytest
from scapy.layers.inet import (
    IP,
    IPOption_LSRR,
    IPOption_NOP,
    IPOption_Router_Alert,
    IPOption_RR,
    IPOption_SSRR,
    IPOption_Timestamp,
)
from scapy.packet import Padding, Raw

from nodes.wire.addr import ip_from_str, ip_to_str
from nodes.wire.checksum import internet_checksum
from nodes.wire.errors import BadChecksum, Malformed, Truncated, WireError
from nodes.wire.ipv4 import (
    IPV4_HLEN,
    BadOption,
    IPProto,
    IPv4Option,
    OptionKind,
    RecordRoute,
    SourceRoute,
    Timestamp,
    TimestampFlag,
    UnknownOption,
    build_ipv4,
    encode_option,
    encode_options,
    options_for_fragments,
    parse_ipv4,
    parse_options,
    record_route_in_place,
)

A = ip_from_str
SRC = A("10.0.1.1")
DST = A("10.0.2.2")

OPTION_CASES: list[tuple[IPv4Option, ...]] = [
    (),
    (RecordRoute(4, (0, 0, 0, 0, 0, 0, 0, 0, 0), 39),),
    (RecordRoute(8, (A("10.0.0.1"), 0, 0), 15),),
    (RecordRoute(16, (A("10.0.0.1"), A("10.0.0.2"), A("10.0.0.3")), 15),),  # full
    (SourceRoute(False, 4, (A("192.168.0.1"), A("192.168.0.2"))),),
    (SourceRoute(True, 8, (A("192.168.0.1"), A("192.168.0.2"))),),
    (Timestamp(5, 0, TimestampFlag.TS_ONLY, ((None, 0),) * 9),),
    (Timestamp(9, 2, TimestampFlag.TS_ONLY, ((None, 123456), (None, 0))),),
    (Timestamp(13, 0, TimestampFlag.TS_AND_ADDR, ((A("1.1.1.1"), 77), (0, 0), (0, 0), (0, 0))),),
    (Timestamp(5, 0, TimestampFlag.TS_PRESPEC, ((A("1.1.1.1"), 0), (A("2.2.2.2"), 0))),),
    (UnknownOption(148, b"\x00\x00"),),  # router alert
    (UnknownOption(130, bytes(9)), RecordRoute(4, (0,), 7)),
    (SourceRoute(False, 4, (A("1.0.0.1"),)), RecordRoute(4, (0, 0), 11)),
]

HEADER_CASES: list[dict[str, Any]] = [
    {},
    {"ttl": 1, "ident": 0xFFFF, "tos": 0xB8},
    {"df": True, "ident": 4242},
    {"mf": True, "frag_offset": 0},
    {"mf": True, "frag_offset": 1480},
    {"frag_offset": 8 * 0x1FFF - 64},
    {"ttl": 255, "proto": IPProto.TCP},
    {"proto": 253},
]


def _build(payload: bytes = b"payload!", **kw: Any) -> bytes:
    args: dict[str, Any] = {"src": SRC, "dst": DST, "proto": IPProto.UDP, "payload": payload}
    args.update(kw)
    return build_ipv4(**args)


# ---------------------------------------------------------------- round trips


@pytest.mark.parametrize("header", HEADER_CASES)
@pytest.mark.parametrize(
    "options", OPTION_CASES, ids=lambda o: "+".join(type(x).__name__ for x in o) or "none"
)
def test_round_trip(header: dict[str, Any], options: tuple[IPv4Option, ...]) -> None:
    payload = bytes(range(37))
    raw = _build(payload, options=encode_options(options), **header)
    pkt = parse_ipv4(raw)
    opts_len = len(encode_options(options))
    assert pkt.header_length == IPV4_HLEN + opts_len
    assert pkt.total_length == len(raw) == pkt.header_length + len(payload)
    assert pkt.options == options
    assert bytes(pkt.payload) == payload
    assert bytes(pkt.header) == raw[: pkt.header_length]
    assert (pkt.src, pkt.dst) == (SRC, DST)
    assert pkt.ttl == header.get("ttl", 64)
    assert pkt.ident == header.get("ident", 0)
    assert pkt.tos == header.get("tos", 0)
    assert pkt.df is header.get("df", False)
    assert pkt.mf is header.get("mf", False)
    assert pkt.frag_offset == header.get("frag_offset", 0)
    assert pkt.proto == header.get("proto", IPProto.UDP)
    assert pkt.checksum == struct.unpack_from("!H", raw, 10)[0]
    assert internet_checksum(raw[: pkt.header_length]) == 0


@pytest.mark.parametrize("options", OPTION_CASES)
def test_encode_then_parse_options_is_identity(options: tuple[IPv4Option, ...]) -> None:
    raw = encode_options(options)
    assert len(raw) % 4 == 0
    assert parse_options(raw) == options


# ---------------------------------------------------------------- scapy decodes ours


@pytest.mark.parametrize("header", HEADER_CASES)
def test_scapy_decodes_our_header(header: dict[str, Any]) -> None:
    raw = _build(b"\x00" * 12, options=encode_options(OPTION_CASES[2]), **header)
    s = IP(raw)
    assert s.version == 4
    assert s.ihl * 4 == IPV4_HLEN + 16
    assert s.len == len(raw)
    assert s.tos == header.get("tos", 0)
    assert s.id == header.get("ident", 0)
    assert bool(s.flags.DF) is header.get("df", False)
    assert bool(s.flags.MF) is header.get("mf", False)
    assert s.frag * 8 == header.get("frag_offset", 0)
    assert s.ttl == header.get("ttl", 64)
    assert s.proto == header.get("proto", IPProto.UDP)
    assert s.src == ip_to_str(SRC) and s.dst == ip_to_str(DST)
    assert isinstance(s.options[0], IPOption_RR)
    assert s.options[0].pointer == 8
    assert s.options[0].routers == ["10.0.0.1", "0.0.0.0", "0.0.0.0"]
    # scapy's own checksum verdict: rebuild without the checksum and compare
    rebuilt = s.copy()
    del rebuilt.chksum
    assert IP(bytes(rebuilt)).chksum == s.chksum == parse_ipv4(raw).checksum


def test_scapy_decodes_our_source_routes_and_timestamp() -> None:
    opts = (
        SourceRoute(True, 4, (A("192.168.0.1"), A("192.168.0.2"))),
        Timestamp(5, 3, TimestampFlag.TS_AND_ADDR, ((A("3.3.3.3"), 0),)),
    )
    s = IP(_build(options=encode_options(opts)))
    ssrr, ts = s.options[0], s.options[1]
    assert isinstance(ssrr, IPOption_SSRR)
    assert ssrr.routers == ["192.168.0.1", "192.168.0.2"] and ssrr.pointer == 4
    assert isinstance(ts, IPOption_Timestamp)
    assert (ts.length, ts.pointer, ts.oflw, ts.flg) == (12, 5, 3, 1)
    assert ts.internet_address == "3.3.3.3" and ts.timestamp == 0


# ---------------------------------------------------------------- we decode scapy's


def test_we_decode_scapy_plain_packet() -> None:
    s = IP(src="10.0.1.1", dst="10.0.2.2", ttl=7, id=99, tos=0x10, flags="DF", proto=17)
    raw = bytes(s / Raw(b"hello"))
    pkt = parse_ipv4(raw)
    assert (pkt.src, pkt.dst, pkt.ttl, pkt.ident, pkt.tos, pkt.proto) == (SRC, DST, 7, 99, 16, 17)
    assert pkt.df and not pkt.mf and pkt.frag_offset == 0
    assert bytes(pkt.payload) == b"hello"
    assert pkt.options == ()


def test_we_decode_scapy_fragment() -> None:
    raw = bytes(IP(src="10.0.1.1", dst="10.0.2.2", flags="MF", frag=185, id=5) / Raw(b"x" * 16))
    pkt = parse_ipv4(raw)
    assert pkt.mf and pkt.frag_offset == 1480 and pkt.is_fragment


SCAPY_OPTIONS: list[tuple[Any, IPv4Option]] = [
    (IPOption_RR(routers=["0.0.0.0"] * 4), RecordRoute(4, (0, 0, 0, 0), 19)),
    (
        IPOption_RR(pointer=8, routers=["10.0.0.9", "0.0.0.0"]),
        RecordRoute(8, (A("10.0.0.9"), 0), 11),
    ),
    (
        IPOption_LSRR(routers=["1.2.3.4", "5.6.7.8"]),
        SourceRoute(False, 4, (A("1.2.3.4"), A("5.6.7.8"))),
    ),
    (
        IPOption_SSRR(pointer=8, routers=["1.2.3.4", "5.6.7.8"]),
        SourceRoute(True, 8, (A("1.2.3.4"), A("5.6.7.8"))),
    ),
    (IPOption_Timestamp(flg=0, pointer=5, timestamp=0), Timestamp(5, 0, 0, ((None, 0),))),
    (IPOption_Timestamp(flg=0, pointer=9, oflw=4, timestamp=9), Timestamp(9, 4, 0, ((None, 9),))),
    (
        IPOption_Timestamp(flg=1, pointer=5, internet_address="0.0.0.0", timestamp=0),
        Timestamp(5, 0, 1, ((0, 0),)),
    ),
    (
        IPOption_Timestamp(flg=3, pointer=13, internet_address="7.7.7.7", timestamp=1000),
        Timestamp(13, 0, 3, ((A("7.7.7.7"), 1000),)),
    ),
    (IPOption_Router_Alert(), UnknownOption(148, b"\x00\x00")),
]


@pytest.mark.parametrize(("scapy_opt", "ours"), SCAPY_OPTIONS)
def test_we_decode_scapy_options(scapy_opt: Any, ours: IPv4Option) -> None:
    raw = bytes(IP(src="10.0.1.1", dst="10.0.2.2", options=[scapy_opt]) / Raw(b"data"))
    pkt = parse_ipv4(raw)
    assert pkt.options == (ours,)
    assert bytes(pkt.payload) == b"data"
    # and our encoder produces the same option bytes scapy did
    assert encode_option(ours) == bytes(scapy_opt)


def test_we_decode_scapy_nops_and_several_options() -> None:
    opts = [
        IPOption_NOP(),
        IPOption_RR(routers=["0.0.0.0"] * 2),
        IPOption_NOP(),
        IPOption_LSRR(routers=["9.9.9.9"]),
    ]
    pkt = parse_ipv4(bytes(IP(src="1.1.1.1", dst="2.2.2.2", options=opts)))
    assert pkt.options == (RecordRoute(4, (0, 0), 11), SourceRoute(False, 4, (A("9.9.9.9"),)))


def test_multi_entry_timestamps_match_raw_layout() -> None:
    # scapy decodes one timestamp entry only, so compare against hand-made bytes
    raw = bytes([68, 20, 13, 0x11]) + struct.pack("!IIII", A("1.1.1.1"), 5, 0, 0)
    assert parse_options(raw) == (Timestamp(13, 1, 1, ((A("1.1.1.1"), 5), (0, 0))),)
    assert encode_options(parse_options(raw)) == raw
    raw = bytes([68, 12, 9, 0x00]) + struct.pack("!II", 42, 0)
    assert parse_options(raw) == (Timestamp(9, 0, 0, ((None, 42), (None, 0))),)


def test_linux_ping_style_options() -> None:
    # `ping -R` sends NOP + RR(39); `ping -T tsonly` sends TS(40, flag 0)
    rr = bytes([1, 7, 39, 4]) + bytes(36)
    assert parse_options(rr) == (RecordRoute(4, (0,) * 9, 39),)
    ts = bytes([68, 40, 5, 0]) + bytes(36)
    assert parse_options(ts) == (Timestamp(5, 0, 0, ((None, 0),) * 9),)


def test_eol_ends_the_list_and_unknown_options_are_kept() -> None:
    raw = bytes([1, 1, 0x99, 4, 0xAB, 0xCD, 0, 7, 3, 4])  # garbage after EOL is ignored
    assert parse_options(raw) == (UnknownOption(0x99, b"\xab\xcd"),)


def test_odd_record_route_length_is_kept_like_linux() -> None:
    raw = bytes([7, 9, 4]) + bytes(6)  # one full slot plus two stray bytes
    (rr,) = parse_options(raw)
    assert rr == RecordRoute(4, (0,), 9)
    assert encode_option(rr) == raw


# ---------------------------------------------------------------- integrity and sanity


def test_link_padding_is_cut_off() -> None:
    raw = _build(b"abc")
    pkt = parse_ipv4(raw + bytes(20))
    assert bytes(pkt.payload) == b"abc"
    scapy_raw = bytes(IP(src="1.1.1.1", dst="2.2.2.2") / Raw(b"abc") / Padding(bytes(23)))
    assert bytes(parse_ipv4(scapy_raw).payload) == b"abc"


@pytest.mark.parametrize("options", [OPTION_CASES[0], OPTION_CASES[1], OPTION_CASES[11]])
def test_truncated_at_every_length(options: tuple[IPv4Option, ...]) -> None:
    raw = _build(b"0123456789", options=encode_options(options))
    for cut in range(len(raw)):
        with pytest.raises(Truncated) as info:
            parse_ipv4(raw[:cut])
        assert info.value.layer == "ipv4"
    parse_ipv4(raw)


def test_every_single_bit_flip_in_header_is_detected() -> None:
    raw = _build(options=encode_options(OPTION_CASES[8]))
    hlen = parse_ipv4(raw).header_length
    for bit in range(hlen * 8):
        bad = bytearray(raw)
        bad[bit // 8] ^= 1 << (bit % 8)
        with pytest.raises(WireError):
            parse_ipv4(bad)


def test_bad_checksum() -> None:
    bad = bytearray(_build())
    bad[10] ^= 0x01
    with pytest.raises(BadChecksum) as info:
        parse_ipv4(bad)
    assert info.value.counter == "bad_checksum"
    assert parse_ipv4(bad, verify_checksum=False).checksum == (bad[10] << 8) | bad[11]


def test_payload_corruption_is_not_an_ip_checksum_error() -> None:
    bad = bytearray(_build(b"payload"))
    bad[-1] ^= 0xFF
    parse_ipv4(bad)


def _patched(raw: bytes, offset: int, value: int, fmt: str = "!B") -> bytearray:
    buf = bytearray(raw)
    struct.pack_into(fmt, buf, offset, value)
    struct.pack_into("!H", buf, 10, 0)
    hlen = (buf[0] & 0x0F) * 4
    if hlen >= 20 and len(buf) >= hlen:
        struct.pack_into("!H", buf, 10, internet_checksum(buf[:hlen]))
    return buf


@pytest.mark.parametrize(
    ("offset", "value", "fmt"),
    [
        (0, 0x65, "!B"),  # version 6
        (0, 0x05, "!B"),  # version 0
        (0, 0x44, "!B"),  # IHL 4
        (0, 0x40, "!B"),  # IHL 0
        (2, 19, "!H"),  # total length below the header
        (6, 0x1FFF, "!H"),  # offset 65528 + payload > 65535
    ],
)
def test_malformed_header(offset: int, value: int, fmt: str) -> None:
    with pytest.raises(Malformed) as info:
        parse_ipv4(_patched(_build(), offset, value, fmt))
    assert info.value.counter == "malformed"


def test_total_length_beyond_buffer_is_truncated() -> None:
    raw = _build(b"abc")
    with pytest.raises(Truncated):
        parse_ipv4(_patched(raw, 2, len(raw) + 1, "!H"))


def test_ihl_beyond_buffer_is_truncated() -> None:
    raw = _build(b"")
    with pytest.raises(Truncated):
        parse_ipv4(_patched(raw, 0, 0x46))


def test_reserved_flag_is_tolerated() -> None:
    pkt = parse_ipv4(_patched(_build(), 6, 0x8000, "!H"))
    assert not pkt.df and not pkt.mf


def _with_options(options: bytes) -> bytes:
    return _build(options=options)


BAD_OPTIONS: list[tuple[bytes, int]] = [
    # (option bytes, expected ICMP parameter-problem pointer from the IP header start)
    (bytes([7]) + bytes(3), 21),  # RR with length 0
    (bytes([1, 1, 1, 0x99]), 23),  # unknown option with no length octet
    (bytes([0x99, 1, 0, 0]), 21),  # length 1
    (bytes([0x99, 5, 0, 0]), 21),  # length past the end
    (bytes([7, 2, 0, 0]), 21),  # RR length 2
    (bytes([7, 7, 3, 0, 0, 0, 0, 0]), 22),  # RR pointer 3
    (bytes([7, 8, 6, 0, 0, 0, 0, 0]), 22),  # RR pointer 6 leaves 3 bytes for a slot
    (bytes([131, 7, 2, 0, 0, 0, 0, 0]), 22),  # LSRR pointer 2
    (bytes([137, 8, 4, 0, 0, 0, 0, 0]), 21),  # SSRR length not 3 + 4n
    (bytes([68, 3, 5, 0]), 21),  # TS length 3
    (bytes([68, 8, 4, 0, 0, 0, 0, 0]), 22),  # TS pointer 4
    (bytes([68, 8, 5, 2, 0, 0, 0, 0]), 23),  # TS unknown flag 2
    (bytes([68, 8, 5, 1, 0, 0, 0, 0]), 21),  # TS flag 1 with a 4-byte slot
    (bytes([68, 10, 5, 0]) + bytes(6) + bytes(2), 21),  # TS length 10, flag 0
    (bytes([68, 12, 10, 0]) + bytes(8), 22),  # TS pointer 10 leaves 3 bytes for a slot
    (bytes([7, 7, 4, 0, 0, 0, 0, 7, 7, 4, 0, 0, 0, 0]) + bytes(2), 27),  # duplicate RR
    (bytes([131, 7, 4, 0, 0, 0, 0, 137, 7, 4, 0, 0, 0, 0]) + bytes(2), 27),  # LSRR + SSRR
    (bytes([68, 8, 5, 0, 0, 0, 0, 0, 68, 8, 5, 0, 0, 0, 0, 0]), 28),  # duplicate TS
]


@pytest.mark.parametrize(("options", "pointer"), BAD_OPTIONS)
def test_bad_options_are_malformed_with_a_pointer(options: bytes, pointer: int) -> None:
    raw = _with_options(options)
    with pytest.raises(BadOption) as info:
        parse_ipv4(raw)
    assert isinstance(info.value, Malformed)
    assert info.value.counter == "malformed"
    assert info.value.offset == pointer


def test_option_errors_after_valid_options_point_at_the_bad_one() -> None:
    raw = _with_options(bytes([1, 0x94, 4, 0, 0, 7, 2, 0]))
    with pytest.raises(BadOption) as info:
        parse_ipv4(raw)
    assert info.value.offset == 26


def test_options_are_not_parsed_for_a_plain_header() -> None:
    assert parse_ipv4(_build()).options == ()


# ---------------------------------------------------------------- builder


def test_builder_pads_unaligned_options_with_eol() -> None:
    raw = _build(options=bytes([1, 1, 1]))
    pkt = parse_ipv4(raw)
    assert pkt.header_length == 24
    assert bytes(pkt.header[20:]) == b"\x01\x01\x01\x00"


@pytest.mark.parametrize(
    "kwargs",
    [
        {"frag_offset": 7},
        {"frag_offset": -8},
        {"frag_offset": 65536},
        {"options": bytes(44)},
        {"payload": bytes(65516)},
    ],
)
def test_builder_rejects_impossible_packets(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        _build(**kwargs)


def test_largest_packet_builds() -> None:
    raw = _build(bytes(65515))
    assert parse_ipv4(raw).total_length == 65535


def test_encode_options_limits() -> None:
    with pytest.raises(ValueError):
        encode_options([RecordRoute(4, (0,) * 10, 43)])
    with pytest.raises(ValueError):
        encode_option(RecordRoute(4, (0, 0), 7))
    with pytest.raises(ValueError):
        encode_option(Timestamp(5, 16, 0, ()))
    with pytest.raises(ValueError):
        encode_option(Timestamp(5, 0, 2, ()))
    assert encode_options([UnknownOption(OptionKind.NOP, b"")] * 3) == b"\x01\x01\x01\x00"


@pytest.mark.parametrize("kind", [bytes, bytearray, memoryview])
def test_payload_is_a_view_not_a_copy(kind: type) -> None:
    backing = bytearray(_build(b"abcd"))
    buf = backing if kind is bytearray else kind(backing)
    pkt = parse_ipv4(buf)
    assert isinstance(pkt.payload, memoryview) and isinstance(pkt.header, memoryview)
    if kind is not bytes:
        backing[-1] = ord("Z")
        assert bytes(pkt.payload) == b"abcZ"


# ---------------------------------------------------------------- option helpers


def test_record_route_fills_slots_then_stays_full() -> None:
    rr = RecordRoute(4, (0, 0), 11)
    rr = rr.record(A("10.0.0.1"))
    assert rr == RecordRoute(8, (A("10.0.0.1"), 0), 11) and not rr.full
    rr = rr.record(A("10.0.0.2"))
    assert rr == RecordRoute(12, (A("10.0.0.1"), A("10.0.0.2")), 11) and rr.full
    assert rr.record(A("10.0.0.3")) is rr
    # what we write, scapy reads
    s = IP(_build(options=encode_options([rr])))
    assert s.options[0].routers == ["10.0.0.1", "10.0.0.2"] and s.options[0].pointer == 12


def test_timestamp_stamp_per_flag() -> None:
    ts0 = Timestamp(5, 0, 0, ((None, 0), (None, 0)))
    ts0 = ts0.stamp(A("1.1.1.1"), 100).stamp(A("2.2.2.2"), 200)
    assert ts0 == Timestamp(13, 0, 0, ((None, 100), (None, 200))) and ts0.full
    assert ts0.stamp(A("3.3.3.3"), 300) == Timestamp(13, 1, 0, ts0.entries)

    ts1 = Timestamp(5, 0, 1, ((0, 0),)).stamp(A("1.1.1.1"), 7)
    assert ts1 == Timestamp(13, 0, 1, ((A("1.1.1.1"), 7),))

    ts3 = Timestamp(5, 0, 3, ((A("1.1.1.1"), 0), (A("2.2.2.2"), 0)))
    assert ts3.stamp(A("2.2.2.2"), 9) is ts3  # not our turn
    ts3 = ts3.stamp(A("1.1.1.1"), 9)
    assert ts3 == Timestamp(13, 0, 3, ((A("1.1.1.1"), 9), (A("2.2.2.2"), 0)))

    with pytest.raises(Malformed):
        Timestamp(9, 15, 0, ((None, 1),)).stamp(1, 2)


def test_options_copied_into_fragments() -> None:
    opts = (
        RecordRoute(4, (0,), 7),
        SourceRoute(False, 4, (1,)),
        Timestamp(5, 0, 0, ((None, 0),)),
        UnknownOption(148, b"\x00\x00"),
        UnknownOption(7 + 0x80, b""),
    )
    assert options_for_fragments(opts) == (opts[1], opts[3], opts[4])


def test_source_route_properties() -> None:
    sr = SourceRoute(True, 4, (1, 2))
    assert sr.kind == OptionKind.SSRR and not sr.exhausted
    assert SourceRoute(False, 12, (1, 2)).exhausted


def test_packet_is_frozen_and_slotted() -> None:
    pkt = parse_ipv4(_build())
    with pytest.raises(AttributeError):
        pkt.ttl = 3  # type: ignore[misc]
    assert not hasattr(pkt, "__dict__")


def test_record_route_in_place_keeps_the_layout() -> None:
    # NOP + RR + router alert: re-encoding would drop the NOP, the in-place update does not
    options = bytes([1, 7, 11, 4]) + bytes(8) + bytes([148, 4, 0, 0])
    raw = bytearray(_build(b"data", options=options))
    assert record_route_in_place(raw, A("10.0.0.1"))
    pkt = parse_ipv4(raw)  # the checksum verifies
    assert pkt.options == (
        RecordRoute(8, (A("10.0.0.1"), 0), 11),
        UnknownOption(148, b"\x00\x00"),
    )
    assert record_route_in_place(raw, A("10.0.0.2"))
    assert parse_ipv4(raw).options[0] == RecordRoute(12, (A("10.0.0.1"), A("10.0.0.2")), 11)
    before = bytes(raw)
    assert not record_route_in_place(raw, A("10.0.0.3"))  # full
    assert bytes(raw) == before
    assert IP(bytes(raw)).options[1].routers == ["10.0.0.1", "10.0.0.2"]


def test_record_route_in_place_without_the_option() -> None:
    for opts in (b"", encode_options([Timestamp(5, 0, 0, ((None, 0),))])):
        raw = bytearray(_build(options=opts))
        before = bytes(raw)
        assert not record_route_in_place(raw, 1)
        assert bytes(raw) == before
