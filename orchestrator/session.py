"""One deployed lab inside the lab service: its runtime, faults, event hub and the
measurements (ping, traceroute, transfer, http) from and to every node kind.

Nodes with an agent are driven over gRPC; linux-kind nodes run the kernel's own tools
through the backend's exec (:mod:`orchestrator.linuxtools`), so the same request compares
our stack with Linux.
"""

from __future__ import annotations

import logging
import queue
import re
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from ipaddress import AddressValueError, IPv4Address
from typing import Any

import grpc
from wirelab.v1 import lab_pb2, node_pb2

from orchestrator import linuxtools
from orchestrator.faults import FaultManager, entry_spec
from orchestrator.labs import (
    NODE_ACTIONS,
    FailedPrecondition,
    InvalidArgument,
    LabRuntime,
    NotFound,
    ServiceError,
    Unavailable,
    from_rpc_error,
)
from topology import Lab, Lan, NodeKind

log = logging.getLogger(__name__)
QUEUE_LIMIT = 10_000
RPC = 10.0  # quick agent calls
UNDO = {"kill": "start", "stop": "start", "pause": "unpause"}


# ---- events ---------------------------------------------------------------------------


@dataclass(eq=False)
class Subscription:
    nodes: frozenset[str]
    types: frozenset[int]
    queue: queue.Queue[lab_pb2.LabEvent] = field(default_factory=lambda: queue.Queue(QUEUE_LIMIT))
    dropped: int = 0

    def wants(self, event: lab_pb2.LabEvent) -> bool:
        if event.node and self.nodes and event.node not in self.nodes:
            return False
        if event.WhichOneof("kind") == "node_event" and self.types:
            kind = event.node_event.WhichOneof("kind")
            code = {
                "link": node_pb2.EVENT_TYPE_LINK,
                "tcp": node_pb2.EVENT_TYPE_TCP_STATE,
                "fault": node_pb2.EVENT_TYPE_FAULT,
            }.get(kind or "")
            return code in self.types
        return True


class EventHub:
    """Fan-out of a lab's events to its watchers (bounded queues; drops counted)."""

    def __init__(self, lab: str) -> None:
        self.lab = lab
        self._lock = threading.Lock()
        self._subs: list[Subscription] = []
        self.closed = False

    def subscribe(self, nodes: Iterable[str] = (), types: Iterable[int] = ()) -> Subscription:
        sub = Subscription(frozenset(nodes), frozenset(types))
        sub.queue.put(lab_pb2.LabEvent(unix_time_s=time.time(), lab=self.lab, subscribed=True))
        with self._lock:
            self._subs.append(sub)
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        with self._lock:
            if sub in self._subs:
                self._subs.remove(sub)

    def publish(self, event: lab_pb2.LabEvent) -> None:
        with self._lock:
            subs = list(self._subs)
        for sub in subs:
            if not sub.wants(event):
                continue
            try:
                sub.queue.put_nowait(event)
            except queue.Full:
                sub.dropped += 1

    def close(self) -> None:
        self.closed = True
        self.publish(lab_pb2.LabEvent(unix_time_s=time.time(), lab=self.lab, destroyed=True))


class _Pump:
    """Streams one node agent's events into the hub (reconnecting across restarts)."""

    def __init__(self, session: LabSession, node: str) -> None:
        self.session, self.node = session, node
        self._call: Any = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"events-{node}", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                stream = self.session.runtime.agent(self.node).WatchEvents(
                    node_pb2.WatchEventsRequest()
                )
                self._call = stream
                if self._stop.is_set():
                    stream.cancel()
                    return
                for event in stream:
                    if event.WhichOneof("kind") == "subscribed":
                        continue
                    self.session.faults.on_node_event(self.node, event)
                    self.session.events.publish(
                        lab_pb2.LabEvent(
                            unix_time_s=event.unix_time_s,
                            lab=self.session.name,
                            node=self.node,
                            node_event=event,
                        )
                    )
            except (grpc.RpcError, ServiceError):
                pass
            self._stop.wait(0.2)

    def close(self) -> None:
        self._stop.set()
        call = self._call
        if call is not None:
            call.cancel()
        self._thread.join(2.0)


