"""The lab's client of the node agents (node.proto's NodeAgent): domain in, domain out.

    pool = AgentPool()
    agent = pool.agent("unix:///run/wirelab/lab/h1/agent.sock", node="h1")
    report = agent.ping(requests.ping("10.0.1.2", count=3))     # PingReport
    pool.close()

Addresses are gRPC targets: ``unix:///path`` (a docker node's agent socket, mounted from
the host) or ``ip:port`` (sim nodes on 127.0.0.1, agents on a management network).
Channels are cached per address and reconnect quickly (a node agent comes up within a
second of its container starting; gRPC's default back-off of 1 s and more would double the
deploy time). Failed calls raise the domain's errors (:mod:`orchestrator.domain.errors`)
naming the node.
"""

from __future__ import annotations

import enum
import threading
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc  # type: ignore[import-untyped]
from wirelab.v1 import common_pb2, node_pb2, node_pb2_grpc

from nodes.agent import convert, topb
from nodes.faults.link import LinkProps
from nodes.faults.model import Direction, FaultSpec
from orchestrator.domain.errors import Cancelled, FailedPrecondition
from orchestrator.domain.events import (
    EventKind,
    LabEvent,
    LinkChange,
    NodeFaultChange,
    RipRouteChange,
    TcpStateChange,
)
from orchestrator.domain.faults import FaultPart
from orchestrator.domain.requests import (
    CaptureRequest,
    InterfaceChange,
    PingRequest,
    RouteRequest,
    TraceRequest,
)
from orchestrator.domain.results import (
    AppInfo,
    ArpEntry,
    BulkSendResult,
    CaptureChunk,
    Connections,
    HttpReport,
    InterfaceStatus,
    NodeCounters,
    NodeStatus,
    PingReport,
    RipStatus,
    RouteEntry,
    SinkResult,
    TraceReport,
    UdpReport,
)
from orchestrator.wire.generic import CONVERTERS, from_message
from orchestrator.wire.status import from_rpc_error
from topology import Interface, Lab, Node, NodeKind, Redistribute, RipOptions, StackOptions

T = TypeVar("T")
CHANNEL_OPTIONS: list[tuple[str, int]] = [
    ("grpc.initial_reconnect_backoff_ms", 50),
    ("grpc.min_reconnect_backoff_ms", 50),
    ("grpc.max_reconnect_backoff_ms", 250),
    ("grpc.enable_http_proxy", 0),  # lab addresses are never behind a proxy
]
QUICK = 10.0  # seconds: quick calls


def _fault_spec_to(spec: FaultSpec, msg: Any) -> None:
    msg.CopyFrom(topb.fault_spec(spec))


CONVERTERS[FaultSpec] = (lambda msg: convert.fault("spec", msg, None), _fault_spec_to)


def _link_props_to(props: LinkProps, msg: Any) -> None:
    msg.CopyFrom(topb.link_shaping(props))


CONVERTERS[LinkProps] = (lambda msg: convert.link_shaping("shaping", msg), _link_props_to)


def open_channel(address: str) -> grpc.Channel:
    return grpc.insecure_channel(address, options=CHANNEL_OPTIONS)


class Health(enum.Enum):
    UNREACHABLE = "unreachable"  # nothing answers (yet)
    NOT_SERVING = "not-serving"  # the agent runs, not configured yet
    SERVING = "serving"  # configured, its event loop runs


# ---- Configure: the planned node as the agent's message -----------------------------------

_KINDS = {NodeKind.HOST: node_pb2.NODE_KIND_HOST, NodeKind.ROUTER: node_pb2.NODE_KIND_ROUTER}


def stack_options(opts: StackOptions) -> common_pb2.StackOptions:
    """Every option, explicitly (a planned lab has them all resolved)."""
    return common_pb2.StackOptions(
        congestion_control=opts.congestion_control,
        msl_ms=opts.msl * 1000.0,
        syn_retries=opts.syn_retries,
        synack_retries=opts.synack_retries,
        retries1=opts.retries1,
        retries2=opts.retries2,
        orphan_retries=opts.orphan_retries,
        fin_timeout_ms=opts.fin_timeout * 1000.0,
        delayed_ack=opts.delayed_ack,
        sack=opts.sack,
        timestamps=opts.timestamps,
        wscale=opts.wscale,
        syncookies=opts.syncookies,
        initial_cwnd=opts.initial_cwnd,
        hystart=opts.hystart,
        tlp=opts.tlp,
        rto_min_ms=opts.rto_min * 1000.0,
        ttl=opts.ttl,
        arp_reachable_ms=opts.arp_reachable * 1000.0,
        arp_retries=opts.arp_retries,
        reassembly_timeout_ms=opts.reassembly_timeout * 1000.0,
        mtu_probing=opts.mtu_probing,
        base_mss=opts.base_mss,
    )


