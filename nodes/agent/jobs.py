"""Long-running work for the agent's RPCs (ping, traceroute, bulk send, HTTP GET, UDP
send): sans-I/O apps from :mod:`nodes.apps` started inside the loop and watched until
they finish, their deadline passes, or the RPC is cancelled.

The :class:`JobManager` is a timer client of the host: its deadline is the earliest job
deadline, or "now" as soon as a job's work is done (``ready()``: a cheap look at the
app), so the loop completes the job in the same turn -- whether a frame or a timer
finished it. A job completes its Future from the loop thread; the gRPC thread waiting on
it only translates the outcome.
"""

from __future__ import annotations

import itertools
from abc import ABC, abstractmethod
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from nodes.agent.errors import CancelledError
from nodes.apps.bulk import BulkSender, SenderResult, TcpSample
from nodes.apps.http import HttpClient, HttpResult
from nodes.apps.ping import Ping, PingError, PingReply
from nodes.apps.traceroute import Probe, Traceroute
from nodes.apps.udp import UdpSender
from nodes.stack.host import Host

T = TypeVar("T")
FIRST_IDENT = 0x5700  # ICMP idents of a node's agent pings/traceroutes count up from here


class Job(ABC, Generic[T]):
    """Base class. ``deadline``: when :meth:`expire` ends the job (None: no limit)."""

    def __init__(self, host: Host, timeout: float | None) -> None:
        self.host = host
        self.timeout = timeout
        self.deadline: float | None = None
        self.future: Future[T] = Future()

    def start(self, now: float) -> None:
        self.deadline = None if self.timeout is None else now + self.timeout

    @abstractmethod
    def ready(self) -> bool:
        """Is the work done? (cheap: called whenever the loop computes its deadline)"""
        ...

    @abstractmethod
    def outcome(self, now: float) -> T:
        """The result, once ready."""
        ...

    @abstractmethod
    def expire(self, now: float) -> T:
        """The deadline passed: stop and report what there is."""
        ...

    def abort(self, now: float) -> None:
        """Cancelled: release sockets and listeners."""


class JobManager:
    def __init__(self, host: Host) -> None:
        self._jobs: list[Job[Any]] = []
        # Per node, not per process: a process-wide counter would give a node different
        # idents depending on what else ran in the process (and break bit-exact replay).
        self._idents = itertools.count(FIRST_IDENT)
        host.attach(self)

    def next_ident(self) -> int:
        """An ICMP ident for the next ping or traceroute of this node."""
        return next(self._idents) & 0xFFFF

    @property
    def active(self) -> int:
        return len(self._jobs)

    def submit(self, job: Job[T], now: float) -> Future[T]:
        """Loop thread: start ``job`` (exceptions propagate and nothing is left behind)."""
        job.start(now)
        self._jobs.append(job)
        return job.future

    def cancel(self, job: Job[Any], now: float, reason: str = "cancelled") -> None:
        if job not in self._jobs:
            return
        self._jobs.remove(job)
        job.abort(now)
        job.future.set_exception(CancelledError(reason))

    def cancel_all(self, now: float, reason: str = "the node is stopping") -> None:
        for job in list(self._jobs):
            self.cancel(job, now, reason)

    # ---- TimerClient -------------------------------------------------------------
    def next_deadline(self) -> float | None:
        best = None
        for job in self._jobs:
            if job.ready():
                return 0.0  # due at once
            if job.deadline is not None and (best is None or job.deadline < best):
                best = job.deadline
        return best

    def on_timer(self, *, now: float) -> None:
        for job in list(self._jobs):
            try:
                if job.ready():
                    outcome = job.outcome(now)
                elif job.deadline is not None and now >= job.deadline:
                    outcome = job.expire(now)
                else:
                    continue
            except Exception as exc:  # a bug in an app must not kill the loop
                self._jobs.remove(job)
                job.future.set_exception(exc)
                continue
            self._jobs.remove(job)
            job.future.set_result(outcome)


# ---- ping ---------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class PingOutcome:
    sent: dict[int, float]  # seq -> send time
    replies: dict[int, PingReply]
    errors: tuple[PingError, ...]
    send_failures: int


class PingJob(Job[PingOutcome]):
    def __init__(
        self, host: Host, dst: int, *, count: int, interval: float, size: int, timeout: float,
        ident: int, ttl: int | None = None, df: bool = False, record_route: bool = False,
    ) -> None:  # fmt: skip
        super().__init__(host, (count - 1) * interval + timeout)
        self.count = count
        self.interval = interval
        self.ping = Ping(host, dst, ident=ident, size=size, df=df, ttl=ttl,
                         record_route=record_route)  # fmt: skip

    def start(self, now: float) -> None:
        super().start(now)
        self.ping.start(self.count, now=now, interval=self.interval)

    def ready(self) -> bool:
        ping = self.ping
        return len(ping.sent) >= self.count and all(ping.answered(s) for s in ping.sent)

    def outcome(self, now: float) -> PingOutcome:
        return self._finish()

    def expire(self, now: float) -> PingOutcome:
        return self._finish()

    def abort(self, now: float) -> None:
        self.ping.close()

    def _finish(self) -> PingOutcome:
        ping = self.ping
        ping.close()
        return PingOutcome(dict(ping.sent), dict(ping.replies), tuple(ping.errors),
                           ping.send_failures)  # fmt: skip


