"""A whole lab in one process for the node agent's tests: one real-time node (runtime +
event loop thread + agent gRPC server on 127.0.0.1) per host and router, joined by
in-memory links. The agents behave as in containers, minus the raw sockets, so tests drive
them over gRPC with the NodeAgent's own messages.

    with InProcessLab(topology.load_file("topology/examples/quickstart.yaml")) as lab:
        lab.configure()                    # every node, from the topology
        stub = NodeAgentStub(grpc.insecure_channel(lab.nodes["h1"].address))
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from types import TracebackType

import grpc
from wirelab.v1 import node_pb2_grpc

from nodes.agent.config import Kind
from nodes.agent.inprocess import memport_factory
from nodes.agent.runtime import NodeRuntime
from nodes.agent.server import AgentServer, start
from nodes.io.memport import MemPort, connect
from orchestrator.wire.agent import configure_request, node_seeds
from topology import Lab, NodeKind

_KINDS = {NodeKind.HOST: Kind.HOST, NodeKind.ROUTER: Kind.ROUTER}


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
        for name, node_seed in node_seeds(self.lab, seed).items():
            request = configure_request(self.lab, self.lab.node(name), seed=node_seed)
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
