"""The app API: what your own code may rely on when it runs on our stack inside a lab node.

Everything public here is stable; everything else in ``nodes`` is internal and may change.

**The factory.** An app is ``module:factory`` (``kvstore.server:make``), started from the
topology (``apps: [{app: "kvstore.server:make", port: 7000, args: {size: "100"}}]``), the
CLI (``wirelab app start LAB h2 kvstore.server:make --port 7000 --arg size=100``) or the
LabService's StartApp. The node calls ``factory(ctx)`` once, with an :class:`AppContext`,
in the node's own loop thread, and the factory returns:

- a coroutine (``async def make(ctx)``): it runs as the app's main task, or
- an object with ``close()`` (called when the app is stopped), or ``None``.

The app runs until ``wirelab app stop`` (or the node stops). Stopping closes every server
and connection it opened and cancels its tasks and timers. An exception the app does not
handle (in the factory, a task, a callback, a connection handler) stops the app: the
error is counted and reported on it (``wirelab app list`` shows it), and the node and its
other apps go on. A module that cannot be imported is reported by name.

**Rules.** Your code shares the node's thread with its TCP/IP stack: never block (no
``time.sleep``, no blocking kernel sockets, no long computations); ``await`` instead.
Time is :meth:`AppContext.now` / ``asyncio.get_running_loop().time()``: the node's clock,
virtual (and deterministic) when the node runs in the simulator. Keep state in the
objects your factory makes, not in module globals (a code-folder module is imported afresh
every time an app starts).

**Sockets** are our stack's, behind asyncio's own classes:

- :func:`open_connection` / :func:`start_server` return ``asyncio.StreamReader`` /
  ``asyncio.StreamWriter`` (the streams API);
- :func:`create_connection` / :func:`create_server` take an ``asyncio.Protocol`` factory
  (callbacks: ``connection_made``, ``data_received``, ``eof_received``,
  ``connection_lost``, with ``transport.write``/``close``);
- :func:`create_datagram_endpoint` is UDP with an ``asyncio.DatagramProtocol``.

Hosts are dotted quads or the names of the lab's nodes (``"h2"``: its first address).
A transport's ``get_extra_info("tcp_info")`` (and :func:`tcp_info`) is the connection as
``wirelab show LAB NODE tcp`` shows it: state, cwnd, srtt, retrans, bytes ... (a dict).

Your code reaches a node either from its **code folder** (the topology's ``code:``
folder, mounted read-only at ``/wirelab/code``, which the node searches first) or as a
**package installed into the node image**; see the README.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine, Mapping
from typing import Any, Protocol

from nodes.io.aio import (
    ClientConnected,
    TcpServer,
    create_connection,
    create_datagram_endpoint,
    create_server,
    open_connection,
    start_server,
)

__all__ = [
    "AppContext",
    "Factory",
    "Server",
    "create_connection",
    "create_datagram_endpoint",
    "create_server",
    "open_connection",
    "start_server",
    "tcp_info",
]

Server = TcpServer
"""What :func:`start_server` and :func:`create_server` return: an ``asyncio.AbstractServer``
(``close()``, ``wait_closed()``, ``serve_forever()``, ``async with``) with ``port`` and
``address``."""


class _Runtime(Protocol):
    """The node's side of a context (internal)."""

    node: str
    app_id: str
    port: int
    args: Mapping[str, str]
    addresses: tuple[str, ...]
    log: logging.Logger

    def now(self) -> float: ...
    def count(self, name: str, n: int) -> None: ...
    def counters(self) -> dict[str, int]: ...
    def spawn(self, coro: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]: ...
    def call_at(
        self, when: float, fn: Callable[..., object], *args: Any
    ) -> asyncio.TimerHandle: ...


class AppContext:
    """What the factory gets: the node, the app's port and arguments, the node's clock, a
    logger, counters, timers and our stack's sockets (the module functions, owned by
    this app)."""

    __slots__ = ("_rt",)

    def __init__(self, runtime: _Runtime) -> None:
        self._rt = runtime

    @property
    def node(self) -> str:
        """The node's name (h1)."""
        return self._rt.node

    @property
    def app_id(self) -> str:
        """``module:factory:port`` (``module:factory`` without a port)."""
        return self._rt.app_id

    @property
    def port(self) -> int:
        """The port the app was started with; 0 when none was given."""
        return self._rt.port

    @property
    def args(self) -> Mapping[str, str]:
        """The app's arguments (``--arg k=v``, ``args:`` in the topology): strings."""
        return self._rt.args

    @property
    def addresses(self) -> tuple[str, ...]:
        """The node's interface addresses, in interface order."""
        return self._rt.addresses

    @property
    def log(self) -> logging.Logger:
        """A logger named ``wirelab.app.<app_id>`` (the agent's log: ``docker logs``)."""
        return self._rt.log

    def now(self) -> float:
        """The node's clock, seconds (virtual in the simulator)."""
        return self._rt.now()

    def count(self, name: str, n: int = 1) -> None:
        """Add ``n`` to the counter ``name``: ``wirelab app list`` shows the app's counters."""
        self._rt.count(name, n)

    @property
    def counters(self) -> dict[str, int]:
        """A copy of the app's counters."""
        return self._rt.counters()

    def call_later(
        self, delay: float, callback: Callable[..., object], *args: Any
    ) -> asyncio.TimerHandle:
        """Call ``callback(*args)`` after ``delay`` seconds of node time (``.cancel()``s)."""
        return self._rt.call_at(self._rt.now() + delay, callback, *args)

    def call_at(
        self, when: float, callback: Callable[..., object], *args: Any
    ) -> asyncio.TimerHandle:
        """Call ``callback(*args)`` at node time ``when``."""
        return self._rt.call_at(when, callback, *args)

    def spawn(self, coro: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        """Run ``coro`` as a task of this app (an exception in it stops the app)."""
        return self._rt.spawn(coro)

    async def open_connection(
        self, host: str, port: int, *, limit: int = 2**16, nodelay: bool = False
    ) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        return await open_connection(host, port, limit=limit, nodelay=nodelay)

    async def start_server(
        self, client_connected_cb: ClientConnected, port: int | None = None, *,
        host: str = "0.0.0.0", limit: int = 2**16, backlog: int = 128,
    ) -> TcpServer:  # fmt: skip
        """:func:`start_server` on ``port`` (default: the app's port)."""
        return await start_server(
            client_connected_cb, self._port(port), host, limit=limit, backlog=backlog
        )

    async def create_server(
        self, protocol_factory: Callable[[], asyncio.BaseProtocol], port: int | None = None,
        *, host: str = "0.0.0.0", backlog: int = 128,
    ) -> TcpServer:  # fmt: skip
        return await create_server(protocol_factory, self._port(port), host, backlog=backlog)

    def _port(self, port: int | None) -> int:
        chosen = self._rt.port if port is None else port
        if not chosen:
            raise ValueError(f"{self._rt.app_id}: give a port (the app was started without one)")
        return chosen


Factory = Callable[[AppContext], Awaitable[None] | object]
"""``factory(ctx)``: a coroutine (the app's main task), an object with ``close()``, or None."""


def tcp_info(stream: asyncio.StreamWriter | asyncio.BaseTransport) -> dict[str, Any] | None:
    """The connection behind a StreamWriter or transport as ``show tcp`` sees it: state,
    cwnd, ssthresh, srtt, rto, mss, retrans, bytes_sent, bytes_retrans ... (None when
    it is not one of our connections)."""
    transport = stream.transport if isinstance(stream, asyncio.StreamWriter) else stream
    info = transport.get_extra_info("tcp_info")
    return info if isinstance(info, dict) else None
