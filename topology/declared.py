"""The topology file as declared: pydantic models of what the YAML says, before planning.

:class:`LabFile` is the file. Its models mirror the file's shape, short forms included (an
endpoint ``"r1:eth0"`` is expanded to ``{node: r1, iface: eth0}`` before validation; apps
are a list or a mapping; a node's routes are a mode or a list), so a validation error's
location is a path in the file. Optional keys left out are ``None`` (planning fills them);
every model knows where it was written (:meth:`~topology.filebase.FileModel.where`).

The stack options come from the planned model's :class:`~topology.model.StackOptions`
dataclass: its fields (type, range, choices, doc) become keys of ``defaults:`` and of every
node, so a new option needs no edit here. Float options are durations (seconds or '500ms').

The JSON Schema of topology files (``wirelab schema``) is :class:`LabFile`'s.
"""

from __future__ import annotations

import re
from dataclasses import MISSING, dataclass, fields
from ipaddress import IPv4Address, IPv4Network
from typing import TYPE_CHECKING, Annotated, Any, ClassVar

from pydantic import (
    AfterValidator,
    ConfigDict,
    Discriminator,
    Field,
    PrivateAttr,
    Tag,
    create_model,
)

from nodes.apps.ref import REF_PATTERN, is_ref
from nodes.faults.link import LinkProps
from topology import fields as f
from topology import values
from topology.errors import Where
from topology.faultfile import FaultFile
from topology.filebase import FileModel
from topology.linkprops import LinkPropsFile
from topology.model import (
    AppKind,
    AppSpec,
    Bind,
    NodeKind,
    RouteMode,
    Routing,
    StackOptions,
    Workload,
)
from topology.ripfile import RipFile, RipNodeFile
from topology.units import echo
from topology.values import HostAddress, Problem

APP_KINDS = tuple(a.value for a in AppKind)
LAB_ROUTE_MODES = (RouteMode.AUTO.value, RouteMode.NONE.value)
STACK_KEYS = StackOptions.option_names()
TAGS = frozenset({"<list>", "<mapping>", "<string>"})  # union branches in error locations


def _list_or_mapping(value: Any) -> str:
    return "<mapping>" if isinstance(value, dict) else "<list>"


def _string_or_list(value: Any) -> str:
    return "<string>" if isinstance(value, str) else "<list>"


# -- endpoints, links, LANs --------------------------------------------------------------------


class EndpointFile(FileModel):
    """One member of a link or LAN: ``node``, ``node:iface`` or this mapping."""

    KEY_NOUN = "endpoint key"
    node: Annotated[str, f.name("node name")] = Field(description="the node's name")
    iface: Annotated[str | None, f.IFACE_NAME] = Field(
        None, description="interface name (default: the node's lowest free ethN)"
    )
    address: Annotated[HostAddress | None, f.ADDRESS] = Field(
        None,
        description="a.b.c.d, or a.b.c.d/len which also sets the subnet (default: planned)",
    )
    mac: Annotated[bytes | None, f.MAC] = Field(
        None, description="unicast MAC like 02:00:00:00:00:01 (default: planned, 02:...)"
    )


def _endpoint(value: Any) -> Any:
    if isinstance(value, str):
        node, colon, iface = value.partition(":")
        return {"node": node, "iface": iface} if colon else {"node": node}
    if isinstance(value, dict):
        return value
    raise values.expected("'node:iface' or a mapping {node, iface, address, mac}", value)


Endpoint = Annotated[
    EndpointFile,
    f.shorthand(
        _endpoint,
        Annotated[str, f.Notation(str, f.pattern(f"{f.NAME}(:{f.IFACE})?", "node or node:iface"))],
        EndpointFile,
    ),
]


def _two_endpoints(members: list[EndpointFile]) -> list[EndpointFile]:
    if len(members) != 2:
        raise Problem(
            f"a link has exactly two endpoints, got {len(members)} (use lans: for a shared segment)"
        )
    return members


