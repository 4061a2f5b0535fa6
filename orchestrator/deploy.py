"""Deploy, destroy and inspect labs on a :class:`~orchestrator.backend.base.Backend`.

    from orchestrator.backend.docker import DockerBackend
    from orchestrator.deploy import deploy, destroy
    lab = topology.load_file("topology/examples/quickstart.yaml")
    with deploy(lab, DockerBackend(), progress=print) as handle:
        handle.agent("h1").Ping(...)
    destroy("quickstart", backend)

Deploy is idempotent (the same topology again returns a handle to the running lab; a
different one for the same name is refused unless ``replace=True``) and transactional (a
failure part-way removes every object it created, then sweeps the lab's labels). Steps,
each reported to ``progress`` as ``(step, node, done, total)``:

    image      the node image (docker: built or found in the cache)
    network    one network per link or LAN, plus the management network
    create     the nodes, attached to their networks (not started)
    start      the nodes
    agent      each node agent answers (health NOT_SERVING: up, not configured)
    configure  Configure to each agent (interfaces, routes, stack options, apps)
    linux      linux-kind nodes: addresses, MTU, routes, offloads (orchestrator.linuxnode)
    ready      each agent SERVING and running its declared apps

State lives only in labels (:mod:`orchestrator.labels`): destroy and inspect work for a lab
whose orchestrator died.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from ipaddress import IPv4Address
from typing import Any, TypeVar

import grpc

from nodes.agent.fromtopo import configure_requests
from orchestrator import labels as L
from orchestrator import linuxnode
from orchestrator.backend.base import (
    AGENT_PORT,
    Attachment,
    Backend,
    BackendError,
    Health,
    LabObjects,
    NetworkInfo,
    NetworkSpec,
    NodeInfo,
    NodeSpec,
    Removed,
)
from orchestrator.handle import LabHandle
from topology import Lab, Node, NodeKind

T = TypeVar("T")
AGENT_PYTHON = "/opt/wirelab/bin/python"  # orchestrator.image.VENV's interpreter
IDLE_COMMAND = ("/bin/sh", "-c", "trap 'exit 0' TERM INT; while :; do sleep 3600 & wait $!; done")
LOG_TAIL = 20
MAX_PARALLEL = 8  # concurrent backend calls per step
REMOVE_PARALLEL = 16  # concurrent node removals (I/O bound: the engine does the work)
NETWORK_PARALLEL = 8  # concurrent network removals (Docker runs iptables for each)
# Remove a network as soon as its own nodes are gone (overlapping node removal) instead of
# after every node. Off: on Docker 20.10 the overlap cut destroy_50 from 18 s to 13.5 s but
# leaked the management network's endpoint count in 3 of 4 runs (libnetwork; "has active
# endpoints" with no container left, until dockerd restarts).
OVERLAP_NETWORKS = False
POLL = 0.05
ALIVE = ("running", "paused")  # a paused node (a node fault) is still part of the lab


# ---- public types ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ProgressEvent:
    step: str  # image | network | create | start | agent | configure | linux | ready |
    # existing | replace | rollback | remove
    node: str | None  # the node or network the event is about (None: the whole step)
    done: int
    total: int
    message: str = ""


ProgressCallback = Callable[[ProgressEvent], None]


@dataclass(frozen=True, slots=True)
class Timeouts:
    agent_up: float = 60.0  # a started node's agent answers
    configure: float = 30.0  # one Configure RPC
    ready: float = 15.0  # Configure -> SERVING with the apps running
    exec: float = 30.0  # one command inside a linux node
    rpc: float = 5.0  # quick RPCs (status)


class DeployError(RuntimeError):
    """A deploy/destroy step failed: names the lab, the step, the node and what it printed."""

    def __init__(
        self, lab: str, step: str, detail: str, *, node: str | None = None, logs: str = ""
    ) -> None:
        self.lab, self.step, self.node, self.detail, self.logs = lab, step, node, detail, logs
        where = f"lab {lab}: {step}" + (f" {node}" if node else "")
        text = f"{where}: {detail}"
        if logs.strip():
            text += f"\n  last lines of {node or 'its'} log:\n" + "\n".join(
                "    " + line for line in logs.strip().splitlines()[-LOG_TAIL:]
            )
        super().__init__(text)


class LabConflictError(DeployError):
    """The lab is deployed from a different topology (and ``replace`` was not given)."""


class LabNotFoundError(LookupError):
    pass


# ---- the plan ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DeployPlan:
    lab: Lab
    digest: str
    networks: tuple[NetworkSpec, ...]  # the management network first, if any
    nodes: tuple[NodeSpec, ...]


def sysctls(node: Node) -> dict[str, str]:
    """The kernel settings a node's container is created with (``/proc/sys`` is read-only
    inside it, so they cannot be changed later).

    Every node: no IPv6. The kernel forwards only on a linux node with ``forward: true``
    (our nodes route in our stack and keep the kernel out, nodes/io/takeover.py). Such a
    Linux router also gets reverse-path filtering off: the effective rp_filter of an
    interface is max(``all``, the interface's own), and the interfaces inherit the host's
    value (they are moved into the container before these sysctls are written), so
    ``all``, ``default`` and each data interface (``ethN``: Docker names them by connect
    order and a linux node has no other network) are set to 0.
    """
    out = {
        "net.ipv6.conf.all.disable_ipv6": "1",
        "net.ipv6.conf.default.disable_ipv6": "1",
        "net.ipv4.ip_forward": "1" if linuxnode.forwards(node) else "0",
    }
    if linuxnode.forwards(node):
        devices = ("all", "default", *(f"eth{i}" for i in range(len(node.interfaces))))
        out |= {f"net.ipv4.conf.{dev}.rp_filter": "0" for dev in devices}
    return out


def agent_command(node: Node, listen: str) -> tuple[str, ...]:
    return (
        AGENT_PYTHON,
        "-m",
        "nodes.agent.launch",  # nodes.agent in a leaner process (no ssl, no OpenSSL hashlib)
        "--listen",
        listen,
        "--name",
        node.name,
        "--kind",
        node.kind.value,
    )


def make_plan(lab: Lab, backend: Backend, image: str) -> DeployPlan:
    digest = L.topology_hash(lab)
    agents = [n for n in lab.nodes if n.kind is not NodeKind.LINUX]
    networks: list[NetworkSpec] = []
    mgmt_addresses: dict[str, IPv4Address] = {}
    mgmt_name = L.management_network_name(lab.name)
    subnet = backend.management_subnet(lab, len(agents)) if agents else None
    if subnet is not None:
        gateway = subnet.network_address + 1
        hosts = (h for h in subnet.hosts() if h != gateway)
        mgmt_addresses = {n.name: next(hosts) for n in agents}
        labels = L.network_labels(lab, None, digest)
        networks.append(
            NetworkSpec(
                lab.name,
                mgmt_name,
                link=None,
                subnet=subnet,
                gateway=gateway,
                mtu=1500,
                members=(),
                labels=labels,
            )
        )
    for seg in lab.segments:
        labels = L.network_labels(lab, seg.name, digest)
        networks.append(
            NetworkSpec(
                lab.name,
                L.network_name(lab.name, seg.name),
                link=seg.name,
                subnet=seg.subnet,
                gateway=seg.gateway,
                mtu=seg.mtu,
                members=seg.members,
                labels=labels,
            )
        )
    nodes = []
    for node in lab.nodes:
        mgmt_ip = mgmt_addresses.get(node.name)
        listen = f"{mgmt_ip}:{AGENT_PORT}" if mgmt_ip is not None else None
        if node.kind is NodeKind.LINUX:
            command: tuple[str, ...] = IDLE_COMMAND
        else:
            command = agent_command(node, listen or f"0.0.0.0:{AGENT_PORT}")
        attachments = tuple(
            Attachment(L.network_name(lab.name, i.segment), i.name, i.address)
            for i in node.interfaces
        )
        nodes.append(
            NodeSpec(
                lab=lab.name,
                node=node.name,
                kind=node.kind,
                name=L.container_name(lab.name, node.name),
                image=image,
                command=command,
                management=None if mgmt_ip is None else Attachment(mgmt_name, "", mgmt_ip),
                attachments=attachments,
                sysctls=sysctls(node),
                labels=L.node_labels(lab, node, digest, listen),
            )
        )
    return DeployPlan(lab, digest, tuple(networks), tuple(nodes))


# ---- helpers -----------------------------------------------------------------------------


class _Reporter:
    def __init__(self, callback: ProgressCallback | None) -> None:
        self.callback = callback
        self.lock = threading.Lock()

    def __call__(self, step: str, node: str | None, done: int, total: int, msg: str = "") -> None:
        if self.callback is not None:
            with self.lock:
                self.callback(ProgressEvent(step, node, done, total, msg))


def _describe(exc: BaseException) -> str:
    if isinstance(exc, grpc.Call):
        return f"{exc.code().name}: {exc.details()}"
    return str(exc) or type(exc).__name__


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
) -> LabHandle:
    """Deploy ``lab`` (or find it deployed) and return a handle once every node is ready."""
    report = _Reporter(progress)
    try:
        backend.check(lab)
    except BackendError as exc:
        raise DeployError(lab.name, "check", str(exc)) from None
    digest = L.topology_hash(lab)
    with backend.lock(lab.name):
        existing = backend.find(lab.name)
        if not existing.empty:
            hashes = existing.label_values(L.TOPOLOGY_HASH)
            unusable = _unusable(existing, lab)
            if hashes == {digest} and unusable is None:
                report("existing", None, 1, 1, "already deployed from this topology")
                return LabHandle(lab, backend, _agent_addresses(existing))
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
            _remove(backend, existing, report)
            report("replace", None, 1, 1, why)
        return _Deployment(lab, backend, digest, report, timeouts or Timeouts(), seed).run()


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
        report: _Reporter,
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

    def fail(self, step: str, node: str | None, exc: BaseException) -> DeployError:
        if isinstance(exc, DeployError):
            return exc
        logs = ""
        if node is not None and node in self.created_nodes:
            try:
                logs = self.backend.logs(self.lab.name, node, tail=LOG_TAIL)
            except Exception:  # the logs are a courtesy
                logs = ""
        return DeployError(self.lab.name, step, _describe(exc), node=node, logs=logs)

    def run(self) -> LabHandle:
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

    def _run(self) -> LabHandle:
        lab, backend = self.lab, self.backend
        self.report("image", None, 0, 1)
        try:
            image = backend.image()
        except Exception as exc:
            raise self.fail("image", None, exc) from exc
        self.report("image", None, 1, 1, image)
        plan = make_plan(lab, backend, image)

        def create_network(spec: NetworkSpec) -> None:
            with self.track:
                self.created_networks.append(spec.name)
            backend.create_network(spec)

        self._step("network", plan.networks, lambda s: s.name, create_network)

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
        requests = configure_requests(lab, seed=self.seed)

        def configure(spec: NodeSpec) -> None:
            address = self.addresses[spec.node]
            self.agents.configure(address, requests[spec.node], timeout=self.timeouts.configure)

        self._step("configure", agents, lambda s: s.node, configure)
        linux = [n for n in lab.nodes if n.kind is NodeKind.LINUX]
        self._step("linux", linux, lambda n: n.name, self._configure_linux)
        self._step("ready", agents, lambda s: s.node, self._wait_ready)
        return LabHandle(lab, backend, dict(self.addresses))

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
        def run(argv: Sequence[str]) -> tuple[int, str]:
            result = self.backend.exec(self.lab.name, node.name, argv, timeout=self.timeouts.exec)
            return result.exit_code, result.output

        linuxnode.configure(node, run)

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
        wanted = {f"{a.kind.value}:{a.port}" for a in self.lab.node(spec.node).apps}
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
            _remove(self.backend, created, self.report, step="rollback")
            leftover = self.backend.find(self.lab.name)
            if not leftover.empty:
                _remove(self.backend, leftover, self.report, step="rollback")
        except Exception as exc:  # the original error matters more; say what is left
            self.report("rollback", None, 0, total, f"rollback incomplete: {_describe(exc)}")


def _network_stub(name: str) -> NetworkInfo:
    return NetworkInfo(name, "", {}, "")


# ---- destroy / inspect -------------------------------------------------------------------


def _remove(
    backend: Backend, objects: LabObjects, report: _Reporter, step: str = "remove"
) -> Removed:
    """Remove nodes and networks, up to ``REMOVE_PARALLEL`` nodes and ``NETWORK_PARALLEL``
    networks at a time; every object is tried; the errors (each naming its object) are
    raised together at the end.

    Networks go after every node; with ``OVERLAP_NETWORKS`` a network goes as soon as
    every node attached to it (the nodes' endpoints, as found by labels) is gone, and one
    whose removal failed while nodes were still being removed is tried once more when all
    nodes are done.
    """
    lab = objects.lab
    # the nodes on most networks first (routers): their networks then wait for one more
    # node each, and network removal starts early
    infos = sorted(objects.nodes, key=lambda n: len(n.endpoints), reverse=True)
    keys = [n.labels.get(L.NODE) or n.name for n in infos]
    networks = [n.name for n in objects.networks]
    total = len(keys) + len(networks)
    users: dict[str, set[str]] = {name: set() for name in networks}
    for key, info in zip(keys, infos, strict=True):
        for endpoint in info.endpoints:
            if endpoint.network in users:
                users[endpoint.network].add(key)
    if not OVERLAP_NETWORKS:
        users = {name: set() for name in networks}
    waiting_all = [name for name in networks if not users[name]]  # after every node
    retry: list[str] = []  # failed while nodes were still being removed
    errors: dict[str, str] = {}  # "node h1" / "network wl.x.y" -> what went wrong
    cond = threading.Condition()
    nodes_left = len(keys)
    outstanding = 0
    count = 0
    # two pools: networks freed by removed nodes do not queue behind the other nodes
    node_pool = ThreadPoolExecutor(max(1, min(REMOVE_PARALLEL, len(keys))), "wirelab-rm-node")
    net_pool = ThreadPoolExecutor(max(1, min(NETWORK_PARALLEL, len(networks))), "wirelab-rm-net")

    def submit(fn: Callable[..., None], *args: object) -> None:  # with cond held
        nonlocal outstanding
        outstanding += 1
        (node_pool if fn is remove_node else net_pool).submit(task, fn, *args)

    def task(fn: Callable[..., None], *args: object) -> None:
        nonlocal outstanding
        try:
            fn(*args)
        finally:
            with cond:
                outstanding -= 1
                cond.notify_all()

    def removed(item: str) -> None:
        nonlocal count
        with cond:
            count += 1
            done = count
        report(step, item, done, total)

    def remove_network(name: str, final: bool) -> None:
        try:
            backend.remove_network(lab, name)
        except Exception as exc:
            with cond:
                if final:
                    errors[f"network {name}"] = _describe(exc)
                elif nodes_left:
                    retry.append(name)  # an endpoint of a node still being removed?
                else:
                    submit(remove_network, name, True)
            return
        removed(name)

    def remove_node(key: str) -> None:
        nonlocal nodes_left
        try:
            backend.remove_node(lab, key)
        except Exception as exc:
            with cond:
                errors[f"node {key}"] = _describe(exc)
        else:
            removed(key)
        with cond:
            nodes_left -= 1
            final = not nodes_left
            for name, using in users.items():
                if key in using:
                    using.discard(key)
                    if not using:
                        submit(remove_network, name, final)
            if final:
                for name in waiting_all + retry:
                    submit(remove_network, name, True)
                retry.clear()

    try:
        with cond:
            for key in keys:
                submit(remove_node, key)
            if not keys:
                for name in networks:
                    submit(remove_network, name, True)
            cond.wait_for(lambda: outstanding == 0)
    finally:
        node_pool.shutdown(wait=True)
        net_pool.shutdown(wait=True)
    if errors:
        raise DeployError(lab, step, "; ".join(f"{k}: {v}" for k, v in errors.items()))
    return Removed(lab, tuple(keys), tuple(networks))


def destroy(
    lab_name: str, backend: Backend, *, progress: ProgressCallback | None = None
) -> Removed:
    """Remove every object labelled with ``lab_name`` (nothing to do is not an error)."""
    report = _Reporter(progress)
    with backend.lock(lab_name):
        removed = _remove(backend, backend.find(lab_name), report)
        left = backend.find(lab_name)
        if not left.empty:
            names = left.names
            raise DeployError(lab_name, "remove", f"still present: {', '.join(names)}")
        return removed


def destroy_all(backend: Backend, *, progress: ProgressCallback | None = None) -> list[Removed]:
    return [destroy(name, backend, progress=progress) for name in backend.lab_names()]


@dataclass(frozen=True, slots=True)
class InterfaceView:
    name: str  # the topology's interface name ("" when unknown)
    link: str
    address: str
    prefix_len: int
    mac: str  # what the backend assigned (linux nodes then take the planned one)


@dataclass(frozen=True, slots=True)
class NodeView:
    name: str
    kind: str
    state: str
    management: str  # agent "ip:port"; "" for linux nodes
    image: str
    interfaces: tuple[InterfaceView, ...]


@dataclass(frozen=True, slots=True)
class NetworkView:
    name: str
    link: str  # "" for the management network
    subnet: str


@dataclass(frozen=True, slots=True)
class LabInfo:
    name: str
    topology_hash: str
    nodes: tuple[NodeView, ...]
    networks: tuple[NetworkView, ...]
    extra: Mapping[str, str] = field(default_factory=dict)

    @property
    def running(self) -> bool:
        return bool(self.nodes) and all(n.state == "running" for n in self.nodes)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def inspect(lab_name: str, backend: Backend) -> LabInfo:
    """Nodes, interfaces, addresses, state and management addresses, from labels only."""
    objects = backend.find(lab_name)
    if objects.empty:
        raise LabNotFoundError(f"no lab {lab_name!r} is deployed on the {backend.name} backend")
    link_of = {n.name: n.labels.get(L.LINK, "") for n in objects.networks}
    nodes = []
    for info in sorted(objects.nodes, key=lambda n: n.labels.get(L.NODE, n.name)):
        iface_of = {
            link: iface
            for iface, link in L.parse_interfaces_label(info.labels.get(L.INTERFACES, "")).items()
        }
        interfaces = tuple(
            InterfaceView(
                iface_of.get(link_of.get(e.network, ""), ""),
                link_of.get(e.network, ""),
                e.address,
                e.prefix_len,
                e.mac,
            )
            for e in info.endpoints
            if link_of.get(e.network, "")
        )
        nodes.append(
            NodeView(
                info.labels.get(L.NODE, info.name),
                info.labels.get(L.KIND, ""),
                info.state,
                info.agent,
                info.image,
                tuple(sorted(interfaces, key=lambda i: i.name)),
            )
        )
    networks = tuple(
        NetworkView(n.name, n.labels.get(L.LINK, ""), n.subnet)
        for n in sorted(objects.networks, key=lambda n: n.name)
    )
    hashes = objects.label_values(L.TOPOLOGY_HASH)
    return LabInfo(lab_name, ",".join(sorted(hashes)), tuple(nodes), networks)


@dataclass(frozen=True, slots=True)
class LabSummary:
    name: str
    nodes: int
    running: int
    networks: int
    topology_hash: str


def list_labs(backend: Backend) -> list[LabSummary]:
    out = []
    for name in backend.lab_names():
        info = inspect_or_none(name, backend)
        if info is not None:
            out.append(
                LabSummary(
                    name,
                    len(info.nodes),
                    sum(n.state == "running" for n in info.nodes),
                    len(info.networks),
                    info.topology_hash,
                )
            )
    return out


def inspect_or_none(lab_name: str, backend: Backend) -> LabInfo | None:
    try:
        return inspect(lab_name, backend)
    except LabNotFoundError:
        return None


__all__ = [
    "DeployError",
    "DeployPlan",
    "LabConflictError",
    "LabHandle",
    "LabInfo",
    "LabNotFoundError",
    "LabSummary",
    "ProgressCallback",
    "ProgressEvent",
    "Timeouts",
    "deploy",
    "destroy",
    "destroy_all",
    "inspect",
    "list_labs",
    "make_plan",
]
