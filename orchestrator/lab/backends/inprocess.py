"""What the two in-process backends (:mod:`.sim`, real time; :mod:`.virtual`, virtual
time) share: they run our nodes only, each link or LAN is a set of connected in-memory
ports, node actions follow Docker's state table, and they describe their labs' objects
alike.

:class:`InProcessBackend` holds the labs, their networks and nodes, and the node actions'
state machine; a subclass says how a node runs (a thread and a gRPC server on 127.0.0.1,
or a seat in the lab's world and an in-process server), how it stops, pauses and comes
back, and which lock guards a lab's objects.
"""

from __future__ import annotations

import contextlib
import threading
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from ipaddress import IPv4Network
from typing import Any, Generic, TypeVar

from nodes.agent.config import Kind
from nodes.io.memport import MemPort, connect
from orchestrator.domain.results import ExecResult
from orchestrator.lab.backends.actions import transition
from orchestrator.lab.backends.base import (
    AgentSocket,
    BackendError,
    EndpointInfo,
    LabObjects,
    NetworkInfo,
    NetworkSpec,
    NodeInfo,
    NodeSpec,
)
from topology import IfRef, Lab, NodeKind

KINDS = {NodeKind.HOST: Kind.HOST, NodeKind.ROUTER: Kind.ROUTER}
REMOVE_GRACE = 0.2  # s: running agent calls may finish when a lab is destroyed


def refuse_linux(lab: Lab, what: str) -> None:
    """BackendError naming ``lab``'s linux nodes: ``what`` says which backend and why."""
    linux = [n.name for n in lab.nodes if n.kind is NodeKind.LINUX]
    if linux:
        verb = "is a linux node" if len(linux) == 1 else "are linux nodes"
        raise BackendError(
            f"{what}; {', '.join(linux)} {verb} (the kernel's stack): use the docker backend"
        )


def lab_objects(
    lab: str,
    nodes: Iterable[tuple[NodeSpec, str, str]],  # (spec, state, agent address)
    networks: Iterable[NetworkSpec],
    image: str,
) -> LabObjects:
    """A lab's nodes and networks as :meth:`Backend.find` reports them."""
    networks = list(networks)
    prefix = {n.name: n.subnet.prefixlen for n in networks}
    return LabObjects(
        lab,
        tuple(
            NodeInfo(
                spec.name, spec.name, dict(spec.labels), state, image,
                tuple(
                    EndpointInfo(a.network, str(a.address), prefix.get(a.network, 0), "")
                    for a in spec.attachments
                ),
                address,
            )
            for spec, state, address in nodes
        ),
        tuple(NetworkInfo(n.name, n.name, dict(n.labels), str(n.subnet)) for n in networks),
    )  # fmt: skip


class InProcessNode(ABC):
    """What every in-process node record has (subclasses are dataclasses)."""

    spec: NodeSpec
    ports: dict[str, MemPort]
    state: str  # Docker's words: created, running, paused, exited, removed

    @property
    @abstractmethod
    def agent_address(self) -> str: ...


@dataclass(eq=False)
class InProcessNetwork:
    spec: NetworkSpec
    ports: dict[IfRef, MemPort]


NodeT = TypeVar("NodeT", bound=InProcessNode)


@dataclass(eq=False)
class InProcessLab(Generic[NodeT]):
    networks: dict[str, InProcessNetwork] = field(default_factory=dict)
    nodes: dict[str, NodeT] = field(default_factory=dict)


LabT = TypeVar("LabT", bound=InProcessLab[Any])


