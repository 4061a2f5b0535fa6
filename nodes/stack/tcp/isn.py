"""Initial sequence numbers per RFC 6528: ISN = M + F(localip, localport, remoteip,
remoteport, secretkey), M a 4-microsecond clock taken from ``now`` and F a keyed hash
(BLAKE2b keyed with a per-stack secret drawn from the injected RNG)."""

from __future__ import annotations

import hashlib
import random
import struct

from mypy_extensions import mypyc_attr

_TUPLE = struct.Struct("!IHIH")


# compiled (setup.py), yet a Python class: tests patch its methods (a native class's are fixed)
@mypyc_attr(native_class=False)
class IsnGenerator:
    __slots__ = ("_key",)

    def __init__(self, rng: random.Random) -> None:
        self._key = rng.getrandbits(256).to_bytes(32, "big")

    def isn(self, local: int, lport: int, remote: int, rport: int, *, now: float) -> int:
        digest = hashlib.blake2b(
            _TUPLE.pack(local, lport, remote, rport), key=self._key, digest_size=4
        ).digest()
        return (int(now * 250_000) + int.from_bytes(digest, "big")) & 0xFFFFFFFF

    def offset(self, local: int, remote: int) -> int:
        """Per-pair timestamp offset (Linux randomizes TSval per connection pair)."""
        digest = hashlib.blake2b(
            _TUPLE.pack(local, 0, remote, 1), key=self._key, digest_size=4, person=b"ts"
        ).digest()
        return int.from_bytes(digest, "big")
