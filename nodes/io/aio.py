"""asyncio on our stack: an event loop that the node's own loop steps, and asyncio
transports over our TCP and UDP sockets (so ``asyncio.StreamReader``/``StreamWriter``,
``asyncio.Protocol`` and ordinary coroutines run on our stack, in the node's loop thread).

How it fits in the node (one :class:`AioBridge` per node, made on first use):

- The bridge is a timer client of the host (``host.attach``), like the built-in apps.
  Its ``next_deadline()`` is "now" when asyncio has callbacks ready, one of our sockets
  behind a transport is ready for what the transport waits for (data to read, room to
  write, a connection to accept, a handshake that finished), or the kernel sockets asyncio
  watches have events; otherwise asyncio's next timer. Its ``on_timer(now)`` steps the
  asyncio loop: each step polls the transports (delivering data, EOF, errors and accepted
  connections to their protocols) and then runs one asyncio iteration with a zero
  timeout (``loop.stop(); loop.run_forever()``, asyncio's documented way of running one
  iteration), at most :data:`STEPS` times per call so a busy coroutine cannot starve the
  node's network I/O.
- ``loop.time()`` is the node's clock: ``time.monotonic`` in a container, virtual time in
  the simulator (the bridge is then as deterministic as the built-in apps).
- Kernel sockets (the forward relay's loopback listener) live in asyncio's own selector;
  the node's Runner watches that selector's epoll fd (:meth:`Runner.add_reader`) and the
  bridge steps asyncio when it is readable. ``call_soon_threadsafe`` wakes it the same way
  (asyncio's self-pipe is in that selector).

Exceptions: a protocol callback that raises ends its transport (as in asyncio); every
exception asyncio would report (``call_exception_handler``) goes to the ``fail()`` of the
owner of the failing task, transport or callback (:data:`OWNER`, a context variable the
user-app runtime sets), so one app's crash is attributed to it and stops it only; others
are logged and counted (:attr:`AioBridge.unowned_errors`).
"""

from __future__ import annotations

import asyncio
import contextvars
import errno
import logging
import selectors
import weakref
from asyncio import events
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from nodes.stack.tcp.api import SHUT_WR, Readiness, TcpSocket
from nodes.wire.addr import ip_from_str, ip_to_str

if TYPE_CHECKING:
    from nodes.stack.host import Host
    from nodes.stack.tcp.info import TcpInfo
    from nodes.stack.udp import UdpEndpoint

log = logging.getLogger(__name__)
T = TypeVar("T")

STEPS = 32  # asyncio iterations per on_timer call (then the node's I/O gets a turn)
RECV_CHUNK = 65536  # bytes per recv() handed to data_received
HIGH_WATER = 64 * 1024  # transport write buffer limits (asyncio's defaults)
_READABLE, _WRITABLE = int(Readiness.READABLE), int(Readiness.WRITABLE)
_ERROR, _CONNECTED = int(Readiness.ERROR), int(Readiness.CONNECTED)

OWNER: contextvars.ContextVar[object | None] = contextvars.ContextVar(
    "wirelab_aio_owner", default=None
)
"""Who the code running now belongs to (a user app); tasks and transports created while it
is set are that owner's (:attr:`AioBridge.on_error` names it)."""


class NodeLoop(asyncio.SelectorEventLoop):
    """An asyncio loop whose clock is the node's and that the node's loop steps."""

    def __init__(self, bridge: AioBridge) -> None:
        self.bridge = bridge
        self.selector = selectors.DefaultSelector()
        super().__init__(self.selector)

    def time(self) -> float:
        return self.bridge.clock()

    # asyncio internals the bridge reads (stable since 3.4; a test pins them)
    def has_ready(self) -> bool:
        return bool(self._ready)  # type: ignore[attr-defined]

    def next_timer(self) -> float | None:
        scheduled = self._scheduled  # type: ignore[attr-defined]
        return float(scheduled[0].when()) if scheduled else None


