"""One node's runtime behind the agent: before Configure there is no stack; Configure
builds the Host/Router, its ports, its FaultEngine and its Runner, starts the configured
apps, and lets :meth:`NodeRuntime.run` (the main thread in a container, a thread in
tests) enter the event loop.

Everything that touches the stack runs inside the loop: other threads hand a function of
the :class:`NodeState` to :meth:`NodeRuntime.call` and get a Future of its result.
Where the ports come from is a :data:`PortFactory`: raw sockets on interfaces taken from
the kernel in a container (:mod:`nodes.agent.__main__`), in-memory links in tests
(:mod:`nodes.agent.inprocess`).

Virtual time (``seat=``, the virtual backend): the node has no thread of its own. Its
runner is driven by the lab's :class:`~nodes.io.world.World` (attached at Configure,
detached at stop), every call runs at once under the world's lock through the node's
:class:`~nodes.io.world.Seat`, and :meth:`NodeRuntime.wait` lets virtual time pass until
a job is done. ``clock`` is then the world's clock and ``wall`` too (events and pcap
timestamps are virtual seconds since the lab began).
"""

from __future__ import annotations

import concurrent.futures
import logging
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol, TypeVar

from nodes.agent.config import (
    AppSpec,
    Kind,
    NodeConfig,
    build_node,
    fault_rng,
    link_layers,
    link_seed,
    start_rip,
)
from nodes.agent.errors import ArgumentError, ConflictError, NotConfiguredError
from nodes.agent.events import EventHub
from nodes.agent.jobs import JobManager
from nodes.apps.ref import CODE_DIR, AppLoadError, AppStartError
from nodes.apps.registry import AppEnv, ServerApp, make_app
from nodes.faults import FaultEngine
from nodes.io.runner import Runner, RunnerStopped
from nodes.io.world import Seat, SeatPaused, WorldDeadline
from nodes.router.rip import RipEngine
from nodes.stack.host import Host
from nodes.stack.tcp.engine import TcpEngine
from nodes.wire.addr import ip_to_str

if TYPE_CHECKING:
    from nodes.io.aio import AioBridge

T = TypeVar("T")
log = logging.getLogger(__name__)


class ClosablePort(Protocol):
    """A runner Port the runtime closes when the node stops."""

    def fileno(self) -> int: ...
    def recv_batch(self, limit: int) -> list[bytes]: ...
    def send(self, frame: bytes) -> bool: ...
    def close(self) -> None: ...


@dataclass(frozen=True, slots=True)
class AttachedPort:
    port: ClosablePort
    device: str  # the kernel device, or a description of an in-memory port
    mac: bytes  # the device's MAC (the stack uses it unless the config names one)


PortFactory = Callable[[NodeConfig], Mapping[str, AttachedPort]]
"""Opens one port per configured interface (keyed by the interface's name). Raises
ArgumentError for an interface it cannot find."""


@dataclass(slots=True)
class RunningApp:
    app_id: str
    kind: str
    port: int
    app: ServerApp


@dataclass(slots=True, eq=False)
class NodeState:
    """What lives in the loop (only the loop thread touches it)."""

    config: NodeConfig
    host: Host
    tcp: TcpEngine
    runner: Runner
    faults: FaultEngine
    ports: Mapping[str, AttachedPort]
    events: EventHub
    jobs: JobManager
    apps: dict[str, RunningApp] = field(default_factory=dict)
    code_paths: tuple[str, ...] = (CODE_DIR,)
    bridge: AioBridge | None = None  # the node's asyncio loop, made on first use
    rip: RipEngine | None = None

    def now(self) -> float:
        return self.runner.now()

    def aio(self) -> AioBridge:
        """The node's asyncio loop (user apps, the forward relay), stepped by its loop."""
        if self.bridge is None:
            from nodes.io.aio import AioBridge

            bridge = AioBridge(self.host, self.runner.now, dict(self.config.hosts))
            self.runner.add_reader(bridge.fileno(), bridge.io_ready)
            self.bridge = bridge
        return self.bridge

    def app_env(self) -> AppEnv:
        addresses = tuple(ip_to_str(i.address) for i in self.host.interfaces)
        return AppEnv(self.aio, self.code_paths, addresses)

    def start_app(self, spec: AppSpec) -> RunningApp:
        """Start ``spec`` (raises what :func:`make_app` raises)."""
        app = make_app(spec.kind, spec.port, host=self.host, now=self.now(),
                       env=self.app_env(), args=dict(spec.args), **spec.options())  # fmt: skip
        running = RunningApp(spec.app_id, spec.kind, spec.port, app)
        self.apps[spec.app_id] = running
        return running

    def close_asyncio(self) -> None:
        bridge, self.bridge = self.bridge, None
        if bridge is not None:
            self.runner.remove_reader(bridge.fileno())
            bridge.close()


