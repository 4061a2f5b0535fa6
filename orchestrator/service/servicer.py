"""The LabService's gRPC face (proto/wirelab/v1/lab.proto): each RPC reads its request
with :mod:`orchestrator.wire.lab`, asks the lab registry or a lab session, and answers in
protobuf. Errors leave as status codes whose message names the field; a request the
service did not foresee is INTERNAL with a short message (the traceback goes to the log).
"""

from __future__ import annotations

import functools
import logging
import queue
import threading
from collections.abc import Callable, Iterator
from typing import Any, NoReturn, TypeVar

import grpc
from wirelab.v1 import lab_pb2, lab_pb2_grpc, node_pb2

from orchestrator.domain.errors import Internal, InvalidArgument, LabError
from orchestrator.domain.lab import DeployProgress
from orchestrator.lab import measure
from orchestrator.lab.session import LabSession
from orchestrator.lab.transfer import run_transfer
from orchestrator.service.registry import LabRegistry
from orchestrator.wire import lab as w
from orchestrator.wire.generic import message_json, to_message
from orchestrator.wire.status import status_code

log = logging.getLogger(__name__)
T = TypeVar("T")
Self = TypeVar("Self", bound="LabService")
STREAM_POLL = 0.2
MAX_EXEC_TIMEOUT = 3600.0


def _abort(context: grpc.ServicerContext, exc: BaseException) -> NoReturn:
    if not isinstance(exc, LabError):
        log.exception("internal error", exc_info=exc)
        exc = Internal(f"{type(exc).__name__}: {str(exc)[:200]}")
    context.abort(status_code(exc), exc.message)


def rpc(method: Callable[[Self, Any, grpc.ServicerContext], T]) -> Callable[..., T]:
    """Unary handler: domain errors -> status codes."""

    @functools.wraps(method)
    def wrapper(self: Self, request: Any, context: grpc.ServicerContext) -> T:
        try:
            return method(self, request, context)
        except Exception as exc:
            _abort(context, exc)

    return wrapper


def journaled(method: Callable[[Self, Any, grpc.ServicerContext], T]) -> Callable[..., T]:
    """An operation on one lab, recorded in its journal (orchestrator/lab/journal.py) with
    the lab time it began at, and its answer or its error."""
    op = method.__name__

    def wrapper(self: Self, request: Any, context: grpc.ServicerContext) -> T:
        session = self._session(request.lab)
        began = session.lab_time()
        try:
            response = method(self, request, context)
        except Exception as exc:
            error = exc if isinstance(exc, LabError) else Internal(type(exc).__name__)
            session.journal.record(op, began, message_json(request), error=error.as_json())
            raise
        session.journal.record(op, began, message_json(request), result=message_json(response))
        return response

    return functools.wraps(method)(wrapper)


def stream(
    method: Callable[[Self, Any, grpc.ServicerContext], Iterator[T]],
) -> Callable[..., Iterator[T]]:
    @functools.wraps(method)
    def wrapper(self: Self, request: Any, context: grpc.ServicerContext) -> Iterator[T]:
        try:
            yield from method(self, request, context)
        except Exception as exc:
            _abort(context, exc)

    return wrapper


def _msg(record: Any, cls: Any) -> Any:
    return to_message(record, cls())


def _call(fn: Callable[[], object]) -> None:
    fn()


def _cap(context: grpc.ServicerContext) -> float | None:
    """The caller's time left (None: no deadline)."""
    remaining = context.time_remaining()
    return None if remaining is None or remaining > 1e7 else float(remaining)


