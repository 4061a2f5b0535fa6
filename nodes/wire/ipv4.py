"""IPv4 headers and options (RFC 791, RFC 1122, RFC 1812).

``parse_ipv4`` is on the per-packet hot path: one precompiled unpack, a checksum over
the header only, memoryview slices for the header and the payload, and option parsing
only when the header is longer than 20 bytes. Integrity is checked first (lengths,
checksum), then sanity (version, header length, option lengths and pointers).

Option checks follow Linux's ``ip_options_compile`` for received packets: a pointer
below its minimum or one that leaves no room for the next slot is malformed, a
duplicated record-route / timestamp / source-route option is malformed, and an unknown
timestamp flag is malformed. Unknown option kinds are kept as :class:`UnknownOption`.
"""

from __future__ import annotations

# builtins.memoryview in dataclass fields: compiled by mypyc (setup.py), a bare memoryview
# there fails at import (KeyError: 'memoryview')
import builtins
import struct
from collections.abc import Sequence
from dataclasses import dataclass, fields
from enum import IntEnum
from typing import Any, TypeAlias

from nodes.wire.checksum import internet_checksum
from nodes.wire.errors import BadChecksum, Malformed, Truncated

IPV4_HLEN = 20
IPV4_MAX_HLEN = 60
IPV4_MAX_OPTIONS = 40
IPV4_MAX_LENGTH = 65535

_HDR = struct.Struct("!BBHHHBBHII")
_ADDR = struct.Struct("!I")
_ADDR_TS = struct.Struct("!II")

FLAG_DF = 0x4000
FLAG_MF = 0x2000
FLAG_RESERVED = 0x8000
OFFSET_MASK = 0x1FFF


class IPProto(IntEnum):
    ICMP = 1
    TCP = 6
    UDP = 17


class OptionKind(IntEnum):
    """IPv4 option type octets (copied flag, class and number together)."""

    EOL = 0
    NOP = 1
    RR = 7
    TS = 68
    LSRR = 131
    SSRR = 137
    ROUTER_ALERT = 148


class TimestampFlag(IntEnum):
    TS_ONLY = 0
    TS_AND_ADDR = 1
    TS_PRESPEC = 3


class BadOption(Malformed):
    """A malformed IPv4 option. ``offset`` is the offending byte's offset from the start
    of the IP header: the pointer of an ICMP parameter problem (RFC 792)."""

    def __init__(self, message: str, offset: int) -> None:
        super().__init__("ipv4", f"{message} (header offset {offset})")
        self.offset = offset


@dataclass(frozen=True, slots=True)
class RecordRoute:
    """Record route (type 7). ``route`` holds every slot, empty ones as 0; ``pointer`` is
    1-based from the option start (4 = first slot, ``length + 1`` or more = full);
    ``length`` is the option length octet (normally ``3 + 4 * len(route)``)."""

    pointer: int
    route: tuple[int, ...]
    length: int

    @property
    def full(self) -> bool:
        return self.pointer + 3 > self.length

    def record(self, address: int) -> RecordRoute:
        """The option with ``address`` written in the next free slot (RFC 791); the same
        option when it is already full."""
        if self.full:
            return self
        index = (self.pointer - 4) // 4
        if index >= len(self.route):
            return self
        route = (*self.route[:index], address, *self.route[index + 1 :])
        return RecordRoute(self.pointer + 4, route, self.length)


@dataclass(frozen=True, slots=True)
class Timestamp:
    """Internet timestamp (type 68). ``entries`` holds every slot, empty ones included:
    ``(None, ts)`` for flag 0 (timestamps only), ``(address, ts)`` for flags 1 and 3.
    ``pointer`` is 1-based from the option start (5 = first slot)."""

    pointer: int
    overflow: int
    flag: int
    entries: tuple[tuple[int | None, int], ...]

    @property
    def slot_size(self) -> int:
        return 4 if self.flag == TimestampFlag.TS_ONLY else 8

    @property
    def length(self) -> int:
        return 4 + self.slot_size * len(self.entries)

    @property
    def full(self) -> bool:
        return self.pointer + self.slot_size - 1 > self.length

    def stamp(self, address: int, timestamp: int) -> Timestamp:
        """The option after this node adds its entry (RFC 791): flag 0 writes the time,
        flag 1 the address and time, flag 3 the time only when the next prespecified
        address is ``address``. When full, the overflow count goes up; raises
        :class:`Malformed` when the overflow count itself overflows."""
        if self.full:
            if self.overflow >= 15:
                raise Malformed("ipv4", "timestamp option overflow count overflowed")
            return Timestamp(self.pointer, self.overflow + 1, self.flag, self.entries)
        index = (self.pointer - 5) // self.slot_size
        if index >= len(self.entries):
            return self
        if self.flag == TimestampFlag.TS_ONLY:
            entry: tuple[int | None, int] = (None, timestamp)
        elif self.flag == TimestampFlag.TS_AND_ADDR:
            entry = (address, timestamp)
        else:
            if self.entries[index][0] != address:
                return self
            entry = (address, timestamp)
        entries = (*self.entries[:index], entry, *self.entries[index + 1 :])
        return Timestamp(self.pointer + self.slot_size, self.overflow, self.flag, entries)


