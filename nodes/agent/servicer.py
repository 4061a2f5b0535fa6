"""The NodeAgent gRPC servicer: proto <-> domain translation only.

Requests are validated here (nodes.agent.convert: INVALID_ARGUMENT naming the field);
everything that touches the stack runs in the node's loop through ``runtime.call``;
long-running calls start a job in the loop and wait for its Future, cancelling it when
the RPC ends early (client gone, deadline).
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import functools
import logging
import os
import platform
import queue
import sys
from collections.abc import Callable, Iterable, Iterator
from typing import Any, NoReturn, TypeVar

import google.protobuf
import grpc
from wirelab.v1 import common_pb2, node_pb2, node_pb2_grpc

from nodes.agent import convert, topb
from nodes.agent.capture import CaptureSession
from nodes.agent.errors import (
    AgentError,
    AlreadyExistsError,
    ArgumentError,
    CancelledError,
    ConflictError,
    NotConfiguredError,
    NotFoundError,
)
from nodes.agent.events import (
    ALL_TYPES,
    FAULT,
    LINK,
    RIP,
    TCP,
    FaultChange,
    LinkChange,
    Subscriber,
)
from nodes.agent.jobs import (
    BulkSendJob,
    HttpGetJob,
    Job,
    PingJob,
    TracerouteJob,
    UdpSendJob,
)
from nodes.agent.runtime import NodeRuntime, NodeState, RunningApp
from nodes.apps.bulk import BulkSender, BulkSink
from nodes.apps.http import parse_url
from nodes.apps.registry import make_app
from nodes.apps.udp import HEADER as UDP_HEADER
from nodes.apps.udp import MAX_PAYLOAD as UDP_MAX
from nodes.faults import DuplicateFaultError, FaultInfo, FaultSpecError, UnknownFaultError
from nodes.io.runner import RunnerStopped
from nodes.router.fib import RouteKind
from nodes.stack.tcp import congestion
from nodes.wire.addr import ip_to_str

log = logging.getLogger(__name__)
T = TypeVar("T")
Self = TypeVar("Self", bound="NodeAgentService")
Req = TypeVar("Req")
Resp = TypeVar("Resp")

SERVICE_NAME = "wirelab.v1.NodeAgent"
_STREAM_POLL = 0.2  # seconds between liveness checks of a stream
_EVENT_TYPES = {
    node_pb2.EVENT_TYPE_LINK: LINK,
    node_pb2.EVENT_TYPE_TCP_STATE: TCP,
    node_pb2.EVENT_TYPE_FAULT: FAULT,
    node_pb2.EVENT_TYPE_RIP_ROUTE: RIP,
}


def status_of(exc: BaseException) -> tuple[grpc.StatusCode, str] | None:
    """The status code and message for an exception we understand (None: a bug)."""
    if isinstance(exc, ArgumentError | FaultSpecError):
        return grpc.StatusCode.INVALID_ARGUMENT, str(exc)
    if isinstance(exc, NotFoundError | UnknownFaultError):
        return grpc.StatusCode.NOT_FOUND, str(exc)
    if isinstance(exc, AlreadyExistsError | DuplicateFaultError):
        return grpc.StatusCode.ALREADY_EXISTS, str(exc)
    if isinstance(exc, NotConfiguredError | ConflictError):
        return grpc.StatusCode.FAILED_PRECONDITION, str(exc)
    if isinstance(exc, CancelledError):
        return grpc.StatusCode.CANCELLED, str(exc)
    if isinstance(exc, RunnerStopped):
        return grpc.StatusCode.UNAVAILABLE, str(exc)
    if isinstance(exc, concurrent.futures.TimeoutError | TimeoutError):
        return grpc.StatusCode.DEADLINE_EXCEEDED, "the node did not answer in time"
    if isinstance(exc, AgentError):
        return grpc.StatusCode.FAILED_PRECONDITION, str(exc)
    return None


MAX_DETAIL = 1000  # bytes of an error message (values echoed in it are cut, not the answer)


def _cut(text: str) -> str:
    data = text.encode("utf-8")
    return (
        text
        if len(data) <= MAX_DETAIL
        else data[: MAX_DETAIL - 3].decode("utf-8", "ignore") + "..."
    )


def _abort(context: grpc.ServicerContext, exc: BaseException) -> NoReturn:
    status = status_of(exc)
    if status is None:
        log.exception("agent RPC failed", exc_info=exc)
        context.abort(grpc.StatusCode.INTERNAL, _cut(f"{type(exc).__name__}: {exc}"))
    context.abort(status[0], _cut(status[1]))


def rpc(
    fn: Callable[[Self, Req, grpc.ServicerContext], Resp],
) -> Callable[[Self, Req, grpc.ServicerContext], Resp]:
    """Map the agent's exceptions to status codes (unary methods)."""

    def wrapper(self: Self, request: Req, context: grpc.ServicerContext) -> Resp:
        try:
            return fn(self, request, context)
        except Exception as exc:
            _abort(context, exc)

    functools.update_wrapper(wrapper, fn)
    return wrapper