class LabService(lab_pb2_grpc.LabServiceServicer):
    def __init__(self, registry: LabRegistry) -> None:
        self.registry = registry
        self.closed = threading.Event()

    def _session(self, lab: str) -> LabSession:
        return self.registry.session(lab)

    # ---- labs ------------------------------------------------------------------------------
    @stream
    def Deploy(self, request: Any, context: grpc.ServicerContext) -> Iterator[Any]:
        if request.WhichOneof("source") is None:
            raise InvalidArgument("give the topology file's text", "topology_yaml")
        events: queue.Queue[DeployProgress | None] = queue.Queue()
        outcome: dict[str, Any] = {}

        def work() -> None:
            try:
                outcome["session"] = self.registry.deploy(
                    request.topology_yaml,
                    source_name=request.source_name or "<request>",
                    name=request.name,
                    backend=request.backend,
                    replace=request.replace,
                    seed=request.seed if request.HasField("seed") else 1,
                    skip_timeline=request.skip_timeline,
                    progress=events.put,
                )
            except BaseException as exc:
                outcome["error"] = exc
            finally:
                events.put(None)

        thread = threading.Thread(target=work, name="deploy", daemon=True)
        thread.start()
        while True:
            item = events.get()
            if item is None:
                break
            if context.is_active():
                yield lab_pb2.DeployEvent(progress=_msg(item, lab_pb2.DeployProgress))
        thread.join()
        if "error" in outcome:
            raise outcome["error"]
        session: LabSession = outcome["session"]
        yield lab_pb2.DeployEvent(lab=_msg(session.info(), lab_pb2.LabInfo))

    @rpc
    def Destroy(self, request: Any, context: grpc.ServicerContext) -> Any:
        if request.all:
            if request.lab:
                raise InvalidArgument("must be empty with all=true", "lab")
            return lab_pb2.DestroyResponse(destroyed=self.registry.destroy_all())
        return lab_pb2.DestroyResponse(destroyed=self.registry.destroy(request.lab))

    @rpc
    def ListLabs(self, request: Any, context: grpc.ServicerContext) -> Any:
        labs = [_msg(s, lab_pb2.LabSummary) for s in self.registry.summaries()]
        return lab_pb2.ListLabsResponse(labs=labs)

    @rpc
    def GetLab(self, request: Any, context: grpc.ServicerContext) -> Any:
        return _msg(self._session(request.lab).info(), lab_pb2.LabInfo)

    # ---- faults ----------------------------------------------------------------------------
    @rpc
    @journaled
    def AddFault(self, request: Any, context: grpc.ServicerContext) -> Any:
        session = self._session(request.lab)
        if not request.HasField("fault"):
            raise InvalidArgument("is required", "fault")
        try:
            fault = session.faults.add(w.fault_request_from(request.fault))
        except LabError as exc:  # name the request's field: fault.target.endpoint ...
            raise exc.with_field_prefix("fault") if exc.field else exc from None
        return w.lab_fault_to(fault)

    @rpc
    @journaled
    def ClearFault(self, request: Any, context: grpc.ServicerContext) -> Any:
        session = self._session(request.lab)
        cleared = session.faults.clear(request.fault_id.strip(), all=request.all)
        return lab_pb2.ClearLabFaultResponse(cleared=[w.lab_fault_to(f) for f in cleared])

    @rpc
    @journaled
    def ListFaults(self, request: Any, context: grpc.ServicerContext) -> Any:
        faults = self._session(request.lab).faults.list(active_only=request.active_only)
        return lab_pb2.ListLabFaultsResponse(faults=[w.lab_fault_to(f) for f in faults])

    @rpc
    @journaled
    def NodeAction(self, request: Any, context: grpc.ServicerContext) -> Any:
        session = self._session(request.lab)
        action = w.ACTION_WORDS.get(request.action)
        if action is None:
            raise InvalidArgument("give kill, stop, start, restart, pause or unpause", "action")
        result = session.node_action(request.node, action, w.duration_from(request))
        return _msg(result, lab_pb2.NodeActionResponse)

    @rpc
    @journaled
    def Partition(self, request: Any, context: grpc.ServicerContext) -> Any:
        from orchestrator.domain.requests import fault

        session = self._session(request.lab)
        req = fault(
            partition=[list(g.nodes) for g in request.groups],
            one_way=request.one_way,
            duration=w.duration_from(request),
            fault_id=request.fault_id,
        )
        return w.lab_fault_to(session.faults.add(req, origin="partition"))

    # ---- measurements ----------------------------------------------------------------------
    @rpc
    @journaled
    def Ping(self, request: Any, context: grpc.ServicerContext) -> Any:
        session = self._session(request.lab)
        report = measure.ping(session, request.node, w.ping_from(request.ping), cap=_cap(context))
        return _msg(report, node_pb2.PingResponse)

    @rpc
    @journaled
    def Traceroute(self, request: Any, context: grpc.ServicerContext) -> Any:
        session = self._session(request.lab)
        req = w.trace_from(request.traceroute)
        report = measure.traceroute(session, request.node, req, cap=_cap(context))
        return _msg(report, node_pb2.TracerouteResponse)

    @rpc
    @journaled
    def Transfer(self, request: Any, context: grpc.ServicerContext) -> Any:
        session = self._session(request.lab)
        report = run_transfer(session, w.transfer_from(request), cap=_cap(context))
        return _msg(report, lab_pb2.TransferResponse)

    @rpc
    @journaled
    def HttpGet(self, request: Any, context: grpc.ServicerContext) -> Any:
        session = self._session(request.lab)
        report = measure.http_get(
            session, request.node, w.http_from(request.http), cap=_cap(context)
        )
        return _msg(report, node_pb2.HttpGetResponse)

    # ---- node state and live configuration ------------------------------------------------
    @rpc
    @journaled
    def GetNodeStatus(self, request: Any, context: grpc.ServicerContext) -> Any:
        return _msg(self._session(request.lab).status(request.node), node_pb2.NodeStatus)

    @rpc
    @journaled
    def GetRoutes(self, request: Any, context: grpc.ServicerContext) -> Any:
        routes = self._session(request.lab).routes(request.node)
        return node_pb2.ListRoutesResponse(routes=[_msg(r, node_pb2.RouteEntry) for r in routes])

    @rpc
    @journaled
    def GetArpTable(self, request: Any, context: grpc.ServicerContext) -> Any:
        entries = self._session(request.lab).arp(request.node)
        return node_pb2.GetArpTableResponse(entries=[_msg(e, node_pb2.ArpEntry) for e in entries])

    @rpc
    @journaled
    def GetConnections(self, request: Any, context: grpc.ServicerContext) -> Any:
        conns = self._session(request.lab).connections(request.node)
        return _msg(conns, node_pb2.GetConnectionsResponse)

    @rpc
    @journaled
    def GetRip(self, request: Any, context: grpc.ServicerContext) -> Any:
        status = self._session(request.lab).rip(request.node)
        return _msg(status, node_pb2.RipStatus)

    @rpc
    @journaled
    def GetCounters(self, request: Any, context: grpc.ServicerContext) -> Any:
        counters = self._session(request.lab).counters(request.node)
        return _msg(counters, node_pb2.GetCountersResponse)

    @rpc
    @journaled
    def SetInterface(self, request: Any, context: grpc.ServicerContext) -> Any:
        session = self._session(request.lab)
        info = session.set_interface(request.node, w.interface_change_from(request))
        return _msg(info, lab_pb2.LabInterface)

    @rpc
    @journaled
    def AddRoute(self, request: Any, context: grpc.ServicerContext) -> Any:
        session = self._session(request.lab)
        entry = session.add_route(request.node, w.route_from(request.route))
        return _msg(entry, node_pb2.RouteEntry)

    @rpc
    @journaled
    def DeleteRoute(self, request: Any, context: grpc.ServicerContext) -> Any:
        entry = self._session(request.lab).delete_route(request.node, request.prefix)
        return _msg(entry, node_pb2.RouteEntry)

    # ---- apps and shells -------------------------------------------------------------------
    @rpc
    @journaled
    def StartApp(self, request: Any, context: grpc.ServicerContext) -> Any:
        session = self._session(request.lab)
        info = session.start_app(request.node, request.app.kind, request.app.port)
        return _msg(info, node_pb2.AppInfo)

    @rpc
    @journaled
    def StopApp(self, request: Any, context: grpc.ServicerContext) -> Any:
        info = self._session(request.lab).stop_app(request.node, request.app_id)
        return _msg(info, node_pb2.AppInfo)

    @rpc
    @journaled
    def ListApps(self, request: Any, context: grpc.ServicerContext) -> Any:
        apps = self._session(request.lab).apps(request.node)
        return lab_pb2.LabListAppsResponse(
            nodes=[
                lab_pb2.NodeApps(node=n, apps=[_msg(a, node_pb2.AppInfo) for a in infos])
                for n, infos in apps.items()
            ]
        )

    @rpc
    @journaled
    def Exec(self, request: Any, context: grpc.ServicerContext) -> Any:
        timeout = w.duration_from(request, "timeout_ms") or 30.0
        if timeout > MAX_EXEC_TIMEOUT:
            raise InvalidArgument(f"must be at most {MAX_EXEC_TIMEOUT:g} s", "timeout_ms")
        cap = _cap(context)
        timeout = timeout if cap is None else max(0.05, min(timeout, cap))
        result = self._session(request.lab).exec(request.node, list(request.argv), timeout=timeout)
        return _msg(result, lab_pb2.ExecResponse)

    # ---- streams ---------------------------------------------------------------------------
    @stream
    def Capture(self, request: Any, context: grpc.ServicerContext) -> Iterator[Any]:
        session = self._session(request.lab)
        chunks = session.capture(
            request.node,
            w.capture_from(request.capture),
            on_start=lambda cancel: context.add_callback(lambda: _call(cancel)),
        )
        for chunk in chunks:
            yield node_pb2.CaptureChunk(data=chunk.data, packets=chunk.packets,
                                        dropped=chunk.dropped)  # fmt: skip

    @stream
    def WatchEvents(self, request: Any, context: grpc.ServicerContext) -> Iterator[Any]:
        session = self._session(request.lab)
        sub = session.subscribe(list(request.nodes), w.event_kinds_from(list(request.types)))
        try:
            while context.is_active() and not self.closed.is_set():
                try:
                    event = sub.queue.get(timeout=STREAM_POLL)
                except queue.Empty:
                    continue
                yield w.event_to(event)
                if event.kind.value == "destroyed":
                    return
        finally:
            session.events.unsubscribe(sub)

    @stream
    def GetJournal(self, request: Any, context: grpc.ServicerContext) -> Iterator[Any]:
        for line in self._session(request.lab).journal.lines():
            yield lab_pb2.JournalLine(json=line)

    def close(self) -> None:
        self.closed.set()
        self.registry.close()


def add_to_server(service: LabService, server: grpc.Server) -> None:
    lab_pb2_grpc.add_LabServiceServicer_to_server(service, server)
