"""The agent's gRPC server: the NodeAgent service, health checking (grpc.health.v1:
NOT_SERVING until the node is configured, then SERVING) and server reflection.

It listens on TCP (``host:port``) or on a Unix socket (``unix:///run/wirelab/agent.sock``:
in a container, a directory the host mounts into it, so the host reaches the agent with no
network between them). A socket left by an agent that died (a killed or restarted
container) is replaced, anything else at that path is refused; the socket is ``0666``:
who may connect is decided by the directories above it on the host.
"""

from __future__ import annotations

import os
import stat
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc  # type: ignore[import-untyped]
from grpc_reflection.v1alpha import reflection  # type: ignore[import-untyped]

from nodes.agent.runtime import NodeRuntime
from nodes.agent.servicer import SERVICE_NAME, NodeAgentService, add_to_server

MAX_WORKERS = 32  # each long-running RPC or stream holds one thread while it lasts
SOCKET_MODE = 0o666


def unix_path(address: str) -> Path | None:
    """The socket path of a ``unix:///abs/path`` (or ``unix:/abs/path``) address; None for
    a TCP address."""
    if not address.startswith("unix:"):
        return None
    path = address.removeprefix("unix:")
    path = path[2:] if path.startswith("//") else path
    if not path.startswith("/"):
        raise OSError(f"cannot listen on {address}: give an absolute path (unix:///dir/name)")
    return Path(path)


def clear_stale_socket(path: Path) -> bool:
    """Unlink a socket left at ``path`` (by an agent that was killed); True if there was
    one. Anything else there is an error: the agent never deletes a file it did not make."""
    try:
        mode = path.lstat().st_mode
    except FileNotFoundError:
        return False
    if not stat.S_ISSOCK(mode):
        raise OSError(f"cannot listen on {path}: something that is not a socket is there")
    path.unlink(missing_ok=True)
    return True


@dataclass(eq=False)
class AgentServer:
    server: grpc.Server
    port: int  # TCP; 0 on a Unix socket
    health: health.HealthServicer
    runtime: NodeRuntime
    executor: ThreadPoolExecutor
    listen: str = ""  # as given to start()

    @property
    def address(self) -> str:
        """Where a client in this machine (or container) dials it."""
        if self.listen.startswith("unix:"):
            return self.listen
        return f"127.0.0.1:{self.port}"

    def stop(self, grace: float | None = 1.0) -> None:
        """Refuse new calls, end the running ones (streams see their context end)."""
        self.health.enter_graceful_shutdown()
        self.server.stop(grace).wait()
        self.executor.shutdown(wait=True, cancel_futures=True)


def start(runtime: NodeRuntime, address: str, *, max_workers: int = MAX_WORKERS) -> AgentServer:
    """Start serving ``runtime`` on ``address`` (``host:port``, port 0 picks a free one; or
    ``unix:///path``, its directory made if missing, a stale socket replaced)."""
    socket = unix_path(address)
    if socket is not None:
        socket.parent.mkdir(parents=True, exist_ok=True)
        clear_stale_socket(socket)
    executor = ThreadPoolExecutor(max_workers, thread_name_prefix=f"agent-{runtime.name}")
    server = grpc.server(executor, options=[("grpc.so_reuseport", 0)])
    checker = register(runtime, server)
    names = (SERVICE_NAME, health.SERVICE_NAME, reflection.SERVICE_NAME)
    reflection.enable_server_reflection(names, server)
    port = server.add_insecure_port(address)
    if port == 0:
        raise OSError(f"cannot listen on {address}")
    server.start()
    if socket is not None:
        os.chmod(socket, SOCKET_MODE)
        port = 0
    return AgentServer(server, port, checker, runtime, executor, address)


def register(runtime: NodeRuntime, server: Any) -> Any:
    """The agent's services on ``server`` (a grpc.Server, or the virtual backend's
    in-process one): the NodeAgent, and health checking that says SERVING once the node is
    configured. Returns the health servicer."""
    add_to_server(NodeAgentService(runtime), server)
    checker = health.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(checker, server)
    for service in ("", SERVICE_NAME):
        checker.set(service, health_pb2.HealthCheckResponse.NOT_SERVING)

    def serving() -> None:
        if not runtime.stopping:
            for service in ("", SERVICE_NAME):
                checker.set(service, health_pb2.HealthCheckResponse.SERVING)

    runtime.on_ready(serving)
    return checker


def serve(runtime: NodeRuntime, address: str) -> grpc.Server:
    """Start serving ``runtime`` on ``address``; the started grpc.Server."""
    return start(runtime, address).server
