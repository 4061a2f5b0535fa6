"""The effect pipeline of one fault, and its per-(interface, direction) random stream.

Order (fixed, documented in FaultSpec):

    down -> match -> blackhole_mtu -> loss / gilbert_elliott -> corrupt -> duplicate
         -> rate (token bucket) -> delay + jitter / reorder

Rate comes before delay as on a real link (serialisation, then propagation): the token
bucket then sees frames in time order and stays exact, while jitter and reorder still
shuffle what leaves it.

Determinism: each (seed, interface, direction) has its own PRNG stream, seeded from a
hash of the three. Every matched frame takes the same fixed number of draws from it
(that number depends only on the spec, never on earlier outcomes), so the n-th matched
frame on an interface/direction always gets the same decisions, whatever other
interfaces or directions carry at the same time.
"""

from __future__ import annotations

import hashlib
import math
import random
from dataclasses import dataclass, fields

from .model import Direction, Distribution, FaultCounters, FaultSpec
from .rate import TokenBucket

ETH_HLEN = 14
NORMAL_CUT = 4.0  # the normal jitter is cut at +-4 sigma (netem's table spans about that)


@dataclass(slots=True)
class Tally:
    """Mutable counters of one fault; :meth:`freeze` snapshots them for reports."""

    seen: int = 0
    matched: int = 0
    dropped: int = 0
    dropped_down: int = 0
    dropped_blackhole: int = 0
    dropped_loss: int = 0
    shaped: int = 0
    queued: int = 0
    corrupted: int = 0
    duplicated: int = 0
    delayed: int = 0
    reordered: int = 0
    mtu_exceeded: int = 0
    dropped_aqm: int = 0

    def freeze(self) -> FaultCounters:
        return FaultCounters(**{f.name: getattr(self, f.name) for f in fields(self)})


def stream_seed(seed: int, iface: str, direction: Direction, kind: str = "fault") -> int:
    """The PRNG seed of one (fault seed, interface, direction) stream; ``kind`` "link" for
    a link's properties (their own streams, whatever seeds faults use)."""
    text = f"wirelab-{kind}/{seed}/{iface}/{direction.value}".encode()
    return int.from_bytes(hashlib.blake2b(text, digest_size=16).digest(), "big")


class Stream:
    """State of one fault on one interface and direction."""

    __slots__ = ("bad", "bucket", "index", "random")

    def __init__(
        self, spec: FaultSpec, seed: int, iface: str, direction: Direction, kind: str = "fault"
    ) -> None:
        self.random = random.Random(stream_seed(seed, iface, direction, kind)).random
        self.bad = False  # Gilbert-Elliott state
        rate = spec.effects.rate
        self.bucket = TokenBucket(rate) if rate is not None else None
        self.index = 0  # matched frames so far (the packet index of the next draw block)


class Pipeline:
    """The compiled effects of one spec: which draw of a frame's block feeds what."""

    __slots__ = ("_copy_slots", "_corrupt", "_dup", "_ge", "_loss", "draws", "effects", "match")

    def __init__(self, spec: FaultSpec) -> None:
        self.effects = spec.effects
        self.match = spec.match
        effects = spec.effects
        n = 0

        def take(count: int) -> int:
            nonlocal n
            n += count
            return n - count

        self._loss = take(1) if effects.loss > 0 else -1
        self._ge = take(2) if effects.gilbert_elliott is not None else -1
        self._corrupt = take(2) if effects.corrupt > 0 else -1
        self._dup = take(1) if effects.duplicate > 0 else -1
        copies = 2 if effects.duplicate > 0 else 1
        self._copy_slots: list[tuple[int, int]] = []  # (jitter slot, reorder slot) per copy
        for _ in range(copies):
            jitter = take(2) if effects.jitter > 0 else -1
            reorder = take(1) if effects.reorder > 0 else -1
            self._copy_slots.append((jitter, reorder))
        self.draws = n

    def run(
        self, stream: Stream, frame: bytes, now: float, tally: Tally
    ) -> list[tuple[float, bytes]]:
        effects = self.effects
        tally.seen += 1
        if effects.down:
            tally.dropped += 1
            tally.dropped_down += 1
            return []
        if self.match is not None and not self.match.matches(frame):
            return [(now, frame)]
        tally.matched += 1
        stream.index += 1
        rand = stream.random
        u = [rand() for _ in range(self.draws)]

        if effects.blackhole_mtu is not None and len(frame) - ETH_HLEN > effects.blackhole_mtu:
            tally.dropped += 1
            tally.dropped_blackhole += 1
            return []
        if self._lost(stream, u):
            tally.dropped += 1
            tally.dropped_loss += 1
            return []
        if self._corrupt >= 0 and u[self._corrupt] < effects.corrupt and len(frame) > ETH_HLEN:
            frame = flip_bit(frame, u[self._corrupt + 1])
            tally.corrupted += 1
        copies = [frame]
        if self._dup >= 0 and u[self._dup] < effects.duplicate:
            copies.append(frame)
            tally.duplicated += 1

        out: list[tuple[float, bytes]] = []
        for copy, (jitter_slot, reorder_slot) in zip(copies, self._copy_slots, strict=False):
            leave = now
            if stream.bucket is not None:
                departure = stream.bucket.admit(len(copy), now)
                if departure is None:
                    tally.dropped += 1
                    if stream.bucket.dropped_by_aqm:
                        tally.dropped_aqm += 1
                    else:
                        tally.shaped += 1
                    continue
                if departure > now:
                    tally.queued += 1
                leave = departure
            if effects.delays:
                if reorder_slot >= 0 and u[reorder_slot] < effects.reorder:
                    tally.reordered += 1
                else:
                    extra = self._delay(u, jitter_slot)
                    if extra > 0:
                        tally.delayed += 1
                    leave += extra
            out.append((leave, copy))
        return out

    def _lost(self, stream: Stream, u: list[float]) -> bool:
        effects = self.effects
        if self._loss >= 0 and u[self._loss] < effects.loss:
            return True
        ge = effects.gilbert_elliott
        if ge is None:
            return False
        slot = self._ge
        if stream.bad:
            lost = u[slot] < ge.loss_bad
            if u[slot + 1] < ge.to_good:
                stream.bad = False
        else:
            lost = u[slot] < ge.loss_good
            if u[slot + 1] < ge.p:
                stream.bad = True
        return lost

    def _delay(self, u: list[float], jitter_slot: int) -> float:
        effects = self.effects
        if jitter_slot < 0:
            return effects.delay
        if effects.distribution is Distribution.NORMAL:
            z = standard_normal(u[jitter_slot], u[jitter_slot + 1])
        else:
            z = 2.0 * u[jitter_slot] - 1.0
        return max(0.0, effects.delay + effects.jitter * z)


def standard_normal(u1: float, u2: float) -> float:
    """Box-Muller from two uniforms in [0, 1), cut at +-NORMAL_CUT."""
    z = math.sqrt(-2.0 * math.log(1.0 - u1)) * math.cos(2.0 * math.pi * u2)
    return max(-NORMAL_CUT, min(NORMAL_CUT, z))


def flip_bit(frame: bytes, u: float) -> bytes:
    """Flip exactly one bit past the Ethernet header, chosen by ``u`` in [0, 1)."""
    nbits = (len(frame) - ETH_HLEN) * 8
    bit = min(int(u * nbits), nbits - 1)
    out = bytearray(frame)
    out[ETH_HLEN + bit // 8] ^= 0x80 >> (bit % 8)
    return bytes(out)
