"""TCP bulk transfer: a sender that streams ``size`` deterministic bytes and a sink that
counts and hashes every connection it accepts (like iperf3 -n with checksums).

The sender connects, writes the pattern stream (:mod:`nodes.apps.data`) in 64 KiB
chunks whenever the socket is writable, half-closes, and finishes when the sink closes
its side in turn (so "done" means the sink has read every byte). Meanwhile it samples
its connection's ``TcpInfo`` every ``sample_interval`` seconds: cwnd, ssthresh, bytes in
flight and srtt over time (the sawtooth of a congestion controller).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from nodes.apps.base import CHUNK, RECV_CHUNK, PolledApp, errno_name, goodput_bps, tcp_engine
from nodes.apps.data import PatternStream, sha256
from nodes.stack.tcp.api import SHUT_WR, Readiness, TcpSocket

if TYPE_CHECKING:
    from hashlib import _Hash

    from nodes.stack.host import Host
    from nodes.stack.tcp.info import TcpInfo

# TcpSocket.ready_bits() is a plain int: no enum arithmetic on the per-turn polls
_READABLE, _WRITABLE = int(Readiness.READABLE), int(Readiness.WRITABLE)
_CONNECTED = int(Readiness.CONNECTED)


@dataclass(frozen=True, slots=True)
class TcpSample:
    """One look at the sender's connection (``ss -ti`` fields worth plotting)."""

    time: float
    cwnd: int  # segments
    ssthresh: int | None  # segments; None while still infinite (slow start)
    in_flight: int  # bytes sent and not yet acknowledged
    srtt: float | None  # seconds
    retrans: int  # retransmitted segments so far
    ca_state: str  # open / recovery / loss


@dataclass(frozen=True, slots=True)
class SenderResult:
    bytes: int  # application bytes handed to TCP
    sha256: str
    start: float  # connect() called
    connected: float | None  # handshake completed
    end: float | None  # the sink closed its side after reading everything
    goodput_bps: float  # bytes * 8 / (end - start)
    retrans: int  # retransmitted segments (TcpInfo.retrans)
    bytes_retrans: int
    error: str | None  # errno name when the transfer failed
    info: TcpInfo | None  # the last TcpInfo seen


@dataclass(frozen=True, slots=True)
class SinkResult:
    remote: tuple[int, int]  # (address, port) of the sender
    bytes: int
    sha256: str
    start: float  # accepted
    end: float  # end of stream (or the error)
    goodput_bps: float
    error: str | None


class BulkSender(PolledApp):
    kind = "bulk-send"

    def __init__(
        self,
        host: Host,
        dst: int,
        port: int,
        size: int,
        *,
        seed: int = 1,
        chunk: int = CHUNK,
        sample_interval: float | None = None,
        src_port: int = 0,
        congestion: str | None = None,
        sndbuf: int | None = None,
        nodelay: bool = False,
    ) -> None:
        super().__init__(host)
        if sample_interval is not None and sample_interval <= 0:
            raise ValueError(f"sample_interval must be > 0, got {sample_interval}")
        self.dst, self.port, self.size = dst, port, size
        self.chunk = chunk
        self.sample_interval = sample_interval
        self.samples: list[TcpSample] = []
        self.sock: TcpSocket = tcp_engine(host).socket()
        self.sock.bind(0, src_port)
        if congestion is not None:
            self.sock.set_congestion(congestion)
        if sndbuf is not None:
            self.sock.set_buffer_sizes(sndbuf=sndbuf)
        self.sock.options.nodelay = nodelay
        self._stream = PatternStream(seed, size)
        self._sha = sha256()
        self._start: float | None = None
        self._connected: float | None = None
        self._shut = False
        self._next_sample: float | None = None
        self.result: SenderResult | None = None

    @property
    def done(self) -> bool:
        return self.result is not None

    @property
    def bytes_sent(self) -> int:
        return self.size - self._stream.remaining

    def start(self, *, now: float) -> None:
        self._start = now
        self._attach(now)
        try:
            self.sock.connect(self.dst, self.port, now=now)
        except OSError as err:
            self._finish(now, errno_name(err))
            return
        if self.sample_interval is not None:
            self._next_sample = now

    def close(self, *, now: float) -> None:
        """Stop early: abort the connection (the result records ECANCELED)."""
        if self.result is None:
            self.sock.abort(now=now)
            self._finish(now, "ECANCELED")

    # ---- PolledApp ---------------------------------------------------------------
    def _wants_service(self) -> bool:
        if self.result is not None:
            return False
        ready = self.sock.ready_bits()
        if ready & _READABLE:
            return True
        if self._shut:
            return False
        return bool(ready & _WRITABLE)

    def _timer_deadline(self) -> float | None:
        return self._next_sample

    def _service(self, now: float) -> None:
        if self.result is not None:
            return
        if self._next_sample is not None and self._next_sample <= now:
            self._sample(now)
            assert self.sample_interval is not None
            self._next_sample = now + self.sample_interval
        sock = self.sock
        ready = sock.ready_bits()
        if self._connected is None and ready & _CONNECTED:
            self._connected = now
        if not self._shut:
            self._write(now)
        if ready & _READABLE:
            self._read(now)

    def _write(self, now: float) -> None:
        sock, stream = self.sock, self._stream
        if not sock.ready_bits() & _WRITABLE:
            return
        try:
            while stream.remaining:
                block = stream.peek(self.chunk)
                n = sock.send(block, now=now)
                self._sha.update(block[:n])
                stream.advance(n)
            sock.shutdown(SHUT_WR, now=now)
            self._shut = True
        except BlockingIOError:
            return
        except OSError as err:
            self._finish(now, errno_name(err))

    def _read(self, now: float) -> None:
        """The sink sends nothing; EOF (its FIN) or an error ends the transfer."""
        try:
            while self.sock.recv(RECV_CHUNK, now=now):
                pass
        except BlockingIOError:
            return
        except OSError as err:
            self._finish(now, errno_name(err))
            return
        self._finish(now, None if self._shut else "ECONNRESET")

    def _sample(self, now: float) -> None:
        info = self.sock.info()
        if info is None:
            return
        self.samples.append(
            TcpSample(now, info.cwnd, info.ssthresh, info.unacked, info.srtt, info.retrans,
                      info.ca_state)
        )  # fmt: skip

    def _finish(self, now: float, error: str | None) -> None:
        info = self.sock.info()
        if self.sample_interval is not None:
            self._sample(now)
        self._next_sample = None
        start = self._start if self._start is not None else now
        sent = self.bytes_sent
        end = now if error is None else None
        self.result = SenderResult(
            bytes=sent,
            sha256=self._sha.hexdigest(),
            start=start,
            connected=self._connected,
            end=end,
            goodput_bps=goodput_bps(sent, start, end),
            retrans=info.retrans if info is not None else 0,
            bytes_retrans=info.bytes_retrans if info is not None else 0,
            error=error,
            info=info,
        )
        if error is None:
            self.sock.close(now=now)
        self._detach()


