"""Fuzz targets for every wire parser (nodes/wire). Each parses the input; a typed
WireError is an accepted rejection, anything else escaping is a bug. What parses must
also satisfy cheap invariants: it builds back to the same bytes (checksums aside, which
have two encodings in ones' complement), and the per-packet fast paths agree with the
full parsers.

Inputs: the raw bytes, except for UDP and TCP, whose first 8 bytes are the
pseudo-header's source and destination addresses.
"""

from __future__ import annotations

import contextlib

from nodes.wire.arp import ARP_LEN, parse_arp
from nodes.wire.checksum import internet_checksum
from nodes.wire.errors import WireError
from nodes.wire.ethernet import ETH_HLEN, build_ethernet, parse_ethernet, unpack_ethernet
from nodes.wire.icmp import (
    ICMP_ERROR_TYPES,
    IcmpType,
    build_error,
    build_icmp,
    parse_icmp,
    parse_quoted,
    parse_timestamp,
)
from nodes.wire.ipv4 import (
    IPV4_HLEN,
    BadOption,
    IPv4Packet,
    RecordRoute,
    build_ipv4,
    encode_options,
    packet_from_header,
    parse_ipv4,
    parse_options,
    plain_header,
    record_route_in_place,
)
from nodes.wire.tcp import (
    _TS_ONLY,
    TCP_HLEN,
    build_tcp_raw,
    encode_tcp_options,
    parse_tcp,
    parse_tcp_options,
)
from nodes.wire.udp import UDP_HLEN, build_udp, parse_udp
from tests.fuzz.registry import target

_FLAGS_SANS_RESERVED = 0x7FFF  # IPv4 flags/offset word without the reserved bit


def _without_checksum(data: bytes | bytearray | memoryview, at: int) -> bytes:
    """``data`` with the 16-bit checksum at ``at`` zeroed (0 and 0xFFFF both verify)."""
    out = bytearray(data)
    out[at : at + 2] = b"\0\0"
    return bytes(out)


@target("ethernet", runs=20_000)
def fuzz_ethernet(data: bytes) -> None:
    """parse_ethernet; rebuilt from its fields it is the same frame."""
    try:
        frame = parse_ethernet(data)
    except WireError:
        assert len(data) < ETH_HLEN
        return
    assert unpack_ethernet(data) == (frame.dst, frame.src, frame.ethertype)
    assert build_ethernet(frame.dst, frame.src, frame.ethertype, frame.payload) == data


@target("arp", runs=20_000)
def fuzz_arp(data: bytes) -> None:
    """parse_arp; a parsed packet builds back to the same 28 bytes."""
    try:
        pkt = parse_arp(data)
    except WireError:
        return
    assert pkt.build() == data[:ARP_LEN]


def _same_packet(a: IPv4Packet, b: IPv4Packet) -> None:
    for field in ("tos", "total_length", "ident", "df", "mf", "frag_offset", "ttl", "proto",
                  "src", "dst", "header_length", "options"):  # fmt: skip
        assert getattr(a, field) == getattr(b, field), field
    assert bytes(a.payload) == bytes(b.payload)


@target("ipv4", runs=15_000)
def fuzz_ipv4(data: bytes) -> None:
    """parse_ipv4 (with and without the checksum check) and its options; the fast path
    (plain_header) agrees with it; a parsed packet rebuilds to the same header and
    payload; record_route_in_place keeps the packet valid."""
    mv = memoryview(data)
    with contextlib.suppress(WireError):
        parse_ipv4(data, verify_checksum=False)
    h = plain_header(mv)
    try:
        pkt = parse_ipv4(data)
    except WireError:
        assert h is None, "the fast path accepted what the full parser rejects"
        return
    if h is not None:
        _same_packet(packet_from_header(h, mv), pkt)
    # rebuild from the fields (the reserved flag bit is not a field: left out)
    rebuilt = build_ipv4(
        src=pkt.src, dst=pkt.dst, proto=pkt.proto, payload=pkt.payload, ttl=pkt.ttl,
        ident=pkt.ident, tos=pkt.tos, df=pkt.df, mf=pkt.mf, frag_offset=pkt.frag_offset,
        options=bytes(pkt.header[IPV4_HLEN:]),
    )  # fmt: skip
    original = bytearray(data[: pkt.total_length])
    original[6] &= _FLAGS_SANS_RESERVED >> 8
    assert _without_checksum(rebuilt, 10) == _without_checksum(original, 10)
    if pkt.options:
        # decoded options encode to bytes that decode to the same options
        with contextlib.suppress(ValueError):
            encoded = encode_options(pkt.options)
            assert parse_options(encoded) == pkt.options
        buf = bytearray(data[: pkt.total_length])
        if record_route_in_place(buf, 0x0A000001):
            assert internet_checksum(memoryview(buf)[: pkt.header_length]) == 0
            assert buf[pkt.header_length :] == pkt.payload
            try:
                after = parse_ipv4(buf)
            except BadOption:
                # As in Linux (ip_options_compile): a record route whose length is not
                # 3 + 4n takes an address into its last whole slot, and then its pointer
                # leaves no room: the next hop rejects it. Only that may fail here.
                assert any(isinstance(o, RecordRoute) and (o.length - 3) % 4
                           for o in pkt.options)  # fmt: skip
            else:
                assert len(after.options) == len(pkt.options)


