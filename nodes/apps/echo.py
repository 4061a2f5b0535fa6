"""Echo (RFC 862) over TCP and UDP, and a TCP echo client that measures round trips.

The TCP server applies back-pressure: bytes it could not send yet stay pending and it
reads no more from that connection until they are out (a slow reader cannot make it
buffer without bound). When the client half-closes, the server finishes echoing and
closes too.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from nodes.apps.base import CHUNK, PolledApp, TcpServerApp, UdpServerApp, errno_name, tcp_engine
from nodes.apps.data import pattern_bytes
from nodes.stack.tcp.api import SHUT_WR, Readiness, TcpSocket

if TYPE_CHECKING:
    from nodes.stack.host import Host
    from nodes.stack.udp import Address, UdpEndpoint

# TcpSocket.ready_bits() is a plain int: no enum arithmetic on the per-turn polls
_READABLE, _WRITABLE = int(Readiness.READABLE), int(Readiness.WRITABLE)
_ERROR = int(Readiness.ERROR)


@dataclass(slots=True, eq=False)
class _EchoConn:
    sock: TcpSocket
    pending: bytearray = field(default_factory=bytearray)
    eof: bool = False


class TcpEchoServer(TcpServerApp[_EchoConn]):
    kind = "echo"

    def __init__(self, host: Host, port: int = 7, *, address: int = 0, backlog: int = 128):
        super().__init__(host, port, address=address, backlog=backlog)
        self.bytes_echoed = 0
        self.errors = 0

    def _new_conn(self, sock: TcpSocket, now: float) -> _EchoConn:
        return _EchoConn(sock)

    def _actionable(self, conn: _EchoConn) -> bool:
        ready = conn.sock.ready_bits()
        if ready & _ERROR:
            return True
        if conn.pending:
            return bool(ready & _WRITABLE)
        return conn.eof or bool(ready & _READABLE)

    def _service(self, now: float) -> None:
        self._accept(now)
        self.conns = [c for c in self.conns if not self._actionable(c) or self._serve(c, now)]

    def _serve(self, conn: _EchoConn, now: float) -> bool:
        """Move bytes; False when the connection is finished."""
        sock = conn.sock
        try:
            while True:
                if conn.pending:
                    n = sock.send(conn.pending, now=now)
                    self.bytes_echoed += n
                    del conn.pending[:n]
                    continue
                if conn.eof:
                    sock.close(now=now)
                    return False
                data = sock.recv(CHUNK, now=now)
                if not data:
                    conn.eof = True
                conn.pending += data
        except BlockingIOError:
            return True
        except OSError:
            self.errors += 1
            sock.abort(now=now)
            return False


class UdpEchoServer(UdpServerApp):
    kind = "udp-echo"

    def __init__(self, host: Host, port: int = 7, *, address: int = 0) -> None:
        super().__init__(host, port, address=address)
        self.send_failures = 0

    def _datagram(self, ep: UdpEndpoint, data: bytes, peer: Address, now: float) -> None:
        if not ep.sendto(data, peer, now=now):
            self.send_failures += 1


@dataclass(frozen=True, slots=True)
class EchoResult:
    rtts: tuple[float, ...]  # one per message, seconds
    bytes: int  # bytes echoed back and verified
    mismatches: int  # messages whose echo differed
    error: str | None
    end: float


class TcpEchoClient(PolledApp):
    """Sends ``count`` messages of ``size`` bytes one at a time, each after the echo of
    the previous one came back complete, and checks every echo."""

    kind = "echo-client"

    def __init__(
        self, host: Host, dst: int, port: int = 7, *, count: int = 10, size: int = 64,
        seed: int = 1, src_port: int = 0,
    ) -> None:  # fmt: skip
        super().__init__(host)
        if count < 0 or size < 1:
            raise ValueError(f"count must be >= 0 and size >= 1, got {count}, {size}")
        self.dst, self.port, self.count, self.size = dst, port, count, size
        self._message = pattern_bytes(size, seed)
        self.sock: TcpSocket = tcp_engine(host).socket()
        self.sock.bind(0, src_port)
        self.sock.options.nodelay = True
        self.rtts: list[float] = []
        self.mismatches = 0
        self._sent_at: float | None = None
        self._out = bytearray()
        self._in = bytearray()
        self._shut = False
        self.result: EchoResult | None = None

    @property
    def done(self) -> bool:
        return self.result is not None

    def start(self, *, now: float) -> None:
        self._attach(now)
        try:
            self.sock.connect(self.dst, self.port, now=now)
        except OSError as err:
            self._finish(now, errno_name(err))

    def close(self, *, now: float) -> None:
        if self.result is None:
            self.sock.abort(now=now)
            self._finish(now, "ECANCELED")

    def _wants_service(self) -> bool:
        if self.result is not None:
            return False
        ready = self.sock.ready_bits()
        if ready & _READABLE:
            return True
        waiting = self._sent_at is not None
        return bool(ready & _WRITABLE) and (bool(self._out) or (not waiting and not self._shut))

    def _service(self, now: float) -> None:
        # a completed echo lets the next message go out at once
        while self.result is None and self._write(now) and self._read(now):
            pass

    def _write(self, now: float) -> bool:
        """Queue the next message (or the half-close) and send; False on an error."""
        sock = self.sock
        try:
            if self._sent_at is None and not self._shut and sock.ready_bits() & _WRITABLE:
                if len(self.rtts) < self.count:
                    self._out += self._message
                    self._sent_at = now
                else:
                    sock.shutdown(SHUT_WR, now=now)
                    self._shut = True
            while self._out:
                del self._out[: sock.send(self._out, now=now)]
        except BlockingIOError:
            pass
        except OSError as err:
            self._finish(now, errno_name(err))
            return False
        return True

    def _read(self, now: float) -> bool:
        """Read what is there; True when an echo completed."""
        try:
            while data := self.sock.recv(CHUNK, now=now):
                self._in += data
                if len(self._in) >= self.size and self._sent_at is not None:
                    if self._in[: self.size] != self._message:
                        self.mismatches += 1
                    del self._in[: self.size]
                    self.rtts.append(now - self._sent_at)
                    self._sent_at = None
                    return True
        except BlockingIOError:
            return False
        except OSError as err:
            self._finish(now, errno_name(err))
            return False
        ok = self._shut and len(self.rtts) == self.count and not self._in
        self._finish(now, None if ok else "ECONNRESET")
        return False

    def _finish(self, now: float, error: str | None) -> None:
        n = len(self.rtts)
        self.result = EchoResult(tuple(self.rtts), n * self.size, self.mismatches, error, now)
        if error is None:
            self.sock.close(now=now)
        self._detach()
