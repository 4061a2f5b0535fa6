"""The optional ``faults:`` timeline of a topology file.

Each entry has one target (``endpoint: r1:eth0``, ``link: NAME``, ``node: NAME`` or
``partition: [[a, b], [c]]``), optional ``at``/``duration`` (seconds or '50ms'),
``direction``, ``match``, ``seed``, and either effects (loss, ge, delay, jitter,
distribution, duplicate, corrupt, reorder, rate, mtu, blackhole_mtu, down) or, on a node, an
``action``. Validation builds the fault engine's own model (:class:`nodes.faults.Effects`,
:class:`~nodes.faults.match.Match`, :class:`~nodes.faults.model.GilbertElliott`,
:class:`~nodes.faults.model.RateLimit`): a combination the engine refuses (loss with ge,
reorder without delay) is an error at its key. References (does the node exist, has it this
interface) are checked later, by :mod:`topology.validate`.
"""

from __future__ import annotations

from typing import Annotated, Any, Self

from pydantic import ConfigDict, Field, PrivateAttr, model_validator

from nodes.faults.errors import FaultSpecError
from nodes.faults.match import Match, Prefix
from nodes.faults.model import (
    MAX_DURATION,
    Direction,
    Distribution,
    Effects,
    GilbertElliott,
    RateLimit,
    check_range,
)
from topology import fields as f
from topology import values
from topology.filebase import FileModel
from topology.model import FaultEntry, FaultTarget, NodeAction, TargetKind
from topology.units import echo
from topology.values import Problem

TARGET_KEYS = tuple(t.value for t in TargetKind)
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
PROTOCOLS = ("tcp", "udp", "icmp")


def _endpoint_ref(value: Any) -> tuple[str, str]:
    text = values.string(value)
    node, colon, iface = text.partition(":")
    if not colon:
        raise Problem(f"bad endpoint {echo(text)}: expected node:iface")
    return values.name(node, "node name"), values.iface_name(iface)


def _partition(value: Any) -> tuple[tuple[str, ...], ...]:
    if not isinstance(value, list):
        raise values.expected("a list of node groups like [[a, b], [c]]", value)
    if len(value) < 2:
        raise Problem("a partition needs at least two groups of nodes")
    groups = []
    for i, group in enumerate(value):
        if not isinstance(group, list):
            raise Problem(values.expected("a list of nodes", group).message, at=(i,))
        if not group:
            raise Problem("a partition group needs at least one node", at=(i,))
        names = []
        for j, member in enumerate(group):
            try:
                names.append(values.name(member, "node name"))
            except Problem as problem:
                raise Problem(problem.message, at=(i, j)) from None
        groups.append(tuple(names))
    return tuple(groups)


def _match_network(value: Any) -> Prefix:
    text = values.string(value)
    if "/" not in text:
        return Prefix(int(values.address(text).address), 32)
    net = values.network(text)
    return Prefix(int(net.network_address), net.prefixlen)


_NAME_SCHEMA = f.pattern(f.NAME)
_ENDPOINT_REF = f.Notation(_endpoint_ref, f.pattern(f"{f.NAME}:{f.IFACE}"))
_MATCH_NET = f.Notation(_match_network, f.pattern(f"{f.IPV4}({f.PLEN})?", "address or prefix"))


class GEFile(FileModel):
    """Gilbert-Elliott loss as in netem's ``loss gemodel p r 1-h 1-k``."""

    KEY_NOUN = "ge key"
    p: Annotated[float, f.PROBABILITY] = Field(
        description="probability of moving good -> bad, per packet"
    )
    r: Annotated[float, f.PROBABILITY] = Field(
        description="probability of moving bad -> good, per packet"
    )
    h: Annotated[float | None, f.PROBABILITY] = Field(
        None, description="chance a packet gets through in the bad state (default 0)"
    )
    k: Annotated[float | None, f.PROBABILITY] = Field(
        None, description="chance a packet gets through in the good state (default 1)"
    )

    def model(self) -> GilbertElliott:
        h = 0.0 if self.h is None else self.h
        k = 1.0 if self.k is None else self.k
        return GilbertElliott(p=self.p, r=self.r, loss_bad=1.0 - h, loss_good=1.0 - k)


