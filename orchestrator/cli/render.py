"""Output for people: rich tables and lines from the domain's records.

Every function returns a renderable (or a string); the commands decide where it goes.
Sizes, rates and durations use the unit notations of :mod:`orchestrator.domain.values`
(``10mbit``, ``20ms``); sizes in KiB/MiB/GiB.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from nodes.faults.link import LinkProps
from orchestrator.domain.events import EventKind, LabEvent
from orchestrator.domain.faults import (
    FaultCounters,
    FaultRequest,
    LabFault,
    describe,
    describe_effects,
    describe_target,
)
from orchestrator.domain.lab import InterfaceInfo, LabInfo, LabSummary, LinkInfo
from orchestrator.domain.results import (
    AppInfo,
    ArpEntry,
    Connections,
    HttpReport,
    NodeCounters,
    NodeStatus,
    PingReport,
    RipStatus,
    RouteEntry,
    TraceReport,
    TransferReport,
)
from orchestrator.domain.values import (
    format_duration,
    format_probability,
    format_rate,
    format_size,
)
from topology import FaultEntry, Lab, Lan, Node, NodeKind, RipOptions, Routing, Segment
from topology.model import FaultTarget, TargetKind

GOOD, BAD, DIM = "green", "red", "dim"

# ---- units -----------------------------------------------------------------------------------

_SIZES = (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10))


def size(n: float) -> str:
    """1048576 -> '1 MiB', 20e6 -> '19.1 MiB', 999 -> '999 B'."""
    for unit, scale in _SIZES:
        if n >= scale:
            return f"{n / scale:.3g} {unit}"
    return f"{n:.0f} B"


def size_pair(part: float, whole: float) -> str:
    """'9.8 of 19.1 MiB': both in the unit of the whole (a small part in its own)."""
    for unit, scale in _SIZES:
        if whole >= scale:
            if 0 < part < scale / 10:
                return f"{size(part)} of {whole / scale:.1f} {unit}"
            return f"{part / scale:.1f} of {whole / scale:.1f} {unit}"
    return f"{part:.0f} of {whole:.0f} B"


def rate(bps: float) -> str:
    """Bits per second, three significant digits: '187mbit/s'."""
    return format_rate(float(f"{bps:.3g}")) + "/s" if bps > 0 else "0bit/s"


def duration(seconds: float) -> str:
    """Three significant digits: '2.31s', '200ms'."""
    return format_duration(float(f"{seconds:.3g}")) if seconds > 0 else "0s"


def age(seconds: float) -> str:
    if seconds >= 3600:
        return f"{seconds / 3600:.1f}h"
    if seconds >= 60:
        return f"{seconds / 60:.1f}m"
    return f"{seconds:.1f}s"


def ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f} ms" if value < 10 else f"{value:.1f} ms"


# ---- tables ----------------------------------------------------------------------------------


def table(*headers: str) -> Table:
    """Columns two spaces apart, bold headers, no borders (easy to read and to cut)."""
    t = Table(box=None, pad_edge=False, padding=(0, 2, 0, 0), show_edge=False, header_style="bold")
    for h in headers:
        t.add_column(h, no_wrap=True)
    return t


def state(word: str, good: Iterable[str] = ("running", "up", "active", "ok", "ready")) -> Text:
    return Text(word, style=GOOD if word in good else BAD)


def stack(*parts: RenderableType) -> Group:
    """Renderables one after the other, a blank line between."""
    spaced: list[RenderableType] = []
    for part in parts:
        if spaced:
            spaced.append(Text(""))
        spaced.append(part)
    return Group(*spaced)


# ---- labs ------------------------------------------------------------------------------------


def lab_list(labs: Sequence[LabSummary]) -> RenderableType:
    if not labs:
        return Text("no labs deployed")
    t = table("LAB", "BACKEND", "RUNNING", "FAULTS", "AGE")
    for s in labs:
        running = Text(f"{s.running}/{s.nodes}", style=GOOD if s.running == s.nodes else BAD)
        t.add_row(s.name, s.backend, running, str(s.faults), age(s.age_s))
    return t


def mtu_cell(iface: InterfaceInfo) -> Text:
    """The MTU in force, and the planned one when they differ (an MTU fault, a change)."""
    if iface.planned_mtu and iface.planned_mtu != iface.mtu:
        return Text(f"{iface.mtu} (planned {iface.planned_mtu})", style="yellow")
    return Text(str(iface.mtu))


def lab_info(lab: LabInfo) -> RenderableType:
    head = Text(
        f"lab {lab.name} ({lab.backend}, {lab.state}): {len(lab.nodes)} nodes, "
        f"{len(lab.links)} links, {lab.faults} faults active, up {age(lab.age_s)}"
    )
    nodes = table("NODE", "KIND", "STATE", "IFACE", "ADDRESS", "MAC", "LINK", "MTU", "LINK STATE")
    for n in lab.nodes:
        who: list[str | Text] = [n.name, n.kind, state(n.state)]
        for i in n.interfaces:
            nodes.add_row(
                *who,
                i.name,
                f"{i.address}/{i.prefix_len}",
                i.mac,
                i.link,
                mtu_cell(i),
                state("up" if i.up else "down"),
            )
            who = ["", "", ""]
        if not n.interfaces:
            nodes.add_row(*who, "-", "-", "-", "-", "-", "-")
    links = table("LINK", "TYPE", "SUBNET", "MTU", "MEMBERS")
    for s in lab.links:
        links.add_row(s.name, s.type, s.subnet, str(s.mtu), " ".join(s.members))
    parts: list[RenderableType] = [head, nodes, links]
    if any(s.directions for s in lab.links):
        parts.append(link_directions(lab.links))
    apps = [(n.name, " ".join(n.apps)) for n in lab.nodes if n.apps]
    if apps:
        t = table("NODE", "APPS")
        for row in apps:
            t.add_row(*row)
        parts.append(t)
    return stack(*parts)


def link_props(p: LinkProps) -> str:
    """``rate=10mbit delay=20ms jitter=2ms loss=1% queue=1000p aqm=codel``."""
    parts = []
    if p.rate is not None:
        parts.append(f"rate={format_rate(p.rate)}")
    if p.delay:
        parts.append(f"delay={format_duration(p.delay)}")
    if p.jitter:
        parts.append(f"jitter={format_duration(p.jitter)}")
    if p.loss:
        parts.append(f"loss={format_probability(p.loss)}")
    limits = [f"{p.queue_packets}p"] if p.queue_packets is not None else []
    limits += [format_size(p.queue_bytes)] if p.queue_bytes is not None else []
    if limits:
        parts.append("queue=" + ",".join(limits))
    if p.codel is not None:
        parts.append("aqm=codel")
    return " ".join(parts) or "-"


def link_directions(links: Sequence[LinkInfo]) -> RenderableType:
    """Link properties, one row per direction: who sends, what, and who applies it."""
    t = table("LINK", "FROM", "PROPERTIES", "APPLIED AT")
    for s in links:
        name = s.name
        for d in s.directions:
            t.add_row(name, d.sender, link_props(d.shaping), d.applied_at or "-")
            name = ""
    return t


def link_counters_text(c: FaultCounters) -> str:
    names = ("queued", "delayed", "dropped", "dropped_loss", "shaped", "dropped_aqm")
    shown = [f"{n}={getattr(c, n)}" for n in names if getattr(c, n)]
    return " ".join([f"seen={c.seen}", *shown])


# ---- topology files (validate) ---------------------------------------------------------------


def rip_role(node: Node) -> str:
    if node.kind is NodeKind.LINUX:
        return "rip (FRR ripd)"
    return "rip (listens)" if node.kind is NodeKind.HOST else "rip"


def rip_timers(rip: RipOptions) -> str:
    return f"update {rip.update:g} s, timeout {rip.timeout:g} s, garbage {rip.garbage:g} s"


def rip_flags(rip: RipOptions) -> str:
    flags = [
        "triggered" if rip.triggered else "no triggered updates",
        ("split horizon" + (" + poisoned reverse" if rip.poisoned_reverse else ""))
        if rip.split_horizon
        else "no split horizon",
        "redistribute " + ",".join(r.value for r in rip.redistribute),
    ]
    if rip.default_route:
        flags.append("default route")
    if rip.auth_key is not None:
        flags.append(f"md5 key {rip.auth_key_id}")
    if rip.passive:
        flags.append("passive " + ",".join(rip.passive))
    return "; ".join(flags)


def planned_lab(lab: Lab) -> RenderableType:
    """A topology's address plan (``wirelab validate``)."""
    head = Text(
        f"lab {lab.name} ({lab.source}): {len(lab.nodes)} nodes, {len(lab.links)} links, "
        f"{len(lab.lans)} LANs, pool {lab.pool}, routes {lab.route_mode.value}"
        + (f", routing {lab.routing.value}" if lab.routing is not Routing.STATIC else "")
    )
    ifaces = table("NODE", "KIND", "IFACE", "ADDRESS", "MAC", "NETWORK", "MTU")
    for node in lab.nodes:
        who = [node.name, node.kind.value]
        for i in node.interfaces:
            ifaces.add_row(*who, i.name, str(i.cidr), i.mac_str, i.segment, str(i.mtu))
            who = ["", ""]
        if not node.interfaces:
            ifaces.add_row(*who, "-", "-", "-", "-", "-")
    nets = table("NETWORK", "TYPE", "SUBNET", "GATEWAY", "MTU", "MEMBERS")
    for s in lab.segments:
        nets.add_row(
            s.name,
            "lan" if isinstance(s, Lan) else "link",
            str(s.subnet),
            str(s.gateway),
            str(s.mtu),
            " ".join(str(m) for m in s.members),
        )
    parts: list[RenderableType] = [head, ifaces, nets]
    shaped = [seg for seg in lab.segments if seg.shaped]
    if shaped:
        parts.append(planned_directions(lab, shaped))
    rip_nodes = [n for n in lab.nodes if n.rip is not None]
    if rip_nodes:
        t = table("NODE", "ROUTING", "TIMERS", "OPTIONS")
        for n in rip_nodes:
            assert n.rip is not None
            t.add_row(n.name, rip_role(n), rip_timers(n.rip), rip_flags(n.rip))
        parts.append(t)
    routes = [(n.name, r) for n in lab.nodes for r in n.routes]
    if routes:
        t = table("NODE", "DESTINATION", "VIA", "DEV", "ORIGIN")
        for name, r in routes:
            t.add_row(name, str(r.dst), str(r.via), r.dev, r.origin.value)
        parts.append(t)
    apps = [(n.name, a) for n in lab.nodes for a in n.apps]
    if apps:
        t = table("NODE", "APP", "TRANSPORT")
        for name, a in apps:
            t.add_row(name, str(a), a.transport)
        parts.append(t)
    if lab.faults:
        t = table("AT", "TARGET", "FAULT")
        for f in lab.faults:
            t.add_row(duration(f.at) if f.at else "0s", str(f.target), timeline_entry(f))
        parts.append(t)
    parts.append(
        Text(
            "valid (the gateway column is Docker's bridge address, never used by nodes)", style=GOOD
        )
    )
    return stack(*parts)


