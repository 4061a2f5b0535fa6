"""A typed Python client of the LabService.

    with LabClient("127.0.0.1:50050", token=None) as client:
        lab = client.deploy(path="topology/examples/quickstart.yaml")
        reply = client.ping("quickstart", "h1", "h2", count=3)
        fault = client.add_fault("quickstart", endpoint="r1:eth1", loss=0.05)
        print(client.list_faults("quickstart")[0].counters.dropped)
        client.destroy("quickstart")

Methods mirror the RPCs and return their proto messages. Errors raise :class:`LabError`
subclasses (:class:`NotFoundError`, :class:`InvalidArgumentError`, ...) carrying the gRPC
status code and the server's message (which names the field).
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, BinaryIO

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc  # type: ignore[import-untyped]
from wirelab.v1 import common_pb2, lab_pb2, lab_pb2_grpc, node_pb2

DEFAULT_ADDRESS = "127.0.0.1:50050"
QUICK = 30.0  # seconds: deadline of quick calls
ACTIONS = {
    "kill": lab_pb2.NODE_ACTION_KILL,
    "stop": lab_pb2.NODE_ACTION_STOP,
    "start": lab_pb2.NODE_ACTION_START,
    "restart": lab_pb2.NODE_ACTION_RESTART,
    "pause": lab_pb2.NODE_ACTION_PAUSE,
    "unpause": lab_pb2.NODE_ACTION_UNPAUSE,
}
DIRECTIONS = {
    "both": common_pb2.DIRECTION_BOTH,
    "egress": common_pb2.DIRECTION_EGRESS,
    "ingress": common_pb2.DIRECTION_INGRESS,
}


# ---- errors ----------------------------------------------------------------------------


class LabError(RuntimeError):
    """A LabService call failed: ``code`` (grpc.StatusCode) and the server's message."""

    def __init__(self, code: grpc.StatusCode, message: str) -> None:
        self.code = code
        self.message = message
        super().__init__(f"{code.name}: {message}")


class InvalidArgumentError(LabError):
    pass


class NotFoundError(LabError):
    pass


class AlreadyExistsError(LabError):
    pass


class FailedPreconditionError(LabError):
    pass


class UnauthenticatedError(LabError):
    pass


class UnavailableError(LabError):
    """The server (or a node agent behind it) does not answer."""


_ERRORS: dict[grpc.StatusCode, type[LabError]] = {
    grpc.StatusCode.INVALID_ARGUMENT: InvalidArgumentError,
    grpc.StatusCode.NOT_FOUND: NotFoundError,
    grpc.StatusCode.ALREADY_EXISTS: AlreadyExistsError,
    grpc.StatusCode.FAILED_PRECONDITION: FailedPreconditionError,
    grpc.StatusCode.UNAUTHENTICATED: UnauthenticatedError,
    grpc.StatusCode.UNAVAILABLE: UnavailableError,
    grpc.StatusCode.DEADLINE_EXCEEDED: UnavailableError,
}


def lab_error(exc: grpc.RpcError) -> LabError:
    code = exc.code() if isinstance(exc, grpc.Call) else grpc.StatusCode.UNKNOWN
    details = (exc.details() if isinstance(exc, grpc.Call) else "") or code.name
    return _ERRORS.get(code, LabError)(code, details)


# ---- building fault messages --------------------------------------------------------------


