"""What the lab service holds for one deployed lab: a :class:`LabRuntime` (agent stubs per
node, shells, node actions, destroy) over either a deploy :class:`LabHandle` (docker and
sim backends) or, while the sim backend is not available, an in-process lab
(:class:`InProcessRuntime`). Plus the service's typed errors (gRPC status + field).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from typing import Protocol

import grpc
from wirelab.v1 import node_pb2, node_pb2_grpc

from nodes.agent.config import Kind
from nodes.agent.fromtopo import configure_requests
from nodes.agent.inprocess import InProcessLab, InProcessNode, memport_factory
from nodes.agent.runtime import NodeRuntime
from nodes.agent.server import start as start_agent
from orchestrator.backend.agentclient import open_channel
from orchestrator.backend.base import AgentClient, Backend, ExecResult, Health
from orchestrator.handle import LabHandle
from topology import Lab, NodeKind

NODE_ACTIONS = ("kill", "stop", "start", "restart", "pause", "unpause")
CONFIGURE_TIMEOUT = 10.0
AGENT_BACK = 60.0  # a restarted node's agent answers again


# ---- errors ---------------------------------------------------------------------------


class ServiceError(Exception):
    """A request the service refuses: a gRPC status and a message naming the field."""

    code = grpc.StatusCode.INTERNAL

    def __init__(self, message: str, field: str = "") -> None:
        self.field = field
        super().__init__(f"{field}: {message}" if field else message)


class InvalidArgument(ServiceError):
    code = grpc.StatusCode.INVALID_ARGUMENT


class NotFound(ServiceError):
    code = grpc.StatusCode.NOT_FOUND


class FailedPrecondition(ServiceError):
    code = grpc.StatusCode.FAILED_PRECONDITION


class AlreadyExists(ServiceError):
    code = grpc.StatusCode.ALREADY_EXISTS


class Unavailable(ServiceError):
    code = grpc.StatusCode.UNAVAILABLE


def from_rpc_error(exc: grpc.RpcError, field: str = "", node: str = "") -> ServiceError:
    """An agent's error, re-raised by the service (same code; field prefix added)."""
    code = exc.code() if isinstance(exc, grpc.Call) else grpc.StatusCode.UNKNOWN
    details = (exc.details() if isinstance(exc, grpc.Call) else str(exc)) or code.name
    where = f"node {node}: " if node else ""
    for cls in (InvalidArgument, NotFound, FailedPrecondition, AlreadyExists, Unavailable):
        if cls.code == code:
            return cls(where + details, field)
    if code == grpc.StatusCode.DEADLINE_EXCEEDED:
        return Unavailable(f"{where}no answer in time ({details})", field)
    err = ServiceError(f"{where}{code.name}: {details}", field)
    return err


# ---- runtimes -------------------------------------------------------------------------


class LabRuntime(Protocol):
    """One deployed lab as the service drives it."""

    lab: Lab
    backend_name: str

    def agent(self, node: str) -> node_pb2_grpc.NodeAgentStub: ...
    def agent_address(self, node: str) -> str: ...
    def exec(self, node: str, argv: Sequence[str], *, timeout: float) -> ExecResult: ...
    def node_action(self, node: str, action: str) -> str: ...
    def node_state(self, node: str) -> str: ...
    def destroy(self) -> None: ...
    def close(self) -> None: ...


class _Channels:
    """gRPC channels to node agents, reopened when a node's address changes."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._open: dict[str, tuple[str, grpc.Channel]] = {}

    def stub(self, node: str, address: str) -> node_pb2_grpc.NodeAgentStub:
        with self._lock:
            known = self._open.get(node)
            if known is None or known[0] != address:
                if known is not None:
                    known[1].close()
                known = self._open[node] = (address, open_channel(address))
            return node_pb2_grpc.NodeAgentStub(known[1])

    def close(self) -> None:
        with self._lock:
            channels, self._open = [c for _, c in self._open.values()], {}
        for channel in channels:
            channel.close()


def _check_action(action: str) -> None:
    if action not in NODE_ACTIONS:
        raise InvalidArgument(f"unknown action {action!r}; allowed: {', '.join(NODE_ACTIONS)}")


class HandleRuntime:
    """A lab deployed by :func:`orchestrator.deploy.deploy` on a backend."""

    def __init__(self, handle: LabHandle, *, seed: int = 1) -> None:
        self.handle = handle
        self.seed = seed
        self.lab = handle.lab
        self.backend: Backend = handle.backend
        self.backend_name = handle.backend.name
        self._addresses = dict(handle.agent_addresses)
        self._channels = _Channels()

    def agent_address(self, node: str) -> str:
        address = self._addresses.get(node)
        if address is None:
            if self.lab.node(node).kind is NodeKind.LINUX:
                raise FailedPrecondition(f"{node} is a linux node: it runs no agent", "node")
            raise Unavailable(f"no agent address for {node}", "node")
        return address

    def agent(self, node: str) -> node_pb2_grpc.NodeAgentStub:
        return self._channels.stub(node, self.agent_address(node))

    def exec(self, node: str, argv: Sequence[str], *, timeout: float) -> ExecResult:
        return self.backend.exec(self.lab.name, node, argv, timeout=timeout)

    def node_action(self, node: str, action: str) -> str:
        _check_action(action)
        method = getattr(self.backend, f"{action}_node", None)
        if method is None:
            raise FailedPrecondition(
                f"the {self.backend_name} backend cannot {action} nodes", "action"
            )
        method(self.lab.name, node)
        if action in ("start", "restart") and node in self._addresses:
            self._addresses[node] = self.backend.agent_address(self.lab.name, node)
            request = configure_requests(self.lab, seed=self.seed).get(node)
            if request is not None:
                agents = self.backend.agents()
                try:
                    _configure_again(agents, self._addresses[node], request)
                finally:
                    agents.close()
        return self.node_state(node)

    def node_state(self, node: str) -> str:
        return self.backend.node_state(self.lab.name, node)

    def destroy(self) -> None:
        from orchestrator.deploy import destroy

        self.close()
        destroy(self.lab.name, self.backend)

    def close(self) -> None:
        self._channels.close()
        self.handle.close()


def _configure_again(agents: AgentClient, address: str, request: node_pb2.ConfigureRequest) -> None:
    """After a (re)start: configure the node's fresh agent (unless it already is)."""
    deadline = time.monotonic() + AGENT_BACK
    while time.monotonic() < deadline:
        state = agents.health(address, timeout=1.0)
        if state is Health.SERVING:
            return
        if state is Health.NOT_SERVING:
            agents.configure(address, request, timeout=CONFIGURE_TIMEOUT)
            return
        time.sleep(0.05)
    raise Unavailable(f"the agent at {address} did not come back", "node")


