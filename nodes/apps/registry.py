"""The applications a topology can start on a node (topology ``apps: [kind:port, ...]``).

``make_app(kind, port, host=..., now=...)`` builds the server and starts it listening.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

from nodes.apps.bulk import BulkSink
from nodes.apps.echo import TcpEchoServer, UdpEchoServer
from nodes.apps.http import HttpServer

if TYPE_CHECKING:
    from nodes.stack.host import Host


class ServerApp(Protocol):
    """What every registered app provides (a host TimerClient that can be stopped)."""

    kind: str
    port: int

    def start(self, *, now: float) -> None: ...
    def close(self, *, now: float) -> None: ...
    def next_deadline(self) -> float | None: ...
    def on_timer(self, *, now: float) -> None: ...


_FACTORIES: dict[str, Callable[..., ServerApp]] = {
    "http-server": HttpServer,
    "echo": TcpEchoServer,
    "sink": BulkSink,
    "udp-echo": UdpEchoServer,
}
APP_KINDS: tuple[str, ...] = tuple(_FACTORIES)


class UnknownAppError(ValueError):
    def __init__(self, kind: str) -> None:
        super().__init__(f"unknown app kind {kind!r}; allowed: {', '.join(APP_KINDS)}")
        self.kind = kind


def make_app(kind: str, port: int, *, host: Host, now: float, **options: object) -> ServerApp:
    """Create the ``kind`` app on ``host`` listening on ``port`` and start it. ``options``
    go to its constructor (e.g. ``seed`` for http-server, ``rcvbuf`` for sink)."""
    factory = _FACTORIES.get(kind)
    if factory is None:
        raise UnknownAppError(kind)
    if not isinstance(port, int) or not 0 < port < 65536:
        raise ValueError(f"app {kind}: port must be 1..65535, got {port!r}")
    app = factory(host, port, **options)
    app.start(now=now)
    return app
