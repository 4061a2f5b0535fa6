"""Deploy labs on a :class:`~orchestrator.lab.backends.base.Backend`.

    backend = Backends().get("docker")
    deployed = deploy(lab, backend, progress=print)     # Deployed: the plan + agent addresses
    destroy("quickstart", backend)                      # orchestrator.lab.remove

Deploy is idempotent (the same topology again returns the running lab; a different one for
the same name is refused unless ``replace=True``) and transactional (a failure part-way
removes every object it created, then sweeps the lab's labels). Steps, each reported to
``progress`` as a :class:`~orchestrator.domain.lab.DeployProgress`:

    image      the node image (docker: built or found in the cache)
    network    one network per link or LAN (plus a management network for a backend whose
               agents listen on TCP there; docker's listen on Unix sockets, plan.py)
    host       docker: the lab's bridges skip the host's conntrack (lab/hostnet.py)
    create     the nodes, attached to their networks (not started)
    start      the nodes
    agent      each node agent answers (health NOT_SERVING: up, not configured)
    configure  Configure to each agent (interfaces, routes, stack options, apps)
    linux      linux-kind nodes: names, addresses, MTU, routes, offloads (lab/linuxnode.py)
    ready      each agent SERVING and running its declared apps

State lives only in labels (:mod:`orchestrator.lab.labels`): destroy and inspect work for a
lab whose orchestrator died.
"""

from __future__ import annotations

import shlex
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TypeVar

from orchestrator.lab import frr, hostnet, linuxnode
from orchestrator.lab import labels as L
from orchestrator.lab.backends.base import (
    Backend,
    BackendError,
    LabObjects,
    NetworkInfo,
    NetworkSpec,
    NodeInfo,
    NodeSpec,
)
from orchestrator.lab.plan import make_plan
from orchestrator.lab.progress import (
    LOG_TAIL,
    DeployError,
    LabConflictError,
    ProgressCallback,
    Reporter,
    describe,
)
from orchestrator.lab.remove import remove_objects
from orchestrator.wire.agent import Health, node_seeds
from topology import Lab, Node, NodeKind

T = TypeVar("T")
MAX_PARALLEL = 8  # concurrent backend calls per step
POLL = 0.05
ALIVE = ("running", "paused")  # a paused node (a node fault) is still part of the lab


# ---- public types ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Deployed:
    """A deployed lab: its plan, its backend and where each node's agent listens."""

    lab: Lab
    backend: Backend
    agents: Mapping[str, str] = field(default_factory=dict)  # node -> its agent's address


@dataclass(frozen=True, slots=True)
class Timeouts:
    agent_up: float = 60.0  # a started node's agent answers
    configure: float = 30.0  # one Configure RPC
    ready: float = 15.0  # Configure -> SERVING with the apps running
    exec: float = 30.0  # one command inside a linux node
    rpc: float = 5.0  # quick RPCs (status)


# ---- helpers -----------------------------------------------------------------------------


def _parallel(
    items: Sequence[T],
    fn: Callable[[T], None],
    on_done: Callable[[T, int], None],
    *,
    workers: int = MAX_PARALLEL,
) -> None:
    """Run ``fn`` on every item (a few at a time); wait for all; re-raise the first error."""
    if not items:
        return
    errors: list[BaseException] = []
    done = 0
    lock = threading.Lock()

    def one(item: T) -> None:
        nonlocal done
        try:
            fn(item)
        except BaseException as exc:  # collected: every item finishes before we raise
            with lock:
                errors.append(exc)
            return
        with lock:
            done += 1
            count = done
        on_done(item, count)

    if len(items) == 1:
        one(items[0])
    else:
        with ThreadPoolExecutor(min(workers, len(items)), "wirelab-deploy") as pool:
            list(pool.map(one, items))
    if errors:
        raise errors[0]


# ---- deploy ------------------------------------------------------------------------------