def _some_members(members: list[EndpointFile]) -> list[EndpointFile]:
    if not members:
        raise Problem("a LAN needs at least one member")
    return members


class LinkFile(LinkPropsFile):
    """A point-to-point link: one Docker bridge network with two members, and its
    properties (rate, delay, jitter, loss, queue, aqm: :mod:`topology.linkprops`)."""

    KEY_NOUN = "link key"
    endpoints: Annotated[
        list[Endpoint],
        AfterValidator(f.checked(_two_endpoints)),
        Field(json_schema_extra={"minItems": 2, "maxItems": 2}),
    ] = Field(description="the two ends: node, node:iface or {node, iface, address, mac}")
    name: Annotated[str | None, f.name("link name")] = Field(
        None, description="network name (default: the nodes' names joined, e.g. r1-h2)"
    )
    subnet: Annotated[IPv4Network | None, f.PREFIX] = Field(
        None, description="a.b.c.d/len (default: the next free /24 of the pool)"
    )
    mtu: Annotated[int | None, f.MTU] = Field(None, description="MTU (default: defaults.mtu)")

    def member_nodes(self) -> list[str]:
        return [m.node for m in self.endpoints]


class LanFile(LinkPropsFile):
    """A multi-access segment: one Docker bridge network with any number of members, and
    the properties of what each member sends (:mod:`topology.linkprops`)."""

    KEY_NOUN = "LAN key"
    members: Annotated[
        list[Endpoint],
        AfterValidator(f.checked(_some_members)),
        Field(json_schema_extra={"minItems": 1}),
    ] = Field(description="node, node:iface or {node, iface, address, mac}")
    subnet: Annotated[IPv4Network | None, f.PREFIX] = Field(
        None, description="a.b.c.d/len (default: the next free block of the pool)"
    )
    mtu: Annotated[int | None, f.MTU] = Field(None, description="MTU (default: defaults.mtu)")

    def member_nodes(self) -> list[str]:
        return [m.node for m in self.members]


# -- nodes ---------------------------------------------------------------------------------------


class RouteFile(FileModel):
    """A static route; a node with a list of routes gets exactly these."""

    KEY_NOUN = "route key"
    dst: Annotated[IPv4Network, f.ROUTE_DST] = Field(description="a.b.c.d/len or 'default'")
    via: Annotated[IPv4Address, f.NEXT_HOP] = Field(
        description="next hop: an address on one of the node's subnets"
    )
    dev: Annotated[str | None, f.IFACE_NAME] = Field(
        None, description="egress interface (default: the one whose subnet holds via)"
    )


def _app_name(value: Any) -> AppKind | str:
    """A built-in's name, or a user app as ``module:factory``."""
    if isinstance(value, str) and is_ref(value):
        return value
    try:
        return values.enum_choice(value, "app", AppKind)
    except Problem as problem:
        raise Problem(
            f"{problem.message} (or your own app as module:factory, like kvstore.server:make)",
            allowed=problem.allowed,
            suggestion=problem.suggestion,
        ) from None


def _arg_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float):
        return str(value)
    raise values.expected("a string, number or boolean", value)


def _args(value: Any) -> tuple[tuple[str, str], ...]:
    """``{k: v}`` with scalar values -> sorted (name, text) pairs (apps get strings)."""
    if not isinstance(value, dict):
        raise values.expected("a mapping of argument names to values", value)
    out = []
    for key, item in value.items():
        if not isinstance(key, str) or not key:
            hint = ""
            if isinstance(key, bool):
                hint = " (YAML reads on/off/yes/no as booleans: quote it)"
            raise Problem(f"bad argument name {echo(key)}{hint}", at=(str(key),), at_key=True)
        try:
            out.append((key, _arg_value(item)))
        except Problem as problem:
            raise Problem(problem.message, at=(key,)) from None
    return tuple(sorted(out))