def planned_directions(lab: Lab, segments: Sequence[Segment]) -> RenderableType:
    t = table("NETWORK", "FROM", "PROPERTIES", "APPLIED AT")
    for seg in segments:
        name = seg.name
        for member, props in zip(seg.members, seg.egress, strict=True):
            if props.empty:
                continue
            at = lab.applied_at(seg, member)
            where = "-" if at is None else f"{at[0]} {at[1].value}"
            t.add_row(name, str(member), link_props(props), where)
            name = ""
    return t


def timeline_entry(entry: FaultEntry) -> str:
    if entry.action is not None:
        return entry.action.value + (f" for {duration(entry.duration)}" if entry.duration else "")
    return describe_effects(FaultRequest.from_entry(entry))


# ---- faults ----------------------------------------------------------------------------------


def counters_text(c: FaultCounters) -> str:
    names = ("dropped", "delayed", "duplicated", "corrupted", "reordered", "shaped", "dropped_aqm")
    shown = [f"{n}={getattr(c, n)}" for n in names if getattr(c, n)]
    return " ".join([f"seen={c.seen}", f"matched={c.matched}", *shown])


def fault_list(faults: Sequence[LabFault]) -> RenderableType:
    if not faults:
        return Text("no faults")
    t = table("ID", "STATE", "TARGET", "EFFECTS", "LEFT", "FIRST HIT", "COUNTERS")
    for f in faults:
        left = "-" if f.remaining_ms is None else duration(f.remaining_ms / 1000.0)
        hit = f.first_hit_ms
        t.add_row(
            f.fault_id,
            state(f.state.value),
            describe_target(f.request.target, f.request.direction),
            describe_effects(f.request),
            left,
            "-" if hit is None else f"{hit:.1f}ms",  # after it was added, in the node
            counters_text(f.counters),
        )
    return t


