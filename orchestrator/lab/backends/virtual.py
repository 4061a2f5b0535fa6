"""The virtual backend: every node of a lab in this process, in virtual time.

The same topology YAML as on docker or sim, the same stacks and node agents, but one
:class:`~nodes.io.world.World` per lab drives them all: no threads, no sockets, no wall
clock. Each host and router is a :class:`~nodes.agent.runtime.NodeRuntime` seated in the
lab's world (its runner driven turn by turn), each link or LAN a set of driven in-memory
ports (:mod:`nodes.io.memport`, ``evented=False``: a frame marks its receiver ready), and
each agent's servicer is registered on an in-process gRPC server
(:mod:`orchestrator.wire.inprocess`) that the lab service calls in its own thread, at
``virtual:<lab>/<node>`` (a restarted node's agent gets a new address).

Time passes only while someone waits for something in the lab (a ping, a traceroute, a
transfer, a timed capture, ``wirelab wait``), and then as fast as the CPU allows; the
fault timeline and fault deadlines are the world's timers (:class:`~orchestrator.lab.clock.
VirtualClock`). So the same YAML, seed and operations give the same frames, bit for bit.

Node actions follow Docker's state table (:mod:`.actions`):

- ``kill`` / ``stop``: the node leaves the world and its agent stops answering
  (UNAVAILABLE). Its ports stay on the links: frames sent to it meanwhile wait in its
  inbox up to the queue limit (more are dropped and counted by the sender) and are thrown
  away when it starts again.
- ``start`` / ``restart``: a fresh runtime and agent on the same ports; it comes up
  unconfigured and the lab service configures it again (it forgets ARP, connections, faults).
- ``pause``: the node takes no turns (its timers wait, frames queue in its inbox up to the
  limit) and its agent refuses calls that need the stack (FAILED_PRECONDITION);
  ``unpause``: queued frames are read and overdue timers fire at once.

Linux-kind nodes need a kernel: they are refused, by name.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from ipaddress import IPv4Network
from typing import cast

import grpc

from nodes.agent.config import Kind
from nodes.agent.inprocess import memport_factory
from nodes.agent.runtime import NodeRuntime
from nodes.agent.server import register
from nodes.apps.ref import CODE_DIR
from nodes.io.memport import MemPort, connect
from nodes.io.world import World
from orchestrator.domain.results import ExecResult
from orchestrator.lab.backends.actions import transition
from orchestrator.lab.backends.base import (
    AgentSocket,
    BackendError,
    LabObjects,
    NetworkSpec,
    NodeSpec,
)
from orchestrator.lab.backends.inprocess import lab_objects, refuse_linux
from orchestrator.lab.clock import LabClock, VirtualClock
from orchestrator.wire.agent import AgentPool
from orchestrator.wire.inprocess import InProcessServer
from topology import IfRef, Lab, NodeKind

_KINDS = {NodeKind.HOST: Kind.HOST, NodeKind.ROUTER: Kind.ROUTER}
SCHEME = "virtual:"


def address_of(lab: str, node: str, generation: int = 1) -> str:
    """A virtual node's agent address (``virtual:<lab>/<node>``; ``#<n>`` after restarts)."""
    base = f"{SCHEME}{lab}/{node}"
    return base if generation == 1 else f"{base}#{generation}"


@dataclass(eq=False)
class _Network:
    spec: NetworkSpec
    ports: dict[IfRef, MemPort]


@dataclass(eq=False)
class _Node:
    spec: NodeSpec
    ports: dict[str, MemPort]
    runtime: NodeRuntime
    server: InProcessServer
    address: str
    generation: int = 1
    state: str = "created"


@dataclass(eq=False)
class _Lab:
    world: World
    networks: dict[str, _Network] = field(default_factory=dict)
    nodes: dict[str, _Node] = field(default_factory=dict)


