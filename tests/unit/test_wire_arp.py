"""nodes/wire/arp.py: round trips, scapy cross-checks, padding, bad fields, truncation."""

from __future__ import annotations

import struct

import pytest
from scapy.layers.l2 import ARP, Ether
from scapy.packet import Padding

from nodes.wire.addr import ZERO_MAC, ip_from_str, ip_to_str, mac_from_str, mac_to_str
from nodes.wire.arp import ARP_LEN, ArpOp, ArpPacket, parse_arp
from nodes.wire.errors import Malformed, Truncated
from nodes.wire.ethernet import EtherType, parse_ethernet

MAC_A = mac_from_str("02:00:00:00:00:0a")
MAC_B = mac_from_str("02:00:00:00:00:0b")
IP_A = ip_from_str("10.0.0.1")
IP_B = ip_from_str("10.0.0.2")

CASES = [
    ArpPacket(ArpOp.REQUEST, MAC_A, IP_A, ZERO_MAC, IP_B),
    ArpPacket(ArpOp.REPLY, MAC_B, IP_B, MAC_A, IP_A),
    ArpPacket(ArpOp.REQUEST, MAC_A, IP_A, ZERO_MAC, IP_A),  # gratuitous
    ArpPacket(ArpOp.REPLY, b"\xff" * 6, 0xFFFFFFFF, b"\x00" * 6, 0),
]


@pytest.mark.parametrize("pkt", CASES)
def test_round_trip(pkt: ArpPacket) -> None:
    raw = pkt.build()
    assert len(raw) == ARP_LEN
    assert parse_arp(raw) == pkt


@pytest.mark.parametrize("pkt", CASES)
def test_scapy_decodes_our_packets(pkt: ArpPacket) -> None:
    s = ARP(pkt.build())
    assert (s.hwtype, s.ptype, s.hwlen, s.plen) == (1, 0x0800, 6, 4)
    assert s.op == pkt.op
    assert s.hwsrc == mac_to_str(pkt.sender_mac)
    assert s.psrc == ip_to_str(pkt.sender_ip)
    assert s.hwdst == mac_to_str(pkt.target_mac)
    assert s.pdst == ip_to_str(pkt.target_ip)


@pytest.mark.parametrize("pkt", CASES)
def test_we_decode_scapy_packets(pkt: ArpPacket) -> None:
    raw = bytes(
        ARP(
            op=pkt.op,
            hwsrc=mac_to_str(pkt.sender_mac),
            psrc=ip_to_str(pkt.sender_ip),
            hwdst=mac_to_str(pkt.target_mac),
            pdst=ip_to_str(pkt.target_ip),
        )
    )
    assert parse_arp(raw) == pkt


def test_padded_ethernet_frame_from_scapy() -> None:
    frame = bytes(
        Ether(dst="ff:ff:ff:ff:ff:ff", src=mac_to_str(MAC_A))
        / ARP(op=1, hwsrc=mac_to_str(MAC_A), psrc="10.0.0.1", pdst="10.0.0.2")
        / Padding(bytes(18))
    )
    assert len(frame) == 60
    eth = parse_ethernet(frame)
    assert eth.ethertype == EtherType.ARP
    assert parse_arp(eth.payload) == CASES[0]


def test_gratuitous_property() -> None:
    assert CASES[2].is_gratuitous
    assert not CASES[0].is_gratuitous


@pytest.mark.parametrize("cut", range(ARP_LEN))
def test_truncated_at_every_length(cut: int) -> None:
    with pytest.raises(Truncated):
        parse_arp(CASES[0].build()[:cut])


def _with_fields(**fields: int) -> bytes:
    values = {"htype": 1, "ptype": 0x0800, "hlen": 6, "plen": 4, "op": 1} | fields
    head = struct.pack(
        "!HHBBH", values["htype"], values["ptype"], values["hlen"], values["plen"], values["op"]
    )
    return head + CASES[0].build()[8:]


@pytest.mark.parametrize(
    "fields",
    [{"htype": 6}, {"ptype": 0x86DD}, {"hlen": 8}, {"plen": 16}, {"op": 0}, {"op": 3}],
)
def test_malformed_fields(fields: dict[str, int]) -> None:
    with pytest.raises(Malformed) as info:
        parse_arp(_with_fields(**fields))
    assert info.value.counter == "malformed"


def test_builder_rejects_bad_mac_length() -> None:
    with pytest.raises(ValueError):
        ArpPacket(ArpOp.REQUEST, b"\x01", IP_A, ZERO_MAC, IP_B).build()