def fault_added(f: LabFault) -> str:
    nodes = sorted({p.node for p in f.parts})
    return (
        f"fault {f.fault_id} added: {f.description or describe(f.request)} (seed {f.seed}; "
        f"{len(f.parts)} node fault(s) on {', '.join(nodes) or 'no node'})"
    )


# ---- measurements ----------------------------------------------------------------------------


def ping(report: PingReport, destination: str) -> str:
    lines = []
    for r in report.results:
        if r.replied:
            rtt = "?" if r.rtt_ms is None else f"{r.rtt_ms:.3f}"
            lines.append(
                f"{r.size_bytes + 8} bytes from {r.source}: icmp_seq={r.seq} "
                f"ttl={r.ttl} time={rtt} ms"
            )
        elif r.icmp_type is not None:
            lines.append(
                f"From {r.source} icmp_seq={r.seq} {icmp_words(r.icmp_type, r.icmp_code)}"
                + (f" (next-hop MTU {r.next_hop_mtu})" if r.next_hop_mtu else "")
            )
        elif r.send_failed:
            lines.append(f"icmp_seq={r.seq}: send failed (no route, or too big with DF)")
        else:
            lines.append(f"icmp_seq={r.seq}: no reply")
        if r.route:
            lines.append("  RR: " + " ".join(r.route))
    lines.append(f"--- {destination} ping statistics ---")
    lines.append(
        f"{report.transmitted} packets transmitted, {report.received} received, "
        + (f"+{report.errors} errors, " if report.errors else "")
        + f"{report.loss * 100:.0f}% packet loss"
    )
    if report.received and report.rtt_min_ms is not None:
        lines.append(
            f"rtt min/avg/max = {report.rtt_min_ms:.3f}/{report.rtt_avg_ms or 0:.3f}/"
            f"{report.rtt_max_ms or 0:.3f} ms"
        )
    return "\n".join(lines)