@target("icmp", runs=12_000)
def fuzz_icmp(data: bytes) -> None:
    """parse_icmp and what reads its body (quoted packet, timestamps); a message builds
    back to the same bytes; an error about any bytes builds and parses."""
    with contextlib.suppress(WireError):
        parse_icmp(data, verify_checksum=False)
    with contextlib.suppress(ValueError):
        err = build_error(IcmpType.DEST_UNREACH, 3, data)
        parse_icmp(err)  # our own error verifies
    try:
        msg = parse_icmp(data)
    except WireError:
        return
    rebuilt = build_icmp(msg.type, msg.code, msg.rest, msg.payload)
    assert _without_checksum(rebuilt, 2) == _without_checksum(data, 2)
    if msg.type in ICMP_ERROR_TYPES:
        with contextlib.suppress(WireError):
            quoted = parse_quoted(msg)
            assert quoted.header_length >= IPV4_HLEN and len(quoted.l4) <= len(msg.payload)
    with contextlib.suppress(WireError):
        parse_timestamp(msg)


@target("udp", runs=20_000)
def fuzz_udp(data: bytes) -> None:
    """parse_udp over a pseudo-header (the input's first 8 bytes); a datagram with a
    checksum builds back to the same bytes."""
    src, dst, segment = int.from_bytes(data[:4]), int.from_bytes(data[4:8]), data[8:]
    with contextlib.suppress(WireError):
        parse_udp(segment, src, dst, verify_checksum=False)
    try:
        dgram = parse_udp(segment, src, dst)
    except WireError:
        return
    assert dgram.length == UDP_HLEN + len(dgram.payload)
    if dgram.checksum:
        rebuilt = build_udp(src, dst, dgram.src_port, dgram.dst_port, dgram.payload)
        assert _without_checksum(rebuilt, 6) == _without_checksum(segment[: dgram.length], 6)


@target("tcp", runs=20_000)
def fuzz_tcp(data: bytes) -> None:
    """parse_tcp over a pseudo-header (the input's first 8 bytes) and its options; the
    timestamp fast path agrees with the full option parser; a segment builds back to the
    same bytes; decoded options encode to bytes that decode to the same options."""
    src, dst, segment = int.from_bytes(data[:4]), int.from_bytes(data[4:8]), data[8:]
    with contextlib.suppress(WireError):
        parse_tcp(segment, src, dst, verify_checksum=False)
    try:
        seg = parse_tcp(segment, src, dst)
    except WireError:
        return
    raw_options = segment[TCP_HLEN : seg.header_length]
    if raw_options[:4] == _TS_ONLY and seg.header_length == 32:
        assert parse_tcp_options(raw_options) == seg.options, "timestamp fast path differs"
    rebuilt = build_tcp_raw(
        src, dst, seg.src_port, seg.dst_port, seg.seq, seg.ack, seg.flags, seg.window,
        raw_options, seg.payload, seg.urgent,
    )  # fmt: skip
    assert _without_checksum(rebuilt, 16) == _without_checksum(segment, 16)
    try:
        encoded = encode_tcp_options(seg.options)
    except WireError:
        return  # more than 40 bytes of options once re-encoded: refused, typed
    assert parse_tcp_options(encoded) == seg.options
