"""The event loop of a real node: one thread that owns the stack.

Each turn: sleep in epoll until a port is readable, a command arrives, or the next
deadline comes -- never longer, never busy (no sleep when something is due already);
read the ports, run the commands, then run what is due (frames an impairment held back,
fault expiry, the node's timers and apps) and write the node's output. Frames read
from a port go through the node's FaultEngine (INGRESS) into ``receive_frame``;
``frames_to_send()`` goes through it (EGRESS) onto the ports. Frames an impairment
delays wait in a heap until their release time. ``now`` is ``clock()``
(``time.monotonic`` by default; tests inject a fake one and drive ``run_once``).

MTU faults: when the node and the fault engine support them (a Host and a FaultEngine),
a :class:`~nodes.faults.mtu.MtuSync` applies the engine's MTU caps to the node's
interfaces every turn they changed (a fault added by a command, one that expired), before
the node's timers run; :meth:`Runner.sync_mtu` does it at once (the agent, after
AddFault/ClearFault) and tells the MTU listeners (the agent's LinkChange events).

Other threads (the gRPC agent) never touch the stack: they hand a callable to
:meth:`Runner.call`, which runs it inside the loop and returns a Future of its result.
A non-blocking eventfd wakes the loop for that and for :meth:`Runner.stop`.

Driven mode (``driven=True``, the virtual-time backend): no thread, selector or eventfd.
A :class:`~nodes.io.world.World` gives the runner turns: :meth:`Runner.turn` reads the
ports that have frames pending, runs what is due at ``now`` and returns when it next
needs a turn; :meth:`Runner.call` runs the callable at once (the caller holds the world's
lock, through the node's :class:`~nodes.io.world.Seat`).
"""

from __future__ import annotations

import contextlib
import heapq
import logging
import os
import select
import selectors
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from concurrent.futures import Future
from dataclasses import dataclass, fields
from typing import Any, Protocol, TypeVar

from nodes.faults.engine import attach_egress_gauge
from nodes.faults.model import Direction
from nodes.faults.mtu import MtuChange, MtuSync
from nodes.io.load import LoopLoad

T = TypeVar("T")
log = logging.getLogger(__name__)


class Node(Protocol):
    """The node-facing stack API (nodes/stack/host.py Host, nodes/router Router)."""

    def receive_frame(self, ifname: str, frame: bytes | memoryview, *, now: float) -> None: ...
    def frames_to_send(self) -> list[tuple[str, bytes]]: ...
    def next_deadline(self) -> float | None: ...
    def on_timer(self, *, now: float) -> None: ...


class Impairment(Protocol):
    """The FaultEngine shape (nodes/faults/engine.py)."""

    def process(
        self, ifname: str, direction: Direction, frame: bytes, *, now: float
    ) -> list[tuple[float, bytes]]: ...
    def active(self, ifname: str, direction: Direction) -> bool: ...
    def next_deadline(self) -> float | None: ...
    def on_timer(self, *, now: float) -> None: ...


class Port(Protocol):
    """One interface's frames (nodes/io/raw_socket.py RawSocket; fakes in tests)."""

    def fileno(self) -> int: ...
    def recv_batch(self, limit: int) -> list[bytes]: ...
    def send(self, frame: bytes) -> bool: ...


Tap = Callable[[str, Direction, bytes, float], None]  # (ifname, direction, frame, now)
Hook = Callable[[float], None]  # called with now after the input of every turn
MtuListener = Callable[[list[MtuChange], float], None]  # (changes, now) when MTUs changed

_INGRESS = 0  # a held frame goes to the node
_EGRESS = 1  # a held frame goes to the wire
_TIMER_ROUNDS = 8  # on_timer calls per turn while the node's deadline stays due
SMALL_QUEUE_SLACK = 0.005  # s: how late this loop's timers may fire (see Host.set_egress_gauge)


@dataclass(slots=True)
class RunnerCounters:
    turns: int = 0
    frames_in: int = 0  # read from the ports
    frames_delivered: int = 0  # handed to receive_frame (after ingress faults)
    frames_out: int = 0  # taken from frames_to_send
    frames_sent: int = 0  # accepted by a port (after egress faults)
    frames_send_failed: int = 0  # a port refused it (see its counters for why)
    frames_no_port: int = 0  # the node named an interface without a port
    frames_held: int = 0  # currently waiting in the delay heap
    node_timer_calls: int = 0
    node_errors: int = 0  # receive_frame raised: logged, frame dropped
    commands: int = 0

    def as_dict(self) -> dict[str, int]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


class RunnerStopped(RuntimeError):
    """A command was submitted to (or left in) a runner that stopped."""


