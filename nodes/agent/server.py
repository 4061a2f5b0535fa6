"""The agent's gRPC server: the NodeAgent service, health checking (grpc.health.v1:
NOT_SERVING until the node is configured, then SERVING) and server reflection."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc  # type: ignore[import-untyped]
from grpc_reflection.v1alpha import reflection  # type: ignore[import-untyped]

from nodes.agent.runtime import NodeRuntime
from nodes.agent.servicer import SERVICE_NAME, NodeAgentService, add_to_server

MAX_WORKERS = 32  # each long-running RPC or stream holds one thread while it lasts


@dataclass(eq=False)
class AgentServer:
    server: grpc.Server
    port: int
    health: health.HealthServicer
    runtime: NodeRuntime
    executor: ThreadPoolExecutor

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def stop(self, grace: float | None = 1.0) -> None:
        """Refuse new calls, end the running ones (streams see their context end)."""
        self.health.enter_graceful_shutdown()
        self.server.stop(grace).wait()
        self.executor.shutdown(wait=True, cancel_futures=True)


def start(runtime: NodeRuntime, address: str, *, max_workers: int = MAX_WORKERS) -> AgentServer:
    """Start serving ``runtime`` on ``address`` (``host:port``; port 0 picks a free one)."""
    executor = ThreadPoolExecutor(max_workers, thread_name_prefix=f"agent-{runtime.name}")
    server = grpc.server(executor, options=[("grpc.so_reuseport", 0)])
    add_to_server(NodeAgentService(runtime), server)
    checker = health.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(checker, server)
    for service in ("", SERVICE_NAME):
        checker.set(service, health_pb2.HealthCheckResponse.NOT_SERVING)
    names = (SERVICE_NAME, health.SERVICE_NAME, reflection.SERVICE_NAME)
    reflection.enable_server_reflection(names, server)
    port = server.add_insecure_port(address)
    if port == 0:
        raise OSError(f"cannot listen on {address}")
    server.start()

    def serving() -> None:
        if not runtime.stopping:
            for service in ("", SERVICE_NAME):
                checker.set(service, health_pb2.HealthCheckResponse.SERVING)

    runtime.on_ready(serving)
    return AgentServer(server, port, checker, runtime, executor)


def serve(runtime: NodeRuntime, address: str) -> grpc.Server:
    """Start serving ``runtime`` on ``address``; the started grpc.Server."""
    return start(runtime, address).server
