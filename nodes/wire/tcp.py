"""TCP header codec (RFC 9293) with options MSS, window scale, SACK-permitted, SACK blocks
and timestamps (RFC 7323, RFC 2018). Unknown options are kept, EOL ends the list.

Parsing verifies lengths and the checksum first, then decodes; the payload is a
``memoryview`` slice of the input (no copy). Building writes the options in the order
Linux uses (``tcp_options_write``) so captures look like the kernel's.
"""

from __future__ import annotations

# builtins.memoryview in dataclass fields: compiled by mypyc (setup.py), a bare memoryview
# there fails at import (KeyError: 'memoryview')
import builtins
import struct
from dataclasses import dataclass, fields
from enum import IntEnum, IntFlag
from typing import Any

from nodes.wire.checksum import ones_sum
from nodes.wire.errors import BadChecksum, Malformed, Truncated

TCP_HLEN = 20
TCP_PROTO = 6
MAX_OPTIONS_LEN = 40

_HDR = struct.Struct("!HHIIHHHH")
_HDR_TS = struct.Struct("!HHIIHHHHHHII")  # the header + NOP NOP TS(10) TSval TSecr
_CHECKSUM = struct.Struct("!H")
_U16 = struct.Struct("!H")
_TS = struct.Struct("!II")
_SACK_BLOCK = struct.Struct("!II")


class TcpFlags(IntFlag):
    FIN = 0x01
    SYN = 0x02
    RST = 0x04
    PSH = 0x08
    ACK = 0x10
    URG = 0x20
    ECE = 0x40
    CWR = 0x80


class TcpOptionKind(IntEnum):
    EOL = 0
    NOP = 1
    MSS = 2
    WSCALE = 3
    SACK_PERMITTED = 4
    SACK = 5
    TIMESTAMP = 8


@dataclass(frozen=True, slots=True)
class TcpOptions:
    mss: int | None = None
    wscale: int | None = None
    sack_permitted: bool = False
    sack_blocks: tuple[tuple[int, int], ...] = ()
    timestamp: tuple[int, int] | None = None  # (TSval, TSecr)
    unknown: tuple[tuple[int, bytes], ...] = ()


NO_OPTIONS = TcpOptions()


@dataclass(frozen=True, slots=True)
class TcpSegment:
    src_port: int
    dst_port: int
    seq: int
    ack: int
    header_length: int
    flags: int
    window: int
    checksum: int
    urgent: int
    options: TcpOptions
    payload: builtins.memoryview


# Per-segment constructors that skip the frozen dataclasses' generated __init__ (one
# object.__setattr__ per field): the slot descriptors set the fields directly. Same
# classes, same frozen instances. Each class's own __new__, not object.__new__: compiled
# by mypyc (setup.py) they have their own, and object.__new__ refuses them.
_new_options = TcpOptions.__new__
_new_segment = TcpSegment.__new__
_OPT_SET: tuple[Any, ...] = tuple(getattr(TcpOptions, f.name).__set__ for f in fields(TcpOptions))
_SEG_SET: tuple[Any, ...] = tuple(getattr(TcpSegment, f.name).__set__ for f in fields(TcpSegment))
_o_mss, _o_wscale, _o_sack_ok, _o_blocks, _o_ts, _o_unknown = _OPT_SET
(
    _s_sport, _s_dport, _s_seq, _s_ack, _s_hlen, _s_flags, _s_window, _s_csum, _s_urgent,
    _s_options, _s_payload,
) = _SEG_SET  # fmt: skip
_TS_ONLY = b"\x01\x01\x08\x0a"  # NOP NOP TS(10): what every Linux data segment carries


def _timestamp_options(ts: tuple[int, int]) -> TcpOptions:
    o = _new_options(TcpOptions)
    _o_mss(o, None)
    _o_wscale(o, None)
    _o_sack_ok(o, False)
    _o_blocks(o, ())
    _o_ts(o, ts)
    _o_unknown(o, ())
    return o


