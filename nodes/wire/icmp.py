"""ICMP for IPv4 (RFC 792, RFC 1191 next-hop MTU, RFC 1122, RFC 1812).

``parse_icmp`` checks the length and the checksum (over the whole message) and leaves the
meaning of ``rest`` to the properties and to ``parse_timestamp`` / ``parse_quoted``.
Errors quote the offending packet's IP header and the first 8 bytes of its payload.
"""

from __future__ import annotations

# builtins.memoryview in dataclass fields: compiled by mypyc (setup.py), a bare memoryview
# there fails at import (KeyError: 'memoryview')
import builtins
import struct
from dataclasses import dataclass
from enum import IntEnum

from nodes.wire.checksum import internet_checksum, ones_sum
from nodes.wire.errors import BadChecksum, Malformed, Truncated

ICMP_HLEN = 8
ICMP_TIMESTAMP_LEN = 20
QUOTED_L4_BYTES = 8

_HDR = struct.Struct("!BBHI")
_TS = struct.Struct("!III")
_QUOTED_IP = struct.Struct("!BxHHHBB2xII")  # vihl, total, ident, frag word, ttl, proto, src, dst
_PORTS = struct.Struct("!HH")


class IcmpType(IntEnum):
    ECHO_REPLY = 0
    DEST_UNREACH = 3
    SOURCE_QUENCH = 4
    REDIRECT = 5
    ECHO_REQUEST = 8
    TIME_EXCEEDED = 11
    PARAM_PROBLEM = 12
    TIMESTAMP = 13
    TIMESTAMP_REPLY = 14


class UnreachCode(IntEnum):
    NET = 0
    HOST = 1
    PROTOCOL = 2
    PORT = 3
    FRAG_NEEDED = 4
    SRC_ROUTE_FAILED = 5
    NET_UNKNOWN = 6
    HOST_UNKNOWN = 7
    ISOLATED = 8
    NET_PROHIBITED = 9
    HOST_PROHIBITED = 10
    NET_TOS = 11
    HOST_TOS = 12
    ADMIN_PROHIBITED = 13
    PRECEDENCE_VIOLATION = 14
    PRECEDENCE_CUTOFF = 15


class TimeExceededCode(IntEnum):
    TTL = 0
    REASSEMBLY = 1


class RedirectCode(IntEnum):
    NET = 0
    HOST = 1
    TOS_NET = 2
    TOS_HOST = 3


class ParamProblemCode(IntEnum):
    POINTER = 0
    MISSING_OPTION = 1
    BAD_LENGTH = 2


ICMP_ERROR_TYPES: frozenset[int] = frozenset(
    {
        IcmpType.DEST_UNREACH,
        IcmpType.SOURCE_QUENCH,
        IcmpType.REDIRECT,
        IcmpType.TIME_EXCEEDED,
        IcmpType.PARAM_PROBLEM,
    }
)
_ECHO_TYPES = frozenset({IcmpType.ECHO_REQUEST, IcmpType.ECHO_REPLY})
_TIMESTAMP_TYPES = frozenset({IcmpType.TIMESTAMP, IcmpType.TIMESTAMP_REPLY})


@dataclass(frozen=True, slots=True)
class IcmpMessage:
    type: int
    code: int
    checksum: int
    rest: int  # the 4 "rest of header" bytes as a big-endian int
    payload: builtins.memoryview  # data after the 8-byte header

    @property
    def ident(self) -> int:
        return self.rest >> 16

    @property
    def seq(self) -> int:
        return self.rest & 0xFFFF

    @property
    def next_hop_mtu(self) -> int:
        return self.rest & 0xFFFF

    @property
    def pointer(self) -> int:
        return self.rest >> 24

    @property
    def gateway(self) -> int:
        """The gateway address of a redirect."""
        return self.rest

    @property
    def is_error(self) -> bool:
        return self.type in ICMP_ERROR_TYPES


@dataclass(frozen=True, slots=True)
class QuotedPacket:
    """The IP packet quoted inside an ICMP error. ``l4`` is cut to the quoted total length
    when the quote is longer; ``ports`` is None for other protocols, non-first fragments
    and quotes under 4 transport bytes."""

    src: int
    dst: int
    proto: int
    ident: int
    header_length: int
    total_length: int
    l4: builtins.memoryview  # the quoted transport bytes (>= 8 when well-formed)
    ports: tuple[int, int] | None  # (src_port, dst_port) for TCP/UDP
    frag_offset: int = 0  # bytes
    ttl: int = 0


def parse_icmp(buf: bytes | bytearray | memoryview, *, verify_checksum: bool = True) -> IcmpMessage:
    """Decode an ICMP message (the whole IP payload). Raises :class:`Truncated` below 8
    bytes and :class:`BadChecksum` when the checksum over the message does not verify."""
    mv = buf if isinstance(buf, memoryview) else memoryview(buf)
    if len(mv) < ICMP_HLEN:
        raise Truncated("icmp", f"message of {len(mv)} bytes is shorter than the 8-byte header")
    if verify_checksum and internet_checksum(mv) != 0:
        raise BadChecksum("icmp", "checksum does not verify")
    type_, code, csum, rest = _HDR.unpack_from(mv)
    return IcmpMessage(type_, code, csum, rest, mv[ICMP_HLEN:])


