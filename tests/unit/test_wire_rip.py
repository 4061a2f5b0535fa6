"""nodes/wire/rip.py: RIPv2 messages (RFC 2453) and keyed MD5 (RFC 2082), checked against
scapy's RIP layers as an independent decoder and encoder."""

from __future__ import annotations

import contextlib
import hashlib
import struct

import pytest
from hypothesis import given
from hypothesis import strategies as st
from scapy.layers.rip import RIP, RIPAuth, RIPEntry
from scapy.packet import Packet

from nodes.wire.addr import ip_from_str, ip_to_str, prefix_mask
from nodes.wire.errors import Malformed, Truncated
from nodes.wire.rip import (
    AF_AUTH,
    INFINITY,
    MAX_ENTRIES,
    Md5Auth,
    Md5Key,
    RipCommand,
    RipEntry,
    SimpleAuth,
    build_rip,
    max_routes,
    md5_digest,
    parse_rip,
    verify_md5,
    whole_table_request,
)


def entry(prefix: str, metric: int, *, tag: int = 0, hop: str = "0.0.0.0") -> RipEntry:
    net, plen = prefix.split("/")
    return RipEntry(ip_from_str(net), prefix_mask(int(plen)), metric, ip_from_str(hop), tag)


def scapy_entries(pkt: Packet) -> list[Packet]:
    """scapy's route entries (it reads an MD5 trailer right after the header as an entry
    of family 0xFFFF: left out)."""
    return [x for x in _layers(pkt) if isinstance(x, RIPEntry) and x.AF != AF_AUTH]


def _layers(pkt: Packet) -> list[Packet]:
    out = []
    layer: Packet | None = pkt
    while layer is not None and not isinstance(layer, bytes):
        out.append(layer)
        layer = layer.payload if layer.payload else None
    return out


def test_response_decodes_in_scapy() -> None:
    entries = [entry("10.1.0.0/16", 1, tag=7), entry("192.168.4.0/24", 16, hop="10.0.0.9")]
    data = build_rip(RipCommand.RESPONSE, entries)
    assert len(data) == 4 + 2 * 20
    pkt = RIP(data)
    assert pkt.cmd == 2 and pkt.version == 2 and pkt.null == 0
    got = scapy_entries(pkt)
    assert [(e.AF, e.RouteTag, e.addr, e.mask, e.nextHop, e.metric) for e in got] == [
        (2, 7, "10.1.0.0", "255.255.0.0", "0.0.0.0", 1),
        (2, 0, "192.168.4.0", "255.255.255.0", "10.0.0.9", 16),
    ]


def test_parses_what_scapy_builds() -> None:
    raw = bytes(
        RIP(cmd=2, version=2)
        / RIPEntry(RouteTag=3, addr="10.2.0.0", mask="255.255.255.0", nextHop="10.0.0.1", metric=4)
        / RIPEntry(addr="0.0.0.0", mask="0.0.0.0", metric=1)
    )
    msg = parse_rip(raw)
    assert msg.command == RipCommand.RESPONSE and msg.version == 2 and msg.auth is None
    first, default = msg.entries
    assert ip_to_str(first.address) == "10.2.0.0" and first.prefix_len == 24
    assert (first.metric, first.tag, ip_to_str(first.next_hop)) == (4, 3, "10.0.0.1")
    assert default.prefix_len == 0 and default.metric == 1


def test_whole_table_request() -> None:
    data = build_rip(RipCommand.REQUEST, [whole_table_request()])
    pkt = RIP(data)
    assert pkt.cmd == 1
    (e,) = scapy_entries(pkt)
    assert e.AF == 0 and e.metric == INFINITY
    (parsed,) = parse_rip(data).entries
    assert parsed.is_whole_table_request
    assert not entry("10.0.0.0/8", 16).is_whole_table_request  # family 2


def test_md5_matches_scapy_layout_and_an_independent_digest() -> None:
    key = b"s3cret"
    entries = [entry("10.3.0.0/24", 2), entry("10.4.0.0/24", 3)]
    data = build_rip(RipCommand.RESPONSE, entries, md5=Md5Key(key, key_id=5, sequence=77))
    assert len(data) == 4 + 20 + 2 * 20 + 20
    pkt = RIP(data)
    auth = [layer for layer in _layers(pkt) if isinstance(layer, RIPAuth)]
    header, trailer = auth
    assert header.authtype == 3 and header.keyid == 5 and header.authdatalen == 16
    assert header.seqnum == 77 and header.digestoffset == 4 + 20 + 40
    assert trailer.authtype == 1 and len(trailer.authdata) == 16
    assert len(scapy_entries(pkt)) == 2
    # RFC 2082: MD5 over the packet through the trailer's header, then the key padded to 16
    signed = data[: header.digestoffset + 4]
    assert trailer.authdata == hashlib.md5(signed + key.ljust(16, b"\0")).digest()
    msg = parse_rip(data)
    assert isinstance(msg.auth, Md5Auth) and msg.auth.sequence == 77 and msg.auth.key_id == 5
    assert len(msg.entries) == 2  # the trailer is no route
    assert verify_md5(data, msg.auth, key)
    assert not verify_md5(data, msg.auth, b"other")
    tampered = bytearray(data)
    tampered[30] ^= 1
    assert not verify_md5(bytes(tampered), parse_rip(bytes(tampered)).auth, key)  # type: ignore[arg-type]


