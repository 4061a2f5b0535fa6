"""The per-packet fast paths give exactly what the general code gives.

Checksums summed in chunks or from header fields, the plain-header IPv4 parse, the
TCP timestamp-options shortcut, the IP/Ethernet header built in one join from the ARP
header cache, and the router's forwarding shortcut (TTL - 1, RFC 1624 checksum) are all
checked against the straightforward computation on seeded random input.
"""

from __future__ import annotations

import random

import pytest

from nodes.router.forward import decrement_ttl, ttl_checksum
from nodes.router.router import Router
from nodes.stack.host import Host
from nodes.wire.addr import ip_from_str
from nodes.wire.arp import ArpOp, ArpPacket
from nodes.wire.checksum import incremental_update, internet_checksum, ones_sum
from nodes.wire.errors import WireError
from nodes.wire.ethernet import ETH_HLEN, EtherType, build_ethernet, parse_ethernet
from nodes.wire.ipv4 import (
    FLAG_DF,
    IPv4Packet,
    build_ipv4,
    ipv4_header,
    packet_from_header,
    parse_ipv4,
    plain_header,
)
from nodes.wire.tcp import (
    TcpOptions,
    build_tcp,
    build_tcp_raw,
    parse_tcp,
    parse_tcp_options,
    timestamp_only_options,
)
from nodes.wire.udp import build_udp

SRC, DST = ip_from_str("10.0.0.1"), ip_from_str("10.0.1.2")


def _reference_sum(data: bytes, initial: int = 0) -> int:
    if len(data) & 1:
        data += b"\x00"
    total = initial + sum(int.from_bytes(data[i : i + 2], "big") for i in range(0, len(data), 2))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return total


@pytest.mark.parametrize("n", [0, 1, 2, 3, 19, 20, 599, 600, 601, 602, 607, 1480, 1481, 9001])
def test_ones_sum_matches_the_word_by_word_sum(n: int) -> None:
    rng = random.Random(n)
    for _ in range(20):
        data = rng.randbytes(n)
        for initial in (0, 1, 0xFFFF, 0x1FFFE, rng.getrandbits(40)):
            want = _reference_sum(data, initial)
            assert ones_sum(data, initial) == want
            assert ones_sum(memoryview(data), initial) == want
            assert ones_sum(bytearray(data), initial) == want
    assert ones_sum(b"\xff" * n) == _reference_sum(b"\xff" * n)


def _full_header(src: int, dst: int, proto: int, total: int, ttl: int, ident: int, tos: int,
                 ff: int) -> bytes:  # fmt: skip
    head = bytearray(ipv4_header(src, dst, proto, total, ttl, ident, tos, ff))
    head[10:12] = b"\x00\x00"
    csum = internet_checksum(head)
    head[10:12] = csum.to_bytes(2, "big")
    return bytes(head)


def test_ipv4_header_checksum_is_the_full_computation() -> None:
    rng = random.Random(1)
    for _ in range(5000):
        args = (rng.getrandbits(32), rng.getrandbits(32), rng.getrandbits(8),
                rng.randrange(20, 65536), rng.getrandbits(8), rng.getrandbits(16),
                rng.getrandbits(8), rng.getrandbits(16))  # fmt: skip
        assert ipv4_header(*args) == _full_header(*args)


def test_plain_header_agrees_with_the_general_parse() -> None:
    rng = random.Random(2)
    for i in range(3000):
        raw = bytearray(
            build_ipv4(
                src=rng.getrandbits(32),
                dst=rng.getrandbits(32),
                proto=rng.choice((1, 6, 17)),
                payload=rng.randbytes(rng.randrange(0, 64)),
                ttl=rng.randrange(256),
                ident=rng.getrandbits(16),
                tos=rng.getrandbits(8),
                df=rng.random() < 0.5,
                mf=rng.random() < 0.2,
                frag_offset=8 * rng.randrange(0, 16),
            )
        )
        if i % 3 == 0:  # damage something: a byte, the length, the version
            raw[rng.randrange(len(raw))] ^= 1 << rng.randrange(8)
        mv = memoryview(bytes(raw) + rng.randbytes(rng.randrange(4)))  # link padding
        header = plain_header(mv)
        try:
            want: IPv4Packet | None = parse_ipv4(mv)
        except WireError:
            want = None
        if header is None:
            continue  # the general parse decides (options or an error)
        assert want is not None
        got = packet_from_header(header, mv)
        assert got == want and type(got) is IPv4Packet
        assert bytes(got.payload) == bytes(want.payload)