def build_icmp(type: int, code: int, rest: int, payload: bytes | memoryview = b"") -> bytes:
    """Any ICMP message: the 8-byte header with its checksum, then ``payload``."""
    header = _HDR.pack(type, code, 0, rest)
    # The header is even-sized: summing it first and the payload on top equals summing
    # their concatenation, without copying the payload.
    csum = internet_checksum(payload, initial=ones_sum(header))
    return b"".join((_HDR.pack(type, code, csum, rest), payload))


def build_echo(type: int, ident: int, seq: int, data: bytes | memoryview) -> bytes:
    """An echo request or reply."""
    if type not in _ECHO_TYPES:
        raise ValueError(f"echo type must be 0 or 8, not {type}")
    return build_icmp(type, 0, ((ident & 0xFFFF) << 16) | (seq & 0xFFFF), data)


def quote_length(offending: bytes | bytearray | memoryview) -> int:
    """How many bytes of ``offending`` an error quotes: its IP header and the first 8
    bytes of its payload (RFC 792), never beyond its total length or the buffer."""
    n = len(offending)
    if n < 1:
        return 0
    hlen = (offending[0] & 0x0F) << 2
    limit = hlen + QUOTED_L4_BYTES
    if n >= 4:
        total = (offending[2] << 8) | offending[3]
        if total >= hlen:
            limit = min(limit, total)
    return min(n, limit)


def build_error(
    type: int,
    code: int,
    offending: bytes | memoryview,
    *,
    mtu: int = 0,
    pointer: int = 0,
    gateway: int = 0,
) -> bytes:
    """An ICMP error about ``offending`` (the IP packet that caused it, header first).

    ``mtu`` is the next-hop MTU of a destination unreachable / fragmentation needed
    (RFC 1191), ``pointer`` the octet offset of a parameter problem, ``gateway`` the
    address of a redirect.
    """
    if type not in ICMP_ERROR_TYPES:
        raise ValueError(f"ICMP type {type} is not an error type")
    if type == IcmpType.DEST_UNREACH and code == UnreachCode.FRAG_NEEDED:
        if not 0 <= mtu <= 0xFFFF:
            raise ValueError(f"next-hop MTU {mtu} is not 0..65535")
        rest = mtu
    elif type == IcmpType.PARAM_PROBLEM:
        if not 0 <= pointer <= 0xFF:
            raise ValueError(f"pointer {pointer} is not 0..255")
        rest = pointer << 24
    elif type == IcmpType.REDIRECT:
        rest = gateway & 0xFFFFFFFF
    else:
        rest = 0
    quoted = memoryview(offending)[: quote_length(offending)]
    return build_icmp(type, code, rest, quoted)


def build_timestamp(
    type: int, ident: int, seq: int, originate: int, receive: int, transmit: int
) -> bytes:
    """A timestamp request (13) or reply (14); times in ms since midnight UT."""
    if type not in _TIMESTAMP_TYPES:
        raise ValueError(f"timestamp type must be 13 or 14, not {type}")
    body = _TS.pack(originate & 0xFFFFFFFF, receive & 0xFFFFFFFF, transmit & 0xFFFFFFFF)
    return build_icmp(type, 0, ((ident & 0xFFFF) << 16) | (seq & 0xFFFF), body)


def parse_timestamp(msg: IcmpMessage) -> tuple[int, int, int]:
    """(originate, receive, transmit) of a timestamp request or reply. Raises
    :class:`Truncated` under 12 data bytes and :class:`Malformed` for another type."""
    if msg.type not in _TIMESTAMP_TYPES:
        raise Malformed("icmp", f"type {msg.type} is not a timestamp request or reply")
    if len(msg.payload) < _TS.size:
        raise Truncated("icmp", f"timestamp message with {len(msg.payload)} data bytes, not 12")
    originate, receive, transmit = _TS.unpack_from(msg.payload)
    return originate, receive, transmit


def parse_quoted(msg: IcmpMessage) -> QuotedPacket:
    """The IP packet quoted in an ICMP error's data (no checksum check of the quoted
    header). Raises :class:`Truncated` when the quote is shorter than its IP header and
    :class:`Malformed` for a version other than 4, IHL < 5 or total length < IHL."""
    data = msg.payload
    n = len(data)
    if n < 20:
        raise Truncated("icmp", f"quoted packet of {n} bytes is shorter than an IP header")
    vihl, total, ident, ff, ttl, proto, src, dst = _QUOTED_IP.unpack_from(data)
    if vihl >> 4 != 4:
        raise Malformed("icmp", f"quoted packet has IP version {vihl >> 4}")
    hlen = (vihl & 0x0F) << 2
    if hlen < 20:
        raise Malformed("icmp", f"quoted packet has header length {hlen}")
    if n < hlen:
        raise Truncated("icmp", f"quote of {n} bytes is shorter than its {hlen}-byte header")
    if total < hlen:
        raise Malformed("icmp", f"quoted total length {total} is below header length {hlen}")
    l4 = data[hlen : min(n, total)]
    offset = (ff & 0x1FFF) << 3
    ports: tuple[int, int] | None = None
    if offset == 0 and len(l4) >= 4 and (proto == 6 or proto == 17):
        sport, dport = _PORTS.unpack_from(l4)
        ports = (sport, dport)
    return QuotedPacket(src, dst, proto, ident, hlen, total, l4, ports, offset, ttl)
