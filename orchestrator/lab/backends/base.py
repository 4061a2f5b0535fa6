"""The Backend protocol: what :mod:`orchestrator.lab.deploy` needs from a place that runs labs.

A backend creates and removes two kinds of objects, networks (one per link or LAN, plus
a management network when its agents listen on TCP) and nodes, and finds them again by
their labels (:mod:`orchestrator.labels`). Deploy drives it step by step and rolls back
through it; it talks to the node agents through an :class:`AgentClient` the backend hands
out.

Where node agents listen is the backend's choice, made per node when the lab is planned
(:func:`orchestrator.lab.plan.make_plan`): :meth:`Backend.agent_socket` gives a Unix socket
in a host directory mounted into the node (docker: no management network at all, and the
agents are on no network but their data links); when it gives None, the agent listens on
TCP, on the management network that :meth:`Backend.management_subnet` gives room for, or
where the backend puts it (sim: 127.0.0.1, a port per node).

A backend may also have ``adapt_lab(lab) -> (lab, notes)``: deploy then runs the lab as the
backend carries it, and reports each note (swarm: MTUs at most the overlay's, MACs the
overlay's own; see :mod:`.swarm`).

Implementations: :mod:`.docker` (containers on bridge networks), :mod:`.swarm` (containers
on a Docker Swarm's engines, overlay networks), :mod:`.sim` (every node in this process on
the in-memory wire) and :mod:`.fake` (nothing real; unit tests). A Kubernetes mapping is
designed in ``KUBERNETES.md`` beside this file.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Network
from typing import Protocol

import grpc

from orchestrator.domain.results import ExecResult, NodeStatus
from orchestrator.lab.clock import LabClock
from orchestrator.wire.agent import Health
from topology import IfRef, Lab, Node, NodeKind
from topology.model import Bind

AGENT_PORT = 50051


class BackendError(RuntimeError):
    """The backend refused or failed an operation (the message says which and why)."""


@dataclass(frozen=True, slots=True)
class NetworkSpec:
    lab: str
    name: str  # the object's name (labels.network_name / management_network_name)
    link: str | None  # the link or LAN; None for the management network
    subnet: IPv4Network
    gateway: IPv4Address  # the bridge's own address (the host side), never a node's
    mtu: int
    members: tuple[IfRef, ...]  # data networks: who is attached (in the topology's order)
    labels: Mapping[str, str]

    @property
    def management(self) -> bool:
        return self.link is None


@dataclass(frozen=True, slots=True)
class Attachment:
    network: str  # NetworkSpec.name
    iface: str  # the topology's interface name (eth0)
    address: IPv4Address


@dataclass(frozen=True, slots=True)
class Mount:
    """A host directory bind-mounted into a node: read-write (the backend's own, made
    fresh for the node: an agent's socket directory) or read-only (the user's: a code
    folder, never touched)."""

    source: str  # the host's path
    target: str  # the path inside the node
    read_only: bool = False


@dataclass(frozen=True, slots=True)
class AgentSocket:
    """Where a node's agent listens on a Unix socket, and how the orchestrator reaches it."""

    listen: str  # the agent's gRPC address inside the node: "unix:///run/wirelab/agent.sock"
    address: str  # the same socket seen from the host: "unix:///run/wirelab/<lab>/<node>/..."
    mount: Mount  # the host directory holding the socket, mounted where the agent listens


@dataclass(frozen=True, slots=True)
class NodeSpec:
    lab: str
    node: str
    kind: NodeKind
    name: str  # the object's name (labels.container_name)
    image: str
    command: tuple[str, ...]  # empty: the image's own
    management: Attachment | None  # the management network (agents on TCP), if any
    attachments: tuple[Attachment, ...]  # data networks, in connect order
    sysctls: Mapping[str, str]
    labels: Mapping[str, str]
    mounts: tuple[Mount, ...] = ()  # host directories (an agent's socket directory)
    env: tuple[tuple[str, str], ...] = ()  # a linux node's workload (topology.Workload)
    binds: tuple[Bind, ...] = ()
    own_image: bool = False  # the user's image: Docker's own defaults, no tools assumed
    capabilities: tuple[str, ...] = ()  # added (FRR: orchestrator.lab.frr)

    @property
    def runs_agent(self) -> bool:
        return self.kind is not NodeKind.LINUX


@dataclass(frozen=True, slots=True)
class NetworkInfo:
    name: str
    id: str
    labels: Mapping[str, str]
    subnet: str  # "" when unknown


@dataclass(frozen=True, slots=True)
class EndpointInfo:
    network: str
    address: str
    prefix_len: int
    mac: str


