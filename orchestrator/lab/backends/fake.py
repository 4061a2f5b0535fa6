"""An in-memory backend for unit tests: objects, labels and agents that only pretend.

Every call is recorded in :attr:`FakeBackend.calls` as ``(op, target)``; :meth:`fail`
makes the next call(s) of an op fail (optionally only for one target), so a test can break
a deploy at any step and check that nothing is left. Ops: ``image``, ``create_network``,
``create_node``, ``start_node``, ``agent_address``, ``exec``, ``remove_node``,
``remove_network``, the node actions ``kill_node``, ``stop_node``, ``restart_node``,
``pause_node``, ``unpause_node``, ``remove_lab_files`` and the agent's ``health`` (the
agent never answers), ``configure``, ``status``. :meth:`crash` makes a node exit at start
with some log lines.

Node actions follow Docker's state table (:mod:`.actions`): each is validated against the
node's state (``unpause`` of a running node raises NodeStateError naming the node and its
state) and recorded in :attr:`FakeBackend.transitions` as ``(node, action, before,
after)``. A node that stops loses its agent's configuration (a restarted agent comes back
NOT_SERVING until configured again); a paused node's agent does not answer.

Objects live in a :class:`FakeEngine` that several backends can share: a second backend on
the same engine is "another orchestrator" that finds labs by their labels only.

Agents listen as on Docker, on Unix sockets in per-node directories under
:data:`FAKE_RUN_DIR` (nothing is made on disk: the engine's ``dirs`` holds the directories
that would exist); ``FakeBackend(agent_sockets=False)`` puts them on a management network
instead (:data:`MANAGEMENT_SUBNET`), as a backend whose agents listen on TCP would.

Linux nodes answer the three commands of orchestrator/linuxnode.py as a kernel would once
set up as planned (the setup script itself is only recorded).
"""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from ipaddress import IPv4Network
from pathlib import Path

from orchestrator.domain.results import ExecResult, NodeStatus
from orchestrator.lab import labels as L
from orchestrator.lab.backends import agentdirs
from orchestrator.lab.backends.actions import transition
from orchestrator.lab.backends.base import (
    AGENT_PORT,
    AgentSocket,
    BackendError,
    EndpointInfo,
    LabObjects,
    NetworkInfo,
    NetworkSpec,
    NodeInfo,
    NodeSpec,
)
from orchestrator.wire.agent import Health
from topology import Lab, Node

MANAGEMENT_SUBNET = IPv4Network("172.30.250.0/24")
FAKE_RUN_DIR = Path("/run/wirelab")


class InjectedFailure(BackendError):
    """The failure a test asked for."""


@dataclass
class FakeNode:
    spec: NodeSpec
    state: str = "created"
    configured: Node | None = None  # the plan its agent was configured with
    logs: str = ""

    @property
    def address(self) -> str:
        labelled = self.spec.labels.get(L.AGENT)
        if labelled:
            return labelled
        return f"fake-{self.spec.lab}-{self.spec.node}:{AGENT_PORT}"


@dataclass
class FakeEngine:
    """The objects (what Docker would hold); shared by backends."""

    networks: dict[str, NetworkSpec] = field(default_factory=dict)
    nodes: dict[str, FakeNode] = field(default_factory=dict)  # by object name
    labs: dict[str, Lab] = field(default_factory=dict)  # plans seen by check()
    dirs: set[str] = field(default_factory=set)  # host directories mounted into nodes
    lock: threading.RLock = field(default_factory=threading.RLock)
    lab_lock: threading.RLock = field(default_factory=threading.RLock)  # Backend.lock


@dataclass
class _Failure:
    op: str
    target: str | None
    times: int
    message: str
    after: bool