class VirtualBackend:
    name = "virtual"

    def __init__(self) -> None:
        self._labs: dict[str, _Lab] = {}
        self._servers: dict[str, InProcessServer] = {}  # agent address -> server
        self._mutex = threading.RLock()  # the registry
        self._lab_locks: dict[str, threading.RLock] = {}

    def _lab(self, lab: str) -> _Lab:
        with self._mutex:
            found = self._labs.get(lab)
            if found is None:
                found = self._labs[lab] = _Lab(World(lab))
            return found

    def world(self, lab: str) -> World:
        """The lab's world (made with the lab's first object)."""
        return self._lab(lab).world

    def _node(self, lab: str, node: str) -> _Node:
        found = self._lab(lab).nodes.get(node)
        if found is None:
            raise BackendError(f"lab {lab} has no node {node}")
        return found

    def _prune(self, lab: str) -> None:
        with self._mutex:
            found = self._labs.get(lab)
            if found is not None and not found.nodes and not found.networks:
                found.world.cancel_timers()
                del self._labs[lab]

    # ---- planning ----------------------------------------------------------------------
    def check(self, lab: Lab) -> None:
        refuse_linux(
            lab, "the virtual backend runs only host and router nodes (our stack, in virtual "
            "time; the kernel's runs in real time)",
        )  # fmt: skip

    def image(self) -> str:
        return ""

    def agent_socket(self, lab: str, node: str) -> AgentSocket | None:
        return None

    def management_subnet(self, lab: Lab, hosts: int) -> IPv4Network | None:
        return None  # agents are called in this process

    @contextlib.contextmanager
    def lock(self, lab: str) -> Iterator[object]:
        with self._mutex:
            lock = self._lab_locks.setdefault(lab, threading.RLock())
        with lock:
            yield None

    # ---- objects -----------------------------------------------------------------------
    def create_network(self, spec: NetworkSpec) -> None:
        lab = self._lab(spec.lab)
        with lab.world.lock:
            if spec.name in lab.networks:
                raise BackendError(f"network {spec.name} exists")
            ports = {ref: MemPort(str(ref), evented=False) for ref in spec.members}
            if len(ports) >= 2:
                connect(*ports.values())
            lab.networks[spec.name] = _Network(spec, ports)

    def create_node(self, spec: NodeSpec) -> None:
        kind = _KINDS.get(spec.kind)
        if kind is None:
            raise BackendError(
                f"{spec.node}: the virtual backend cannot run {spec.kind.value} nodes"
            )
        lab = self._lab(spec.lab)
        with lab.world.lock:
            if spec.node in lab.nodes:
                raise BackendError(f"node {spec.node} exists")
            ports: dict[str, MemPort] = {}
            for a in spec.attachments:
                network = lab.networks.get(a.network)
                port = None if network is None else network.ports.get(IfRef(spec.node, a.iface))
                if port is None:
                    raise BackendError(f"{spec.node}:{a.iface}: no network {a.network}")
                ports[a.iface] = port
            world = lab.world
            for port in ports.values():  # a frame for this node makes it take a turn
                port.on_frame = _marker(world, spec.node)
            address = address_of(spec.lab, spec.node)
            runtime, server = self._spawn(world, spec, kind, ports, address)
            lab.nodes[spec.node] = _Node(spec, ports, runtime, server, address)

    def _spawn(
        self, world: World, spec: NodeSpec, kind: Kind, ports: dict[str, MemPort], address: str
    ) -> tuple[NodeRuntime, InProcessServer]:
        """A node's runtime (seated in the world once configured) and its agent's server."""
        code = tuple(m.source for m in spec.mounts if m.target == CODE_DIR)  # user apps' code
        runtime = NodeRuntime(
            memport_factory(ports), name=spec.node, kind=kind, clock=world.now,
            seat=world.seat(spec.node), wall=world.now, code_paths=code or (CODE_DIR,),
        )  # fmt: skip
        server = InProcessServer(f"the agent of {spec.node}")
        register(runtime, server)
        with self._mutex:
            self._servers[address] = server
        return runtime, server

    # ---- node actions ------------------------------------------------------------------
    def start_node(self, lab: str, node: str) -> None:
        with self._lab(lab).world.lock:
            found = self._node(lab, node)
            state = found.state
            transition(node, "start", state)
            if state == "exited":
                self._respawn(lab, found)
            found.state = "running"

    def kill_node(self, lab: str, node: str) -> None:
        self._halt_action(lab, node, "kill")

    def stop_node(self, lab: str, node: str) -> None:
        self._halt_action(lab, node, "stop")

    def restart_node(self, lab: str, node: str) -> None:
        with self._lab(lab).world.lock:
            found = self._node(lab, node)
            transition(node, "restart", found.state)
            if found.state != "created":
                if found.state != "exited":
                    self._halt(lab, found)
                self._respawn(lab, found)
            found.state = "running"

    def pause_node(self, lab: str, node: str) -> None:
        world = self._lab(lab).world
        with world.lock:
            found = self._node(lab, node)
            transition(node, "pause", found.state)
            world.pause(node)
            found.state = "paused"

    def unpause_node(self, lab: str, node: str) -> None:
        world = self._lab(lab).world
        with world.lock:
            found = self._node(lab, node)
            transition(node, "unpause", found.state)
            world.unpause(node)
            found.state = "running"

    def _halt_action(self, lab: str, node: str, action: str) -> None:
        with self._lab(lab).world.lock:
            found = self._node(lab, node)
            after = transition(node, action, found.state)
            if found.state in ("running", "paused", "created"):
                self._halt(lab, found)
            found.state = after

    def _halt(self, lab: str, found: _Node) -> None:
        """The node leaves the world; its agent stops answering."""
        world = self._lab(lab).world
        world.unpause(found.spec.node)
        found.server.stop()
        found.runtime.stop()

    def _respawn(self, lab: str, found: _Node) -> None:
        """A fresh runtime and agent on the node's ports (frames that waited are lost)."""
        for port in found.ports.values():
            while port.recv_batch(1024):
                pass
        found.generation += 1
        found.address = address_of(lab, found.spec.node, found.generation)
        kind = _KINDS[found.spec.kind]
        world = self._lab(lab).world
        found.runtime, found.server = self._spawn(
            world, found.spec, kind, found.ports, found.address
        )

    def agent_address(self, lab: str, node: str) -> str:
        return self._node(lab, node).address

    def node_state(self, lab: str, node: str) -> str:
        with self._mutex:
            found_lab = self._labs.get(lab)
        found = None if found_lab is None else found_lab.nodes.get(node)
        return "missing" if found is None else found.state

    def logs(self, lab: str, node: str, *, tail: int = 20) -> str:
        return ""  # in-process nodes log through this process's logging

    def exec(self, lab: str, node: str, argv: Sequence[str], *, timeout: float) -> ExecResult:
        raise BackendError(f"{node}: virtual nodes run in-process and have no shell")

    def netns_exec(self, lab: str, node: str, argv: Sequence[str], *, timeout: float) -> ExecResult:
        raise BackendError(f"{node}: virtual nodes have no namespace of their own")

    def remove_node(self, lab: str, node: str) -> None:
        found_lab = self._lab(lab)
        with found_lab.world.lock:
            found = found_lab.nodes.pop(node, None)
            if found is not None:
                if found.state != "exited":
                    self._halt(lab, found)
                found.state = "removed"
                with self._mutex:
                    for address in [a for a, s in self._servers.items() if s is found.server]:
                        del self._servers[address]
        self._prune(lab)

    def remove_network(self, lab: str, name: str) -> None:
        found_lab = self._lab(lab)
        with found_lab.world.lock:
            network = found_lab.networks.pop(name, None)
            if network is not None:
                for port in network.ports.values():
                    port.close()
        self._prune(lab)

    def remove_lab_files(self, lab: str) -> None:
        return None

    # ---- discovery ---------------------------------------------------------------------
    def find(self, lab: str) -> LabObjects:
        with self._mutex:
            found = self._labs.get(lab)
            if found is None:
                return LabObjects(lab)
            nodes = [(n.spec, n.state, n.address) for n in found.nodes.values()]
            networks = [n.spec for n in found.networks.values()]
        return lab_objects(lab, nodes, networks, "virtual")

    def lab_names(self) -> list[str]:
        with self._mutex:
            return sorted(n for n, lab in self._labs.items() if lab.nodes or lab.networks)

    def agents(self) -> AgentPool:
        return AgentPool(self.channel)

    # ---- what a running lab's service needs ----------------------------------------------
    def channel(self, address: str) -> grpc.Channel:
        with self._mutex:
            server = self._servers.get(address)
        if server is None:
            server = InProcessServer(address)
            server.stop()  # nobody there: UNAVAILABLE
        return cast(grpc.Channel, server.channel())

    def clock(self, lab: str) -> LabClock:
        return VirtualClock(self.world(lab))

    def close(self) -> None:
        """Remove every lab (the process is going away)."""
        for lab in self.lab_names():
            found = self._lab(lab)
            for node in list(found.nodes):
                self.remove_node(lab, node)
            for network in list(found.networks):
                self.remove_network(lab, network)


def _marker(world: World, node: str) -> Callable[[], None]:
    def mark() -> None:
        world.mark(node)

    return mark
