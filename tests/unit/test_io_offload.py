"""PACKET_AUXDATA decoding and completing CHECKSUM_PARTIAL frames (nodes/io/offload.py)."""

from __future__ import annotations

import struct

import pytest

from nodes.io.offload import (
    AUXDATA_SIZE,
    TP_STATUS_CSUM_VALID,
    TP_STATUS_CSUMNOTREADY,
    complete_checksum,
    parse_auxdata,
)
from nodes.wire.arp import ArpOp, ArpPacket
from nodes.wire.checksum import ones_sum, pseudo_header_sum, verify_transport
from nodes.wire.ethernet import EtherType, build_ethernet
from nodes.wire.ipv4 import build_ipv4
from nodes.wire.tcp import TcpFlags, build_tcp
from nodes.wire.udp import build_udp

SRC, DST = 0x0AC70001, 0x0AC70002  # 10.199.0.1 -> 10.199.0.2
MAC_A, MAC_B = bytes.fromhex("020000000001"), bytes.fromhex("020000000002")


def partial(frame: bytes, field: int) -> bytearray:
    """What a Linux sender with tx checksum offload hands over veth: the checksum field
    holds only the folded pseudo-header sum (CHECKSUM_PARTIAL)."""
    buf = bytearray(frame)
    ihl = (buf[14] & 0x0F) * 4
    total = struct.unpack_from("!H", buf, 16)[0]
    at = 14 + ihl + field
    pseudo = pseudo_header_sum(SRC, DST, buf[14 + 9], total - ihl)
    struct.pack_into("!H", buf, at, pseudo)
    return buf


def udp_frame(payload: bytes) -> bytes:
    ip = build_ipv4(src=SRC, dst=DST, proto=17, payload=build_udp(SRC, DST, 4000, 7, payload))
    return build_ethernet(MAC_B, MAC_A, EtherType.IPV4, ip)


def segment_of(frame: bytes | bytearray) -> bytes:
    return bytes(frame[34:])


def test_auxdata_decodes_the_kernel_struct() -> None:
    raw = struct.pack("=IIIHHHH", TP_STATUS_CSUMNOTREADY | 1, 1514, 1514, 0, 14, 5, 0x8100)
    aux = parse_auxdata(raw)
    assert AUXDATA_SIZE == 20
    assert aux.csum_not_ready and not aux.csum_valid and not aux.vlan_valid
    assert (aux.length, aux.snaplen, aux.mac_offset, aux.net_offset) == (1514, 1514, 0, 14)
    assert (aux.vlan_tci, aux.vlan_tpid) == (5, 0x8100)
    assert parse_auxdata(struct.pack("=IIIHHHH", TP_STATUS_CSUM_VALID, 60, 60, 0, 14, 0, 0))
    with pytest.raises(ValueError, match="20 bytes"):
        parse_auxdata(raw[:12])


def test_completes_a_partial_udp_checksum() -> None:
    good = udp_frame(b"hello offload")
    buf = partial(good, 6)
    assert not verify_transport(SRC, DST, 17, segment_of(buf))  # as read: would be "corrupt"
    assert complete_checksum(buf)
    assert bytes(buf) == good and verify_transport(SRC, DST, 17, segment_of(buf))


def test_completes_a_partial_tcp_checksum_odd_length() -> None:
    seg = build_tcp(SRC, DST, src_port=5000, dst_port=80, seq=1, ack=0, flags=TcpFlags.SYN,
                    window=64240, payload=b"abc")  # fmt: skip
    good = build_ethernet(MAC_B, MAC_A, EtherType.IPV4, build_ipv4(src=SRC, dst=DST, proto=6,
                                                                   payload=seg))  # fmt: skip
    buf = partial(good, 16)
    assert complete_checksum(buf) and bytes(buf) == good


def test_udp_checksum_zero_is_sent_as_ffff() -> None:
    # choose a 2-byte payload so that the ones' sum is 0xFFFF (computed checksum 0)
    base = build_udp(SRC, DST, 4000, 7, b"\x00\x00")
    zeroed = bytearray(base)
    zeroed[6:8] = b"\x00\x00"
    rest = ones_sum(zeroed, pseudo_header_sum(SRC, DST, 17, len(zeroed)))
    word = (0xFFFF - rest).to_bytes(2, "big")
    ip = build_ipv4(src=SRC, dst=DST, proto=17, payload=build_udp(SRC, DST, 4000, 7, word))
    buf = partial(build_ethernet(MAC_B, MAC_A, EtherType.IPV4, ip), 6)
    assert complete_checksum(buf)
    assert buf[40:42] == b"\xff\xff" and verify_transport(SRC, DST, 17, segment_of(buf))


def test_leaves_other_frames_alone() -> None:
    arp = ArpPacket(ArpOp.REQUEST, MAC_A, SRC, bytes(6), DST).build()
    frames = [
        bytearray(build_ethernet(MAC_B, MAC_A, EtherType.ARP, arp)),
        bytearray(build_ethernet(MAC_B, MAC_A, EtherType.IPV4,
                                 build_ipv4(src=SRC, dst=DST, proto=1, payload=b"\x08" * 8))),
        bytearray(build_ethernet(MAC_B, MAC_A, EtherType.IPV4,
                                 build_ipv4(src=SRC, dst=DST, proto=17, payload=b"x" * 16,
                                            mf=True))),
        bytearray(udp_frame(b"short")[:40]),  # IP total length beyond the frame
        bytearray(b"\x00" * 20),
    ]  # fmt: skip
    for frame in frames:
        before = bytes(frame)
        assert not complete_checksum(frame)
        assert bytes(frame) == before
