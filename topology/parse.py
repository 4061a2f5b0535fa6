"""Structural parsing: the position-marked YAML tree -> :class:`~topology.spec.LabSpec`.

Checks shapes, types, ranges and names, and records every problem; cross-references
(unknown nodes, interfaces used twice, addresses) are :mod:`topology.validate`'s job.
"""

from __future__ import annotations

from dataclasses import fields
from ipaddress import IPv4Network
from typing import Any

from topology import values
from topology.faultparse import parse_faults
from topology.model import (
    MAX_MTU,
    MIN_MTU,
    AppKind,
    AppSpec,
    NodeKind,
    RouteMode,
    StackOptions,
)
from topology.reader import Reader, Val, Where
from topology.spec import EndpointSpec, LabSpec, NodeSpec, RouteSpec, SegmentSpec

TOP_KEYS = ("name", "defaults", "pool", "routes", "nodes", "links", "lans", "faults")
STACK_KEYS = StackOptions.option_names()
DEFAULTS_KEYS = ("mtu", *STACK_KEYS)
NODE_KEYS = ("kind", "forward", "apps", "routes", *STACK_KEYS)
LINK_KEYS = ("endpoints", "name", "subnet", "mtu")
LAN_KEYS = ("members", "subnet", "mtu")
ENDPOINT_KEYS = ("node", "iface", "address", "mac")
ROUTE_KEYS = ("dst", "via", "dev")
KINDS = tuple(k.value for k in NodeKind)
APP_KINDS = tuple(a.value for a in AppKind)
LAB_ROUTE_MODES = (RouteMode.AUTO.value, RouteMode.NONE.value)


def parse_lab(reader: Reader, root: Val) -> LabSpec | None:
    top = reader.mapping(root, allowed=TOP_KEYS, required=("name", "nodes"))
    if top is None:
        return None
    name = values.name(reader, top["name"], "lab name") if "name" in top else None
    options: tuple[tuple[str, Any], ...] = ()
    mtu = None
    if "defaults" in top:
        options, mtu = _defaults(reader, top["defaults"])
    pool = _pool(reader, top["pool"]) if "pool" in top else None
    route_mode = RouteMode.AUTO
    if "routes" in top:
        mode = reader.choice(top["routes"], LAB_ROUTE_MODES, "routes mode")
        route_mode = RouteMode(mode) if mode else route_mode
    nodes, declared = _nodes(reader, top["nodes"]) if "nodes" in top else ((), frozenset())
    links = _links(reader, top["links"]) if "links" in top else []
    lans = _lans(reader, top["lans"]) if "lans" in top else []
    faults = parse_faults(reader, top["faults"]) if "faults" in top else ()
    return LabSpec(
        name=name or "lab",
        options=options,
        mtu=mtu,
        pool=pool,
        route_mode=route_mode,
        nodes=nodes,
        declared_nodes=declared,
        segments=_name_links(links, lans),
        faults=faults,
        where=root.where,
    )


# -- defaults and stack options --------------------------------------------------------------


def _defaults(reader: Reader, val: Val) -> tuple[tuple[tuple[str, Any], ...], int | None]:
    body = reader.mapping(val, allowed=DEFAULTS_KEYS, what="defaults key")
    if body is None:
        return (), None
    mtu = reader.integer(body["mtu"], MIN_MTU, MAX_MTU) if "mtu" in body else None
    return _stack_options(reader, body), mtu


def _stack_options(reader: Reader, body: dict[str, Val]) -> tuple[tuple[str, Any], ...]:
    out: list[tuple[str, Any]] = []
    for fld in fields(StackOptions):
        if fld.name not in body:
            continue
        val, meta = body[fld.name], fld.metadata
        value: Any
        if fld.type == "bool":
            value = reader.boolean(val)
        elif fld.type == "int":
            value = reader.integer(val, meta["min"], meta.get("max"))
        elif fld.type == "float":
            value = values.duration(reader, val)
            if value is not None and value < meta["min"]:
                reader.error(val.where, f"{value} is out of range; allowed: >= {meta['min']}")
                value = None
        else:
            value = reader.choice(val, meta["choices"], fld.name)
        if value is not None:
            out.append((fld.name, value))
    return tuple(out)


def _pool(reader: Reader, val: Val) -> IPv4Network | None:
    pool = values.network(reader, val)
    if pool is not None and pool.prefixlen > 24:
        reader.error(val.where, f"pool {pool} is smaller than one /24; allowed: /8../24")
        return None
    return pool


# -- nodes -----------------------------------------------------------------------------------


def _nodes(reader: Reader, val: Val) -> tuple[tuple[NodeSpec, ...], frozenset[str]]:
    body = reader.mapping(val, what="node name")
    if body is None:
        return (), frozenset()
    if not body:
        reader.error(val.where, "a lab needs at least one node", at_key=True)
    nodes = []
    for name, node_val in body.items():
        if not values.NAME_RE.match(name):
            reader.error(
                node_val.where, f"bad node name {name!r}: expected {values.NAME_RULE}", at_key=True
            )
            continue
        node = _node(reader, name, node_val)
        if node is not None:
            nodes.append(node)
    return tuple(nodes), frozenset(body)


