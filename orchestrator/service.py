"""``wirelab serve``: the gRPC LabService (proto/wirelab/v1/lab.proto).

    server = start_server("127.0.0.1:50050", token=None)    # LabServer
    ...
    server.stop()                                           # sim labs end with it

The server holds every lab it deployed as a :class:`~orchestrator.session.LabSession`.
Sim labs (every node in this process) live and die with it. Docker labs outlive it: their
state is the containers' labels plus the topology the server saved under its state
directory (``<state>/labs/<lab>.yaml``), so a new server attaches to a docker lab again
on first use.

Security: it listens on 127.0.0.1 by default; with a token, every call but health checks
needs ``authorization: Bearer <token>`` metadata (UNAUTHENTICATED otherwise).
"""

from __future__ import annotations

import functools
import hmac
import logging
import os
import queue
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc  # type: ignore[import-untyped]
from grpc_reflection.v1alpha import reflection  # type: ignore[import-untyped]
from wirelab.v1 import lab_pb2, lab_pb2_grpc, node_pb2

from orchestrator.labs import (
    AlreadyExists,
    FailedPrecondition,
    HandleRuntime,
    InProcessRuntime,
    InvalidArgument,
    LabRuntime,
    NotFound,
    ServiceError,
)
from orchestrator.session import LabSession
from topology import Lab, TopologyError, load_file, load_text

log = logging.getLogger(__name__)
T = TypeVar("T")
Self = TypeVar("Self", bound="LabService")

SERVICE_NAME = "wirelab.v1.LabService"
DEFAULT_PORT = 50050
DEFAULT_ADDRESS = f"127.0.0.1:{DEFAULT_PORT}"
BACKENDS = ("sim", "docker")
MAX_WORKERS = 64
STREAM_POLL = 0.2
_ACTIONS = {
    lab_pb2.NODE_ACTION_KILL: "kill",
    lab_pb2.NODE_ACTION_STOP: "stop",
    lab_pb2.NODE_ACTION_START: "start",
    lab_pb2.NODE_ACTION_RESTART: "restart",
    lab_pb2.NODE_ACTION_PAUSE: "pause",
    lab_pb2.NODE_ACTION_UNPAUSE: "unpause",
}


def state_dir() -> Path:
    """Where the server keeps its files: $WIRELAB_HOME, else ~/.wirelab."""
    return Path(os.environ.get("WIRELAB_HOME") or Path.home() / ".wirelab")


# ---- errors ------------------------------------------------------------------------------


def _abort(context: grpc.ServicerContext, exc: BaseException) -> NoReturn:
    if isinstance(exc, ServiceError):
        context.abort(exc.code, str(exc))
    if isinstance(exc, TopologyError):
        text = "; ".join(d.format() for d in exc.diagnostics) or str(exc)
        context.abort(grpc.StatusCode.INVALID_ARGUMENT, f"topology: {text}")
    log.exception("internal error")
    context.abort(grpc.StatusCode.INTERNAL, f"{type(exc).__name__}: {exc}")


def rpc(method: Callable[[Self, Any, grpc.ServicerContext], T]) -> Callable[..., T]:
    """Unary handler: our exceptions -> status codes."""

    @functools.wraps(method)
    def wrapper(self: Self, request: Any, context: grpc.ServicerContext) -> T:
        try:
            return method(self, request, context)
        except Exception as exc:
            _abort(context, exc)

    return wrapper


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


# ---- backends ------------------------------------------------------------------------------


DeployFn = Callable[[Lab, str, bool, int, Callable[[lab_pb2.DeployProgress], None]], LabRuntime]


