"""The LabService's messages (lab.proto) <-> the domain, both ways, and the client's stub.

The servicer reads requests with the ``*_from`` functions and answers with ``*_to``; the
Python client (:class:`LabWire`) does the opposite with the same functions, so both ends
share one translation.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any

import grpc
from google.protobuf import message_factory
from grpc_health.v1 import health_pb2, health_pb2_grpc  # type: ignore[import-untyped]
from wirelab.v1 import common_pb2, lab_pb2, lab_pb2_grpc, node_pb2

from nodes.agent import convert, topb
from nodes.agent.errors import ArgumentError
from nodes.faults.model import FaultSpec
from orchestrator.domain.errors import InvalidArgument, LabError
from orchestrator.domain.events import EventKind, FaultChange, LabEvent, NodeStateChange
from orchestrator.domain.faults import FaultRequest, LabFault
from orchestrator.domain.lab import (
    DeployProgress,
    InterfaceInfo,
    LabInfo,
    LabSummary,
    NodeActionResult,
)
from orchestrator.domain.requests import (
    CaptureRequest,
    HttpRequest,
    InterfaceChange,
    PingRequest,
    RouteRequest,
    TraceRequest,
    TransferRequest,
    interface_change,
    prefix_of,
)
from orchestrator.domain.results import (
    AppInfo,
    ArpEntry,
    CaptureChunk,
    Connections,
    ExecResult,
    HttpReport,
    NodeCounters,
    NodeStatus,
    PingReport,
    RipStatus,
    RouteEntry,
    TraceReport,
    TransferReport,
)
from orchestrator.wire import agent
from orchestrator.wire.generic import from_message, json_message, message_json, to_message
from orchestrator.wire.status import from_rpc_error
from topology.model import FaultTarget, TargetKind

SERVICE_NAME = "wirelab.v1.LabService"
_SERVICE = lab_pb2.DESCRIPTOR.services_by_name["LabService"]
JOURNAL_TIMEOUT = 60.0
ACTIONS = {
    "kill": lab_pb2.NODE_ACTION_KILL,
    "stop": lab_pb2.NODE_ACTION_STOP,
    "start": lab_pb2.NODE_ACTION_START,
    "restart": lab_pb2.NODE_ACTION_RESTART,
    "pause": lab_pb2.NODE_ACTION_PAUSE,
    "unpause": lab_pb2.NODE_ACTION_UNPAUSE,
}
ACTION_WORDS = {v: k for k, v in ACTIONS.items()}
_EVENT_TYPES = {
    EventKind.LINK: node_pb2.EVENT_TYPE_LINK,
    EventKind.TCP: node_pb2.EVENT_TYPE_TCP_STATE,
    EventKind.NODE_FAULT: node_pb2.EVENT_TYPE_FAULT,
    EventKind.RIP_ROUTE: node_pb2.EVENT_TYPE_RIP_ROUTE,
}
_EVENT_KINDS = {v: k for k, v in _EVENT_TYPES.items()}


# ---- faults --------------------------------------------------------------------------------


def target_to(target: FaultTarget, one_way: bool) -> Any:
    msg = lab_pb2.FaultTarget()
    if target.kind is TargetKind.ENDPOINT:
        msg.endpoint = f"{target.node}:{target.iface}"
    elif target.kind is TargetKind.LINK:
        msg.link = target.link or ""
    elif target.kind is TargetKind.NODE:
        msg.node = target.node or ""
    else:
        msg.partition.groups.extend(lab_pb2.NodeGroup(nodes=list(g)) for g in target.groups)
        msg.partition.one_way = one_way
    return msg


def target_from(msg: Any, field_name: str = "fault.target") -> tuple[FaultTarget, bool]:
    """(target, one_way)."""
    kind = msg.WhichOneof("kind")
    if kind is None:
        raise InvalidArgument("give one of endpoint, link, node, partition", field_name)
    if kind == "endpoint":
        node, colon, iface = msg.endpoint.partition(":")
        if not colon or not node or not iface:
            raise InvalidArgument(f"expected node:iface, got {msg.endpoint[:64]!r}",
                                  f"{field_name}.endpoint")  # fmt: skip
        return FaultTarget(TargetKind.ENDPOINT, node=node, iface=iface), False
    if kind == "link":
        return FaultTarget(TargetKind.LINK, link=msg.link), False
    if kind == "node":
        return FaultTarget(TargetKind.NODE, node=msg.node), False
    groups = tuple(tuple(g.nodes) for g in msg.partition.groups)
    return FaultTarget(TargetKind.PARTITION, groups=groups), msg.partition.one_way


def fault_request_to(request: FaultRequest) -> Any:
    spec = FaultSpec("*", request.effects, request.direction, request.match, request.seed,
                     request.duration)  # fmt: skip
    effects = topb.fault_spec(spec)
    effects.iface = ""
    return lab_pb2.LabFaultSpec(
        target=target_to(request.target, request.one_way), effects=effects,
        fault_id=request.fault_id,
    )  # fmt: skip


def fault_request_from(msg: Any) -> FaultRequest:
    """A LabFaultSpec as a request (errors name fields below it: ``target.endpoint``)."""
    from orchestrator.domain.requests import fault_id_of

    target, one_way = target_from(msg.target, "target")
    effects = common_pb2.FaultSpec()
    effects.CopyFrom(msg.effects)
    effects.iface = "*"
    try:
        spec = convert.fault("effects", effects, None)
    except ArgumentError as exc:
        raise InvalidArgument(exc.problem, exc.field) from None
    direction = spec.direction
    if one_way:
        from nodes.faults.model import Direction

        direction = Direction.EGRESS
    return FaultRequest(
        target=target, effects=spec.effects, direction=direction, match=spec.match,
        seed=spec.seed, duration=spec.duration, fault_id=fault_id_of(msg.fault_id),
    )  # fmt: skip


def lab_fault_to(fault: LabFault) -> Any:
    spec = fault_request_to(fault.request)
    msg = lab_pb2.LabFault(
        fault_id=fault.fault_id, lab=fault.lab, target=spec.target, effects=spec.effects,
        state=fault.state.value, origin=fault.origin, seed=fault.seed, age_ms=fault.age_ms,
        description=fault.description,
    )  # fmt: skip
    if fault.remaining_ms is not None:
        msg.remaining_ms = fault.remaining_ms
    to_message(fault.counters, msg.counters)
    for part in fault.parts:
        to_message(part, msg.parts.add())
    return msg


def lab_fault_from(msg: Any) -> LabFault:
    from orchestrator.domain.faults import FaultCounters, FaultPart, FaultState

    spec = lab_pb2.LabFaultSpec(target=msg.target, effects=msg.effects, fault_id=msg.fault_id)
    return LabFault(
        fault_id=msg.fault_id,
        lab=msg.lab,
        request=fault_request_from(spec),
        state=FaultState(msg.state),
        origin=msg.origin,
        seed=msg.seed,
        age_ms=msg.age_ms,
        remaining_ms=msg.remaining_ms if msg.HasField("remaining_ms") else None,
        counters=from_message(FaultCounters, msg.counters),
        parts=tuple(from_message(FaultPart, p) for p in msg.parts),
        description=msg.description,
    )


# ---- events ----------------------------------------------------------------------------------


def event_to(event: LabEvent) -> Any:
    msg = lab_pb2.LabEvent(unix_time_s=event.unix_time_s, lab=event.lab, node=event.node)
    kind = event.kind
    if kind is EventKind.SUBSCRIBED:
        msg.subscribed = True
    elif kind is EventKind.DESTROYED:
        msg.destroyed = True
    elif kind is EventKind.FAULT and event.fault is not None:
        msg.fault.change = event.fault.change
        msg.fault.fault.CopyFrom(lab_fault_to(event.fault.fault))
    elif kind is EventKind.NODE_STATE and event.node_state is not None:
        msg.node_state.action = event.node_state.action
        msg.node_state.state = event.node_state.state
    else:
        node = msg.node_event
        node.unix_time_s, node.node, node.dropped = event.unix_time_s, event.node, event.dropped
        if event.link is not None:
            to_message(event.link, node.link)
        elif event.tcp is not None:
            to_message(event.tcp, node.tcp)
        elif event.rip_route is not None:
            to_message(event.rip_route, node.rip_route)
        elif event.node_fault is not None:
            change = {
                "added": node_pb2.FaultEvent.CHANGE_ADDED,
                "cleared": node_pb2.FaultEvent.CHANGE_CLEARED,
                "expired": node_pb2.FaultEvent.CHANGE_EXPIRED,
            }.get(event.node_fault.change, node_pb2.FaultEvent.CHANGE_UNSPECIFIED)
            node.fault.change = change
            to_message(event.node_fault.fault, node.fault.fault)
        else:
            node.link.iface = ""  # a change without details (a linux node's interface)
    return msg


def event_from(msg: Any) -> LabEvent:
    kind = msg.WhichOneof("kind")
    base = {"unix_time_s": msg.unix_time_s, "lab": msg.lab, "node": msg.node}
    if kind == "subscribed":
        return LabEvent(EventKind.SUBSCRIBED, **base)
    if kind == "destroyed":
        return LabEvent(EventKind.DESTROYED, **base)
    if kind == "fault":
        change = FaultChange(msg.fault.change, lab_fault_from(msg.fault.fault))
        return LabEvent(EventKind.FAULT, fault=change, **base)
    if kind == "node_state":
        state = NodeStateChange(msg.node_state.action, msg.node_state.state)
        return LabEvent(EventKind.NODE_STATE, node_state=state, **base)
    converted = agent.node_event(msg.lab, msg.node, msg.node_event)
    return converted or LabEvent(EventKind.LINK, **base)


def event_kinds_from(types: Sequence[int]) -> list[EventKind]:
    kinds: dict[int, EventKind] = {int(k): v for k, v in _EVENT_KINDS.items()}
    out = []
    for t in types:
        if t not in kinds:
            raise InvalidArgument(f"unknown event type {t}", "types")
        out.append(kinds[t])
    return out


# ---- measurements and configuration ------------------------------------------------------------


def ping_from(msg: Any) -> PingRequest:
    from orchestrator.domain.requests import ping

    return ping(
        msg.destination,
        count=msg.count or 1,
        interval=msg.interval_ms / 1000.0 if msg.HasField("interval_ms") else None,
        size=msg.size_bytes if msg.HasField("size_bytes") else None,
        ttl=msg.ttl if msg.HasField("ttl") else None,
        dont_fragment=msg.dont_fragment,
        wait=msg.timeout_ms / 1000.0 if msg.HasField("timeout_ms") else None,
        record_route=msg.record_route,
    )


def trace_from(msg: Any) -> TraceRequest:
    from orchestrator.domain.requests import traceroute

    return traceroute(
        msg.destination,
        method=msg.method or "udp",
        max_hops=msg.max_hops if msg.HasField("max_hops") else None,
        probes=msg.probes if msg.HasField("probes") else None,
        wait=msg.wait_ms / 1000.0 if msg.HasField("wait_ms") else None,
    )


def transfer_to(lab: str, req: TransferRequest) -> Any:
    msg = lab_pb2.TransferRequest(
        lab=lab, source=req.source, destination=req.destination, size_bytes=req.size_bytes,
        congestion_control=req.congestion_control, port=req.port,
        timeout_ms=req.timeout_s * 1000.0, seed=req.seed,
    )  # fmt: skip
    if req.sample_interval_s is not None:
        msg.sample_interval_ms = req.sample_interval_s * 1000.0
    return msg


def transfer_from(msg: Any) -> TransferRequest:
    from orchestrator.domain.requests import DEFAULT_TRANSFER_SIZE, transfer

    return transfer(
        msg.source,
        msg.destination,
        size=msg.size_bytes or DEFAULT_TRANSFER_SIZE,
        congestion_control=msg.congestion_control,
        port=msg.port,
        sample_interval=(
            msg.sample_interval_ms / 1000.0 if msg.HasField("sample_interval_ms") else None
        ),
        timeout=msg.timeout_ms / 1000.0 if msg.HasField("timeout_ms") else 60.0,
        seed=msg.seed if msg.HasField("seed") else None,
    )


def http_from(msg: Any) -> HttpRequest:
    from orchestrator.domain.requests import http

    timeout = msg.timeout_ms / 1000.0 if msg.HasField("timeout_ms") else 30.0
    return http(msg.url, timeout=timeout)


def capture_from(msg: Any) -> CaptureRequest:
    from orchestrator.domain.requests import capture

    return capture(
        msg.iface or "*",
        max_packets=msg.max_packets if msg.HasField("max_packets") else None,
        duration=msg.duration_ms / 1000.0 if msg.HasField("duration_ms") else None,
        snaplen=msg.snaplen_bytes if msg.HasField("snaplen_bytes") else None,
    )


def interface_change_to(lab: str, node: str, change: InterfaceChange) -> Any:
    msg = lab_pb2.LabSetInterfaceRequest(lab=lab, node=node, iface=change.iface)
    if change.mtu is not None:
        msg.mtu = change.mtu
    if change.up is not None:
        msg.up = change.up
    if change.address is not None:
        msg.address = str(change.address)
    return msg


def interface_change_from(msg: Any) -> InterfaceChange:
    return interface_change(
        msg.iface,
        mtu=msg.mtu if msg.HasField("mtu") else None,
        up=msg.up if msg.HasField("up") else None,
        address=msg.address if msg.HasField("address") else None,
    )


def route_to(req: RouteRequest) -> Any:
    return node_pb2.RouteConfig(
        prefix=str(req.prefix), gateway=req.via, iface=req.dev, metric=req.metric
    )


def route_from(msg: Any) -> RouteRequest:
    from orchestrator.domain.requests import route

    return route(msg.prefix, via=msg.gateway, dev=msg.iface, metric=msg.metric)


def duration_from(msg: Any, field_name: str = "duration_ms") -> float | None:
    if not msg.HasField(field_name):
        return None
    value = getattr(msg, field_name)
    if not value > 0:
        raise InvalidArgument("must be > 0", field_name)
    return float(value) / 1000.0


# ---- the client's stub -------------------------------------------------------------------------


class LabWire:
    """The LabService over one channel, in domain terms (the Python client's wire layer)."""

    def __init__(self, channel: grpc.Channel, metadata: Sequence[tuple[str, str]] = ()) -> None:
        self.channel = channel
        self._stub = lab_pb2_grpc.LabServiceStub(channel)
        self._metadata = tuple(metadata)

    def _call(self, method: str, request: Any, timeout: float) -> Any:
        try:
            return getattr(self._stub, method)(request, timeout=timeout, metadata=self._metadata)
        except grpc.RpcError as exc:
            raise from_rpc_error(exc) from None

    def _stream(
        self,
        method: str,
        request: Any,
        timeout: float | None,
        on_start: Callable[[Callable[[], object]], object] | None = None,
    ) -> Iterator[Any]:
        call = getattr(self._stub, method)(request, timeout=timeout, metadata=self._metadata)
        if on_start is not None:
            on_start(call.cancel)
        try:
            yield from call
        except grpc.RpcError as exc:
            if exc.code() != grpc.StatusCode.CANCELLED:
                raise from_rpc_error(exc) from None
        finally:
            call.cancel()

    def healthy(self, timeout: float = 1.0) -> bool:
        stub = health_pb2_grpc.HealthStub(self.channel)
        try:
            reply = stub.Check(health_pb2.HealthCheckRequest(service=SERVICE_NAME), timeout=timeout)
        except grpc.RpcError:
            return False
        return bool(reply.status == health_pb2.HealthCheckResponse.SERVING)

    # ---- labs -----------------------------------------------------------------------------
    def deploy(
        self,
        text: str,
        *,
        source_name: str,
        name: str,
        backend: str,
        replace: bool,
        seed: int | None,
        skip_timeline: bool,
        timeout: float | None,
    ) -> Iterator[DeployProgress | LabInfo]:
        req = lab_pb2.DeployRequest(
            topology_yaml=text, source_name=source_name, name=name, backend=backend,
            replace=replace, skip_timeline=skip_timeline,
        )  # fmt: skip
        if seed is not None:
            req.seed = seed
        for event in self._stream("Deploy", req, timeout):
            if event.WhichOneof("kind") == "lab":
                yield from_message(LabInfo, event.lab)
            else:
                yield from_message(DeployProgress, event.progress)

    def destroy(self, lab: str = "", *, all: bool = False) -> list[str]:
        reply = self._call("Destroy", lab_pb2.DestroyRequest(lab=lab, all=all), 300.0)
        return list(reply.destroyed)

    def labs(self) -> list[LabSummary]:
        reply = self._call("ListLabs", lab_pb2.ListLabsRequest(), 30.0)
        return [from_message(LabSummary, s) for s in reply.labs]

    def lab(self, lab: str) -> LabInfo:
        return from_message(LabInfo, self._call("GetLab", lab_pb2.GetLabRequest(lab=lab), 30.0))

    # ---- faults ---------------------------------------------------------------------------
    def add_fault(self, lab: str, request: FaultRequest) -> LabFault:
        req = lab_pb2.AddLabFaultRequest(lab=lab, fault=fault_request_to(request))
        return lab_fault_from(self._call("AddFault", req, 30.0))

    def clear_fault(self, lab: str, fault_id: str = "", *, all: bool = False) -> list[LabFault]:
        req = lab_pb2.ClearLabFaultRequest(lab=lab, fault_id=fault_id, all=all)
        return [lab_fault_from(f) for f in self._call("ClearFault", req, 30.0).cleared]

    def faults(self, lab: str, *, active_only: bool = False) -> list[LabFault]:
        req = lab_pb2.ListLabFaultsRequest(lab=lab, active_only=active_only)
        return [lab_fault_from(f) for f in self._call("ListFaults", req, 30.0).faults]

    def node_action(
        self, lab: str, node: str, action: str, duration: float | None
    ) -> NodeActionResult:
        req = lab_pb2.NodeActionRequest(lab=lab, node=node, action=ACTIONS[action])
        if duration is not None:
            req.duration_ms = duration * 1000.0
        return from_message(NodeActionResult, self._call("NodeAction", req, 120.0))

    # ---- measurements ---------------------------------------------------------------------
    def ping(self, lab: str, node: str, req: PingRequest, timeout: float) -> PingReport:
        msg = lab_pb2.LabPingRequest(lab=lab, node=node, ping=agent.ping_message(req))
        return from_message(PingReport, self._call("Ping", msg, timeout))

    def traceroute(self, lab: str, node: str, req: TraceRequest, timeout: float) -> TraceReport:
        msg = lab_pb2.LabTracerouteRequest(lab=lab, node=node, traceroute=agent.trace_message(req))
        return from_message(TraceReport, self._call("Traceroute", msg, timeout))

    def transfer(self, lab: str, req: TransferRequest) -> TransferReport:
        reply = self._call("Transfer", transfer_to(lab, req), req.timeout_s + 40.0)
        return from_message(TransferReport, reply)

    def http_get(self, lab: str, node: str, req: HttpRequest) -> HttpReport:
        http = node_pb2.HttpGetRequest(url=req.url, timeout_ms=req.timeout_s * 1000.0)
        msg = lab_pb2.LabHttpGetRequest(lab=lab, node=node, http=http)
        return from_message(HttpReport, self._call("HttpGet", msg, req.timeout_s + 25.0))

    # ---- node state and configuration -----------------------------------------------------
    def status(self, lab: str, node: str) -> NodeStatus:
        msg = lab_pb2.NodeRequest(lab=lab, node=node)
        return from_message(NodeStatus, self._call("GetNodeStatus", msg, 30.0))

    def routes(self, lab: str, node: str) -> list[RouteEntry]:
        reply = self._call("GetRoutes", lab_pb2.NodeRequest(lab=lab, node=node), 30.0)
        return [from_message(RouteEntry, r) for r in reply.routes]

    def rip(self, lab: str, node: str) -> RipStatus:
        reply = self._call("GetRip", lab_pb2.NodeRequest(lab=lab, node=node), 30.0)
        return from_message(RipStatus, reply)

    def arp(self, lab: str, node: str) -> list[ArpEntry]:
        reply = self._call("GetArpTable", lab_pb2.NodeRequest(lab=lab, node=node), 30.0)
        return [from_message(ArpEntry, e) for e in reply.entries]

    def connections(self, lab: str, node: str) -> Connections:
        reply = self._call("GetConnections", lab_pb2.NodeRequest(lab=lab, node=node), 30.0)
        return from_message(Connections, reply)

    def counters(self, lab: str, node: str) -> NodeCounters:
        reply = self._call("GetCounters", lab_pb2.NodeRequest(lab=lab, node=node), 30.0)
        return from_message(NodeCounters, reply)

    def set_interface(self, lab: str, node: str, change: InterfaceChange) -> InterfaceInfo:
        reply = self._call("SetInterface", interface_change_to(lab, node, change), 60.0)
        return from_message(InterfaceInfo, reply)

    def add_route(self, lab: str, node: str, route: RouteRequest) -> RouteEntry:
        msg = lab_pb2.LabAddRouteRequest(lab=lab, node=node, route=route_to(route))
        return from_message(RouteEntry, self._call("AddRoute", msg, 60.0))

    def delete_route(self, lab: str, node: str, prefix: str) -> RouteEntry:
        msg = lab_pb2.LabDeleteRouteRequest(lab=lab, node=node, prefix=str(prefix_of(prefix)))
        return from_message(RouteEntry, self._call("DeleteRoute", msg, 60.0))

    # ---- apps, shells, streams ------------------------------------------------------------
    def start_app(self, lab: str, node: str, kind: str, port: int) -> AppInfo:
        msg = lab_pb2.LabStartAppRequest(
            lab=lab, node=node, app=node_pb2.AppConfig(kind=kind, port=port)
        )
        return from_message(AppInfo, self._call("StartApp", msg, 30.0))

    def stop_app(self, lab: str, node: str, app_id: str) -> AppInfo:
        msg = lab_pb2.LabStopAppRequest(lab=lab, node=node, app_id=app_id)
        return from_message(AppInfo, self._call("StopApp", msg, 30.0))

    def apps(self, lab: str, node: str = "") -> dict[str, list[AppInfo]]:
        reply = self._call("ListApps", lab_pb2.LabListAppsRequest(lab=lab, node=node), 30.0)
        return {n.node: [from_message(AppInfo, a) for a in n.apps] for n in reply.nodes}

    def exec(self, lab: str, node: str, argv: Sequence[str], timeout: float) -> ExecResult:
        msg = lab_pb2.ExecRequest(lab=lab, node=node, argv=list(argv), timeout_ms=timeout * 1000.0)
        return from_message(ExecResult, self._call("Exec", msg, timeout + 10.0))

    def capture(
        self,
        lab: str,
        node: str,
        req: CaptureRequest,
        on_start: Callable[[Callable[[], object]], object] | None = None,
    ) -> Iterator[CaptureChunk]:
        msg = lab_pb2.LabCaptureRequest(lab=lab, node=node, capture=agent.capture_message(req))
        for chunk in self._stream("Capture", msg, None, on_start):
            yield CaptureChunk(chunk.data, chunk.packets, chunk.dropped)

    def events(
        self,
        lab: str,
        nodes: Sequence[str] = (),
        kinds: Sequence[EventKind] = (),
        on_start: Callable[[Callable[[], object]], object] | None = None,
    ) -> Iterator[LabEvent]:
        msg = lab_pb2.LabWatchEventsRequest(lab=lab, nodes=list(nodes))
        for kind in kinds:
            if kind not in _EVENT_TYPES:
                allowed = ", ".join(k.value for k in _EVENT_TYPES)
                raise InvalidArgument(f"only node event kinds filter a stream ({allowed})", "kinds")
            msg.types.append(_EVENT_TYPES[kind])
        for event in self._stream("WatchEvents", msg, None, on_start):
            yield event_from(event)

    def journal(self, lab: str) -> list[str]:
        """The lab's journal as JSON lines (orchestrator/lab/journal.py)."""
        msg = lab_pb2.GetJournalRequest(lab=lab)
        return [line.json for line in self._stream("GetJournal", msg, JOURNAL_TIMEOUT)]

    def call_json(self, op: str, request: dict[str, Any], timeout: float) -> dict[str, Any]:
        """One unary LabService call from its request as JSON data (a journal's entry);
        the answer as JSON data. InvalidArgument when ``op`` or ``request`` do not fit."""
        method = _SERVICE.methods_by_name.get(op)
        if method is None or method.server_streaming:
            raise InvalidArgument(f"{op!r} is not a unary LabService call", "op")
        try:
            msg = json_message(request, message_factory.GetMessageClass(method.input_type)())
        except ValueError as exc:
            raise InvalidArgument(str(exc), "request") from None
        return message_json(self._call(op, msg, timeout))

    def close(self) -> None:
        self.channel.close()


__all__ = ["ACTIONS", "SERVICE_NAME", "LabError", "LabWire"]
