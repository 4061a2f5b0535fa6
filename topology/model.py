"""The planned lab: frozen dataclasses the orchestrator and backends consume.

Everything here is resolved: every interface has a name, an address, a MAC and an MTU;
every link and LAN has a subnet; every node has its static routes. Addresses and subnets
are :mod:`ipaddress` objects (``int(address)`` gives the stack's integer form); MACs are
6-byte ``bytes`` like in the stack.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from enum import StrEnum
from ipaddress import IPv4Address, IPv4Interface, IPv4Network
from typing import Any

from nodes.faults.link import NO_LINK_PROPS, LinkProps
from nodes.faults.match import Match
from nodes.faults.model import EMPTY_EFFECTS, Direction, Effects

DEFAULT_MTU = 1500
MIN_MTU = 68
MAX_MTU = 65535


class NodeKind(StrEnum):
    HOST = "host"  # our stack, no forwarding
    ROUTER = "router"  # our stack, forwarding
    LINUX = "linux"  # the container's own kernel stack (reference peer)

    @property
    def forwards(self) -> bool:
        """Whether every node of this kind forwards (a linux node forwards only with
        ``forward: true``: see :attr:`Node.forwards`)."""
        return self is NodeKind.ROUTER


class RouteMode(StrEnum):
    AUTO = "auto"  # shortest-path static routes computed from the topology
    NONE = "none"  # connected routes only
    STATIC = "static"  # the node's explicit list (node level only)


class Routing(StrEnum):
    STATIC = "static"  # the routes the node's ``routes`` mode gives it, fixed at deploy
    RIP = "rip"  # RIPv2: our routers' engine, FRR's ripd on linux routers, hosts listen


class Redistribute(StrEnum):
    CONNECTED = "connected"
    STATIC = "static"


def _opt(default: Any, doc: str, **constraints: Any) -> Any:
    return field(default=default, metadata={"doc": doc, **constraints})


@dataclass(frozen=True, slots=True)
class StackOptions:
    """Per-node stack settings (Linux defaults). ``defaults`` in the YAML sets them for every
    node, a node's own keys override. Field metadata drives validation and the JSON Schema."""

    congestion_control: str = _opt("cubic", "TCP congestion control", choices=("cubic", "reno"))
    msl: float = _opt(30.0, "TCP maximum segment lifetime, seconds (TIME_WAIT is 2*MSL)", min=0.0)
    syn_retries: int = _opt(6, "SYN retransmissions (tcp_syn_retries)", min=1, max=127)
    synack_retries: int = _opt(5, "SYN-ACK retransmissions (tcp_synack_retries)", min=1, max=255)
    retries1: int = _opt(3, "retransmissions before reporting to IP (tcp_retries1)", min=1, max=255)
    retries2: int = _opt(15, "retransmissions before giving up (tcp_retries2)", min=1, max=255)
    orphan_retries: int = _opt(8, "FIN retransmissions of orphaned sockets", min=1, max=255)
    fin_timeout: float = _opt(60.0, "FIN_WAIT_2 timeout, seconds (tcp_fin_timeout)", min=0.0)
    delayed_ack: bool = _opt(True, "delay ACKs (40 ms, every second full segment)")
    sack: bool = _opt(True, "SACK-permitted option and SACK-based recovery")
    timestamps: bool = _opt(True, "TCP timestamps option")
    wscale: bool = _opt(True, "window scale option")
    syncookies: bool = _opt(True, "SYN cookies when the SYN queue is full")
    initial_cwnd: int = _opt(10, "initial congestion window, segments", min=1, max=1000)
    hystart: bool = _opt(True, "CUBIC's HyStart slow-start exit (Linux tcp_cubic hystart)")
    tlp: bool = _opt(True, "tail loss probes (RFC 8985; Linux tcp_early_retrans=3)")
    mtu_probing: int = _opt(0, "tcp_mtu_probing: 0 off, 1 on a black hole, 2 always", min=0, max=2)
    base_mss: int = _opt(1024, "MSS where TCP MTU probing starts (tcp_base_mss)", min=48, max=65495)
    rto_min: float = _opt(0.2, "minimum retransmission timeout, seconds", min=0.001)
    ttl: int = _opt(64, "default IPv4 TTL", min=1, max=255)
    arp_reachable: float = _opt(30.0, "ARP entry reachable time, seconds", min=0.0)
    arp_retries: int = _opt(3, "ARP requests before giving up", min=1, max=100)
    reassembly_timeout: float = _opt(30.0, "IPv4 reassembly timeout, seconds", min=0.0)

    @classmethod
    def option_names(cls) -> tuple[str, ...]:
        return tuple(f.name for f in fields(cls))


