"""ARP for IPv4 over Ethernet (RFC 826): 28-byte packets, htype 1, ptype 0x0800."""

from __future__ import annotations

import struct
from dataclasses import dataclass
from enum import IntEnum

from nodes.wire.errors import Malformed, Truncated

ARP_LEN = 28
HTYPE_ETHERNET = 1
PTYPE_IPV4 = 0x0800

_PKT = struct.Struct("!HHBBH6sI6sI")


class ArpOp(IntEnum):
    REQUEST = 1
    REPLY = 2


@dataclass(frozen=True, slots=True)
class ArpPacket:
    op: int
    sender_mac: bytes
    sender_ip: int
    target_mac: bytes
    target_ip: int

    def build(self) -> bytes:
        """The 28-byte wire form (no Ethernet header, no padding)."""
        if len(self.sender_mac) != 6 or len(self.target_mac) != 6:
            raise ValueError("ARP MAC addresses must be 6 bytes")
        return _PKT.pack(
            HTYPE_ETHERNET,
            PTYPE_IPV4,
            6,
            4,
            self.op,
            self.sender_mac,
            self.sender_ip,
            self.target_mac,
            self.target_ip,
        )

    @property
    def is_gratuitous(self) -> bool:
        """Sender and target protocol addresses equal (RFC 5227 announcement)."""
        return self.sender_ip == self.target_ip


def parse_arp(buf: bytes | bytearray | memoryview) -> ArpPacket:
    """Decode an Ethernet/IPv4 ARP packet; trailing padding is ignored.

    Raises :class:`Truncated` below 28 bytes and :class:`Malformed` for another
    hardware/protocol type or address length, or an operation other than request/reply.
    """
    if len(buf) < ARP_LEN:
        raise Truncated("arp", f"packet of {len(buf)} bytes is shorter than 28")
    htype, ptype, hlen, plen, op, sha, spa, tha, tpa = _PKT.unpack_from(buf)
    if htype != HTYPE_ETHERNET or ptype != PTYPE_IPV4 or hlen != 6 or plen != 4:
        raise Malformed(
            "arp",
            f"unsupported htype {htype} ptype {ptype:#06x} hlen {hlen} plen {plen}"
            " (only Ethernet/IPv4 is handled)",
        )
    if op != ArpOp.REQUEST and op != ArpOp.REPLY:
        raise Malformed("arp", f"unknown operation {op}")
    return ArpPacket(op, sha, spa, tha, tpa)