@dataclass(frozen=True, slots=True)
class SourceRoute:
    """Loose (type 131) or strict (type 137) source and record route."""

    strict: bool
    pointer: int
    route: tuple[int, ...]

    @property
    def kind(self) -> int:
        return OptionKind.SSRR if self.strict else OptionKind.LSRR

    @property
    def exhausted(self) -> bool:
        """True when the pointer is past the last address (the route is complete)."""
        return self.pointer > 3 + 4 * len(self.route)


@dataclass(frozen=True, slots=True)
class UnknownOption:
    """Any other option: ``data`` is what follows the type and length octets."""

    kind: int
    data: bytes


IPv4Option: TypeAlias = RecordRoute | Timestamp | SourceRoute | UnknownOption


@dataclass(frozen=True, slots=True)
class IPv4Packet:
    tos: int
    total_length: int
    ident: int
    df: bool
    mf: bool
    frag_offset: int  # in bytes (a multiple of 8)
    ttl: int
    proto: int
    checksum: int
    src: int
    dst: int
    header_length: int  # bytes (ihl * 4)
    options: tuple[IPv4Option, ...]
    header: builtins.memoryview  # the raw header bytes, options included
    payload: builtins.memoryview  # exactly total_length - header_length bytes

    @property
    def is_fragment(self) -> bool:
        return self.mf or self.frag_offset != 0

    @property
    def payload_length(self) -> int:
        return self.total_length - self.header_length


# The fixed header as ``_HDR`` unpacks it: (version/IHL, TOS, total length, ident,
# flags/fragment offset, TTL, proto, checksum, src, dst). The per-packet paths (host
# input, router fast path) work on this tuple and build an IPv4Packet only when a
# consumer needs one.
IPv4Header: TypeAlias = tuple[int, int, int, int, int, int, int, int, int, int]

# IPv4Packet without its generated __init__: a frozen dataclass sets each of its 15
# fields through object.__setattr__, which costs more than parsing the header. The slot
# descriptors set them directly (same class, same frozen instances, half the time).
# IPv4Packet's own __new__, not object.__new__: compiled by mypyc (setup.py) the class
# has its own, and object.__new__ refuses it.
_new = IPv4Packet.__new__
_SET: tuple[Any, ...] = tuple(getattr(IPv4Packet, f.name).__set__ for f in fields(IPv4Packet))
(
    _s_tos, _s_total, _s_ident, _s_df, _s_mf, _s_off, _s_ttl, _s_proto, _s_csum, _s_src,
    _s_dst, _s_hlen, _s_opts, _s_header, _s_payload,
) = _SET  # fmt: skip


def _make_packet(
    tos: int, total: int, ident: int, df: bool, mf: bool, offset: int, ttl: int, proto: int,
    csum: int, src: int, dst: int, hlen: int, options: tuple[IPv4Option, ...],
    header: memoryview, payload: memoryview,
) -> IPv4Packet:  # fmt: skip
    p = _new(IPv4Packet)
    _s_tos(p, tos)
    _s_total(p, total)
    _s_ident(p, ident)
    _s_df(p, df)
    _s_mf(p, mf)
    _s_off(p, offset)
    _s_ttl(p, ttl)
    _s_proto(p, proto)
    _s_csum(p, csum)
    _s_src(p, src)
    _s_dst(p, dst)
    _s_hlen(p, hlen)
    _s_opts(p, options)
    _s_header(p, header)
    _s_payload(p, payload)
    return p