@dataclass(slots=True, eq=False)
class _Incoming:
    sock: TcpSocket
    remote: tuple[int, int]
    start: float
    sha: _Hash
    bytes: int = 0
    finished: bool = False


class BulkSink(PolledApp):
    """Listens on ``port``, accepts any number of connections, reads them to the end."""

    kind = "sink"

    def __init__(
        self,
        host: Host,
        port: int,
        *,
        address: int = 0,
        backlog: int = 128,
        rcvbuf: int | None = None,
        recv_chunk: int = RECV_CHUNK,
    ) -> None:
        super().__init__(host)
        self.port = port
        self.recv_chunk = recv_chunk
        self.listener: TcpSocket = tcp_engine(host).socket()
        self.listener.bind(address, port)
        if rcvbuf is not None:
            self.listener.set_buffer_sizes(rcvbuf=rcvbuf)
        self._backlog = backlog
        self.active: list[_Incoming] = []
        self.results: list[SinkResult] = []
        self.accepted = 0

    @property
    def total_bytes(self) -> int:
        return sum(r.bytes for r in self.results) + sum(c.bytes for c in self.active)

    def start(self, *, now: float) -> None:
        self.listener.listen(self._backlog)
        self._attach(now)

    def close(self, *, now: float) -> None:
        self.listener.close(now=now)
        for conn in self.active:
            conn.sock.abort(now=now)
            self._record(conn, now, "ECANCELED")
        self.active.clear()
        self._detach()

    def _wants_service(self) -> bool:
        if self.listener.ready_bits() & _READABLE:
            return True
        return any(c.sock.ready_bits() & _READABLE for c in self.active)

    def _service(self, now: float) -> None:
        while True:
            try:
                sock = self.listener.accept()
            except BlockingIOError:
                break
            remote = sock.remote or (0, 0)
            self.active.append(_Incoming(sock, remote, now, sha256()))
            self.accepted += 1
        ended = False
        for conn in self.active:
            if conn.sock.ready_bits() & _READABLE:
                ended |= self._drain(conn, now)
        if ended:
            self.active = [c for c in self.active if not c.finished]

    def _drain(self, conn: _Incoming, now: float) -> bool:
        """Read what is there; True when the connection ended (and was recorded)."""
        sock, update, size = conn.sock, conn.sha.update, self.recv_chunk
        try:
            while data := sock.recv(size, now=now):
                update(data)
                conn.bytes += len(data)
        except BlockingIOError:
            return False
        except OSError as err:
            self._record(conn, now, errno_name(err))
            sock.abort(now=now)
            return True
        self._record(conn, now, None)
        sock.close(now=now)
        return True

    def _record(self, conn: _Incoming, now: float, error: str | None) -> None:
        conn.finished = True
        self.results.append(
            SinkResult(
                remote=conn.remote,
                bytes=conn.bytes,
                sha256=conn.sha.hexdigest(),
                start=conn.start,
                end=now,
                goodput_bps=goodput_bps(conn.bytes, conn.start, now),
                error=error,
            )
        )