def interface_config(lab: Lab, iface: Interface) -> Any:
    """One interface of the Configure message, with the link properties it applies."""
    msg = node_pb2.InterfaceConfig(
        name=iface.name, address=str(iface.address), prefix_len=iface.network.prefixlen,
        mac=iface.mac_str, mtu=iface.mtu,
    )  # fmt: skip
    shaping = lab.shaping(iface.ref)
    if not shaping.egress.empty:
        msg.egress.CopyFrom(topb.link_shaping(shaping.egress))
    if not shaping.ingress.empty:
        msg.ingress.CopyFrom(topb.link_shaping(shaping.ingress))
    return msg


def rip_options(rip: RipOptions, *, silent: bool) -> Any:
    """Every option, explicitly (as planned)."""
    return node_pb2.RipOptions(
        update_ms=rip.update * 1000.0,
        timeout_ms=rip.timeout * 1000.0,
        garbage_ms=rip.garbage * 1000.0,
        triggered_updates=rip.triggered,
        split_horizon=rip.split_horizon,
        poisoned_reverse=rip.poisoned_reverse,
        passive=list(rip.passive),
        redistribute_connected=Redistribute.CONNECTED in rip.redistribute,
        redistribute_static=Redistribute.STATIC in rip.redistribute,
        originate_default=rip.default_route,
        auth_key=rip.auth_key or "",
        auth_key_id=rip.auth_key_id,
        silent=silent,
    )


def configure_request(lab: Lab, node: Node, *, seed: int | None = None) -> Any:
    """The Configure message of one host or router of ``lab``."""
    if node.kind not in _KINDS:
        raise ValueError(f"node {node.name} is a {node.kind.value} node: it runs no node agent")
    req = node_pb2.ConfigureRequest(
        name=node.name,
        kind=_KINDS[node.kind],
        lab=lab.name,
        stack=stack_options(node.stack),
        interfaces=[interface_config(lab, i) for i in node.interfaces],
        routes=[
            node_pb2.RouteConfig(prefix=str(r.dst), gateway=str(r.via), iface=r.dev)
            for r in node.routes
        ],
        apps=[node_pb2.AppConfig(kind=a.kind.value, port=a.port) for a in node.apps],
    )  # fmt: skip
    if seed is not None:
        req.seed = seed
    if node.rip is not None:
        req.rip.CopyFrom(rip_options(node.rip, silent=node.kind is NodeKind.HOST))
    return req


def node_seeds(lab: Lab, seed: int | None) -> dict[str, int | None]:
    """Each host's and router's stack seed: ``seed`` + its position in the lab."""
    return {
        n.name: None if seed is None else seed + i
        for i, n in enumerate(lab.nodes)
        if n.kind in _KINDS
    }


# ---- request messages (the LabService carries the same ones) -------------------------------


def ping_message(req: PingRequest) -> Any:
    msg = node_pb2.PingRequest(
        destination=req.destination, count=req.count, dont_fragment=req.dont_fragment,
        record_route=req.record_route,
    )  # fmt: skip
    if req.interval_s is not None:
        msg.interval_ms = req.interval_s * 1000.0
    if req.size_bytes is not None:
        msg.size_bytes = req.size_bytes
    if req.ttl is not None:
        msg.ttl = req.ttl
    if req.wait_s is not None:
        msg.timeout_ms = req.wait_s * 1000.0
    return msg


def trace_message(req: TraceRequest) -> Any:
    msg = node_pb2.TracerouteRequest(destination=req.destination, method=req.method)
    if req.max_hops is not None:
        msg.max_hops = req.max_hops
    if req.probes is not None:
        msg.probes = req.probes
    if req.wait_s is not None:
        msg.wait_ms = req.wait_s * 1000.0
    return msg


_CAPTURE_DIRECTIONS = {
    Direction.BOTH: common_pb2.DIRECTION_BOTH,
    Direction.EGRESS: common_pb2.DIRECTION_EGRESS,
    Direction.INGRESS: common_pb2.DIRECTION_INGRESS,
}