def wirelab_version(paths: Iterable[str] | None = None) -> str:
    """wirelab's installed version, read from its ``*.dist-info/METADATA`` (or
    ``*.egg-info/PKG-INFO``) on ``sys.path``; "unknown" when not installed. Not
    importlib.metadata: that pulls email, zipfile, csv, bz2, lzma... into the agent
    (~1.5 MB resident) for one line."""
    for entry in sys.path if paths is None else paths:
        try:
            names = sorted(os.listdir(entry or "."))
        except OSError:
            continue
        for name in names:
            stem, dot, suffix = name.rpartition(".")
            if not dot or suffix not in ("dist-info", "egg-info"):
                continue
            if stem.split("-", 1)[0].lower() != "wirelab":
                continue
            meta = "METADATA" if suffix == "dist-info" else "PKG-INFO"
            try:
                with open(os.path.join(entry or ".", name, meta), encoding="utf-8") as f:
                    for line in f:
                        if line.startswith("Version:"):
                            return line.partition(":")[2].strip()
                        if not line.strip():
                            break  # end of the headers
            except OSError:
                continue
    return "unknown"


@functools.cache
def _versions() -> node_pb2.Versions:
    return node_pb2.Versions(
        wirelab=wirelab_version(), python=platform.python_version(), grpc=grpc.__version__,
        protobuf=google.protobuf.__version__,
    )  # fmt: skip


def _app_stats(app: object) -> dict[str, int]:
    out = {}
    for name in ("accepted", "requests", "bytes_served", "bytes_echoed", "datagrams", "bytes",
                 "errors", "send_failures", "total_bytes"):  # fmt: skip
        value = getattr(app, name, None)
        if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
            out[name] = value
    results = getattr(app, "results", None)
    if isinstance(app, BulkSink) and isinstance(results, list):
        out["finished"] = len(results)
    return out


def _app_info(app: RunningApp, running: bool = True) -> node_pb2.AppInfo:
    return node_pb2.AppInfo(app_id=app.app_id, kind=app.kind, port=app.port, running=running,
                            stats=_app_stats(app.app))  # fmt: skip


def _opt(msg: Any, name: str, default: T) -> T:
    return getattr(msg, name) if msg.HasField(name) else default


