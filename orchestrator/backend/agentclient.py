"""The real :class:`~orchestrator.backend.base.AgentClient`: gRPC to the node agents.

Channels are cached per address and reconnect quickly (a node agent comes up within a
second of its container starting; gRPC's default back-off of 1 s and more would double
the deploy time).
"""

from __future__ import annotations

import threading

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc  # type: ignore[import-untyped]
from wirelab.v1 import node_pb2, node_pb2_grpc

from orchestrator.backend.base import Health

CHANNEL_OPTIONS: list[tuple[str, int]] = [
    ("grpc.initial_reconnect_backoff_ms", 50),
    ("grpc.min_reconnect_backoff_ms", 50),
    ("grpc.max_reconnect_backoff_ms", 250),
    ("grpc.enable_http_proxy", 0),  # lab addresses are never behind a proxy
]


def open_channel(address: str) -> grpc.Channel:
    return grpc.insecure_channel(address, options=CHANNEL_OPTIONS)


class GrpcAgentClient:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._channels: dict[str, grpc.Channel] = {}

    def channel(self, address: str) -> grpc.Channel:
        with self._lock:
            channel = self._channels.get(address)
            if channel is None:
                channel = self._channels[address] = open_channel(address)
            return channel

    def health(self, address: str, *, timeout: float) -> Health:
        stub = health_pb2_grpc.HealthStub(self.channel(address))
        try:
            reply = stub.Check(
                health_pb2.HealthCheckRequest(service=""), timeout=timeout, wait_for_ready=True
            )
        except grpc.RpcError:
            return Health.UNREACHABLE
        if reply.status == health_pb2.HealthCheckResponse.SERVING:
            return Health.SERVING
        return Health.NOT_SERVING

    def configure(
        self, address: str, request: node_pb2.ConfigureRequest, *, timeout: float
    ) -> node_pb2.ConfigureResponse:
        stub = node_pb2_grpc.NodeAgentStub(self.channel(address))
        reply: node_pb2.ConfigureResponse = stub.Configure(request, timeout=timeout)
        return reply

    def status(self, address: str, *, timeout: float) -> node_pb2.NodeStatus:
        stub = node_pb2_grpc.NodeAgentStub(self.channel(address))
        reply: node_pb2.NodeStatus = stub.GetStatus(node_pb2.GetStatusRequest(), timeout=timeout)
        return reply

    def close(self) -> None:
        with self._lock:
            channels, self._channels = list(self._channels.values()), {}
        for channel in channels:
            channel.close()