FRR_MIN_TIMER = 5.0  # FRR's ripd: timers basic takes 5..2147483647 whole seconds


@dataclass(frozen=True, slots=True)
class RipOptions:
    """RIPv2 settings of a node (RFC 2453 defaults): the lab's ``rip:`` with the node's own
    keys over it. Durations are seconds."""

    update: float = 30.0  # regular updates (jittered by up to 5 s)
    timeout: float = 180.0  # a route not refreshed for this long fails
    garbage: float = 120.0  # a failed route is advertised as unreachable this long
    triggered: bool = True  # changes go out after 1..5 s
    split_horizon: bool = True
    poisoned_reverse: bool = False  # with split horizon: metric 16 back instead of nothing
    redistribute: tuple[Redistribute, ...] = (Redistribute.CONNECTED, Redistribute.STATIC)
    default_route: bool = False  # originate 0.0.0.0/0
    auth_key: str | None = None  # RFC 2082 keyed MD5
    auth_key_id: int = 1
    passive: tuple[str, ...] = ()  # interfaces that listen but never send


class AppKind(StrEnum):
    """The built-in apps (a user app is named ``module:factory`` instead)."""

    HTTP_SERVER = "http-server"
    ECHO = "echo"
    SINK = "sink"
    UDP_ECHO = "udp-echo"
    FORWARD = "forward"  # the container's loopback -> our stack (args: to=HOST:PORT)

    @property
    def default_port(self) -> int:
        """0: the app has no default (forward: give the loopback port)."""
        return {"http-server": 80, "echo": 7, "sink": 5001, "udp-echo": 7}.get(self.value, 0)

    @property
    def transport(self) -> str:
        return "udp" if self is AppKind.UDP_ECHO else "tcp"


@dataclass(frozen=True, slots=True)
class AppSpec:
    """An application a node starts at deploy: a built-in, or the user's ``module:factory``."""

    kind: AppKind | str
    port: int  # 0: none (a user app started without a port)
    args: tuple[tuple[str, str], ...] = ()  # forward and user apps (strings, by name)

    @property
    def name(self) -> str:
        return self.kind.value if isinstance(self.kind, AppKind) else self.kind

    @property
    def builtin(self) -> bool:
        return isinstance(self.kind, AppKind)

    @property
    def transport(self) -> str:
        return self.kind.transport if isinstance(self.kind, AppKind) else "tcp"

    def __str__(self) -> str:
        """The app's id on its node: ``kind:port`` (``module:factory`` without a port)."""
        return f"{self.name}:{self.port}" if self.port else self.name


@dataclass(frozen=True, slots=True, order=True)
class IfRef:
    """``node:iface``."""

    node: str
    iface: str

    def __str__(self) -> str:
        return f"{self.node}:{self.iface}"


@dataclass(frozen=True, slots=True)
class Interface:
    node: str
    name: str
    address: IPv4Address
    network: IPv4Network
    mac: bytes
    mtu: int
    segment: str  # the link or LAN name (one Docker bridge network)

    @property
    def ref(self) -> IfRef:
        return IfRef(self.node, self.name)

    @property
    def cidr(self) -> IPv4Interface:
        return IPv4Interface((self.address, self.network.prefixlen))

    @property
    def mac_str(self) -> str:
        return ":".join(f"{b:02x}" for b in self.mac)