_BUILTIN_RE = "|".join(a.value for a in AppKind)
APP_NAME = f.Notation(
    _app_name,
    {"anyOf": [{"enum": list(APP_KINDS)}, f.pattern(REF_PATTERN, "your own app: module:factory")]},
)
ARGS = f.Notation(
    _args,
    {
        "type": "object",
        "additionalProperties": {
            "anyOf": [{"type": "string"}, {"type": "number"}, {"type": "boolean"}]
        },
        "description": "arguments the app gets (as strings)",
    },
)


class AppItem(FileModel):
    """An application started at deploy: a built-in, or your own as ``module:factory``."""

    app: Annotated[AppKind | str, APP_NAME] = Field(
        description="which app: http-server, echo, sink, udp-echo, forward, or module:factory"
    )
    port: Annotated[int | None, f.PORT] = Field(
        None,
        description="port (default: http-server 80, echo 7, sink 5001, udp-echo 7; forward: "
        "the loopback port, required; your own app: none)",
    )
    args: Annotated[tuple[tuple[str, str], ...] | None, ARGS] = Field(
        None, description="arguments: forward {to: HOST:PORT}; your own app: anything"
    )

    def spec(self) -> AppSpec:
        kind = self.app
        port = self.port
        if port is None:
            port = kind.default_port if isinstance(kind, AppKind) else 0
        return AppSpec(kind, port, self.args or ())


_APP_RE = re.compile(rf"^(?P<app>[^:]+(:{REF_PATTERN.rpartition(':')[2]})?)(:(?P<port>[^:]*))?$")
_PORT_RE = re.compile(r"^[0-9]{1,5}$")


def _app(value: Any) -> Any:
    if isinstance(value, str):
        m = _APP_RE.match(value)
        port = m["port"] if m is not None else None
        if m is None or (port is not None and not _PORT_RE.match(port)):
            raise Problem(f"bad app {echo(value)}: expected app[:port] or module:factory[:port]")
        return {"app": m["app"], "port": int(port)} if port is not None else {"app": m["app"]}
    if isinstance(value, dict):
        return value
    raise values.expected("an app like 'http-server:80' or {app: ..., port: ...}", value)


def _ports(value: Any) -> tuple[int | None, ...]:
    """A port, a list of ports, or nothing (the app's default port)."""
    if value is None:
        return (None,)
    if not isinstance(value, list):
        return (values.integer(value, 1, 65535),)
    out = []
    for i, port in enumerate(value):
        try:
            out.append(values.integer(port, 1, 65535))
        except Problem as problem:
            raise Problem(problem.message, at=(i,)) from None
    return tuple(out)


_PORT_SCHEMA = {"type": "integer", "minimum": 1, "maximum": 65535}
AppList = list[
    Annotated[
        AppItem,
        f.shorthand(
            _app,
            Annotated[str, f.Notation(str, f.pattern(f"({_BUILTIN_RE}|{REF_PATTERN})(:[0-9]+)?"))],
            AppItem,
        ),
    ]
]  # fmt: skip
AppPorts = Annotated[
    tuple[int | None, ...],
    f.Notation(
        _ports,
        {"anyOf": [_PORT_SCHEMA, {"type": "null"}, {"type": "array", "items": _PORT_SCHEMA}]},
    ),
]
AppMap = dict[Annotated[AppKind | str, APP_NAME], AppPorts]
Apps = Annotated[
    Annotated[AppList, Tag("<list>")] | Annotated[AppMap, Tag("<mapping>")],
    Discriminator(_list_or_mapping),
]
NodeRoutes = Annotated[
    Annotated[RouteMode, f.choice("routes mode", RouteMode, LAB_ROUTE_MODES), Tag("<string>")]
    | Annotated[list[RouteFile], Tag("<list>")],
    Discriminator(_string_or_list),
]


