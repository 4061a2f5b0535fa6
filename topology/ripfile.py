"""``routing: rip`` and the ``rip:`` options of a topology file.

``routing`` (``static``, the default, or ``rip``) is written at the lab level, where it is
the default of every router (``router`` nodes and linux nodes with ``forward: true``), or on
a node. A host with ``routing: rip`` listens (learns every route, advertises none); a linux
router runs FRR's ripd. ``rip:`` holds the options (:class:`~topology.model.RipOptions`)
at the lab level (for every RIP node) and on a node (its own keys win, plus ``passive``).

The checks here run with the others (:mod:`topology.validate`): which nodes may run RIP,
options without RIP, timers that cannot work (a timeout not above the update interval),
what FRR's ripd cannot do (timers below 5 s or in fractions of a second, triggered
updates off, no connected routes), and passive interfaces the node does not have.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import Field

from topology import fields as f
from topology import values
from topology.errors import Report, did_you_mean
from topology.filebase import FileModel
from topology.model import (
    FRR_MIN_TIMER,
    Lab,
    NodeKind,
    Redistribute,
    RipOptions,
    Routing,
)
from topology.units import echo
from topology.values import Problem

TIMERS = ("update", "timeout", "garbage")
MAX_KEY = 16  # RFC 2082: the key is 16 bytes (FRR: at most 16 characters)
_KEY_PATTERN = f"[!-~]{{1,{MAX_KEY}}}"
_KEY_RE = re.compile(f"^{_KEY_PATTERN}$")


def _auth_key(value: Any) -> str:
    text = values.string(value)
    if not _KEY_RE.match(text):
        raise Problem(
            f"bad authentication key {echo(text)}: 1..{MAX_KEY} printable ASCII characters, "
            "no spaces (RFC 2082 keys are 16 bytes; FRR takes them as one word)"
        )
    return text


_TIMER = f.duration(1.0)
_KEY = f.Notation(_auth_key, f.pattern(_KEY_PATTERN, "1..16 printable ASCII characters"))


class RipFile(FileModel):
    """RIPv2 options (RFC 2453 defaults): the lab's for every RIP node, a node's own."""

    KEY_NOUN = "rip key"
    update: Annotated[float | None, _TIMER] = Field(
        None, description="regular update interval, seconds or '30s' (default 30 s)"
    )
    timeout: Annotated[float | None, _TIMER] = Field(
        None, description="a route not refreshed for this long fails (default 180 s)"
    )
    garbage: Annotated[float | None, _TIMER] = Field(
        None, description="a failed route is advertised as unreachable this long (default 120 s)"
    )
    triggered: Annotated[bool | None, f.BOOL] = Field(
        None, description="send changes 1..5 s after they happen (default true)"
    )
    split_horizon: Annotated[bool | None, f.BOOL] = Field(
        None, description="never advertise a route back where it came from (default true)"
    )
    poisoned_reverse: Annotated[bool | None, f.BOOL] = Field(
        None, description="with split horizon: advertise it back with metric 16 (default false)"
    )
    redistribute: list[Annotated[Redistribute, f.choice("redistribution", Redistribute)]] | None = (
        Field(None, description="connected and/or static routes to advertise (default both)")
    )
    default_route: Annotated[bool | None, f.BOOL] = Field(
        None, description="advertise a default route 0.0.0.0/0 (default false)"
    )
    auth_key: Annotated[str | None, _KEY] = Field(
        None, description="RFC 2082 keyed-MD5 authentication key, 1..16 bytes (default none)"
    )
    auth_key_id: Annotated[int | None, f.ints(0, 255)] = Field(
        None, description="the key's id, 0..255 (default 1)"
    )


class RipNodeFile(RipFile):
    """A node's RIP options: the lab's ``rip:`` with these keys over it."""

    passive: list[Annotated[str, f.IFACE_NAME]] | None = Field(
        None, description="interfaces that listen but never send updates"
    )


def options(lab: RipFile | None, node: RipNodeFile | None) -> RipOptions:
    """The node's options: its own keys, else the lab's, else the defaults."""
    out: dict[str, Any] = {}
    for name in RipFile.model_fields:
        for source in (node, lab):
            value = getattr(source, name, None) if source is not None else None
            if value is not None:
                out[name] = tuple(value) if isinstance(value, list) else value
                break
    if node is not None and node.passive is not None:
        out["passive"] = tuple(node.passive)
    return RipOptions(**out)


def forwards(kind: NodeKind, forward: bool | None) -> bool:
    return kind is NodeKind.ROUTER or (kind is NodeKind.LINUX and bool(forward))


def node_routing(lab_routing: Routing, kind: NodeKind, forward: bool | None,
                 own: Routing | None) -> Routing:  # fmt: skip
    """A node's routing: its own, else the lab's for a router, else static."""
    if own is not None:
        return own
    return lab_routing if forwards(kind, forward) else Routing.STATIC


def check_declared(report: Report, lab: Any) -> None:
    """``lab`` is the declared :class:`~topology.declared.LabFile`."""
    runs = []
    for name, node in lab.nodes.items():
        routing = node_routing(lab.routing, node.kind, node.forward, node.routing)
        if node.routing is Routing.RIP and node.kind is NodeKind.LINUX and not node.forward:
            report.error(
                node.where("routing"),
                f"routing: rip on the linux node {name} needs forward: true (FRR's ripd on a "
                "Linux-kernel router); a linux host keeps static routes",
                at_key=True,
            )
            continue
        if routing is not Routing.RIP:
            if node.rip is not None:
                report.error(
                    node.where("rip"),
                    f"rip options on {name}, which does not run RIP (set routing: rip on it"
                    " or on the lab)",
                    at_key=True,
                )
            continue
        runs.append(name)
        _check_options(report, lab, name, node)
    if lab.rip is not None and not runs:
        report.error(
            lab.where("rip"), "rip options, but no node runs RIP (set routing: rip)", at_key=True
        )


def _written(lab: Any, node: Any, key: str) -> Any:
    """Where ``key`` of the node's options was written: the node's rip:, else the lab's."""
    for source in (node.rip, lab.rip):
        if source is not None and getattr(source, key) is not None:
            return source.where(key)
    return node.where("routing") if node.routing is not None else lab.where("routing")