def parse_tcp_options(raw: bytes | memoryview) -> TcpOptions:
    """Decode an options area. Known kinds with a wrong length are kept as unknown (Linux
    ignores them); a length that is < 2 or runs past the area is Malformed."""
    mss: int | None = None
    wscale: int | None = None
    sack_ok = False
    blocks: tuple[tuple[int, int], ...] = ()
    ts: tuple[int, int] | None = None
    unknown: list[tuple[int, bytes]] = []
    i, n = 0, len(raw)
    while i < n:
        kind = raw[i]
        if kind == 0:
            break
        if kind == 1:
            i += 1
            continue
        if i + 1 >= n:
            raise Malformed("tcp", f"option {kind} at offset {i} has no length byte")
        length = raw[i + 1]
        if length < 2 or i + length > n:
            raise Malformed("tcp", f"option {kind} at offset {i} has bad length {length}")
        if kind == 2 and length == 4:
            mss = _U16.unpack_from(raw, i + 2)[0]
        elif kind == 3 and length == 3:
            wscale = raw[i + 2]
        elif kind == 4 and length == 2:
            sack_ok = True
        elif kind == 8 and length == 10:
            ts = _TS.unpack_from(raw, i + 2)
        elif kind == 5 and length >= 10 and (length - 2) % 8 == 0:
            blocks = tuple(_SACK_BLOCK.iter_unpack(raw[i + 2 : i + length]))
        else:
            unknown.append((kind, bytes(raw[i + 2 : i + length])))
        i += length
    return TcpOptions(mss, wscale, sack_ok, blocks, ts, tuple(unknown))


def parse_tcp(
    buf: bytes | bytearray | memoryview, src_ip: int, dst_ip: int, *, verify_checksum: bool = True
) -> TcpSegment:
    """Parse a TCP segment (the whole IP payload). Raises Truncated, BadChecksum, Malformed."""
    mv = buf if isinstance(buf, memoryview) else memoryview(buf)
    n = len(mv)
    if n < TCP_HLEN:
        raise Truncated("tcp", f"{n} bytes, header needs {TCP_HLEN}")
    sport, dport, seq, ack, off_flags, window, checksum, urgent = _HDR.unpack_from(mv, 0)
    # pseudo-header: the 32-bit addresses add as their 16-bit halves would (mod 0xFFFF)
    if verify_checksum and ones_sum(mv, src_ip + dst_ip + TCP_PROTO + n) != 0xFFFF:
        raise BadChecksum("tcp", f"checksum 0x{checksum:04x} does not verify")
    hlen = (off_flags >> 12) * 4
    if hlen == 32 and n >= 32 and mv[TCP_HLEN:24] == _TS_ONLY:
        options = _timestamp_options(_TS.unpack_from(mv, 24))
    elif hlen == TCP_HLEN:
        options = NO_OPTIONS
    elif hlen < TCP_HLEN:
        raise Malformed("tcp", f"data offset {hlen // 4} < 5")
    elif hlen > n:
        raise Truncated("tcp", f"header length {hlen} > segment length {n}")
    else:
        options = parse_tcp_options(mv[TCP_HLEN:hlen])
    seg = _new_segment(TcpSegment)
    _s_sport(seg, sport)
    _s_dport(seg, dport)
    _s_seq(seg, seq)
    _s_ack(seg, ack)
    _s_hlen(seg, hlen)
    _s_flags(seg, off_flags & 0x0FFF)
    _s_window(seg, window)
    _s_csum(seg, checksum)
    _s_urgent(seg, urgent)
    _s_options(seg, options)
    _s_payload(seg, mv[hlen:])
    return seg


def encode_tcp_options(options: TcpOptions) -> bytes:
    """Options in Linux order (MSS, SACK-permitted/timestamps, window scale, SACK blocks),
    NOP-padded to a multiple of 4."""
    out = bytearray()
    if options.mss is not None:
        out += b"\x02\x04" + _U16.pack(options.mss)
    if options.timestamp is not None:
        out += b"\x04\x02" if options.sack_permitted else b"\x01\x01"
        out += b"\x08\x0a" + _TS.pack(*options.timestamp)
    elif options.sack_permitted:
        out += b"\x01\x01\x04\x02"
    if options.wscale is not None:
        out += b"\x01\x03\x03" + bytes((options.wscale,))
    if options.sack_blocks:
        out += b"\x01\x01\x05" + bytes((2 + 8 * len(options.sack_blocks),))
        for left, right in options.sack_blocks:
            out += _SACK_BLOCK.pack(left, right)
    for kind, data in options.unknown:
        out += bytes((kind, len(data) + 2)) + data
    if len(out) % 4:
        out += b"\x01" * (4 - len(out) % 4)
    if len(out) > MAX_OPTIONS_LEN:
        raise Malformed("tcp", f"options need {len(out)} bytes, at most {MAX_OPTIONS_LEN} fit")
    return bytes(out)


