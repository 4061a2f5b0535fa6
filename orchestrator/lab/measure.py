"""Ping, traceroute and HTTP GET from any node of a running lab: our nodes through their
agent, linux nodes with the kernel's own tools (iputils ping, traceroute, python3's
urllib), into the same reports."""

from __future__ import annotations

import re
from dataclasses import replace
from ipaddress import AddressValueError, IPv4Address

from orchestrator.domain.errors import FailedPrecondition, InvalidArgument, NotFound, echo
from orchestrator.domain.requests import HttpRequest, PingRequest, TraceRequest
from orchestrator.domain.results import HttpReport, PingReport, TraceReport
from orchestrator.lab import linuxtools
from orchestrator.lab.session import LabSession
from topology import Lab

RPC = 10.0  # seconds on top of what a measurement itself may take


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
            f"no node {echo(name)} in lab {lab.name} (have {have[:300]}), and not an IPv4 address",
            field_name,
        ) from None
    if not node.interfaces:
        raise FailedPrecondition(f"{name} has no interfaces", field_name)
    if not iface:
        return str(node.interfaces[0].address), name
    try:
        return str(node.interface(iface).address), name
    except KeyError:
        names = ", ".join(i.name for i in node.interfaces)
        raise NotFound(
            f"{name} has no interface {echo(iface)} (have {names})", field_name
        ) from None


def _run(session: LabSession, node: str) -> linuxtools.Exec:
    def run(argv: list[str], timeout: float) -> tuple[int, str]:
        result = session.kernel_exec(node, argv, timeout=timeout)
        return result.exit_code, result.output

    return run


def _budget(wanted: float, cap: float | None) -> float:
    """How long to wait for a node: what the request may take, within the caller's own
    deadline (a caller that gives up ends the node's work too)."""
    return wanted if cap is None else max(0.05, min(wanted, cap))


def ping(
    session: LabSession, node: str, request: PingRequest, *, cap: float | None = None
) -> PingReport:
    session.node(node)
    address, _ = resolve(session.lab, request.destination, "destination")
    req = replace(request, destination=address)
    budget = _budget(req.budget_s + RPC, cap)
    if not session.has_agent(node):
        return linuxtools.ping(_run(session, node), req, timeout=budget)
    return session.agent(node).ping(req, timeout=budget)


def traceroute(
    session: LabSession, node: str, request: TraceRequest, *, cap: float | None = None
) -> TraceReport:
    session.node(node)
    address, _ = resolve(session.lab, request.destination, "destination")
    req = replace(request, destination=address)
    budget = _budget(req.budget_s + RPC, cap)
    if not session.has_agent(node):
        return linuxtools.traceroute(_run(session, node), req, timeout=budget)
    return session.agent(node).traceroute(req, timeout=budget)


def http_get(
    session: LabSession, node: str, request: HttpRequest, *, cap: float | None = None
) -> HttpReport:
    session.node(node)
    url = _url(session.lab, request.url)
    budget = _budget(request.timeout_s + RPC, cap)
    if not session.has_agent(node):
        return linuxtools.http_get(_run(session, node), url, wait=request.timeout_s, timeout=budget)
    return session.agent(node).http_get(url, wait=request.timeout_s, timeout=budget)


def _url(lab: Lab, url: str) -> str:
    """``http://h2/x`` -> ``http://10.0.1.2/x`` (a node name as the host)."""
    m = re.match(r"^(http://)([^/:]+)(.*)$", url.strip())
    if m is None:
        raise InvalidArgument(f"expected http://HOST[:PORT]/PATH, got {echo(url)}", "url")
    address, _ = resolve(lab, m.group(2), "url")
    return f"{m.group(1)}{address}{m.group(3) or '/'}"