@dataclass(frozen=True, slots=True)
class NodeInfo:
    name: str
    id: str
    labels: Mapping[str, str]
    state: str  # created | running | exited | paused | ... (Docker's words)
    image: str = ""
    endpoints: tuple[EndpointInfo, ...] = ()
    agent: str = ""  # its agent's gRPC address (labels.AGENT); "" for linux nodes


@dataclass(frozen=True, slots=True)
class LabObjects:
    """What a backend holds for one lab (found by labels)."""

    lab: str
    nodes: tuple[NodeInfo, ...] = ()
    networks: tuple[NetworkInfo, ...] = ()

    @property
    def empty(self) -> bool:
        return not self.nodes and not self.networks

    @property
    def names(self) -> list[str]:
        return [n.name for n in self.nodes] + [n.name for n in self.networks]

    def label_values(self, key: str) -> set[str]:
        """Every value of label ``key`` on the lab's objects ("" where it is missing)."""
        found = {n.labels.get(key, "") for n in self.nodes}
        return found | {n.labels.get(key, "") for n in self.networks}


@dataclass(frozen=True, slots=True)
class Removed:
    lab: str
    nodes: tuple[str, ...] = ()
    networks: tuple[str, ...] = ()


class AgentClient(Protocol):
    """How deploy reaches node agents (``address``: a gRPC target, ``ip:port`` or
    ``unix:///path``)."""

    def health(self, address: str, *, timeout: float) -> Health: ...

    def configure(
        self, address: str, lab: Lab, node: Node, *, seed: int | None, timeout: float
    ) -> NodeStatus: ...

    def status(self, address: str, *, timeout: float) -> NodeStatus: ...

    def close(self) -> None: ...


class Backend(Protocol):
    name: str  # "docker" | "sim" | "fake"

    # ---- planning -------------------------------------------------------------------
    def check(self, lab: Lab) -> None:
        """Raise BackendError if this backend cannot run ``lab`` at all."""

    def image(self) -> str:
        """The node image (built if needed); backends without images return ""."""

    def agent_socket(self, lab: str, node: str) -> AgentSocket | None:
        """The Unix socket ``node``'s agent listens on (its directory mounted into the
        node); None: the agent listens on TCP (the management network, or wherever the
        backend puts it)."""

    def management_subnet(self, lab: Lab, hosts: int) -> IPv4Network | None:
        """A free subnet for the lab's management network with room for ``hosts`` agents
        (those without an :meth:`agent_socket`); None when the backend needs no
        management network."""

    def lock(self, lab: str) -> AbstractContextManager[object]:
        """Held while a lab is deployed or destroyed (one actor per lab at a time)."""

    # ---- objects ----------------------------------------------------------------------
    def create_network(self, spec: NetworkSpec) -> None: ...

    def create_node(self, spec: NodeSpec) -> None:
        """Create the node attached to its networks, not started."""

    def start_node(self, lab: str, node: str) -> None: ...

    def agent_address(self, lab: str, node: str) -> str:
        """The gRPC address of a started node's agent (``ip:port`` or ``unix:///path``)."""

    def node_state(self, lab: str, node: str) -> str:
        """Docker's words: running, exited, ... ("missing" when it is gone)."""

    def logs(self, lab: str, node: str, *, tail: int = 20) -> str: ...

    def exec(self, lab: str, node: str, argv: Sequence[str], *, timeout: float) -> ExecResult:
        """Run a command inside a node (linux-kind containers); BackendError when the
        backend has no shells."""

    def netns_exec(self, lab: str, node: str, argv: Sequence[str], *, timeout: float) -> ExecResult:
        """Run a host command inside the node's network namespace (what a container may not
        do itself: its /proc/sys is read-only); BackendError when the backend cannot."""

    def remove_node(self, lab: str, node: str) -> None:
        """Remove a node (no error when it is already gone)."""

    def remove_network(self, lab: str, name: str) -> None:
        """Remove a network (no error when it is already gone)."""

    def remove_lab_files(self, lab: str) -> None:
        """Remove what the lab keeps outside its nodes and networks (docker: the agents'
        socket directories on the host), once its nodes are gone; nothing to remove is
        not an error."""

    # ---- discovery ------------------------------------------------------------------
    def find(self, lab: str) -> LabObjects:
        """Everything labelled with this lab."""

    def lab_names(self) -> list[str]:
        """Every lab that has at least one object, sorted."""

    def agents(self) -> AgentClient: ...

    # ---- what a running lab's service needs -------------------------------------------
    def channel(self, address: str) -> grpc.Channel:
        """A gRPC channel to the agent at ``address`` (a socket; the virtual backend's
        agents are called in this process)."""

    def clock(self, lab: str) -> LabClock:
        """The lab's clock (orchestrator/lab/clock.py): wall time, or the virtual lab's
        world."""
