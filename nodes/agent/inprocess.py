"""A whole lab in one process: one real-time node (runtime + event loop thread + agent
gRPC server on 127.0.0.1) per host and router, joined by in-memory links
(:mod:`nodes.io.memport`). The agents behave as in containers, minus the raw sockets, so
tests (and the orchestrator's in-process backend) drive them over gRPC.

    with InProcessLab(topology.load_file("topology/examples/quickstart.yaml")) as lab:
        lab.configure()                    # every node, from the topology
        stub = NodeAgentStub(grpc.insecure_channel(lab.nodes["h1"].address))
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import TracebackType

import grpc
from wirelab.v1 import node_pb2_grpc

from nodes.agent.config import Kind, NodeConfig
from nodes.agent.errors import ArgumentError
from nodes.agent.fromtopo import configure_requests
from nodes.agent.runtime import AttachedPort, NodeRuntime, PortFactory
from nodes.agent.server import AgentServer, start
from nodes.io.memport import MemPort, MemPortCounters, connect
from topology import Lab, NodeKind

_KINDS = {NodeKind.HOST: Kind.HOST, NodeKind.ROUTER: Kind.ROUTER}


class _Borrowed:
    """A MemPort the runtime uses but does not own (the lab closes it)."""

    def __init__(self, port: MemPort) -> None:
        self.port = port
        self.fileno = port.fileno
        self.recv_batch = port.recv_batch
        self.send = port.send

    @property
    def counters(self) -> MemPortCounters:
        return self.port.counters

    def close(self) -> None:
        pass


def mac_for(node: str, iface: str) -> bytes:
    """A locally administered MAC for an interface configured without one."""
    return b"\x02" + hashlib.sha256(f"{node}/{iface}".encode()).digest()[:5]


def memport_factory(ports: Mapping[str, MemPort]) -> PortFactory:
    """Ports for a runtime: the in-memory port of each configured interface, by name."""

    def factory(config: NodeConfig) -> dict[str, AttachedPort]:
        out = {}
        for i, spec in enumerate(config.interfaces):
            port = ports.get(spec.name)
            if port is None:
                have = ", ".join(sorted(ports)) or "none"
                raise ArgumentError(
                    f"interfaces[{i}].name", f"no in-process port {spec.name!r} (have {have})"
                )
            mac = spec.mac or mac_for(config.name, spec.name)
            out[spec.name] = AttachedPort(_Borrowed(port), f"mem:{port.name}", mac)
        return out

    return factory


@dataclass(eq=False)
class InProcessNode:
    name: str
    runtime: NodeRuntime
    server: AgentServer
    thread: threading.Thread
    ports: dict[str, MemPort] = field(default_factory=dict)

    @property
    def address(self) -> str:
        return self.server.address

    def stub(self) -> tuple[grpc.Channel, node_pb2_grpc.NodeAgentStub]:
        channel = grpc.insecure_channel(self.address)
        return channel, node_pb2_grpc.NodeAgentStub(channel)


class InProcessLab:
    def __init__(self, lab: Lab, *, bind: str = "127.0.0.1") -> None:
        self.lab = lab
        self.nodes: dict[str, InProcessNode] = {}
        ports: dict[str, dict[str, MemPort]] = {}
        for segment in lab.segments:
            made = [MemPort(f"{m.node}:{m.iface}") for m in segment.members]
            if len(made) >= 2:
                connect(*made)
            for ref, port in zip(segment.members, made, strict=True):
                ports.setdefault(ref.node, {})[ref.iface] = port
        self._all_ports = [p for by_iface in ports.values() for p in by_iface.values()]
        try:
            for node in lab.nodes:
                kind = _KINDS.get(node.kind)
                if kind is None:
                    continue  # a linux node: its ports stay unread (frames to it are lost)
                node_ports = ports.get(node.name, {})
                runtime = NodeRuntime(memport_factory(node_ports), name=node.name, kind=kind)
                server = start(runtime, f"{bind}:0")
                thread = threading.Thread(target=runtime.run, name=f"node-{node.name}",
                                          daemon=True)  # fmt: skip
                thread.start()
                self.nodes[node.name] = InProcessNode(node.name, runtime, server, thread,
                                                      node_ports)  # fmt: skip
        except BaseException:
            self.close()
            raise

    def configure(self, *, seed: int | None = 1, timeout: float = 10.0) -> None:
        """Configure every node from the topology (over gRPC, like the orchestrator)."""
        for name, request in configure_requests(self.lab, seed=seed).items():
            channel, stub = self.nodes[name].stub()
            with channel:
                stub.Configure(request, timeout=timeout)

    def close(self, timeout: float = 5.0) -> None:
        """Stop every server and loop, join the threads, close the links."""
        for node in self.nodes.values():
            node.server.stop(grace=0.2)
        for node in self.nodes.values():
            node.runtime.stop()
        for node in self.nodes.values():
            node.thread.join(timeout)
        for port in self._all_ports:
            port.close()

    def __enter__(self) -> InProcessLab:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