class MatchFile(FileModel):
    """Which frames the fault acts on (all criteria must hold); IPv4 only."""

    KEY_NOUN = "match key"
    protocol: Annotated[str | None, f.strings("protocol", PROTOCOLS)] = Field(
        None, description="tcp | udp | icmp"
    )
    src: Annotated[Prefix | None, _MATCH_NET] = Field(None, description="source address or prefix")
    dst: Annotated[Prefix | None, _MATCH_NET] = Field(
        None, description="destination address or prefix"
    )
    sport: Annotated[int | None, f.ANY_PORT] = Field(None, description="source port (tcp or udp)")
    dport: Annotated[int | None, f.ANY_PORT] = Field(
        None, description="destination port (tcp or udp)"
    )
    _built: Match | None = PrivateAttr(None)

    @model_validator(mode="after")
    def _build(self) -> Self:
        try:
            self._built = Match.of(
                protocol=self.protocol,
                src=self.src,
                dst=self.dst,
                src_port=self.sport,
                dst_port=self.dport,
            )
        except FaultSpecError as exc:  # ports without tcp/udp
            name = exc.field.split(".")[-1]
            key = {"src_port": "sport", "dst_port": "dport"}.get(name, name)
            raise f.pydantic_error(Problem(exc.problem, at=(key,))) from None
        return self

    def model(self) -> Match | None:
        """The engine's match (None when empty: every frame)."""
        return None if self._built is None or self._built.is_empty else self._built