class Runner:
    def __init__(
        self,
        node: Node,
        ports: Mapping[str, Port],
        *,
        faults: Impairment | None = None,
        clock: Callable[[], float] = time.monotonic,
        batch: int = 64,
        driven: bool = False,
    ) -> None:
        self.node = node
        self.ports = dict(ports)
        self.faults = faults
        self.clock = clock
        self.batch = batch
        self.stats = RunnerCounters()
        self.load = LoopLoad()
        self._held: list[tuple[float, int, int, str, bytes]] = []
        self._seq = 0
        self._taps: list[Tap] = []
        self._hooks: list[Hook] = []
        self.mtu_sync = None if faults is None else MtuSync.attach(node, faults)
        # its rate queues bound TCP's (small queues), with room for our timers' lateness
        attach_egress_gauge(node, faults, slack=SMALL_QUEUE_SLACK)
        self._mtu_listeners: list[MtuListener] = []
        self._commands: deque[tuple[Callable[[], Any], Future[Any]]] = deque()
        self._lock = threading.Lock()
        self._stopping = False
        self._stopped = False
        self._loop_thread: int | None = None
        self._closed = False
        self.driven = driven
        self._port_list = sorted(self.ports.items())  # driven: read in name order
        self._readers: dict[int, Hook] = {}  # driven: polled at each turn
        if driven:
            return
        self._wake_fd = os.eventfd(0, os.EFD_NONBLOCK | os.EFD_CLOEXEC)
        self._selector = selectors.DefaultSelector()
        self._selector.register(self._wake_fd, selectors.EVENT_READ, None)
        for ifname, port in self.ports.items():
            self._selector.register(port.fileno(), selectors.EVENT_READ, ifname)

    # ---- other threads ---------------------------------------------------------
    def call(self, fn: Callable[[], T]) -> Future[T]:
        """Run ``fn()`` inside the loop; the Future gets its result or exception. ``fn``
        must be quick (the node's traffic waits meanwhile) and must not block on another
        Future of this runner. From the loop thread itself it runs at once."""
        future: Future[T] = Future()
        if self.driven:
            if self._stopped or self._closed:
                future.set_exception(RunnerStopped("the node's event loop has stopped"))
            else:
                _settle(future, fn)
            return future
        if self._loop_thread == threading.get_ident():
            _settle(future, fn)
            return future
        with self._lock:
            if self._stopped or self._closed:
                future.set_exception(RunnerStopped("the node's event loop has stopped"))
                return future
            self._commands.append((fn, future))
            os.eventfd_write(self._wake_fd, 1)
        return future

    def stop(self) -> None:
        """Ask the loop to finish its turn and return from :meth:`run` (thread-safe; a
        no-op once :meth:`close` released the wake-up fd)."""
        self._stopping = True
        with self._lock:
            if self.driven:
                self._stopped = True
            elif not self._closed:
                os.eventfd_write(self._wake_fd, 1)

    def now(self) -> float:
        return self.clock()

    # ---- the loop --------------------------------------------------------------
    def run(self) -> None:
        """Run until :meth:`stop`. Commands still queued then fail with RunnerStopped."""
        if self.driven:
            raise RuntimeError("a driven runner takes turns from its world (turn(now))")
        self._loop_thread = threading.get_ident()
        try:
            while not self._stopping:
                self.run_once()
        finally:
            self._loop_thread = None
            with self._lock:
                self._stopped = True
                pending = list(self._commands)
                self._commands.clear()
            for _, future in pending:
                future.set_exception(RunnerStopped("the node's event loop has stopped"))

    def turn(self, now: float) -> float | None:
        """Driven mode: one turn at ``now`` (read the ports with frames pending, run what
        is due, write the output); returns when the runner next needs a turn."""
        self.stats.turns += 1
        for ifname, port in self._port_list:
            while getattr(port, "pending", 0):  # MemPort (driven ports have no fd)
                self._read(ifname, now)
        if self._readers:  # an app's asyncio loop: readable kernel sockets, thread-safe calls
            for fd in select.select(list(self._readers), [], [], 0)[0]:
                self._readers[fd](now)
        for hook in list(self._hooks):
            hook(now)
        self._run_due(now)
        return self.next_wakeup()

    def run_once(self, max_wait: float | None = None) -> None:
        """One turn; waits at most ``max_wait`` seconds (None: until something is due)."""
        self.stats.turns += 1
        wake_at = self.next_wakeup()
        start = self.clock()
        timeout = None if wake_at is None else max(0.0, wake_at - start)
        if max_wait is not None:
            timeout = max_wait if timeout is None else min(timeout, max_wait)
        events = self._selector.select(timeout)
        now = self.clock()
        for key, _ in events:
            data = key.data
            if data is None:
                self._run_commands()
            elif data.__class__ is str:
                self._read(data, now)
            else:
                data(now)  # a reader added with add_reader
        for hook in list(self._hooks):
            hook(now)
        # What the input made due (an app whose socket became readable, a timer that
        # expired while we slept) runs in this same turn, not after one more epoll call:
        # the reply to a request leaves with the ACK of it. (+7% bulk goodput in Docker)
        self._run_due(now)
        self.load.turn(start, now, self.clock(), wake_at)  # the saturation guard

    def next_wakeup(self) -> float | None:
        """The earliest of: a held frame's release, the node's and the faults' deadline;
        now when MTU faults changed and are not applied yet (one expired lazily)."""
        mtu = self.mtu_sync
        if mtu is not None and mtu.pending:
            return self.clock()
        best = self._held[0][0] if self._held else None
        for t in (
            self.node.next_deadline(),
            None if self.faults is None else self.faults.next_deadline(),
        ):
            if t is not None and (best is None or t < best):
                best = t
        return best

    def close(self) -> None:
        """Release the selector and the wake-up fd (the ports belong to the caller).
        Idempotent; later :meth:`stop` and :meth:`call` never touch the closed fd."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            self._stopped = True
        if self.driven:
            return
        self._selector.close()
        os.close(self._wake_fd)

    # ---- taps, hooks, counters (loop thread, or through call()) ----------------
    def add_tap(self, tap: Tap) -> None:
        """See every frame at the wire: INGRESS as read, EGRESS as sent."""
        self._taps.append(tap)

    def remove_tap(self, tap: Tap) -> None:
        if tap in self._taps:
            self._taps.remove(tap)

    def add_hook(self, hook: Hook) -> None:
        """Call ``hook(now)`` once per turn after the input (apps polling endpoints)."""
        self._hooks.append(hook)

    def remove_hook(self, hook: Hook) -> None:
        if hook in self._hooks:
            self._hooks.remove(hook)

    def add_reader(self, fd: int, callback: Hook) -> None:
        """Call ``callback(now)`` in the turn in which ``fd`` is readable (the node's asyncio
        selector, :mod:`nodes.io.aio`); what it makes due runs in that same turn."""
        if self.driven:  # no selector: turn() polls it
            self._readers[fd] = callback
            return
        self._selector.register(fd, selectors.EVENT_READ, callback)

    def remove_reader(self, fd: int) -> None:
        if self.driven:
            self._readers.pop(fd, None)
            return
        with contextlib.suppress(KeyError, ValueError):
            self._selector.unregister(fd)

    def add_mtu_listener(self, listener: MtuListener) -> None:
        """Call ``listener(changes, now)`` whenever MTU faults changed interface MTUs."""
        self._mtu_listeners.append(listener)

    def remove_mtu_listener(self, listener: MtuListener) -> None:
        if listener in self._mtu_listeners:
            self._mtu_listeners.remove(listener)

    def sync_mtu(self, now: float) -> list[MtuChange]:
        """Apply the fault engine's MTU caps to the node now (if they changed)."""
        mtu = self.mtu_sync
        if mtu is None or not mtu.pending:
            return []
        changes = mtu.sync()
        if changes:
            for listener in list(self._mtu_listeners):
                listener(changes, now)
        return changes

    def counters(self) -> dict[str, int]:
        """Loop counters plus the ports' counters summed over interfaces (``io_`` names)."""
        self.stats.frames_held = len(self._held)
        values = {f"io_{k}": v for k, v in self.stats.as_dict().items()}
        values.update({f"io_{k}": v for k, v in self.load.counters().items()})
        for per_port in self.port_counters().values():
            for name, value in per_port.items():
                values[f"io_{name}"] = values.get(f"io_{name}", 0) + value
        return values

    def port_counters(self) -> dict[str, dict[str, int]]:
        out = {}
        for ifname, port in self.ports.items():
            port_stats = getattr(port, "counters", None)
            if port_stats is not None:
                out[ifname] = dict(port_stats.as_dict())
        return out

    # ---- internals -------------------------------------------------------------
    def _run_due(self, now: float) -> None:
        held = self._held
        while held and held[0][0] <= now:
            _, _, kind, ifname, frame = heapq.heappop(held)
            if kind == _INGRESS:
                self._deliver(ifname, frame, now)
            else:
                self._transmit(ifname, frame, now)
        faults = self.faults
        if faults is not None:
            due = faults.next_deadline()
            if due is not None and due <= now:
                faults.on_timer(now=now)
        mtu = self.mtu_sync
        if mtu is not None and mtu.pending:  # a fault added or expired: MTUs first
            self.sync_mtu(now)
        node = self.node
        for _ in range(_TIMER_ROUNDS):
            due = node.next_deadline()
            if due is None or due > now:
                break
            self.stats.node_timer_calls += 1
            node.on_timer(now=now)
        self._flush(now)

    def _run_commands(self) -> None:
        with contextlib.suppress(BlockingIOError):
            os.eventfd_read(self._wake_fd)
        while True:
            with self._lock:
                if not self._commands:
                    return
                fn, future = self._commands.popleft()
            self.stats.commands += 1
            if future.set_running_or_notify_cancel():
                _settle(future, fn)

    def _read(self, ifname: str, now: float) -> None:
        frames = self.ports[ifname].recv_batch(self.batch)
        stats = self.stats
        stats.frames_in += len(frames)
        faults = self.faults
        taps = self._taps
        # Faults are added only by commands between turns, so whether any covers this
        # interface cannot change within the batch (one that expires meanwhile passes
        # frames through process() unchanged).
        if taps or (faults is not None and faults.active(ifname, Direction.INGRESS)):
            for frame in frames:
                for tap in taps:
                    tap(ifname, Direction.INGRESS, frame, now)
                if faults is not None and faults.active(ifname, Direction.INGRESS):
                    for at, out in faults.process(ifname, Direction.INGRESS, frame, now=now):
                        if at <= now:
                            self._deliver(ifname, out, now)
                        else:
                            self._hold(at, _INGRESS, ifname, out)
                else:
                    self._deliver(ifname, frame, now)
            return
        receive = self.node.receive_frame  # the plain path: no per-frame call but the node's
        delivered = 0
        for frame in frames:
            delivered += 1
            try:
                receive(ifname, frame, now=now)
            except Exception:  # a stack bug must not take the whole node down
                stats.node_errors += 1
                log.exception("receive_frame(%s) raised; frame dropped: %s", ifname, frame.hex())
        stats.frames_delivered += delivered

    def _deliver(self, ifname: str, frame: bytes, now: float) -> None:
        self.stats.frames_delivered += 1
        try:
            self.node.receive_frame(ifname, frame, now=now)
        except Exception:  # a stack bug must not take the whole node down
            self.stats.node_errors += 1
            log.exception("receive_frame(%s) raised; frame dropped: %s", ifname, frame.hex())

    def _flush(self, now: float) -> None:
        frames = self.node.frames_to_send()
        if not frames:
            return
        stats = self.stats
        stats.frames_out += len(frames)
        faults = self.faults
        taps = self._taps
        ports = self.ports
        plain: dict[str, bool] = {}  # per interface: no tap, no egress fault this turn
        sent = failed = 0
        for ifname, frame in frames:
            is_plain = plain.get(ifname)
            if is_plain is None:
                is_plain = plain[ifname] = not taps and (
                    faults is None or not faults.active(ifname, Direction.EGRESS)
                )
            if not is_plain:
                if faults is not None and faults.active(ifname, Direction.EGRESS):
                    for at, out in faults.process(ifname, Direction.EGRESS, frame, now=now):
                        if at <= now:
                            self._transmit(ifname, out, now)
                        else:
                            self._hold(at, _EGRESS, ifname, out)
                else:
                    self._transmit(ifname, frame, now)
                continue
            port = ports.get(ifname)  # the plain path: straight to the port
            if port is None:
                stats.frames_no_port += 1
            elif port.send(frame):
                sent += 1
            else:
                failed += 1
        stats.frames_sent += sent
        stats.frames_send_failed += failed

    def _transmit(self, ifname: str, frame: bytes, now: float) -> None:
        port = self.ports.get(ifname)
        if port is None:
            self.stats.frames_no_port += 1
            return
        for tap in self._taps:
            tap(ifname, Direction.EGRESS, frame, now)
        if port.send(frame):
            self.stats.frames_sent += 1
        else:
            self.stats.frames_send_failed += 1

    def _hold(self, at: float, kind: int, ifname: str, frame: bytes) -> None:
        self._seq += 1
        heapq.heappush(self._held, (at, self._seq, kind, ifname, frame))


def _settle(future: Future[T], fn: Callable[[], T]) -> None:
    try:
        result = fn()
    except BaseException as exc:
        future.set_exception(exc)
        if not isinstance(exc, Exception):  # KeyboardInterrupt, SystemExit: still raise
            raise
    else:
        future.set_result(result)