_ICMP = {
    (3, 0): "Destination Net Unreachable",
    (3, 1): "Destination Host Unreachable",
    (3, 2): "Destination Protocol Unreachable",
    (3, 3): "Destination Port Unreachable",
    (3, 4): "Frag needed and DF set",
    (11, 0): "Time to live exceeded",
    (11, 1): "Fragment reassembly time exceeded",
    (12, 0): "Parameter problem",
}


def icmp_words(icmp_type: int, icmp_code: int | None) -> str:
    words = _ICMP.get((icmp_type, icmp_code or 0))
    return words or f"ICMP type {icmp_type} code {icmp_code}"


def traceroute(report: TraceReport, destination: str) -> str:
    lines = [f"traceroute to {destination}"]
    for hop in report.hops:
        probes: list[str] = []
        last = ""
        for p in hop.probes:
            if not p.responder:
                probes.append("*")
                continue
            if p.responder != last:
                probes.append(p.responder)
                last = p.responder
            probes.append("?" if p.rtt_ms is None else f"{p.rtt_ms:.3f} ms")
        lines.append(f"{hop.ttl:2d}  " + "  ".join(probes or ["*"]))
    if not report.reached:
        lines.append(f"({destination} not reached)")
    return "\n".join(lines)


def timed_out(report: TransferReport) -> bool:
    words = report.error.lower()
    return "etimedout" in words or "timed out" in words or "timeout" in words


def transfer_outcome(report: TransferReport) -> str:
    """One line: how it went. Never '0 bit/s, sha256 MISMATCH' for a transfer that did
    not finish: what arrived, of how much, after how long, and why it stopped."""
    if report.ok:
        return (
            f"{size(report.bytes_received)} in {duration(report.seconds)} = "
            f"{rate(report.goodput_bps)}, sha256 match"
        )
    if report.complete and not report.error:
        return (
            f"sha256 MISMATCH: all {size(report.size_bytes)} arrived but the digests differ "
            f"(sent {report.sender_sha256[:16] or '-'}..., received "
            f"{report.receiver_sha256[:16] or '-'}...)"
        )
    text = f"incomplete: {size_pair(report.bytes_received, report.size_bytes)}"
    took = report.timeout_s if timed_out(report) else report.seconds
    if took:
        text += f" after {duration(took)}"
    if report.error:
        text += f" ({'timed out' if timed_out(report) else report.error})"
    return text


