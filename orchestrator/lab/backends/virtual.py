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

from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import cast

import grpc

from nodes.agent.config import Kind
from nodes.agent.inprocess import memport_factory
from nodes.agent.runtime import NodeRuntime
from nodes.agent.server import register
from nodes.apps.ref import CODE_DIR
from nodes.io.memport import MemPort
from nodes.io.world import World
from orchestrator.lab.backends.base import NodeSpec
from orchestrator.lab.backends.inprocess import (
    KINDS,
    InProcessBackend,
    InProcessLab,
    InProcessNode,
)
from orchestrator.lab.clock import LabClock, VirtualClock
from orchestrator.wire.agent import AgentPool
from orchestrator.wire.inprocess import InProcessServer

SCHEME = "virtual:"


def address_of(lab: str, node: str, generation: int = 1) -> str:
    """A virtual node's agent address (``virtual:<lab>/<node>``; ``#<n>`` after restarts)."""
    base = f"{SCHEME}{lab}/{node}"
    return base if generation == 1 else f"{base}#{generation}"


@dataclass(eq=False)
class _Node(InProcessNode):
    spec: NodeSpec
    ports: dict[str, MemPort]
    world: World
    runtime: NodeRuntime
    server: InProcessServer
    address: str
    generation: int = 1
    state: str = "created"

    @property
    def agent_address(self) -> str:
        return self.address


@dataclass(eq=False, kw_only=True)
class _Lab(InProcessLab[_Node]):
    world: World


class VirtualBackend(InProcessBackend[_Node, _Lab]):
    name = "virtual"
    describe = "virtual nodes"
    linux_refusal = (
        "the virtual backend runs only host and router nodes (our stack, in virtual time; "
        "the kernel's runs in real time)"
    )
    evented_ports = False  # a frame marks its receiver ready for a turn in the world

    def __init__(self) -> None:
        super().__init__()
        self._servers: dict[str, InProcessServer] = {}  # agent address -> server

    def world(self, lab: str) -> World:
        """The lab's world (made with the lab's first object)."""
        return self._lab(lab).world

    # ---- the in-process backend's hooks --------------------------------------------------
    def _new_lab(self, lab: str) -> _Lab:
        return _Lab(world=World(lab))

    def _guard(self, lab: str) -> AbstractContextManager[object]:
        return self._lab(lab).world.lock

    def _make_node(self, spec: NodeSpec, kind: Kind, ports: dict[str, MemPort]) -> _Node:
        world = self._lab(spec.lab).world
        for port in ports.values():  # a frame for this node makes it take a turn
            port.on_frame = _marker(world, spec.node)
        address = address_of(spec.lab, spec.node)
        runtime, server = self._spawn(world, spec, kind, ports, address)
        return _Node(spec, ports, world, runtime, server, address)

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

    def _renew(self, found: _Node) -> None:
        found.generation += 1
        found.address = address_of(found.spec.lab, found.spec.node, found.generation)
        kind = KINDS[found.spec.kind]
        found.runtime, found.server = self._spawn(
            found.world, found.spec, kind, found.ports, found.address
        )

    def _pause(self, found: _Node) -> None:
        found.world.pause(found.spec.node)

    def _unpause(self, found: _Node) -> None:
        found.world.unpause(found.spec.node)

    def _halt(self, found: _Node, *, grace: float) -> None:
        """The node leaves the world; its agent stops answering."""
        found.world.unpause(found.spec.node)
        found.server.stop()
        found.runtime.stop()

    def _dropped(self, lab: _Lab, found: _Node | None) -> None:
        if found is None:
            lab.world.cancel_timers()
            return
        with self._mutex:
            for address in [a for a, s in self._servers.items() if s is found.server]:
                del self._servers[address]

    # ---- what a running lab's service needs ----------------------------------------------
    def agents(self) -> AgentPool:
        return AgentPool(self.channel)

    def channel(self, address: str) -> grpc.Channel:
        with self._mutex:
            server = self._servers.get(address)
        if server is None:
            server = InProcessServer(address)
            server.stop()  # nobody there: UNAVAILABLE
        return cast(grpc.Channel, server.channel())

    def clock(self, lab: str) -> LabClock:
        return VirtualClock(self.world(lab))


def _marker(world: World, node: str) -> Callable[[], None]:
    def mark() -> None:
        world.mark(node)

    return mark
