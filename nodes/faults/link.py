"""Link properties: what a link does to the frames crossing it in one direction (rate,
delay, jitter, loss and the rate's queue), applied by a node at one of its interfaces.

A link property is not a fault: it is the link itself, installed once when the node is
configured (from the topology) and kept for the node's life. In the node's
:class:`~nodes.faults.engine.FaultEngine` it is the base layer of its interface and
direction, run by the same effect pipeline as faults (:mod:`nodes.faults.effects`), with
its own seeded random stream and counters; faults stack on top of it, and adding,
clearing or expiring faults never touches it (``FaultEngine.list()`` does not show it,
``FaultEngine.links()`` does).

A frame meets the link first, then the faults in creation order: the link's token bucket
(and CoDel) see frames in time order, so its rate and queue delays are exact, and a
fault acts on what the link lets through, when it leaves the link (a loss fault then
loses frames that did use the link's capacity, as on a real line).

The queue exists only with a rate (frames wait for the rate, nowhere else); its default
is 1000 packets, Linux's ``txqueuelen``. ``codel`` adds CoDel to that queue (RFC 8289).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .errors import FaultSpecError
from .model import (
    MAX_DELAY,
    MAX_SEED,
    Codel,
    Direction,
    Effects,
    FaultCounters,
    RateLimit,
    check_int,
    check_probability,
    check_range,
)

DEFAULT_QUEUE_PACKETS = 1000  # Linux's default txqueuelen
MAX_QUEUE = 2**31


@dataclass(frozen=True, slots=True)
class LinkProps:
    """One direction of a link. Units: bit/s, seconds, a probability 0..1, packets and
    bytes. ``rate`` None: no rate (and no queue). A rate without a queue limit gets the
    default of 1000 packets; a limit of 0 makes a policer (no queue)."""

    rate: float | None = None
    delay: float = 0.0
    jitter: float = 0.0
    loss: float = 0.0
    queue_packets: int | None = None
    queue_bytes: int | None = None
    codel: Codel | None = None

    def __post_init__(self) -> None:
        if self.rate is not None:
            check_range("rate", self.rate, 1.0, 1e12, " bit/s")
        check_range("delay", self.delay, 0.0, MAX_DELAY, " s")
        check_range("jitter", self.jitter, 0.0, MAX_DELAY, " s")
        check_probability("loss", self.loss)
        if self.queue_packets is not None:
            check_int("queue_packets", self.queue_packets, 0, MAX_QUEUE)
        if self.queue_bytes is not None:
            check_int("queue_bytes", self.queue_bytes, 0, MAX_QUEUE)
        if self.codel is not None and not isinstance(self.codel, Codel):
            raise FaultSpecError("codel", f"must be Codel or None, got {self.codel!r}")
        queued = self.queue_packets is not None or self.queue_bytes is not None
        if self.rate is None and (queued or self.codel is not None):
            what = "a queue" if queued else "codel"
            raise FaultSpecError(
                "queue" if queued else "codel",
                f"{what} needs a rate: frames queue only while they wait for the rate",
            )
        if self.rate is not None and not queued:
            object.__setattr__(self, "queue_packets", DEFAULT_QUEUE_PACKETS)

    @property
    def empty(self) -> bool:
        """Does nothing to frames (no layer is installed for it)."""
        return self == NO_LINK_PROPS

    def effects(self) -> Effects:
        """The pipeline's effects for this direction."""
        rate = None
        if self.rate is not None:
            rate = RateLimit(
                self.rate,
                queue_limit_bytes=self.queue_bytes,
                queue_limit_packets=self.queue_packets,
                codel=self.codel,
            )
        return Effects(loss=self.loss, rate=rate, delay=self.delay, jitter=self.jitter)


NO_LINK_PROPS = LinkProps()


@dataclass(frozen=True, slots=True)
class LinkShapingInfo:
    """A link's properties as one interface applies them in one direction (``egress``:
    what the node sends; ``ingress``: what it receives, for a peer that cannot shape its
    own egress), the seed of their random stream and what they did."""

    iface: str
    direction: Direction
    props: LinkProps
    seed: int
    counters: FaultCounters = field(default_factory=FaultCounters)


def check_layer(iface: str, direction: Direction, seed: int | None) -> None:
    if not isinstance(iface, str) or not iface.strip() or iface == "*":
        raise FaultSpecError("iface", f"must name one interface, got {iface!r}")
    if direction not in (Direction.EGRESS, Direction.INGRESS):
        raise FaultSpecError("direction", f"must be egress or ingress, got {direction!r}")
    if seed is not None:
        check_int("seed", seed, 0, MAX_SEED)
