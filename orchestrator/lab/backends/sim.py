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

import threading
from contextlib import AbstractContextManager
from dataclasses import dataclass

import grpc

from nodes.agent.config import Kind
from nodes.agent.inprocess import memport_factory
from nodes.agent.runtime import NodeRuntime
from nodes.agent.server import AgentServer, start
from nodes.apps.ref import CODE_DIR
from nodes.io.memport import MemPort
from orchestrator.lab.backends.base import BackendError, NodeSpec
from orchestrator.lab.backends.inprocess import (
    KINDS,
    InProcessBackend,
    InProcessLab,
    InProcessNode,
)
from orchestrator.lab.clock import LabClock, RealClock
from orchestrator.wire.agent import AgentPool, open_channel

BIND = "127.0.0.1"
JOIN_TIMEOUT = 5.0
PAUSE_TIMEOUT = 5.0  # the loop reaches the pause gate (it finishes what it is doing)


@dataclass(eq=False)
class _SimNode(InProcessNode):
    spec: NodeSpec
    ports: dict[str, MemPort]
    runtime: NodeRuntime
    server: AgentServer
    thread: threading.Thread
    state: str = "created"
    gate: threading.Event | None = None  # set: a paused loop runs on

    @property
    def agent_address(self) -> str:
        return self.server.address


class SimBackend(InProcessBackend[_SimNode, InProcessLab[_SimNode]]):
    name = "sim"
    describe = "sim nodes"
    linux_refusal = "the sim backend runs only host and router nodes (our stack)"

    def __init__(self, *, bind: str = BIND) -> None:
        super().__init__()
        self.bind = bind
        self._actions = threading.RLock()  # node actions and object changes, one at a time

    # ---- the in-process backend's hooks --------------------------------------------------
    def _new_lab(self, lab: str) -> InProcessLab[_SimNode]:
        return InProcessLab()

    def _guard(self, lab: str) -> AbstractContextManager[object]:
        return self._actions

    def _make_node(self, spec: NodeSpec, kind: Kind, ports: dict[str, MemPort]) -> _SimNode:
        return _SimNode(spec, ports, *self._spawn(spec, kind, ports))

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

    def _boot(self, found: _SimNode) -> None:
        found.thread.start()

    def _renew(self, found: _SimNode) -> None:
        kind = KINDS[found.spec.kind]
        found.runtime, found.server, found.thread = self._spawn(found.spec, kind, found.ports)
        found.thread.start()

    def _pause(self, found: _SimNode) -> None:
        node = found.spec.node
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

    def _unpause(self, found: _SimNode) -> None:
        gate, found.gate = found.gate, None
        if gate is not None:
            gate.set()

    def _halt(self, found: _SimNode, *, grace: float) -> None:
        self._unpause(found)
        found.server.stop(grace=grace)
        found.runtime.stop()
        if found.thread.is_alive():
            found.thread.join(JOIN_TIMEOUT)
        if found.thread.is_alive():
            raise BackendError(f"{found.spec.node}: its loop did not end in {JOIN_TIMEOUT} s")

    # ---- what a running lab's service needs -------------------------------------------
    def agents(self) -> AgentPool:
        return AgentPool()

    def channel(self, address: str) -> grpc.Channel:
        return open_channel(address)

    def clock(self, lab: str) -> LabClock:
        return RealClock(lab)