def plain_header(mv: memoryview) -> IPv4Header | None:
    """The hot path of :func:`parse_ipv4`: the fixed header of a packet with no options
    whose lengths and header checksum verify, as a tuple; None for anything else
    (options, a short buffer, a bad checksum, version != 4...): :func:`parse_ipv4`
    then gives the verdict. The checksum is summed from the unpacked fields (2**16 is
    1 mod 0xFFFF, so a 32-bit address adds as its two 16-bit halves)."""
    if len(mv) < IPV4_HLEN:
        return None
    h: IPv4Header = _HDR.unpack_from(mv)
    vihl, tos, total, ident, ff, ttl, proto, csum, src, dst = h
    if vihl != 0x45 or total < IPV4_HLEN or total > len(mv):
        return None
    if (
        ((vihl << 8) | tos) + total + ident + ff + ((ttl << 8) | proto) + csum + src + dst
    ) % 0xFFFF:
        return None  # the ones' complement sum is not 0xFFFF
    if ff & OFFSET_MASK and ((ff & OFFSET_MASK) << 3) + total - IPV4_HLEN > IPV4_MAX_LENGTH:
        return None
    return h


def packet_from_header(h: IPv4Header, mv: memoryview) -> IPv4Packet:
    """The IPv4Packet of a :func:`plain_header` tuple and the buffer it came from."""
    _, tos, total, ident, ff, ttl, proto, csum, src, dst = h
    return _make_packet(
        tos, total, ident, bool(ff & FLAG_DF), bool(ff & FLAG_MF), (ff & OFFSET_MASK) << 3,
        ttl, proto, csum, src, dst, IPV4_HLEN, (), mv[:IPV4_HLEN], mv[IPV4_HLEN:total],
    )  # fmt: skip


def parse_ipv4(buf: bytes | bytearray | memoryview, *, verify_checksum: bool = True) -> IPv4Packet:
    """Decode an IPv4 header; ``payload`` is cut to the total length (link padding off).

    Raises :class:`Truncated` when the buffer is shorter than the header or the total
    length, :class:`BadChecksum` for a header checksum that does not verify, and
    :class:`Malformed` (or its subclass :class:`BadOption`) for version != 4, IHL < 5,
    total length < header length, a fragment reaching past 65535, or a bad option.
    """
    mv = buf if isinstance(buf, memoryview) else memoryview(buf)
    if verify_checksum:
        h = plain_header(mv)
        if h is not None:
            return packet_from_header(h, mv)
    n = len(mv)
    if n < IPV4_HLEN:
        raise Truncated("ipv4", f"packet of {n} bytes is shorter than the 20-byte header")
    vihl, tos, total, ident, ff, ttl, proto, csum, src, dst = _HDR.unpack_from(mv)
    if vihl >> 4 != 4:
        raise Malformed("ipv4", f"version {vihl >> 4} is not 4")
    hlen = (vihl & 0x0F) << 2
    if hlen < IPV4_HLEN:
        raise Malformed("ipv4", f"header length {hlen} is below 20")
    if n < hlen:
        raise Truncated("ipv4", f"packet of {n} bytes is shorter than its {hlen}-byte header")
    if total < hlen:
        raise Malformed("ipv4", f"total length {total} is below the header length {hlen}")
    if n < total:
        raise Truncated("ipv4", f"packet of {n} bytes is shorter than its total length {total}")
    header = mv[:hlen]
    if verify_checksum and internet_checksum(header) != 0:
        raise BadChecksum("ipv4", f"header checksum {csum:#06x} does not verify")
    offset = (ff & OFFSET_MASK) << 3
    if offset and offset + total - hlen > IPV4_MAX_LENGTH:
        raise Malformed("ipv4", f"fragment at offset {offset} reaches past 65535")
    options = parse_options(header[IPV4_HLEN:]) if hlen > IPV4_HLEN else ()
    return _make_packet(
        tos,
        total,
        ident,
        bool(ff & FLAG_DF),
        bool(ff & FLAG_MF),
        offset,
        ttl,
        proto,
        csum,
        src,
        dst,
        hlen,
        options,
        header,
        mv[hlen:total],
    )


def parse_options(data: bytes | bytearray | memoryview) -> tuple[IPv4Option, ...]:
    """Decode the option bytes after the fixed 20-byte header. NOPs are skipped, EOL ends
    the list. Raises :class:`BadOption` for a missing or bad length, a bad pointer or a
    duplicated RR / TS / source-route option; its ``offset`` counts from the IP header."""
    end = len(data)
    i = 0
    out: list[IPv4Option] = []
    seen: set[int] = set()
    while i < end:
        kind = data[i]
        if kind == OptionKind.EOL:
            break
        if kind == OptionKind.NOP:
            i += 1
            continue
        base = IPV4_HLEN + i  # header offset of this option, for BadOption
        if i + 1 >= end:
            raise BadOption(f"option {kind} has no length octet", base)
        length = data[i + 1]
        if length < 2 or i + length > end:
            raise BadOption(f"option {kind} has bad length {length}", base + 1)
        opt = data[i : i + length]
        if kind == OptionKind.RR or kind == OptionKind.LSRR or kind == OptionKind.SSRR:
            group = OptionKind.LSRR if kind == OptionKind.SSRR else kind
            if group in seen:
                raise BadOption(f"duplicate option {kind}", base)
            seen.add(group)
            out.append(_parse_route(kind, opt, base))
        elif kind == OptionKind.TS:
            if kind in seen:
                raise BadOption("duplicate timestamp option", base)
            seen.add(kind)
            out.append(_parse_timestamp(opt, base))
        else:
            out.append(UnknownOption(kind, bytes(opt[2:])))
        i += length
    return tuple(out)


