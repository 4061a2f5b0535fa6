"""``wirelab serve``: the gRPC server of the LabService, with health checking and
reflection.

    server = start_server("127.0.0.1:50050", token=None)    # LabServer
    ...
    server.stop()                                           # sim labs end with it

Security: it listens on 127.0.0.1 by default; with a token, every call but health checks
needs ``authorization: Bearer <token>`` metadata (UNAUTHENTICATED otherwise). It never
reads a file a caller names: topologies arrive as text.
"""

from __future__ import annotations

import hmac
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc  # type: ignore[import-untyped]
from grpc_reflection.v1alpha import reflection  # type: ignore[import-untyped]

from orchestrator.lab.backends import Backend, Backends
from orchestrator.service.registry import LabRegistry
from orchestrator.service.servicer import LabService, add_to_server
from orchestrator.wire.lab import SERVICE_NAME

DEFAULT_PORT = 50050
DEFAULT_ADDRESS = f"127.0.0.1:{DEFAULT_PORT}"
MAX_WORKERS = 64
MAX_MESSAGE_BYTES = 4 << 20  # a topology, a capture chunk: far below


class TokenInterceptor(grpc.ServerInterceptor):
    """Every call but health checks needs ``authorization: Bearer <token>``."""

    def __init__(self, token: str) -> None:
        self._expected = f"Bearer {token}".encode()

        def deny(request: Any, context: grpc.ServicerContext) -> None:
            context.abort(
                grpc.StatusCode.UNAUTHENTICATED, "authorization: missing or wrong bearer token"
            )

        def deny_stream(request: Any, context: grpc.ServicerContext) -> Iterator[Any]:
            deny(request, context)
            yield None

        self._deny: Any = grpc.unary_unary_rpc_method_handler(deny)
        self._deny_stream: Any = grpc.unary_stream_rpc_method_handler(deny_stream)

    def intercept_service(self, continuation: Any, handler_call_details: Any) -> Any:
        method: str = handler_call_details.method
        if method.startswith("/grpc.health.v1.Health/"):
            return continuation(handler_call_details)
        for key, value in handler_call_details.invocation_metadata or ():
            if key == "authorization":
                given = value.encode() if isinstance(value, str) else value
                if hmac.compare_digest(given, self._expected):
                    return continuation(handler_call_details)
        if method.startswith(f"/{SERVICE_NAME}/") and method.rsplit("/", 1)[-1] in (
            "Deploy",
            "Capture",
            "WatchEvents",
        ):
            return self._deny_stream
        if method.startswith("/grpc.reflection."):
            return grpc.stream_stream_rpc_method_handler(_deny_reflection)
        return self._deny


def _deny_reflection(requests: Any, context: grpc.ServicerContext) -> Iterator[Any]:
    context.abort(grpc.StatusCode.UNAUTHENTICATED, "authorization: missing or wrong bearer token")
    yield None


# ---- the server ----------------------------------------------------------------------------


@dataclass(eq=False)
class LabServer:
    server: grpc.Server
    service: LabService
    port: int
    host: str
    health: health.HealthServicer
    executor: ThreadPoolExecutor

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    def stop(self, grace: float | None = 1.0) -> None:
        """Refuse new calls, end the streams, close every lab (sim labs end here)."""
        self.health.enter_graceful_shutdown()
        self.service.closed.set()
        self.server.stop(grace).wait()
        self.service.close()
        self.executor.shutdown(wait=False, cancel_futures=True)

    def wait(self) -> None:
        self.server.wait_for_termination()


def start_server(
    address: str = DEFAULT_ADDRESS,
    *,
    token: str | None = None,
    backends: Mapping[str, Backend] | None = None,
    home: Path | None = None,
    max_workers: int = MAX_WORKERS,
) -> LabServer:
    """Start the LabService (plus health and reflection) on ``address`` (port 0: any).
    ``backends`` pins backend objects by kind (tests: a docker backend on an image, a fake);
    ``home`` is where docker labs' topologies are kept (None: nowhere, no re-attaching)."""
    executor = ThreadPoolExecutor(max_workers, thread_name_prefix="labservice")
    interceptors: list[grpc.ServerInterceptor] = [TokenInterceptor(token)] if token else []
    options = [
        ("grpc.so_reuseport", 0),
        ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
    ]
    server = grpc.server(executor, interceptors=interceptors, options=options)
    service = LabService(LabRegistry(Backends(backends), home=home))
    add_to_server(service, server)
    checker = health.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(checker, server)
    names = (SERVICE_NAME, health.SERVICE_NAME, reflection.SERVICE_NAME)
    reflection.enable_server_reflection(names, server)
    port = server.add_insecure_port(address)
    if port == 0:
        executor.shutdown(wait=False)
        raise OSError(f"cannot listen on {address}")
    server.start()
    for name in ("", SERVICE_NAME):
        checker.set(name, health_pb2.HealthCheckResponse.SERVING)
    host = address.rsplit(":", 1)[0] or "127.0.0.1"
    return LabServer(server, service, port, host, checker, executor)
