"""Per-node, per-interface impairments (sans-I/O, seeded, replayable).

    engine = FaultEngine(rng=random.Random(1))
    info = engine.add(FaultSpec("eth0", Effects(loss=0.1), Direction.EGRESS, seed=7), now=0.0)
    for release_time, frame in engine.process("eth0", Direction.EGRESS, frame, now=t): ...

Modules: model.py (specs, counters, info, events; validation), match.py (traffic
selectors at fixed offsets), effects.py (the per-fault pipeline and its PRNG streams),
rate.py (virtual-time token bucket), codel.py (CoDel on its queue), link.py (link
properties: the base layer beneath the faults), engine.py (FaultEngine), mtu.py (MTU
faults applied to the node's interfaces: MtuSync), errors.py.

Link properties (rate, delay, jitter, loss, queue of one direction of a link) run through
the same pipeline as faults, first, before the faults of their interface and direction:

    engine.set_link("eth0", Direction.EGRESS, LinkProps(rate=10e6, delay=0.02), seed=7)

Effect order on one fault: down -> match -> blackhole_mtu -> loss / gilbert_elliott -> corrupt
-> duplicate -> rate -> delay + jitter / reorder. Several faults on one interface and
direction chain in creation order. netem mapping: ``loss random P`` = loss;
``loss gemodel p r 1-h 1-k`` = GilbertElliott(p, r, loss_bad, loss_good); ``delay D J
distribution normal`` = delay/jitter/distribution; ``reorder P`` (with delay) = reorder;
``duplicate``/``corrupt`` alike; tbf ``rate burst limit`` = RateLimit. Probabilities are
fractions (0..1), times seconds, rates bit/s. ``mtu`` is no frame effect: it is the
interface's MTU for the fault's life (``ip link set mtu``), applied by MtuSync; direction
and match do not apply to it.
"""

from __future__ import annotations

from .engine import FaultEngine
from .errors import DuplicateFaultError, FaultError, FaultSpecError, UnknownFaultError
from .link import NO_LINK_PROPS, LinkProps, LinkShapingInfo
from .match import Match, Prefix, protocol_number
from .model import (
    IFACE_ANY,
    Codel,
    Direction,
    Distribution,
    Effects,
    FaultCounters,
    FaultEvent,
    FaultExpired,
    FaultInfo,
    FaultSpec,
    GilbertElliott,
    RateLimit,
)
from .mtu import MtuChange, MtuSync

__all__ = [
    "IFACE_ANY",
    "NO_LINK_PROPS",
    "Codel",
    "Direction",
    "Distribution",
    "DuplicateFaultError",
    "Effects",
    "FaultCounters",
    "FaultEngine",
    "FaultError",
    "FaultEvent",
    "FaultExpired",
    "FaultInfo",
    "FaultSpec",
    "FaultSpecError",
    "GilbertElliott",
    "LinkProps",
    "LinkShapingInfo",
    "Match",
    "MtuChange",
    "MtuSync",
    "Prefix",
    "RateLimit",
    "UnknownFaultError",
    "protocol_number",
]