class InProcessRuntime:
    """Every host and router in this process (nodes.agent.inprocess); linux nodes are
    not available. Node actions replace or block the node's runtime: stop/kill end its
    loop and agent, start builds a fresh one on the same in-memory links and configures
    it, pause blocks its event loop until unpause."""

    backend_name = "sim"

    def __init__(self, lab: Lab, *, seed: int = 1) -> None:
        linux = [n.name for n in lab.nodes if n.kind is NodeKind.LINUX]
        if linux:
            raise FailedPrecondition(
                f"the sim backend runs no linux nodes ({', '.join(linux)}): use --backend docker",
                "backend",
            )
        self.lab = lab
        self.seed = seed
        self.inproc = InProcessLab(lab)
        self._channels = _Channels()
        self._states = {n: "running" for n in self.inproc.nodes}
        self._paused: dict[str, threading.Event] = {}
        self._lock = threading.Lock()
        try:
            self.inproc.configure(seed=seed, timeout=CONFIGURE_TIMEOUT)
        except BaseException:
            self.inproc.close()
            raise

    def _node(self, node: str) -> InProcessNode:
        found = self.inproc.nodes.get(node)
        if found is None:
            raise NotFound(f"lab {self.lab.name} has no node {node!r}", "node")
        return found

    def agent_address(self, node: str) -> str:
        return self._node(node).address

    def agent(self, node: str) -> node_pb2_grpc.NodeAgentStub:
        return self._channels.stub(node, self.agent_address(node))

    def exec(self, node: str, argv: Sequence[str], *, timeout: float) -> ExecResult:
        raise FailedPrecondition("the sim backend has no shells (exec needs docker)", "node")

    def node_state(self, node: str) -> str:
        self._node(node)
        return self._states[node]

    def node_action(self, node: str, action: str) -> str:
        _check_action(action)
        with self._lock:
            n = self._node(node)
            state = self._states[node]
            if action == "pause":
                if state == "running":
                    gate = self._paused[node] = threading.Event()
                    n.runtime.call(lambda s: gate.wait(), "pause")
                    state = "paused"
            elif action == "unpause":
                gate_set = self._paused.pop(node, None)
                if gate_set is not None:
                    gate_set.set()
                    state = "running"
            elif action in ("kill", "stop"):
                self._halt(n)
                state = "exited"
            elif action == "start":
                if state == "exited":
                    self._start(n)
                state = "running"
            else:  # restart
                self._halt(n)
                self._start(n)
                state = "running"
            self._states[node] = state
            return state

    def _halt(self, n: InProcessNode) -> None:
        gate = self._paused.pop(n.name, None)
        if gate is not None:
            gate.set()
        if self._states[n.name] == "exited":
            return
        n.server.stop(grace=0)
        n.runtime.stop()
        n.thread.join(5.0)

    def _start(self, n: InProcessNode) -> None:
        kind = Kind.ROUTER if self.lab.node(n.name).kind is NodeKind.ROUTER else Kind.HOST
        runtime = NodeRuntime(memport_factory(n.ports), name=n.name, kind=kind)
        server = start_agent(runtime, "127.0.0.1:0")
        thread = threading.Thread(target=runtime.run, name=f"node-{n.name}", daemon=True)
        thread.start()
        n.runtime, n.server, n.thread = runtime, server, thread
        request = configure_requests(self.lab, seed=self.seed)[n.name]
        with open_channel(n.address) as channel:
            node_pb2_grpc.NodeAgentStub(channel).Configure(request, timeout=CONFIGURE_TIMEOUT)

    def destroy(self) -> None:
        self.close()

    def close(self) -> None:
        self._channels.close()
        for gate in self._paused.values():
            gate.set()
        self._paused.clear()
        self.inproc.close()