class FakeBackend:
    name = "fake"

    def __init__(
        self,
        engine: FakeEngine | None = None,
        *,
        image: str = "fake-image:1",
        agent_sockets: bool = True,
    ) -> None:
        self.engine = engine or FakeEngine()
        self.image_tag = image
        self.agent_sockets = agent_sockets
        self.calls: list[tuple[str, str]] = []
        self.commands: list[tuple[str, str, tuple[str, ...]]] = []  # (exec|netns_exec, node, argv)
        self.transitions: list[tuple[str, str, str, str]] = []  # node, action, before, after
        self._failures: list[_Failure] = []
        self._crashes: dict[str, str] = {}
        self._agents = FakeAgentClient(self)

    # ---- test controls -----------------------------------------------------------------
    def fail(
        self,
        op: str,
        target: str | None = None,
        *,
        times: int = 1,
        message: str = "injected failure",
        after: bool = False,
    ) -> None:
        """Make the next ``times`` calls of ``op`` (on ``target``, a node or network name,
        when given) raise :class:`InjectedFailure`; ``times=-1``: every call. ``after``:
        the call does its work first (a create that half succeeded)."""
        self._failures.append(_Failure(op, target, times, message, after))

    def crash(self, node: str, logs: str = "Traceback: boom") -> None:
        """The node exits right after it starts; ``logs`` is what it printed."""
        self._crashes[node] = logs

    def ops(self, op: str | None = None) -> list[tuple[str, str]]:
        return [c for c in self.calls if op is None or c[0] == op]

    def _call(self, op: str, target: str, *, after: bool = False) -> None:
        """Record a call (``after=False``) and raise a failure injected for it."""
        with self.engine.lock:
            if not after:
                self.calls.append((op, target))
            for f in self._failures:
                if f.op == op and f.target in (None, target) and f.times != 0 and f.after == after:
                    f.times -= 1 if f.times > 0 else 0
                    raise InjectedFailure(f"{f.message} ({op} {target})")

    def _node(self, lab: str, node: str) -> FakeNode:
        found = self.engine.nodes.get(L.container_name(lab, node))
        if found is None:
            raise BackendError(f"no node {node} in lab {lab}")
        return found

    # ---- Backend -----------------------------------------------------------------------
    def check(self, lab: Lab) -> None:
        self.engine.labs[lab.name] = lab

    def image(self) -> str:
        self._call("image", "")
        return self.image_tag

    def agent_socket(self, lab: str, node: str) -> AgentSocket | None:
        return agentdirs.agent_socket(FAKE_RUN_DIR, lab, node) if self.agent_sockets else None

    def management_subnet(self, lab: Lab, hosts: int) -> IPv4Network | None:
        return MANAGEMENT_SUBNET

    @contextlib.contextmanager
    def lock(self, lab: str) -> Iterator[object]:
        with self.engine.lab_lock:
            yield None

    def create_network(self, spec: NetworkSpec) -> None:
        self._call("create_network", spec.name)
        with self.engine.lock:
            if spec.name in self.engine.networks:
                raise BackendError(f"network {spec.name} exists")
            self.engine.networks[spec.name] = spec
        self._call("create_network", spec.name, after=True)

    def create_node(self, spec: NodeSpec) -> None:
        self._call("create_node", spec.node)
        with self.engine.lock:
            if spec.name in self.engine.nodes:
                raise BackendError(f"container {spec.name} exists")
            for a in (spec.management, *spec.attachments):
                if a is not None and a.network not in self.engine.networks:
                    raise BackendError(f"{spec.node}: no network {a.network}")
            self.engine.nodes[spec.name] = FakeNode(spec)
            self.engine.dirs.update(m.source for m in spec.mounts)
        self._call("create_node", spec.node, after=True)

    def start_node(self, lab: str, node: str) -> None:
        self._action(lab, node, "start")

    def kill_node(self, lab: str, node: str) -> None:
        self._action(lab, node, "kill")

    def stop_node(self, lab: str, node: str) -> None:
        self._action(lab, node, "stop")

    def restart_node(self, lab: str, node: str) -> None:
        self._action(lab, node, "restart")

    def pause_node(self, lab: str, node: str) -> None:
        self._action(lab, node, "pause")

    def unpause_node(self, lab: str, node: str) -> None:
        self._action(lab, node, "unpause")

    def _action(self, lab: str, node: str, action: str) -> None:
        op = f"{action}_node"
        self._call(op, node)
        with self.engine.lock:
            found = self._node(lab, node)
            before = found.state
            after = transition(node, action, before)
            if action == "restart" or (action == "start" and before != "running"):
                found.configured = None  # a fresh agent process
                if node in self._crashes:
                    after, found.logs = "exited", self._crashes[node]
            elif after in ("exited", "created"):
                found.configured = None
            found.state = after
            self.transitions.append((node, action, before, after))
        self._call(op, node, after=True)

    def agent_address(self, lab: str, node: str) -> str:
        self._call("agent_address", node)
        return self._node(lab, node).address

    def node_state(self, lab: str, node: str) -> str:
        found = self.engine.nodes.get(L.container_name(lab, node))
        return "missing" if found is None else found.state

    def logs(self, lab: str, node: str, *, tail: int = 20) -> str:
        return "\n".join(self._node(lab, node).logs.splitlines()[-tail:])

    def exec(self, lab: str, node: str, argv: Sequence[str], *, timeout: float) -> ExecResult:
        self._call("exec", node)
        self.commands.append(("exec", node, tuple(argv)))
        return self._kernel(lab, node, argv)

    def netns_exec(self, lab: str, node: str, argv: Sequence[str], *, timeout: float) -> ExecResult:
        """The host's program in the node's namespace: the same kernel answers."""
        self._call("netns_exec", node)
        self.commands.append(("netns_exec", node, tuple(argv)))
        return self._kernel(lab, node, argv)

    def _kernel(self, lab: str, node: str, argv: Sequence[str]) -> ExecResult:
        if list(argv[:1]) == ["false"]:
            return ExecResult(1, "false: failed as asked")
        found = self._node(lab, node)
        if found.state != "running":
            raise BackendError(f"{node} is {found.state}")
        plan = self.engine.labs[lab].node(node)
        if list(argv[:3]) == ["ip", "-j", "-4"]:
            links = [
                {
                    "ifname": f"eth{i}",
                    "addr_info": [
                        {
                            "family": "inet",
                            "local": str(a.address),
                            "prefixlen": plan.interface(a.iface).network.prefixlen,
                        }
                    ],
                }
                for i, a in enumerate(found.spec.attachments)
            ]
            return ExecResult(0, json.dumps(links) + "\n")
        if argv[:2] == ["sh", "-c"] and argv[2].startswith("ip -j addr show"):
            return ExecResult(0, _verified_kernel(plan, found.spec))
        return ExecResult(0, "")

    def remove_node(self, lab: str, node: str) -> None:
        self._call("remove_node", node)
        with self.engine.lock:
            found = self.engine.nodes.pop(L.container_name(lab, node), None)
            if found is not None:
                self.engine.dirs.difference_update(m.source for m in found.spec.mounts)

    def remove_lab_files(self, lab: str) -> None:
        self._call("remove_lab_files", lab)
        with self.engine.lock:
            self.engine.dirs = {
                d for d in self.engine.dirs
                if not Path(d).is_relative_to(agentdirs.lab_dir(FAKE_RUN_DIR, lab))
            }  # fmt: skip

    def remove_network(self, lab: str, name: str) -> None:
        self._call("remove_network", name)
        with self.engine.lock:
            users = [
                n.spec.node
                for n in self.engine.nodes.values()
                if name in {a.network for a in n.spec.attachments}
            ]
            if users:
                raise BackendError(f"network {name} has active endpoints: {users}")
            self.engine.networks.pop(name, None)

    def find(self, lab: str) -> LabObjects:
        with self.engine.lock:
            prefix = {s.name: s.subnet.prefixlen for s in self.engine.networks.values()}
            nodes = tuple(
                NodeInfo(
                    n.spec.name,
                    n.spec.name,
                    dict(n.spec.labels),
                    n.state,
                    n.spec.image,
                    tuple(
                        EndpointInfo(a.network, str(a.address), prefix.get(a.network, 0), "")
                        for a in n.spec.attachments
                    ),
                    n.address if n.spec.runs_agent else "",
                )
                for n in self.engine.nodes.values()
                if n.spec.labels.get(L.LAB) == lab
            )
            networks = tuple(
                NetworkInfo(s.name, s.name, dict(s.labels), str(s.subnet))
                for s in self.engine.networks.values()
                if s.labels.get(L.LAB) == lab
            )
        return LabObjects(lab, nodes, networks)

    def lab_names(self) -> list[str]:
        with self.engine.lock:
            names = {n.spec.labels.get(L.LAB, "") for n in self.engine.nodes.values()}
            names |= {s.labels.get(L.LAB, "") for s in self.engine.networks.values()}
        return sorted(names - {""})

    def agents(self) -> FakeAgentClient:
        return self._agents


