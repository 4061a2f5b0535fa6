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
from typing import TYPE_CHECKING

from nodes.stack.tcp.engine import TcpEngine

if TYPE_CHECKING:
    from nodes.stack.host import Host

CHUNK = 65536  # bytes per send() of a bulk writer
RECV_CHUNK = 1 << 20  # bytes per recv() of a reader
SPIN_LIMIT = 10000  # services at one instant before an app is declared stuck


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
