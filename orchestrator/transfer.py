"""Transfer: ``size`` pattern bytes from one node to a sink on another, checked end to end
(the receiver's sha256 against the sender's), with the sender's cwnd/ssthresh/in-flight
samples when the sender runs our stack.

Senders: our nodes use the agent's BulkSend; linux nodes run a python3 sender
(:data:`orchestrator.linuxtools.SEND_SCRIPT`, the same bytes). Receivers: our nodes use
their ``sink`` app on the port (started for the transfer and stopped after, when the node
was not running one); linux nodes run a python3 sink for the one connection.
"""

from __future__ import annotations

import threading
import time
from ipaddress import IPv4Address
from typing import TYPE_CHECKING, Any

from wirelab.v1 import lab_pb2, node_pb2

from orchestrator import linuxtools
from orchestrator.labs import InvalidArgument, ServiceError

if TYPE_CHECKING:
    from orchestrator.session import LabSession

DEFAULT_SIZE = 1 << 20
DEFAULT_PORT = 5001
DEFAULT_TIMEOUT = 60.0
SINK_SETTLE = 5.0  # wait for the sink's result after the sender finished
LINUX_SINK_START = 1.0


def run_transfer(session: LabSession, req: lab_pb2.TransferRequest) -> lab_pb2.TransferResponse:
    from orchestrator.session import resolve

    src = session.node(req.source, "source")
    address, dst = resolve(session.lab, req.destination, "destination")
    if dst == src:
        raise InvalidArgument(f"{src} cannot transfer to itself", "destination")
    if dst is None:
        raise InvalidArgument(
            f"{address} is no node of lab {session.name}: a sink must run there", "destination"
        )
    size = req.size_bytes or DEFAULT_SIZE
    port = req.port or DEFAULT_PORT
    if port > 65535:
        raise InvalidArgument(f"must be 1..65535, got {port}", "port")
    seed = req.seed if req.HasField("seed") else 1
    timeout = req.timeout_ms / 1000.0 if req.HasField("timeout_ms") else DEFAULT_TIMEOUT
    if timeout <= 0:
        raise InvalidArgument("must be > 0", "timeout_ms")
    reply = lab_pb2.TransferResponse(
        source_address=_source_address(session, src, address),
        destination_address=address,
        port=port,
    )
    if session.has_agent(dst):
        started = _ensure_sink(session, dst, port)
        try:
            local_port = _send(session, src, address, port, size, seed, timeout, req, reply)
            _agent_sink_result(session, dst, port, local_port, reply)
        finally:
            if started:
                session.call(dst, "StopApp", node_pb2.StopAppRequest(app_id=f"sink:{port}"))
    else:
        result: dict[str, Any] = {}

        def sink() -> None:
            try:
                code, out = session._exec_fn(dst)(
                    linuxtools.python(linuxtools.SINK_SCRIPT, port, timeout), timeout + 10.0
                )
                result.update(linuxtools.json_result(code, out, "the linux sink"))
            except ServiceError as exc:
                result["error"] = str(exc)

        thread = threading.Thread(target=sink, name=f"sink-{dst}", daemon=True)
        thread.start()
        time.sleep(LINUX_SINK_START)
        _send(session, src, address, port, size, seed, timeout, req, reply)
        thread.join(timeout + 15.0)
        reply.bytes_received = int(result.get("bytes", 0))
        reply.receiver_sha256 = str(result.get("sha256", ""))
        if result.get("error") and not reply.error:
            reply.error = f"receiver: {result['error']}"
    reply.sha256_match = bool(reply.sender_sha256) and (
        reply.sender_sha256 == reply.receiver_sha256 and reply.bytes == reply.bytes_received
    )
    return reply


def _source_address(session: LabSession, src: str, destination: str) -> str:
    """The sender's address toward ``destination`` (its interface on the same subnet, else
    its first; our senders report the one they really used)."""
    node = session.lab.node(src)
    for i in node.interfaces:
        if IPv4Address(destination) in i.network:
            return str(i.address)
    return str(node.interfaces[0].address) if node.interfaces else ""


def _ensure_sink(session: LabSession, node: str, port: int) -> bool:
    """Start a sink on ``node``:``port`` unless one runs; True when we started it."""
    apps = session.call(node, "ListApps", node_pb2.ListAppsRequest())
    assert isinstance(apps, node_pb2.ListAppsResponse)
    if any(a.app_id == f"sink:{port}" and a.running for a in apps.apps):
        return False
    session.call(
        node, "StartApp", node_pb2.StartAppRequest(app=node_pb2.AppConfig(kind="sink", port=port))
    )
    return True


def _send(
    session: LabSession,
    src: str,
    address: str,
    port: int,
    size: int,
    seed: int,
    timeout: float,
    req: lab_pb2.TransferRequest,
    reply: lab_pb2.TransferResponse,
) -> int:
    """Send; fills the sender's half of ``reply``; returns the sender's local port."""
    if not session.has_agent(src):
        code, out = session._exec_fn(src)(
            linuxtools.python(linuxtools.SEND_SCRIPT, address, port, size, seed, timeout),
            timeout + 10.0,
        )
        data = linuxtools.json_result(code, out, "the linux sender")
        reply.bytes, reply.seconds = int(data["bytes"]), float(data["seconds"])
        reply.sender_sha256, reply.error = str(data["sha256"]), str(data["error"])
        if reply.seconds > 0:
            reply.goodput_bps = reply.bytes * 8 / reply.seconds
        return 0
    bulk = node_pb2.BulkSendRequest(
        destination=address,
        port=port,
        size_bytes=size,
        seed=seed,
        congestion_control=req.congestion_control,
        sample_interval_ms=(req.sample_interval_ms if req.HasField("sample_interval_ms") else 10.0),
        timeout_ms=timeout * 1000.0,
    )
    sent = session.call(src, "BulkSend", bulk, timeout=timeout + 10.0)
    assert isinstance(sent, node_pb2.BulkSendResponse)
    reply.bytes, reply.seconds, reply.goodput_bps = sent.bytes, sent.seconds, sent.goodput_bps
    reply.sender_sha256, reply.error = sent.sha256, sent.error
    reply.retransmits, reply.bytes_retrans = sent.retransmits, sent.bytes_retrans
    reply.samples.extend(sent.samples)
    reply.final.CopyFrom(sent.final)
    if sent.final.local_address:
        reply.source_address = sent.final.local_address
    return sent.local_port or sent.final.local_port


def _agent_sink_result(
    session: LabSession, node: str, port: int, local_port: int, reply: lab_pb2.TransferResponse
) -> None:
    """The sink's record of this connection (matched by the sender's address/port)."""
    deadline = time.monotonic() + SINK_SETTLE
    while True:
        results = session.call(
            node, "GetSinkResults", node_pb2.GetSinkResultsRequest(app_id=f"sink:{port}")
        )
        assert isinstance(results, node_pb2.GetSinkResultsResponse)
        mine = [
            r
            for r in results.results
            if (r.remote_port == local_port or not local_port)
            and r.remote_address == reply.source_address
        ]
        if not mine and reply.error:
            return
        done = [r for r in mine if r.finished]
        if done or time.monotonic() >= deadline:
            if done or mine:
                best = (done or mine)[-1]
                reply.bytes_received, reply.receiver_sha256 = best.bytes, best.sha256
                if best.error and not reply.error:
                    reply.error = f"receiver: {best.error}"
            return
        time.sleep(0.05)