class Backends:
    """One backend object per kind, made on first use (each server has its own: sim labs
    live in its backend object)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._made: dict[str, Any] = {}

    def get(self, name: str) -> Any:
        with self._lock:
            if name not in self._made:
                if name == "docker":
                    from orchestrator.backend.docker import DockerBackend

                    self._made[name] = DockerBackend()
                elif name == "sim":
                    from orchestrator.backend.sim import SimBackend

                    self._made[name] = SimBackend()
                else:
                    raise InvalidArgument(f"unknown backend {name!r}", "backend")
            return self._made[name]

    def made(self, name: str) -> bool:
        with self._lock:
            return name in self._made

    def close(self) -> None:
        with self._lock:
            made, self._made = list(self._made.values()), {}
        for backend in made:
            close = getattr(backend, "close", None)
            if close is not None and getattr(backend, "name", "") == "sim":
                close()


def backend_deploy(backends: Backends) -> DeployFn:
    """Deploy with :func:`orchestrator.deploy.deploy` on the named backend."""

    def run(
        lab: Lab,
        backend: str,
        replace: bool,
        seed: int,
        progress: Callable[[lab_pb2.DeployProgress], None],
    ) -> LabRuntime:
        from orchestrator.deploy import DeployError, LabConflictError, ProgressEvent, deploy

        def report(event: ProgressEvent) -> None:
            progress(
                lab_pb2.DeployProgress(
                    step=event.step,
                    node=event.node or "",
                    done=event.done,
                    total=event.total,
                    message=event.message,
                )
            )

        try:
            handle = deploy(lab, backends.get(backend), replace=replace, progress=report, seed=seed)
        except LabConflictError as exc:
            raise AlreadyExists(str(exc), "name") from None
        except DeployError as exc:
            raise FailedPrecondition(str(exc), "backend") from None
        return HandleRuntime(handle, seed=seed)

    return run


def inprocess_deploy(
    lab: Lab,
    backend: str,
    replace: bool,
    seed: int,
    progress: Callable[[lab_pb2.DeployProgress], None],
) -> LabRuntime:
    """Every node in this process, with node actions (kill/stop/start/restart/pause)
    (nodes.agent.inprocess); for tests, and for sim labs while the sim backend has no
    node actions."""
    progress(lab_pb2.DeployProgress(step="start", done=0, total=1))
    runtime = InProcessRuntime(lab, seed=seed)
    progress(lab_pb2.DeployProgress(step="ready", done=1, total=1))
    return runtime


# ---- the service ------------------------------------------------------------------------------


class LabService(lab_pb2_grpc.LabServiceServicer):
    def __init__(self, *, deploy_fn: DeployFn | None = None, home: Path | None = None) -> None:
        self.backends = Backends()
        self._deploy = deploy_fn or backend_deploy(self.backends)
        self._home = home
        self._labs: dict[str, LabSession] = {}
        self._lock = threading.RLock()
        self._deploying: set[str] = set()
        self.closed = threading.Event()

    # ---- labs ------------------------------------------------------------------------------
    def session(self, name: str, field_name: str = "lab") -> LabSession:
        if not name:
            raise InvalidArgument("is required", field_name)
        with self._lock:
            found = self._labs.get(name)
        if found is None:
            found = self._attach_docker(name)
        if found is None:
            have = ", ".join(sorted(self._labs)) or "none"
            raise NotFound(f"no lab {name!r} (deployed: {have})", field_name)
        return found

    def _saved(self, name: str) -> Path | None:
        return None if self._home is None else self._home / "labs" / f"{name}.yaml"

    def _attach_docker(self, name: str) -> LabSession | None:
        """A docker lab deployed by an earlier server: found by its labels."""
        saved = self._saved(name)
        if saved is None or not saved.is_file():
            return None
        try:
            from orchestrator.deploy import inspect_or_none
            from orchestrator.handle import LabHandle
            from orchestrator.labels import topology_hash

            backend = self.backends.get("docker")
            info = inspect_or_none(name, backend)
            if info is None:
                saved.unlink(missing_ok=True)
                return None
            lab = load_file(saved)
            if topology_hash(lab) not in info.topology_hash.split(","):
                return None
            agents = {n.name: n.management for n in info.nodes if n.management}
            session = LabSession(HandleRuntime(LabHandle(lab, backend, agents)), source=str(saved))
        except Exception as exc:
            log.warning("cannot attach docker lab %s: %s", name, exc)
            return None
        with self._lock:
            return self._labs.setdefault(name, session)

    @stream
    def Deploy(
        self, request: lab_pb2.DeployRequest, context: grpc.ServicerContext
    ) -> Iterator[lab_pb2.DeployEvent]:
        if request.WhichOneof("source") is None:
            raise InvalidArgument("give the topology file's text", "topology_yaml")
        text = request.topology_yaml
        lab = load_text(text, file=request.source_name or "<request>")
        if request.name:
            lab = _renamed(text, request.name, lab.source)
        backend = request.backend or "sim"
        if backend not in BACKENDS:
            raise InvalidArgument(
                f"unknown backend {backend!r}; allowed: {', '.join(BACKENDS)}", "backend"
            )
        from orchestrator.labels import topology_hash

        with self._lock:
            existing = self._labs.get(lab.name)
            if existing is not None:
                if topology_hash(existing.lab) == topology_hash(lab) and (
                    existing.runtime.backend_name == backend
                ):
                    yield lab_pb2.DeployEvent(
                        progress=lab_pb2.DeployProgress(
                            step="existing",
                            done=1,
                            total=1,
                            message="already deployed from this topology",
                        )
                    )
                    yield lab_pb2.DeployEvent(lab=existing.info())
                    return
                if not request.replace:
                    raise AlreadyExists(
                        f"lab {lab.name} is already deployed ({existing.runtime.backend_name}, "
                        "another topology or backend): destroy it first or deploy with replace",
                        "name",
                    )
            if lab.name in self._deploying:
                raise AlreadyExists(f"lab {lab.name} is being deployed right now", "name")
            self._deploying.add(lab.name)
        try:
            if existing is not None:
                self._destroy(lab.name)
            yield from self._run_deploy(lab, text, backend, request, context)
        finally:
            with self._lock:
                self._deploying.discard(lab.name)

    def _run_deploy(
        self,
        lab: Lab,
        text: str,
        backend: str,
        request: lab_pb2.DeployRequest,
        context: grpc.ServicerContext,
    ) -> Iterator[lab_pb2.DeployEvent]:
        events: queue.Queue[lab_pb2.DeployProgress | None] = queue.Queue()
        outcome: dict[str, Any] = {}
        seed = request.seed if request.HasField("seed") else 1

        def work() -> None:
            try:
                outcome["runtime"] = self._deploy(lab, backend, request.replace, seed, events.put)
            except BaseException as exc:
                outcome["error"] = exc
            finally:
                events.put(None)

        thread = threading.Thread(target=work, name=f"deploy-{lab.name}", daemon=True)
        thread.start()
        while True:
            item = events.get()
            if item is None:
                break
            if context.is_active():
                yield lab_pb2.DeployEvent(progress=item)
        thread.join()
        if "error" in outcome:
            raise outcome["error"]
        runtime: LabRuntime = outcome["runtime"]
        session = LabSession(runtime, source=lab.source, seed=seed)
        with self._lock:
            self._labs[lab.name] = session
        saved = self._saved(lab.name)
        if saved is not None and backend == "docker":
            saved.parent.mkdir(parents=True, exist_ok=True)
            saved.write_text(text, encoding="utf-8")
        if not request.skip_timeline and lab.faults:
            session.schedule_timeline()
        yield lab_pb2.DeployEvent(lab=session.info())

    def _destroy(self, name: str) -> None:
        with self._lock:
            session = self._labs.pop(name, None)
        if session is not None:
            session.close(destroy=True)
        saved = self._saved(name)
        if saved is not None:
            saved.unlink(missing_ok=True)

    @rpc
    def Destroy(
        self, request: lab_pb2.DestroyRequest, context: grpc.ServicerContext
    ) -> lab_pb2.DestroyResponse:
        if request.all:
            if request.lab:
                raise InvalidArgument("must be empty with all=true", "lab")
            with self._lock:
                names = sorted(self._labs)
            names += [n for n in self._docker_labs() if n not in names]
            for name in names:
                self._destroy_any(name)
            return lab_pb2.DestroyResponse(destroyed=names)
        if not request.lab:
            raise InvalidArgument("is required (or all=true)", "lab")
        with self._lock:
            known = request.lab in self._labs
        if not known and request.lab not in self._docker_labs():
            raise NotFound(f"no lab {request.lab!r}", "lab")
        self._destroy_any(request.lab)
        return lab_pb2.DestroyResponse(destroyed=[request.lab])

    def _destroy_any(self, name: str) -> None:
        with self._lock:
            known = name in self._labs
        if known:
            self._destroy(name)
            return
        from orchestrator.deploy import destroy

        destroy(name, self.backends.get("docker"))
        saved = self._saved(name)
        if saved is not None:
            saved.unlink(missing_ok=True)

    def _docker_labs(self) -> list[str]:
        """Docker labs on this machine (by label), when a Docker engine answers."""
        if not self.backends.made("docker") and os.environ.get("WIRELAB_NO_DOCKER"):
            return []
        try:
            return list(self.backends.get("docker").lab_names())
        except Exception:
            return []

    @rpc
    def ListLabs(
        self, request: lab_pb2.ListLabsRequest, context: grpc.ServicerContext
    ) -> lab_pb2.ListLabsResponse:
        with self._lock:
            sessions = list(self._labs.values())
        reply = lab_pb2.ListLabsResponse(labs=[s.summary() for s in sessions])
        known = {s.name for s in sessions}
        for name in self._docker_labs():
            if name not in known:
                session = self._attach_docker(name)
                reply.labs.append(
                    session.summary()
                    if session is not None
                    else lab_pb2.LabSummary(name=name, backend="docker")
                )
        reply.labs.sort(key=lambda s: s.name)
        return reply

    @rpc
    def GetLab(
        self, request: lab_pb2.GetLabRequest, context: grpc.ServicerContext
    ) -> lab_pb2.LabInfo:
        return self.session(request.lab).info()

    # ---- faults ----------------------------------------------------------------------------
    @rpc
    def AddFault(
        self, request: lab_pb2.AddLabFaultRequest, context: grpc.ServicerContext
    ) -> lab_pb2.LabFault:
        session = self.session(request.lab)
        if not request.HasField("fault"):
            raise InvalidArgument("is required", "fault")
        return session.faults.add(request.fault)

    @rpc
    def ClearFault(
        self, request: lab_pb2.ClearLabFaultRequest, context: grpc.ServicerContext
    ) -> lab_pb2.ClearLabFaultResponse:
        session = self.session(request.lab)
        cleared = session.faults.clear(request.fault_id.strip(), all=request.all)
        return lab_pb2.ClearLabFaultResponse(cleared=cleared)

    @rpc
    def ListFaults(
        self, request: lab_pb2.ListLabFaultsRequest, context: grpc.ServicerContext
    ) -> lab_pb2.ListLabFaultsResponse:
        session = self.session(request.lab)
        return lab_pb2.ListLabFaultsResponse(
            faults=session.faults.list(active_only=request.active_only)
        )

    @rpc
    def NodeAction(
        self, request: lab_pb2.NodeActionRequest, context: grpc.ServicerContext
    ) -> lab_pb2.NodeActionResponse:
        session = self.session(request.lab)
        session.node(request.node)
        action = _ACTIONS.get(request.action)
        if action is None:
            raise InvalidArgument("give kill, stop, start, restart, pause or unpause", "action")
        duration = None
        if request.HasField("duration_ms"):
            if request.duration_ms <= 0:
                raise InvalidArgument("must be > 0", "duration_ms")
            duration = request.duration_ms / 1000.0
        return session.node_action(request.node, action, duration)

    @rpc
    def Partition(
        self, request: lab_pb2.PartitionRequest, context: grpc.ServicerContext
    ) -> lab_pb2.LabFault:
        session = self.session(request.lab)
        duration = None
        if request.HasField("duration_ms"):
            if request.duration_ms <= 0:
                raise InvalidArgument("must be > 0", "duration_ms")
            duration = request.duration_ms / 1000.0
        try:
            return session.faults.partition(
                [list(g.nodes) for g in request.groups],
                one_way=request.one_way,
                duration=duration,
                fault_id=request.fault_id.strip(),
            )
        except ServiceError as exc:  # name our request's fields, not the fault's
            exc.args = (str(exc).replace("fault.target.partition.", ""),)
            raise

    # ---- measurements ----------------------------------------------------------------------
    @rpc
    def Ping(
        self, request: lab_pb2.LabPingRequest, context: grpc.ServicerContext
    ) -> node_pb2.PingResponse:
        return self.session(request.lab).ping(request.node, request.ping)

    @rpc
    def Traceroute(
        self, request: lab_pb2.LabTracerouteRequest, context: grpc.ServicerContext
    ) -> node_pb2.TracerouteResponse:
        return self.session(request.lab).traceroute(request.node, request.traceroute)

    @rpc
    def Transfer(
        self, request: lab_pb2.TransferRequest, context: grpc.ServicerContext
    ) -> lab_pb2.TransferResponse:
        return self.session(request.lab).transfer(request)

    @rpc
    def HttpGet(
        self, request: lab_pb2.LabHttpGetRequest, context: grpc.ServicerContext
    ) -> node_pb2.HttpGetResponse:
        return self.session(request.lab).http_get(request.node, request.http)

    # ---- node state ------------------------------------------------------------------------
    def _node_call(self, lab: str, node: str, method: str, message: Any, reply: type[T]) -> T:
        """The agent RPC ``method`` on a node of the lab (NOT_FOUND for an unknown node)."""
        session = self.session(lab)
        session.node(node)
        answer = session.call(node, method, message)
        assert isinstance(answer, reply)
        return answer

    @rpc
    def GetNodeStatus(
        self, request: lab_pb2.NodeRequest, context: grpc.ServicerContext
    ) -> node_pb2.NodeStatus:
        message = node_pb2.GetStatusRequest()
        return self._node_call(request.lab, request.node, "GetStatus", message, node_pb2.NodeStatus)

    @rpc
    def GetRoutes(
        self, request: lab_pb2.NodeRequest, context: grpc.ServicerContext
    ) -> node_pb2.ListRoutesResponse:
        message = node_pb2.ListRoutesRequest()
        reply = node_pb2.ListRoutesResponse
        return self._node_call(request.lab, request.node, "ListRoutes", message, reply)

    @rpc
    def GetArpTable(
        self, request: lab_pb2.NodeRequest, context: grpc.ServicerContext
    ) -> node_pb2.GetArpTableResponse:
        message = node_pb2.GetArpTableRequest()
        reply = node_pb2.GetArpTableResponse
        return self._node_call(request.lab, request.node, "GetArpTable", message, reply)

    @rpc
    def GetConnections(
        self, request: lab_pb2.NodeRequest, context: grpc.ServicerContext
    ) -> node_pb2.GetConnectionsResponse:
        message = node_pb2.GetConnectionsRequest()
        reply = node_pb2.GetConnectionsResponse
        return self._node_call(request.lab, request.node, "GetConnections", message, reply)

    @rpc
    def GetCounters(
        self, request: lab_pb2.NodeRequest, context: grpc.ServicerContext
    ) -> node_pb2.GetCountersResponse:
        message = node_pb2.GetCountersRequest()
        reply = node_pb2.GetCountersResponse
        return self._node_call(request.lab, request.node, "GetCounters", message, reply)

    # ---- apps and shells -------------------------------------------------------------------
    @rpc
    def StartApp(
        self, request: lab_pb2.LabStartAppRequest, context: grpc.ServicerContext
    ) -> node_pb2.AppInfo:
        message = node_pb2.StartAppRequest(app=request.app)
        return self._node_call(request.lab, request.node, "StartApp", message, node_pb2.AppInfo)

    @rpc
    def StopApp(
        self, request: lab_pb2.LabStopAppRequest, context: grpc.ServicerContext
    ) -> node_pb2.AppInfo:
        message = node_pb2.StopAppRequest(app_id=request.app_id)
        return self._node_call(request.lab, request.node, "StopApp", message, node_pb2.AppInfo)

    @rpc
    def ListApps(
        self, request: lab_pb2.LabListAppsRequest, context: grpc.ServicerContext
    ) -> lab_pb2.LabListAppsResponse:
        return lab_pb2.LabListAppsResponse(nodes=self.session(request.lab).apps(request.node))

    @rpc
    def Exec(
        self, request: lab_pb2.ExecRequest, context: grpc.ServicerContext
    ) -> lab_pb2.ExecResponse:
        timeout = request.timeout_ms / 1000.0 if request.HasField("timeout_ms") else 30.0
        return self.session(request.lab).exec(request.node, list(request.argv), timeout)

    # ---- streams ---------------------------------------------------------------------------
    @stream
    def Capture(
        self, request: lab_pb2.LabCaptureRequest, context: grpc.ServicerContext
    ) -> Iterator[node_pb2.CaptureChunk]:
        session = self.session(request.lab)
        session.node(request.node)
        yield from session.capture(request.node, request.capture, context)

    @stream
    def WatchEvents(
        self, request: lab_pb2.LabWatchEventsRequest, context: grpc.ServicerContext
    ) -> Iterator[lab_pb2.LabEvent]:
        session = self.session(request.lab)
        for i, node in enumerate(request.nodes):
            session.node(node, f"nodes[{i}]")
        sub = session.events.subscribe(request.nodes, request.types)
        try:
            while context.is_active() and not self.closed.is_set():
                try:
                    event = sub.queue.get(timeout=STREAM_POLL)
                except queue.Empty:
                    continue
                yield event
                if event.WhichOneof("kind") == "destroyed":
                    return
        finally:
            session.events.unsubscribe(sub)

    # ---- lifetime ----------------------------------------------------------------------------
    def close(self) -> None:
        """Stop every lab's threads; sim labs are destroyed, docker labs keep running."""
        self.closed.set()
        with self._lock:
            sessions, self._labs = list(self._labs.values()), {}
        for session in sessions:
            try:
                session.close(destroy=session.runtime.backend_name != "docker")
            except Exception:
                log.exception("closing lab %s", session.name)
        self.backends.close()