def capture_message(req: CaptureRequest) -> Any:
    msg = node_pb2.CaptureRequest(iface=req.iface)
    if req.max_packets is not None:
        msg.max_packets = req.max_packets
    if req.duration_s is not None:
        msg.duration_ms = req.duration_s * 1000.0
    if req.snaplen_bytes is not None:
        msg.snaplen_bytes = req.snaplen_bytes
    return msg


# ---- one agent ------------------------------------------------------------------------------


class AgentWire:
    """One node agent. ``node`` names it in errors."""

    def __init__(self, channel: grpc.Channel, node: str) -> None:
        self.node = node
        self._channel = channel
        self._stub = node_pb2_grpc.NodeAgentStub(channel)

    def _call(self, method: str, request: Any, timeout: float) -> Any:
        try:
            return getattr(self._stub, method)(request, timeout=timeout)
        except grpc.RpcError as exc:
            raise from_rpc_error(exc, prefix=f"node {self.node}: ") from None

    # ---- lifecycle ----------------------------------------------------------------------
    def health(self, *, timeout: float) -> Health:
        stub = health_pb2_grpc.HealthStub(self._channel)
        try:
            reply = stub.Check(
                health_pb2.HealthCheckRequest(service=""), timeout=timeout, wait_for_ready=True
            )
        except grpc.RpcError:
            return Health.UNREACHABLE
        if reply.status == health_pb2.HealthCheckResponse.SERVING:
            return Health.SERVING
        return Health.NOT_SERVING

    def configure(self, lab: Lab, node: Node, *, seed: int | None, timeout: float) -> NodeStatus:
        reply = self._call("Configure", configure_request(lab, node, seed=seed), timeout)
        return from_message(NodeStatus, reply.status)

    def status(self, *, timeout: float = QUICK) -> NodeStatus:
        return from_message(
            NodeStatus, self._call("GetStatus", node_pb2.GetStatusRequest(), timeout)
        )

    # ---- live configuration -------------------------------------------------------------
    def set_interface(self, change: InterfaceChange) -> InterfaceStatus:
        req = node_pb2.SetInterfaceRequest(name=change.iface)
        if change.mtu is not None:
            req.mtu = change.mtu
        if change.up is not None:
            req.up = change.up
        if change.address is not None:
            req.address = str(change.address.ip)
            req.prefix_len = change.address.network.prefixlen
        return from_message(InterfaceStatus, self._call("SetInterface", req, QUICK))

    def routes(self) -> list[RouteEntry]:
        reply = self._call("ListRoutes", node_pb2.ListRoutesRequest(), QUICK)
        return [from_message(RouteEntry, r) for r in reply.routes]

    def add_route(self, route: RouteRequest) -> RouteEntry:
        config = node_pb2.RouteConfig(
            prefix=str(route.prefix), gateway=route.via, iface=route.dev, metric=route.metric
        )
        reply = self._call("AddRoute", node_pb2.AddRouteRequest(route=config), QUICK)
        return from_message(RouteEntry, reply)

    def delete_route(self, prefix: str) -> RouteEntry:
        reply = self._call("DeleteRoute", node_pb2.DeleteRouteRequest(prefix=prefix), QUICK)
        return from_message(RouteEntry, reply)

    # ---- state --------------------------------------------------------------------------
    def arp(self) -> list[ArpEntry]:
        reply = self._call("GetArpTable", node_pb2.GetArpTableRequest(), QUICK)
        return [from_message(ArpEntry, e) for e in reply.entries]

    def connections(self) -> Connections:
        return from_message(
            Connections, self._call("GetConnections", node_pb2.GetConnectionsRequest(), QUICK)
        )

    def counters(self) -> NodeCounters:
        return from_message(
            NodeCounters, self._call("GetCounters", node_pb2.GetCountersRequest(), QUICK)
        )

    def rip(self) -> RipStatus:
        return from_message(RipStatus, self._call("GetRip", node_pb2.GetRipRequest(), QUICK))

    # ---- faults -------------------------------------------------------------------------
    def add_fault(self, spec: FaultSpec, fault_id: str, *, timeout: float = 5.0) -> FaultPart:
        req = node_pb2.AddFaultRequest(fault=topb.fault_spec(spec), fault_id=fault_id)
        return from_message(FaultPart, self._call("AddFault", req, timeout))

    def clear_fault(self, fault_id: str = "", *, all: bool = False) -> list[FaultPart]:
        req = node_pb2.ClearFaultRequest(fault_id=fault_id, all=all)
        return [from_message(FaultPart, f) for f in self._call("ClearFault", req, 5.0).cleared]

    def faults(self) -> list[FaultPart]:
        reply = self._call("ListFaults", node_pb2.ListFaultsRequest(), 5.0)
        return [from_message(FaultPart, f) for f in reply.faults]

    # ---- measurements -------------------------------------------------------------------
    def ping(
        self,
        req: PingRequest,
        *,
        timeout: float,
        on_start: Callable[[Callable[[], object]], object] | None = None,
    ) -> PingReport:
        """``on_start(cancel)`` gets a function that ends the ping early (from another
        thread; the call then raises Cancelled)."""
        if on_start is None:
            return from_message(PingReport, self._call("Ping", ping_message(req), timeout))
        future = self._stub.Ping.future(ping_message(req), timeout=timeout)

        def cancel() -> None:
            future.cancel()

        on_start(cancel)
        try:
            return from_message(PingReport, future.result())
        except grpc.FutureCancelledError:
            raise Cancelled(f"node {self.node}: the ping was cancelled") from None
        except grpc.RpcError as exc:
            raise from_rpc_error(exc, prefix=f"node {self.node}: ") from None

    def traceroute(self, req: TraceRequest, *, timeout: float) -> TraceReport:
        reply = self._call("Traceroute", trace_message(req), timeout)
        return from_message(TraceReport, reply)

    def http_get(self, url: str, *, wait: float, timeout: float) -> HttpReport:
        msg = node_pb2.HttpGetRequest(url=url, timeout_ms=wait * 1000.0)
        return from_message(HttpReport, self._call("HttpGet", msg, timeout))

    def bulk_send(
        self,
        destination: str,
        port: int,
        size: int,
        *,
        seed: int,
        congestion_control: str = "",
        sample_interval: float | None = 0.01,
        wait: float | None = None,
        sndbuf: int | None = None,
        nodelay: bool = False,
        timeout: float,
    ) -> BulkSendResult:
        msg = node_pb2.BulkSendRequest(
            destination=destination, port=port, size_bytes=size, seed=seed,
            congestion_control=congestion_control, nodelay=nodelay,
        )  # fmt: skip
        if sample_interval is not None:
            msg.sample_interval_ms = sample_interval * 1000.0
        if wait is not None:
            msg.timeout_ms = wait * 1000.0
        if sndbuf is not None:
            msg.sndbuf_bytes = sndbuf
        reply = self._call("BulkSend", msg, timeout)
        result = from_message(BulkSendResult, reply)
        return result

    def sink_results(self, app_id: str = "") -> list[SinkResult]:
        reply = self._call("GetSinkResults", node_pb2.GetSinkResultsRequest(app_id=app_id), QUICK)
        return [from_message(SinkResult, r) for r in reply.results]

    def udp_send(
        self,
        destination: str,
        port: int = 7,
        *,
        count: int = 1,
        size: int | None = None,
        interval: float | None = None,
        wait: float | None = None,
        timeout: float,
    ) -> UdpReport:
        msg = node_pb2.UdpSendRequest(destination=destination, port=port, count=count)
        if size is not None:
            msg.size_bytes = size
        if interval is not None:
            msg.interval_ms = interval * 1000.0
        if wait is not None:
            msg.wait_ms = wait * 1000.0
        return from_message(UdpReport, self._call("UdpSend", msg, timeout))

    # ---- apps ---------------------------------------------------------------------------
    def start_app(self, kind: str, port: int = 0) -> AppInfo:
        req = node_pb2.StartAppRequest(app=node_pb2.AppConfig(kind=kind, port=port))
        return from_message(AppInfo, self._call("StartApp", req, QUICK))

    def stop_app(self, app_id: str) -> AppInfo:
        req = node_pb2.StopAppRequest(app_id=app_id)
        return from_message(AppInfo, self._call("StopApp", req, QUICK))

    def apps(self) -> list[AppInfo]:
        reply = self._call("ListApps", node_pb2.ListAppsRequest(), QUICK)
        return [from_message(AppInfo, a) for a in reply.apps]

    # ---- streams ------------------------------------------------------------------------
    def capture(
        self,
        req: CaptureRequest,
        *,
        on_start: Callable[[Callable[[], object]], object] | None = None,
        direction: Direction = Direction.BOTH,
    ) -> Iterator[CaptureChunk]:
        """The pcap stream; ``on_start(cancel)`` gets a function that ends it early.
        ``direction``: only the frames the interface sends (egress) or receives (ingress)."""
        msg = capture_message(req)
        msg.direction = _CAPTURE_DIRECTIONS[direction]
        call = self._stub.Capture(msg)
        if on_start is not None:
            on_start(call.cancel)
        try:
            for chunk in call:
                yield CaptureChunk(chunk.data, chunk.packets, chunk.dropped)
        except grpc.RpcError as exc:
            if exc.code() != grpc.StatusCode.CANCELLED:
                raise from_rpc_error(exc, prefix=f"node {self.node}: ") from None
        finally:
            call.cancel()

    def events(
        self, lab: str, *, on_start: Callable[[Callable[[], object]], object] | None = None
    ) -> Iterator[LabEvent]:
        """The node's events (link, TCP state, node faults, RIP routes) as lab events."""
        call = self._stub.WatchEvents(node_pb2.WatchEventsRequest())
        if on_start is not None:
            on_start(call.cancel)
        try:
            for event in call:
                converted = node_event(lab, self.node, event)
                if converted is not None:
                    yield converted
        except grpc.RpcError as exc:
            if exc.code() != grpc.StatusCode.CANCELLED:
                raise from_rpc_error(exc, prefix=f"node {self.node}: ") from None
        finally:
            call.cancel()


