"""A node's configuration as the agent applies it (the domain side of ConfigureRequest),
and building the stack from it. No gRPC here: the orchestrator's in-process backend can
build the same nodes from the same config.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field, replace
from enum import StrEnum

from nodes.faults import NO_LINK_PROPS, Direction, LinkProps
from nodes.router.rip import RipEngine
from nodes.router.ripmodel import RipConfig
from nodes.router.router import Router
from nodes.stack.config import StackConfig
from nodes.stack.host import Host
from nodes.stack.tcp.config import TcpConfig


class Kind(StrEnum):
    HOST = "host"
    ROUTER = "router"


@dataclass(frozen=True, slots=True)
class InterfaceSpec:
    name: str
    address: int
    prefix_len: int
    mac: bytes | None = None  # None: the port's own (the kernel device's) MAC
    mtu: int = 1500
    up: bool = True
    egress: LinkProps = NO_LINK_PROPS  # the link's properties for what the node sends
    ingress: LinkProps = NO_LINK_PROPS  # ... for what it receives (a peer that cannot)


@dataclass(frozen=True, slots=True)
class RouteSpec:
    prefix: int
    prefix_len: int
    gateway: int | None = None
    iface: str | None = None
    metric: int = 0


@dataclass(frozen=True, slots=True)
class AppSpec:
    kind: str
    port: int
    seed: int | None = None  # http-server
    rcvbuf: int | None = None  # sink

    @property
    def app_id(self) -> str:
        return f"{self.kind}:{self.port}"

    def options(self) -> dict[str, object]:
        out: dict[str, object] = {}
        if self.seed is not None:
            out["seed"] = self.seed
        if self.rcvbuf is not None:
            out["rcvbuf"] = self.rcvbuf
        return out


@dataclass(frozen=True, slots=True)
class NodeConfig:
    name: str
    kind: Kind
    interfaces: tuple[InterfaceSpec, ...] = ()
    routes: tuple[RouteSpec, ...] = ()
    stack: StackConfig = field(default_factory=StackConfig)
    tcp: TcpConfig = field(default_factory=TcpConfig)
    apps: tuple[AppSpec, ...] = ()
    seed: int | None = None
    lab: str = ""
    rip: RipConfig | None = None  # None: static routes only

    def interface(self, name: str) -> InterfaceSpec | None:
        return next((i for i in self.interfaces if i.name == name), None)


def _rng(seed: int | None, salt: str) -> random.Random:
    return random.Random() if seed is None else random.Random(f"{seed}/{salt}")


def build_node(config: NodeConfig, macs: dict[str, bytes]) -> Host:
    """The Host or Router of ``config`` with its interfaces (``macs``: each interface's
    MAC when the config leaves it out), static routes and a TCP engine. Raises ValueError
    (e.g. a gateway on no connected subnet)."""
    cls = Router if config.kind is Kind.ROUTER else Host
    stack = replace(config.stack, tcp=config.tcp)
    host = cls(config.name, config=stack, rng=_rng(config.seed, "ip"))
    for spec in config.interfaces:
        mac = spec.mac if spec.mac is not None else macs[spec.name]
        host.add_interface(spec.name, mac, spec.address, spec.prefix_len, mtu=spec.mtu, up=spec.up)
    for route in config.routes:
        host.add_route(route.prefix, route.prefix_len, route.gateway, route.iface,
                       metric=route.metric)  # fmt: skip
    return host


def start_rip(config: NodeConfig, host: Host, now: float) -> RipEngine | None:
    """The node's RIP engine (None without ``rip``), started at ``now``: it asks its
    neighbours for their tables at once. Its delays come from the node's seed."""
    if config.rip is None:
        return None
    return RipEngine(host, config.rip, rng=_rng(config.seed, "rip"), now=now)


def fault_rng(config: NodeConfig) -> random.Random:
    """Generates the seeds of faults added without one."""
    return _rng(config.seed, "faults")


def link_layers(config: NodeConfig) -> list[tuple[str, Direction, LinkProps]]:
    """The link property layers the node's FaultEngine gets: (interface, direction,
    properties) for every direction with properties."""
    out = []
    for spec in config.interfaces:
        for direction, props in ((Direction.EGRESS, spec.egress),
                                 (Direction.INGRESS, spec.ingress)):  # fmt: skip
            if not props.empty:
                out.append((spec.name, direction, props))
    return out


def link_seed(config: NodeConfig) -> int:
    """The seed of the node's link property streams (each interface and direction has its
    own stream from it): from the node's seed, so a lab seed replays them."""
    return _rng(config.seed, "links").getrandbits(63)