def _node(reader: Reader, name: str, val: Val) -> NodeSpec | None:
    body = reader.mapping(val, allowed=NODE_KEYS, required=("kind",), what="node key")
    if body is None or "kind" not in body:
        return None
    kind = reader.choice(body["kind"], KINDS, "kind")
    apps = _apps(reader, body["apps"]) if "apps" in body else ()
    mode: RouteMode | None = None
    routes: tuple[RouteSpec, ...] = ()
    if "routes" in body:
        mode, routes = _node_routes(reader, body["routes"])
    options = _stack_options(reader, body)
    forward = _forward(reader, name, kind, body["forward"]) if "forward" in body else False
    if kind is None:
        return None
    return NodeSpec(name, NodeKind(kind), options, apps, mode, routes, val.where, forward)


def _forward(reader: Reader, name: str, kind: str | None, val: Val) -> bool:
    """``forward: true``: a linux node whose kernel routes (a Linux-kernel router)."""
    value = reader.boolean(val)
    if value is None or kind is None:
        return False
    if kind != NodeKind.LINUX.value:
        hint = "a router node always forwards"
        if kind != NodeKind.ROUTER.value:
            hint = "use kind: router for our router or kind: linux for a Linux-kernel router"
        reader.error(
            val.where,
            f"forward applies to linux nodes only; {name} is a {kind} node ({hint})",
            at_key=True,
        )
        return False
    return value


def _apps(reader: Reader, val: Val) -> tuple[AppSpec, ...]:
    """``[http-server:80, echo]``, ``[{app: sink, port: 5001}]`` or ``{echo: 7, sink: [5001]}``."""
    items = _app_map(reader, val) if isinstance(val.value, dict) else _app_list(reader, val)
    apps: list[AppSpec] = []
    for where, kind, port in items:
        app = _app(reader, where, kind, port)
        if app is None:
            continue
        clash = next(
            (a for a in apps if (a.port, a.kind.transport) == (app.port, app.kind.transport)), None
        )
        if clash is not None:
            reader.error(
                where.where, f"{app} uses {app.kind.transport} port {app.port} like {clash}"
            )
            continue
        apps.append(app)
    return tuple(apps)


_AppItem = tuple[Val, str, Val | None]  # (where, app kind, port value or None for the default)


def _app_map(reader: Reader, val: Val) -> list[_AppItem]:
    items: list[_AppItem] = []
    for kind, port_val in (reader.mapping(val, what="app") or {}).items():
        ports = reader.sequence(port_val) if isinstance(port_val.value, list) else [port_val]
        items += [(port_val, kind, None if p.value is None else p) for p in ports or []]
    return items


def _app_list(reader: Reader, val: Val) -> list[_AppItem]:
    items: list[_AppItem] = []
    for item in reader.sequence(val) or []:
        if isinstance(item.value, dict):
            body = reader.mapping(item, allowed=("app", "port"), required=("app",))
            kind = reader.string(body["app"]) if body and "app" in body else None
            if body is not None and kind is not None:
                items.append((body["app"], kind, body.get("port")))
        elif isinstance(item.value, str):
            text, colon, port_text = item.value.partition(":")
            port = Val(int(port_text), item.where) if port_text.isdigit() else None
            if colon and port is None:
                reader.error(item.where, f"bad app {item.value!r}: expected app[:port]")
                continue
            items.append((item, text, port))
        else:
            reader.wrong_type(item, "an app like 'http-server:80' or {app: ..., port: ...}")
    return items


def _app(reader: Reader, where: Val, kind: str, port_val: Val | None) -> AppSpec | None:
    if kind not in APP_KINDS:
        reader.choice_error(where.where, "app", kind, APP_KINDS)
        return None
    app = AppKind(kind)
    port = app.default_port if port_val is None else reader.integer(port_val, 1, 65535)
    return None if port is None else AppSpec(app, port)


def _node_routes(reader: Reader, val: Val) -> tuple[RouteMode | None, tuple[RouteSpec, ...]]:
    if isinstance(val.value, str):
        mode = reader.choice(val, LAB_ROUTE_MODES, "routes mode")
        return (RouteMode(mode) if mode else None), ()
    items = reader.sequence(val)
    if items is None:
        return None, ()
    routes = []
    for item in items:
        body = reader.mapping(item, allowed=ROUTE_KEYS, required=("dst", "via"), what="route key")
        if body is None or "dst" not in body or "via" not in body:
            continue
        dst = values.network(reader, body["dst"])
        via_text = reader.string(body["via"])
        via = values.address(reader, body["via"], via_text) if via_text is not None else None
        if via is not None and via[1] is not None:
            reader.error(body["via"].where, f"via {via_text!r} is an address, not a prefix")
            via = None
        dev = None
        if "dev" in body:
            dev = reader.string(body["dev"])
            if dev is not None and not values.check_name(
                reader, body["dev"], dev, "interface name", iface=True
            ):
                dev = None
        if dst is not None and via is not None:
            routes.append(RouteSpec(dst, via[0], dev, item.where))
    return RouteMode.STATIC, tuple(routes)


