"""RIP version 2 messages (RFC 2453) with keyed-MD5 authentication (RFC 2082).

A message is a 4-byte header (command, version, zero) and 20-byte entries. An entry is a
route (address family 2: tag, address, mask, next hop, metric) or, first in the message
only, an authentication entry (family 0xFFFF). Keyed MD5 puts its header there (digest
offset, key id, auth data length, sequence number) and a trailer after the routes
(0xFFFF, 0x0001, 16 digest bytes); the digest is MD5 over the message up to the trailer's
first 4 bytes, followed by the key zero-padded to 16 bytes (what FRR's ripd computes).

The parser checks the structure only (lengths, the authentication layout); whether an
entry makes sense (a contiguous mask, a metric of 1..16, a unicast address) is the
routing engine's call, per entry, as RFC 2453 3.9.2 drops bad entries and keeps the rest.
"""

from __future__ import annotations

import hashlib
import struct
from dataclasses import dataclass
from enum import IntEnum

from nodes.wire.errors import Malformed, Truncated

RIP_PORT = 520
RIP_GROUP = 0xE0000009  # 224.0.0.9, all RIPv2 routers
RIP_VERSION = 2
INFINITY = 16
HEADER_LEN = 4
ENTRY_LEN = 20
MAX_MESSAGE = 512  # RFC 2453 3.6: a message is at most 512 octets
MAX_ENTRIES = (MAX_MESSAGE - HEADER_LEN) // ENTRY_LEN  # 25, authentication entries included
AF_INET = 2
AF_AUTH = 0xFFFF
AUTH_SIMPLE = 2
AUTH_MD5 = 3
AUTH_MD5_DATA = 1  # the trailer's "type"
MD5_LEN = 16
KEY_LEN = 16  # keys and passwords are zero-padded (or cut) to 16 bytes

_HEADER = struct.Struct("!BBH")
_ENTRY = struct.Struct("!HHIIII")
_MD5_HEADER = struct.Struct("!HHHBBI8x")  # 0xFFFF, 3, digest offset, key id, len, sequence
_SIMPLE = struct.Struct("!HH16s")
_TRAILER = struct.Struct("!HH16s")  # 0xFFFF, 1, digest


class RipCommand(IntEnum):
    REQUEST = 1
    RESPONSE = 2


@dataclass(frozen=True, slots=True)
class RipEntry:
    """One route entry as it is on the wire (the engine validates it)."""

    address: int
    mask: int
    metric: int
    next_hop: int = 0
    tag: int = 0
    family: int = AF_INET

    @property
    def prefix_len(self) -> int | None:
        """The mask's length, or None when the mask is not contiguous."""
        inverted = ~self.mask & 0xFFFFFFFF
        if inverted & (inverted + 1):
            return None
        return 32 - inverted.bit_length()

    @property
    def is_whole_table_request(self) -> bool:
        """RFC 2453 3.9.1: a single entry of family 0 and metric infinity asks for all."""
        return self.family == 0 and self.metric == INFINITY


@dataclass(frozen=True, slots=True)
class Md5Auth:
    """The keyed-MD5 header of a received message, and its trailer's digest."""

    digest_offset: int  # the message length before the trailer
    key_id: int
    auth_data_len: int  # 16 (RFC 2082), or 20 (older ripd: the trailer with its header)
    sequence: int
    digest: bytes


@dataclass(frozen=True, slots=True)
class SimpleAuth:
    password: bytes  # 16 bytes, zero-padded


@dataclass(frozen=True, slots=True)
class RipMessage:
    command: int
    version: int
    entries: tuple[RipEntry, ...]
    auth: Md5Auth | SimpleAuth | None = None


@dataclass(frozen=True, slots=True)
class Md5Key:
    """What a sender needs for keyed MD5: the key, its id and this message's sequence."""

    key: bytes
    key_id: int = 1
    sequence: int = 0
    auth_data_len: int = MD5_LEN


def pad_key(key: bytes) -> bytes:
    return key[:KEY_LEN].ljust(KEY_LEN, b"\0")


def md5_digest(signed: bytes | memoryview, key: bytes) -> bytes:
    """The digest of ``signed`` (the message through the trailer's 0xFFFF 0x0001)."""
    h = hashlib.md5(usedforsecurity=False)
    h.update(signed)
    h.update(pad_key(key))
    return h.digest()


def max_routes(auth: bool) -> int:
    """Route entries that fit one message (MD5 takes a header entry and a trailer)."""
    return MAX_ENTRIES - 2 if auth else MAX_ENTRIES