# ---- traceroute -------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class TracerouteOutcome:
    probes: tuple[Probe, ...]
    reached: bool


class TracerouteJob(Job[TracerouteOutcome]):
    def __init__(
        self, host: Host, dst: int, *, method: str, max_hops: int, probes: int, wait: float,
        ident: int,
    ) -> None:  # fmt: skip
        super().__init__(host, max_hops * probes * wait + 1.0)
        self.trace = Traceroute(host, dst, method=method, max_hops=max_hops, probes=probes,
                                wait=wait, ident=ident)  # fmt: skip

    def start(self, now: float) -> None:
        super().start(now)
        self.trace.start(now=now)

    def ready(self) -> bool:
        return self.trace.done

    def outcome(self, now: float) -> TracerouteOutcome:
        return TracerouteOutcome(tuple(self.trace.results), self.trace.reached)

    def expire(self, now: float) -> TracerouteOutcome:
        self.abort(now)
        return TracerouteOutcome(tuple(self.trace.results), self.trace.reached)

    def abort(self, now: float) -> None:
        self.host.remove_icmp_listener(self.trace)
        self.host.detach(self.trace)


# ---- bulk send ----------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class BulkOutcome:
    result: SenderResult
    samples: tuple[TcpSample, ...]
    local_port: int


class BulkSendJob(Job[BulkOutcome]):
    def __init__(self, host: Host, sender: BulkSender, *, timeout: float | None) -> None:
        super().__init__(host, timeout)
        self.sender = sender

    def start(self, now: float) -> None:
        super().start(now)
        self.sender.start(now=now)

    def ready(self) -> bool:
        return self.sender.result is not None

    def outcome(self, now: float) -> BulkOutcome:
        result = self.sender.result
        assert result is not None
        return BulkOutcome(result, tuple(self.sender.samples), self.sender.sock.local[1])

    def expire(self, now: float) -> BulkOutcome:
        self.sender.close(now=now)
        outcome = self.outcome(now)
        result = outcome.result
        return BulkOutcome(
            SenderResult(result.bytes, result.sha256, result.start, result.connected, None, 0.0,
                         result.retrans, result.bytes_retrans, "ETIMEDOUT", result.info),
            outcome.samples,
            outcome.local_port,
        )  # fmt: skip

    def abort(self, now: float) -> None:
        self.sender.close(now=now)


# ---- HTTP GET -----------------------------------------------------------------------------
class HttpGetJob(Job[HttpResult]):
    def __init__(self, host: Host, url: str, *, timeout: float) -> None:
        super().__init__(host, None)  # the client enforces its own timeout
        self.client = HttpClient(host, url, timeout=timeout)

    def start(self, now: float) -> None:
        super().start(now)
        self.client.start(now=now)

    def ready(self) -> bool:
        return self.client.done

    def outcome(self, now: float) -> HttpResult:
        return self.client.results[0]

    def expire(self, now: float) -> HttpResult:
        # The job sets no deadline of its own (the client times out first), but should one
        # pass, closing the client records the partial result with its error.
        self.client.close(now=now)
        return self.client.results[0]

    def abort(self, now: float) -> None:
        self.client.close(now=now)


# ---- UDP send -----------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class UdpOutcome:
    sent: int
    rtts: tuple[float, ...]
    duplicates: int
    send_failures: int


class UdpSendJob(Job[UdpOutcome]):
    def __init__(
        self, host: Host, dst: int, port: int, *, count: int, size: int, interval: float,
        wait: float,
    ) -> None:  # fmt: skip
        super().__init__(host, max(count - 1, 0) * interval + wait)
        self.sender = UdpSender(host, dst, port, count=count, size=size, interval=interval)

    def start(self, now: float) -> None:
        super().start(now)
        self.sender.start(now=now)

    def ready(self) -> bool:
        s = self.sender
        return s.done_sending and not s.lost

    def outcome(self, now: float) -> UdpOutcome:
        return self.expire(now)

    def expire(self, now: float) -> UdpOutcome:
        s = self.sender
        s.close(now=now)
        return UdpOutcome(len(s.sent), tuple(s.rtts.values()), s.duplicates, s.send_failures)

    def abort(self, now: float) -> None:
        self.sender.close(now=now)