def fault_spec(
    *,
    direction: str = "both",
    loss: float | None = None,
    ge: tuple[float, ...] | None = None,
    delay: float | None = None,
    jitter: float | None = None,
    distribution: str | None = None,
    duplicate: float | None = None,
    corrupt: float | None = None,
    reorder: float | None = None,
    rate: float | None = None,
    mtu: int | None = None,
    down: bool = False,
    match: dict[str, Any] | None = None,
    seed: int | None = None,
    duration: float | None = None,
) -> common_pb2.FaultSpec:
    """Effects in SI units (probabilities 0..1, seconds, bits/s) -> a FaultSpec.
    ``ge`` is (p, r[, loss_bad[, loss_good]]); ``match`` has protocol, src, dst, sport,
    dport."""
    if direction not in DIRECTIONS:
        raise ValueError(f"direction: {direction!r} is not one of {', '.join(DIRECTIONS)}")
    spec = common_pb2.FaultSpec(direction=DIRECTIONS[direction], down=down)
    for name, value in (
        ("loss", loss),
        ("duplicate", duplicate),
        ("corrupt", corrupt),
        ("reorder", reorder),
    ):
        if value is not None:
            setattr(spec, name, value)
    if delay is not None:
        spec.delay_ms = delay * 1000.0
    if jitter is not None:
        spec.jitter_ms = jitter * 1000.0
    if distribution is not None:
        spec.distribution = {
            "uniform": common_pb2.DELAY_DISTRIBUTION_UNIFORM,
            "normal": common_pb2.DELAY_DISTRIBUTION_NORMAL,
        }[distribution]
    if ge is not None:
        names = ("p", "r", "loss_bad", "loss_good")
        spec.gilbert_elliott.CopyFrom(
            common_pb2.GilbertElliott(**dict(zip(names, ge, strict=False)))
        )
    if rate is not None:
        spec.rate.rate_bps = rate
    if mtu is not None:
        spec.blackhole_mtu = mtu
    if match:
        m = spec.match
        m.protocol = str(match.get("protocol") or "")
        m.src = str(match.get("src") or "")
        m.dst = str(match.get("dst") or "")
        if match.get("sport") is not None:
            m.src_port = int(match["sport"])
        if match.get("dport") is not None:
            m.dst_port = int(match["dport"])
    if seed is not None:
        spec.seed = seed
    if duration is not None:
        spec.duration_ms = duration * 1000.0
    return spec


def fault_target(
    *,
    endpoint: str | None = None,
    link: str | None = None,
    node: str | None = None,
    partition: Sequence[Sequence[str]] | None = None,
    one_way: bool = False,
) -> lab_pb2.FaultTarget:
    given = [x for x in (endpoint, link, node, partition) if x is not None]
    if len(given) != 1:
        raise ValueError("give exactly one target: endpoint, link, node or partition")
    target = lab_pb2.FaultTarget()
    if endpoint is not None:
        target.endpoint = endpoint
    elif link is not None:
        target.link = link
    elif node is not None:
        target.node = node
    else:
        assert partition is not None
        target.partition.one_way = one_way
        target.partition.groups.extend(lab_pb2.NodeGroup(nodes=list(g)) for g in partition)
    return target


# ---- the client ------------------------------------------------------------------------------


