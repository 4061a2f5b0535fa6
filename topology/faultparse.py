"""The optional ``faults:`` timeline, checked for structure (references are checked after
planning, when every interface has its name).

Each entry has one target (``endpoint: r1:eth0``, ``link: NAME``, ``node: NAME`` or
``partition: [[a, b], [c]]``), optional ``at``/``duration`` (seconds or '50ms'),
``direction``, ``match``, ``seed``, and either effects (loss, ge, delay, jitter,
distribution, duplicate, corrupt, reorder, rate, mtu, down) or, on a node, an ``action``.
"""

from __future__ import annotations

from typing import Any

from nodes.faults.errors import FaultSpecError
from nodes.faults.match import Match, Prefix
from nodes.faults.model import Direction, Distribution, Effects, GilbertElliott, RateLimit
from topology import values
from topology.model import (
    MAX_MTU,
    MIN_MTU,
    FaultEntry,
    FaultTarget,
    NodeAction,
    TargetKind,
)
from topology.reader import Reader, Val
from topology.spec import FaultSpec

TARGET_KEYS = tuple(t.value for t in TargetKind)
PROBABILITY_EFFECTS = ("loss", "duplicate", "corrupt", "reorder")
EFFECT_KEYS = (
    "loss",
    "ge",
    "delay",
    "jitter",
    "distribution",
    "duplicate",
    "corrupt",
    "reorder",
    "rate",
    "mtu",
    "blackhole_mtu",
    "down",
)
FAULT_KEYS = ("at", *TARGET_KEYS, "direction", "match", "action", "duration", "seed", *EFFECT_KEYS)
MATCH_KEYS = ("protocol", "src", "dst", "sport", "dport")
GE_KEYS = ("p", "r", "h", "k")
PROTOCOLS = ("tcp", "udp", "icmp")


def parse_faults(reader: Reader, val: Val) -> tuple[FaultSpec, ...]:
    out = []
    for item in reader.sequence(val) or []:
        spec = _fault(reader, item)
        if spec is not None:
            out.append(spec)
    return tuple(out)


def _fault(reader: Reader, item: Val) -> FaultSpec | None:
    body = reader.mapping(item, allowed=FAULT_KEYS, what="fault key")
    if body is None:
        return None
    targets = [k for k in TARGET_KEYS if k in body]
    if len(targets) != 1:
        message = "a fault needs a target" if not targets else "a fault has one target"
        reader.error(item.where, f"{message}, got {len(targets)}", allowed=TARGET_KEYS)
        return None
    target_val = body[targets[0]]
    target = _target(reader, TargetKind(targets[0]), target_val)
    effects = _effects(reader, body)
    ok = target is not None and effects is not None
    action = None
    if "action" in body:
        allowed = tuple(a.value for a in NodeAction)
        text = reader.choice(body["action"], allowed, "action")
        action = NodeAction(text) if text else None
        ok = ok and action is not None
    at = values.duration(reader, body["at"]) if "at" in body else 0.0
    duration = values.duration(reader, body["duration"]) if "duration" in body else None
    seed = reader.integer(body["seed"], 0, 2**64 - 1) if "seed" in body else None
    direction = Direction.BOTH
    if "direction" in body:
        text = reader.choice(body["direction"], tuple(d.value for d in Direction), "direction")
        direction = Direction(text) if text else direction
    match = _match(reader, body["match"]) if "match" in body else None
    if not ok or target is None or effects is None or at is None:
        return None
    entry = FaultEntry(at, target, direction, effects, match, action, duration, seed)
    return (
        FaultSpec(entry, item.where, target_val.where) if _coherent(reader, item, entry) else None
    )


def _coherent(reader: Reader, item: Val, entry: FaultEntry) -> bool:
    kind = entry.target.kind
    if entry.action is not None and (kind is not TargetKind.NODE or not entry.effects.empty):
        reader.error(item.where, "an action applies to a node target alone, without effects")
        return False
    if kind is TargetKind.PARTITION and not entry.effects.empty:
        reader.error(item.where, "a partition drops traffic between groups; it takes no effects")
        return False
    if entry.action is None and kind is not TargetKind.PARTITION and entry.effects.empty:
        reader.error(
            item.where,
            "a fault needs at least one effect"
            + (" or an action" if kind is TargetKind.NODE else ""),
            allowed=EFFECT_KEYS,
        )
        return False
    return True


