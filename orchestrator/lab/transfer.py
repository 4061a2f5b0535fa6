"""Transfer: ``size`` pattern bytes from one node to a sink on another, checked end to end
(the receiver's sha256 against the sender's), with the sender's cwnd/ssthresh/in-flight
samples when the sender runs our stack.

Senders: our nodes use the agent's BulkSend; linux nodes run a python3 sender
(:data:`orchestrator.lab.linuxtools.SEND_SCRIPT`, the same bytes). Receivers: our nodes use
their ``sink`` app on the port (started for the transfer and stopped after, when the node
was not running one); linux nodes run a python3 sink for the one connection.
"""

from __future__ import annotations

import threading
import time
from dataclasses import replace
from ipaddress import IPv4Address
from typing import Any

from orchestrator.domain.errors import InvalidArgument, LabError
from orchestrator.domain.requests import TransferRequest
from orchestrator.domain.results import TransferReport
from orchestrator.lab import linuxtools, load
from orchestrator.lab.measure import resolve
from orchestrator.lab.session import LabSession

SINK_SETTLE = 5.0  # wait for the sink's result after the sender finished
LINUX_SINK_START = 1.0
RPC = 10.0


def run_transfer(
    session: LabSession, req: TransferRequest, *, cap: float | None = None
) -> TransferReport:
    """Run the transfer; ``cap`` (wall seconds) bounds it by the caller's own deadline. In
    a virtual lab ``timeout_s`` is virtual time and the cap bounds only the wall time the
    run may take (the two never mix)."""
    wall: float | None = None
    if session.virtual:
        wall = cap if cap is None else max(0.05, cap - 1.0)
    elif cap is not None and cap < req.timeout_s + RPC:
        req = replace(req, timeout_s=max(0.05, cap - RPC / 2))
    src = session.node(req.source, "source").name
    address, dst = resolve(session.lab, req.destination, "destination")
    if dst == src:
        raise InvalidArgument(f"{src} cannot transfer to itself", "destination")
    if dst is None:
        raise InvalidArgument(
            f"{address} is no node of lab {session.name}: a sink must run there", "destination"
        )
    # the saturation guard: in real time our CPU can be what limits a result (never in
    # virtual time, where results are the links' and faults' exactly)
    ours = (
        [] if session.virtual else [n.name for n in session.lab.nodes if session.has_agent(n.name)]
    )
    before = load.snapshot(ours, lambda node: session.counters(node).io)
    began = session.lab_time()
    report = TransferReport(
        size_bytes=req.size_bytes,
        source_address=_source_address(session, src, address),
        destination_address=address,
        port=req.port,
        timeout_s=req.timeout_s,
    )
    if session.has_agent(dst):
        started = _ensure_sink(session, dst, req.port)
        try:
            report, local_port = _send(session, src, address, req, report, wall)
            report = _agent_sink_result(session, dst, req.port, local_port, report)
        finally:
            if started:
                session.agent(dst).stop_app(f"sink:{req.port}")
    else:
        result: dict[str, Any] = {}

        def sink() -> None:
            try:
                code, out = _exec(session, dst, linuxtools.python(
                    linuxtools.SINK_SCRIPT, req.port, req.timeout_s
                ), req.timeout_s + RPC)  # fmt: skip
                result.update(linuxtools.json_result(code, out, "the linux sink"))
            except LabError as exc:
                result["error"] = str(exc)

        thread = threading.Thread(target=sink, name=f"sink-{dst}", daemon=True)
        thread.start()
        time.sleep(LINUX_SINK_START)
        report, _ = _send(session, src, address, req, report)
        thread.join(req.timeout_s + 15.0)
        error = report.error
        if result.get("error") and not error:
            error = f"receiver: {result['error']}"
        report = replace(
            report,
            bytes_received=int(result.get("bytes", 0)),
            receiver_sha256=str(result.get("sha256", "")),
            error=error,
        )
    match = bool(report.sender_sha256) and (
        report.sender_sha256 == report.receiver_sha256 and report.bytes == report.bytes_received
    )
    if report.seconds <= 0 and report.bytes == 0:
        report = replace(report, seconds=session.lab_time() - began)  # how long it tried
    found = load.loads(before, load.snapshot(ours, lambda node: session.counters(node).io))
    return replace(report, sha256_match=match, loads=found, cpu_bound_nodes=load.saturated(found))


def _exec(session: LabSession, node: str, argv: list[str], timeout: float) -> tuple[int, str]:
    result = session.kernel_exec(node, argv, timeout=timeout)
    return result.exit_code, result.output


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
    agent = session.agent(node)
    if any(a.app_id == f"sink:{port}" and a.running for a in agent.apps()):
        return False
    agent.start_app("sink", port)
    return True


def _send(
    session: LabSession,
    src: str,
    address: str,
    req: TransferRequest,
    report: TransferReport,
    wall: float | None = None,
) -> tuple[TransferReport, int]:
    """The sender's half of the report, and the sender's local port (0: unknown).
    ``wall``: the RPC's own wall-clock bound in a virtual lab (None: none)."""
    if not session.has_agent(src):
        code, out = _exec(session, src, linuxtools.python(
            linuxtools.SEND_SCRIPT, address, req.port, req.size_bytes, req.seed, req.timeout_s
        ), req.timeout_s + RPC)  # fmt: skip
        data = linuxtools.json_result(code, out, "the linux sender")
        seconds = float(data["seconds"])
        sent_bytes = int(data["bytes"])
        return replace(
            report,
            bytes=sent_bytes,
            seconds=seconds,
            goodput_bps=sent_bytes * 8 / seconds if seconds > 0 else 0.0,
            sender_sha256=str(data["sha256"]),
            error=str(data["error"]),
        ), 0
    sent = session.agent(src).bulk_send(
        address, req.port, req.size_bytes, seed=req.seed,
        congestion_control=req.congestion_control,
        sample_interval=0.01 if req.sample_interval_s is None else req.sample_interval_s,
        wait=req.timeout_s,
        timeout=(wall if session.virtual else req.timeout_s + RPC),
    )  # fmt: skip
    source = sent.final.local_address if sent.final is not None else ""
    local_port = sent.local_port or (sent.final.local_port if sent.final is not None else 0)
    return replace(
        report,
        bytes=sent.bytes,
        seconds=sent.seconds,
        goodput_bps=sent.goodput_bps,
        sender_sha256=sent.sha256,
        error=sent.error,
        retransmits=sent.retransmits,
        bytes_retrans=sent.bytes_retrans,
        samples=sent.samples,
        final=sent.final,
        source_address=source or report.source_address,
    ), local_port


def _agent_sink_result(
    session: LabSession, node: str, port: int, local_port: int, report: TransferReport
) -> TransferReport:
    """The sink's record of this connection (matched by the sender's address/port)."""
    deadline = session.lab_time() + SINK_SETTLE  # lab time: virtual in a virtual lab
    agent = session.agent(node)
    while True:
        mine = [
            r
            for r in agent.sink_results(f"sink:{port}")
            if (r.remote_port == local_port or not local_port)
            and r.remote_address == report.source_address
        ]
        if not mine and report.error:
            return report
        done = [r for r in mine if r.finished]
        if done or session.lab_time() >= deadline:
            if not (done or mine):
                return report
            best = (done or mine)[-1]
            error = report.error
            if best.error and not error:
                error = f"receiver: {best.error}"
            return replace(
                report, bytes_received=best.bytes, receiver_sha256=best.sha256, error=error
            )
        session.wait(0.05)