class _StackKeys(FileModel):
    """Stack options as keys of a mapping (see :func:`_stack_fields`)."""

    def stack_overrides(self) -> dict[str, Any]:
        """The stack options this mapping sets."""
        return {k: getattr(self, k) for k in STACK_KEYS if getattr(self, k, None) is not None}


class NodeBase(_StackKeys):
    """A node: its kind, apps, routes and stack options (overriding ``defaults``)."""

    KEY_NOUN = "node key"
    model_config = ConfigDict(
        json_schema_extra={
            "if": {"required": ["forward"]},
            "then": {"properties": {"kind": {"const": "linux"}}},
        }
    )
    kind: Annotated[NodeKind, f.choice("kind", NodeKind)] = Field(
        description="host: our stack; router: our stack, forwarding; linux: the container's "
        "own Linux kernel stack (the reference peer)"
    )
    forward: Annotated[bool | None, f.BOOL] = Field(
        None,
        description="linux nodes only: the kernel forwards (net.ipv4.ip_forward=1), "
        "a Linux-kernel router the route planner treats like a router (default false)",
    )
    placement: Annotated[str | None, f.STRING] = Field(
        None,
        description="swarm backend: where the node runs, a swarm node's hostname or a "
        "constraint node.hostname==NAME or node.labels.KEY==VALUE (default: spread over "
        "the swarm's nodes); other backends ignore it",
    )
    apps: Apps | None = Field(
        None,
        description="apps started at deploy: [http-server:80, echo, kvstore:serve:7000] or "
        "[{app, port, args}] or {sink: 5001, echo: [7, 7007]}",
    )
    code: Annotated[str | None, f.STRING] = Field(
        None,
        description="host and router nodes: a folder of your code (module:factory apps), "
        "mounted read-only at /wirelab/code; relative to the topology file (default: the "
        "lab's code)",
    )
    image: Annotated[str | None, f.IMAGE] = Field(
        None,
        description="linux nodes only: the Docker image the node runs (present in the local "
        "engine: wirelab never pulls; default: the lab's node image)",
    )
    cmd: Annotated[tuple[str, ...] | None, f.COMMAND] = Field(
        None,
        description="linux nodes only: the container's command, a string split like a shell "
        "or a list (default: the image's own; on the lab's node image, an idle shell)",
    )
    env: Annotated[tuple[tuple[str, str], ...] | None, f.ENV] = Field(
        None, description="linux nodes only: environment variables, NAME: value"
    )
    binds: list[Annotated[Bind, f.BIND]] | None = Field(
        None,
        description="linux nodes only: host paths mounted into the container, "
        "SOURCE:TARGET[:ro] (absolute paths on the machine that runs the containers)",
    )
    exec: list[Annotated[str, f.STRING]] | None = Field(
        None,
        description="linux nodes only: commands run in the container once the lab is up, "
        "in order (split like a shell; a failing one fails the deploy)",
    )

    WORKLOAD_KEYS: ClassVar[tuple[str, ...]] = ("image", "cmd", "env", "binds", "exec")

    def workload(self) -> Workload:
        return Workload(
            image=self.image or "",
            cmd=self.cmd,
            env=self.env or (),
            binds=tuple(self.binds or ()),
            exec=tuple(self.exec or ()),
        )

    routes: NodeRoutes | None = Field(
        None,
        description="auto | none | a list of static routes (default: the lab's routes mode)",
    )
    routing: Annotated[Routing | None, f.choice("routing", Routing)] = Field(
        None,
        description="static | rip: RIPv2 (a router advertises, a host listens, a linux router "
        "with forward: true runs FRR's ripd); default: the lab's for routers, else static",
    )
    rip: RipNodeFile | None = Field(
        None, description="this node's RIP options over the lab's rip: (and passive interfaces)"
    )

    def route_mode(self) -> RouteMode | None:
        """STATIC for a list of routes, the mode written, or None (the lab's)."""
        if self.routes is None:
            return None
        return RouteMode.STATIC if isinstance(self.routes, list) else self.routes

    def static_routes(self) -> tuple[RouteFile, ...]:
        return tuple(self.routes) if isinstance(self.routes, list) else ()

    def app_entries(self) -> list[tuple[str, AppSpec]]:
        """(key path below the node, app) in file order."""
        if isinstance(self.apps, list):
            return [(f"apps[{i}]", a.spec()) for i, a in enumerate(self.apps)]
        out = []
        for kind, ports in (self.apps or {}).items():
            name = kind.value if isinstance(kind, AppKind) else kind
            default = kind.default_port if isinstance(kind, AppKind) else 0
            for port in ports:
                out.append((f"apps.{name}", AppSpec(kind, port or default)))
        return out


