"""nodes/wire/udp.py: round trips, scapy both ways with its checksum verdict, the zero
checksum rules of RFC 768, truncation and length errors."""

from __future__ import annotations

import struct

import pytest
from scapy.layers.inet import IP, UDP
from scapy.packet import Raw

from nodes.wire.addr import ip_from_str
from nodes.wire.checksum import ones_sum, pseudo_header_sum
from nodes.wire.errors import BadChecksum, Malformed, Truncated, WireError
from nodes.wire.ipv4 import IPProto, build_ipv4, parse_ipv4
from nodes.wire.udp import UDP_HLEN, UdpDatagram, build_udp, parse_udp

A = ip_from_str
SRC = A("10.1.0.1")
DST = A("10.2.0.2")

CASES = [
    (1, 2, b""),
    (53, 40000, b"x"),
    (65535, 0, bytes(range(256))),
    (5001, 5001, b"odd-length payload"),
    (12345, 80, bytes(1472)),
]


@pytest.mark.parametrize(("sport", "dport", "payload"), CASES)
def test_round_trip(sport: int, dport: int, payload: bytes) -> None:
    raw = build_udp(SRC, DST, sport, dport, payload)
    d = parse_udp(raw, SRC, DST)
    assert (d.src_port, d.dst_port, d.length) == (sport, dport, UDP_HLEN + len(payload))
    assert bytes(d.payload) == payload
    assert d.checksum == struct.unpack_from("!H", raw, 6)[0] != 0


@pytest.mark.parametrize(("sport", "dport", "payload"), CASES)
def test_scapy_decodes_ours_and_agrees_on_checksum(sport: int, dport: int, payload: bytes) -> None:
    udp = build_udp(SRC, DST, sport, dport, payload)
    s = IP(build_ipv4(src=SRC, dst=DST, proto=IPProto.UDP, payload=udp))
    u = s[UDP]
    assert (u.sport, u.dport, u.len) == (sport, dport, len(udp))
    assert bytes(u.payload) == payload
    rebuilt = s.copy()
    del rebuilt[UDP].chksum
    assert IP(bytes(rebuilt))[UDP].chksum == u.chksum


@pytest.mark.parametrize(("sport", "dport", "payload"), CASES)
def test_we_decode_scapy_datagrams(sport: int, dport: int, payload: bytes) -> None:
    raw = bytes(IP(src="10.1.0.1", dst="10.2.0.2") / UDP(sport=sport, dport=dport) / Raw(payload))
    ip = parse_ipv4(raw)
    d = parse_udp(ip.payload, ip.src, ip.dst)
    assert (d.src_port, d.dst_port, bytes(d.payload)) == (sport, dport, payload)


def test_zero_checksum_means_none() -> None:
    raw = bytes(UDP(sport=7, dport=9, chksum=0) / Raw(b"unchecked"))
    d = parse_udp(raw, SRC, DST)
    assert d.checksum == 0 and bytes(d.payload) == b"unchecked"
    # even with a pseudo-header that would not verify
    assert parse_udp(raw, 1, 2).checksum == 0


def test_computed_zero_checksum_is_sent_as_ffff() -> None:
    header = struct.pack("!HHHH", 1000, 2000, 10, 0)
    partial = ones_sum(header, pseudo_header_sum(SRC, DST, 17, 10))
    payload = (~partial & 0xFFFF).to_bytes(2, "big")  # makes the sum 0xFFFF -> checksum 0
    raw = build_udp(SRC, DST, 1000, 2000, payload)
    assert raw[6:8] == b"\xff\xff"
    assert parse_udp(raw, SRC, DST).checksum == 0xFFFF
    s = IP(build_ipv4(src=SRC, dst=DST, proto=17, payload=raw))
    rebuilt = s.copy()
    del rebuilt[UDP].chksum
    assert IP(bytes(rebuilt))[UDP].chksum == 0xFFFF  # scapy does the same


def test_trailing_bytes_beyond_length_are_cut() -> None:
    raw = build_udp(SRC, DST, 1, 2, b"abc")
    d = parse_udp(raw + b"\x00junk", SRC, DST)
    assert bytes(d.payload) == b"abc" and d.length == 11


@pytest.mark.parametrize("cut", range(UDP_HLEN))
def test_truncated_header(cut: int) -> None:
    with pytest.raises(Truncated) as info:
        parse_udp(build_udp(SRC, DST, 1, 2, b"abc")[:cut], SRC, DST)
    assert info.value.layer == "udp"


def test_every_truncation_is_an_error() -> None:
    raw = build_udp(SRC, DST, 1, 2, b"some payload")
    for cut in range(len(raw)):
        with pytest.raises(Truncated):
            parse_udp(raw[:cut], SRC, DST)


@pytest.mark.parametrize("length", range(UDP_HLEN))
def test_length_field_below_header_is_malformed(length: int) -> None:
    raw = bytearray(build_udp(SRC, DST, 1, 2, b"abc"))
    raw[4:6] = length.to_bytes(2, "big")
    with pytest.raises(Malformed):
        parse_udp(raw, SRC, DST)


def test_bad_checksum() -> None:
    raw = build_udp(SRC, DST, 1, 2, b"payload")
    for pos in range(len(raw)):
        if pos in (4, 5):
            continue  # the length field: Truncated/Malformed/cut, tested above
        bad = bytearray(raw)
        bad[pos] ^= 0x04
        with pytest.raises(BadChecksum) as info:
            parse_udp(bad, SRC, DST)
        assert info.value.counter == "bad_checksum"
        assert parse_udp(bad, SRC, DST, verify_checksum=False).src_port >= 0


def test_checksum_covers_the_pseudo_header() -> None:
    raw = build_udp(SRC, DST, 1, 2, b"payload")
    with pytest.raises(BadChecksum):
        parse_udp(raw, SRC, A("10.2.0.3"))


def test_builder_rejects_oversize() -> None:
    with pytest.raises(ValueError):
        build_udp(SRC, DST, 1, 2, bytes(65528))
    assert len(build_udp(SRC, DST, 1, 2, bytes(65527))) == 65535


def test_payload_is_a_view() -> None:
    backing = bytearray(build_udp(SRC, DST, 1, 2, b"abcd"))
    d = parse_udp(memoryview(backing), SRC, DST)
    assert isinstance(d, UdpDatagram) and isinstance(d.payload, memoryview)
    backing[-1] = ord("Z")
    assert bytes(d.payload) == b"abcZ"


def test_errors_are_wire_errors() -> None:
    with pytest.raises(WireError):
        parse_udp(b"", SRC, DST)
