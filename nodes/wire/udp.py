"""UDP (RFC 768). A checksum of 0 means none was sent; a computed 0 is sent as 0xFFFF."""

from __future__ import annotations

# builtins.memoryview in dataclass fields: compiled by mypyc (setup.py), a bare memoryview
# there fails at import (KeyError: 'memoryview')
import builtins
import struct
from dataclasses import dataclass

from nodes.wire.checksum import internet_checksum, ones_sum, pseudo_header_sum, verify_transport
from nodes.wire.errors import BadChecksum, Malformed, Truncated

UDP_HLEN = 8
UDP_PROTO = 17
UDP_MAX_LENGTH = 65535

_HDR = struct.Struct("!HHHH")


@dataclass(frozen=True, slots=True)
class UdpDatagram:
    src_port: int
    dst_port: int
    length: int
    checksum: int
    payload: builtins.memoryview  # exactly length - 8 bytes


def parse_udp(
    buf: bytes | bytearray | memoryview,
    src_ip: int,
    dst_ip: int,
    *,
    verify_checksum: bool = True,
) -> UdpDatagram:
    """Decode a UDP datagram (the IP payload); ``payload`` is cut to the UDP length.

    Raises :class:`Truncated` below 8 bytes or when the length field exceeds the buffer,
    :class:`Malformed` for a length field under 8, and :class:`BadChecksum` for a nonzero
    checksum that does not verify against the pseudo-header.
    """
    mv = buf if isinstance(buf, memoryview) else memoryview(buf)
    n = len(mv)
    if n < UDP_HLEN:
        raise Truncated("udp", f"datagram of {n} bytes is shorter than the 8-byte header")
    sport, dport, length, csum = _HDR.unpack_from(mv)
    if length < UDP_HLEN:
        raise Malformed("udp", f"length field {length} is below 8")
    if length > n:
        raise Truncated("udp", f"length field {length} exceeds the {n} bytes received")
    if length < n:
        mv = mv[:length]
    if csum and verify_checksum and not verify_transport(src_ip, dst_ip, UDP_PROTO, mv):
        raise BadChecksum("udp", f"checksum {csum:#06x} does not verify")
    return UdpDatagram(sport, dport, length, csum, mv[UDP_HLEN:])


def build_udp(
    src_ip: int, dst_ip: int, src_port: int, dst_port: int, payload: bytes | memoryview
) -> bytes:
    """Encode a UDP datagram with its checksum (never 0 on the wire: 0 -> 0xFFFF)."""
    length = UDP_HLEN + len(payload)
    if length > UDP_MAX_LENGTH:
        raise ValueError(f"UDP datagram of {length} bytes exceeds 65535")
    header = _HDR.pack(src_port, dst_port, length, 0)
    # The header is even-sized: sum it first, then the payload on top (no copy).
    partial = ones_sum(header, pseudo_header_sum(src_ip, dst_ip, UDP_PROTO, length))
    csum = internet_checksum(payload, partial) or 0xFFFF
    return b"".join((_HDR.pack(src_port, dst_port, length, csum), payload))
