"""FaultEngine: the impairments of one node, over all its interfaces (sans-I/O).

The io layer passes each frame through ``process(ifname, EGRESS, ...)`` before the wire
and ``process(ifname, INGRESS, ...)`` before the stack, and schedules the returned
``(release_time, frame)`` pairs. ``active()`` is the cheap check that lets it skip the
call when no fault covers an interface/direction.

Several faults on one interface and direction chain in creation order: the frames one
fault releases (at their release times) enter the next one.

Link properties (:mod:`nodes.faults.link`) are a base layer beneath the faults: at most
one per interface and direction, set with :meth:`FaultEngine.set_link` when the node is
configured. A frame goes through its link layer first, then through the faults. Faults
come and go (add, remove, clear, expiry) without touching the link layers; ``list()``
shows faults only, :meth:`FaultEngine.links` the link layers with their counters.

The engine owns fault durations: a fault expires at exactly ``added_at + duration``,
either in ``on_timer`` or lazily on the first ``process`` call at or past that time, and
each expiry is reported once as a FaultExpired event (pulled with ``next_event`` or
``drain_events``).

MTU faults act on the node, not on frames: ``mtu_caps()`` is the MTU each interface key
(a name or ``*``) is capped at by the faults installed now, ``mtu_version`` changes
whenever that changes (add, remove, clear, expiry), and :class:`~nodes.faults.mtu.MtuSync`
applies it to the node. A fault whose only effect is ``mtu`` stays out of the frame
index: ``active()`` ignores it. The node reports the packets it fragmented or refused
above a capped MTU to ``mtu_exceeded``, which counts them on the faults they exceed.
"""

from __future__ import annotations

import builtins
import math
import random
from collections import deque
from dataclasses import dataclass, field

from .effects import Pipeline, Stream, Tally
from .errors import DuplicateFaultError, FaultSpecError, UnknownFaultError
from .link import LinkProps, LinkShapingInfo, check_layer
from .model import IFACE_ANY, Direction, FaultEvent, FaultExpired, FaultInfo, FaultSpec
from .rate import TokenBucket

Release = tuple[float, bytes]


@dataclass(slots=True)
class _Fault:
    fault_id: str
    seq: int
    seed: int
    spec: FaultSpec
    pipeline: Pipeline
    added_at: float
    expires_at: float | None
    tally: Tally = field(default_factory=Tally)
    streams: dict[tuple[str, Direction], Stream] = field(default_factory=dict)
    first_hit_at: float | None = None  # the first frame it acted on (matched, or down)

    def stream(self, ifname: str, direction: Direction) -> Stream:
        key = (ifname, direction)
        stream = self.streams.get(key)
        if stream is None:
            stream = Stream(self.spec, self.seed, ifname, Direction(direction))
            self.streams[key] = stream
        return stream

    def info(self) -> FaultInfo:
        return FaultInfo(
            fault_id=self.fault_id,
            seed=self.seed,
            spec=self.spec,
            added_at=self.added_at,
            expires_at=self.expires_at,
            counters=self.tally.freeze(),
            first_hit_at=self.first_hit_at,
        )


@dataclass(slots=True)
class _Link:
    """The link layer of one interface and direction."""

    iface: str
    direction: Direction
    props: LinkProps
    seed: int
    pipeline: Pipeline
    stream: Stream
    tally: Tally = field(default_factory=Tally)

    @classmethod
    def of(cls, iface: str, direction: Direction, props: LinkProps, seed: int) -> _Link:
        spec = FaultSpec(iface, props.effects(), direction, seed=seed)
        stream = Stream(spec, seed, iface, direction, kind="link")
        return cls(iface, direction, props, seed, Pipeline(spec), stream)

    def info(self) -> LinkShapingInfo:
        return LinkShapingInfo(
            self.iface, self.direction, self.props, self.seed, self.tally.freeze()
        )


