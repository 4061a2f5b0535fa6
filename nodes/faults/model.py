"""The fault model: what a fault is (a frozen, validated spec), what it reports (counters,
info, events). Units: seconds for times, bits per second for rates, bytes for sizes,
probabilities as fractions 0..1 (not percent).

Validation raises FaultSpecError naming the field and the allowed range, e.g.
``loss: must be within 0..1, got 1.5``.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, replace
from enum import StrEnum
from typing import TypeGuard

from .errors import FaultSpecError
from .match import Match

IFACE_ANY = "*"
"""A fault whose ``iface`` is ``*`` applies to every interface of the node."""

MAX_SEED = 2**64 - 1
MAX_DELAY = 3600.0
MAX_DURATION = 10 * 365 * 86400.0
MIN_MTU, MAX_MTU = 68, 65535


class Direction(StrEnum):
    EGRESS = "egress"  # frames the node sends, before the wire
    INGRESS = "ingress"  # frames from the wire, before the node's stack
    BOTH = "both"  # only in a spec: the fault applies to each direction independently

    @property
    def concrete(self) -> tuple[Direction, ...]:
        return (Direction.EGRESS, Direction.INGRESS) if self is Direction.BOTH else (self,)


class Distribution(StrEnum):
    UNIFORM = "uniform"  # delay + U(-jitter, +jitter)
    NORMAL = "normal"  # delay + jitter * N(0, 1), the normal cut at +-4 sigma


def _is_number(value: object) -> TypeGuard[int | float]:
    return isinstance(value, int | float) and not isinstance(value, bool)


def check_probability(name: str, value: object) -> None:
    if not _is_number(value) or not 0.0 <= value <= 1.0:
        raise FaultSpecError(name, f"must be within 0..1, got {value!r}")


def check_range(name: str, value: object, low: float, high: float, unit: str = "") -> None:
    ok = _is_number(value) and math.isfinite(value) and low <= value <= high
    if not ok:
        raise FaultSpecError(name, f"must be within {low:g}..{high:g}{unit}, got {value!r}")


def check_int(name: str, value: object, low: int, high: int) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise FaultSpecError(name, f"must be an integer within {low}..{high}, got {value!r}")


@dataclass(frozen=True, slots=True)
class GilbertElliott:
    """Gilbert-Elliott loss, with netem's parameters (``tc ... loss gemodel p r 1-h 1-k``):

    - ``p``: probability of moving good -> bad, drawn once per packet in the good state;
    - ``r``: probability of moving bad -> good, drawn once per packet in the bad state
      (None: 1 - p, tc's default);
    - ``loss_bad`` = 1 - h: loss probability in the bad state (default 1, tc's default);
    - ``loss_good`` = 1 - k: loss probability in the good state (default 0, tc's default).

    As in the kernel, a packet's fate uses the state it arrives in; the transition draw
    then sets the state for the next packet. With the defaults a loss burst lasts 1/r
    packets on average and the long-run loss rate is p / (p + r).
    """

    p: float
    r: float | None = None
    loss_bad: float = 1.0
    loss_good: float = 0.0

    def __post_init__(self) -> None:
        check_probability("gilbert_elliott.p", self.p)
        if self.r is None:
            object.__setattr__(self, "r", 1.0 - self.p)
        check_probability("gilbert_elliott.r", self.r)
        check_probability("gilbert_elliott.loss_bad", self.loss_bad)
        check_probability("gilbert_elliott.loss_good", self.loss_good)

    @property
    def to_good(self) -> float:
        return 1.0 - self.p if self.r is None else self.r

    @property
    def stationary_bad(self) -> float:
        """Long-run fraction of packets seen in the bad state."""
        total = self.p + self.to_good
        return 0.0 if total == 0 else self.p / total

    @property
    def stationary_loss(self) -> float:
        bad = self.stationary_bad
        return bad * self.loss_bad + (1.0 - bad) * self.loss_good


@dataclass(frozen=True, slots=True)
class Codel:
    """CoDel (RFC 8289) on a token bucket's queue: once frames have waited longer than
    ``target`` for a whole ``interval``, it drops frames at their dequeue, ever more often
    (``interval / sqrt(count)`` apart) until the waits fall below ``target`` again. As in
    CAKE, ``target`` is raised to the time one full-size frame (1514 bytes) takes at the
    bucket's rate, so a slow link is not starved by a target shorter than one frame."""

    target: float = 0.005
    interval: float = 0.1

    def __post_init__(self) -> None:
        check_range("codel.target", self.target, 1e-6, 60.0, " s")
        check_range("codel.interval", self.interval, 1e-6, 600.0, " s")


@dataclass(frozen=True, slots=True)
class RateLimit:
    """Token bucket (like tc tbf): tokens are bytes of whole frames (Ethernet header
    included) refilled at ``rate_bps`` / 8 per second, up to ``burst_bytes``. A frame that
    finds too few tokens waits in a FIFO queue; a frame that would make the queue exceed
    ``queue_limit_bytes`` or ``queue_limit_packets`` (None: no limit of that kind) is
    dropped and counted as shaped. A limit of 0 makes a policer (no queue at all). A frame
    larger than the burst leaves when the bucket is full and drives it negative, so the
    long-run rate stays exact."""

    rate_bps: float
    burst_bytes: int = 1514
    queue_limit_bytes: int | None = None
    queue_limit_packets: int | None = 1000
    codel: Codel | None = None  # None: drop-tail only

    def __post_init__(self) -> None:
        check_range("rate.rate_bps", self.rate_bps, 1.0, 1e12, " bit/s")
        check_int("rate.burst_bytes", self.burst_bytes, 1, 2**31)
        if self.queue_limit_bytes is not None:
            check_int("rate.queue_limit_bytes", self.queue_limit_bytes, 0, 2**31)
        if self.queue_limit_packets is not None:
            check_int("rate.queue_limit_packets", self.queue_limit_packets, 0, 2**31)
        if self.codel is not None and not isinstance(self.codel, Codel):
            raise FaultSpecError("rate.codel", f"must be Codel or None, got {self.codel!r}")


def _coerce(obj: object, name: str, kind: type[StrEnum]) -> None:
    """Accept an enum's value as text (any case) for field ``name`` of a frozen dataclass."""
    value = getattr(obj, name)
    if isinstance(value, kind):
        return
    try:
        object.__setattr__(obj, name, kind(str(value).lower()))
    except ValueError:
        allowed = ", ".join(k.value for k in kind)
        raise FaultSpecError(name, f"must be one of {allowed}, got {value!r}") from None


@dataclass(frozen=True, slots=True)
class Effects:
    """What a fault does: the one effects model of wirelab (topology files, the CLI, the
    Python client and the node's engine all build this). Units: probabilities 0..1,
    seconds, bytes; ``rate`` holds bits per second.

    Frame effects apply in this fixed order (see effects.py):

        down -> match -> blackhole_mtu -> loss / gilbert_elliott -> corrupt -> duplicate
             -> rate (token bucket) -> delay + jitter / reorder

    ``reorder`` follows netem: with that probability a frame goes out at once, the others
    wait ``delay`` (+ jitter); it needs ``delay`` > 0. Jitter alone can reorder frames
    too (as netem's does). ``down`` drops everything.

    ``mtu`` is not a frame effect: it is the interface's MTU while the fault holds (the
    node's stack fragments, refuses DF packets with ICMP frag-needed, and TCP discovers
    the path MTU, as on a real smaller link); ``blackhole_mtu`` silently drops IP packets
    above it instead (a PMTUD black hole). ``direction`` and ``match`` do not apply to
    ``mtu`` (an interface has one MTU, for what the node sends through it; like Linux,
    the node still takes larger frames in), and a fault with only ``mtu`` costs the
    frame path nothing: the engine never sees its frames. Several MTU faults on one
    interface (``*`` counts for every interface): the lowest holds. When the fault ends
    (cleared, removed or expired) the configured MTU is back (nodes/faults/mtu.py).
    """

    loss: float = 0.0
    gilbert_elliott: GilbertElliott | None = None
    corrupt: float = 0.0
    duplicate: float = 0.0
    rate: RateLimit | None = None
    delay: float = 0.0
    jitter: float = 0.0
    distribution: Distribution = Distribution.UNIFORM
    reorder: float = 0.0
    mtu: int | None = None
    blackhole_mtu: int | None = None
    down: bool = False

    def __post_init__(self) -> None:
        _coerce(self, "distribution", Distribution)
        check_probability("loss", self.loss)
        check_probability("corrupt", self.corrupt)
        check_probability("duplicate", self.duplicate)
        check_probability("reorder", self.reorder)
        check_range("delay", self.delay, 0.0, MAX_DELAY, " s")
        check_range("jitter", self.jitter, 0.0, MAX_DELAY, " s")
        if self.gilbert_elliott is not None and self.loss > 0:
            raise FaultSpecError("gilbert_elliott", "cannot be combined with loss > 0: pick one")
        if self.reorder > 0 and self.delay <= 0:
            raise FaultSpecError(
                "reorder",
                f"needs delay > 0 (reordered frames skip the delay), got delay {self.delay!r}",
            )
        if self.mtu is not None:
            check_int("mtu", self.mtu, MIN_MTU, MAX_MTU)
        if self.blackhole_mtu is not None:
            check_int("blackhole_mtu", self.blackhole_mtu, MIN_MTU, MAX_MTU)
        if not isinstance(self.down, bool):
            raise FaultSpecError("down", f"must be true or false, got {self.down!r}")

    @property
    def empty(self) -> bool:
        """No effect at all (a fault needs at least one)."""
        return self == EMPTY_EFFECTS

    @property
    def delays(self) -> bool:
        return self.delay > 0 or self.jitter > 0

    @property
    def frame_effects(self) -> bool:
        """Whether any effect acts on frames (everything but ``mtu``)."""
        return replace(self, mtu=None) != EMPTY_EFFECTS


EMPTY_EFFECTS = Effects()


@dataclass(frozen=True, slots=True)
class FaultSpec:
    """One fault on one node: its interface (or ``*``) and direction, an optional match,
    its effects, seed and duration (None: until cleared). ``down`` takes no match: a down
    link drops everything."""

    iface: str
    effects: Effects
    direction: Direction = Direction.BOTH
    match: Match | None = None
    seed: int | None = None
    duration: float | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.iface, str) or not self.iface.strip():
            raise FaultSpecError("iface", f"must name an interface or be '*', got {self.iface!r}")
        if not isinstance(self.effects, Effects):
            raise FaultSpecError("effects", f"must be Effects, got {self.effects!r}")
        _coerce(self, "direction", Direction)
        if self.match is not None:
            if not isinstance(self.match, Match):
                raise FaultSpecError("match", f"must be a Match, got {self.match!r}")
            if self.match.is_empty:
                object.__setattr__(self, "match", None)
        if self.effects.down and self.match is not None:
            raise FaultSpecError(
                "match", "cannot be combined with down: a down link drops everything"
            )
        if self.seed is not None:
            check_int("seed", self.seed, 0, MAX_SEED)
        if self.duration is not None:
            check_range("duration", self.duration, 0.0, MAX_DURATION, " s")
            if self.duration <= 0:
                raise FaultSpecError(
                    "duration", f"must be > 0 (None: forever), got {self.duration!r}"
                )


@dataclass(frozen=True, slots=True)
class FaultCounters:
    """What a fault (or a link's shaping) did, summed over its interfaces and directions.
    ``dropped`` is the sum of the ``dropped_*`` reasons and ``shaped`` (rate-limiter queue
    overflow); ``dropped_aqm`` counts the rate limiter's CoDel drops."""

    seen: int = 0  # frames on the fault's interface/direction
    matched: int = 0  # of those, frames the match selected (all of them without a match)
    dropped: int = 0
    dropped_down: int = 0
    dropped_blackhole: int = 0
    dropped_loss: int = 0
    shaped: int = 0  # dropped because the rate limiter's queue was full
    queued: int = 0  # waited in the rate limiter's queue for tokens
    corrupted: int = 0
    duplicated: int = 0
    delayed: int = 0  # given a delay > 0 by delay/jitter
    reordered: int = 0  # sent at once by reorder while the others were delayed
    # packets above the fault's ``mtu`` that the node fragmented or refused (ICMP
    # frag-needed, or a local sender's EMSGSIZE / PMTU update) while the fault held
    mtu_exceeded: int = 0
    dropped_aqm: int = 0  # dropped by the rate limiter's CoDel (standing queue too long)

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class FaultInfo:
    fault_id: str
    seed: int  # the seed in use: the spec's, or the one the engine generated
    spec: FaultSpec
    added_at: float
    expires_at: float | None
    counters: FaultCounters = field(default_factory=FaultCounters)
    # when the fault first acted on a frame (matched one, or dropped one as ``down``):
    # how long a fault took to bite, measured in the node (None: not yet)
    first_hit_at: float | None = None


@dataclass(frozen=True, slots=True)
class FaultExpired:
    """Emitted when a fault's duration ran out; ``at`` is the exact expiry time."""

    fault_id: str
    at: float
    info: FaultInfo


FaultEvent = FaultExpired