def test_parse_tcp_shortcuts_equal_the_general_options_parse() -> None:
    rng = random.Random(3)
    for _ in range(2000):
        ts = (rng.getrandbits(32), rng.getrandbits(32))
        opts = rng.choice([b"", timestamp_only_options(*ts), b"\x02\x04\x05\xb4"])
        payload = rng.randbytes(rng.choice((0, 1, 100, 1460, 1461)))
        seg = build_tcp_raw(SRC, DST, 1234, 80, rng.getrandbits(32), rng.getrandbits(32),
                            0x18, 65535, opts, payload)  # fmt: skip
        parsed = parse_tcp(seg, SRC, DST)
        assert parsed.options == parse_tcp_options(opts)
        assert bytes(parsed.payload) == payload
        assert type(parsed.options) is TcpOptions
        assert seg == build_tcp(SRC, DST, src_port=1234, dst_port=80, seq=parsed.seq,
                                ack=parsed.ack, flags=0x18, window=65535, payload=payload,
                                options=parsed.options)  # fmt: skip


def test_ttl_checksum_is_rfc1624_for_every_checksum() -> None:
    for csum in range(0x10000):
        assert ttl_checksum(csum) == incremental_update(csum, 0x4006, 0x3F06)


def _router() -> tuple[Router, bytes]:
    r = Router("r1", rng=random.Random(1))
    r.add_interface("eth0", "02:00:00:00:01:00", "10.0.0.2", 24)
    r.add_interface("eth1", "02:00:00:00:01:01", "10.0.1.1", 24)
    peer = bytes.fromhex("020000000200")
    ask = ArpPacket(ArpOp.REQUEST, peer, DST, bytes(6), ip_from_str("10.0.1.1")).build()
    r.receive_frame("eth1", build_ethernet(r.interfaces.get("eth1").mac, peer,
                                           EtherType.ARP, ask), now=0.0)  # fmt: skip
    r.frames_to_send()
    return r, peer


def test_router_fast_path_forwards_what_the_general_path_would() -> None:
    r, peer = _router()
    rng = random.Random(4)
    in_mac = r.interfaces.get("eth0").mac
    out_mac = r.interfaces.get("eth1").mac
    for _ in range(500):
        packet = build_ipv4(src=SRC, dst=DST, proto=17, ttl=rng.randrange(2, 256),
                            ident=rng.getrandbits(16), tos=rng.getrandbits(8),
                            df=rng.random() < 0.5,
                            payload=build_udp(SRC, DST, 5000, 5001, rng.randbytes(64)))  # fmt: skip
        frame = build_ethernet(in_mac, bytes.fromhex("020000000001"), EtherType.IPV4, packet)
        r.receive_frame("eth0", frame + bytes(rng.randrange(4)), now=1.0)  # padding too
        [(ifname, out)] = r.frames_to_send()
        want = bytearray(packet)
        decrement_ttl(want)
        assert ifname == "eth1"
        assert out == build_ethernet(peer, out_mac, EtherType.IPV4, bytes(want))
        assert internet_checksum(memoryview(out)[ETH_HLEN : ETH_HLEN + 20]) == 0
    assert r.counters()["ip_forw_datagrams"] == 500


def test_router_fast_path_leaves_ttl_expiry_to_the_general_path() -> None:
    r, _ = _router()
    packet = build_ipv4(src=SRC, dst=DST, proto=17, ttl=1, payload=b"x" * 8)
    frame = build_ethernet(r.interfaces.get("eth0").mac, bytes.fromhex("020000000001"),
                           EtherType.IPV4, packet)  # fmt: skip
    r.receive_frame("eth0", frame, now=1.0)
    assert r.counters()["ip_forw_ttl_exceeded"] == 1
    assert r.counters()["ip_forw_datagrams"] == 0


def test_host_send_path_builds_the_frame_the_codecs_would() -> None:
    h = Host("h1", rng=random.Random(1))
    h.add_interface("eth0", "02:00:00:00:00:01", "10.0.0.1", 24)
    h.add_route("0.0.0.0", 0, "10.0.0.2")
    gw_mac = bytes.fromhex("020000000100")
    ask = ArpPacket(ArpOp.REQUEST, gw_mac, ip_from_str("10.0.0.2"), bytes(6), SRC).build()
    h.receive_frame("eth0", build_ethernet(h.interfaces.get("eth0").mac, gw_mac,
                                           EtherType.ARP, ask), now=0.0)  # fmt: skip
    h.frames_to_send()
    for df in (False, True):
        assert h.send_ip(DST, 6, b"segment", now=1.0, df=df, tos=0x10)
        [(ifname, frame)] = h.frames_to_send()
        eth = parse_ethernet(frame)
        pkt = parse_ipv4(eth.payload)
        assert ifname == "eth0" and eth.dst == gw_mac and eth.ethertype == EtherType.IPV4
        assert frame[ETH_HLEN:] == build_ipv4(src=SRC, dst=DST, proto=6, payload=b"segment",
                                              ident=pkt.ident, tos=0x10, df=df)  # fmt: skip
        assert bool(pkt.df) == df and (pkt.total_length == 27)
    assert FLAG_DF == 0x4000