def transfer(report: TransferReport, source: str = "") -> RenderableType:
    where = (
        f"{source} {report.source_address}".strip() + " -> "
        f"{report.destination_address}:{report.port}"
    )
    outcome = Text(f"{where}: ") + Text(transfer_outcome(report), style=GOOD if report.ok else BAD)
    lines: list[RenderableType] = [outcome]
    if report.bytes_received or report.retransmits:
        lines.append(
            Text(f"retransmits {report.retransmits} segments ({size(report.bytes_retrans)})")
        )
    f = report.final
    if f is not None and f.mss:
        ssthresh = "inf" if f.ssthresh is None else str(f.ssthresh)
        srtt = ms(f.srtt_ms)
        lines.append(
            Text(
                f"tcp {f.congestion_control}: cwnd {f.cwnd} ssthresh {ssthresh} "
                f"srtt {srtt} mss {f.mss} pmtu {f.pmtu}"
            )
        )
    warning = cpu_bound_warning(report)
    if warning:
        lines.append(Text(warning, style=BAD))
    return Group(*lines)


def cpu_bound_warning(report: TransferReport) -> str:
    """The saturation guard's line ("" when no node of ours was CPU-bound)."""
    note = report.cpu_bound_note
    return f"warning: {note}" if note else ""


def http(report: HttpReport, url: str) -> RenderableType:
    line = Text(f"GET {url}: ") + state(
        f"status {report.status}" if report.status else "no response",
        good=[f"status {report.status}"] if report.ok else [],
    )
    line += Text(
        f", {size(report.bytes)}, sha256 {report.sha256[:16] or '-'}, {duration(report.seconds)}"
    )
    if report.error:
        line += Text(f"\nerror: {report.error}", style=BAD)
    return line


# ---- node state ------------------------------------------------------------------------------


def interfaces(status: NodeStatus) -> RenderableType:
    t = table("IFACE", "STATE", "ADDRESS", "MAC", "MTU", "DEVICE")
    for i in status.interfaces:
        mtu = Text(str(i.mtu))
        if i.base_mtu and i.base_mtu != i.mtu:
            mtu = Text(f"{i.mtu} (configured {i.base_mtu})", style="yellow")
        t.add_row(
            i.name,
            state("up" if i.up else "down"),
            f"{i.address}/{i.prefix_len}",
            i.mac,
            mtu,
            i.device,
        )
    return t


def routes(entries: Sequence[RouteEntry]) -> RenderableType:
    if not entries:
        return Text("no routes")
    learned = any(r.kind == "rip" for r in entries)
    headers = ["DESTINATION", "GATEWAY", "IFACE", "KIND", "METRIC"]
    t = table(*headers, *(("AGE", "FROM") if learned else ()))
    for r in entries:
        metric = Text(str(r.metric))
        if r.kind == "rip" and r.metric >= 16:
            metric = Text("16 unreachable", style=BAD)
        row: list[str | Text] = [r.prefix, r.gateway or "-", r.iface or "-", r.kind, metric]
        if learned:
            row += ["-" if r.age_ms is None else f"{r.age_ms / 1000:.0f}s", r.learned_from or "-"]
        t.add_row(*row)
    return t