def _parse_route(kind: int, opt: bytes | bytearray | memoryview, base: int) -> IPv4Option:
    length = len(opt)
    if length < 3:
        raise BadOption(f"route option {kind} has bad length {length}", base + 1)
    pointer = opt[2]
    if pointer < 4:
        raise BadOption(f"route option {kind} has pointer {pointer} below 4", base + 2)
    if pointer <= length and pointer + 3 > length:
        raise BadOption(f"route option {kind} pointer {pointer} leaves no room", base + 2)
    slots = (length - 3) >> 2
    route = tuple(_ADDR.unpack_from(opt, 3 + 4 * k)[0] for k in range(slots))
    if kind == OptionKind.RR:
        return RecordRoute(pointer, route, length)
    if (length - 3) & 3:
        raise BadOption(f"source route length {length} is not 3 + 4n", base + 1)
    return SourceRoute(kind == OptionKind.SSRR, pointer, route)


def _parse_timestamp(opt: bytes | bytearray | memoryview, base: int) -> Timestamp:
    length = len(opt)
    if length < 4:
        raise BadOption(f"timestamp option has bad length {length}", base + 1)
    pointer = opt[2]
    overflow = opt[3] >> 4
    flag = opt[3] & 0x0F
    if pointer < 5:
        raise BadOption(f"timestamp pointer {pointer} below 5", base + 2)
    if flag == TimestampFlag.TS_ONLY:
        size = 4
    elif flag == TimestampFlag.TS_AND_ADDR or flag == TimestampFlag.TS_PRESPEC:
        size = 8
    else:
        raise BadOption(f"unknown timestamp flag {flag}", base + 3)
    if (length - 4) % size:
        raise BadOption(f"timestamp length {length} does not fit {size}-byte slots", base + 1)
    if pointer <= length and pointer + size - 1 > length:
        raise BadOption(f"timestamp pointer {pointer} leaves no room", base + 2)
    entries: tuple[tuple[int | None, int], ...]
    if size == 4:
        entries = tuple((None, _ADDR.unpack_from(opt, k)[0]) for k in range(4, length, 4))
    else:
        entries = tuple(_ADDR_TS.unpack_from(opt, k) for k in range(4, length, 8))
    return Timestamp(pointer, overflow, flag, entries)


def encode_option(option: IPv4Option) -> bytes:
    """One option's wire form (no padding)."""
    if isinstance(option, RecordRoute):
        body = b"".join(_ADDR.pack(a) for a in option.route)
        if option.length < 3 + len(body) or option.length > IPV4_MAX_OPTIONS:
            raise ValueError(f"record route length {option.length} does not fit its route")
        body += bytes(option.length - 3 - len(body))
        return bytes((OptionKind.RR, option.length, option.pointer)) + body
    if isinstance(option, SourceRoute):
        body = b"".join(_ADDR.pack(a) for a in option.route)
        return bytes((option.kind, 3 + len(body), option.pointer)) + body
    if isinstance(option, Timestamp):
        if option.flag == TimestampFlag.TS_ONLY:
            body = b"".join(_ADDR.pack(ts) for _, ts in option.entries)
        elif option.flag in (TimestampFlag.TS_AND_ADDR, TimestampFlag.TS_PRESPEC):
            body = b"".join(_ADDR_TS.pack(a or 0, ts) for a, ts in option.entries)
        else:
            raise ValueError(f"unknown timestamp flag {option.flag}")
        if not 0 <= option.overflow <= 15:
            raise ValueError(f"timestamp overflow {option.overflow} is not 0..15")
        head = bytes((OptionKind.TS, 4 + len(body), option.pointer))
        return head + bytes(((option.overflow << 4) | option.flag,)) + body
    if option.kind in (OptionKind.EOL, OptionKind.NOP):
        if option.data:
            raise ValueError("EOL and NOP options carry no data")
        return bytes((option.kind,))
    return bytes((option.kind, 2 + len(option.data))) + option.data