def deploy(
    lab: Lab,
    backend: Backend,
    *,
    replace: bool = False,
    progress: ProgressCallback | None = None,
    timeouts: Timeouts | None = None,
    seed: int | None = 1,
    code: Mapping[str, str] | None = None,
) -> Deployed:
    """Deploy ``lab`` (or find it deployed) once every node is ready. ``code``: node ->
    the host folder of its user code (absolute; see :func:`~orchestrator.lab.plan.make_plan`)."""
    report = Reporter(progress)
    try:
        backend.check(lab)
    except BackendError as exc:
        raise DeployError(lab.name, "check", str(exc)) from None
    adapt = getattr(backend, "adapt_lab", None)
    if adapt is not None:  # the lab as this backend carries it (swarm: overlay MTU and MACs)
        lab, notes = adapt(lab)
        for note in notes:
            report("adapt", None, 1, 1, note)
    digest = L.topology_hash(lab)
    with backend.lock(lab.name):
        existing = backend.find(lab.name)
        if not existing.empty:
            hashes = existing.label_values(L.TOPOLOGY_HASH)
            unusable = _unusable(existing, lab)
            if hashes == {digest} and unusable is None:
                report("existing", None, 1, 1, "already deployed from this topology")
                hostnet.on_deploy(backend, lab.name, report)  # frames cross links as sent
                return Deployed(lab, backend, _agent_addresses(existing))
            if hashes - {digest} and not replace:
                raise LabConflictError(
                    lab.name,
                    "check",
                    f"lab {lab.name} is already deployed from a different topology "
                    f"(hash {', '.join(sorted(hashes - {digest}))}, this one {digest}): "
                    "destroy it first or deploy with replace=True",
                )
            why = "replacing the deployed lab" if hashes - {digest} else str(unusable)
            report("replace", None, 0, 1, why)
            remove_objects(backend, existing, report)
            backend.remove_lab_files(lab.name)
            report("replace", None, 1, 1, why)
        deployment = _Deployment(lab, backend, digest, report, timeouts or Timeouts(), seed)
        deployment.code = dict(code or {})
        return deployment.run()


def _unusable(objects: LabObjects, lab: Lab) -> str | None:
    """Why a deployed lab cannot be handed out as is (None: it can)."""
    have_nodes = {n.labels.get(L.NODE) for n in objects.nodes}
    have_links = {n.labels.get(L.LINK) for n in objects.networks}
    missing = [n.name for n in lab.nodes if n.name not in have_nodes]
    missing += [s.name for s in lab.segments if s.name not in have_links]
    if missing:
        return f"incomplete (missing {', '.join(missing)}): redeploying"
    down = [f"{n.labels.get(L.NODE)} ({n.state})" for n in objects.nodes if n.state not in ALIVE]
    if down:
        return f"not running: {', '.join(down)}: redeploying"
    return None


def _agent_addresses(objects: LabObjects) -> dict[str, str]:
    return {n.labels[L.NODE]: n.agent for n in objects.nodes if n.agent}