class FaultFile(FileModel):
    """One fault of the timeline: a target, when, and what it does."""

    KEY_NOUN = "fault key"
    model_config = ConfigDict(json_schema_extra={"oneOf": [{"required": [t]} for t in TARGET_KEYS]})
    at: Annotated[float, f.duration()] = Field(
        0.0, description="when, after deploy: seconds or '90s', '2m' (default 0)"
    )
    endpoint: Annotated[tuple[str, str] | None, _ENDPOINT_REF] = Field(
        None, description="one side of a link: node:iface"
    )
    link: Annotated[str | None, f.name("link name")] = Field(
        None, description="a whole link or LAN by name"
    )
    node: Annotated[str | None, f.name("node name")] = Field(
        None, description="every interface of a node, or a node action"
    )
    partition: Annotated[
        tuple[tuple[str, ...], ...] | None,
        f.Notation(
            _partition,
            {"type": "array", "minItems": 2,
             "items": {"type": "array", "minItems": 1, "items": _NAME_SCHEMA}},
        ),
    ] = Field(None, description="groups of nodes that cannot reach each other")  # fmt: skip
    direction: Annotated[Direction, f.choice("direction", Direction)] = Field(
        Direction.BOTH, description="egress | ingress | both (default both)"
    )
    match: MatchFile | None = Field(None, description="only frames matching all of these")
    action: Annotated[NodeAction | None, f.choice("action", NodeAction)] = Field(
        None, description="on a node target, instead of effects"
    )
    duration: Annotated[float | None, f.duration(positive=True)] = Field(
        None, description="how long it lasts: seconds or '30s' (default: until cleared)"
    )
    seed: Annotated[int | None, f.SEED] = Field(
        None, description="random seed, for a replayable run (default: generated)"
    )
    loss: Annotated[float | None, f.PROBABILITY] = Field(
        None, description="random loss: 0..1 or '5%'"
    )
    ge: GEFile | None = Field(None, description="Gilbert-Elliott burst loss {p, r, h, k}")
    delay: Annotated[float | None, f.duration()] = Field(
        None, description="added delay: seconds or '50ms'"
    )
    jitter: Annotated[float | None, f.duration()] = Field(
        None, description="delay variation: seconds or '5ms'"
    )
    distribution: Annotated[Distribution | None, f.choice("distribution", Distribution)] = Field(
        None, description="jitter distribution: uniform | normal (default uniform)"
    )
    duplicate: Annotated[float | None, f.PROBABILITY] = Field(
        None, description="duplicate probability: 0..1 or '1%'"
    )
    corrupt: Annotated[float | None, f.PROBABILITY] = Field(
        None, description="corrupt (flip a bit) probability: 0..1 or '1%'"
    )
    reorder: Annotated[float | None, f.PROBABILITY] = Field(
        None, description="probability a frame skips the delay (needs delay)"
    )
    rate: Annotated[float | None, f.RATE] = Field(
        None, description="rate limit: bits/s or '10mbit' (token bucket, like tc tbf)"
    )
    mtu: Annotated[int | None, f.MTU] = Field(
        None, description="the interface MTU for the fault's life (fragmentation, PMTUD)"
    )
    blackhole_mtu: Annotated[int | None, f.MTU] = Field(
        None, description="silently drop IP packets larger than this (a PMTUD black hole)"
    )
    down: Annotated[bool | None, f.BOOL] = Field(None, description="drop everything")
    _entry: FaultEntry | None = PrivateAttr(None)

    @model_validator(mode="after")
    def _build(self) -> Self:
        try:
            self._entry = self._make_entry()
        except Problem as problem:
            raise f.pydantic_error(problem) from None
        return self

    @property
    def entry(self) -> FaultEntry:
        assert self._entry is not None, "a FaultFile is built by validation"
        return self._entry

    @property
    def target_key(self) -> str:
        return self.entry.target.kind.value

    def _make_entry(self) -> FaultEntry:
        targets = [k for k in TARGET_KEYS if getattr(self, k) is not None]
        if len(targets) != 1:
            message = "a fault needs a target" if not targets else "a fault has one target"
            raise Problem(f"{message}, got {len(targets)}", allowed=TARGET_KEYS)
        target = self._target(TargetKind(targets[0]))
        effects = self._effects()
        kind = target.kind
        if self.action is not None and (kind is not TargetKind.NODE or not effects.empty):
            raise Problem("an action applies to a node target alone, without effects")
        if kind is TargetKind.PARTITION and not effects.empty:
            raise Problem("a partition drops traffic between groups; it takes no effects")
        if self.action is None and kind is not TargetKind.PARTITION and effects.empty:
            either = " or an action" if kind is TargetKind.NODE else ""
            raise Problem(f"a fault needs at least one effect{either}", allowed=EFFECT_KEYS)
        if self.duration is not None:
            try:
                check_range("duration", self.duration, 0.0, MAX_DURATION, " s")
            except FaultSpecError as exc:
                raise Problem(exc.problem, at=("duration",)) from None
        match = None if self.match is None else self.match.model()
        if effects.down and match is not None:
            raise Problem(
                "cannot be combined with down: a down link drops everything", at=("match",)
            )
        return FaultEntry(
            self.at, target, self.direction, effects, match, self.action, self.duration, self.seed
        )

    def _target(self, kind: TargetKind) -> FaultTarget:
        if kind is TargetKind.ENDPOINT:
            assert self.endpoint is not None
            return FaultTarget(kind, node=self.endpoint[0], iface=self.endpoint[1])
        if kind is TargetKind.LINK:
            return FaultTarget(kind, link=self.link)
        if kind is TargetKind.NODE:
            return FaultTarget(kind, node=self.node)
        assert self.partition is not None
        return FaultTarget(kind, groups=self.partition)

    def _effects(self) -> Effects:
        found: dict[str, Any] = {
            key: getattr(self, key)
            for key in ("loss", "duplicate", "corrupt", "reorder", "delay", "jitter",
                        "distribution", "mtu", "blackhole_mtu", "down")
            if getattr(self, key) is not None
        }  # fmt: skip
        try:
            if self.rate is not None:
                found["rate"] = RateLimit(self.rate)
            if self.ge is not None:
                found["gilbert_elliott"] = self.ge.model()
            return Effects(**found)
        except FaultSpecError as exc:  # a combination the engine refuses, or a range
            key = exc.field.split(".")[0]
            raise Problem(exc.problem, at=("ge" if key == "gilbert_elliott" else key,)) from None