def node_event(lab: str, node: str, event: Any) -> LabEvent | None:
    """A node.proto Event as a lab event (None for the stream's own ``subscribed``)."""
    kind = event.WhichOneof("kind")
    base = {"unix_time_s": event.unix_time_s, "lab": lab, "node": node, "dropped": event.dropped}
    if kind == "link":
        return LabEvent(EventKind.LINK, link=from_message(LinkChange, event.link), **base)
    if kind == "tcp":
        return LabEvent(EventKind.TCP, tcp=from_message(TcpStateChange, event.tcp), **base)
    if kind == "rip_route":
        route = from_message(RipRouteChange, event.rip_route)
        return LabEvent(EventKind.RIP_ROUTE, rip_route=route, **base)
    if kind == "fault":
        change = {
            node_pb2.FaultEvent.CHANGE_ADDED: "added",
            node_pb2.FaultEvent.CHANGE_CLEARED: "cleared",
            node_pb2.FaultEvent.CHANGE_EXPIRED: "expired",
        }.get(event.fault.change, "")
        part = from_message(FaultPart, event.fault.fault)
        return LabEvent(EventKind.NODE_FAULT, node_fault=NodeFaultChange(change, part), **base)
    return None


# ---- the pool ---------------------------------------------------------------------------------


class AgentPool:
    """Channels to node agents by address (thread-safe); :meth:`agent` hands out clients."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._channels: dict[str, grpc.Channel] = {}

    def agent(self, address: str, node: str = "") -> AgentWire:
        if not address:
            raise FailedPrecondition(f"{node or 'the node'} has no agent address", "node")
        with self._lock:
            channel = self._channels.get(address)
            if channel is None:
                channel = self._channels[address] = open_channel(address)
        return AgentWire(channel, node or address)

    # the deploy steps' view (orchestrator.lab.backends.base.AgentClient)
    def health(self, address: str, *, timeout: float) -> Health:
        return self.agent(address).health(timeout=timeout)

    def configure(
        self, address: str, lab: Lab, node: Node, *, seed: int | None, timeout: float
    ) -> NodeStatus:
        return self.agent(address, node.name).configure(lab, node, seed=seed, timeout=timeout)

    def status(self, address: str, *, timeout: float) -> NodeStatus:
        return self.agent(address).status(timeout=timeout)

    def forget(self, address: str) -> None:
        with self._lock:
            channel = self._channels.pop(address, None)
        if channel is not None:
            channel.close()

    def close(self) -> None:
        with self._lock:
            channels, self._channels = list(self._channels.values()), {}
        for channel in channels:
            channel.close()


__all__ = [
    "AgentPool",
    "AgentWire",
    "Health",
    "capture_message",
    "configure_request",
    "node_event",
    "node_seeds",
    "open_channel",
    "ping_message",
    "trace_message",
]