class AioBridge:
    """The node's asyncio loop as a host timer client (see the module docstring)."""

    def __init__(
        self, host: Host, clock: Callable[[], float], hosts: dict[str, str] | None = None
    ) -> None:
        self.host = host
        self.clock = clock
        self.hosts = dict(hosts or {})  # lab node name -> address (open_connection("h2", ..))
        self.loop = NodeLoop(self)
        self.loop.set_exception_handler(self._exception)
        self.loop.set_task_factory(self._task_factory)
        self._pollables: list[_Pollable] = []
        self._task_owner: weakref.WeakKeyDictionary[asyncio.Future[Any], object] = (
            weakref.WeakKeyDictionary()
        )
        self._io = False
        self._last = clock()
        self.steps = 0
        self.unowned_errors = 0
        host.attach(self)

    # ---- wiring ------------------------------------------------------------------------
    def fileno(self) -> int:
        """asyncio's selector (epoll): readable when a kernel socket or a thread-safe call
        needs asyncio. The node's Runner watches it and calls :meth:`io_ready`."""
        return self.loop.selector.fileno()

    def io_ready(self, now: float) -> None:
        self._io = True

    def close(self) -> None:
        """Cancel every task, close every transport and the loop (the node stops)."""
        for p in list(self._pollables):
            p.abort_quietly()
        loop = self.loop
        if loop.is_closed():
            return
        for task in asyncio.all_tasks(loop):
            task.cancel()
        for _ in range(3):
            if not asyncio.all_tasks(loop):
                break
            self._step_once()
        self.host.detach(self)
        loop.close()

    # ---- TimerClient -------------------------------------------------------------------
    def next_deadline(self) -> float | None:
        if self._io or self.loop.has_ready() or self._actionable():
            return self._last
        return self.loop.next_timer()

    def on_timer(self, *, now: float) -> None:
        self._last = now
        self._io = False
        for _ in range(STEPS):
            self._step_once()
            if not (self.loop.has_ready() or self._actionable()):
                break

    def wake(self) -> None:
        """Make the next deadline "now" (work was queued from outside an iteration)."""
        self._io = True

    def run_soon(self, fn: Callable[[], T], *, context: contextvars.Context | None = None) -> T:
        """Run ``fn()`` inside an asyncio iteration (a running loop: it may create tasks
        and call ``asyncio.get_running_loop()``) and return its result or raise."""
        if self.loop.is_running():  # already inside an iteration
            return fn() if context is None else context.run(fn)
        box: list[Any] = []

        def call() -> None:
            try:
                box.append((True, fn()))
            except BaseException as exc:  # handed back to the caller
                box.append((False, exc))

        self.loop.call_soon(call, context=context or contextvars.copy_context())
        self._step_once()
        ok, value = box[0]
        if not ok:
            raise value
        return value  # type: ignore[no-any-return]

    def step(self) -> None:
        """One asyncio iteration now (from the node's loop thread, outside an iteration)."""
        self._step_once()

    # ---- internals ---------------------------------------------------------------------
    def _step_once(self) -> None:
        loop = self.loop
        if loop.is_closed() or loop.is_running():
            return
        self.steps += 1
        loop.call_soon(self._poll)
        loop.stop()
        loop.run_forever()

    def _actionable(self) -> bool:
        return any(p.actionable() for p in self._pollables)

    def _poll(self) -> None:
        for p in list(self._pollables):
            p.poll()

    def add(self, p: _Pollable) -> None:
        self._pollables.append(p)

    def remove(self, p: _Pollable) -> None:
        if p in self._pollables:
            self._pollables.remove(p)

    def _task_factory(
        self, loop: asyncio.AbstractEventLoop, coro: Any, **kwargs: Any
    ) -> asyncio.Task[Any]:
        task = asyncio.Task(coro, loop=loop, **kwargs)
        context = kwargs.get("context")
        owner = context.get(OWNER) if isinstance(context, contextvars.Context) else OWNER.get()
        if owner is not None:
            self._task_owner[task] = owner
            adopt = getattr(owner, "adopt", None)
            if adopt is not None:
                adopt(task)
        return task

    def owner_of(self, context: dict[str, Any]) -> object | None:
        for key in ("future", "task"):
            fut = context.get(key)
            if fut is not None and fut in self._task_owner:
                return self._task_owner[fut]
        for key in ("transport", "protocol"):
            owner: object | None = getattr(context.get(key), "owner", None)
            if owner is not None:
                return owner
        handle = context.get("handle")
        ctx = getattr(handle, "_context", None)
        if isinstance(ctx, contextvars.Context):
            return ctx.get(OWNER)
        return None

    def _exception(self, loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        exc = context.get("exception")
        message = str(context.get("message") or "")
        owner = self.owner_of(context)
        error = exc if isinstance(exc, BaseException) else None
        fail = getattr(owner, "fail", None)
        if callable(fail):
            fail(error, message)
            return
        self.unowned_errors += 1
        log.error("asyncio on %s: %s", self.host.name, message, exc_info=error)

    def now(self) -> float:
        return self.clock()


# ---- transports --------------------------------------------------------------------------


class _Pollable(Protocol):
    def actionable(self) -> bool: ...
    def poll(self) -> None: ...
    def abort_quietly(self) -> None: ...


def _address(pair: tuple[int, int] | None) -> tuple[str, int] | None:
    return None if pair is None else (ip_to_str(pair[0]), pair[1])


def tcp_info_dict(info: TcpInfo | None) -> dict[str, Any] | None:
    """A connection's ``ss -ti`` view as plain values (addresses as strings)."""
    if info is None:
        return None
    out: dict[str, Any] = {}
    for name in info.__dataclass_fields__:
        value = getattr(info, name)
        if name in ("local", "remote"):
            value = _address(value)
        out[name] = value
    return out


class TcpTransport(asyncio.Transport):
    """An ``asyncio.Transport`` over one of our TCP sockets."""

    def __init__(
        self,
        bridge: AioBridge,
        sock: TcpSocket,
        protocol: asyncio.BaseProtocol,
        *,
        owner: object | None,
        connected: asyncio.Future[None] | None = None,
    ) -> None:
        super().__init__()
        self._bridge = bridge
        self._sock = sock
        self._protocol = protocol
        self.owner = owner
        self._connect_waiter = connected  # set while the handshake runs
        self._wbuf = bytearray()
        self._high, self._low = HIGH_WATER, HIGH_WATER // 4
        self._write_paused = False  # the protocol was told pause_writing()
        self._reading = True
        self._eof_in = False  # the peer's FIN was delivered
        self._eof_out = False  # write_eof() asked for
        self._shut = False  # our FIN was queued
        self._closing = False
        self._lost = False
        self._made = False
        bridge.add(self)
        if owner is not None:
            adopt = getattr(owner, "adopt", None)
            if adopt is not None:
                adopt(self)

    # ---- BaseTransport -----------------------------------------------------------------
    def get_extra_info(self, name: str, default: Any = None) -> Any:
        if name == "peername":
            return _address(self._sock.remote)
        if name == "sockname":
            return _address(self._sock.local)
        if name == "tcp_info":
            return tcp_info_dict(self._sock.info())
        if name == "wirelab_socket":
            return self._sock
        return default

    def is_closing(self) -> bool:
        return self._closing or self._lost

    def close(self) -> None:
        if self._closing or self._lost:
            return
        self._closing = True
        self._reading = False
        if not self._wbuf:
            self._finish_close()

    def set_protocol(self, protocol: asyncio.BaseProtocol) -> None:
        self._protocol = protocol

    def get_protocol(self) -> asyncio.BaseProtocol:
        return self._protocol

    # ---- ReadTransport -----------------------------------------------------------------
    def is_reading(self) -> bool:
        return self._reading and not self._lost

    def pause_reading(self) -> None:
        self._reading = False

    def resume_reading(self) -> None:
        if not self._closing and not self._lost:
            self._reading = True

    # ---- WriteTransport ----------------------------------------------------------------
    def set_write_buffer_limits(self, high: int | None = None, low: int | None = None) -> None:
        high = HIGH_WATER if high is None else high
        low = high // 4 if low is None else low
        if not high >= low >= 0:
            raise ValueError(f"high ({high!r}) must be >= low ({low!r}) must be >= 0")
        self._high, self._low = high, low
        self._flow()

    def get_write_buffer_limits(self) -> tuple[int, int]:
        return self._low, self._high

    def get_write_buffer_size(self) -> int:
        return len(self._wbuf)

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if self._eof_out or self._closing:
            raise RuntimeError("write() after write_eof() or close()")
        if self._lost or not data:
            return
        if not self._wbuf and self._made:
            try:
                n = self._sock.send(data, now=self._bridge.now())
            except BlockingIOError:
                n = 0
            except OSError as exc:
                self._fatal(exc)
                return
            if n == len(data):
                return
            data = memoryview(data)[n:]
        self._wbuf += data
        self._flow()

    def write_eof(self) -> None:
        if self._eof_out or self._closing:
            return
        self._eof_out = True
        if not self._wbuf and self._made:
            self._shutdown()

    def can_write_eof(self) -> bool:
        return True

    def abort(self) -> None:
        if self._lost:
            return
        self._sock.abort(now=self._bridge.now())
        self._lose(None)

    def abort_quietly(self) -> None:
        if not self._lost:
            self._sock.abort(now=self._bridge.now())
            self._lost = True
            self._bridge.remove(self)

    # ---- polling -----------------------------------------------------------------------
    def actionable(self) -> bool:
        if self._lost:
            return False
        ready = self._sock.ready_bits()
        if self._connect_waiter is not None:
            return bool(ready & (_CONNECTED | _ERROR)) or self._sock.state == "CLOSED"
        if ready & _ERROR:
            return True
        if self._wbuf and ready & _WRITABLE:
            return True
        return self._reading and not self._eof_in and bool(ready & _READABLE)

    def poll(self) -> None:
        if self._lost:
            return
        try:
            self._poll()
        except (SystemExit, KeyboardInterrupt):
            raise
        except BaseException as exc:
            self._fatal(exc, "protocol callback failed")

    def _poll(self) -> None:
        sock = self._sock
        now = self._bridge.now()
        waiter = self._connect_waiter
        if waiter is not None:
            ready = sock.ready_bits()
            if ready & _ERROR or sock.state == "CLOSED":
                self._connect_waiter = None
                error = sock.error or "ECONNREFUSED"
                self._lost = True
                self._bridge.remove(self)
                if not waiter.done():
                    waiter.set_exception(_oserror(error))
                return
            if not ready & _CONNECTED:
                return
            self._connect_waiter = None
            self._make()
            if not waiter.done():
                waiter.set_result(None)
        if sock.ready_bits() & _ERROR and not (self._reading and not self._eof_in):
            # a reset (or timeout) while nobody reads: surface it now, do not spin on it
            self._fatal(_oserror(sock.error or "ECONNRESET"))
            return
        # writes first: room in the send buffer takes what waits
        if self._wbuf and sock.ready_bits() & _WRITABLE:
            try:
                n = sock.send(self._wbuf, now=now)
                del self._wbuf[:n]
            except BlockingIOError:
                pass
            except OSError as exc:
                self._fatal(exc)
                return
            self._flow()
            if not self._wbuf:
                if self._closing:
                    self._finish_close()
                    return
                if self._eof_out:
                    self._shutdown()
        while self._reading and not self._eof_in and not self._lost:
            try:
                data = sock.recv(RECV_CHUNK, now=now)
            except BlockingIOError:
                break
            except OSError as exc:
                self._fatal(exc)
                return
            if data:
                self._protocol.data_received(data)  # type: ignore[attr-defined]
                continue
            self._eof_in = True
            keep = self._protocol.eof_received()  # type: ignore[attr-defined]
            if not keep:
                self.close()
            elif self._shut and not self._wbuf:
                self._finish_close()  # both directions done
            break

    def _make(self) -> None:
        self._made = True
        self._protocol.connection_made(self)
        if self._wbuf:
            self.poll()

    def _shutdown(self) -> None:
        if self._shut:
            return
        self._shut = True
        try:
            self._sock.shutdown(SHUT_WR, now=self._bridge.now())
        except OSError as exc:
            self._fatal(exc)

    def _flow(self) -> None:
        size = len(self._wbuf)
        if not self._write_paused and size > self._high:
            self._write_paused = True
            self._protocol.pause_writing()
        elif self._write_paused and size <= self._low:
            self._write_paused = False
            self._protocol.resume_writing()

    def _finish_close(self) -> None:
        if self._lost:
            return
        self._sock.close(now=self._bridge.now())
        self._lose(None)

    def _fatal(self, exc: BaseException, message: str = "") -> None:
        if not isinstance(exc, OSError):
            self._bridge.loop.call_exception_handler(
                {"message": message or "fatal error on a transport", "exception": exc,
                 "transport": self, "protocol": self._protocol}
            )  # fmt: skip
        if not self._lost:
            self._sock.abort(now=self._bridge.now())
        self._lose(exc if isinstance(exc, Exception) else None)

    def _lose(self, exc: Exception | None) -> None:
        if self._lost:
            return
        self._lost = True
        self._closing = True
        self._bridge.remove(self)
        if self._made:
            self._bridge.loop.call_soon(self._call_lost, exc)

    def _call_lost(self, exc: Exception | None) -> None:
        self._protocol.connection_lost(exc)


def _oserror(name: str) -> OSError:
    code = getattr(errno, name, errno.EIO)
    cls: type[OSError] = OSError
    if code == errno.ECONNREFUSED:
        cls = ConnectionRefusedError
    elif code == errno.ETIMEDOUT:
        cls = TimeoutError
    elif code == errno.ECONNRESET:
        cls = ConnectionResetError
    return cls(code, f"{name}: {errno.errorcode.get(code, name)}")


class TcpServer(asyncio.AbstractServer):
    """A listening socket of our stack whose accepted connections get protocols."""

    def __init__(
        self,
        bridge: AioBridge,
        listener: TcpSocket,
        protocol_factory: Callable[[], asyncio.BaseProtocol],
        owner: object | None,
    ) -> None:
        self._bridge = bridge
        self._listener = listener
        self._factory = protocol_factory
        self.owner = owner
        self._closed = False
        self._waiters: list[asyncio.Future[None]] = []
        self.accepted = 0
        bridge.add(self)
        if owner is not None:
            adopt = getattr(owner, "adopt", None)
            if adopt is not None:
                adopt(self)

    @property
    def port(self) -> int:
        return self._listener.local[1]

    @property
    def sockets(self) -> tuple[()]:
        return ()  # no kernel sockets: see ``port`` and ``get_extra_info``-like ``address``

    @property
    def address(self) -> tuple[str, int]:
        local = self._listener.local
        return (ip_to_str(local[0]), local[1])

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._listener.close(now=self._bridge.now())
        self._bridge.remove(self)
        for fut in self._waiters:
            if not fut.done() and not fut.get_loop().is_closed():
                fut.set_result(None)
        self._waiters.clear()

    def abort_quietly(self) -> None:
        self.close()

    def get_loop(self) -> asyncio.AbstractEventLoop:
        return self._bridge.loop

    def is_serving(self) -> bool:
        return not self._closed

    async def start_serving(self) -> None:
        return None

    async def serve_forever(self) -> None:
        if self._closed:
            raise RuntimeError("the server is closed")
        waiter: asyncio.Future[None] = self._bridge.loop.create_future()
        self._waiters.append(waiter)
        try:
            await waiter
        finally:
            self.close()

    async def wait_closed(self) -> None:
        if self._closed:
            return
        waiter: asyncio.Future[None] = self._bridge.loop.create_future()
        self._waiters.append(waiter)
        await waiter

    def actionable(self) -> bool:
        return not self._closed and bool(self._listener.ready_bits() & _READABLE)

    def poll(self) -> None:
        while not self._closed:
            try:
                sock = self._listener.accept()
            except BlockingIOError:
                return
            self.accepted += 1
            try:
                protocol = self._factory()
            except Exception as exc:
                sock.abort(now=self._bridge.now())
                self._bridge.loop.call_exception_handler(
                    {"message": "the protocol factory failed", "exception": exc,
                     "transport": self}
                )  # fmt: skip
                continue
            transport = TcpTransport(self._bridge, sock, protocol, owner=self.owner)
            try:
                transport._make()
            except Exception as exc:
                transport._fatal(exc, "connection_made failed")


class UdpTransport(asyncio.DatagramTransport):
    """An ``asyncio.DatagramTransport`` over one of our UDP endpoints."""

    def __init__(
        self,
        bridge: AioBridge,
        endpoint: UdpEndpoint,
        protocol: asyncio.DatagramProtocol,
        remote: tuple[int, int] | None,
        owner: object | None,
    ) -> None:
        super().__init__()
        self._bridge = bridge
        self._ep = endpoint
        self._protocol = protocol
        self._remote = remote
        self.owner = owner
        self._closed = False
        self.send_failures = 0
        bridge.add(self)
        if owner is not None:
            adopt = getattr(owner, "adopt", None)
            if adopt is not None:
                adopt(self)

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        if name == "sockname":
            return (ip_to_str(self._ep.address), self._ep.port)
        if name == "peername":
            return _address(self._remote)
        return default

    def sendto(self, data: Any, addr: Any = None) -> None:
        if self._closed:
            return
        if addr is None:
            if self._remote is None:
                raise ValueError("no destination: give addr or connect with remote_addr")
            dst = self._remote
        else:
            dst = (resolve(self._bridge, str(addr[0])), int(addr[1]))
        if not self._ep.sendto(bytes(data), dst, now=self._bridge.now()):
            self.send_failures += 1
            self._protocol.error_received(OSError(errno.ENETUNREACH, "no route"))

    def get_write_buffer_size(self) -> int:
        return 0

    def is_closing(self) -> bool:
        return self._closed

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._ep.close()
        self._bridge.remove(self)
        self._bridge.loop.call_soon(self._protocol.connection_lost, None)

    def abort(self) -> None:
        self.close()

    def abort_quietly(self) -> None:
        if not self._closed:
            self._closed = True
            self._ep.close()
            self._bridge.remove(self)

    def actionable(self) -> bool:
        return not self._closed and bool(self._ep.queue)

    def poll(self) -> None:
        while not self._closed and (item := self._ep.recvfrom()) is not None:
            data, peer = item
            try:
                self._protocol.datagram_received(data, (ip_to_str(peer[0]), peer[1]))
            except (SystemExit, KeyboardInterrupt):
                raise
            except BaseException as exc:
                self._bridge.loop.call_exception_handler(
                    {"message": "datagram_received failed", "exception": exc,
                     "transport": self, "protocol": self._protocol}
                )  # fmt: skip
                self.close()


# ---- the streams API (what nodes.apps.api exposes) ---------------------------------------------


def bridge_of(loop: asyncio.AbstractEventLoop | None = None) -> AioBridge:
    """The node bridge of the running loop (RuntimeError outside a node's asyncio)."""
    loop = loop or events.get_running_loop()
    if not isinstance(loop, NodeLoop):
        raise RuntimeError("not running in a wirelab node's asyncio loop")
    return loop.bridge


def resolve(bridge: AioBridge, host: str) -> int:
    """A dotted quad, or a lab node's name from the node's host table."""
    text = bridge.hosts.get(host, host)
    try:
        return ip_from_str(text)
    except (ValueError, OSError):
        raise OSError(
            errno.EINVAL, f"EINVAL: {host!r} is neither an IPv4 address nor a node of the lab"
        ) from None


async def create_connection(
    protocol_factory: Callable[[], asyncio.BaseProtocol],
    host: str,
    port: int,
    *,
    local_port: int = 0,
    nodelay: bool = False,
) -> tuple[TcpTransport, asyncio.BaseProtocol]:
    bridge = bridge_of()
    sock = bridge.host.tcp.socket()
    sock.bind(0, local_port)
    sock.options.nodelay = nodelay
    sock.connect(resolve(bridge, host), port, now=bridge.now())
    protocol = protocol_factory()
    waiter: asyncio.Future[None] = bridge.loop.create_future()
    transport = TcpTransport(bridge, sock, protocol, owner=OWNER.get(), connected=waiter)
    try:
        await waiter
    except BaseException:
        transport.abort_quietly()
        raise
    return transport, protocol


async def create_server(
    protocol_factory: Callable[[], asyncio.BaseProtocol],
    port: int,
    host: str = "0.0.0.0",
    *,
    backlog: int = 128,
) -> TcpServer:
    bridge = bridge_of()
    sock = bridge.host.tcp.socket()
    sock.bind(0 if host in ("", "0.0.0.0") else resolve(bridge, host), port)
    sock.listen(backlog)
    return TcpServer(bridge, sock, protocol_factory, OWNER.get())


async def create_datagram_endpoint(
    protocol_factory: Callable[[], asyncio.DatagramProtocol],
    *,
    local_port: int = 0,
    remote: tuple[str, int] | None = None,
) -> tuple[UdpTransport, asyncio.DatagramProtocol]:
    bridge = bridge_of()
    try:
        endpoint = bridge.host.udp.bind(local_port)
    except ValueError as exc:
        raise OSError(errno.EADDRINUSE, str(exc)) from None
    dst = None if remote is None else (resolve(bridge, remote[0]), int(remote[1]))
    protocol = protocol_factory()
    transport = UdpTransport(bridge, endpoint, protocol, dst, OWNER.get())
    protocol.connection_made(transport)
    return transport, protocol


async def open_connection(
    host: str, port: int, *, limit: int = 2**16, local_port: int = 0, nodelay: bool = False
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """``asyncio.open_connection`` over our TCP."""
    loop = events.get_running_loop()
    reader = asyncio.StreamReader(limit=limit, loop=loop)
    protocol = asyncio.StreamReaderProtocol(reader, loop=loop)
    transport, _ = await create_connection(
        lambda: protocol, host, port, local_port=local_port, nodelay=nodelay
    )
    return reader, asyncio.StreamWriter(transport, protocol, reader, loop)


ClientConnected = Callable[
    [asyncio.StreamReader, asyncio.StreamWriter], Coroutine[Any, Any, None] | None
]


async def start_server(
    client_connected_cb: ClientConnected,
    port: int,
    host: str = "0.0.0.0",
    *,
    limit: int = 2**16,
    backlog: int = 128,
) -> TcpServer:
    """``asyncio.start_server`` over our TCP: ``client_connected_cb(reader, writer)`` for
    every accepted connection (a coroutine runs as a task of the server's owner)."""
    loop = events.get_running_loop()
    context = contextvars.copy_context()

    def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        result = context.run(client_connected_cb, reader, writer)
        if asyncio.iscoroutine(result):
            task = loop.create_task(result, context=context)
            task.add_done_callback(_report(writer))

    def factory() -> asyncio.BaseProtocol:
        reader = asyncio.StreamReader(limit=limit, loop=loop)
        return asyncio.StreamReaderProtocol(reader, handler, loop=loop)

    return await create_server(factory, port, host, backlog=backlog)


def _report(writer: asyncio.StreamWriter) -> Callable[[asyncio.Task[Any]], None]:
    """A connection handler task that raised: report it (Python 3.11's streams would only
    log 'exception never retrieved' when the task is collected) and close its connection."""

    def done(task: asyncio.Task[Any]) -> None:
        if task.cancelled():
            writer.transport.abort()
            return
        exc = task.exception()
        if exc is not None:
            writer.transport.abort()
            task.get_loop().call_exception_handler(
                {"message": "a connection handler raised", "exception": exc, "future": task}
            )

    return done