class NodeAgentService(node_pb2_grpc.NodeAgentServicer):
    def __init__(self, runtime: NodeRuntime) -> None:
        self.runtime = runtime

    # ---- helpers ----------------------------------------------------------------
    def _loop(self, fn: Callable[[NodeState], T], what: str) -> T:
        return self.runtime.run_in_loop(fn, what=what)

    def _iface_names(self) -> list[str]:
        config = self.runtime.config
        if config is None:
            raise NotConfiguredError()
        return [i.name for i in config.interfaces]

    def _wait_job(
        self, context: grpc.ServicerContext, make: Callable[[NodeState], Job[T]], what: str
    ) -> T:
        runtime = self.runtime

        def start(state: NodeState) -> Job[T]:
            job = make(state)
            state.jobs.submit(job, state.now())
            return job

        job = self._loop(start, what)

        def cancel() -> None:
            if job.future.done():
                return
            with contextlib.suppress(AgentError):
                runtime.call(lambda s: s.jobs.cancel(job, s.now(), "the RPC ended"))

        if not context.add_callback(cancel):  # the RPC has already ended
            cancel()
        remaining = context.time_remaining()
        timeout = None if remaining is None or remaining > 1e7 else remaining
        try:
            return job.future.result(timeout)
        except concurrent.futures.TimeoutError:
            cancel()
            raise

    def _status(self, state: NodeState | None) -> node_pb2.NodeStatus:
        runtime = self.runtime
        config = runtime.config
        kind = config.kind if config is not None else runtime.expected_kind
        msg = node_pb2.NodeStatus(
            name=runtime.name,
            kind=topb.KINDS[kind] if kind is not None else node_pb2.NODE_KIND_UNSPECIFIED,
            ready=runtime.ready,
            uptime_s=runtime.clock() - runtime.started_at,
            versions=_versions(),
            lab=config.lab if config is not None else "",
        )
        if state is not None:
            for iface in state.host.interfaces:
                device = state.ports[iface.name].device if iface.name in state.ports else ""
                msg.interfaces.append(topb.interface_status(iface, device))
            msg.apps.extend(sorted(state.apps))
            msg.faults = len(state.faults.list())
        return msg

    # ---- configuration ------------------------------------------------------------
    @rpc
    def Configure(
        self, request: node_pb2.ConfigureRequest, context: grpc.ServicerContext
    ) -> node_pb2.ConfigureResponse:
        config = convert.configure(request)
        already = self.runtime.configure(config)
        status = self._loop(self._status, "Configure")
        return node_pb2.ConfigureResponse(status=status, already_configured=already)

    @rpc
    def GetStatus(
        self, request: node_pb2.GetStatusRequest, context: grpc.ServicerContext
    ) -> node_pb2.NodeStatus:
        if self.runtime.config is None or self.runtime.stopping:
            return self._status(None)
        return self._loop(self._status, "GetStatus")

    @rpc
    def SetInterface(
        self, request: node_pb2.SetInterfaceRequest, context: grpc.ServicerContext
    ) -> node_pb2.InterfaceStatus:
        names = self._iface_names()
        if request.name not in names:
            raise NotFoundError(f"name: no interface {request.name!r} (have {', '.join(names)})")
        mtu = convert.mtu("mtu", request.mtu) if request.HasField("mtu") else None
        up = request.up if request.HasField("up") else None
        address = convert.ipv4("address", request.address) if request.HasField("address") else None
        prefix_len = None
        if request.HasField("prefix_len"):
            convert.check_range("prefix_len", request.prefix_len, 0, 32)
            prefix_len = request.prefix_len

        def apply(s: NodeState) -> node_pb2.InterfaceStatus:
            iface = s.host.interfaces.get(request.name)
            if address is not None or prefix_len is not None:
                new = (
                    iface.address if address is None else address,
                    iface.prefix_len if prefix_len is None else prefix_len,
                )
                if new != (iface.address, iface.prefix_len):
                    field = "address" if address is not None else "prefix_len"
                    convert.host_address(field, *new)
                    try:
                        s.host.set_address(iface.name, *new)
                    except ValueError as exc:
                        raise ArgumentError(field, str(exc)) from None
            if mtu is not None and mtu != iface.base_mtu and s.host.set_mtu(iface.name, mtu):
                # the MTU in force changed (an MTU fault may still cap it: then it did not)
                s.events.publish(LinkChange(iface.name, iface.up, iface.mtu, "mtu"))
            if up is not None and up != iface.up:
                s.host.set_interface_up(iface.name, up)
                s.events.publish(LinkChange(iface.name, up, iface.mtu, "up" if up else "down"))
            return topb.interface_status(iface, s.ports[iface.name].device)

        return self._loop(apply, "SetInterface")

    @rpc
    def ListRoutes(
        self, request: node_pb2.ListRoutesRequest, context: grpc.ServicerContext
    ) -> node_pb2.ListRoutesResponse:
        return self._loop(_routes, "ListRoutes")

    @rpc
    def AddRoute(
        self, request: node_pb2.AddRouteRequest, context: grpc.ServicerContext
    ) -> node_pb2.RouteEntry:
        spec = convert.route("route", request.route, self._iface_names())

        def add(s: NodeState) -> node_pb2.RouteEntry:
            try:
                route = s.host.add_route(spec.prefix, spec.prefix_len, spec.gateway, spec.iface,
                                         metric=spec.metric)  # fmt: skip
            except ValueError as exc:
                raise ArgumentError("route.gateway", str(exc)) from None
            return topb.route_entry(route)

        return self._loop(add, "AddRoute")

    @rpc
    def DeleteRoute(
        self, request: node_pb2.DeleteRouteRequest, context: grpc.ServicerContext
    ) -> node_pb2.RouteEntry:
        net, length = convert.prefix("prefix", request.prefix)
        self._iface_names()

        def delete(s: NodeState) -> node_pb2.RouteEntry:
            for route in s.host.fib.routes():
                if route.prefix == net and route.prefix_len == length:
                    if route.kind is RouteKind.CONNECTED:
                        raise ArgumentError(
                            "prefix", f"{request.prefix} is a connected route (set the "
                            "interface down instead)"
                        )  # fmt: skip
                    s.host.fib.remove(net, length)
                    return topb.route_entry(route)
            raise NotFoundError(f"prefix: no route for {request.prefix}")

        return self._loop(delete, "DeleteRoute")

    @rpc
    def GetArpTable(
        self, request: node_pb2.GetArpTableRequest, context: grpc.ServicerContext
    ) -> node_pb2.GetArpTableResponse:
        entries = self._loop(
            lambda s: [topb.arp_entry(n) for n in s.host.arp.neighbors.values()], "GetArpTable"
        )
        return node_pb2.GetArpTableResponse(entries=entries)

    @rpc
    def GetConnections(
        self, request: node_pb2.GetConnectionsRequest, context: grpc.ServicerContext
    ) -> node_pb2.GetConnectionsResponse:
        infos, listeners = self._loop(
            lambda s: (
                s.tcp.connections(),
                [topb.listener_info(lst) for lst in s.tcp.demux.listeners.values()
                 if not lst.closed],
            ),
            "GetConnections",
        )  # fmt: skip
        return node_pb2.GetConnectionsResponse(
            connections=[topb.tcp_info(i) for i in infos], listeners=listeners
        )

    @rpc
    def GetRip(
        self, request: node_pb2.GetRipRequest, context: grpc.ServicerContext
    ) -> node_pb2.RipStatus:
        def read(s: NodeState) -> node_pb2.RipStatus:
            if s.rip is None:
                return node_pb2.RipStatus(enabled=False, daemon="wirelab")
            return topb.rip_status(s.rip.status(s.now()), s.host.counters())

        return self._loop(read, "GetRip")

    @rpc
    def GetCounters(
        self, request: node_pb2.GetCountersRequest, context: grpc.ServicerContext
    ) -> node_pb2.GetCountersResponse:
        def read(s: NodeState) -> node_pb2.GetCountersResponse:
            now = s.now()
            msg = node_pb2.GetCountersResponse(
                stack=topb.counters_map(s.host.counters()),
                io=topb.counters_map(s.runner.counters()),
                faults=[topb.fault_info(f, now, s.config.name) for f in s.faults.list()],
                links=[topb.link_shaping_info(i) for i in s.faults.links()],
            )
            for ifname, values in s.runner.port_counters().items():
                msg.ports[ifname].values.update(topb.counters_map(values))
            return msg

        return self._loop(read, "GetCounters")

    # ---- faults ---------------------------------------------------------------------
    @rpc
    def AddFault(
        self, request: node_pb2.AddFaultRequest, context: grpc.ServicerContext
    ) -> common_pb2.FaultInfo:
        if not request.HasField("fault"):
            raise ArgumentError("fault", "is required")
        spec = convert.fault("fault", request.fault, self._iface_names())
        fault_id = request.fault_id.strip() or None

        def add(s: NodeState) -> common_pb2.FaultInfo:
            now = s.now()
            try:
                info = s.faults.add(spec, now=now, fault_id=fault_id)
            except FaultSpecError as exc:
                raise ArgumentError(exc.field, exc.problem) from None
            s.events.publish(FaultChange("added", info), now)
            s.runner.sync_mtu(now)  # an MTU fault: the interface has its MTU at once
            return topb.fault_info(info, now, s.config.name)

        return self._loop(add, "AddFault")

    @rpc
    def ClearFault(
        self, request: node_pb2.ClearFaultRequest, context: grpc.ServicerContext
    ) -> node_pb2.ClearFaultResponse:
        fault_id = request.fault_id.strip()
        if request.all and fault_id:
            raise ArgumentError("fault_id", "must be empty with all=true")
        if not request.all and not fault_id:
            raise ArgumentError("fault_id", "give a fault id (or all=true)")

        def clear(s: NodeState) -> node_pb2.ClearFaultResponse:
            now = s.now()
            infos: list[FaultInfo]
            if request.all:
                infos = s.faults.clear()
            else:
                try:
                    infos = [s.faults.remove(fault_id)]
                except UnknownFaultError:
                    problem = f"fault_id: no fault {fault_id!r} on {s.config.name}"
                    raise NotFoundError(problem) from None
            for info in infos:
                s.events.publish(FaultChange("cleared", info), now)
            s.runner.sync_mtu(now)  # an MTU fault gone: the configured MTU is back at once
            return node_pb2.ClearFaultResponse(
                cleared=[topb.fault_info(i, now, s.config.name) for i in infos]
            )

        return self._loop(clear, "ClearFault")

    @rpc
    def ListFaults(
        self, request: node_pb2.ListFaultsRequest, context: grpc.ServicerContext
    ) -> node_pb2.ListFaultsResponse:
        def read(s: NodeState) -> node_pb2.ListFaultsResponse:
            now = s.now()
            return node_pb2.ListFaultsResponse(
                faults=[topb.fault_info(f, now, s.config.name) for f in s.faults.list()]
            )

        return self._loop(read, "ListFaults")

    # ---- ping / traceroute ------------------------------------------------------------
    @rpc
    def Ping(
        self, request: node_pb2.PingRequest, context: grpc.ServicerContext
    ) -> node_pb2.PingResponse:
        dst = convert.ipv4("destination", request.destination)
        count = request.count or 1
        convert.check_range("count", count, 1, 100_000)
        interval = convert.seconds("interval_ms", _opt(request, "interval_ms", 1000.0), low=1.0)
        size = _opt(request, "size_bytes", 56)
        convert.check_range("size_bytes", size, 0, 65507)
        ttl = _opt(request, "ttl", None)
        if ttl is not None:
            convert.check_range("ttl", ttl, 1, 255)
        timeout = convert.seconds("timeout_ms", _opt(request, "timeout_ms", 1000.0), low=1.0)
        outcome = self._wait_job(
            context,
            lambda s: PingJob(s.host, dst, count=count, interval=interval, size=size,
                              timeout=timeout, ttl=ttl, df=request.dont_fragment,
                              record_route=request.record_route),
            "Ping",
        )  # fmt: skip
        return topb.ping_response(outcome)

    @rpc
    def Traceroute(
        self, request: node_pb2.TracerouteRequest, context: grpc.ServicerContext
    ) -> node_pb2.TracerouteResponse:
        dst = convert.ipv4("destination", request.destination)
        method = request.method or "udp"
        if method not in ("udp", "icmp"):
            raise ArgumentError("method", f"must be udp or icmp, got {request.method!r}")
        max_hops = _opt(request, "max_hops", 30)
        convert.check_range("max_hops", max_hops, 1, 255)
        probes = _opt(request, "probes", 3)
        convert.check_range("probes", probes, 1, 10)
        wait = convert.seconds("wait_ms", _opt(request, "wait_ms", 1000.0), low=1.0)
        outcome = self._wait_job(
            context,
            lambda s: TracerouteJob(s.host, dst, method=method, max_hops=max_hops,
                                    probes=probes, wait=wait),
            "Traceroute",
        )  # fmt: skip
        return topb.traceroute_response(outcome)

    # ---- apps -----------------------------------------------------------------------
    @rpc
    def StartApp(
        self, request: node_pb2.StartAppRequest, context: grpc.ServicerContext
    ) -> node_pb2.AppInfo:
        spec = convert.app("app", request.app)
        self._iface_names()

        def start(s: NodeState) -> node_pb2.AppInfo:
            if spec.app_id in s.apps:
                raise AlreadyExistsError(f"app {spec.app_id} is already running")
            try:
                app = make_app(spec.kind, spec.port, host=s.host, now=s.now(), **spec.options())
            except OSError as exc:
                raise AlreadyExistsError(f"app.port: {exc.strerror or exc}") from None
            running = RunningApp(spec.app_id, spec.kind, spec.port, app)
            s.apps[spec.app_id] = running
            return _app_info(running)

        return self._loop(start, "StartApp")

    @rpc
    def StopApp(
        self, request: node_pb2.StopAppRequest, context: grpc.ServicerContext
    ) -> node_pb2.AppInfo:
        self._iface_names()

        def stop(s: NodeState) -> node_pb2.AppInfo:
            running = s.apps.pop(request.app_id, None)
            if running is None:
                raise NotFoundError(f"app_id: no app {request.app_id!r} (have {sorted(s.apps)})")
            running.app.close(now=s.now())
            return _app_info(running, running=False)

        return self._loop(stop, "StopApp")

    @rpc
    def ListApps(
        self, request: node_pb2.ListAppsRequest, context: grpc.ServicerContext
    ) -> node_pb2.ListAppsResponse:
        apps = self._loop(lambda s: [_app_info(a) for a in s.apps.values()], "ListApps")
        return node_pb2.ListAppsResponse(apps=apps)

    @rpc
    def BulkSend(
        self, request: node_pb2.BulkSendRequest, context: grpc.ServicerContext
    ) -> node_pb2.BulkSendResponse:
        dst = convert.ipv4("destination", request.destination)
        port = convert.port("port", request.port, default=5001)
        convert.check_range("size_bytes", request.size_bytes, 0, 1 << 40)
        cc = request.congestion_control or None
        if cc is not None and cc not in congestion.ALGORITHMS:
            known = ", ".join(sorted(congestion.ALGORITHMS))
            raise ArgumentError("congestion_control", f"must be one of {known}, got {cc!r}")
        interval = None
        if request.HasField("sample_interval_ms"):
            interval = convert.seconds("sample_interval_ms", request.sample_interval_ms, low=1.0)
        timeout = None
        if request.HasField("timeout_ms"):
            timeout = convert.seconds("timeout_ms", request.timeout_ms, low=1.0)
        sndbuf = _opt(request, "sndbuf_bytes", None)
        if sndbuf is not None:
            convert.check_range("sndbuf_bytes", sndbuf, 1024, 1 << 30)

        def make(s: NodeState) -> BulkSendJob:
            sender = BulkSender(
                s.host, dst, port, request.size_bytes, seed=_opt(request, "seed", 1),
                sample_interval=interval, congestion=cc, sndbuf=sndbuf, nodelay=request.nodelay,
            )  # fmt: skip
            return BulkSendJob(s.host, sender, timeout=timeout)

        return topb.bulk_response(self._wait_job(context, make, "BulkSend"))

    @rpc
    def GetSinkResults(
        self, request: node_pb2.GetSinkResultsRequest, context: grpc.ServicerContext
    ) -> node_pb2.GetSinkResultsResponse:
        self._iface_names()

        def read(s: NodeState) -> node_pb2.GetSinkResultsResponse:
            sinks = {k: a for k, a in s.apps.items() if isinstance(a.app, BulkSink)}
            if request.app_id:
                running = s.apps.get(request.app_id)
                if running is None:
                    raise NotFoundError(f"app_id: no app {request.app_id!r}")
                if not isinstance(running.app, BulkSink):
                    raise ArgumentError("app_id", f"{request.app_id} is not a sink")
                sink = running.app
            elif len(sinks) == 1:
                sink = next(iter(sinks.values())).app  # type: ignore[assignment]
            else:
                raise NotFoundError(f"app_id: name one of the sinks {sorted(sinks)}")
            assert isinstance(sink, BulkSink)
            msg = node_pb2.GetSinkResultsResponse(
                results=[topb.sink_result(r) for r in sink.results]
            )
            now = s.now()
            for conn in sink.active:
                msg.results.append(node_pb2.SinkResult(
                    remote_address=ip_to_str(conn.remote[0]), remote_port=conn.remote[1],
                    bytes=conn.bytes, seconds=now - conn.start, finished=False,
                ))  # fmt: skip
            return msg

        return self._loop(read, "GetSinkResults")

    @rpc
    def HttpGet(
        self, request: node_pb2.HttpGetRequest, context: grpc.ServicerContext
    ) -> node_pb2.HttpGetResponse:
        try:
            parse_url(request.url)
        except ValueError as exc:
            raise ArgumentError("url", str(exc)) from None
        timeout = convert.seconds("timeout_ms", _opt(request, "timeout_ms", 30e3), low=1.0)
        result = self._wait_job(
            context, lambda s: HttpGetJob(s.host, request.url, timeout=timeout), "HttpGet"
        )
        return topb.http_response(result)

    @rpc
    def UdpSend(
        self, request: node_pb2.UdpSendRequest, context: grpc.ServicerContext
    ) -> node_pb2.UdpSendResponse:
        dst = convert.ipv4("destination", request.destination)
        port = convert.port("port", request.port, default=7)
        count = request.count or 1
        convert.check_range("count", count, 1, 1_000_000)
        size = _opt(request, "size_bytes", 64)
        convert.check_range("size_bytes", size, UDP_HEADER.size, UDP_MAX)
        interval = convert.seconds("interval_ms", _opt(request, "interval_ms", 100.0))
        wait = convert.seconds("wait_ms", _opt(request, "wait_ms", 1000.0))
        outcome = self._wait_job(
            context,
            lambda s: UdpSendJob(s.host, dst, port, count=count, size=size, interval=interval,
                                 wait=wait),
            "UdpSend",
        )  # fmt: skip
        return topb.udp_response(outcome)

    # ---- streams --------------------------------------------------------------------
    def Capture(
        self, request: node_pb2.CaptureRequest, context: grpc.ServicerContext
    ) -> Iterator[node_pb2.CaptureChunk]:
        try:
            session = self._start_capture(request)
        except Exception as exc:
            _abort(context, exc)
        try:
            yield node_pb2.CaptureChunk(data=session.header())
            deadline = None
            if request.HasField("duration_ms"):
                deadline = self.runtime.clock() + request.duration_ms / 1000.0
            while context.is_active() and not self.runtime.stopping:
                wait = _STREAM_POLL
                if deadline is not None:
                    wait = min(wait, max(0.0, deadline - self.runtime.clock()))
                records, ended = session.take(wait)
                if records:
                    yield node_pb2.CaptureChunk(
                        data=b"".join(records), packets=len(records), dropped=session.dropped
                    )
                if ended or (deadline is not None and self.runtime.clock() >= deadline):
                    break
        finally:
            session.finish()
            with contextlib.suppress(AgentError):
                self.runtime.call(lambda s: s.runner.remove_tap(session.tap))

    def _start_capture(self, request: node_pb2.CaptureRequest) -> CaptureSession:
        names = self._iface_names()
        iface = request.iface.strip() or "*"
        if iface != "*" and iface not in names:
            raise NotFoundError(f"iface: no interface {iface!r} (have {', '.join(names)}, or *)")
        direction = convert.fault_direction("direction", request.direction)
        max_packets = _opt(request, "max_packets", None)
        if max_packets is not None:
            convert.check_range("max_packets", max_packets, 1, 1 << 40)
        if request.HasField("duration_ms"):
            convert.seconds("duration_ms", request.duration_ms, low=1.0)
        snaplen = _opt(request, "snaplen_bytes", 65535)
        convert.check_range("snaplen_bytes", snaplen, 14, 262144)

        def start(s: NodeState) -> CaptureSession:
            session = CaptureSession.for_clock(
                s.now(), None if iface == "*" else iface, direction, max_packets, snaplen
            )
            s.runner.add_tap(session.tap)
            return session

        return self._loop(start, "Capture")

    def WatchEvents(
        self, request: node_pb2.WatchEventsRequest, context: grpc.ServicerContext
    ) -> Iterator[node_pb2.Event]:
        try:
            types = frozenset(_EVENT_TYPES[t] for t in request.types if t in _EVENT_TYPES)
            if len(types) != len(set(request.types) - {node_pb2.EVENT_TYPE_UNSPECIFIED}):
                raise ArgumentError("types", f"unknown event type in {list(request.types)}")
            self._iface_names()
            sub = self._loop(lambda s: s.events.subscribe(types or ALL_TYPES), "WatchEvents")
        except Exception as exc:
            _abort(context, exc)
        try:
            yield from self._events(sub, context)
        finally:
            with contextlib.suppress(AgentError):
                self.runtime.call(lambda s: s.events.unsubscribe(sub))

    def _events(self, sub: Subscriber, context: grpc.ServicerContext) -> Iterator[node_pb2.Event]:
        while context.is_active() and not sub.closed:
            try:
                event = sub.queue.get(timeout=_STREAM_POLL)
            except queue.Empty:
                continue
            if event is None:
                return
            yield topb.event(event, self.runtime.clock(), sub.dropped)


def _routes(s: NodeState) -> node_pb2.ListRoutesResponse:
    """The FIB (a RIP route with its age and neighbour), then the RIP routes being
    withdrawn (metric 16, out of the FIB until garbage collection deletes them)."""
    now, fib, rip = s.now(), s.host.fib, s.rip
    learned = {}
    if rip is not None:
        learned = {(r.prefix, r.prefix_len): r.neighbor for r in rip.routes.values()}
    msg = node_pb2.ListRoutesResponse()
    for r in fib.routes():
        if r.kind is RouteKind.RIP:
            entry = topb.route_entry(r, fib.age(r, now), learned.get((r.prefix, r.prefix_len)))
        else:
            entry = topb.route_entry(r)
        msg.routes.append(entry)
    if rip is not None:
        msg.routes.extend(topb.withdrawn_entry(r) for r in rip.withdrawn(now))
    return msg


def add_to_server(service: NodeAgentService, server: grpc.Server) -> None:
    node_pb2_grpc.add_NodeAgentServicer_to_server(service, server)