class NodeRuntime:
    def __init__(
        self,
        ports: PortFactory,
        *,
        name: str | None = None,
        kind: Kind | None = None,
        clock: Callable[[], float] = time.monotonic,
        code_paths: tuple[str, ...] = (CODE_DIR,),
        seat: Seat | None = None,
        wall: Callable[[], float] = time.time,
    ) -> None:
        self._port_factory = ports
        self.code_paths = code_paths
        self.seat = seat
        self._seat_closed = False
        self.wall = wall  # what event and pcap timestamps count from (the loop clock + offset)
        self.expected_name = name
        self.expected_kind = kind
        self.clock = clock
        self.started_at = clock()
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stopping = False
        self._state: NodeState | None = None
        self._running = False
        self._ready_callbacks: list[Callable[[], None]] = []

    # ---- lifecycle (any thread) -------------------------------------------------
    @property
    def config(self) -> NodeConfig | None:
        state = self._state
        return None if state is None else state.config

    @property
    def name(self) -> str:
        config = self.config
        return config.name if config is not None else (self.expected_name or "")

    @property
    def ready(self) -> bool:
        """Configured and not stopping (the loop runs or is about to)."""
        return self._state is not None and not self._stopping

    @property
    def stopping(self) -> bool:
        return self._stopping

    def on_ready(self, callback: Callable[[], None]) -> None:
        """Call ``callback`` once the node is configured (now, if it already is)."""
        with self._lock:
            if self._state is None:
                self._ready_callbacks.append(callback)
                return
        callback()

    def configure(self, config: NodeConfig) -> bool:
        """Build the node. True when this exact config was already applied (idempotent);
        ConflictError for a different one; ArgumentError for a config the ports or the
        stack refuse."""
        with self._lock:
            if self._stopping:
                raise ConflictError("the node is shutting down")
            if self._state is not None:
                if self._state.config == config:
                    return True
                raise ConflictError(
                    f"node {self._state.config.name} is already configured differently; "
                    "restart the agent to change interfaces, routes or stack options"
                )
            if self.expected_name and config.name != self.expected_name:
                raise ConflictError(f"this agent runs node {self.expected_name}, not {config.name}")
            if self.expected_kind is not None and config.kind is not self.expected_kind:
                raise ConflictError(
                    f"this agent runs a {self.expected_kind.value}, not a {config.kind.value}"
                )
            self._state = self._build(config)
            if self.seat is not None:
                self.seat.attach(self._state.runner)
            callbacks, self._ready_callbacks = self._ready_callbacks, []
            self._wake.set()
        for callback in callbacks:
            callback()
        return False

    def _build(self, config: NodeConfig) -> NodeState:
        ports = self._port_factory(config)
        try:
            macs = {name: p.mac for name, p in ports.items()}
            try:
                host = build_node(config, macs)
            except ValueError as exc:
                raise ArgumentError("routes", str(exc)) from None
            tcp = host.tcp
            faults = FaultEngine(rng=fault_rng(config))
            seed = link_seed(config)
            for iface, direction, props in link_layers(config):  # beneath every fault
                faults.set_link(iface, direction, props, seed=seed)
            runner = Runner(host, {n: p.port for n, p in ports.items()}, faults=faults,
                            clock=self.clock, driven=self.seat is not None)  # fmt: skip
            now = runner.now()
            rip = start_rip(config, host, now)
            events = EventHub(config.name, runner, host, tcp, faults, rip,
                              wall_offset=self.wall() - now)  # fmt: skip
            jobs = JobManager(host)
            state = NodeState(config, host, tcp, runner, faults, ports, events, jobs, rip=rip,
                              code_paths=self.code_paths)  # fmt: skip
            try:
                for i, spec in enumerate(config.apps):
                    try:
                        state.start_app(spec)
                    except (ValueError, OSError, AppLoadError, AppStartError) as exc:
                        raise ArgumentError(f"apps[{i}]", str(exc)) from None
            except BaseException:
                for running in state.apps.values():
                    running.app.close(now=runner.now())
                state.close_asyncio()
                raise
            return state
        except BaseException:
            for p in ports.values():
                p.port.close()
            raise

    def run(self) -> None:
        """Wait until configured (or stopped), then run the event loop until :meth:`stop`.
        Closes the ports when the loop ends. (Not for a seated node: its world drives it.)"""
        if self.seat is not None:
            raise RuntimeError(f"{self.name} runs in virtual time: its world drives it")
        while not self._wake.wait(0.5):
            pass
        state = self._state
        if state is None or self._stopping:
            self._close(state)
            return
        self._running = True
        try:
            state.runner.run()
        finally:
            self._running = False
            self._close(state)

    def stop(self) -> None:
        """Ask :meth:`run` to return (thread-safe, idempotent, signal-handler safe)."""
        self._stopping = True
        self._wake.set()
        state = self._state
        if state is not None:
            state.runner.stop()
        if self.seat is not None:
            with self.seat.world.lock:
                self.seat.detach()
                if state is not None and not self._seat_closed:
                    self._seat_closed = True
                    self._close(state)

    def _close(self, state: NodeState | None) -> None:
        if state is None:
            return
        state.events.close()
        state.jobs.cancel_all(state.runner.now())
        state.close_asyncio()
        state.runner.close()
        for p in state.ports.values():
            p.port.close()

    # ---- the loop (from other threads) ------------------------------------------
    def call(self, fn: Callable[[NodeState], T], what: str = "this call") -> Future[T]:
        """Run ``fn(state)`` inside the loop. NotConfiguredError before Configure; the
        Future fails with RunnerStopped once the loop has stopped."""
        state = self._state
        if state is None:
            raise NotConfiguredError(what)
        seat = self.seat
        if seat is None:
            return state.runner.call(lambda: fn(state))
        if self._stopping:
            stopped: Future[T] = Future()
            stopped.set_exception(RunnerStopped("the node's event loop has stopped"))
            return stopped
        try:
            return seat.call(lambda: fn(state))
        except SeatPaused:
            raise ConflictError(f"{self.name} is paused: unpause it first") from None

    def wait(
        self,
        future: Future[T],
        timeout: float | None = None,
        *,
        cancelled: Callable[[], bool] | None = None,
    ) -> T:
        """The result of a Future the loop completes. ``timeout``: wall seconds (the
        caller's deadline). In virtual time this drives the node's world until the future
        is done (a job's own timeout is virtual: it always ends); a real-time node's loop
        runs by itself, so this only waits."""
        seat = self.seat
        if seat is None:
            return future.result(timeout)
        deadline = None if timeout is None else time.monotonic() + timeout
        try:
            return seat.wait(future, deadline=deadline, cancelled=cancelled)
        except WorldDeadline as exc:
            raise concurrent.futures.TimeoutError(str(exc)) from None

    def sleep(self, seconds: float, *, timeout: float | None = None) -> None:
        """Let ``seconds`` of this node's time pass: virtual time in a world (everything
        due meanwhile happens), else a plain wait."""
        seat = self.seat
        if seat is None:
            time.sleep(seconds)
            return
        deadline = None if timeout is None else time.monotonic() + timeout
        seat.world.sleep(seconds, deadline=deadline)

    def run_in_loop(self, fn: Callable[[NodeState], T], *, timeout: float = 10.0,
                    what: str = "this call") -> T:  # fmt: skip
        """:meth:`call` and wait for the result (exceptions re-raised here)."""
        return self.call(fn, what).result(timeout)  # a seated call is done already