def encode_options(options: Sequence[IPv4Option]) -> bytes:
    """Options in order, padded with EOL to a multiple of 4. ValueError beyond 40 bytes."""
    raw = b"".join(encode_option(o) for o in options)
    raw += bytes(-len(raw) & 3)
    if len(raw) > IPV4_MAX_OPTIONS:
        raise ValueError(f"options take {len(raw)} bytes, at most 40 fit in an IPv4 header")
    return raw


def options_for_fragments(options: Sequence[IPv4Option]) -> tuple[IPv4Option, ...]:
    """The options with the copied flag (0x80): those repeated in every fragment after the
    first (RFC 791); record route and timestamp go in the first fragment only."""
    return tuple(o for o in options if _kind_of(o) & 0x80)


def _kind_of(option: IPv4Option) -> int:
    if isinstance(option, RecordRoute):
        return OptionKind.RR
    if isinstance(option, Timestamp):
        return OptionKind.TS
    return option.kind


def build_ipv4(
    *,
    src: int,
    dst: int,
    proto: int,
    payload: bytes | memoryview,
    ttl: int = 64,
    ident: int = 0,
    tos: int = 0,
    df: bool = False,
    mf: bool = False,
    frag_offset: int = 0,
    options: bytes = b"",
) -> bytes:
    """Encode an IPv4 packet: fills IHL, total length and the header checksum. Options
    that are not a multiple of 4 bytes are padded with EOL. ``frag_offset`` is in bytes."""
    if len(options) & 3:
        options = bytes(options) + bytes(-len(options) & 3)
    hlen = IPV4_HLEN + len(options)
    if hlen > IPV4_MAX_HLEN:
        raise ValueError(f"options take {len(options)} bytes, at most 40 fit in an IPv4 header")
    total = hlen + len(payload)
    if total > IPV4_MAX_LENGTH:
        raise ValueError(f"packet of {total} bytes exceeds 65535")
    if frag_offset & 7 or not 0 <= frag_offset <= OFFSET_MASK << 3:
        raise ValueError(f"fragment offset {frag_offset} is not a multiple of 8 in 0..65528")
    ff = (FLAG_DF if df else 0) | (FLAG_MF if mf else 0) | (frag_offset >> 3)
    if not options:
        return b"".join((ipv4_header(src, dst, proto, total, ttl, ident, tos, ff), payload))
    header = bytearray(hlen)
    _HDR.pack_into(header, 0, 0x40 | (hlen >> 2), tos, total, ident, ff, ttl, proto, 0, src, dst)
    if options:
        header[IPV4_HLEN:] = options
    csum = internet_checksum(header)
    header[10] = csum >> 8
    header[11] = csum & 0xFF
    return b"".join((header, payload))


def ipv4_header(
    src: int, dst: int, proto: int, total: int, ttl: int, ident: int, tos: int, ff: int
) -> bytes:
    """A 20-byte header without options (``total`` is the whole packet's length, ``ff``
    the flags/fragment-offset word), its checksum computed from the fields: the send
    path's one pack. ``-sum % 0xFFFF`` is the complement of the folded sum, 0 for a sum
    of 0xFFFF as the full computation gives."""
    csum = -((0x4500 | tos) + total + ident + ff + ((ttl << 8) | proto) + src + dst) % 0xFFFF
    return _HDR.pack(0x45, tos, total, ident, ff, ttl, proto, csum, src, dst)


def record_route_in_place(packet: bytearray, address: int) -> bool:
    """Record ``address`` in the record-route option of a raw IPv4 packet, in place:
    the next slot, the pointer and the header checksum change, the option layout (NOPs,
    other options) does not. False when there is no record-route option or it is full.
    ``packet`` must have passed :func:`parse_ipv4` (so the option lengths are sane)."""
    hlen = (packet[0] & 0x0F) << 2
    i = IPV4_HLEN
    while i < hlen:
        kind = packet[i]
        if kind == OptionKind.EOL:
            break
        if kind == OptionKind.NOP:
            i += 1
            continue
        if i + 1 >= hlen:
            return False
        length = packet[i + 1]
        if length < 2:
            return False
        if kind == OptionKind.RR:
            pointer = packet[i + 2] if length >= 3 else 0
            if pointer < 4 or pointer + 3 > length:
                return False
            pos = i + pointer - 1
            packet[pos : pos + 4] = _ADDR.pack(address)
            packet[i + 2] = pointer + 4
            packet[10:12] = b"\x00\x00"
            csum = internet_checksum(memoryview(packet)[:hlen])
            packet[10] = csum >> 8
            packet[11] = csum & 0xFF
            return True
        i += length
    return False
