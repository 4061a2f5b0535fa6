"""Link properties in a topology file: ``rate``, ``delay``, ``jitter``, ``loss``, ``queue``
and ``aqm`` on a link or a LAN.

Each property is written once for the whole link or LAN (every member's egress: what each
end sends onto it), or as a mapping by member node for what that member sends::

    links:
      - endpoints: [h1, r1]
        rate: 10mbit                    # both directions
        delay: 20ms                     # one way: a ping's round trip is 40 ms
        queue: 100                      # packets (an integer), or bytes: '64KB'
        aqm: codel                      # droptail (default) | codel
      - endpoints: [home, isp]
        rate: {home: 1mbit, isp: 16mbit}   # what home sends, what isp sends

A member left out of a mapping sends without that property. ``queue`` and ``aqm`` apply to
the rate's queue: a direction with either needs a rate. The values build the node fault
engine's own model (:class:`nodes.faults.LinkProps`), one per member (its egress); which
node applies each direction is decided in :mod:`topology.model` (``Lab.shaping``) and
checked in :mod:`topology.validate` (a linux node cannot shape what it sends).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Any, Self

from pydantic import Field, PrivateAttr, model_validator

from nodes.faults.errors import FaultSpecError
from nodes.faults.link import LinkProps
from nodes.faults.model import Codel
from topology import fields as f
from topology import units, values
from topology.errors import did_you_mean
from topology.filebase import FileModel
from topology.units import echo
from topology.values import Problem

PROP_KEYS = ("rate", "delay", "jitter", "loss", "queue", "aqm")
_FIELDS = {"rate": "rate", "delay": "delay", "jitter": "jitter", "loss": "loss",
           "queue_packets": "queue", "queue_bytes": "queue", "codel": "aqm"}  # fmt: skip


class Aqm(StrEnum):
    DROPTAIL = "droptail"
    CODEL = "codel"


@dataclass(frozen=True, slots=True)
class QueueLimit:
    """``queue: 100`` (packets) or ``queue: 64KB`` (bytes)."""

    packets: int | None = None
    bytes: int | None = None


def _queue(value: object) -> QueueLimit:
    if isinstance(value, int) and not isinstance(value, bool):
        return QueueLimit(packets=values.integer(value, 0, 2**31))
    if isinstance(value, str):
        text = value.strip()
        if text.isdigit():
            raise Problem(
                f"ambiguous queue {echo(value)}: write {text} (no quotes) for packets, "
                f"or '{text}B' for bytes"
            )
        try:
            size = units.parse_size(text)
        except units.UnitError as exc:
            raise Problem(exc.problem, allowed=("packets as an integer", *exc.notations)) from None
        return QueueLimit(bytes=values.integer(size, 0, 2**31))
    raise values.expected("a queue limit: packets (an integer) or bytes like '64KB'", value)


_BYTES = "([bB]([yY][tT][eE][sS]?)?)"
_QUEUE_SCHEMA: dict[str, Any] = {
    "anyOf": [
        {"type": "integer", "minimum": 0, "description": "packets"},
        f.pattern(
            rf"\s*([0-9]+(\.[0-9]*)?|\.[0-9]+)\s*(([kKmMgGtT][iI]?){_BYTES}?|{_BYTES})\s*",
            "bytes: '64KB', '1MiB', '500k', '1500B'",
        ),
    ]
}


def per_member(parse: Callable[[Any], Any], schema: dict[str, Any]) -> f.Notation:
    """A property: one value (every member's egress) or a mapping member node -> value."""

    def read(value: Any) -> Any:
        if not isinstance(value, dict):
            return parse(value)
        out = {}
        for key, item in value.items():
            try:
                name = values.name(key, "node name")
            except Problem as problem:
                raise Problem(problem.message, at=(key,), at_key=True) from None
            try:
                out[name] = parse(item)
            except Problem as problem:
                raise Problem(
                    problem.message, allowed=problem.allowed, suggestion=problem.suggestion,
                    at=(key, *problem.at),
                ) from None  # fmt: skip
        return out

    mapping = {
        "type": "object",
        "propertyNames": f.pattern(f.NAME),
        "additionalProperties": schema,
        "description": "per member node: what it sends",
    }
    return f.Notation(read, {"anyOf": [schema, mapping]})


_RATE = per_member(values.rate, f.RATE.schema)
_DURATION = per_member(values.duration, f.DURATION_SCHEMA)
_LOSS = per_member(values.probability, f.PROBABILITY.schema)
_QUEUE = per_member(_queue, _QUEUE_SCHEMA)
_AQM = per_member(lambda v: values.enum_choice(v, "aqm", Aqm), {"enum": [a.value for a in Aqm]})

Each = dict[str, Any]


class LinkPropsFile(FileModel):
    """The link property keys of a link or LAN (see the module's doc)."""

    rate: Annotated[float | Each | None, _RATE] = Field(
        None,
        description="link rate: bits/s or '10mbit' (token bucket, like tc tbf); "
        "or {node: rate} per sender",
    )
    delay: Annotated[float | Each | None, _DURATION] = Field(
        None, description="one-way delay: seconds or '20ms'; or {node: delay} per sender"
    )
    jitter: Annotated[float | Each | None, _DURATION] = Field(
        None, description="delay variation, uniform +-jitter: '2ms'; or {node: jitter}"
    )
    loss: Annotated[float | Each | None, _LOSS] = Field(
        None, description="random loss: 0..1 or '1%'; or {node: loss} per sender"
    )
    queue: Annotated[QueueLimit | Each | None, _QUEUE] = Field(
        None,
        description="the rate's queue limit: packets (integer) or bytes ('64KB'); "
        "default 1000 packets; or {node: limit}",
    )
    aqm: Annotated[Aqm | Each | None, _AQM] = Field(
        None,
        description="the rate's queue discipline: droptail (default) | codel (RFC 8289, "
        "target 5ms, interval 100ms); or {node: aqm}",
    )
    _egress: tuple[LinkProps, ...] = PrivateAttr(())

    def member_nodes(self) -> list[str]:  # pragma: no cover - links and LANs say
        raise NotImplementedError

    @model_validator(mode="after")
    def _build_props(self) -> Self:
        try:
            self._egress = self._resolve(self.member_nodes())
        except Problem as problem:
            raise f.pydantic_error(problem) from None
        return self

    @property
    def egress(self) -> tuple[LinkProps, ...]:
        """What each member (in member order) sends with; () without properties."""
        return self._egress

    def has_props(self) -> bool:
        return any(getattr(self, key) is not None for key in PROP_KEYS)

    def sources(self, node: str) -> list[str]:
        """The keys (``rate``, ``rate.h1``) that set what ``node`` sends, in file order."""
        out = []
        for key in PROP_KEYS:
            value = getattr(self, key)
            if isinstance(value, dict):
                if node in value:
                    out.append(f"{key}.{node}")
            elif value is not None:
                out.append(key)
        return sorted(out, key=lambda k: (self.where(k).pos.line, self.where(k).pos.column))

    def _resolve(self, nodes: Sequence[str]) -> tuple[LinkProps, ...]:
        if not self.has_props():
            return ()
        for key in PROP_KEYS:
            value = getattr(self, key)
            if isinstance(value, dict):
                for name in value:
                    if name not in nodes:
                        raise Problem(
                            f"{name!r} is not a member here: a {key} per node is what that "
                            "member sends",
                            allowed=nodes,
                            suggestion=did_you_mean(name, nodes),
                            at=(key, name),
                            at_key=True,
                        )
        return tuple(self._props_of(node) for node in nodes)

    def _value(self, key: str, node: str) -> Any:
        value = getattr(self, key)
        return value.get(node) if isinstance(value, dict) else value

    def _props_of(self, node: str) -> LinkProps:
        queue: QueueLimit | None = self._value("queue", node)
        aqm: Aqm | None = self._value("aqm", node)
        try:
            return LinkProps(
                rate=self._value("rate", node),
                delay=self._value("delay", node) or 0.0,
                jitter=self._value("jitter", node) or 0.0,
                loss=self._value("loss", node) or 0.0,
                queue_packets=None if queue is None else queue.packets,
                queue_bytes=None if queue is None else queue.bytes,
                codel=Codel() if aqm is Aqm.CODEL else None,
            )
        except FaultSpecError as exc:
            key = _FIELDS.get(exc.field, exc.field)
            problem = exc.problem
            if key in ("queue", "aqm") and isinstance(self.rate, dict):  # rate: {others: ...}
                problem = (
                    f"what {node} sends has a {key} but no rate (the rate mapping leaves "
                    f"{node} out): frames queue only while they wait for the rate"
                )
            raise Problem(problem, at=self._at(key, node)) from None

    def _at(self, key: str, node: str) -> tuple[str, ...]:
        return (key, node) if isinstance(getattr(self, key), dict) else (key,)