class _Deployment:
    def __init__(
        self,
        lab: Lab,
        backend: Backend,
        digest: str,
        report: Reporter,
        timeouts: Timeouts,
        seed: int | None,
    ) -> None:
        self.lab, self.backend, self.digest = lab, backend, digest
        self.report, self.timeouts, self.seed = report, timeouts, seed
        self.created_networks: list[str] = []
        self.created_nodes: list[str] = []
        self.track = threading.Lock()
        self.agents = backend.agents()
        self.addresses: dict[str, str] = {}
        self.code: dict[str, str] = {}  # node -> its code folder on the host

    def fail(self, step: str, node: str | None, exc: BaseException) -> DeployError:
        if isinstance(exc, DeployError):
            return exc
        logs = ""
        if node is not None and node in self.created_nodes:
            try:
                logs = self.backend.logs(self.lab.name, node, tail=LOG_TAIL)
            except Exception:  # the logs are a courtesy
                logs = ""
        return DeployError(self.lab.name, step, describe(exc), node=node, logs=logs)

    def run(self) -> Deployed:
        try:
            return self._run()
        except BaseException as exc:
            self.rollback()
            if isinstance(exc, Exception) and not isinstance(exc, DeployError):
                raise self.fail("deploy", None, exc) from exc
            raise
        finally:
            self.agents.close()

    def _step(
        self, step: str, items: Sequence[T], name: Callable[[T], str], fn: Callable[[T], None]
    ) -> None:
        total = len(items)
        self.report(step, None, 0, total)

        def guarded(item: T) -> None:
            try:
                fn(item)
            except Exception as exc:
                raise self.fail(step, name(item), exc) from exc

        _parallel(items, guarded, lambda item, done: self.report(step, name(item), done, total))

    def _run(self) -> Deployed:
        lab, backend = self.lab, self.backend
        self.report("image", None, 0, 1)
        try:
            image = backend.image()
        except Exception as exc:
            raise self.fail("image", None, exc) from exc
        self.report("image", None, 1, 1, image)
        plan = make_plan(lab, backend, image, self.code)

        def create_network(spec: NetworkSpec) -> None:
            with self.track:
                self.created_networks.append(spec.name)
            backend.create_network(spec)

        self._step("network", plan.networks, lambda s: s.name, create_network)
        hostnet.on_deploy(backend, lab.name, self.report)  # frames cross links as sent

        def create_node(spec: NodeSpec) -> None:
            with self.track:
                self.created_nodes.append(spec.node)
            backend.create_node(spec)

        self._step("create", plan.nodes, lambda s: s.node, create_node)
        self._step(
            "start", plan.nodes, lambda s: s.node, lambda s: backend.start_node(lab.name, s.node)
        )
        agents = [s for s in plan.nodes if s.runs_agent]
        self._step("agent", agents, lambda s: s.node, self._wait_agent)
        seeds = node_seeds(lab, self.seed)

        def configure(spec: NodeSpec) -> None:
            address = self.addresses[spec.node]
            node = lab.node(spec.node)
            self.agents.configure(
                address, lab, node, seed=seeds[spec.node], timeout=self.timeouts.configure
            )

        self._step("configure", agents, lambda s: s.node, configure)
        linux = [n for n in lab.nodes if n.kind is NodeKind.LINUX]
        self._step("linux", linux, lambda n: n.name, self._configure_linux)
        self._step("ready", agents, lambda s: s.node, self._wait_ready)
        return Deployed(lab, backend, dict(self.addresses))

    def _wait_agent(self, spec: NodeSpec) -> None:
        address = self.backend.agent_address(self.lab.name, spec.node)
        self.addresses[spec.node] = address
        deadline = time.monotonic() + self.timeouts.agent_up
        while True:
            left = deadline - time.monotonic()
            health = self.agents.health(address, timeout=max(0.05, min(1.0, left)))
            if health is not Health.UNREACHABLE:
                return
            state = self.backend.node_state(self.lab.name, spec.node)
            if state not in ("running", "created"):
                raise self.fail(
                    "agent",
                    spec.node,
                    RuntimeError(
                        f"the node stopped ({state}) before its agent answered at {address}"
                    ),
                )
            if time.monotonic() >= deadline:
                raise self.fail(
                    "agent",
                    spec.node,
                    TimeoutError(
                        f"its agent did not answer at {address} within "
                        f"{self.timeouts.agent_up:.0f} s (node {state})"
                    ),
                )
            time.sleep(POLL)

    def _configure_linux(self, node: Node) -> None:
        """The kernel's interfaces, addresses and routes (from the host for a user's image:
        it needs no tools), then the node's ``exec:`` commands in its container."""

        def run(argv: Sequence[str]) -> tuple[int, str]:
            result = linuxnode.kernel_exec(
                self.backend, self.lab.name, node, argv, timeout=self.timeouts.exec
            )
            return result.exit_code, result.output

        linuxnode.configure(node, run)
        if frr.runs_frr(node):  # in its container: FRR is the image's
            frr.start(node, self._container_run(node))
        for argv in linuxnode.exec_commands(node):
            done = self.backend.exec(self.lab.name, node.name, argv, timeout=self.timeouts.exec)
            if done.exit_code != 0:
                tail = done.output.strip()[-500:] or "no output"
                raise RuntimeError(
                    f"exec: {shlex.join(argv)!r} exited with status {done.exit_code}: {tail}"
                )

    def _container_run(self, node: Node) -> linuxnode.Executor:
        def run(argv: Sequence[str]) -> tuple[int, str]:
            done = self.backend.exec(self.lab.name, node.name, argv, timeout=self.timeouts.exec)
            return done.exit_code, done.output

        return run

    def _wait_ready(self, spec: NodeSpec) -> None:
        address = self.addresses[spec.node]
        deadline = time.monotonic() + self.timeouts.ready
        health = Health.UNREACHABLE
        while time.monotonic() < deadline:
            health = self.agents.health(address, timeout=self.timeouts.rpc)
            if health is Health.SERVING:
                break
            time.sleep(POLL)
        else:
            raise self.fail(
                "ready",
                spec.node,
                TimeoutError(
                    f"its agent at {address} is {health.value} {self.timeouts.ready:.0f} s after "
                    "Configure"
                ),
            )
        status = self.agents.status(address, timeout=self.timeouts.rpc)
        wanted = {str(a) for a in self.lab.node(spec.node).apps}
        missing = sorted(wanted - set(status.apps))
        if missing:
            raise self.fail(
                "ready",
                spec.node,
                RuntimeError(
                    f"apps not running: {', '.join(missing)} (running: {list(status.apps)})"
                ),
            )

    def rollback(self) -> None:
        """Remove what this deployment created, then anything else with the lab's label."""
        total = len(self.created_nodes) + len(self.created_networks)
        self.report("rollback", None, 0, total)
        created = LabObjects(
            self.lab.name,
            nodes=tuple(NodeInfo(n, "", {L.NODE: n}, "") for n in self.created_nodes),
            networks=tuple(_network_stub(n) for n in self.created_networks),
        )
        try:
            remove_objects(self.backend, created, self.report, step="rollback")
            leftover = self.backend.find(self.lab.name)
            if not leftover.empty:
                remove_objects(self.backend, leftover, self.report, step="rollback")
            self.backend.remove_lab_files(self.lab.name)
            hostnet.on_destroy(self.backend, self.lab.name, self.report)
        except Exception as exc:  # the original error matters more; say what is left
            self.report("rollback", None, 0, total, f"rollback incomplete: {describe(exc)}")


def _network_stub(name: str) -> NetworkInfo:
    return NetworkInfo(name, "", {}, "")
