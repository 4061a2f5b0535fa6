"""One running lab on the server: its plan, backend and node agents, and everything the
lab service does with it (node actions, live configuration, state, apps, captures, faults,
events, the timeline). Measurements live in :mod:`.measure` and :mod:`.transfer`.

Nodes with an agent (host, router) are driven over gRPC; linux-kind nodes through the
backend's exec, with the kernel's own tools, so the same request compares our stack with
Linux.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Any

from orchestrator.domain.errors import (
    FailedPrecondition,
    InvalidArgument,
    LabError,
    NotFound,
    Unavailable,
)
from orchestrator.domain.events import EventKind, LabEvent, LinkChange, NodeStateChange
from orchestrator.domain.faults import FaultRequest
from orchestrator.domain.lab import (
    InterfaceInfo,
    LabInfo,
    LabSummary,
    LinkDirection,
    LinkInfo,
    NodeActionResult,
    NodeInfo,
)
from orchestrator.domain.requests import (
    UNDO,
    CaptureRequest,
    InterfaceChange,
    RouteRequest,
    node_action,
    prefix_of,
)
from orchestrator.domain.results import (
    AppInfo,
    ArpEntry,
    CaptureChunk,
    Connections,
    ExecResult,
    NodeCounters,
    NodeStatus,
    RipStatus,
    RouteEntry,
)
from orchestrator.lab import frr, linuxnode
from orchestrator.lab.backends.base import Backend
from orchestrator.lab.deploy import Deployed
from orchestrator.lab.events import EventHub, Pump, Subscription
from orchestrator.lab.faults import FaultManager
from orchestrator.lab.journal import Journal
from orchestrator.lab.labels import topology_hash
from orchestrator.wire.agent import AgentPool, AgentWire, Health, node_seeds
from topology import Lab, Lan, Node, NodeKind, Segment

log = logging.getLogger(__name__)
AGENT_BACK = 60.0  # a restarted node's agent answers again
CONFIGURE_TIMEOUT = 10.0
EXEC_TIMEOUT = 30.0
LIVE_PARALLEL = 8  # nodes read at once for a live view


class LabSession:
    """A deployed lab, as the service drives it."""

    def __init__(
        self,
        deployed: Deployed,
        *,
        source: str = "",
        seed: int = 1,
        text: str = "",
        timeline: bool = True,
        attached: bool = False,
    ) -> None:
        self.lab: Lab = deployed.lab
        self.backend: Backend = deployed.backend
        self.name = self.lab.name
        self.source = source or self.lab.source
        self.text = text  # the topology file's text (saved for docker labs)
        self.seed = seed
        self.created = time.monotonic()
        self._addresses = dict(deployed.agents)
        self._pool = AgentPool()
        self._lock = threading.RLock()
        self.events = EventHub(self.name)
        self.faults = FaultManager(self.lab, self, self._lab_event, seed=seed)
        self._pumps: dict[str, Pump] = {}  # started with the first watcher or fault
        self.journal = Journal.start(
            lab=self.name, topology=text, source=self.source, seed=seed,
            backend=self.backend_name, timeline=timeline, attached=attached,
        )  # fmt: skip

    def lab_time(self) -> float:
        """Seconds since the lab was deployed (attached, for a lab an earlier server made)."""
        return time.monotonic() - self.created

    @property
    def backend_name(self) -> str:
        return self.backend.name

    # ---- nodes ------------------------------------------------------------------------
    def node(self, name: str, field_name: str = "node") -> Node:
        if not name:
            raise InvalidArgument("is required", field_name)
        try:
            return self.lab.node(name)
        except KeyError:
            have = ", ".join(n.name for n in self.lab.nodes)
            raise NotFound(
                f"lab {self.name} has no node {name[:64]!r} (have {have[:300]})", field_name
            ) from None

    def address(self, node: str, iface: str | None = None) -> str:
        """The planned address of ``node``'s interface (its first one by default)."""
        planned = self.node(node)
        if iface is not None:
            return str(planned.interface(iface).address)
        return str(planned.interfaces[0].address)

    def has_agent(self, node: str) -> bool:
        return self.lab.node(node).kind is not NodeKind.LINUX

    def agent(self, node: str, field_name: str = "node") -> AgentWire:
        self.node(node, field_name)
        if not self.has_agent(node):
            raise FailedPrecondition(f"{node} is a linux node (no agent): use exec", field_name)
        address = self._addresses.get(node)
        if not address:
            raise Unavailable(f"no agent address for {node}", field_name)
        return self._pool.agent(address, node)

    def _pump_agent(self, node: str) -> Callable[[], AgentWire]:
        return lambda: self.agent(node)

    def _start_pumps(self) -> None:
        """Stream every agent's events (node faults' final counters, watchers)."""
        with self._lock:
            if self._pumps or self.events.closed:
                return
            self._pumps = {
                n.name: Pump(self.name, n.name, self._pump_agent(n.name), self._node_event)
                for n in self.lab.nodes
                if self.has_agent(n.name)
            }

    def _node_event(self, event: LabEvent) -> None:
        self.faults.on_node_event(event)
        self.events.publish(event)

    def _lab_event(self, event: LabEvent) -> None:
        if event.kind is EventKind.FAULT:
            self._start_pumps()
        self.events.publish(event)

    def exec(self, node: str, argv: Sequence[str], *, timeout: float = EXEC_TIMEOUT) -> ExecResult:
        self.node(node)
        if not argv:
            raise InvalidArgument("give a command", "argv")
        try:
            return self.backend.exec(self.name, node, argv, timeout=timeout)
        except LabError:
            raise
        except Exception as exc:
            raise FailedPrecondition(f"exec on {node} failed: {exc}", "node") from None

    def kernel_exec(
        self, node: str, argv: Sequence[str], *, timeout: float = EXEC_TIMEOUT
    ) -> ExecResult:
        """A program acting on a linux node's kernel stack (``ip``, ``ping``, a python3
        script), as :func:`orchestrator.lab.linuxnode.kernel_exec` runs it."""
        planned = self.node(node)
        try:
            return linuxnode.kernel_exec(self.backend, self.name, planned, argv, timeout=timeout)
        except LabError:
            raise
        except Exception as exc:
            raise FailedPrecondition(f"exec on {node} failed: {exc}", "node") from None

    def flush_path_mtus(self) -> None:
        """Make the linux nodes' kernels forget the path MTUs they learned (``ip route flush
        cache``, from the host: a container's /proc/sys is read-only), after an MTU fault:
        the path is as before it. Our own nodes' new connections start from the interface
        MTU anyway."""
        for n in self.lab.nodes:
            if self.has_agent(n.name) or self.state(n.name) != "running":
                continue
            try:
                self.backend.netns_exec(
                    self.name, n.name, ["sh", "-c", "echo 1 > /proc/sys/net/ipv4/route/flush"],
                    timeout=10.0,
                )  # fmt: skip
            except Exception as exc:  # a courtesy: the kernel forgets by itself in 10 min
                log.info("flushing %s's route cache: %s", n.name, exc)

    def _sh(self, node: str, script: str) -> str:
        result = self.kernel_exec(node, ["sh", "-c", script])
        if result.exit_code != 0:
            raise FailedPrecondition(
                f"{node}: {result.output.strip()[-300:] or f'exit status {result.exit_code}'}",
                "node",
            )
        return result.output

    def state(self, node: str) -> str:
        try:
            return self.backend.node_state(self.name, node)
        except Exception as exc:  # a backend hiccup must not break GetLab
            return f"unknown ({str(exc)[:100]})"

    # ---- views ------------------------------------------------------------------------
    def info(self) -> LabInfo:
        """The lab with live interface values (our nodes' agents, linux nodes' kernels)."""
        with ThreadPoolExecutor(LIVE_PARALLEL, "wirelab-info") as pool:
            nodes = tuple(pool.map(self._node_info, self.lab.nodes))
        links = tuple(
            LinkInfo(
                s.name, "lan" if isinstance(s, Lan) else "link", str(s.subnet), s.mtu,
                tuple(str(m) for m in s.members), self._directions(s),
            )
            for s in self.lab.segments
        )  # fmt: skip
        running = all(n.state == "running" for n in nodes)
        return LabInfo(
            name=self.name,
            backend=self.backend_name,
            state="running" if running else "degraded",
            topology_hash=topology_hash(self.lab),
            nodes=nodes,
            links=links,
            age_s=time.monotonic() - self.created,
            faults=self.faults.active_count(),
            source=self.source,
        )

    def _directions(self, segment: Segment) -> tuple[LinkDirection, ...]:
        """The link properties of ``segment``, per sender, and who applies them."""
        out: list[LinkDirection] = []
        if not segment.shaped:
            return ()
        for member, props in zip(segment.members, segment.egress, strict=True):
            if props.empty:
                continue
            at = self.lab.applied_at(segment, member)
            applied = "" if at is None else f"{at[0]} {at[1].value}"
            out.append(LinkDirection(str(member), props, applied))
        return tuple(out)

    def _node_info(self, n: Node) -> NodeInfo:
        state = self.state(n.name)
        live = self._live_interfaces(n) if state == "running" else {}
        interfaces = []
        for i in n.interfaces:
            now = live.get(i.name, {})
            shaping = self.lab.shaping(i.ref)
            interfaces.append(
                InterfaceInfo(
                    name=i.name,
                    address=str(now.get("address") or i.address),
                    prefix_len=int(now.get("prefix_len") or i.network.prefixlen),
                    mac=str(now.get("mac") or i.mac_str),
                    mtu=int(now.get("mtu") or i.mtu),
                    link=i.segment,
                    up=bool(now.get("up", True)),
                    planned_mtu=i.mtu,
                    egress=None if shaping.egress.empty else shaping.egress,
                    ingress=None if shaping.ingress.empty else shaping.ingress,
                )
            )
        return NodeInfo(
            name=n.name,
            kind=n.kind.value,
            state=state,
            agent=self._addresses.get(n.name, ""),
            interfaces=tuple(interfaces),
            apps=tuple(str(a) for a in n.apps),
        )

    def _live_interfaces(self, n: Node) -> dict[str, dict[str, Any]]:
        """{iface: {address, prefix_len, mac, mtu, up}} as the node has them now ({} when
        the node does not answer: the plan's values are shown)."""
        try:
            if self.has_agent(n.name):
                status = self.agent(n.name).status(timeout=2.0)
                return {
                    i.name: {"address": i.address, "prefix_len": i.prefix_len, "mac": i.mac,
                             "mtu": i.mtu, "up": i.up}
                    for i in status.interfaces
                }  # fmt: skip
            return linuxnode.live_interfaces(self._sh(n.name, "ip -j addr show"))
        except LabError:
            return {}

    def summary(self) -> LabSummary:
        states = [self.state(n.name) for n in self.lab.nodes]
        return LabSummary(
            name=self.name,
            backend=self.backend_name,
            nodes=len(states),
            running=states.count("running"),
            faults=self.faults.active_count(),
            age_s=time.monotonic() - self.created,
        )

    # ---- node state ---------------------------------------------------------------------
    def status(self, node: str) -> NodeStatus:
        return self.agent(node).status()

    def routes(self, node: str) -> list[RouteEntry]:
        if self.has_agent(self.node(node).name):
            return self.agent(node).routes()
        rows = linuxnode.routes(self._sh(node, "ip -j -4 route show"))
        return [RouteEntry(r["prefix"], r["gateway"], r["iface"], r["kind"], int(r["metric"]))
                for r in rows]  # fmt: skip

    def rip(self, node: str) -> RipStatus:
        """RIP on the node: our engine's view, or FRR's ripd on a linux router."""
        planned = self.node(node)
        if self.has_agent(planned.name):
            return self.agent(node).rip()
        if not frr.runs_frr(planned) or planned.rip is None:
            return RipStatus(enabled=False, daemon="")
        result = self.exec(node, ["sh", "-c", frr.STATUS_SCRIPT])  # vtysh, in its container
        if result.exit_code != 0:
            raise FailedPrecondition(f"{node}: ripd does not answer: {result.output[-300:]}",
                                     "node")  # fmt: skip
        return frr.rip_status(result.output, planned.rip)

    def arp(self, node: str) -> list[ArpEntry]:
        return self.agent(node).arp()

    def connections(self, node: str) -> Connections:
        return self.agent(node).connections()

    def counters(self, node: str) -> NodeCounters:
        return self.agent(node).counters()

    # ---- live configuration ---------------------------------------------------------------
    def set_interface(self, node: str, change: InterfaceChange) -> InterfaceInfo:
        planned = self.node(node)
        names = [i.name for i in planned.interfaces]
        if change.iface not in names:
            raise NotFound(
                f"{node} has no interface {change.iface[:32]!r} (have {', '.join(names)})",
                "iface",
            )
        if self.has_agent(node):
            self.agent(node).set_interface(change)
        else:
            old = self._live_interfaces(planned).get(change.iface, {})
            old_cidr = f"{old['address']}/{old['prefix_len']}" if old.get("address") else None
            script = linuxnode.set_interface_script(
                change.iface, mtu=change.mtu, up=change.up,
                address=None if change.address is None else str(change.address), old=old_cidr,
            )  # fmt: skip
            self._sh(node, script)
        info = next(i for i in self._node_info(planned).interfaces if i.name == change.iface)
        if not self.has_agent(node):  # our agents publish their own link events
            what = "mtu" if change.mtu is not None else ("up" if info.up else "down")
            link = LinkChange(change.iface, info.up, info.mtu, what)
            self.events.publish(LabEvent(EventKind.LINK, time.time(), self.name, node, link=link))
        return info

    def add_route(self, node: str, route: RouteRequest) -> RouteEntry:
        planned = self.node(node)
        if route.dev and route.dev not in [i.name for i in planned.interfaces]:
            names = ", ".join(i.name for i in planned.interfaces)
            raise NotFound(f"{node} has no interface {route.dev[:32]!r} (have {names})", "dev")
        if self.has_agent(node):
            return self.agent(node).add_route(route)
        self._sh(node, linuxnode.route_script(str(route.prefix), via=route.via, dev=route.dev,
                                              metric=route.metric))  # fmt: skip
        return next(r for r in self.routes(node) if r.prefix == str(route.prefix))

    def delete_route(self, node: str, prefix: str) -> RouteEntry:
        net = prefix_of(prefix)
        if self.has_agent(self.node(node).name):
            return self.agent(node).delete_route(str(net))
        found = [r for r in self.routes(node) if r.prefix == str(net)]
        if not found:
            raise NotFound(f"{node} has no route for {net}", "prefix")
        if found[0].kind == "connected":
            raise InvalidArgument(f"{net} is a connected route (set the interface down)", "prefix")
        self._sh(node, f"ip -4 route del {net}")
        return found[0]

    # ---- node actions and the timeline ----------------------------------------------------
    def node_action(
        self, node: str, action: str, duration: float | None = None
    ) -> NodeActionResult:
        self.node(node)
        action, duration = node_action(action, duration)
        with self._lock:
            if action in ("kill", "stop", "restart"):
                self.faults.forget_node(node)
            method = getattr(self.backend, f"{action}_node", None)
            if method is None:
                raise FailedPrecondition(
                    f"the {self.backend_name} backend cannot {action} nodes", "action"
                )
            method(self.name, node)
            reapplied = 0
            if action in ("start", "restart"):
                self._bring_up(node)
                if self.has_agent(node):
                    reapplied = self.faults.reapply(node)
            state = self.state(node)
        self.events.publish(
            LabEvent(EventKind.NODE_STATE, time.time(), self.name, node,
                     node_state=NodeStateChange(action, state))
        )  # fmt: skip
        if duration is not None:
            undo = UNDO[action]
            self.faults.scheduler.call_later(duration, lambda: self.node_action(node, undo))
        return NodeActionResult(node, state, reapplied)

    def _bring_up(self, node: str) -> None:
        """After a (re)start: a fresh agent is configured again, a linux node's kernel set
        up again (a restarted container gets fresh interfaces)."""
        planned = self.lab.node(node)
        if not self.has_agent(node):
            linuxnode.configure(planned, lambda argv: _result(self.kernel_exec(node, argv)))
            if frr.runs_frr(planned):
                frr.start(planned, lambda argv: _result(self.exec(node, argv)))
            return
        address = self.backend.agent_address(self.name, node)
        old = self._addresses.get(node)
        if old and old != address:
            self._pool.forget(old)
        self._addresses[node] = address
        seed = node_seeds(self.lab, self.seed)[node]
        deadline = time.monotonic() + AGENT_BACK
        agents = self.backend.agents()
        try:
            while time.monotonic() < deadline:
                health = agents.health(address, timeout=1.0)
                if health is Health.SERVING:
                    return
                if health is Health.NOT_SERVING:
                    agents.configure(address, self.lab, planned, seed=seed,
                                     timeout=CONFIGURE_TIMEOUT)  # fmt: skip
                    return
                time.sleep(0.05)
        finally:
            agents.close()
        raise Unavailable(f"the agent of {node} at {address} did not come back", "node")

    def schedule_timeline(self) -> int:
        """Schedule the topology's faults timeline (relative to now); returns the count."""
        start = time.monotonic()
        for entry in self.lab.faults:
            if entry.action is not None:
                action = entry.action.value
                target = entry.target.node or ""

                def act(
                    node: str = target, what: str = action, d: float | None = entry.duration
                ) -> None:
                    self.node_action(node, what, d)

                self.faults.scheduler.call_at(start + entry.at, act)
            else:
                self.faults.scheduler.call_at(
                    start + entry.at, partial(self._timeline_fault, FaultRequest.from_entry(entry))
                )
        return len(self.lab.faults)

    def _timeline_fault(self, request: FaultRequest) -> None:
        self.faults.add(request, origin="timeline")

    # ---- apps ----------------------------------------------------------------------------
    def start_app(self, node: str, kind: str, port: int = 0) -> AppInfo:
        return self.agent(node).start_app(kind, port)

    def stop_app(self, node: str, app_id: str) -> AppInfo:
        return self.agent(node).stop_app(app_id)

    def apps(self, node: str = "") -> dict[str, list[AppInfo]]:
        names = [self.node(node).name] if node else [n.name for n in self.lab.nodes]
        out: dict[str, list[AppInfo]] = {}
        for name in names:
            if not self.has_agent(name):
                if node:
                    raise FailedPrecondition(f"{name} is a linux node (no agent apps)", "node")
                continue
            out[name] = self.agent(name).apps()
        return out

    # ---- streams ----------------------------------------------------------------------------
    def capture(
        self,
        node: str,
        request: CaptureRequest,
        on_start: Callable[[Callable[[], object]], object] | None = None,
    ) -> Iterator[CaptureChunk]:
        names = [i.name for i in self.node(node).interfaces]
        if request.iface != "*" and request.iface not in names:
            raise NotFound(
                f"{node} has no interface {request.iface[:32]!r} (have {', '.join(names)}, or *)",
                "iface",
            )
        return self.agent(node).capture(request, on_start=on_start)

    def subscribe(self, nodes: Sequence[str] = (), kinds: Sequence[EventKind] = ()) -> Subscription:
        for i, node in enumerate(nodes):
            self.node(node, f"nodes[{i}]")
        self._start_pumps()
        return self.events.subscribe(nodes, kinds)

    # ---- lifetime ----------------------------------------------------------------------
    def close(self, *, destroy: bool) -> None:
        self.faults.close()
        for pump in self._pumps.values():
            pump.close()
        self.events.close()
        self._pool.close()
        if destroy:
            from orchestrator.lab.remove import destroy as remove

            remove(self.name, self.backend)


def _result(result: ExecResult) -> tuple[int, str]:
    return result.exit_code, result.output