@dataclass(frozen=True, slots=True)
class Segment:
    """One broadcast domain = one Docker bridge network. Docker's bridge gateway takes the
    subnet's first host address, so no node ever uses :attr:`gateway`. ``egress`` holds
    the link properties of what each member sends (member order; () for a plain one)."""

    name: str
    members: tuple[IfRef, ...]
    subnet: IPv4Network
    mtu: int
    egress: tuple[LinkProps, ...] = ()

    @property
    def gateway(self) -> IPv4Address:
        return self.subnet.network_address + 1

    @property
    def shaped(self) -> bool:
        """Has link properties."""
        return any(not p.empty for p in self.egress)

    def egress_of(self, ref: IfRef) -> LinkProps:
        """The link properties of what ``ref`` sends onto this segment."""
        if not self.egress:
            return NO_LINK_PROPS
        return self.egress[self.members.index(ref)]


@dataclass(frozen=True, slots=True)
class Link(Segment):
    """A point-to-point link (exactly two members)."""

    @property
    def endpoints(self) -> tuple[IfRef, IfRef]:
        return self.members[0], self.members[1]


@dataclass(frozen=True, slots=True)
class Lan(Segment):
    """A multi-access segment."""


@dataclass(frozen=True, slots=True)
class Route:
    dst: IPv4Network
    via: IPv4Address
    dev: str
    origin: RouteMode  # AUTO (computed) or STATIC (from the file)

    @property
    def is_default(self) -> bool:
        return self.dst.prefixlen == 0


@dataclass(frozen=True, slots=True)
class Bind:
    """A host path bind-mounted into a linux node's container (``binds:``)."""

    source: str  # absolute, on the host that runs the containers
    target: str  # absolute, in the container
    read_only: bool = False

    def __str__(self) -> str:
        return f"{self.source}:{self.target}" + (":ro" if self.read_only else "")


@dataclass(frozen=True, slots=True)
class Workload:
    """What a linux node's container runs, in containerlab's spirit: the user's ``image``
    (empty: the lab's node image), its ``cmd`` (None: the image's own; on the lab's image,
    an idle shell), ``env``, ``binds``, and ``exec``: commands run in it after deploy."""

    image: str = ""
    cmd: tuple[str, ...] | None = None
    env: tuple[tuple[str, str], ...] = ()
    binds: tuple[Bind, ...] = ()
    exec: tuple[str, ...] = ()

    @property
    def own_image(self) -> bool:
        return bool(self.image)


NO_WORKLOAD = Workload()


@dataclass(frozen=True, slots=True)
class Node:
    name: str
    kind: NodeKind
    stack: StackOptions
    interfaces: tuple[Interface, ...]
    routes: tuple[Route, ...]
    apps: tuple[AppSpec, ...]
    route_mode: RouteMode
    forward: bool = False  # linux nodes only: the kernel routes (net.ipv4.ip_forward=1)
    workload: Workload = NO_WORKLOAD  # linux nodes only
    routing: Routing = Routing.STATIC
    rip: RipOptions | None = None  # with routing rip: its settings
    code: str | None = None  # the user-code folder mounted into the node, as written
    placement: str = ""  # swarm backend: a hostname or node.hostname==/node.labels.K== constraint

    @property
    def forwards(self) -> bool:
        """Whether the node routes packets between its interfaces: a router, or a linux node
        with ``forward: true`` (a Linux-kernel router). Route planning treats both alike."""
        return self.kind.forwards or (self.kind is NodeKind.LINUX and self.forward)

    def interface(self, name: str) -> Interface:
        for iface in self.interfaces:
            if iface.name == name:
                return iface
        raise KeyError(f"{self.name} has no interface {name!r}")


# -- faults (structure only; the orchestrator's fault scheduler applies them) ---------------
# A fault's effects, match and direction are the node fault engine's own model
# (nodes.faults): one vocabulary from the topology file to the node.


