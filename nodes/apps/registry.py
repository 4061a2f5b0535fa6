"""The applications a node can run (topology ``apps:``, StartApp).

- The built-in servers by name (``http-server``, ``echo``, ``sink``, ``udp-echo``):
  sans-I/O apps attached to the host.
- ``forward``: the relay from the container's loopback onto our stack
  (:mod:`nodes.io.forward`; its ``to`` argument says where).
- ``module:factory``: the user's own app (:mod:`nodes.apps.userapp`, written against
  :mod:`nodes.apps.api`).

``make_app(kind, port, host=..., now=..., env=..., args=...)`` builds the app and starts
it. The last two need the node's asyncio loop, made on first use (:class:`AppEnv`), and are
imported only then: an idle node never loads asyncio's streams or user code.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from nodes.apps.bulk import BulkSink
from nodes.apps.echo import TcpEchoServer, UdpEchoServer
from nodes.apps.http import HttpServer
from nodes.apps.ref import CODE_DIR, is_ref

if TYPE_CHECKING:
    from nodes.io.aio import AioBridge
    from nodes.stack.host import Host


class ServerApp(Protocol):
    """What every app provides: it starts, and it can be stopped."""

    kind: str
    port: int

    def start(self, *, now: float) -> None: ...
    def close(self, *, now: float) -> None: ...


_FACTORIES: dict[str, Callable[..., ServerApp]] = {
    "http-server": HttpServer,
    "echo": TcpEchoServer,
    "sink": BulkSink,
    "udp-echo": UdpEchoServer,
}
SERVER_KINDS: tuple[str, ...] = tuple(_FACTORIES)  # the sans-I/O built-ins
FORWARD = "forward"
APP_KINDS: tuple[str, ...] = (*SERVER_KINDS, FORWARD)  # every built-in name


@dataclass(frozen=True, slots=True)
class AppEnv:
    """What apps beyond the sans-I/O built-ins need from their node."""

    aio: Callable[[], AioBridge]  # the node's asyncio bridge (made on first use)
    code_paths: tuple[str, ...] = (CODE_DIR,)  # where user code is searched first
    addresses: tuple[str, ...] = ()  # the node's interface addresses


class UnknownAppError(ValueError):
    def __init__(self, kind: str) -> None:
        super().__init__(
            f"unknown app kind {kind!r}; allowed: {', '.join(APP_KINDS)}, or your own app "
            "as module:factory (like kvstore.server:make)"
        )
        self.kind = kind


def app_id(kind: str, port: int) -> str:
    """``kind:port``; a user app started without a port is just ``module:factory``."""
    return f"{kind}:{port}" if port else kind


def make_app(
    kind: str,
    port: int,
    *,
    host: Host,
    now: float,
    env: AppEnv | None = None,
    args: Mapping[str, str] | None = None,
    **options: object,
) -> ServerApp:
    """Create the ``kind`` app on ``host`` (listening on ``port``) and start it. ``options``
    go to a built-in's constructor (``seed`` for http-server, ``rcvbuf`` for sink);
    ``args`` to forward (``to``) and user apps. Raises UnknownAppError, ValueError (a bad
    port or argument), OSError (a port in use), and for user apps
    :class:`~nodes.apps.loader.AppLoadError` / :class:`~nodes.apps.userapp.AppStartError`."""
    args = dict(args or {})
    factory = _FACTORIES.get(kind)
    if (factory is not None or kind == FORWARD) and (
        not isinstance(port, int) or not 0 < port < 65536
    ):
        raise ValueError(f"app {kind}: port must be 1..65535, got {port!r}")
    if factory is not None:
        if args:
            raise ValueError(f"app {kind} takes no args (got {', '.join(sorted(args))})")
        app = factory(host, port, **options)
        app.start(now=now)
        return app
    if kind != FORWARD and not is_ref(kind):
        raise UnknownAppError(kind)
    if env is None:
        raise ValueError(f"app {kind} needs the node's asyncio loop (no AppEnv given)")
    if kind == FORWARD:
        from nodes.io.forward import ForwardApp

        if set(args) != {"to"}:
            raise ValueError("app forward: give exactly one argument, to=HOST:PORT")
        relay = ForwardApp(env.aio(), port, args["to"])
        relay.start(now=now)
        return relay
    from nodes.apps.userapp import UserApp

    if not isinstance(port, int) or not 0 <= port < 65536:
        raise ValueError(f"app {kind}: port must be 0..65535, got {port!r}")
    user = UserApp(env.aio(), kind, port, args, app_id=app_id(kind, port),
                   addresses=env.addresses, code_paths=env.code_paths)  # fmt: skip
    user.start(now=now)
    return user