def attach_egress_gauge(node: object, faults: object | None, *, slack: float = 0.0) -> bool:
    """Show ``node`` (a Host: ``set_egress_gauge``) the egress queues of ``faults`` (a
    FaultEngine; None detaches), so its TCP bounds what it queues below itself (small
    queues). Every loop calls this where it installs a node's engine; ``slack`` is how late
    the loop's timers may fire (0 in virtual time): the queue then holds that much more,
    so a late wake-up does not leave the link idle. True if attached."""
    setter = getattr(node, "set_egress_gauge", None)
    if setter is None:
        return False
    gauge = faults if hasattr(faults, "drained_to") and hasattr(faults, "queued") else None
    setter(gauge, slack=slack)
    return gauge is not None


class FaultEngine:
    """All faults of one node. ``rng`` generates the seeds of faults added without one
    (inject a seeded ``random.Random`` for reproducible runs)."""

    def __init__(self, *, rng: random.Random | None = None) -> None:
        self._rng = rng if rng is not None else random.Random()
        self._faults: dict[str, _Fault] = {}  # in creation order
        self._index: dict[tuple[str, Direction], tuple[_Fault, ...]] = {}
        self._links: dict[tuple[str, Direction], _Link] = {}
        self._covered: frozenset[tuple[str, Direction]] = frozenset()  # a fault or a link
        self._wildcards = False  # any fault on IFACE_ANY
        self._seq = 0
        self._next_expiry = math.inf
        self._events: deque[FaultEvent] = deque()
        self._mtu_faults: tuple[_Fault, ...] = ()  # faults with an ``mtu`` effect
        self._mtu_caps: dict[str, int] = {}
        self.mtu_version = 0  # changes whenever mtu_caps() does

    # -- managing faults ---------------------------------------------------------------

    def add(self, spec: FaultSpec, *, now: float, fault_id: str | None = None) -> FaultInfo:
        """Install a fault; returns its id and the seed in use (generated if the spec has
        none). Raises FaultSpecError for a bad id, DuplicateFaultError if it is taken."""
        if fault_id is None:
            fault_id = self._new_id()
        elif not isinstance(fault_id, str) or not fault_id.strip():
            raise FaultSpecError("fault_id", f"must be a non-empty string, got {fault_id!r}")
        elif fault_id in self._faults:
            raise DuplicateFaultError(fault_id)
        if now >= self._next_expiry:
            self._expire(now)
        seed = spec.seed if spec.seed is not None else self._rng.getrandbits(63)
        self._seq += 1
        expires_at = None if spec.duration is None else now + spec.duration
        fault = _Fault(fault_id, self._seq, seed, spec, Pipeline(spec), now, expires_at)
        self._faults[fault_id] = fault
        if expires_at is not None:
            self._next_expiry = min(self._next_expiry, expires_at)
        self._reindex()
        return fault.info()

    def remove(self, fault_id: str) -> FaultInfo:
        """Remove a fault; returns its final info and counters."""
        fault = self._faults.pop(fault_id, None)
        if fault is None:
            raise UnknownFaultError(fault_id)
        self._reindex()
        return fault.info()

    def clear(self) -> builtins.list[FaultInfo]:
        """Remove every fault; returns their final infos."""
        infos = [fault.info() for fault in self._faults.values()]
        self._faults.clear()
        self._reindex()
        return infos

    def get(self, fault_id: str) -> FaultInfo:
        fault = self._faults.get(fault_id)
        if fault is None:
            raise UnknownFaultError(fault_id)
        return fault.info()

    def list(self) -> builtins.list[FaultInfo]:
        """Every installed fault with its counters, in creation order."""
        return [fault.info() for fault in self._faults.values()]

    # -- link properties (the base layer) ----------------------------------------------

    def set_link(
        self, iface: str, direction: Direction, props: LinkProps, *, seed: int | None = None
    ) -> LinkShapingInfo | None:
        """Install (replace) the link layer of ``iface``/``direction`` (egress or ingress);
        empty ``props`` remove it. ``seed`` None: one from the engine's rng. Its counters
        start from zero. Faults are not touched."""
        direction = Direction(direction)
        check_layer(iface, direction, seed)
        key = (iface, direction)
        if props.empty:
            self._links.pop(key, None)
            self._reindex()
            return None
        layer = _Link.of(
            iface, direction, props, seed if seed is not None else self._rng.getrandbits(63)
        )
        self._links[key] = layer
        self._reindex()
        return layer.info()

    def links(self) -> builtins.list[LinkShapingInfo]:
        """Every link layer with its counters, by interface then egress before ingress."""
        order = {Direction.EGRESS: 0, Direction.INGRESS: 1}
        layers = sorted(self._links.values(), key=lambda k: (k.iface, order[k.direction]))
        return [layer.info() for layer in layers]

    # -- the data path -----------------------------------------------------------------

    def active(self, ifname: str, direction: Direction) -> bool:
        """Does a fault or a link layer cover this interface and direction? (two set
        lookups at most)"""
        return (ifname, direction) in self._covered or (
            self._wildcards and (IFACE_ANY, direction) in self._index
        )

    def process(
        self, ifname: str, direction: Direction, frame: bytes, *, now: float
    ) -> builtins.list[Release]:
        """Pass one frame through the link layer, then the faults of ``ifname``/``direction``:
        zero (dropped) or more ``(release_time, frame)`` pairs, release_time >= now."""
        if direction is Direction.BOTH:
            raise ValueError("process() needs Direction.EGRESS or Direction.INGRESS, not BOTH")
        if now >= self._next_expiry:
            self._expire(now)
        faults = self._faults_for(ifname, direction)
        out: builtins.list[Release]
        layer = self._links.get((ifname, direction))
        if layer is None:
            out = [(now, frame)]
        else:
            out = layer.pipeline.run(layer.stream, frame, now, layer.tally)
            if not out:
                return out
        for fault in faults:
            stream = fault.stream(ifname, direction)
            run, tally = fault.pipeline.run, fault.tally
            if len(out) == 1:
                out = run(stream, out[0][1], out[0][0], tally)
            else:
                out = [r for at, f in out for r in run(stream, f, at, tally)]
            if fault.first_hit_at is None and (tally.matched or tally.dropped_down):
                fault.first_hit_at = now
            if not out:
                break
        return out

    # -- egress backlog (what transmit completions tell a sender: TCP small queues) -------

    def queued(self, ifname: str, now: float) -> int | None:
        """Bytes waiting for a rate on ``ifname``'s egress now: its link layer's queue and
        every rate fault's on it (a link's delay holds frames in flight, not queued: the
        wire has them, as netem orphans delayed packets in Linux). None: no rate there,
        so nothing ever queues."""
        buckets = self._egress_buckets(ifname)
        if not buckets:
            return None
        total = 0
        for bucket in buckets:
            total += bucket.backlog(now)
        return total

    def drained_to(self, ifname: str, limit: int, now: float) -> float:
        """When ``ifname``'s egress queues hold at most ``limit`` bytes again if nothing
        more arrives (``now`` when they do already): with several rates in series, the
        latest of theirs, each against the whole limit."""
        when = now
        for bucket in self._egress_buckets(ifname):
            t = bucket.drained_to(limit, now)
            if t > when:
                when = t
        return when

    def rate(self, ifname: str) -> float | None:
        """The slowest rate on ``ifname``'s egress, bytes/s (None: no rate there)."""
        rates = [bucket.rate for bucket in self._egress_buckets(ifname)]
        return min(rates) if rates else None

    def _egress_buckets(self, ifname: str) -> builtins.list[TokenBucket]:
        key = (ifname, Direction.EGRESS)
        out = []
        layer = self._links.get(key)
        if layer is not None and layer.stream.bucket is not None:
            out.append(layer.stream.bucket)
        for fault in self._faults_for(ifname, Direction.EGRESS):
            if fault.spec.effects.rate is not None:
                bucket = fault.stream(ifname, Direction.EGRESS).bucket
                if bucket is not None:
                    out.append(bucket)
        return out

    # -- MTU faults ----------------------------------------------------------------------

    def mtu_caps(self) -> dict[str, int]:
        """The lowest ``mtu`` of the faults installed now, per interface key (an interface
        name, or ``*`` for every interface); empty without MTU faults."""
        return dict(self._mtu_caps)

    def mtu_exceeded(self, ifname: str, size: int, now: float) -> None:
        """The node fragmented or refused a ``size``-byte IP packet on ``ifname``, whose MTU
        an MTU fault caps: count it on every MTU fault of ``ifname`` (or ``*``) it exceeds."""
        if now >= self._next_expiry:
            self._expire(now)
        for fault in self._mtu_faults:
            mtu = fault.spec.effects.mtu
            if mtu is not None and size > mtu and fault.spec.iface in (ifname, IFACE_ANY):
                fault.tally.mtu_exceeded += 1
                if fault.first_hit_at is None:
                    fault.first_hit_at = now

    # -- time and events ---------------------------------------------------------------

    def next_deadline(self) -> float | None:
        """When the next fault expires (None: no fault has a duration)."""
        return None if self._next_expiry == math.inf else self._next_expiry

    def on_timer(self, *, now: float) -> None:
        if now >= self._next_expiry:
            self._expire(now)

    def next_event(self) -> FaultEvent | None:
        return self._events.popleft() if self._events else None

    def drain_events(self) -> builtins.list[FaultEvent]:
        events = builtins.list(self._events)
        self._events.clear()
        return events

    # -- internals ---------------------------------------------------------------------

    def _new_id(self) -> str:
        n = self._seq + 1
        while f"f{n}" in self._faults:
            n += 1
        return f"f{n}"

    def _faults_for(self, ifname: str, direction: Direction) -> tuple[_Fault, ...]:
        own = self._index.get((ifname, direction), ())
        if not self._wildcards:
            return own
        wild = self._index.get((IFACE_ANY, direction), ())
        if not own or not wild:
            return own or wild
        return tuple(sorted(own + wild, key=lambda f: f.seq))

    def _expire(self, now: float) -> None:
        due = sorted(
            (f for f in self._faults.values() if f.expires_at is not None and f.expires_at <= now),
            key=lambda f: (f.expires_at or 0.0, f.seq),
        )
        for fault in due:
            del self._faults[fault.fault_id]
            assert fault.expires_at is not None
            self._events.append(FaultExpired(fault.fault_id, fault.expires_at, fault.info()))
        self._reindex()

    def _reindex(self) -> None:
        index: dict[tuple[str, Direction], builtins.list[_Fault]] = {}
        caps: dict[str, int] = {}
        for fault in self._faults.values():
            effects, iface = fault.spec.effects, fault.spec.iface
            if effects.mtu is not None:
                caps[iface] = min(caps.get(iface, effects.mtu), effects.mtu)
                if not effects.frame_effects:
                    continue  # an MTU alone: nothing for the frame path to do
            for direction in fault.spec.direction.concrete:
                index.setdefault((iface, direction), []).append(fault)
        self._index = {key: tuple(faults) for key, faults in index.items()}
        self._covered = frozenset(self._index) | frozenset(self._links)
        self._mtu_faults = tuple(f for f in self._faults.values() if f.spec.effects.mtu)
        if caps != self._mtu_caps:
            self._mtu_caps = caps
            self.mtu_version += 1
        self._wildcards = any(iface == IFACE_ANY for iface, _ in self._index)
        expiries = [f.expires_at for f in self._faults.values() if f.expires_at is not None]
        self._next_expiry = min(expiries, default=math.inf)