def _verified_kernel(plan: Node, spec: NodeSpec) -> str:
    """The verification output of a linux node set up exactly as planned."""
    links = [
        {
            "ifname": f"eth{i}",
            "mtu": plan.interface(a.iface).mtu,
            "address": plan.interface(a.iface).mac_str,
            "addr_info": [
                {
                    "family": "inet",
                    "local": str(a.address),
                    "prefixlen": plan.interface(a.iface).network.prefixlen,
                }
            ],
        }
        for i, a in enumerate(spec.attachments)
    ]
    dev = {a.iface: f"eth{i}" for i, a in enumerate(spec.attachments)}
    routes = [
        {"dst": "default" if r.is_default else str(r.dst), "gateway": str(r.via), "dev": dev[r.dev]}
        for r in plan.routes
    ]
    forward = spec.sysctls.get("net.ipv4.ip_forward", "0")  # what it was created with
    return f"{json.dumps(links)}\n\n{json.dumps(routes)}\n\n{forward}\n"


class FakeAgentClient:
    """Agents of fake nodes: up once started, SERVING once configured."""

    def __init__(self, backend: FakeBackend) -> None:
        self.backend = backend
        self.closed = 0

    def _by_address(self, address: str) -> FakeNode | None:
        for node in self.backend.engine.nodes.values():
            if node.address == address:
                return node
        return None

    def health(self, address: str, *, timeout: float) -> Health:
        node = self._by_address(address)
        try:
            self.backend._call("health", node.spec.node if node else address)
        except InjectedFailure:
            return Health.UNREACHABLE
        if node is None or node.state != "running":
            return Health.UNREACHABLE
        return Health.SERVING if node.configured is not None else Health.NOT_SERVING

    def configure(
        self, address: str, lab: Lab, plan: Node, *, seed: int | None, timeout: float
    ) -> NodeStatus:
        node = self._by_address(address)
        self.backend._call("configure", node.spec.node if node else address)
        if node is None or node.state != "running":
            raise BackendError(f"nothing answers at {address}")
        node.configured = plan
        return self._status(node)

    def status(self, address: str, *, timeout: float) -> NodeStatus:
        node = self._by_address(address)
        self.backend._call("status", node.spec.node if node else address)
        if node is None:
            raise BackendError(f"nothing answers at {address}")
        return self._status(node)

    def _status(self, node: FakeNode) -> NodeStatus:
        plan = node.configured
        apps = tuple(str(a) for a in plan.apps) if plan is not None else ()
        kind = plan.kind.value if plan is not None else ""
        return NodeStatus(node.spec.node, kind, ready=plan is not None, uptime_s=0.0, apps=apps)

    def close(self) -> None:
        self.closed += 1