def test_md5_message_built_by_scapy_verifies() -> None:
    body = bytes(
        RIP(cmd=2, version=2)
        / RIPAuth(authtype=3, digestoffset=44, keyid=1, authdatalen=16, seqnum=9)
        / RIPEntry(addr="10.5.0.0", mask="255.255.255.0", metric=2)
    ) + struct.pack("!HH", 0xFFFF, 1)
    data = body + md5_digest(body, b"k")
    msg = parse_rip(data)
    assert isinstance(msg.auth, Md5Auth) and verify_md5(data, msg.auth, b"k")
    assert [ip_to_str(e.address) for e in msg.entries] == ["10.5.0.0"]


def test_simple_password_is_recognised() -> None:
    raw = bytes(
        RIP(cmd=2, version=2)
        / RIPAuth(authtype=2, password=b"pw".ljust(16, b"\0"))
        / RIPEntry(addr="10.6.0.0", mask="255.255.0.0", metric=1)
    )
    msg = parse_rip(raw)
    assert msg.auth == SimpleAuth(b"pw".ljust(16, b"\0")) and len(msg.entries) == 1


def test_a_message_holds_25_entries_23_with_md5() -> None:
    assert MAX_ENTRIES == 25 and max_routes(True) == 23
    full = [entry(f"10.{i}.0.0/16", 1) for i in range(25)]
    assert len(build_rip(RipCommand.RESPONSE, full)) == 504
    with pytest.raises(ValueError):
        build_rip(RipCommand.RESPONSE, [*full, entry("10.99.0.0/16", 1)])
    with pytest.raises(ValueError):
        build_rip(RipCommand.RESPONSE, full[:24], md5=Md5Key(b"k"))
    assert len(build_rip(RipCommand.RESPONSE, full[:23], md5=Md5Key(b"k"))) == 504


def test_prefix_len_of_masks() -> None:
    assert entry("10.0.0.0/8", 1).prefix_len == 8
    assert entry("0.0.0.0/0", 1).prefix_len == 0
    assert RipEntry(0, 0xFFFFFFFF, 1).prefix_len == 32
    assert RipEntry(0, 0xFF00FF00, 1).prefix_len is None  # not contiguous


@pytest.mark.parametrize(
    ("data", "error"),
    [
        (b"\x02\x02", Truncated),
        (b"\x02\x02\x00\x00" + b"\x00" * 19, Malformed),  # not 4 + 20n
        (b"\x02\x02\x00\x00" + b"\x00\x02" + b"\x00" * 18 * 26 + b"\x00" * 44, Malformed),
        # an authentication entry after a route
        (
            b"\x02\x02\x00\x00" + b"\x00\x02" + b"\x00" * 18 + b"\xff\xff\x00\x02" + b"\x00" * 16,
            Malformed,
        ),
        # MD5 header whose digest offset points past the message
        (b"\x02\x02\x00\x00" + struct.pack("!HHHBBI8x", AF_AUTH, 3, 200, 1, 16, 0), Malformed),
        # MD5 header without its trailer
        (
            b"\x02\x02\x00\x00"
            + struct.pack("!HHHBBI8x", AF_AUTH, 3, 24, 1, 16, 0)
            + b"\x00\x02"
            + b"\x00" * 18,
            Malformed,
        ),
        # unknown authentication type
        (b"\x02\x02\x00\x00" + struct.pack("!HH16s", AF_AUTH, 9, b""), Malformed),
    ],
)
def test_bad_messages_raise_typed_errors(data: bytes, error: type[Exception]) -> None:
    with pytest.raises(error):
        parse_rip(data)


@given(
    st.lists(
        st.tuples(
            st.integers(0, 2**32 - 1),
            st.integers(0, 32),
            st.integers(0, 16),
            st.integers(0, 2**32 - 1),
            st.integers(0, 0xFFFF),
        ),
        max_size=23,
    ),
    st.one_of(st.none(), st.binary(min_size=1, max_size=16)),
    st.integers(0, 2**32 - 1),
)
def test_round_trip(
    rows: list[tuple[int, int, int, int, int]], key: bytes | None, seq: int
) -> None:
    entries = [RipEntry(a & prefix_mask(p), prefix_mask(p), m, h, t) for a, p, m, h, t in rows]
    md5 = None if key is None else Md5Key(key, 1, seq)
    data = build_rip(RipCommand.RESPONSE, entries, md5=md5)
    msg = parse_rip(data)
    assert msg.entries == tuple(entries)
    if key is not None:
        assert isinstance(msg.auth, Md5Auth) and verify_md5(data, msg.auth, key)
    assert len(scapy_entries(RIP(data))) == len(entries)


@given(st.binary(max_size=600))
def test_parser_never_crashes(data: bytes) -> None:
    with contextlib.suppress(Truncated, Malformed):
        parse_rip(data)
