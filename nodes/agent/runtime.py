"""One node's runtime behind the agent: before Configure there is no stack; Configure
builds the Host/Router, its ports, its FaultEngine and its Runner, starts the configured
apps, and lets :meth:`NodeRuntime.run` (the main thread in a container, a thread in
tests) enter the event loop.

Everything that touches the stack runs inside the loop: other threads hand a function of
the :class:`NodeState` to :meth:`NodeRuntime.call` and get a Future of its result.
Where the ports come from is a :data:`PortFactory`: raw sockets on interfaces taken from
the kernel in a container (:mod:`nodes.agent.__main__`), in-memory links in tests
(:mod:`nodes.agent.inprocess`).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Protocol, TypeVar

from nodes.agent.config import (
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
from nodes.apps.registry import ServerApp, make_app
from nodes.faults import FaultEngine
from nodes.io.runner import Runner
from nodes.router.rip import RipEngine
from nodes.stack.host import Host
from nodes.stack.tcp.engine import TcpEngine

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
    rip: RipEngine | None = None

    def now(self) -> float:
        return self.runner.now()


class NodeRuntime:
    def __init__(
        self,
        ports: PortFactory,
        *,
        name: str | None = None,
        kind: Kind | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._port_factory = ports
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
                            clock=self.clock)  # fmt: skip
            now = runner.now()
            rip = start_rip(config, host, now)
            events = EventHub(config.name, runner, host, tcp, faults, rip)
            jobs = JobManager(host)
            state = NodeState(config, host, tcp, runner, faults, ports, events, jobs, rip=rip)
            for i, spec in enumerate(config.apps):
                try:
                    app = make_app(spec.kind, spec.port, host=host, now=now, **spec.options())
                except (ValueError, OSError) as exc:
                    raise ArgumentError(f"apps[{i}]", str(exc)) from None
                state.apps[spec.app_id] = RunningApp(spec.app_id, spec.kind, spec.port, app)
            return state
        except BaseException:
            for p in ports.values():
                p.port.close()
            raise

    def run(self) -> None:
        """Wait until configured (or stopped), then run the event loop until :meth:`stop`.
        Closes the ports when the loop ends."""
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

    def _close(self, state: NodeState | None) -> None:
        if state is None:
            return
        state.events.close()
        state.jobs.cancel_all(state.runner.now())
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
        return state.runner.call(lambda: fn(state))

    def run_in_loop(self, fn: Callable[[NodeState], T], *, timeout: float = 10.0,
                    what: str = "this call") -> T:  # fmt: skip
        """:meth:`call` and wait for the result (exceptions re-raised here)."""
        return self.call(fn, what).result(timeout)
