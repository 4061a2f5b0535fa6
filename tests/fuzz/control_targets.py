"""Fuzz targets for what callers hand the control plane:

- ``topology``: YAML text into the topology loader. A valid lab or a TopologyError whose
  every line fits in 1 KiB; anything else escaping is a bug.
- ``lab_requests``: a serialized LabService request (the first byte picks its type) into
  the service's converters (orchestrator/wire/lab.py). A domain request, or a LabError
  naming its field and at most 1 KiB long.
- ``node_requests``: a serialized NodeAgent request into the agent's converters
  (nodes/agent/convert.py). A domain object, or an ArgumentError naming its field.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from google.protobuf.message import DecodeError
from wirelab.v1 import common_pb2, lab_pb2, node_pb2

from nodes.agent import convert
from nodes.agent.errors import ArgumentError
from orchestrator.domain.errors import MAX_MESSAGE, LabError
from orchestrator.wire import lab as w
from tests.fuzz.registry import target
from topology import TopologyError, load_text

MAX_LINE = 1024


@target("topology", runs=400, max_seconds=20.0)
def fuzz_topology(data: bytes) -> None:
    """YAML text (UTF-8, undecodable bytes replaced) into topology.load_text."""
    text = data.decode("utf-8", "replace")
    try:
        lab = load_text(text, file="fuzz.yaml")
    except TopologyError as exc:
        assert exc.diagnostics, "a TopologyError without diagnostics"
        for d in exc.diagnostics:
            line = d.format()
            assert len(line.encode("utf-8", "replace")) <= MAX_LINE, line[:200]
            assert "internal error" not in line, line
        return
    assert lab.name and lab.nodes  # a lab that loads is a planned one


def _lab_fault(msg: Any) -> None:
    w.fault_request_from(msg.fault)


LAB_REQUESTS: tuple[tuple[type[Any], Callable[[Any], object]], ...] = (
    (lab_pb2.AddLabFaultRequest, _lab_fault),
    (lab_pb2.LabPingRequest, lambda m: w.ping_from(m.ping)),
    (lab_pb2.LabTracerouteRequest, lambda m: w.trace_from(m.traceroute)),
    (lab_pb2.TransferRequest, w.transfer_from),
    (lab_pb2.LabHttpGetRequest, lambda m: w.http_from(m.http)),
    (lab_pb2.LabCaptureRequest, lambda m: w.capture_from(m.capture)),
    (lab_pb2.LabSetInterfaceRequest, w.interface_change_from),
    (lab_pb2.LabAddRouteRequest, lambda m: w.route_from(m.route)),
    (lab_pb2.LabWatchEventsRequest, lambda m: w.event_kinds_from(list(m.types))),
    (lab_pb2.NodeActionRequest, w.duration_from),
    (lab_pb2.PartitionRequest, w.duration_from),
)


@target("lab_requests", runs=3000)
def fuzz_lab_requests(data: bytes) -> None:
    """A LabService request (type by the first byte) into the service's converters."""
    if not data:
        return
    cls, convert_fn = LAB_REQUESTS[data[0] % len(LAB_REQUESTS)]
    msg = cls()
    try:
        msg.ParseFromString(data[1:])
    except DecodeError:
        return
    try:
        convert_fn(msg)
    except LabError as exc:
        assert len(exc.message.encode()) <= MAX_MESSAGE, exc.message[:200]
        assert exc.code in ("invalid_argument", "not_found"), exc


IFACES = ["eth0", "eth1"]
NODE_REQUESTS: tuple[tuple[type[Any], Callable[[Any], object]], ...] = (
    (node_pb2.ConfigureRequest, convert.configure),
    (common_pb2.FaultSpec, lambda m: convert.fault("fault", m, IFACES)),
    (node_pb2.AppConfig, lambda m: convert.app("app", m)),
    (node_pb2.RouteConfig, lambda m: convert.route("route", m, IFACES)),
    (node_pb2.InterfaceConfig, lambda m: convert.interface("interface", m)),
    (common_pb2.StackOptions, lambda m: convert.stack_options("stack", m, forwarding=False)),
    (node_pb2.CaptureRequest, lambda m: convert.fault_direction("direction", m.direction)),
)


@target("node_requests", runs=3000)
def fuzz_node_requests(data: bytes) -> None:
    """A NodeAgent request (type by the first byte) into the agent's converters."""
    if not data:
        return
    cls, convert_fn = NODE_REQUESTS[data[0] % len(NODE_REQUESTS)]
    msg = cls()
    try:
        msg.ParseFromString(data[1:])
    except DecodeError:
        return
    try:
        convert_fn(msg)
    except ArgumentError as exc:
        assert exc.field and len(str(exc).encode()) < 4096, str(exc)[:200]
