"""TCP codec, cross-checked with scapy as an independent decoder in both directions."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scapy.layers.inet import IP, TCP

from nodes.wire.addr import ip_from_str
from nodes.wire.errors import BadChecksum, Malformed, Truncated, WireError
from nodes.wire.tcp import (
    TCP_HLEN,
    TcpFlags,
    TcpOptions,
    build_tcp,
    encode_tcp_options,
    parse_tcp,
)

SRC = ip_from_str("10.0.0.1")
DST = ip_from_str("10.0.1.2")


def scapy_tcp(raw: bytes) -> Any:
    pkt = IP(bytes(IP(src="10.0.0.1", dst="10.0.1.2", proto=6) / raw))
    return pkt[TCP]


def test_build_is_decoded_by_scapy_with_all_options() -> None:
    opts = TcpOptions(mss=1460, wscale=7, sack_permitted=True, timestamp=(123456, 654321))
    raw = build_tcp(
        SRC, DST, src_port=40000, dst_port=80, seq=0xFFFFFFF0, ack=7,
        flags=TcpFlags.SYN | TcpFlags.ACK, window=65535, options=opts, payload=b"hi",
    )  # fmt: skip
    assert raw[TCP_HLEN:].startswith(b"\x02\x04\x05\xb4\x04\x02\x08\x0a")  # Linux order
    t = scapy_tcp(raw)
    assert (t.sport, t.dport, t.seq, t.ack, t.window) == (40000, 80, 0xFFFFFFF0, 7, 65535)
    assert str(t.flags) == "SA"
    got = dict((k, v) for k, v in t.options if k != "NOP")
    assert got["MSS"] == 1460 and got["WScale"] == 7 and got["Timestamp"] == (123456, 654321)
    assert "SAckOK" in got
    assert bytes(t.payload) == b"hi"
    assert scapy_checksum(raw) == t.chksum


def scapy_checksum(raw: bytes) -> int:
    """scapy's own checksum of our segment (recomputed with chksum cleared)."""
    t = TCP(raw)
    t.chksum = None
    pkt = IP(bytes(IP(src="10.0.0.1", dst="10.0.1.2") / t))
    return int(pkt[TCP].chksum)


def test_scapy_built_segment_parses() -> None:
    pkt = IP(src="10.0.0.1", dst="10.0.1.2") / TCP(
        sport=1234, dport=5678, seq=1, ack=2, flags="PA", window=512, urgptr=3,
        options=[("NOP", None), ("NOP", None), ("SAck", (100, 200, 300, 400)),
                 ("Timestamp", (5, 6)), ("EOL", None)],
    ) / b"payload"  # fmt: skip
    raw = bytes(pkt)[20:]
    seg = parse_tcp(raw, SRC, DST)
    assert (seg.src_port, seg.dst_port, seg.seq, seg.ack, seg.window, seg.urgent) == (
        1234, 5678, 1, 2, 512, 3,
    )  # fmt: skip
    assert seg.flags == TcpFlags.PSH | TcpFlags.ACK
    assert seg.options.sack_blocks == ((100, 200), (300, 400))
    assert seg.options.timestamp == (5, 6)
    assert bytes(seg.payload) == b"payload"


def test_sack_blocks_round_trip_through_scapy() -> None:
    opts = TcpOptions(sack_blocks=((1, 2), (3, 4), (5, 6)), timestamp=(9, 10))
    raw = build_tcp(SRC, DST, src_port=1, dst_port=2, seq=3, ack=4, flags=TcpFlags.ACK,
                    window=5, options=opts)  # fmt: skip
    t = scapy_tcp(raw)
    got = dict((k, v) for k, v in t.options if k != "NOP")
    assert got["SAck"] == (1, 2, 3, 4, 5, 6)
    assert parse_tcp(raw, SRC, DST).options == opts


def test_unknown_option_skipped_and_kept() -> None:
    opts = TcpOptions(mss=536, unknown=((30, b"\x01\x02\x03"),))
    raw = build_tcp(SRC, DST, src_port=1, dst_port=2, seq=3, ack=4, flags=0, window=5,
                    options=opts)  # fmt: skip
    assert parse_tcp(raw, SRC, DST).options == opts
    assert len(encode_tcp_options(opts)) % 4 == 0


