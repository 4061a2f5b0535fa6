"""nodes/wire/ethernet.py: round trips, scapy as the independent decoder/encoder,
truncation, zero-copy payloads."""

from __future__ import annotations

import pytest
from scapy.layers.l2 import Ether
from scapy.packet import Padding, Raw

from nodes.wire.addr import BROADCAST_MAC, mac_from_str, mac_to_str
from nodes.wire.errors import Truncated, WireError
from nodes.wire.ethernet import (
    ETH_HLEN,
    EthernetFrame,
    EtherType,
    build_ethernet,
    parse_ethernet,
)

MAC_A = mac_from_str("02:00:00:00:00:01")
MAC_B = mac_from_str("02:00:00:00:00:02")

CASES = [
    (BROADCAST_MAC, MAC_A, EtherType.ARP, b"\x00" * 28),
    (MAC_B, MAC_A, EtherType.IPV4, b"\x45" + bytes(range(100))),
    (MAC_A, MAC_B, EtherType.IPV6, b""),
    (MAC_A, MAC_B, EtherType.VLAN, b"\x00\x05\x08\x00payload"),
    (MAC_A, MAC_B, 0x88B5, bytes(1500)),
]


@pytest.mark.parametrize(("dst", "src", "ethertype", "payload"), CASES)
def test_round_trip(dst: bytes, src: bytes, ethertype: int, payload: bytes) -> None:
    raw = build_ethernet(dst, src, ethertype, payload)
    assert len(raw) == ETH_HLEN + len(payload)
    frame = parse_ethernet(raw)
    assert frame == EthernetFrame(dst, src, ethertype, memoryview(payload))
    assert (frame.dst, frame.src, frame.ethertype) == (dst, src, ethertype)
    assert bytes(frame.payload) == payload


@pytest.mark.parametrize(("dst", "src", "ethertype", "payload"), CASES)
def test_scapy_decodes_our_frames(dst: bytes, src: bytes, ethertype: int, payload: bytes) -> None:
    pkt = Ether(build_ethernet(dst, src, ethertype, payload))
    assert pkt.dst == mac_to_str(dst)
    assert pkt.src == mac_to_str(src)
    assert pkt.type == ethertype
    assert bytes(pkt.payload) == payload


@pytest.mark.parametrize(("dst", "src", "ethertype", "payload"), CASES)
def test_we_decode_scapy_frames(dst: bytes, src: bytes, ethertype: int, payload: bytes) -> None:
    raw = bytes(Ether(dst=mac_to_str(dst), src=mac_to_str(src), type=ethertype) / Raw(payload))
    frame = parse_ethernet(raw)
    assert (frame.dst, frame.src, frame.ethertype) == (dst, src, ethertype)
    assert bytes(frame.payload) == payload


def test_padded_frame_is_accepted_with_padding_in_payload() -> None:
    raw = bytes(
        Ether(dst="ff:ff:ff:ff:ff:ff", src=mac_to_str(MAC_A)) / Raw(b"x") / Padding(bytes(45))
    )
    assert len(raw) == 60
    frame = parse_ethernet(raw)
    assert len(frame.payload) == 46
    assert bytes(frame.payload[:1]) == b"x"


@pytest.mark.parametrize("kind", [bytes, bytearray, memoryview])
def test_accepts_every_buffer_type_and_does_not_copy(kind: type) -> None:
    backing = bytearray(build_ethernet(MAC_A, MAC_B, EtherType.IPV4, b"abcdef"))
    buf = kind(backing) if kind is not bytearray else backing
    frame = parse_ethernet(buf)
    assert isinstance(frame.payload, memoryview)
    assert bytes(frame.payload) == b"abcdef"
    if kind is not bytes:
        backing[ETH_HLEN] = ord("z")  # the payload is a view on the caller's buffer
        assert bytes(frame.payload) == b"zbcdef"


@pytest.mark.parametrize("cut", range(ETH_HLEN))
def test_truncated_at_every_length(cut: int) -> None:
    raw = build_ethernet(MAC_A, MAC_B, EtherType.IPV4, b"data")
    with pytest.raises(Truncated) as info:
        parse_ethernet(raw[:cut])
    assert isinstance(info.value, WireError)
    assert info.value.counter == "truncated"
    assert info.value.layer == "ethernet"


def test_header_only_frame_has_empty_payload() -> None:
    frame = parse_ethernet(build_ethernet(MAC_A, MAC_B, EtherType.ARP, b""))
    assert len(frame.payload) == 0


@pytest.mark.parametrize(("dst", "src"), [(b"\x00" * 5, MAC_A), (MAC_A, b"\x00" * 7)])
def test_builder_rejects_bad_mac_lengths(dst: bytes, src: bytes) -> None:
    with pytest.raises(ValueError):
        build_ethernet(dst, src, EtherType.IPV4, b"")


def test_frame_is_frozen() -> None:
    frame = parse_ethernet(build_ethernet(MAC_A, MAC_B, EtherType.IPV4, b""))
    with pytest.raises(AttributeError):
        frame.ethertype = 1  # type: ignore[misc]