class DefaultsBase(_StackKeys):
    """Settings for every node: the MTU and stack options (a node's own keys override)."""

    KEY_NOUN = "defaults key"
    mtu: Annotated[int | None, f.MTU] = Field(
        None, description="MTU of every link and LAN (default 1500)"
    )


def _stack_fields() -> dict[str, Any]:
    """One optional key per field of :class:`StackOptions`: bool, int (with its min/max),
    float (a duration, with its min) or str (one of its choices)."""
    out: dict[str, Any] = {}
    for fld in fields(StackOptions):
        meta = fld.metadata
        kind = fld.type if isinstance(fld.type, str) else getattr(fld.type, "__name__", "")
        kind = kind.replace(" | None", "").replace("Optional[", "").rstrip("]")
        notation: f.Notation
        if kind == "bool":
            notation = f.BOOL
        elif kind == "int":
            notation = f.ints(meta.get("min", 0), meta.get("max"))
        elif kind == "float":
            notation = f.duration(meta.get("min", 0.0))
        elif "choices" in meta:
            notation = f.strings(fld.name, meta["choices"])
        else:
            notation = f.STRING
        default = "-" if fld.default is MISSING else fld.default
        doc = f"{meta.get('doc', fld.name)} (default {default})"
        out[fld.name] = (Annotated[Any, notation], Field(None, description=doc))
    return out


if TYPE_CHECKING:
    NodeFile = NodeBase
    DefaultsFile = DefaultsBase
else:
    NodeFile = create_model(
        "NodeFile", __base__=NodeBase, __doc__=NodeBase.__doc__, **_stack_fields()
    )
    DefaultsFile = create_model(
        "DefaultsFile", __base__=DefaultsBase, __doc__=DefaultsBase.__doc__, **_stack_fields()
    )


# -- the lab -------------------------------------------------------------------------------------


def _some_nodes(nodes: dict[str, Any]) -> dict[str, Any]:
    if not nodes:
        raise Problem("a lab needs at least one node", at_key=True)
    return nodes


def _pool(value: Any) -> IPv4Network:
    pool = values.network(value)
    if pool.prefixlen > 24:
        raise Problem(f"pool {pool} is smaller than one /24; allowed: /8../24")
    return pool


NodeName = Annotated[str, f.name("node name")]
LanName = Annotated[str, f.name("LAN name")]