def parse_rip(buf: bytes | bytearray | memoryview) -> RipMessage:
    """Decode a RIP message (the UDP payload).

    Raises :class:`Truncated` below the 4-byte header and :class:`Malformed` for a message
    longer than 512 bytes, a length that is not header + n * 20, or an authentication
    entry that is not first or whose MD5 trailer is missing or misplaced.
    """
    mv = buf if isinstance(buf, memoryview) else memoryview(buf)
    n = len(mv)
    if n < HEADER_LEN:
        raise Truncated("rip", f"message of {n} bytes is shorter than the 4-byte header")
    if n > MAX_MESSAGE:
        raise Malformed("rip", f"message of {n} bytes exceeds 512")
    if (n - HEADER_LEN) % ENTRY_LEN:
        raise Malformed("rip", f"message of {n} bytes is not 4 + a multiple of 20")
    command, version, _ = _HEADER.unpack_from(mv)
    end = n
    auth: Md5Auth | SimpleAuth | None = None
    first = HEADER_LEN
    if n >= HEADER_LEN + ENTRY_LEN and _ENTRY.unpack_from(mv, HEADER_LEN)[0] == AF_AUTH:
        kind = struct.unpack_from("!H", mv, HEADER_LEN + 2)[0]
        first = HEADER_LEN + ENTRY_LEN
        if kind == AUTH_MD5:
            _, _, offset, key_id, data_len, seq = _MD5_HEADER.unpack_from(mv, HEADER_LEN)
            if offset < first or (offset - HEADER_LEN) % ENTRY_LEN or offset + ENTRY_LEN > n:
                raise Malformed("rip", f"MD5 digest offset {offset} does not fit {n} bytes")
            family, trailer_type, digest = _TRAILER.unpack_from(mv, offset)
            if family != AF_AUTH or trailer_type != AUTH_MD5_DATA:
                raise Malformed("rip", f"no MD5 trailer at offset {offset}")
            auth = Md5Auth(offset, key_id, data_len, seq, bytes(digest))
            end = offset
        elif kind == AUTH_SIMPLE:
            auth = SimpleAuth(bytes(_SIMPLE.unpack_from(mv, HEADER_LEN)[2]))
        else:
            raise Malformed("rip", f"unknown authentication type {kind}")
    entries = []
    for off in range(first, end, ENTRY_LEN):
        family, tag, address, mask, next_hop, metric = _ENTRY.unpack_from(mv, off)
        if family == AF_AUTH:
            raise Malformed("rip", f"authentication entry at byte {off}: only the first may be")
        entries.append(RipEntry(address, mask, metric, next_hop, tag, family))
    return RipMessage(command, version, tuple(entries), auth)


def signed_part(buf: bytes | bytearray | memoryview, auth: Md5Auth) -> memoryview:
    """What the MD5 digest of a received message covers."""
    mv = buf if isinstance(buf, memoryview) else memoryview(buf)
    return mv[: auth.digest_offset + 4]


def verify_md5(buf: bytes | bytearray | memoryview, auth: Md5Auth, key: bytes) -> bool:
    return md5_digest(signed_part(buf, auth), key) == auth.digest


def build_rip(
    command: int,
    entries: list[RipEntry] | tuple[RipEntry, ...],
    *,
    version: int = RIP_VERSION,
    md5: Md5Key | None = None,
) -> bytes:
    """Encode a message; with ``md5`` it carries the RFC 2082 header, trailer and digest.
    Raises ValueError when the entries do not fit 512 bytes."""
    limit = max_routes(md5 is not None)
    if len(entries) > limit:
        raise ValueError(f"{len(entries)} entries do not fit one message (at most {limit})")
    parts = [_HEADER.pack(command, version, 0)]
    if md5 is not None:
        offset = HEADER_LEN + ENTRY_LEN * (1 + len(entries))
        parts.append(
            _MD5_HEADER.pack(AF_AUTH, AUTH_MD5, offset, md5.key_id, md5.auth_data_len, md5.sequence)
        )
    for e in entries:
        parts.append(_ENTRY.pack(e.family, e.tag, e.address, e.mask, e.next_hop, e.metric))
    if md5 is None:
        return b"".join(parts)
    parts.append(struct.pack("!HH", AF_AUTH, AUTH_MD5_DATA))
    signed = b"".join(parts)
    return signed + md5_digest(signed, md5.key)


def whole_table_request() -> RipEntry:
    return RipEntry(0, 0, INFINITY, family=0)