def rip(st: RipStatus) -> RenderableType:
    """``wirelab show LAB NODE rip``: timers, options, neighbours, the RIP table."""
    if not st.enabled:
        return Text("RIP is not running on this node")
    due = "" if st.next_update_ms is None else f", next in {st.next_update_ms / 1000:.1f} s"
    trig = (
        ""
        if st.triggered_update_ms is None
        else f"; a triggered update in {st.triggered_update_ms / 1000:.1f} s"
    )
    head = Text(
        f"RIPv2 ({st.daemon}{', listening only' if st.silent else ''}): updates every "
        f"{st.update_s:g} s{due}, timeout {st.timeout_s:g} s, garbage collection "
        f"{st.garbage_s:g} s{trig}\n"
        + "; ".join([
            "triggered updates" if st.triggered_updates else "no triggered updates",
            ("split horizon" + (" with poisoned reverse" if st.poisoned_reverse else ""))
            if st.split_horizon else "no split horizon",
            "md5 authentication" if st.authentication else "no authentication",
            "redistributes " + (", ".join(st.redistribute) or "nothing"),
        ])
    )  # fmt: skip
    parts: list[RenderableType] = [head]
    if st.interfaces:
        t = table("IFACE", "STATE", "SENDS")
        for i in st.interfaces:
            t.add_row(
                i.name, state("up" if i.up else "down"), "no (passive)" if i.passive else "yes"
            )
        parts.append(t)
    if st.neighbors:
        t = table("NEIGHBOUR", "IFACE", "LAST HEARD", "ROUTES", "BAD PACKETS", "BAD ROUTES")
        for n in st.neighbors:
            t.add_row(n.address, n.iface or "-", f"{n.last_heard_ms / 1000:.1f}s ago",
                      str(n.routes), str(n.bad_packets), str(n.bad_routes))  # fmt: skip
        parts.append(t)
    else:
        parts.append(Text("no neighbours heard"))
    if st.routes:
        t = table("DESTINATION", "METRIC", "ORIGIN", "GATEWAY", "FROM", "AGE", "STATE")
        for r in st.routes:
            status = "in use" if r.metric < 16 else (
                f"withdrawn, deleted in {(r.gc_in_ms or 0) / 1000:.0f}s"
            )  # fmt: skip
            t.add_row(r.prefix, str(r.metric), r.origin, r.gateway or "-", r.learned_from or "-",
                      f"{r.age_ms / 1000:.0f}s", status)  # fmt: skip
        parts.append(t)
    counters = [(k, v) for k, v in sorted(st.counters.items()) if v]
    if counters:
        t = table("RIP COUNTER", "VALUE")
        for k, v in counters:
            t.add_row(k, str(v))
        parts.append(t)
    return stack(*parts)


def arp(entries: Sequence[ArpEntry]) -> RenderableType:
    if not entries:
        return Text("ARP cache empty")
    t = table("ADDRESS", "MAC", "IFACE", "STATE", "QUEUED")
    for e in entries:
        t.add_row(e.address, e.mac or "(incomplete)", e.iface, e.state, str(e.queued_packets))
    return t


def connections(conns: Connections) -> RenderableType:
    if not conns.connections and not conns.listeners:
        return Text("no TCP connections or listeners")
    t = table("STATE", "LOCAL", "PEER", "CC", "RTT", "SIZES", "LOSS")
    for li in conns.listeners:
        t.add_row(
            "LISTEN",
            f"{li.local_address}:{li.local_port}",
            "*:*",
            "",
            f"backlog {li.backlog}",
            f"syn {li.syn_queue} accept {li.accept_queue}",
            "",
        )
    for c in conns.connections:
        ssthresh = "inf" if c.ssthresh is None else str(c.ssthresh)
        t.add_row(
            c.state,
            f"{c.local_address}:{c.local_port}",
            f"{c.remote_address}:{c.remote_port}",
            f"{c.congestion_control} cwnd {c.cwnd} ssthresh {ssthresh}",
            f"srtt {ms(c.srtt_ms)} rto {c.rto_ms:.0f} ms",
            f"mss {c.mss} pmtu {c.pmtu}",
            f"retrans {c.retrans} unacked {c.unacked_bytes}",
        )
    return t


def counters(c: NodeCounters) -> RenderableType:
    parts: list[RenderableType] = []
    stack_rows = [(k, v) for k, v in sorted(c.stack.items()) if v]
    if stack_rows:
        t = table("STACK COUNTER", "VALUE")
        for k, v in stack_rows:
            t.add_row(k, str(v))
        parts.append(t)
    else:
        parts.append(Text("stack: all zero"))
    ports = [
        (name, k, v) for name, pc in sorted(c.ports.items()) for k, v in sorted(pc.items()) if v
    ]
    if ports:
        t = table("IFACE", "PORT COUNTER", "VALUE")
        for name, k, v in ports:
            t.add_row(name, k, str(v))
        parts.append(t)
    io = [(k, v) for k, v in sorted(c.io.items()) if v]
    if io:
        t = table("IO COUNTER", "VALUE")
        for k, v in io:
            t.add_row(k, str(v))
        parts.append(t)
    if c.faults:
        t = table("FAULT", "IFACE", "COUNTERS")
        for f in c.faults:
            t.add_row(f.fault_id, f.spec.iface, counters_text(f.counters))
        parts.append(t)
    if c.links:
        t = table("LINK LAYER", "IFACE", "PROPERTIES", "COUNTERS")
        for layer in c.links:
            t.add_row(
                layer.direction.value,
                layer.iface,
                link_props(layer.shaping),
                link_counters_text(layer.counters),
            )
        parts.append(t)
    return stack(*parts)


