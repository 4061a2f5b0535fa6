"""The forward relay: unmodified programs in a node's container get their TCP carried by
our stack.

The node's agent listens on the container's loopback (``127.0.0.1:PORT``, a kernel socket:
the only kernel TCP a node of ours has) and turns every connection accepted there into
one connection of our stack to ``TO`` (``address:port``), copying bytes both ways in the
node's asyncio loop (:mod:`nodes.io.aio`). ``curl http://127.0.0.1:8080/`` or ``iperf3 -c
127.0.0.1`` in the container then talks to a node of the lab over our TCP: it is what
``wirelab show LAB NODE tcp`` lists, what the counters count and what faults shape. The
loopback side is the kernel's (lossless, fast); back-pressure crosses the relay (it reads
from one side only while the other takes the data), and a half-close (EOF) is passed on.

The relay is the ``forward`` app (``wirelab forward LAB NODE [LOCAL_PORT:]TO_HOST:PORT``,
or ``{app: forward, port: LOCAL_PORT, args: {to: "h2:80"}}`` in a topology): its counters
say how many connections it relayed, the bytes each way, failures to connect, and the
retransmissions of our side's connections.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import errno
import logging
import socket
import struct
from typing import Any

from nodes.io.aio import OWNER, AioBridge, open_connection, resolve, tcp_info_dict

log = logging.getLogger(__name__)
CHUNK = 65536
LOOPBACK = "127.0.0.1"
KERNEL_BUFFER = 256 * 1024  # SO_RCVBUF/SO_SNDBUF of the loopback side: bounded queues


def parse_target(text: str) -> tuple[str, int]:
    """``h2:80`` / ``10.0.2.2:80`` -> (host, port); ValueError when malformed."""
    host, colon, port = text.strip().rpartition(":")
    if not colon or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"expected HOST:PORT (a node or an address, and a port), got {text!r}")
    return host, int(port)


class ForwardApp:
    """Relay ``bind:port`` (kernel, loopback) -> ``to`` (our stack)."""

    kind = "forward"

    def __init__(self, bridge: AioBridge, port: int, to: str) -> None:
        self.bridge = bridge
        self.port = port
        self.to = parse_target(to)
        try:
            resolve(bridge, self.to[0])
        except OSError as exc:
            raise ValueError(f"forward to {to}: {exc.strerror}") from None
        self.connections = 0  # accepted on the loopback
        self.active = 0
        self.connect_failures = 0
        self.errors = 0
        self.bytes_out = 0  # loopback -> our stack
        self.bytes_in = 0  # our stack -> loopback
        self._retrans_done = 0  # retransmitted segments of finished connections
        self._ours: set[asyncio.StreamWriter] = set()
        self._tasks: set[asyncio.Task[Any]] = set()
        self._server: asyncio.Server | None = None
        self._sock: socket.socket | None = None
        self._context = contextvars.copy_context()
        self._context.run(OWNER.set, self)
        self.running = True
        self.error = ""

    # ---- app -------------------------------------------------------------------------
    def start(self, *, now: float) -> None:
        """Bind the loopback port now (OSError: in use); serving starts in the loop."""
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            # accepted sockets inherit fixed buffers: the kernel's loopback TCP cannot queue
            # megabytes the relay has not taken yet (autotuning would), so a program's
            # "sent" stays close to what went onto our TCP
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, KERNEL_BUFFER)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, KERNEL_BUFFER)
            sock.bind((LOOPBACK, self.port))
            sock.listen(128)
            sock.setblocking(False)
        except OSError:
            sock.close()
            raise
        self._sock = sock

        def serve() -> None:
            task = asyncio.ensure_future(asyncio.start_server(self._relay, sock=sock))
            task.add_done_callback(self._serving)

        self.bridge.run_soon(serve, context=self._context)

    def _serving(self, task: asyncio.Task[asyncio.Server]) -> None:
        if task.cancelled():
            return
        exc = task.exception()
        if exc is not None:
            self.fail(exc, "serving the loopback port failed")
            return
        self._server = task.result()
        if not self.running:
            self._server.close()

    def close(self, *, now: float) -> None:
        self.running = False
        if self._server is not None:
            self._server.close()
        elif self._sock is not None:
            self._sock.close()
        for writer in list(self._ours):
            writer.transport.abort()
        for task in list(self._tasks):
            task.cancel()

    def fail(self, exc: BaseException | None, message: str = "") -> None:
        self.errors += 1
        self.error = f"{message}: {exc!r}" if message else repr(exc)
        log.warning("forward %d -> %s:%d: %s", self.port, *self.to, self.error)

    def adopt(self, thing: object) -> None:
        if isinstance(thing, asyncio.Task):
            self._tasks.add(thing)
            thing.add_done_callback(self._tasks.discard)

    def stats(self) -> dict[str, int]:
        live = 0
        for writer in list(self._ours):
            info = tcp_info_dict(writer.transport.get_extra_info("wirelab_socket").info())
            live += int(info["retrans"]) if info else 0
        return {
            "connections": self.connections, "active": self.active,
            "connect_failures": self.connect_failures, "errors": self.errors,
            "bytes_out": self.bytes_out, "bytes_in": self.bytes_in,
            "retransmits": self._retrans_done + live,
        }  # fmt: skip

    # ---- the relay ---------------------------------------------------------------------
    async def _relay(self, k_reader: asyncio.StreamReader, k_writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        self.active += 1
        host, port = self.to
        try:
            try:
                o_reader, o_writer = await open_connection(host, port)
            except OSError as exc:
                self.connect_failures += 1
                log.info("forward %d: %s:%d: %s", self.port, host, port, exc)
                _reset(k_writer)
                return
            self._ours.add(o_writer)
            try:
                up = asyncio.ensure_future(self._pipe(k_reader, o_writer, "out"))
                down = asyncio.ensure_future(self._pipe(o_reader, k_writer, "in"))
                await asyncio.gather(up, down, return_exceptions=True)
            finally:
                self._ours.discard(o_writer)
                sock = o_writer.transport.get_extra_info("wirelab_socket")
                info = tcp_info_dict(sock.info()) if sock is not None else None
                self._retrans_done += int(info["retrans"]) if info else 0
                o_writer.close()
            k_writer.close()
        finally:
            self.active -= 1

    async def _pipe(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, direction: str
    ) -> None:
        try:
            while data := await reader.read(CHUNK):
                writer.write(data)
                if direction == "out":
                    self.bytes_out += len(data)
                else:
                    self.bytes_in += len(data)
                await writer.drain()
            if writer.can_write_eof() and not writer.transport.is_closing():
                writer.write_eof()  # pass the half-close on
        except (ConnectionError, OSError) as exc:
            if getattr(exc, "errno", None) not in (errno.ECONNRESET, errno.EPIPE, None):
                self.errors += 1
            if direction == "in":
                _reset(writer)  # the program sees the reset our side saw
            else:
                writer.transport.abort()  # our RST
            raise


def _reset(writer: asyncio.StreamWriter) -> None:
    """Close a kernel connection with RST (SO_LINGER 0), as a refused connect would."""
    sock = writer.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()
