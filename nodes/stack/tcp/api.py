"""A socket-like, non-blocking API over the TCP engine.

Calls never block: ``recv`` returns what is there (b"" at end of stream) or raises
``BlockingIOError``; ``send`` returns how many bytes the send buffer took; ``accept``
returns a connected socket or raises ``BlockingIOError``; ``connect`` starts the handshake
(watch ``readiness()`` or ``state``). Errors surface as the OSError subclasses Python's
sockets raise (ConnectionResetError, ConnectionRefusedError, TimeoutError, ...).
"""

from __future__ import annotations

import errno
from enum import IntFlag
from typing import TYPE_CHECKING

from nodes.stack.tcp import congestion
from nodes.stack.tcp.config import SocketOptions
from nodes.stack.tcp.states import CAN_SEND, State

if TYPE_CHECKING:
    from nodes.stack.tcp.connection import Connection
    from nodes.stack.tcp.demux import Listener
    from nodes.stack.tcp.engine import TcpEngine
    from nodes.stack.tcp.info import TcpInfo

SHUT_RD, SHUT_WR, SHUT_RDWR = 0, 1, 2


class Readiness(IntFlag):
    NONE = 0
    READABLE = 1  # data, end of stream, an error, or (listener) a connection to accept
    WRITABLE = 2  # connected and the send buffer has room
    ERROR = 4
    HUP = 8  # both directions finished / closed
    CONNECTED = 16


_READABLE, _WRITABLE, _ERROR, _HUP, _CONNECTED = (
    int(Readiness.READABLE), int(Readiness.WRITABLE), int(Readiness.ERROR),
    int(Readiness.HUP), int(Readiness.CONNECTED),
)  # fmt: skip


def _oserror(name: str) -> OSError:
    code = getattr(errno, name, errno.EIO)
    return OSError(code, f"{name}: {errno.errorcode.get(code, name)}")