def apps(by_node: dict[str, list[AppInfo]]) -> RenderableType:
    rows = [(node, a) for node, infos in by_node.items() for a in infos]
    if not rows:
        return Text("no apps")
    t = table("NODE", "APP", "STATE", "STATS")
    for node, a in rows:
        stats = " ".join(f"{k}={v}" for k, v in sorted(a.stats.items()))
        word = a.state or ("running" if a.running else "stopped")
        if a.error:
            stats = f"{stats}\n{a.error}" if stats else a.error
        t.add_row(node, a.app_id, state(word, ("running", "finished")), stats)
    return t


def interface_changed(node: str, i: InterfaceInfo) -> str:
    planned = f" (planned {i.planned_mtu})" if i.planned_mtu and i.planned_mtu != i.mtu else ""
    return (
        f"{node}:{i.name}: {'up' if i.up else 'down'}, {i.address}/{i.prefix_len}, "
        f"mtu {i.mtu}{planned}"
    )


def route_line(node: str, r: RouteEntry, verb: str) -> str:
    via = f" via {r.gateway}" if r.gateway else ""
    return f"{node}: {verb} {r.prefix}{via} dev {r.iface} metric {r.metric} ({r.kind})"


# ---- events ----------------------------------------------------------------------------------


def event_line(e: LabEvent) -> str:
    """One line per event: ``12:00:01.123 r1 link eth1 mtu 1000 up``."""
    stamp = time.strftime("%H:%M:%S", time.localtime(e.unix_time_s))
    stamp += f".{int(e.unix_time_s * 1000) % 1000:03d}"
    who = e.node or e.lab
    words: str
    if e.kind is EventKind.LINK:
        if e.link is None or not e.link.iface:
            words = "link changed"
        else:
            words = (
                f"link {e.link.iface} {e.link.change or 'changed'}: "
                f"{'up' if e.link.up else 'down'}, mtu {e.link.mtu}"
            )
    elif e.kind is EventKind.TCP and e.tcp is not None:
        t = e.tcp
        words = (
            f"tcp {t.local_address}:{t.local_port} -> {t.remote_address}:{t.remote_port} "
            f"{t.old_state or 'new'} -> {t.new_state}"
        )
    elif e.kind is EventKind.NODE_FAULT and e.node_fault is not None:
        part = e.node_fault.fault
        request = FaultRequest(
            target=FaultTarget(TargetKind.ENDPOINT, node=e.node, iface=part.spec.iface),
            effects=part.spec.effects,
            direction=part.spec.direction,
            match=part.spec.match,
            duration=part.spec.duration,
        )
        words = f"node fault {e.node_fault.change} {part.fault_id} {describe(request)}"
    elif e.kind is EventKind.FAULT and e.fault is not None:
        f = e.fault.fault
        words = f"fault {e.fault.change} {f.fault_id}: {f.description or describe(f.request)}"
    elif e.kind is EventKind.NODE_STATE and e.node_state is not None:
        words = f"node {e.node_state.action} -> {e.node_state.state}"
    elif e.kind is EventKind.RIP_ROUTE and e.rip_route is not None:
        r = e.rip_route
        was = "" if r.old_metric is None else f" (was {r.old_metric})"
        via = f" via {r.gateway} dev {r.iface}" if r.gateway else ""
        words = f"rip route {r.change} {r.prefix}{via} metric {r.metric}{was}"
    elif e.kind is EventKind.SUBSCRIBED:
        words = "subscribed (every event from now on)"
    elif e.kind is EventKind.DESTROYED:
        words = "lab destroyed"
    else:
        words = e.kind.value
    if e.dropped:
        words += f" ({e.dropped} events dropped so far: a slow reader)"
    return f"{stamp} {who} {words}"
