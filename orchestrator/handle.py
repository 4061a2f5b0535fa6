"""A deployed lab, as Python: node agents as gRPC stubs, planned addresses, exec.

    handle = deploy(lab, backend)
    reply = handle.agent("h1").Ping(node_pb2.PingRequest(destination=handle.address("h2")))
    handle.exec("lx1", ["ping", "-c1", handle.address("h1")])
    handle.close()          # closes the channels; the lab keeps running (destroy removes it)

Channels are opened on first use and reconnect quickly (see backend/agentclient.py).
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from types import TracebackType
from typing import TYPE_CHECKING

import grpc
from wirelab.v1 import node_pb2_grpc

from orchestrator.backend.agentclient import open_channel
from topology import Interface, Lab, Node, NodeKind

if TYPE_CHECKING:
    from orchestrator.backend.base import Backend, ExecResult, Removed
    from orchestrator.deploy import LabInfo


class LabHandle:
    def __init__(self, lab: Lab, backend: Backend, agents: Mapping[str, str]) -> None:
        self.lab = lab
        self.backend = backend
        self._agents = dict(agents)  # node -> "ip:port"
        self._channels: dict[str, grpc.Channel] = {}
        self._lock = threading.Lock()

    @property
    def name(self) -> str:
        return self.lab.name

    @property
    def nodes(self) -> tuple[str, ...]:
        return tuple(n.name for n in self.lab.nodes)

    def node(self, name: str) -> Node:
        return self.lab.node(name)

    # ---- agents ------------------------------------------------------------------------
    def agent_address(self, node: str) -> str:
        """``ip:port`` of the node's agent (its management address)."""
        try:
            return self._agents[node]
        except KeyError:
            kind = self.lab.node(node).kind  # KeyError naming the lab for unknown nodes
            if kind is NodeKind.LINUX:
                raise KeyError(f"{node} is a linux node: it runs no agent (use exec)") from None
            raise KeyError(f"lab {self.name}: no agent address for {node}") from None

    @property
    def agent_addresses(self) -> dict[str, str]:
        return dict(self._agents)

    def channel(self, node: str) -> grpc.Channel:
        address = self.agent_address(node)
        with self._lock:
            channel = self._channels.get(node)
            if channel is None:
                channel = self._channels[node] = open_channel(address)
            return channel

    def agent(self, node: str) -> node_pb2_grpc.NodeAgentStub:
        return node_pb2_grpc.NodeAgentStub(self.channel(node))

    # ---- addresses ---------------------------------------------------------------------
    def interface(self, node: str, iface: str | None = None) -> Interface:
        n = self.lab.node(node)
        if iface is None:
            if not n.interfaces:
                raise KeyError(f"{node} has no interfaces")
            return n.interfaces[0]
        return n.interface(iface)

    def address(self, node: str, iface: str | None = None) -> str:
        """The planned IPv4 address of ``node``'s interface (its first one by default)."""
        return str(self.interface(node, iface).address)

    def addresses(self, node: str) -> dict[str, str]:
        return {i.name: str(i.address) for i in self.lab.node(node).interfaces}

    # ---- shells ------------------------------------------------------------------------
    def exec(self, node: str, argv: Sequence[str], *, timeout: float = 30.0) -> ExecResult:
        """Run a command inside the node (docker backend)."""
        self.lab.node(node)
        return self.backend.exec(self.lab.name, node, argv, timeout=timeout)

    # ---- the lab -----------------------------------------------------------------------
    def inspect(self) -> LabInfo:
        """What the backend holds for this lab now (orchestrator.deploy.inspect)."""
        from orchestrator.deploy import inspect

        return inspect(self.name, self.backend)

    def destroy(self) -> Removed:
        """Close the channels and remove the lab (orchestrator.deploy.destroy)."""
        from orchestrator.deploy import destroy

        self.close()
        return destroy(self.name, self.backend)

    # ---- lifetime ----------------------------------------------------------------------
    def close(self) -> None:
        with self._lock:
            channels, self._channels = list(self._channels.values()), {}
        for channel in channels:
            channel.close()

    def __enter__(self) -> LabHandle:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"LabHandle({self.name!r}, backend={self.backend.name!r}, nodes={self.nodes})"