class TcpSocket:
    def __init__(self, engine: TcpEngine, conn: Connection | None = None) -> None:
        self._engine = engine
        self._conn = conn
        self._listener: Listener | None = None
        self.options = conn.opts if conn is not None else SocketOptions()
        self._bound: tuple[int, int] = (0, 0)
        self._read_shut = False

    # ---------------------------------------------------------------- setup
    def bind(self, address: int = 0, port: int = 0) -> None:
        self._bound = (address, port)

    def listen(self, backlog: int = 128) -> None:
        address, port = self._bound
        if port == 0:
            raise OSError(errno.EINVAL, "EINVAL: bind() a port before listen()")
        self._listener = self._engine.listen(address, port, backlog, self.options)

    def accept(self) -> TcpSocket:
        listener = self._require_listener()
        if not listener.accept_queue:
            raise BlockingIOError(errno.EAGAIN, "EAGAIN: no connection to accept")
        return TcpSocket(self._engine, listener.accept_queue.popleft())

    def connect(self, address: int, port: int, *, now: float) -> None:
        if self._conn is not None:
            raise OSError(errno.EISCONN, "EISCONN: already connected")
        local, lport = self._bound
        self._conn = self._engine.connect(local, lport, address, port, self.options, now=now)

    # ---------------------------------------------------------------- data
    def send(
        self, data: bytes | bytearray | memoryview, *, now: float, urgent: bool = False
    ) -> int:
        conn = self._require_conn()
        self._raise_error(conn)
        if conn.state not in CAN_SEND and conn.state not in (State.SYN_SENT, State.SYN_RCVD):
            raise BrokenPipeError(errno.EPIPE, "EPIPE: the connection can no longer send")
        if not data:
            return 0
        n = conn.send(data, now=now, urgent=urgent)
        self._engine.touch(conn)
        if n == 0:
            raise BlockingIOError(errno.EAGAIN, "EAGAIN: the send buffer is full")
        return n

    def sendall_possible(self) -> int:
        """How many bytes send() would take now."""
        conn = self._require_conn()
        return conn.sndbuf.free() if not conn.fin_queued else 0

    def recv(self, n: int = 65536, *, now: float) -> bytes:
        conn = self._require_conn()
        if conn.rcvbuf.ready:
            out = conn.recv(n, now=now)
            self._engine.touch(conn)
            return out
        self._raise_error(conn)
        if conn.fin_received or self._read_shut or conn.state is State.CLOSED:
            return b""
        raise BlockingIOError(errno.EAGAIN, "EAGAIN: no data yet")

    def shutdown(self, how: int = SHUT_WR, *, now: float) -> None:
        conn = self._require_conn()
        if how in (SHUT_RD, SHUT_RDWR):
            self._read_shut = True
        if how in (SHUT_WR, SHUT_RDWR):
            conn.shutdown_write(now=now)
            self._engine.touch(conn)

    def close(self, *, now: float) -> None:
        if self._listener is not None:
            self._engine.close_listener(self._listener, now=now)
            return
        if self._conn is not None:
            self._conn.close(now=now)
            self._engine.touch(self._conn)

    def abort(self, *, now: float) -> None:
        if self._conn is not None:
            self._conn.abort(now=now)
            self._engine.touch(self._conn)

    # ---------------------------------------------------------------- options
    def set_nodelay(self, on: bool, *, now: float | None = None) -> None:
        self.options.nodelay = on
        if on and self._conn is not None and now is not None:
            self._conn._push(now)
            self._engine.touch(self._conn)

    def set_keepalive(
        self, on: bool, *, idle: float | None = None, interval: float | None = None,
        count: int | None = None, now: float | None = None,
    ) -> None:  # fmt: skip
        o = self.options
        o.keepalive, o.keepidle, o.keepintvl, o.keepcnt = on, idle, interval, count
        conn = self._conn
        if conn is not None:
            if on and now is not None:
                conn._arm_keepalive(now)
            elif not on:
                conn.t_keepalive = None
            self._engine.touch(conn)

    def set_linger(self, seconds: float | None) -> None:
        self.options.linger = seconds

    def set_buffer_sizes(self, *, rcvbuf: int | None = None, sndbuf: int | None = None) -> None:
        if rcvbuf is not None:
            self.options.rcvbuf = rcvbuf
            if self._conn is not None:
                self._conn.rcvbuf.capacity = rcvbuf
        if sndbuf is not None:
            self.options.sndbuf = sndbuf
            if self._conn is not None:
                self._conn.sndbuf.capacity = sndbuf

    def set_congestion(self, name: str) -> None:
        if name not in congestion.ALGORITHMS:
            congestion.create(name, 1)  # raises with the list of names
        self.options.congestion = name
        conn = self._conn
        if conn is not None and conn.cc.name != name:
            new = congestion.create(name, conn.mss, hystart=conn.cfg.hystart)
            new.cwnd, new.ssthresh = conn.cc.cwnd, conn.cc.ssthresh
            conn.cc = new

    # ---------------------------------------------------------------- state
    @property
    def state(self) -> str:
        if self._listener is not None:
            return "CLOSED" if self._listener.closed else "LISTEN"
        return self._conn.state.name if self._conn is not None else "CLOSED"

    @property
    def error(self) -> str | None:
        return self._conn.error if self._conn is not None else None

    @property
    def local(self) -> tuple[int, int]:
        if self._conn is not None:
            return (self._conn.local, self._conn.lport)
        if self._listener is not None:
            return (self._listener.local, self._listener.port)
        return self._bound

    @property
    def remote(self) -> tuple[int, int] | None:
        return (self._conn.remote, self._conn.rport) if self._conn is not None else None

    @property
    def urgent_mark(self) -> int | None:
        """Bytes readable before the urgent mark (SIOCATMARK when 0), None if no URG."""
        conn = self._conn
        if conn is None or conn.rcv_up is None:
            return None
        first_unread = conn.rcvbuf.nxt - len(conn.rcvbuf.ready)
        return max(conn.rcv_up - first_unread, 0)

    def readiness(self) -> Readiness:
        return Readiness(self.ready_bits())

    def ready_bits(self) -> int:
        """:meth:`readiness` as a plain int (the same bits): apps poll it every loop turn,
        and IntFlag arithmetic goes through the enum machinery on every ``|``/``&``."""
        if self._listener is not None:
            return _READABLE if self._listener.accept_queue else 0
        conn = self._conn
        if conn is None:
            return 0
        r = 0
        if conn.rcvbuf.ready or conn.fin_received or conn.error:
            r = _READABLE | _ERROR if conn.error else _READABLE
        state = conn.state
        if state in CAN_SEND and not conn.fin_queued and conn.sndbuf.free():
            r |= _WRITABLE
        if state is not State.SYN_SENT and state is not State.CLOSED:
            r |= _CONNECTED
        if state is State.CLOSED or (conn.fin_received and conn.fin_queued):
            r |= _HUP
        return r

    def info(self) -> TcpInfo | None:
        return self._conn.info() if self._conn is not None else None

    @property
    def connection(self) -> Connection | None:
        return self._conn

    # ---------------------------------------------------------------- helpers
    def _require_conn(self) -> Connection:
        if self._conn is None:
            raise OSError(errno.ENOTCONN, "ENOTCONN: not connected")
        return self._conn

    def _require_listener(self) -> Listener:
        if self._listener is None:
            raise OSError(errno.EINVAL, "EINVAL: not listening")
        return self._listener

    @staticmethod
    def _raise_error(conn: Connection) -> None:
        if conn.error:
            raise _oserror(conn.error)
