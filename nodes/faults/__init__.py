"""Per-node, per-interface impairments (sans-I/O, seeded, replayable).

    engine = FaultEngine(rng=random.Random(1))
    info = engine.add(FaultSpec("eth0", Effects(loss=0.1), Direction.EGRESS, seed=7), now=0.0)
    for release_time, frame in engine.process("eth0", Direction.EGRESS, frame, now=t): ...

Modules: model.py (specs, counters, info, events; validation), match.py (traffic
selectors at fixed offsets), effects.py (the per-fault pipeline and its PRNG streams),
rate.py (virtual-time token bucket), engine.py (FaultEngine), mtu.py (MTU faults applied
to the node's interfaces: MtuSync), errors.py.

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
from .match import Match, Prefix, protocol_number
from .model import (
    IFACE_ANY,
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
    "Match",
    "MtuChange",
    "MtuSync",
    "Prefix",
    "RateLimit",
    "UnknownFaultError",
    "protocol_number",
]