class LabFile(FileModel):
    """A wirelab lab: nodes, links, LANs, routes and a fault timeline."""

    name: Annotated[str, f.name("lab name")] = Field(
        description="lab name: a letter, then letters, digits, '_' or '-' (at most 32)"
    )
    defaults: DefaultsFile | None = Field(None, description="MTU and stack options for every node")
    pool: Annotated[IPv4Network | None, f.Notation(_pool, f.PREFIX.schema)] = Field(
        None,
        description="address pool for subnets not given (default 10.X.0.0/16, X derived "
        "from the name); /8../24",
    )
    routes: Annotated[RouteMode, f.choice("routes mode", RouteMode, LAB_ROUTE_MODES)] = Field(
        RouteMode.AUTO,
        description="auto: shortest-path static routes; none: connected routes only",
    )
    routing: Annotated[Routing, f.choice("routing", Routing)] = Field(
        Routing.STATIC,
        description="static: the routes: mode, fixed at deploy; rip: every router runs RIPv2 "
        "(routes: auto then computes routes for the hosts only)",
    )
    rip: RipFile | None = Field(None, description="RIP options of every node that runs RIP")
    nodes: Annotated[
        dict[NodeName, NodeFile],
        AfterValidator(f.checked(_some_nodes)),
        Field(json_schema_extra={"minProperties": 1}),
    ] = Field(description="the nodes by name")
    links: list[LinkFile] = Field([], description="point-to-point links")
    lans: dict[LanName, LanFile] = Field({}, description="multi-access segments by name")
    faults: list[FaultFile] = Field([], description="fault timeline, applied after deploy")
    code: Annotated[str | None, f.STRING] = Field(
        None,
        description="a folder of your code for module:factory apps, mounted read-only at "
        "/wirelab/code in every host and router; relative to the topology file",
    )
    _written_nodes: frozenset[str] = PrivateAttr(default_factory=frozenset)
    _written_networks: frozenset[str] = PrivateAttr(default_factory=frozenset)

    def remember_names(self, data: Any) -> None:
        """Note every node, link and LAN name ``data`` (the file) writes, also those of items
        with errors, so that a broken node is not reported again as unknown where it is used."""
        nodes = data.get("nodes") if isinstance(data, dict) else None
        names = {k for k in nodes if isinstance(k, str)} if isinstance(nodes, dict) else set()
        self._written_nodes = frozenset(names | set(self.nodes))
        nets = {s.name for s in self.segments()}
        links = data.get("links") if isinstance(data, dict) else None
        for link in links if isinstance(links, list) else ():
            if isinstance(link, dict) and isinstance(link.get("name"), str):
                nets.add(link["name"])
        lans = data.get("lans") if isinstance(data, dict) else None
        nets |= {k for k in lans if isinstance(k, str)} if isinstance(lans, dict) else set()
        self._written_networks = frozenset(nets)

    @property
    def written_nodes(self) -> frozenset[str]:
        return self._written_nodes or frozenset(self.nodes)

    @property
    def written_networks(self) -> frozenset[str]:
        return self._written_networks

    def segments(self) -> tuple[DeclaredSegment, ...]:
        """Links then LANs, each with its name: unnamed links are called ``a-b`` after their
        nodes (``a-b-2`` for a parallel one)."""
        taken = {link.name for link in self.links if link.name} | set(self.lans)
        out = []
        for link in self.links:
            name = link.name
            if name is None:
                base = "-".join(m.node for m in link.endpoints)
                name, n = base, 1
                while name in taken:
                    n += 1
                    name = f"{base}-{n}"
                taken.add(name)
            out.append(DeclaredSegment.of(name, False, link.endpoints, link))
        for name, lan in self.lans.items():
            out.append(DeclaredSegment.of(name, True, lan.members, lan))
        return tuple(out)


@dataclass(frozen=True, slots=True)
class DeclaredSegment:
    """A link or LAN as declared, under its name; ``subnet`` is filled by validation when
    it follows from an address written with /len."""

    name: str
    is_lan: bool
    members: tuple[EndpointFile, ...]
    subnet: IPv4Network | None
    mtu: int | None
    where: Where  # the link item / LAN entry
    subnet_where: Where | None
    item: LinkFile | LanFile  # as written (its link property keys, their positions)

    @classmethod
    def of(
        cls, name: str, is_lan: bool, members: list[EndpointFile], item: LinkFile | LanFile
    ) -> DeclaredSegment:
        subnet_where = item.where("subnet") if item.subnet is not None else None
        return cls(name, is_lan, tuple(members), item.subnet, item.mtu, item.where(),
                   subnet_where, item)  # fmt: skip

    @property
    def egress(self) -> tuple[LinkProps, ...]:
        """What each member sends with (member order); () for a plain link."""
        return self.item.egress