def _target(reader: Reader, kind: TargetKind, val: Val) -> FaultTarget | None:
    if kind is TargetKind.PARTITION:
        return _partition(reader, val)
    text = reader.string(val)
    if text is None:
        return None
    if kind is TargetKind.ENDPOINT:
        node, colon, iface = text.partition(":")
        if not colon or not values.check_name(reader, val, node, "node name"):
            if not colon:
                reader.error(val.where, f"bad endpoint {text!r}: expected node:iface")
            return None
        if not values.check_name(reader, val, iface, "interface name", iface=True):
            return None
        return FaultTarget(kind, node=node, iface=iface)
    if not values.check_name(reader, val, text, f"{kind.value} name"):
        return None
    return FaultTarget(kind, node=text) if kind is TargetKind.NODE else FaultTarget(kind, link=text)


def _partition(reader: Reader, val: Val) -> FaultTarget | None:
    groups_val = reader.sequence(val)
    if groups_val is None:
        return None
    if len(groups_val) < 2:
        reader.error(val.where, "a partition needs at least two groups of nodes")
        return None
    groups: list[tuple[str, ...]] = []
    for group_val in groups_val:
        members = reader.sequence(group_val) or []
        names = [values.name(reader, m, "node name") for m in members]
        if not members:
            reader.error(group_val.where, "a partition group needs at least one node")
            return None
        if any(n is None for n in names):
            return None
        groups.append(tuple(n for n in names if n is not None))
    return FaultTarget(TargetKind.PARTITION, groups=tuple(groups))


def _effects(reader: Reader, body: dict[str, Val]) -> Effects | None:
    found: dict[str, Any] = {}
    for key in PROBABILITY_EFFECTS:
        if key in body:
            found[key] = values.probability(reader, body[key])
    for key in ("delay", "jitter"):
        if key in body:
            found[key] = values.duration(reader, body[key])
    if "distribution" in body:
        allowed = tuple(d.value for d in Distribution)
        text = reader.choice(body["distribution"], allowed, "distribution")
        found["distribution"] = Distribution(text) if text else None
    if "rate" in body:
        bps = values.rate(reader, body["rate"])
        found["rate"] = None if bps is None else RateLimit(float(bps))
    for key in ("mtu", "blackhole_mtu"):
        if key in body:
            found[key] = reader.integer(body[key], MIN_MTU, MAX_MTU)
    if "down" in body:
        found["down"] = reader.boolean(body["down"])
    if "ge" in body:
        found["gilbert_elliott"] = _gilbert_elliott(reader, body["ge"])
    if any(v is None for v in found.values()):
        return None
    try:
        return Effects(**found)
    except FaultSpecError as exc:  # a combination the engine refuses (reorder without delay)
        key = "ge" if exc.field == "gilbert_elliott" else exc.field.split(".")[0]
        where = body[key].where if key in body else next(iter(body.values())).where
        reader.error(where, exc.problem)
        return None


def _gilbert_elliott(reader: Reader, val: Val) -> GilbertElliott | None:
    """``{p, r, h, k}`` as in netem's ``loss gemodel p r 1-h 1-k``: h and k are the chances
    a packet gets through in the bad and in the good state."""
    body = reader.mapping(val, allowed=GE_KEYS, required=("p", "r"), what="ge key")
    if body is None or "p" not in body or "r" not in body:
        return None
    probs = {k: values.probability(reader, v) for k, v in body.items()}
    if any(v is None for v in probs.values()):
        return None
    h, k = probs.get("h", 0.0), probs.get("k", 1.0)
    assert h is not None and k is not None
    return GilbertElliott(p=probs["p"] or 0.0, r=probs["r"], loss_bad=1.0 - h, loss_good=1.0 - k)


def _match(reader: Reader, val: Val) -> Match | None:
    body = reader.mapping(val, allowed=MATCH_KEYS, what="match key")
    if body is None:
        return None
    found: dict[str, Any] = {}
    if "protocol" in body:
        found["protocol"] = reader.choice(body["protocol"], PROTOCOLS, "protocol")
    for key in ("src", "dst"):
        if key in body:
            found[key] = _match_network(reader, body[key])
    for key, name in (("sport", "src_port"), ("dport", "dst_port")):
        if key in body:
            found[name] = reader.integer(body[key], 0, 65535)
    if any(v is None for v in found.values()):
        return None
    try:
        return Match.of(**found)
    except FaultSpecError as exc:  # ports without tcp/udp
        key = {"src_port": "sport", "dst_port": "dport"}.get(exc.field.split(".")[-1], "protocol")
        reader.error(body[key].where if key in body else val.where, exc.problem)
        return None


def _match_network(reader: Reader, val: Val) -> Prefix | None:
    if isinstance(val.value, str) and "/" not in val.value:
        parsed = values.address(reader, val, val.value)
        return None if parsed is None else Prefix(int(parsed[0]), 32)
    net = values.network(reader, val)
    return None if net is None else Prefix(int(net.network_address), net.prefixlen)
