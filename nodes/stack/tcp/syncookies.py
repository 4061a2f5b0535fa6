"""SYN cookies (Linux style), used when a listener's SYN queue is full: the SYN-ACK's ISN
carries what the server would have stored.

ISN layout (32 bits): | 5-bit minute counter | 3-bit MSS index | 24-bit keyed hash |.
The hash covers the 4-tuple, the client's ISN, the counter and the MSS index, so a forged
ACK can't pass. With timestamps, the low 6 bits of TSval carry window scale (4 bits, 15 =
none), SACK-permitted (1 bit) and 1 bit for "timestamps used"; the client echoes them.
"""

from __future__ import annotations

import hashlib
import random
import struct
from dataclasses import dataclass

MSS_TABLE = (536, 1220, 1300, 1360, 1400, 1440, 1452, 1460)
MAX_AGE = 2  # counter ticks (64 s each): a cookie is good for 2-3 minutes
TICK = 64.0
_IN = struct.Struct("!IHIHIB")


@dataclass(frozen=True, slots=True)
class CookieOptions:
    mss: int
    wscale: int | None = None
    sack: bool = False
    timestamps: bool = False


def encode_ts_options(tsval: int, wscale: int | None, sack: bool) -> int:
    bits = (15 if wscale is None else wscale & 0xF) | (0x10 if sack else 0) | 0x20
    return (tsval & ~0x3F & 0xFFFFFFFF) | bits


class SynCookies:
    __slots__ = ("_key",)

    def __init__(self, rng: random.Random) -> None:
        self._key = rng.getrandbits(256).to_bytes(32, "big")

    def _hash(self, tup: tuple[int, int, int, int], client_isn: int, count: int) -> int:
        data = _IN.pack(*tup, client_isn, count)
        return int.from_bytes(hashlib.blake2b(data, key=self._key, digest_size=3).digest(), "big")

    def make(self, tup: tuple[int, int, int, int], client_isn: int, mss: int, *, now: float) -> int:
        """The server ISN for a SYN on 4-tuple (local, lport, remote, rport)."""
        idx = max((i for i, m in enumerate(MSS_TABLE) if m <= mss), default=0)
        count = int(now / TICK) & 0x1F
        h = self._hash(tup, client_isn, (count << 3) | idx)
        return (count << 27) | (idx << 24) | h

    def check(
        self, tup: tuple[int, int, int, int], client_isn: int, cookie: int, *, now: float
    ) -> int | None:
        """The MSS encoded in a valid cookie (the ACK's ack - 1), else None."""
        count, idx = cookie >> 27, (cookie >> 24) & 7
        age = (int(now / TICK) - count) & 0x1F
        if age > MAX_AGE:
            return None
        if self._hash(tup, client_isn, (count << 3) | idx) != cookie & 0xFFFFFF:
            return None
        return MSS_TABLE[idx]

    @staticmethod
    def decode_ts_options(tsecr: int) -> tuple[int | None, bool, bool]:
        """(wscale, sack, valid) from the echoed TSval of a cookie SYN-ACK."""
        if not tsecr & 0x20:
            return None, False, False
        ws = tsecr & 0xF
        return (None if ws == 15 else min(ws, 14)), bool(tsecr & 0x10), True