def timestamp_only_options(tsval: int, tsecr: int) -> bytes:
    """The 12-byte NOP NOP TS block every data segment carries: the hot path, no dataclass."""
    return b"\x01\x01\x08\x0a" + _TS.pack(tsval, tsecr)


def build_tcp_raw(
    src_ip: int,
    dst_ip: int,
    src_port: int,
    dst_port: int,
    seq: int,
    ack: int,
    flags: int,
    window: int,
    options: bytes,
    payload: bytes | memoryview,
    urgent: int = 0,
) -> bytes:
    """Build a segment from already-encoded options (the engine's fast path): the header
    packed once with its checksum, summed from the header fields, the options and the
    payload (no zeroed-checksum buffer to sum), then one join."""
    hlen = TCP_HLEN + len(options)
    seq &= 0xFFFFFFFF
    ack &= 0xFFFFFFFF
    off_flags = ((hlen // 4) << 12) | (flags & 0x0FFF)
    total = (
        src_ip + dst_ip + TCP_PROTO + hlen + len(payload)  # pseudo-header
        + src_port + dst_port + seq + ack + off_flags + window + urgent
    )  # fmt: skip
    if len(options) & 1:  # never from our encoders (4-byte multiples): sum them as laid out
        csum = ~ones_sum(b"".join((options, payload)), total) & 0xFFFF
    else:
        csum = ~ones_sum(payload, ones_sum(options, total) if options else total) & 0xFFFF
    header = _HDR.pack(src_port, dst_port, seq, ack, off_flags, window, csum, urgent)
    return b"".join((header, options, payload))


def build_tcp_ts(
    src_ip: int,
    dst_ip: int,
    src_port: int,
    dst_port: int,
    seq: int,
    ack: int,
    flags: int,
    window: int,
    tsval: int,
    tsecr: int,
    payload: bytes | memoryview,
    urgent: int = 0,
) -> bytes:
    """``build_tcp_raw`` with ``timestamp_only_options(tsval, tsecr)``, byte for byte: the
    segment an established connection sends, header and options packed at once and the
    options summed from their fields (32-bit values add as their 16-bit halves would)."""
    seq &= 0xFFFFFFFF
    ack &= 0xFFFFFFFF
    off_flags = 0x8000 | (flags & 0x0FFF)  # data offset 8 words: 20 + 12 option bytes
    total = (
        src_ip + dst_ip + TCP_PROTO + 32 + len(payload)  # pseudo-header
        + src_port + dst_port + seq + ack + off_flags + window + urgent
        + 0x0101 + 0x080A + tsval + tsecr  # NOP NOP, TS kind and length, the values
    )  # fmt: skip
    csum = ~ones_sum(payload, total) & 0xFFFF
    header = _HDR_TS.pack(
        src_port, dst_port, seq, ack, off_flags, window, csum, urgent, 0x0101, 0x080A,
        tsval, tsecr,
    )  # fmt: skip
    return header + payload if payload else header


def build_tcp(
    src_ip: int,
    dst_ip: int,
    *,
    src_port: int,
    dst_port: int,
    seq: int,
    ack: int,
    flags: int,
    window: int,
    payload: bytes | memoryview = b"",
    options: TcpOptions | None = None,
    urgent: int = 0,
) -> bytes:
    """Build a segment with a correct checksum for the given pseudo-header addresses."""
    raw = encode_tcp_options(options) if options is not None else b""
    return build_tcp_raw(
        src_ip, dst_ip, src_port, dst_port, seq, ack, flags, window, raw, payload, urgent
    )