def test_known_option_with_wrong_length_is_ignored_like_linux() -> None:
    raw = bytearray(build_tcp(SRC, DST, src_port=1, dst_port=2, seq=3, ack=4, flags=0,
                              window=5, options=TcpOptions(unknown=((2, b"\x05"),))))  # fmt: skip
    seg = parse_tcp(raw, SRC, DST)
    assert seg.options.mss is None and seg.options.unknown == ((2, b"\x05"),)


def test_errors() -> None:
    good = build_tcp(SRC, DST, src_port=1, dst_port=2, seq=3, ack=4, flags=0, window=5,
                     payload=b"abc")  # fmt: skip
    with pytest.raises(Truncated):
        parse_tcp(good[:19], SRC, DST)
    bad = bytearray(good)
    bad[-1] ^= 0xFF
    with pytest.raises(BadChecksum) as info:
        parse_tcp(bad, SRC, DST)
    assert info.value.counter == "bad_checksum"
    assert parse_tcp(bad, SRC, DST, verify_checksum=False).payload.tobytes() == bytes(bad[-3:])
    short_off = bytearray(good)
    short_off[12] = 0x40
    with pytest.raises(Malformed):
        parse_tcp(short_off, SRC, DST, verify_checksum=False)
    long_off = bytearray(good)
    long_off[12] = 0xF0
    with pytest.raises(Truncated):
        parse_tcp(long_off, SRC, DST, verify_checksum=False)
    overrun = build_tcp(SRC, DST, src_port=1, dst_port=2, seq=3, ack=4, flags=0, window=5,
                        options=TcpOptions(unknown=((99, b"\x00\x00"),)))  # fmt: skip
    broken = bytearray(overrun)
    broken[21] = 40
    with pytest.raises(Malformed):
        parse_tcp(broken, SRC, DST, verify_checksum=False)


def test_payload_is_a_view_not_a_copy() -> None:
    raw = bytearray(build_tcp(SRC, DST, src_port=1, dst_port=2, seq=3, ack=4, flags=0,
                              window=5, payload=b"xyz"))  # fmt: skip
    seg = parse_tcp(raw, SRC, DST)
    raw[-1] = ord("Q")
    assert seg.payload.tobytes() == b"xyQ"


ports = st.integers(0, 0xFFFF)
u32 = st.integers(0, 0xFFFFFFFF)


@settings(max_examples=200, deadline=None)
@given(
    sport=ports, dport=ports, seq=u32, ack=u32, flags=st.integers(0, 0xFF), window=ports,
    mss=st.none() | ports, ws=st.none() | st.integers(0, 14), sack_ok=st.booleans(),
    ts=st.none() | st.tuples(u32, u32), payload=st.binary(max_size=64),
    blocks=st.lists(st.tuples(u32, u32), max_size=3),
)  # fmt: skip
def test_round_trip_and_scapy_agree(
    sport: int, dport: int, seq: int, ack: int, flags: int, window: int, mss: int | None,
    ws: int | None, sack_ok: bool, ts: tuple[int, int] | None, payload: bytes,
    blocks: list[tuple[int, int]],
) -> None:  # fmt: skip
    opts = TcpOptions(mss=mss, wscale=ws, sack_permitted=sack_ok, timestamp=ts,
                      sack_blocks=tuple(blocks))  # fmt: skip
    try:
        encode_tcp_options(opts)
    except Malformed:
        opts = TcpOptions(mss=mss, wscale=ws, sack_permitted=sack_ok, timestamp=ts)
    raw = build_tcp(SRC, DST, src_port=sport, dst_port=dport, seq=seq, ack=ack, flags=flags,
                    window=window, options=opts, payload=payload)  # fmt: skip
    seg = parse_tcp(raw, SRC, DST)
    assert seg.options == opts and bytes(seg.payload) == payload
    t = scapy_tcp(raw)
    assert (t.sport, t.dport, t.seq, t.ack, t.window, int(t.flags) & 0xFF) == (
        sport, dport, seq, ack, window, flags,
    )  # fmt: skip
    assert bytes(t.payload) == payload
    assert scapy_checksum(raw) == seg.checksum


@settings(max_examples=500, deadline=None)
@given(st.binary(max_size=80))
def test_random_bytes_never_crash(data: bytes) -> None:
    try:
        seg = parse_tcp(data, SRC, DST, verify_checksum=False)
    except WireError:
        return
    assert seg.header_length <= len(data)