def _check_options(report: Report, lab: Any, name: str, node: Any) -> None:
    opts = options(lab.rip, node.rip)
    if opts.timeout <= opts.update:
        report.error(
            _written(lab, node, "timeout"),
            f"{name}: the RIP timeout ({opts.timeout:g} s) must exceed the update interval "
            f"({opts.update:g} s), or routes time out between updates",
        )
    if node.kind is not NodeKind.LINUX:
        return
    frr = f"{name} runs FRR's ripd, which"
    for key in TIMERS:
        value = getattr(opts, key)
        if value < FRR_MIN_TIMER or value != int(value):
            report.error(
                _written(lab, node, key),
                f"{frr} takes whole seconds from {FRR_MIN_TIMER:g} for its {key} timer "
                f"(got {value:g} s)",
            )
    if not opts.triggered:
        report.error(_written(lab, node, "triggered"), f"{frr} always sends triggered updates")
    if Redistribute.CONNECTED not in opts.redistribute:
        report.error(
            _written(lab, node, "redistribute"),
            f"{frr} always advertises the subnets of its RIP interfaces (keep connected)",
        )


def check_planned(report: Report, declared: Any, lab: Lab) -> None:
    """Passive interfaces must be the node's (names are known once planned)."""
    for name, node_file in declared.nodes.items():
        rip = node_file.rip
        if rip is None or rip.passive is None:
            continue
        names = [i.name for i in lab.node(name).interfaces]
        for i, iface in enumerate(rip.passive):
            if iface not in names:
                report.error(
                    rip.where(f"passive[{i}]"),
                    f"{name} has no interface {iface!r}",
                    allowed=names,
                    suggestion=did_you_mean(iface, names),
                )