class LabClient:
    def __init__(
        self, address: str = DEFAULT_ADDRESS, *, token: str | None = None, timeout: float = QUICK
    ) -> None:
        self.address = address
        self.timeout = timeout
        self._metadata: tuple[tuple[str, str], ...] = (
            (("authorization", f"Bearer {token}"),) if token else ()
        )
        self.channel = grpc.insecure_channel(address, options=[("grpc.enable_http_proxy", 0)])
        self.stub = lab_pb2_grpc.LabServiceStub(self.channel)

    @classmethod
    def from_env(cls) -> LabClient:
        """$WIRELAB_SERVER (else the default address) and $WIRELAB_TOKEN."""
        return cls(
            os.environ.get("WIRELAB_SERVER") or DEFAULT_ADDRESS,
            token=os.environ.get("WIRELAB_TOKEN") or None,
        )

    # ---- plumbing ----------------------------------------------------------------------
    def _call(self, method: str, request: Any, timeout: float | None = None) -> Any:
        try:
            return getattr(self.stub, method)(
                request, timeout=timeout or self.timeout, metadata=self._metadata
            )
        except grpc.RpcError as exc:
            raise lab_error(exc) from None

    def _stream(self, method: str, request: Any, timeout: float | None = None) -> Iterator[Any]:
        call = getattr(self.stub, method)(request, timeout=timeout, metadata=self._metadata)
        try:
            yield from call
        except grpc.RpcError as exc:
            if exc.code() == grpc.StatusCode.CANCELLED:
                return
            raise lab_error(exc) from None
        finally:
            call.cancel()

    def healthy(self, timeout: float = 1.0) -> bool:
        """Whether a LabService answers SERVING (no token needed)."""
        stub = health_pb2_grpc.HealthStub(self.channel)
        try:
            reply = stub.Check(
                health_pb2.HealthCheckRequest(service="wirelab.v1.LabService"), timeout=timeout
            )
        except grpc.RpcError:
            return False
        return bool(reply.status == health_pb2.HealthCheckResponse.SERVING)

    def wait_ready(self, timeout: float = 10.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.healthy(timeout=min(1.0, max(0.1, deadline - time.monotonic()))):
                return True
            time.sleep(0.05)
        return False

    # ---- labs ---------------------------------------------------------------------------
    def deploy_events(
        self,
        *,
        path: str | Path | None = None,
        yaml: str | None = None,
        name: str = "",
        backend: str = "sim",
        replace: bool = False,
        seed: int | None = None,
        skip_timeline: bool = False,
        timeout: float | None = 600.0,
    ) -> Iterator[lab_pb2.DeployEvent]:
        """Deploy's stream: progress events, then one with the lab."""
        request = lab_pb2.DeployRequest(
            name=name, backend=backend, replace=replace, skip_timeline=skip_timeline
        )
        if (path is None) == (yaml is None):
            raise ValueError("give path or yaml")
        if path is not None:
            request.topology_yaml = Path(path).read_text(encoding="utf-8")
            request.source_name = str(path)
        else:
            assert yaml is not None
            request.topology_yaml = yaml
        if seed is not None:
            request.seed = seed
        return self._stream("Deploy", request, timeout)

    def deploy(
        self,
        *,
        path: str | Path | None = None,
        yaml: str | None = None,
        name: str = "",
        backend: str = "sim",
        replace: bool = False,
        seed: int | None = None,
        skip_timeline: bool = False,
        progress: Callable[[lab_pb2.DeployProgress], None] | None = None,
    ) -> lab_pb2.LabInfo:
        """Deploy (or find deployed) and return the lab."""
        events = self.deploy_events(
            path=path,
            yaml=yaml,
            name=name,
            backend=backend,
            replace=replace,
            seed=seed,
            skip_timeline=skip_timeline,
        )
        for event in events:
            if event.WhichOneof("kind") == "lab":
                return event.lab
            if progress is not None:
                progress(event.progress)
        raise LabError(grpc.StatusCode.UNKNOWN, "the deploy stream ended without the lab")

    def destroy(self, lab: str = "", *, all: bool = False) -> list[str]:
        reply = self._call("Destroy", lab_pb2.DestroyRequest(lab=lab, all=all), timeout=300.0)
        return list(reply.destroyed)

    def list_labs(self) -> list[lab_pb2.LabSummary]:
        return list(self._call("ListLabs", lab_pb2.ListLabsRequest()).labs)

    def get_lab(self, lab: str) -> lab_pb2.LabInfo:
        reply: lab_pb2.LabInfo = self._call("GetLab", lab_pb2.GetLabRequest(lab=lab))
        return reply

    # ---- faults ---------------------------------------------------------------------------
    def add_fault(
        self,
        lab: str,
        *,
        endpoint: str | None = None,
        link: str | None = None,
        node: str | None = None,
        fault_id: str = "",
        spec: common_pb2.FaultSpec | None = None,
        **effects: Any,
    ) -> lab_pb2.LabFault:
        """A fault on one target; effects as :func:`fault_spec` keywords (or ``spec``)."""
        target = fault_target(endpoint=endpoint, link=link, node=node)
        request = lab_pb2.AddLabFaultRequest(
            lab=lab,
            fault=lab_pb2.LabFaultSpec(
                target=target,
                effects=spec if spec is not None else fault_spec(**effects),
                fault_id=fault_id,
            ),
        )
        reply: lab_pb2.LabFault = self._call("AddFault", request)
        return reply

    def add_fault_spec(self, lab: str, fault: lab_pb2.LabFaultSpec) -> lab_pb2.LabFault:
        reply: lab_pb2.LabFault = self._call(
            "AddFault", lab_pb2.AddLabFaultRequest(lab=lab, fault=fault)
        )
        return reply

    def clear_fault(
        self, lab: str, fault_id: str = "", *, all: bool = False
    ) -> list[lab_pb2.LabFault]:
        request = lab_pb2.ClearLabFaultRequest(lab=lab, fault_id=fault_id, all=all)
        return list(self._call("ClearFault", request).cleared)

    def list_faults(self, lab: str, *, active_only: bool = False) -> list[lab_pb2.LabFault]:
        request = lab_pb2.ListLabFaultsRequest(lab=lab, active_only=active_only)
        return list(self._call("ListFaults", request).faults)

    def fault(self, lab: str, fault_id: str) -> lab_pb2.LabFault:
        for f in self.list_faults(lab):
            if f.fault_id == fault_id:
                return f
        raise NotFoundError(grpc.StatusCode.NOT_FOUND, f"fault_id: no fault {fault_id!r}")

    def node_action(
        self, lab: str, node: str, action: str, *, duration: float | None = None
    ) -> lab_pb2.NodeActionResponse:
        if action not in ACTIONS:
            raise ValueError(f"action: {action!r} is not one of {', '.join(ACTIONS)}")
        request = lab_pb2.NodeActionRequest(lab=lab, node=node, action=ACTIONS[action])
        if duration is not None:
            request.duration_ms = duration * 1000.0
        reply: lab_pb2.NodeActionResponse = self._call("NodeAction", request, timeout=120.0)
        return reply

    def partition(
        self,
        lab: str,
        groups: Sequence[Sequence[str]],
        *,
        one_way: bool = False,
        duration: float | None = None,
        fault_id: str = "",
    ) -> lab_pb2.LabFault:
        request = lab_pb2.PartitionRequest(
            lab=lab,
            groups=[lab_pb2.NodeGroup(nodes=list(g)) for g in groups],
            one_way=one_way,
            fault_id=fault_id,
        )
        if duration is not None:
            request.duration_ms = duration * 1000.0
        reply: lab_pb2.LabFault = self._call("Partition", request)
        return reply

    # ---- measurements -------------------------------------------------------------------------
    def ping(
        self,
        lab: str,
        node: str,
        destination: str,
        *,
        count: int = 1,
        interval: float | None = None,
        size: int | None = None,
        ttl: int | None = None,
        dont_fragment: bool = False,
        wait: float | None = None,
    ) -> node_pb2.PingResponse:
        ping = node_pb2.PingRequest(
            destination=destination, count=count, dont_fragment=dont_fragment
        )
        if interval is not None:
            ping.interval_ms = interval * 1000.0
        if size is not None:
            ping.size_bytes = size
        if ttl is not None:
            ping.ttl = ttl
        if wait is not None:
            ping.timeout_ms = wait * 1000.0
        budget = count * (interval if interval is not None else 1.0) + (wait or 1.0) + self.timeout
        reply: node_pb2.PingResponse = self._call(
            "Ping", lab_pb2.LabPingRequest(lab=lab, node=node, ping=ping), timeout=budget
        )
        return reply

    def traceroute(
        self,
        lab: str,
        node: str,
        destination: str,
        *,
        method: str = "",
        max_hops: int | None = None,
        probes: int | None = None,
        wait: float | None = None,
    ) -> node_pb2.TracerouteResponse:
        req = node_pb2.TracerouteRequest(destination=destination, method=method)
        if max_hops is not None:
            req.max_hops = max_hops
        if probes is not None:
            req.probes = probes
        if wait is not None:
            req.wait_ms = wait * 1000.0
        reply: node_pb2.TracerouteResponse = self._call(
            "Traceroute",
            lab_pb2.LabTracerouteRequest(lab=lab, node=node, traceroute=req),
            timeout=300.0,
        )
        return reply

    def transfer(
        self,
        lab: str,
        source: str,
        destination: str,
        *,
        size: int = 1 << 20,
        congestion_control: str = "",
        port: int = 0,
        sample_interval: float | None = None,
        timeout: float = 60.0,
        seed: int | None = None,
    ) -> lab_pb2.TransferResponse:
        request = lab_pb2.TransferRequest(
            lab=lab,
            source=source,
            destination=destination,
            size_bytes=size,
            congestion_control=congestion_control,
            port=port,
            timeout_ms=timeout * 1000.0,
        )
        if sample_interval is not None:
            request.sample_interval_ms = sample_interval * 1000.0
        if seed is not None:
            request.seed = seed
        reply: lab_pb2.TransferResponse = self._call("Transfer", request, timeout=timeout + 30.0)
        return reply

    def http_get(
        self, lab: str, node: str, url: str, *, timeout: float = 30.0
    ) -> node_pb2.HttpGetResponse:
        http = node_pb2.HttpGetRequest(url=url, timeout_ms=timeout * 1000.0)
        reply: node_pb2.HttpGetResponse = self._call(
            "HttpGet",
            lab_pb2.LabHttpGetRequest(lab=lab, node=node, http=http),
            timeout=timeout + 15.0,
        )
        return reply

    # ---- node state ---------------------------------------------------------------------------
    def node_status(self, lab: str, node: str) -> node_pb2.NodeStatus:
        reply: node_pb2.NodeStatus = self._call(
            "GetNodeStatus", lab_pb2.NodeRequest(lab=lab, node=node)
        )
        return reply

    def routes(self, lab: str, node: str) -> list[node_pb2.RouteEntry]:
        return list(self._call("GetRoutes", lab_pb2.NodeRequest(lab=lab, node=node)).routes)

    def arp_table(self, lab: str, node: str) -> list[node_pb2.ArpEntry]:
        return list(self._call("GetArpTable", lab_pb2.NodeRequest(lab=lab, node=node)).entries)

    def connections(self, lab: str, node: str) -> node_pb2.GetConnectionsResponse:
        reply: node_pb2.GetConnectionsResponse = self._call(
            "GetConnections", lab_pb2.NodeRequest(lab=lab, node=node)
        )
        return reply

    def counters(self, lab: str, node: str) -> node_pb2.GetCountersResponse:
        reply: node_pb2.GetCountersResponse = self._call(
            "GetCounters", lab_pb2.NodeRequest(lab=lab, node=node)
        )
        return reply

    # ---- apps and shells -------------------------------------------------------------------------
    def start_app(self, lab: str, node: str, kind: str, port: int = 0) -> node_pb2.AppInfo:
        request = lab_pb2.LabStartAppRequest(
            lab=lab, node=node, app=node_pb2.AppConfig(kind=kind, port=port)
        )
        reply: node_pb2.AppInfo = self._call("StartApp", request)
        return reply

    def stop_app(self, lab: str, node: str, app_id: str) -> node_pb2.AppInfo:
        request = lab_pb2.LabStopAppRequest(lab=lab, node=node, app_id=app_id)
        reply: node_pb2.AppInfo = self._call("StopApp", request)
        return reply

    def list_apps(self, lab: str, node: str = "") -> list[lab_pb2.NodeApps]:
        return list(self._call("ListApps", lab_pb2.LabListAppsRequest(lab=lab, node=node)).nodes)

    def exec(
        self, lab: str, node: str, argv: Sequence[str], *, timeout: float = 30.0
    ) -> lab_pb2.ExecResponse:
        request = lab_pb2.ExecRequest(
            lab=lab, node=node, argv=list(argv), timeout_ms=timeout * 1000.0
        )
        reply: lab_pb2.ExecResponse = self._call("Exec", request, timeout=timeout + 10.0)
        return reply

    # ---- streams -------------------------------------------------------------------------------
    def capture(
        self,
        lab: str,
        node: str,
        iface: str = "*",
        *,
        max_packets: int | None = None,
        duration: float | None = None,
        snaplen: int | None = None,
    ) -> Iterator[node_pb2.CaptureChunk]:
        """The pcap stream (the first chunk is the global header: capturing from then on)."""
        req = node_pb2.CaptureRequest(iface=iface)
        if max_packets is not None:
            req.max_packets = max_packets
        if duration is not None:
            req.duration_ms = duration * 1000.0
        if snaplen is not None:
            req.snaplen_bytes = snaplen
        return self._stream("Capture", lab_pb2.LabCaptureRequest(lab=lab, node=node, capture=req))

    def capture_to(
        self, out: BinaryIO, lab: str, node: str, iface: str = "*", **kwargs: Any
    ) -> int:
        """Write the pcap stream to ``out``; returns the packets written."""
        packets = 0
        for chunk in self.capture(lab, node, iface, **kwargs):
            out.write(chunk.data)
            out.flush()
            packets += chunk.packets
        return packets

    def watch_events(
        self, lab: str, *, nodes: Sequence[str] = (), types: Sequence[int] = ()
    ) -> Iterator[lab_pb2.LabEvent]:
        request = lab_pb2.LabWatchEventsRequest(lab=lab, nodes=list(nodes))
        request.types.extend(types)  # type: ignore[arg-type]
        return self._stream("WatchEvents", request)

    # ---- lifetime ----------------------------------------------------------------------------
    def close(self) -> None:
        self.channel.close()

    def __enter__(self) -> LabClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def to_json(message: Any) -> Any:
    """A proto message as JSON-ready data (field names as in the .proto)."""
    from google.protobuf.json_format import MessageToDict

    if isinstance(message, list | tuple):
        return [to_json(m) for m in message]
    return MessageToDict(
        message, preserving_proto_field_name=True, always_print_fields_with_no_presence=True
    )


def dumps(message: Any) -> str:
    return json.dumps(to_json(message), indent=2, sort_keys=False)


# ---- finding (or starting) the server -----------------------------------------------------

SERVE_FILE = "serve.json"
START_TIMEOUT = 20.0


def home() -> Path:
    """The CLI's state directory: $WIRELAB_HOME, else ~/.wirelab."""
    return Path(os.environ.get("WIRELAB_HOME") or Path.home() / ".wirelab")


def read_serve_file(directory: Path | None = None) -> dict[str, Any] | None:
    path = (directory or home()) / SERVE_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and "address" in data else None


def connect(
    address: str | None = None, *, token: str | None = None, start: bool = True
) -> LabClient:
    """A client of the running server, starting ``wirelab serve`` in the background when
    none answers. Where: ``address``, else $WIRELAB_SERVER, else the address in
    ``~/.wirelab/serve.json`` (written by ``wirelab serve``), else 127.0.0.1:50050.
    Raises :class:`UnavailableError` when nothing answers (and starting is off or fails)."""
    token = token or os.environ.get("WIRELAB_TOKEN") or None
    explicit = address or os.environ.get("WIRELAB_SERVER") or None
    if explicit:
        client = LabClient(explicit, token=token)
        if client.wait_ready(2.0):
            return client
        client.close()
        raise UnavailableError(
            grpc.StatusCode.UNAVAILABLE, f"no wirelab server answers at {explicit}"
        )
    candidates = []
    saved = read_serve_file()
    if saved is not None:
        candidates.append(str(saved["address"]))
    candidates.append(DEFAULT_ADDRESS)
    for candidate in dict.fromkeys(candidates):
        client = LabClient(candidate, token=token)
        if client.healthy(0.5):
            return client
        client.close()
    if not start:
        raise UnavailableError(
            grpc.StatusCode.UNAVAILABLE, "no wirelab server is running (start one: wirelab serve)"
        )
    return start_background(token=token)


def start_background(*, token: str | None = None, address: str = "127.0.0.1:0") -> LabClient:
    """Start ``wirelab serve`` detached (its log: ~/.wirelab/serve.log); wait until it
    answers; a client of it."""
    import subprocess
    import sys

    directory = home()
    directory.mkdir(parents=True, exist_ok=True)
    (directory / SERVE_FILE).unlink(missing_ok=True)
    env = dict(os.environ)
    if token:
        env["WIRELAB_TOKEN"] = token
    with open(directory / "serve.log", "ab") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "orchestrator.cli", "serve", "--address", address],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
            env=env,
            start_new_session=True,
        )
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        saved = read_serve_file(directory)
        if saved is not None and saved.get("pid") == proc.pid:
            client = LabClient(str(saved["address"]), token=token)
            if client.wait_ready(max(0.1, deadline - time.monotonic())):
                return client
            client.close()
        if proc.poll() is not None:
            break
        time.sleep(0.05)
    raise UnavailableError(
        grpc.StatusCode.UNAVAILABLE, f"wirelab serve did not start (see {directory / 'serve.log'})"
    )
