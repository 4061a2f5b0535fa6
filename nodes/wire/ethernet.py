"""Ethernet II frames (IEEE 802.3 with an EtherType).

The parser is on the per-frame hot path: one precompiled ``struct`` unpack, a
memoryview slice for the payload, no copies of the payload. Frames padded to the
60-byte minimum are accepted; the upper layer cuts the padding by its own length.
"""

from __future__ import annotations

# builtins.memoryview in dataclass fields: compiled by mypyc (setup.py), a bare memoryview
# there fails at import (KeyError: 'memoryview')
import builtins
import struct
from collections.abc import Callable
from dataclasses import dataclass
from enum import IntEnum

from nodes.wire.errors import Truncated

ETH_HLEN = 14
ETH_ALEN = 6
ETH_ZLEN = 60  # minimum frame length without the FCS (padding is the sender's choice)

_HDR = struct.Struct("!6s6sH")

ETH_P_IP = 0x0800  # plain ints for per-frame comparisons (EtherType members are slower)
ETH_P_ARP = 0x0806

# The per-frame hot path: (dst, src, ethertype) of a frame of at least ETH_HLEN bytes
# (the caller checks the length), one C call, no dataclass.
unpack_ethernet: Callable[[bytes | bytearray | memoryview], tuple[bytes, bytes, int]]
unpack_ethernet = _HDR.unpack_from


class EtherType(IntEnum):
    IPV4 = 0x0800
    ARP = 0x0806
    VLAN = 0x8100
    IPV6 = 0x86DD


@dataclass(frozen=True, slots=True)
class EthernetFrame:
    dst: bytes
    src: bytes
    ethertype: int
    payload: builtins.memoryview  # everything after the 14-byte header, padding included


def parse_ethernet(buf: bytes | bytearray | memoryview) -> EthernetFrame:
    """Decode an Ethernet II header. Raises :class:`Truncated` below 14 bytes."""
    mv = buf if isinstance(buf, memoryview) else memoryview(buf)
    if len(mv) < ETH_HLEN:
        raise Truncated("ethernet", f"frame of {len(mv)} bytes is shorter than the 14-byte header")
    dst, src, ethertype = _HDR.unpack_from(mv)
    return EthernetFrame(dst, src, ethertype, mv[ETH_HLEN:])


def build_ethernet(dst: bytes, src: bytes, ethertype: int, payload: bytes | memoryview) -> bytes:
    """Encode an Ethernet II frame (no padding, no FCS)."""
    return b"".join((ethernet_header(dst, src, ethertype), payload))


def ethernet_header(dst: bytes, src: bytes, ethertype: int) -> bytes:
    """The 14-byte header alone: what a neighbour entry caches to prepend to every
    packet it carries (Linux's hardware header cache)."""
    if len(dst) != ETH_ALEN or len(src) != ETH_ALEN:
        raise ValueError(f"MAC addresses must be 6 bytes, got {len(dst)} and {len(src)}")
    return _HDR.pack(dst, src, ethertype)
