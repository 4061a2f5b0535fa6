"""The sim backend: every node of a lab in this process, on the in-memory wire.

Each host and router is a real-time node as in a container (a NodeRuntime with its event
loop on a thread and its agent's gRPC server on 127.0.0.1, nodes/agent/inprocess.py) and
each link or LAN is a set of connected in-memory ports (nodes/io/memport.py). Deploy
drives it exactly like Docker, over gRPC. Labs live as long as this backend object (the
``wirelab serve`` process). Linux-kind nodes need a kernel: they are refused.

Node actions follow Docker's state table (:mod:`.actions`):

- ``kill`` / ``stop``: the node's event loop and its agent's gRPC server end (``stop``
  gives running calls half a second, ``kill`` none). Its ports stay on the links: frames
  sent to it meanwhile wait in its inbox (at most the port's queue limit; more are
  dropped and counted as ``tx_dropped_full`` by the sender) and are thrown away when it
  starts again, as a stopped container's veth takes them with it.
- ``start`` / ``restart``: a fresh runtime and agent (new gRPC port: read
  ``agent_address`` again) on the same ports, from the same plan; like a restarted
  container it comes up unconfigured, and whoever drives it (the lab service) configures
  it again, so it forgets its ARP cache, connections and faults.
- ``pause``: the event loop blocks (the call returns once it does) and keeps every bit of
  state; timers do not fire. Frames arriving meanwhile are queued in the node's inbox up
  to the queue limit and dropped beyond it (a frozen container's socket buffer filling
  up); the agent still answers health checks, but calls that need the stack wait until
  their deadline. ``unpause`` lets the loop run on: queued frames are processed and
  overdue timers fire at once, as in a thawed container.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from ipaddress import IPv4Network

import grpc

from nodes.agent.config import Kind
from nodes.agent.inprocess import memport_factory
from nodes.agent.runtime import NodeRuntime
from nodes.agent.server import AgentServer, start
from nodes.apps.ref import CODE_DIR
from nodes.io.memport import MemPort, connect
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
from orchestrator.lab.clock import LabClock, RealClock
from orchestrator.wire.agent import AgentPool, open_channel
from topology import IfRef, Lab, NodeKind

_KINDS = {NodeKind.HOST: Kind.HOST, NodeKind.ROUTER: Kind.ROUTER}
BIND = "127.0.0.1"
JOIN_TIMEOUT = 5.0
PAUSE_TIMEOUT = 5.0  # the loop reaches the pause gate (it finishes what it is doing)
STOP_GRACE = 0.5  # ``stop``: running agent calls may finish; ``kill``: none


@dataclass(eq=False)
class _SimNetwork:
    spec: NetworkSpec
    ports: dict[IfRef, MemPort]


@dataclass(eq=False)
class _SimNode:
    spec: NodeSpec
    ports: dict[str, MemPort]
    runtime: NodeRuntime
    server: AgentServer
    thread: threading.Thread
    state: str = "created"
    gate: threading.Event | None = None  # set: a paused loop runs on


@dataclass(eq=False)
class _SimLab:
    networks: dict[str, _SimNetwork] = field(default_factory=dict)
    nodes: dict[str, _SimNode] = field(default_factory=dict)


class SimBackend:
    name = "sim"

    def __init__(self, *, bind: str = BIND) -> None:
        self.bind = bind
        self._labs: dict[str, _SimLab] = {}
        self._mutex = threading.Lock()  # the registry
        self._lab_locks: dict[str, threading.RLock] = {}
        self._actions = threading.RLock()  # node actions, one at a time

    def _lab(self, lab: str) -> _SimLab:
        with self._mutex:
            return self._labs.setdefault(lab, _SimLab())

    def _node(self, lab: str, node: str) -> _SimNode:
        found = self._lab(lab).nodes.get(node)
        if found is None:
            raise BackendError(f"lab {lab} has no node {node}")
        return found

    def _prune(self, lab: str) -> None:
        with self._mutex:
            sim = self._labs.get(lab)
            if sim is not None and not sim.nodes and not sim.networks:
                del self._labs[lab]

    # ---- planning ----------------------------------------------------------------------
    def check(self, lab: Lab) -> None:
        refuse_linux(lab, "the sim backend runs only host and router nodes (our stack)")

    def image(self) -> str:
        return ""

    def agent_socket(self, lab: str, node: str) -> AgentSocket | None:
        return None  # agents listen on TCP (below)

    def management_subnet(self, lab: Lab, hosts: int) -> IPv4Network | None:
        return None  # agents listen on 127.0.0.1, each on a port of its own

    @contextlib.contextmanager
    def lock(self, lab: str) -> Iterator[object]:
        with self._mutex:
            lock = self._lab_locks.setdefault(lab, threading.RLock())
        with lock:
            yield None

    # ---- objects -----------------------------------------------------------------------
    def create_network(self, spec: NetworkSpec) -> None:
        sim = self._lab(spec.lab)
        if spec.name in sim.networks:
            raise BackendError(f"network {spec.name} exists")
        ports = {ref: MemPort(str(ref)) for ref in spec.members}
        if len(ports) >= 2:
            connect(*ports.values())
        sim.networks[spec.name] = _SimNetwork(spec, ports)

    def create_node(self, spec: NodeSpec) -> None:
        kind = _KINDS.get(spec.kind)
        if kind is None:
            raise BackendError(f"{spec.node}: the sim backend cannot run {spec.kind.value} nodes")
        sim = self._lab(spec.lab)
        if spec.node in sim.nodes:
            raise BackendError(f"node {spec.node} exists")
        ports: dict[str, MemPort] = {}
        for a in spec.attachments:
            network = sim.networks.get(a.network)
            port = None if network is None else network.ports.get(IfRef(spec.node, a.iface))
            if port is None:
                raise BackendError(f"{spec.node}:{a.iface}: no network {a.network}")
            ports[a.iface] = port
        runtime, server, thread = self._spawn(spec, kind, ports)
        sim.nodes[spec.node] = _SimNode(spec, ports, runtime, server, thread)

    def _spawn(
        self, spec: NodeSpec, kind: Kind, ports: dict[str, MemPort]
    ) -> tuple[NodeRuntime, AgentServer, threading.Thread]:
        """A node's runtime and agent server (serving, not configured) and its loop's
        thread (not started)."""
        code = tuple(m.source for m in spec.mounts if m.target == CODE_DIR)  # user apps' code
        runtime = NodeRuntime(memport_factory(ports), name=spec.node, kind=kind,
                              code_paths=code or (CODE_DIR,))  # fmt: skip
        server = start(runtime, f"{self.bind}:0")
        thread = threading.Thread(
            target=runtime.run, name=f"sim-{spec.lab}-{spec.node}", daemon=True
        )
        return runtime, server, thread

    # ---- node actions ------------------------------------------------------------------
    def start_node(self, lab: str, node: str) -> None:
        with self._actions:
            found = self._node(lab, node)
            state = found.state
            transition(node, "start", state)
            if state == "created":
                found.thread.start()
            elif state == "exited":
                self._respawn(found)
            found.state = "running"

    def kill_node(self, lab: str, node: str) -> None:
        self._halt_action(lab, node, "kill", grace=0.0)

    def stop_node(self, lab: str, node: str) -> None:
        self._halt_action(lab, node, "stop", grace=STOP_GRACE)

    def restart_node(self, lab: str, node: str) -> None:
        with self._actions:
            found = self._node(lab, node)
            transition(node, "restart", found.state)
            if found.state == "created":
                found.thread.start()
            else:
                if found.state != "exited":
                    self._halt(found, grace=STOP_GRACE)
                self._respawn(found)
            found.state = "running"

    def pause_node(self, lab: str, node: str) -> None:
        with self._actions:
            found = self._node(lab, node)
            transition(node, "pause", found.state)
            gate, entered = threading.Event(), threading.Event()

            def hold(_: object) -> None:
                entered.set()
                gate.wait()

            try:
                found.runtime.call(hold, "pause")
            except Exception as exc:  # not configured yet: nothing runs to pause
                raise BackendError(f"cannot pause {node}: {exc}") from None
            found.gate = gate
            if not entered.wait(PAUSE_TIMEOUT):
                gate.set()
                found.gate = None
                raise BackendError(f"cannot pause {node}: its loop is busy for too long")
            found.state = "paused"

    def unpause_node(self, lab: str, node: str) -> None:
        with self._actions:
            found = self._node(lab, node)
            transition(node, "unpause", found.state)
            self._release(found)
            found.state = "running"

    def _halt_action(self, lab: str, node: str, action: str, *, grace: float) -> None:
        with self._actions:
            found = self._node(lab, node)
            after = transition(node, action, found.state)
            if found.state in ("running", "paused"):
                self._halt(found, grace=grace)
            found.state = after

    @staticmethod
    def _release(found: _SimNode) -> None:
        gate, found.gate = found.gate, None
        if gate is not None:
            gate.set()

    def _halt(self, found: _SimNode, *, grace: float) -> None:
        """End the node's agent and loop (paused or not)."""
        self._release(found)
        found.server.stop(grace=grace)
        found.runtime.stop()
        if found.thread.is_alive():
            found.thread.join(JOIN_TIMEOUT)
        if found.thread.is_alive():
            raise BackendError(f"{found.spec.node}: its loop did not end in {JOIN_TIMEOUT} s")

    def _respawn(self, found: _SimNode) -> None:
        """A fresh runtime and agent on the node's ports (frames that waited are lost)."""
        for port in found.ports.values():
            while port.recv_batch(1024):
                pass
        kind = _KINDS[found.spec.kind]
        found.runtime, found.server, found.thread = self._spawn(found.spec, kind, found.ports)
        found.thread.start()

    def agent_address(self, lab: str, node: str) -> str:
        return self._node(lab, node).server.address

    def node_state(self, lab: str, node: str) -> str:
        found = self._lab(lab).nodes.get(node)
        return "missing" if found is None else found.state

    def logs(self, lab: str, node: str, *, tail: int = 20) -> str:
        return ""  # in-process nodes log through this process's logging

    def exec(self, lab: str, node: str, argv: Sequence[str], *, timeout: float) -> ExecResult:
        raise BackendError(f"{node}: sim nodes run in-process and have no shell")

    def netns_exec(self, lab: str, node: str, argv: Sequence[str], *, timeout: float) -> ExecResult:
        raise BackendError(f"{node}: sim nodes run in-process and have no namespace of their own")

    def remove_node(self, lab: str, node: str) -> None:
        sim = self._lab(lab)
        with self._actions:
            found = sim.nodes.pop(node, None)
            if found is not None:
                if found.state != "exited":  # an exited node's runtime is closed already
                    with contextlib.suppress(BackendError):  # a stuck loop: a daemon thread
                        self._halt(found, grace=0.2)
                found.state = "removed"
        self._prune(lab)

    def remove_network(self, lab: str, name: str) -> None:
        sim = self._lab(lab)
        network = sim.networks.pop(name, None)
        if network is not None:
            for port in network.ports.values():
                port.close()
        self._prune(lab)

    def remove_lab_files(self, lab: str) -> None:
        return None  # in-process nodes keep nothing on the host

    # ---- discovery ---------------------------------------------------------------------
    def find(self, lab: str) -> LabObjects:
        with self._mutex:
            sim = self._labs.get(lab)
            if sim is None:
                return LabObjects(lab)
            nodes = [(n.spec, n.state, n.server.address) for n in sim.nodes.values()]
            networks = [n.spec for n in sim.networks.values()]
        return lab_objects(lab, nodes, networks, "sim")

    def lab_names(self) -> list[str]:
        with self._mutex:
            return sorted(name for name, sim in self._labs.items() if sim.nodes or sim.networks)

    def agents(self) -> AgentPool:
        return AgentPool()

    # ---- what a running lab's service needs -------------------------------------------
    def channel(self, address: str) -> grpc.Channel:
        return open_channel(address)

    def clock(self, lab: str) -> LabClock:
        return RealClock(lab)

    def close(self) -> None:
        """Remove every lab (the process is going away)."""
        for lab in self.lab_names():
            sim = self._lab(lab)
            for node in list(sim.nodes):
                self.remove_node(lab, node)
            for network in list(sim.networks):
                self.remove_network(lab, network)