# ---- addresses --------------------------------------------------------------------------


def resolve(lab: Lab, text: str, field_name: str) -> tuple[str, str | None]:
    """``h2`` / ``h2:eth1`` / ``10.0.0.2`` -> (address, node or None)."""
    text = text.strip()
    if not text:
        raise InvalidArgument("is required (a node, node:iface or an address)", field_name)
    try:
        address = str(IPv4Address(text))
    except AddressValueError:
        pass
    else:
        for n in lab.nodes:
            if any(str(i.address) == address for i in n.interfaces):
                return address, n.name
        return address, None
    name, _, iface = text.partition(":")
    try:
        node = lab.node(name)
    except KeyError:
        have = ", ".join(n.name for n in lab.nodes)
        raise NotFound(
            f"no node {name!r} in lab {lab.name} (have {have}), and not an IPv4 address", field_name
        ) from None
    if not node.interfaces:
        raise FailedPrecondition(f"{name} has no interfaces", field_name)
    if not iface:
        return str(node.interfaces[0].address), name
    try:
        return str(node.interface(iface).address), name
    except KeyError:
        names = ", ".join(i.name for i in node.interfaces)
        raise NotFound(f"{name} has no interface {iface!r} (have {names})", field_name) from None


# ---- the session ------------------------------------------------------------------------


