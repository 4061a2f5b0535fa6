"""Plumbing shared by the sans-I/O applications.

Sockets of our stack have no callbacks: an application learns that something happened
by looking at its sockets. A :class:`PolledApp` is attached to its host as a timer
client and asks to run (``next_deadline()`` returns the last time it ran, i.e. "now")
whenever one of its sockets is ready for what it is waiting for; otherwise its deadline
is its own next timer, if any. The host (and the simulation or the runtime around it)
calls ``on_timer`` at once, the app does all the work it can, and the readiness that
woke it is consumed. No threads, no clock: time only comes in as ``now``.
"""

from __future__ import annotations

import errno
from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, Generic, Protocol, TypeVar

from nodes.stack.tcp.api import Readiness, TcpSocket
from nodes.stack.tcp.engine import TcpEngine

if TYPE_CHECKING:
    from nodes.stack.host import Host
    from nodes.stack.udp import Address, UdpEndpoint

CHUNK = 65536  # bytes per send() of a bulk writer
RECV_CHUNK = 1 << 20  # bytes per recv() of a reader
SPIN_LIMIT = 10000  # services at one instant before an app is declared stuck
_READABLE = int(Readiness.READABLE)  # TcpSocket.ready_bits() is a plain int


def tcp_engine(host: Host) -> TcpEngine:
    """The host's TCP engine (every Host has one)."""
    return host.tcp


def errno_name(err: OSError) -> str:
    """'ECONNRESET' for the OSErrors the stack's sockets raise."""
    if err.errno is not None and err.errno in errno.errorcode:
        return errno.errorcode[err.errno]
    return type(err).__name__


def goodput_bps(nbytes: int, start: float, end: float | None) -> float:
    """Application bytes per second of ``start``..``end``, in bits per second."""
    if end is None or end <= start:
        return 0.0
    return nbytes * 8 / (end - start)


class PolledApp:
    """Base class: attach to a host, run when a socket is ready or a timer is due."""

    kind = "app"

    def __init__(self, host: Host) -> None:
        self.host = host
        self._now = 0.0
        self._attached = False
        self._spins = 0

    # ---- what subclasses provide -------------------------------------------------
    def _wants_service(self) -> bool:
        """True when a socket is ready for what the app waits for."""
        return False

    def _timer_deadline(self) -> float | None:
        """The app's own next timer (sampling, pacing, idle timeouts)."""
        return None

    def _service(self, now: float) -> None:
        """Do everything that can be done now; must consume the readiness that woke it."""

    # ---- TimerClient -------------------------------------------------------------
    def next_deadline(self) -> float | None:
        due = self._timer_deadline()
        if self._wants_service():
            return self._now if due is None else min(due, self._now)
        return due

    def on_timer(self, *, now: float) -> None:
        if now == self._now and self._wants_service():
            self._spins += 1
            if self._spins > SPIN_LIMIT:
                raise RuntimeError(
                    f"{self.kind} app on {self.host.name} stays ready without progress at "
                    f"t={now}: its _service does not consume what _wants_service sees"
                )
        else:
            self._spins = 0
        self._now = now
        self._service(now)

    # ---- attachment --------------------------------------------------------------
    def _attach(self, now: float) -> None:
        self._now = now
        if not self._attached:
            self._attached = True
            self.host.attach(self)

    def _detach(self) -> None:
        if self._attached:
            self._attached = False
            self.host.detach(self)


# ---- servers -----------------------------------------------------------------------------


class _Conn(Protocol):
    @property
    def sock(self) -> TcpSocket: ...


ConnT = TypeVar("ConnT", bound=_Conn)


class TcpServerApp(PolledApp, ABC, Generic[ConnT]):
    """A TCP server: listens on ``port``, accepts every connection into ``conns`` (made by
    ``_new_conn``), is woken by a new connection or by one that ``_actionable`` says needs
    service; closing aborts the connections still open."""

    def __init__(self, host: Host, port: int, *, address: int, backlog: int) -> None:
        super().__init__(host)
        self.port = port
        self.listener: TcpSocket = tcp_engine(host).socket()
        self.listener.bind(address, port)
        self._backlog = backlog
        self.conns: list[ConnT] = []
        self.accepted = 0

    def start(self, *, now: float) -> None:
        self.listener.listen(self._backlog)
        self._attach(now)

    def close(self, *, now: float) -> None:
        self.listener.close(now=now)
        for conn in self.conns:
            conn.sock.abort(now=now)
        self.conns.clear()
        self._detach()

    # ---- what subclasses provide -------------------------------------------------
    @abstractmethod
    def _new_conn(self, sock: TcpSocket, now: float) -> ConnT: ...

    @abstractmethod
    def _actionable(self, conn: ConnT) -> bool: ...

    # ---- PolledApp ---------------------------------------------------------------
    def _wants_service(self) -> bool:
        if self.listener.ready_bits() & _READABLE:
            return True
        return any(self._actionable(c) for c in self.conns)

    def _accept(self, now: float) -> None:
        """Accept every pending connection."""
        while True:
            try:
                sock = self.listener.accept()
            except BlockingIOError:
                return
            self.accepted += 1
            self.conns.append(self._new_conn(sock, now))


class UdpServerApp(PolledApp):
    """A UDP server: bound to ``port`` while started, counts what arrives and hands each
    datagram to ``_datagram``."""

    def __init__(self, host: Host, port: int, *, address: int) -> None:
        super().__init__(host)
        self.port, self._address = port, address
        self.endpoint: UdpEndpoint | None = None
        self.datagrams = 0
        self.bytes = 0

    def start(self, *, now: float) -> None:
        self.endpoint = self.host.udp.bind(self.port, self._address)
        self._attach(now)

    def close(self, *, now: float) -> None:
        if self.endpoint is not None:
            self.endpoint.close()
        self._detach()

    def _datagram(self, ep: UdpEndpoint, data: bytes, peer: Address, now: float) -> None:
        """One datagram from ``peer`` (already counted)."""

    # ---- PolledApp ---------------------------------------------------------------
    def _wants_service(self) -> bool:
        return self.endpoint is not None and bool(self.endpoint.queue)

    def _service(self, now: float) -> None:
        ep = self.endpoint
        assert ep is not None
        while (item := ep.recvfrom()) is not None:
            data, peer = item
            self.datagrams += 1
            self.bytes += len(data)
            self._datagram(ep, data, peer, now)