class InProcessBackend(ABC, Generic[NodeT, LabT]):
    """The labs of one in-process backend. Subclasses provide the hooks below the line."""

    name = ""
    describe = ""  # "sim nodes", "virtual nodes": for errors
    linux_refusal = ""  # why this backend refuses linux nodes
    evented_ports = True  # a frame wakes its receiver (real time) or marks it ready
    stop_grace = 0.5  # s: ``stop`` lets running agent calls finish; ``kill`` does not

    def __init__(self) -> None:
        self._labs: dict[str, LabT] = {}
        self._mutex = threading.RLock()  # the registry of labs
        self._lab_locks: dict[str, threading.RLock] = {}

    # ---- the hooks -----------------------------------------------------------------------
    @abstractmethod
    def _new_lab(self, lab: str) -> LabT: ...

    @abstractmethod
    def _guard(self, lab: str) -> AbstractContextManager[object]:
        """What node actions and object changes of ``lab`` hold."""
        ...

    @abstractmethod
    def _make_node(self, spec: NodeSpec, kind: Kind, ports: dict[str, MemPort]) -> NodeT:
        """A node (its runtime and agent, serving, not configured) on ``ports``."""
        ...

    def _boot(self, found: NodeT) -> None:
        """A created node runs (its first start)."""

    @abstractmethod
    def _halt(self, found: NodeT, *, grace: float) -> None:
        """End the node's agent and loop (paused or not)."""
        ...

    @abstractmethod
    def _renew(self, found: NodeT) -> None:
        """A fresh runtime and agent for ``found`` on its ports, running."""
        ...

    @abstractmethod
    def _pause(self, found: NodeT) -> None: ...

    @abstractmethod
    def _unpause(self, found: NodeT) -> None: ...

    def _dropped(self, lab: LabT, found: NodeT | None) -> None:
        """``found`` was removed (None: the lab was, once empty)."""

    # ---- the registry --------------------------------------------------------------------
    def _lab(self, lab: str) -> LabT:
        with self._mutex:
            found = self._labs.get(lab)
            if found is None:
                found = self._labs[lab] = self._new_lab(lab)
            return found

    def _node(self, lab: str, node: str) -> NodeT:
        found: NodeT | None = self._lab(lab).nodes.get(node)
        if found is None:
            raise BackendError(f"lab {lab} has no node {node}")
        return found

    def _prune(self, lab: str) -> None:
        with self._mutex:
            found = self._labs.get(lab)
            if found is not None and not found.nodes and not found.networks:
                del self._labs[lab]
                self._dropped(found, None)

    # ---- planning ------------------------------------------------------------------------
    def check(self, lab: Lab) -> None:
        refuse_linux(lab, self.linux_refusal)

    def image(self) -> str:
        return ""

    def agent_socket(self, lab: str, node: str) -> AgentSocket | None:
        return None  # agents are reached in this process (TCP on 127.0.0.1, or in-process)

    def management_subnet(self, lab: Lab, hosts: int) -> IPv4Network | None:
        return None

    @contextlib.contextmanager
    def lock(self, lab: str) -> Iterator[object]:
        with self._mutex:
            lock = self._lab_locks.setdefault(lab, threading.RLock())
        with lock:
            yield None

    # ---- objects -------------------------------------------------------------------------
    def create_network(self, spec: NetworkSpec) -> None:
        lab = self._lab(spec.lab)
        with self._guard(spec.lab):
            if spec.name in lab.networks:
                raise BackendError(f"network {spec.name} exists")
            ports = {ref: MemPort(str(ref), evented=self.evented_ports) for ref in spec.members}
            if len(ports) >= 2:
                connect(*ports.values())
            lab.networks[spec.name] = InProcessNetwork(spec, ports)

    def create_node(self, spec: NodeSpec) -> None:
        kind = KINDS.get(spec.kind)
        if kind is None:
            raise BackendError(
                f"{spec.node}: the {self.name} backend cannot run {spec.kind.value} nodes"
            )
        lab = self._lab(spec.lab)
        with self._guard(spec.lab):
            if spec.node in lab.nodes:
                raise BackendError(f"node {spec.node} exists")
            ports: dict[str, MemPort] = {}
            for a in spec.attachments:
                network = lab.networks.get(a.network)
                port = None if network is None else network.ports.get(IfRef(spec.node, a.iface))
                if port is None:
                    raise BackendError(f"{spec.node}:{a.iface}: no network {a.network}")
                ports[a.iface] = port
            lab.nodes[spec.node] = self._make_node(spec, kind, ports)

    # ---- node actions (Docker's state table, .actions) -----------------------------------
    def start_node(self, lab: str, node: str) -> None:
        with self._guard(lab):
            found = self._node(lab, node)
            state = found.state
            transition(node, "start", state)
            if state == "created":
                self._boot(found)
            elif state == "exited":
                self._respawn(found)
            found.state = "running"

    def kill_node(self, lab: str, node: str) -> None:
        self._halt_action(lab, node, "kill", grace=0.0)

    def stop_node(self, lab: str, node: str) -> None:
        self._halt_action(lab, node, "stop", grace=self.stop_grace)

    def restart_node(self, lab: str, node: str) -> None:
        with self._guard(lab):
            found = self._node(lab, node)
            transition(node, "restart", found.state)
            if found.state == "created":
                self._boot(found)
            else:
                if found.state != "exited":
                    self._halt(found, grace=self.stop_grace)
                self._respawn(found)
            found.state = "running"

    def pause_node(self, lab: str, node: str) -> None:
        with self._guard(lab):
            found = self._node(lab, node)
            transition(node, "pause", found.state)
            self._pause(found)
            found.state = "paused"

    def unpause_node(self, lab: str, node: str) -> None:
        with self._guard(lab):
            found = self._node(lab, node)
            transition(node, "unpause", found.state)
            self._unpause(found)
            found.state = "running"

    def _halt_action(self, lab: str, node: str, action: str, *, grace: float) -> None:
        with self._guard(lab):
            found = self._node(lab, node)
            after = transition(node, action, found.state)
            if found.state in ("created", "running", "paused"):
                self._halt(found, grace=grace)
            found.state = after

    def _respawn(self, found: NodeT) -> None:
        """A fresh runtime and agent on the node's ports: frames that waited are lost, as
        a stopped container's veth takes them with it."""
        for port in found.ports.values():
            while port.recv_batch(1024):
                pass
        self._renew(found)

    def agent_address(self, lab: str, node: str) -> str:
        return self._node(lab, node).agent_address

    def node_state(self, lab: str, node: str) -> str:
        with self._mutex:
            found_lab = self._labs.get(lab)
        found = None if found_lab is None else found_lab.nodes.get(node)
        return "missing" if found is None else found.state

    def logs(self, lab: str, node: str, *, tail: int = 20) -> str:
        return ""  # in-process nodes log through this process's logging

    def exec(self, lab: str, node: str, argv: Sequence[str], *, timeout: float) -> ExecResult:
        raise BackendError(f"{node}: {self.describe} run in-process and have no shell")

    def netns_exec(self, lab: str, node: str, argv: Sequence[str], *, timeout: float) -> ExecResult:
        raise BackendError(f"{node}: {self.describe} have no network namespace of their own")

    def remove_node(self, lab: str, node: str) -> None:
        found_lab = self._lab(lab)
        with self._guard(lab):
            found = found_lab.nodes.pop(node, None)
            if found is not None:
                if found.state != "exited":  # an exited node's runtime is closed already
                    with contextlib.suppress(BackendError):  # a stuck loop: a daemon thread
                        self._halt(found, grace=REMOVE_GRACE)
                found.state = "removed"
                self._dropped(found_lab, found)
        self._prune(lab)

    def remove_network(self, lab: str, name: str) -> None:
        found_lab = self._lab(lab)
        with self._guard(lab):
            network = found_lab.networks.pop(name, None)
            if network is not None:
                for port in network.ports.values():
                    port.close()
        self._prune(lab)

    def remove_lab_files(self, lab: str) -> None:
        return None  # in-process nodes keep nothing on the host

    # ---- discovery -----------------------------------------------------------------------
    def find(self, lab: str) -> LabObjects:
        with self._mutex:
            found = self._labs.get(lab)
            if found is None:
                return LabObjects(lab)
            nodes = [(n.spec, n.state, n.agent_address) for n in found.nodes.values()]
            networks = [n.spec for n in found.networks.values()]
        return lab_objects(lab, nodes, networks, self.name)

    def lab_names(self) -> list[str]:
        with self._mutex:
            return sorted(n for n, lab in self._labs.items() if lab.nodes or lab.networks)

    def close(self) -> None:
        """Remove every lab (the process is going away)."""
        for lab in self.lab_names():
            found = self._lab(lab)
            for node in list(found.nodes):
                self.remove_node(lab, node)
            for network in list(found.networks):
                self.remove_network(lab, network)