# -- links and LANs --------------------------------------------------------------------------


def _links(reader: Reader, val: Val) -> list[tuple[str | None, SegmentSpec]]:
    out = []
    for item in reader.sequence(val) or []:
        body = reader.mapping(item, allowed=LINK_KEYS, required=("endpoints",), what="link key")
        if body is None or "endpoints" not in body:
            continue
        name = values.name(reader, body["name"], "link name") if "name" in body else None
        members = _members(reader, body["endpoints"])
        if members is not None and len(body["endpoints"].value) != 2:
            count = len(body["endpoints"].value)
            reader.error(
                body["endpoints"].where,
                f"a link has exactly two endpoints, got {count} (use lans: for a shared segment)",
            )
            continue
        subnet, mtu, subnet_where = _segment_common(reader, body)
        if members is not None:
            spec = SegmentSpec("", False, members, subnet, mtu, item.where, subnet_where)
            out.append((name, spec))
    return out


def _lans(reader: Reader, val: Val) -> list[SegmentSpec]:
    out = []
    for name, lan_val in (reader.mapping(val, what="LAN name") or {}).items():
        if not values.check_name(reader, lan_val, name, "LAN name"):
            continue
        body = reader.mapping(lan_val, allowed=LAN_KEYS, required=("members",), what="LAN key")
        if body is None or "members" not in body:
            continue
        members = _members(reader, body["members"])
        if members is not None and not members:
            reader.error(body["members"].where, "a LAN needs at least one member")
        subnet, mtu, subnet_where = _segment_common(reader, body)
        if members:
            out.append(SegmentSpec(name, True, members, subnet, mtu, lan_val.where, subnet_where))
    return out


def _segment_common(
    reader: Reader, body: dict[str, Val]
) -> tuple[IPv4Network | None, int | None, Where | None]:
    subnet = values.network(reader, body["subnet"]) if "subnet" in body else None
    mtu = reader.integer(body["mtu"], MIN_MTU, MAX_MTU) if "mtu" in body else None
    return subnet, mtu, body["subnet"].where if "subnet" in body else None


def _members(reader: Reader, val: Val) -> tuple[EndpointSpec, ...] | None:
    items = reader.sequence(val)
    if items is None:
        return None
    parsed = [_endpoint(reader, item) for item in items]
    members = tuple(p for p in parsed if p is not None)
    return members if len(members) == len(items) else None


def _endpoint(reader: Reader, val: Val) -> EndpointSpec | None:
    """``node``, ``node:iface`` or ``{node, iface, address, mac}``."""
    if isinstance(val.value, str):
        node, colon, iface = val.value.partition(":")
        return _endpoint_names(reader, val, node, iface if colon else None)
    if not isinstance(val.value, dict):
        reader.wrong_type(val, "'node:iface' or a mapping {node, iface, address, mac}")
        return None
    body = reader.mapping(val, allowed=ENDPOINT_KEYS, required=("node",), what="endpoint key")
    if body is None or "node" not in body:
        return None
    node_name = reader.string(body["node"])
    iface_name = reader.string(body["iface"]) if "iface" in body else None
    base = None
    if node_name is not None:
        base = _endpoint_names(reader, body["node"], node_name, iface_name)
    address = prefixlen = mac = None
    if "address" in body:
        text = reader.string(body["address"])
        parsed = values.address(reader, body["address"], text) if text is not None else None
        if parsed is None:
            return None
        address, prefixlen = parsed
    if "mac" in body:
        mac = values.mac(reader, body["mac"])
        if mac is None:
            return None
    if base is None:
        return None
    return EndpointSpec(
        base.node,
        base.iface,
        address,
        prefixlen,
        mac,
        val.where,
        body["address"].where if "address" in body else None,
        body["mac"].where if "mac" in body else None,
    )


def _endpoint_names(reader: Reader, val: Val, node: str, iface: str | None) -> EndpointSpec | None:
    ok = values.check_name(reader, val, node, "node name")
    if iface is not None:
        ok = values.check_name(reader, val, iface, "interface name", iface=True) and ok
    return EndpointSpec(node, iface, None, None, None, val.where) if ok else None


def _name_links(
    links: list[tuple[str | None, SegmentSpec]], lans: list[SegmentSpec]
) -> tuple[SegmentSpec, ...]:
    """Unnamed links are called ``a-b`` after their nodes (``a-b-2`` for a parallel one)."""
    taken = {name for name, _ in links if name} | {lan.name for lan in lans}
    named = []
    for name, spec in links:
        if name is None:
            base = "-".join(m.node for m in spec.members)
            name, n = base, 1
            while name in taken:
                n += 1
                name = f"{base}-{n}"
            taken.add(name)
        named.append(
            SegmentSpec(
                name, False, spec.members, spec.subnet, spec.mtu, spec.where, spec.subnet_where
            )
        )
    return (*named, *lans)