class LabSession:
    def __init__(self, runtime: LabRuntime, *, source: str = "", seed: int = 1) -> None:
        self.runtime = runtime
        self.lab = runtime.lab
        self.name = runtime.lab.name
        self.source = source or runtime.lab.source
        self.created = time.monotonic()
        self.events = EventHub(self.name)
        self.faults = FaultManager(runtime, self.events.publish, seed=seed)
        self._lock = threading.RLock()
        self._pumps = {
            n.name: _Pump(self, n.name) for n in self.lab.nodes if self.has_agent(n.name)
        }

    # ---- nodes ------------------------------------------------------------------------
    def node(self, name: str, field_name: str = "node") -> str:
        if not name:
            raise InvalidArgument("is required", field_name)
        try:
            self.lab.node(name)
        except KeyError:
            have = ", ".join(n.name for n in self.lab.nodes)
            raise NotFound(
                f"lab {self.name} has no node {name!r} (have {have})", field_name
            ) from None
        return name

    def has_agent(self, node: str) -> bool:
        return self.lab.node(node).kind is not NodeKind.LINUX

    def agent(self, node: str, field_name: str = "node") -> object:
        self.node(node, field_name)
        if not self.has_agent(node):
            raise FailedPrecondition(f"{node} is a linux node (no agent): use exec", field_name)
        return self.runtime.agent(node)

    def call(
        self,
        node: str,
        method: str,
        request: object,
        *,
        timeout: float = RPC,
        field_name: str = "node",
    ) -> object:
        """An agent RPC with the service's errors."""
        stub = self.agent(node, field_name)
        try:
            return getattr(stub, method)(request, timeout=timeout)
        except grpc.RpcError as exc:
            raise from_rpc_error(exc, node=node) from None

    def state(self, node: str) -> str:
        try:
            return self.runtime.node_state(node)
        except Exception as exc:  # a backend hiccup must not break GetLab
            return f"unknown ({exc})"

    # ---- info ---------------------------------------------------------------------------
    def info(self) -> lab_pb2.LabInfo:
        from orchestrator.labels import topology_hash

        msg = lab_pb2.LabInfo(
            name=self.name,
            backend=self.runtime.backend_name,
            topology_hash=topology_hash(self.lab),
            age_s=time.monotonic() - self.created,
            faults=self.faults.active_count(),
            source=self.source,
        )
        for n in self.lab.nodes:
            agent = ""
            if self.has_agent(n.name):
                try:
                    agent = self.runtime.agent_address(n.name)
                except ServiceError:
                    agent = ""
            node = msg.nodes.add(
                name=n.name,
                kind=n.kind.value,
                state=self.state(n.name),
                agent=agent,
                apps=[str(a) for a in n.apps],
            )
            for i in n.interfaces:
                node.interfaces.add(
                    name=i.name,
                    address=str(i.address),
                    prefix_len=i.network.prefixlen,
                    mac=i.mac_str,
                    mtu=i.mtu,
                    link=i.segment,
                )
        for s in self.lab.segments:
            msg.links.add(
                name=s.name,
                type="lan" if isinstance(s, Lan) else "link",
                subnet=str(s.subnet),
                mtu=s.mtu,
                members=[str(m) for m in s.members],
            )
        msg.state = "running" if all(n.state == "running" for n in msg.nodes) else "degraded"
        return msg

    def summary(self) -> lab_pb2.LabSummary:
        states = [self.state(n.name) for n in self.lab.nodes]
        return lab_pb2.LabSummary(
            name=self.name,
            backend=self.runtime.backend_name,
            nodes=len(states),
            running=states.count("running"),
            faults=self.faults.active_count(),
            age_s=time.monotonic() - self.created,
        )

    # ---- node actions and the timeline ----------------------------------------------------
    def node_action(
        self,
        node: str,
        action: str,
        duration: float | None = None,
    ) -> lab_pb2.NodeActionResponse:
        self.node(node)
        if action not in NODE_ACTIONS:
            raise InvalidArgument(
                f"unknown action {action!r}; allowed: {', '.join(NODE_ACTIONS)}", "action"
            )
        if duration is not None and action not in UNDO:
            raise InvalidArgument(
                f"a duration undoes kill, stop or pause, not {action}", "duration_ms"
            )
        with self._lock:
            if action in ("kill", "stop", "restart"):
                self.faults.forget_node(node)
            state = self.runtime.node_action(node, action)
            reapplied = 0
            if action in ("start", "restart") and self.has_agent(node):
                reapplied = self.faults.reapply(node)
        self.events.publish(
            lab_pb2.LabEvent(
                unix_time_s=time.time(),
                lab=self.name,
                node=node,
                node_state=lab_pb2.NodeStateEvent(action=action, state=state),
            )
        )
        if duration is not None:
            undo = UNDO[action]

            def run_undo() -> None:
                self.node_action(node, undo)

            self.faults.scheduler.call_later(duration, run_undo)
        return lab_pb2.NodeActionResponse(node=node, state=state, faults_reapplied=reapplied)

    def schedule_timeline(self) -> int:
        """Schedule the topology's faults timeline (relative to now); returns the count."""
        start = time.monotonic()
        for entry in self.lab.faults:

            def apply(entry: object = entry) -> None:
                from topology import FaultEntry

                assert isinstance(entry, FaultEntry)
                if entry.action is not None:
                    self.node_action(entry.target.node or "", entry.action.value, entry.duration)
                else:
                    self.faults.add(entry_spec(entry), origin="timeline")

            self.faults.scheduler.call_at(start + entry.at, apply)
        return len(self.lab.faults)

    # ---- measurements ----------------------------------------------------------------------
    def ping(self, node: str, request: node_pb2.PingRequest) -> node_pb2.PingResponse:
        self.node(node)
        req = node_pb2.PingRequest()
        req.CopyFrom(request)
        req.destination, _ = resolve(self.lab, request.destination, "ping.destination")
        count = max(1, req.count or 1)
        interval = req.interval_ms / 1000.0 if req.HasField("interval_ms") else 1.0
        wait = req.timeout_ms / 1000.0 if req.HasField("timeout_ms") else 1.0
        budget = count * interval + wait + RPC
        if not self.has_agent(node):
            return linuxtools.ping(self._exec_fn(node), req, timeout=budget)
        reply = self.call(node, "Ping", req, timeout=budget)
        assert isinstance(reply, node_pb2.PingResponse)
        return reply

    def traceroute(
        self,
        node: str,
        request: node_pb2.TracerouteRequest,
    ) -> node_pb2.TracerouteResponse:
        self.node(node)
        req = node_pb2.TracerouteRequest()
        req.CopyFrom(request)
        req.destination, _ = resolve(self.lab, request.destination, "traceroute.destination")
        hops = req.max_hops if req.HasField("max_hops") else 30
        probes = req.probes if req.HasField("probes") else 3
        wait = req.wait_ms / 1000.0 if req.HasField("wait_ms") else 1.0
        budget = hops * probes * wait + RPC
        if not self.has_agent(node):
            return linuxtools.traceroute(self._exec_fn(node), req, timeout=budget)
        reply = self.call(node, "Traceroute", req, timeout=budget)
        assert isinstance(reply, node_pb2.TracerouteResponse)
        return reply

    def _exec_fn(self, node: str) -> linuxtools.Exec:
        def run(argv: list[str], timeout: float) -> tuple[int, str]:
            try:
                result = self.runtime.exec(node, argv, timeout=timeout)
            except ServiceError:
                raise
            except Exception as exc:
                raise FailedPrecondition(f"exec on {node} failed: {exc}", "node") from None
            return result.exit_code, result.output

        return run

    def exec(self, node: str, argv: list[str], timeout: float) -> lab_pb2.ExecResponse:
        self.node(node)
        if not argv:
            raise InvalidArgument("give a command", "argv")
        code, output = self._exec_fn(node)(argv, timeout)
        return lab_pb2.ExecResponse(exit_code=code, output=output)

    def transfer(self, request: lab_pb2.TransferRequest) -> lab_pb2.TransferResponse:
        from orchestrator.transfer import run_transfer

        return run_transfer(self, request)

    def http_get(self, node: str, request: node_pb2.HttpGetRequest) -> node_pb2.HttpGetResponse:
        self.node(node)
        req = node_pb2.HttpGetRequest()
        req.CopyFrom(request)
        req.url = self._url(request.url)
        timeout = (req.timeout_ms / 1000.0 if req.HasField("timeout_ms") else 30.0) + RPC
        if not self.has_agent(node):
            return linuxtools.http_get(self._exec_fn(node), req, timeout=timeout)
        reply = self.call(node, "HttpGet", req, timeout=timeout)
        assert isinstance(reply, node_pb2.HttpGetResponse)
        return reply

    def _url(self, url: str) -> str:
        """``http://h2/x`` -> ``http://10.0.1.2/x`` (a node name as the host)."""
        m = re.match(r"^(http://)([^/:]+)(.*)$", url.strip())
        if m is None:
            raise InvalidArgument(f"expected http://HOST[:PORT]/PATH, got {url!r}", "http.url")
        address, _ = resolve(self.lab, m.group(2), "http.url")
        return f"{m.group(1)}{address}{m.group(3) or '/'}"

    def apps(self, node: str) -> list[lab_pb2.NodeApps]:
        names = [self.node(node)] if node else [n.name for n in self.lab.nodes]
        out = []
        for name in names:
            if not self.has_agent(name):
                if node:
                    raise FailedPrecondition(f"{name} is a linux node (no agent apps)", "node")
                continue
            reply = self.call(name, "ListApps", node_pb2.ListAppsRequest())
            assert isinstance(reply, node_pb2.ListAppsResponse)
            out.append(lab_pb2.NodeApps(node=name, apps=reply.apps))
        return out

    def capture(
        self, node: str, request: node_pb2.CaptureRequest, context: grpc.ServicerContext
    ) -> Iterator[node_pb2.CaptureChunk]:
        stub = self.agent(node)
        stream = stub.Capture(request)  # type: ignore[attr-defined]
        context.add_callback(stream.cancel)
        try:
            yield from stream
        except grpc.RpcError as exc:
            if exc.code() != grpc.StatusCode.CANCELLED:
                raise from_rpc_error(exc, node=node) from None

    # ---- lifetime ----------------------------------------------------------------------
    def close(self, *, destroy: bool) -> None:
        self.faults.close()
        for pump in self._pumps.values():
            pump.close()
        self.events.close()
        if destroy:
            self.runtime.destroy()
        else:
            self.runtime.close()


def unavailable(node: str, exc: BaseException) -> Unavailable:
    return Unavailable(f"node {node}: {exc}", "node")
