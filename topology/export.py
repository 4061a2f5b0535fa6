"""The planned lab as plain JSON-able data (``wirelab validate --json``, the API)."""

from __future__ import annotations

from dataclasses import asdict, fields
from enum import Enum
from ipaddress import IPv4Address, IPv4Network
from typing import Any

from nodes.faults.link import LinkProps
from nodes.faults.match import Prefix
from nodes.faults.model import EMPTY_EFFECTS
from topology.model import NO_WORKLOAD, AppSpec, FaultEntry, Lab, Node, Routing, Segment, Workload


def lab_to_dict(lab: Lab) -> dict[str, Any]:
    data = {
        "name": lab.name,
        "source": lab.source,
        "mtu": lab.mtu,
        "pool": str(lab.pool),
        "routes": lab.route_mode.value,
        "defaults": asdict(lab.defaults),
        "nodes": [_node(n) for n in lab.nodes],
        "links": [_segment(s) for s in lab.links],
        "lans": [_segment(s) for s in lab.lans],
        "faults": [_fault(f) for f in lab.faults],
    }
    if lab.routing is not Routing.STATIC:  # left out when static: older labs hash the same
        data["routing"] = lab.routing.value
    return data


def _node(node: Node) -> dict[str, Any]:
    out: dict[str, Any] = {
        "name": node.name,
        "kind": node.kind.value,
        "forward": node.forward,
        **_workload(node.workload),
        **({"placement": node.placement} if node.placement else {}),
        "stack": asdict(node.stack),
        "interfaces": [
            {
                "name": i.name,
                "address": str(i.address),
                "prefixlen": i.network.prefixlen,
                "network": str(i.network),
                "mac": i.mac_str,
                "mtu": i.mtu,
                "segment": i.segment,
            }
            for i in node.interfaces
        ],
        "routes": [
            {"dst": str(r.dst), "via": str(r.via), "dev": r.dev, "origin": r.origin.value}
            for r in node.routes
        ],
        "route_mode": node.route_mode.value,
        "apps": [_app(a) for a in node.apps],
    }
    if node.rip is not None:
        out["routing"] = node.routing.value
        out["rip"] = _plain(asdict(node.rip))
    if node.code is not None:  # only when set: the hash of a lab without code is unchanged
        out["code"] = node.code
    return out


def _app(app: AppSpec) -> dict[str, Any]:
    out: dict[str, Any] = {"app": app.name, "port": app.port, "transport": app.transport}
    if app.args:
        out["args"] = dict(app.args)
    return out


def _segment(segment: Segment) -> dict[str, Any]:
    out: dict[str, Any] = {
        "name": segment.name,
        "members": [str(m) for m in segment.members],
        "subnet": str(segment.subnet),
        "gateway": str(segment.gateway),
        "mtu": segment.mtu,
    }
    if segment.shaped:  # a plain link keeps its old form (and topology hash)
        out["egress"] = {
            str(m): _link_props(p)
            for m, p in zip(segment.members, segment.egress, strict=True)
            if not p.empty
        }
    return out


def _link_props(props: LinkProps) -> dict[str, Any]:
    """What differs from no property (0 is a value for a queue: a policer)."""
    return {
        f.name: _plain(asdict(v) if f.name == "codel" and v is not None else v)
        for f in fields(props)
        if (v := getattr(props, f.name)) != f.default
    }


def _plain(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, IPv4Address | IPv4Network | Prefix):
        return str(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items() if v is not None}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def _fault(fault: FaultEntry) -> dict[str, Any]:
    data: dict[str, Any] = _plain(asdict(fault))
    data["target"] = {k: v for k, v in data["target"].items() if v != []}
    defaults = _plain(asdict(EMPTY_EFFECTS))
    data["effects"] = {k: v for k, v in data["effects"].items() if v != defaults.get(k)}
    return data


def _workload(w: Workload) -> dict[str, Any]:
    """A linux node's own container, only when it has one (the hash of other labs stays)."""
    if w == NO_WORKLOAD:
        return {}
    return {
        "image": w.image,
        "cmd": None if w.cmd is None else list(w.cmd),
        "env": dict(w.env),
        "binds": [str(b) for b in w.binds],
        "exec": list(w.exec),
    }