def _renamed(text: str, name: str, source: str) -> Lab:
    """The topology with another lab name (the YAML's top-level ``name``)."""
    import yaml

    data = yaml.safe_load(text)
    if not isinstance(data, dict):
        raise InvalidArgument("the topology is not a mapping", "topology")
    data["name"] = name
    return load_text(yaml.safe_dump(data, sort_keys=False), file=source)


# ---- auth ----------------------------------------------------------------------------------


class TokenInterceptor(grpc.ServerInterceptor):
    """Every call but health checks needs ``authorization: Bearer <token>``."""

    def __init__(self, token: str) -> None:
        self._expected = f"Bearer {token}".encode()

        def deny(request: Any, context: grpc.ServicerContext) -> None:
            context.abort(
                grpc.StatusCode.UNAUTHENTICATED, "authorization: missing or wrong bearer token"
            )

        def deny_stream(request: Any, context: grpc.ServicerContext) -> Iterator[Any]:
            deny(request, context)
            yield None

        self._deny: Any = grpc.unary_unary_rpc_method_handler(deny)
        self._deny_stream: Any = grpc.unary_stream_rpc_method_handler(deny_stream)

    def intercept_service(self, continuation: Any, handler_call_details: Any) -> Any:
        method: str = handler_call_details.method
        if method.startswith("/grpc.health.v1.Health/"):
            return continuation(handler_call_details)
        for key, value in handler_call_details.invocation_metadata or ():
            if key == "authorization":
                given = value.encode() if isinstance(value, str) else value
                if hmac.compare_digest(given, self._expected):
                    return continuation(handler_call_details)
        if method.startswith(f"/{SERVICE_NAME}/") and method.rsplit("/", 1)[-1] in (
            "Deploy",
            "Capture",
            "WatchEvents",
        ):
            return self._deny_stream
        if method.startswith("/grpc.reflection."):
            return grpc.stream_stream_rpc_method_handler(_deny_reflection)
        return self._deny