class TargetKind(StrEnum):
    ENDPOINT = "endpoint"  # node:iface
    LINK = "link"  # a whole link or LAN by name
    NODE = "node"  # every interface of a node, or a node action
    PARTITION = "partition"  # groups of nodes


class NodeAction(StrEnum):
    KILL = "kill"
    STOP = "stop"
    START = "start"
    RESTART = "restart"
    PAUSE = "pause"
    UNPAUSE = "unpause"


@dataclass(frozen=True, slots=True)
class FaultTarget:
    kind: TargetKind
    node: str | None = None
    iface: str | None = None
    link: str | None = None
    groups: tuple[tuple[str, ...], ...] = ()

    def __str__(self) -> str:
        if self.kind is TargetKind.ENDPOINT:
            return f"{self.node}:{self.iface}"
        if self.kind is TargetKind.LINK:
            return f"link {self.link}"
        if self.kind is TargetKind.NODE:
            return f"node {self.node}"
        return "partition " + " | ".join(",".join(g) for g in self.groups)


@dataclass(frozen=True, slots=True)
class FaultEntry:
    at: float  # seconds after deploy
    target: FaultTarget
    direction: Direction = Direction.BOTH
    effects: Effects = EMPTY_EFFECTS
    match: Match | None = None
    action: NodeAction | None = None
    duration: float | None = None  # None: until cleared
    seed: int | None = None


# -- the lab ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Lab:
    name: str
    defaults: StackOptions
    mtu: int
    pool: IPv4Network
    route_mode: RouteMode
    nodes: tuple[Node, ...]
    links: tuple[Link, ...]
    lans: tuple[Lan, ...]
    faults: tuple[FaultEntry, ...] = ()
    source: str = "<string>"
    routing: Routing = Routing.STATIC  # the lab's default for its routers

    @property
    def segments(self) -> tuple[Segment, ...]:
        return (*self.links, *self.lans)

    def node(self, name: str) -> Node:
        for node in self.nodes:
            if node.name == name:
                return node
        raise KeyError(f"lab {self.name!r} has no node {name!r}")

    def segment(self, name: str) -> Segment:
        for segment in self.segments:
            if segment.name == name:
                return segment
        raise KeyError(f"lab {self.name!r} has no link or LAN {name!r}")

    def interface(self, ref: IfRef) -> Interface:
        return self.node(ref.node).interface(ref.iface)

    def shaping(self, ref: IfRef) -> Shaping:
        """The link properties the interface ``ref`` applies (a linux node: none, it
        cannot). Egress: what it sends. Ingress: on a link whose other end is a linux node,
        that end's direction, which only this end can shape."""
        if self.node(ref.node).kind is NodeKind.LINUX:
            return Shaping()
        segment = self.segment(self.interface(ref).segment)
        ingress = NO_LINK_PROPS
        if isinstance(segment, Link):
            peer = next(m for m in segment.members if m != ref)
            if self.node(peer.node).kind is NodeKind.LINUX:
                ingress = segment.egress_of(peer)
        return Shaping(segment.egress_of(ref), ingress)

    def applied_at(self, segment: Segment, sender: IfRef) -> tuple[IfRef, Direction] | None:
        """Where what ``sender`` sends onto ``segment`` is shaped: its own egress, or (a
        linux sender on a link) the other end's ingress; None: nowhere (no end can)."""
        if self.node(sender.node).kind is not NodeKind.LINUX:
            return sender, Direction.EGRESS
        if isinstance(segment, Link):
            peer = next(m for m in segment.members if m != sender)
            if self.node(peer.node).kind is not NodeKind.LINUX:
                return peer, Direction.INGRESS
        return None


@dataclass(frozen=True, slots=True)
class Shaping:
    """The link properties one interface applies, per direction."""

    egress: LinkProps = NO_LINK_PROPS
    ingress: LinkProps = NO_LINK_PROPS
