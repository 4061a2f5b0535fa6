"""A deployed lab as its users see it: nodes, interfaces (live values), links, state."""

from __future__ import annotations

from dataclasses import dataclass

from nodes.faults.link import LinkProps


@dataclass(frozen=True, slots=True)
class InterfaceInfo:
    """One interface of a lab node. Live values where the node answers (our nodes: their
    agent; linux nodes: the kernel), the plan's otherwise."""

    name: str
    address: str
    prefix_len: int
    mac: str
    mtu: int  # in force now (an MTU fault lowers it while it holds)
    link: str  # the link or LAN
    up: bool = True
    planned_mtu: int = 0  # the topology's
    # link properties the interface applies (None: none): to what it sends; to what it
    # receives, for a peer (a linux node) that cannot shape its own direction
    egress: LinkProps | None = None
    ingress: LinkProps | None = None


@dataclass(frozen=True, slots=True)
class NodeInfo:
    name: str
    kind: str  # host | router | linux
    state: str  # running | exited | paused | ... (the backend's words)
    agent: str = ""  # where its node agent listens ("" for linux nodes)
    interfaces: tuple[InterfaceInfo, ...] = ()
    apps: tuple[str, ...] = ()  # declared by the topology ("kind:port")
    container: str = ""  # docker: the node's container ("" on other backends)

    def interface(self, name: str) -> InterfaceInfo:
        for iface in self.interfaces:
            if iface.name == name:
                return iface
        have = ", ".join(i.name for i in self.interfaces) or "none"
        raise KeyError(f"{self.name} has no interface {name!r} (have {have})")


@dataclass(frozen=True, slots=True)
class LinkDirection:
    """One direction of a link or LAN with properties: what ``sender`` sends onto it."""

    sender: str  # "node:iface"
    shaping: LinkProps
    applied_at: str = ""  # "node:iface egress", or the peer's "node:iface ingress"


@dataclass(frozen=True, slots=True)
class LinkInfo:
    name: str
    type: str  # link | lan
    subnet: str
    mtu: int
    members: tuple[str, ...] = ()  # "node:iface"
    directions: tuple[LinkDirection, ...] = ()  # link properties per sender (none: plain)


@dataclass(frozen=True, slots=True)
class LabInfo:
    name: str
    backend: str  # docker | sim
    state: str  # running | degraded (a node is not running)
    topology_hash: str = ""
    nodes: tuple[NodeInfo, ...] = ()
    links: tuple[LinkInfo, ...] = ()
    age_s: float = 0.0
    faults: int = 0  # lab faults active
    source: str = ""  # where the topology came from
    engine: str = ""  # docker: the engine the server uses (its DOCKER_HOST; "": the default)

    def node(self, name: str) -> NodeInfo:
        for node in self.nodes:
            if node.name == name:
                return node
        have = ", ".join(n.name for n in self.nodes)
        raise KeyError(f"lab {self.name} has no node {name!r} (have {have})")

    def address(self, node: str, iface: str | None = None) -> str:
        """The address of ``node``'s interface (its first one by default)."""
        n = self.node(node)
        if iface is not None:
            return n.interface(iface).address
        if not n.interfaces:
            raise KeyError(f"{node} has no interfaces")
        return n.interfaces[0].address


@dataclass(frozen=True, slots=True)
class LabSummary:
    name: str
    backend: str
    nodes: int = 0
    running: int = 0  # nodes running
    faults: int = 0  # lab faults active
    age_s: float = 0.0


@dataclass(frozen=True, slots=True)
class DeployProgress:
    step: str  # backend, image, network, create, start, agent, configure, linux, ready ...
    node: str = ""  # the node or network the event is about ("" : the whole step)
    done: int = 0
    total: int = 0
    message: str = ""


@dataclass(frozen=True, slots=True)
class NodeActionResult:
    node: str
    state: str  # the node's state afterwards
    faults_reapplied: int = 0  # unexpired faults installed again after a (re)start