def _deny_reflection(requests: Any, context: grpc.ServicerContext) -> Iterator[Any]:
    context.abort(grpc.StatusCode.UNAUTHENTICATED, "authorization: missing or wrong bearer token")
    yield None


# ---- the server ----------------------------------------------------------------------------


@dataclass(eq=False)
class LabServer:
    server: grpc.Server
    service: LabService
    port: int
    host: str
    health: health.HealthServicer
    executor: ThreadPoolExecutor

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    def stop(self, grace: float | None = 1.0) -> None:
        """Refuse new calls, end the streams, close every lab (sim labs end here)."""
        self.health.enter_graceful_shutdown()
        self.service.closed.set()
        self.server.stop(grace).wait()
        self.service.close()
        self.executor.shutdown(wait=False, cancel_futures=True)

    def wait(self) -> None:
        self.server.wait_for_termination()


def start_server(
    address: str = DEFAULT_ADDRESS,
    *,
    token: str | None = None,
    deploy_fn: DeployFn | None = None,
    home: Path | None = None,
    max_workers: int = MAX_WORKERS,
) -> LabServer:
    """Start the LabService (plus health and reflection) on ``address`` (port 0: any)."""
    executor = ThreadPoolExecutor(max_workers, thread_name_prefix="labservice")
    interceptors: list[grpc.ServerInterceptor] = [TokenInterceptor(token)] if token else []
    server = grpc.server(executor, interceptors=interceptors, options=[("grpc.so_reuseport", 0)])
    service = LabService(deploy_fn=deploy_fn, home=home)
    lab_pb2_grpc.add_LabServiceServicer_to_server(service, server)
    checker = health.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(checker, server)
    names = (SERVICE_NAME, health.SERVICE_NAME, reflection.SERVICE_NAME)
    reflection.enable_server_reflection(names, server)
    port = server.add_insecure_port(address)
    if port == 0:
        executor.shutdown(wait=False)
        raise OSError(f"cannot listen on {address}")
    server.start()
    for name in ("", SERVICE_NAME):
        checker.set(name, health_pb2.HealthCheckResponse.SERVING)
    host = address.rsplit(":", 1)[0] or "127.0.0.1"
    return LabServer(server, service, port, host, checker, executor)
