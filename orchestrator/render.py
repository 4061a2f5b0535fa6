"""Output for people: tables, progress bars, units, and the transfer plot (matplotlib).

Everything returns strings (or writes a file) so the CLI decides where it goes; the
``--json`` forms live in the CLI (proto messages as JSON)."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import TextIO

from wirelab.v1 import common_pb2, lab_pb2, node_pb2

from orchestrator.faults import effects_text, target_text
from topology import Lab

BAR_WIDTH = 24


# ---- basics ----------------------------------------------------------------------------


def table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Left-aligned columns, two spaces apart (no trailing blanks)."""
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in [header, *rows]]
    return "\n".join(line.rstrip() for line in lines)


def bits(bps: float) -> str:
    for unit, scale in (("Gbit/s", 1e9), ("Mbit/s", 1e6), ("kbit/s", 1e3)):
        if bps >= scale:
            return f"{bps / scale:.2f} {unit}"
    return f"{bps:.0f} bit/s"


def size(n: float) -> str:
    for unit, scale in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= scale:
            return f"{n / scale:.2f} {unit}"
    return f"{n:.0f} B"


def ms(value: float) -> str:
    return f"{value:.3f} ms" if value < 10 else f"{value:.1f} ms"


def seconds(value: float) -> str:
    if value >= 3600:
        return f"{value / 3600:.1f}h"
    if value >= 60:
        return f"{value / 60:.1f}m"
    return f"{value:.1f}s"


# ---- progress ----------------------------------------------------------------------------


class Progress:
    """Deploy progress: one bar per step, redrawn in place on a terminal, one line per
    finished step otherwise."""

    def __init__(self, out: TextIO | None = None) -> None:
        self.out = out or sys.stderr
        self.tty = self.out.isatty()
        self._step = ""
        self._line = ""

    def __call__(self, event: lab_pb2.DeployProgress) -> None:
        if event.step != self._step:
            self._finish()
            self._step = event.step
        total = max(event.total, 1)
        done = min(event.done, total)
        filled = round(BAR_WIDTH * done / total)
        bar = "#" * filled + "-" * (BAR_WIDTH - filled)
        what = event.node or event.message
        self._line = f"{event.step:<10} [{bar}] {event.done}/{event.total} {what}".rstrip()
        if self.tty:
            self.out.write("\r\x1b[2K" + self._line)
            self.out.flush()
        if (event.total and event.done >= event.total) or event.total == 0:
            self._finish()

    def _finish(self) -> None:
        if not self._line:
            return
        self.out.write(("\r\x1b[2K" if self.tty else "") + self._line + "\n")
        self.out.flush()
        self._line = ""

    def close(self) -> None:
        self._finish()


# ---- labs --------------------------------------------------------------------------------


def lab_list(labs: Sequence[lab_pb2.LabSummary]) -> str:
    if not labs:
        return "no labs deployed"
    rows = [
        [s.name, s.backend, f"{s.running}/{s.nodes}", str(s.faults), seconds(s.age_s)] for s in labs
    ]
    return table(["LAB", "BACKEND", "RUNNING", "FAULTS", "AGE"], rows)


def lab_info(lab: lab_pb2.LabInfo) -> str:
    head = (
        f"lab {lab.name} ({lab.backend}, {lab.state}): {len(lab.nodes)} nodes, "
        f"{len(lab.links)} links, {lab.faults} faults active, up {seconds(lab.age_s)}"
    )
    rows = []
    for n in lab.nodes:
        first = True
        for i in n.interfaces:
            who = [n.name, n.kind, n.state] if first else ["", "", ""]
            rows.append([*who, i.name, f"{i.address}/{i.prefix_len}", i.mac, i.link, str(i.mtu)])
            first = False
        if first:
            rows.append([n.name, n.kind, n.state, "-", "-", "-", "-", "-"])
    nodes = table(["NODE", "KIND", "STATE", "IFACE", "ADDRESS", "MAC", "LINK", "MTU"], rows)
    links = table(
        ["LINK", "TYPE", "SUBNET", "MTU", "MEMBERS"],
        [[s.name, s.type, s.subnet, str(s.mtu), " ".join(s.members)] for s in lab.links],
    )
    parts = [head, nodes, links]
    apps = [[n.name, " ".join(n.apps)] for n in lab.nodes if n.apps]
    if apps:
        parts.append(table(["NODE", "APPS"], apps))
    return "\n\n".join(parts)


# ---- faults ------------------------------------------------------------------------------


def counters_text(c: common_pb2.FaultCounters) -> str:
    names = ("dropped", "delayed", "duplicated", "corrupted", "reordered", "shaped")
    shown = [f"{n}={getattr(c, n)}" for n in names if getattr(c, n)]
    return f"seen={c.seen} matched={c.matched} " + " ".join(shown)


def fault_list(faults: Sequence[lab_pb2.LabFault]) -> str:
    if not faults:
        return "no faults"
    rows = []
    for f in faults:
        left = f"{f.remaining_ms / 1000:.1f}s" if f.HasField("remaining_ms") else "-"
        hits = [p.first_hit_ms for p in f.parts if p.HasField("first_hit_ms")]
        rows.append(
            [
                f.fault_id,
                f.state,
                target_text(f.target),
                effects_text(f.effects),
                left,
                f"{min(hits):.1f}ms" if hits else "-",  # after it was added, in the node
                counters_text(f.counters).rstrip(),
            ]
        )
    return table(["ID", "STATE", "TARGET", "EFFECTS", "LEFT", "FIRST HIT", "COUNTERS"], rows)


def fault_added(f: lab_pb2.LabFault) -> str:
    nodes = sorted({p.node for p in f.parts})
    return (
        f"fault {f.fault_id} added: {f.description} (seed {f.seed}; "
        f"{len(f.parts)} node fault(s) on {', '.join(nodes)})"
    )


# ---- measurements -----------------------------------------------------------------------


def ping(reply: node_pb2.PingResponse, destination: str) -> str:
    lines = []
    for r in reply.results:
        if r.replied:
            lines.append(
                f"{r.size_bytes + 8} bytes from {r.source}: icmp_seq={r.seq} ttl={r.ttl} "
                f"time={r.rtt_ms:.3f} ms"
            )
        elif r.HasField("icmp_type"):
            extra = f" (mtu {r.next_hop_mtu})" if r.next_hop_mtu else ""
            lines.append(
                f"From {r.source} icmp_seq={r.seq} ICMP type {r.icmp_type} code "
                f"{r.icmp_code}{extra}"
            )
        elif r.send_failed:
            lines.append(f"icmp_seq={r.seq}: send failed (no route, or too big with DF)")
        else:
            lines.append(f"icmp_seq={r.seq}: no reply")
    lines.append(f"--- {destination} ping statistics ---")
    lines.append(
        f"{reply.transmitted} packets transmitted, {reply.received} received, "
        + (f"+{reply.errors} errors, " if reply.errors else "")
        + f"{reply.loss * 100:.0f}% packet loss"
    )
    if reply.received:
        lines.append(
            f"rtt min/avg/max = {reply.rtt_min_ms:.3f}/{reply.rtt_avg_ms:.3f}/"
            f"{reply.rtt_max_ms:.3f} ms"
        )
    return "\n".join(lines)


def traceroute(reply: node_pb2.TracerouteResponse, destination: str) -> str:
    lines = [f"traceroute to {destination}"]
    for hop in reply.hops:
        probes = []
        last = ""
        for p in hop.probes:
            if not p.responder:
                probes.append("*")
                continue
            if p.responder != last:
                probes.append(p.responder)
                last = p.responder
            probes.append(f"{p.rtt_ms:.3f} ms" if p.HasField("rtt_ms") else "?")
        lines.append(f"{hop.ttl:2d}  " + "  ".join(probes or ["*"]))
    if not reply.reached:
        lines.append(f"({destination} not reached)")
    return "\n".join(lines)


def transfer(reply: lab_pb2.TransferResponse) -> str:
    match = "match" if reply.sha256_match else "MISMATCH"
    lines = [
        f"{reply.source_address} -> {reply.destination_address}:{reply.port}: "
        f"{size(reply.bytes)} in {reply.seconds:.3f} s = {bits(reply.goodput_bps)}",
        f"sha256 {match}: sent {reply.sender_sha256[:16] or '-'}..., "
        f"received {reply.receiver_sha256[:16] or '-'}... ({size(reply.bytes_received)})",
        f"retransmits {reply.retransmits} segments ({size(reply.bytes_retrans)})",
    ]
    if reply.HasField("final") and reply.final.mss:
        f = reply.final
        ssthresh = str(f.ssthresh) if f.HasField("ssthresh") else "inf"
        srtt = f"{f.srtt_ms:.2f} ms" if f.HasField("srtt_ms") else "-"
        lines.append(
            f"tcp {f.congestion_control}: cwnd {f.cwnd} ssthresh {ssthresh} srtt {srtt} "
            f"mss {f.mss} pmtu {f.pmtu}"
        )
    if reply.error:
        lines.append(f"error: {reply.error}")
    return "\n".join(lines)


def http(reply: node_pb2.HttpGetResponse, url: str) -> str:
    text = (
        f"GET {url}: status {reply.status}, {size(reply.bytes)}, sha256 "
        f"{reply.sha256 or '-'}, {reply.seconds:.3f} s"
    )
    return text + (f"\nerror: {reply.error}" if reply.error else "")


# ---- node state --------------------------------------------------------------------------


def interfaces(status: node_pb2.NodeStatus) -> str:
    rows = [
        [
            i.name,
            "up" if i.up else "down",
            f"{i.address}/{i.prefix_len}",
            i.mac,
            str(i.mtu),
            i.device,
        ]
        for i in status.interfaces
    ]
    return table(["IFACE", "STATE", "ADDRESS", "MAC", "MTU", "DEVICE"], rows)


def routes(entries: Sequence[node_pb2.RouteEntry]) -> str:
    rows = [[r.prefix, r.gateway or "-", r.iface, r.kind, str(r.metric)] for r in entries]
    return table(["DESTINATION", "GATEWAY", "IFACE", "KIND", "METRIC"], rows)


def arp(entries: Sequence[node_pb2.ArpEntry]) -> str:
    if not entries:
        return "ARP cache empty"
    rows = [
        [e.address, e.mac or "(incomplete)", e.iface, e.state, str(e.queued_packets)]
        for e in entries
    ]
    return table(["ADDRESS", "MAC", "IFACE", "STATE", "QUEUED"], rows)


def connections(reply: node_pb2.GetConnectionsResponse) -> str:
    rows = []
    for li in reply.listeners:
        rows.append(["LISTEN", f"{li.local_address}:{li.local_port}", "*:*", "", "", "", ""])
    for c in reply.connections:
        ssthresh = str(c.ssthresh) if c.HasField("ssthresh") else "inf"
        srtt = f"{c.srtt_ms:.2f}" if c.HasField("srtt_ms") else "-"
        rows.append(
            [
                c.state,
                f"{c.local_address}:{c.local_port}",
                f"{c.remote_address}:{c.remote_port}",
                f"{c.congestion_control} cwnd {c.cwnd} ssthresh {ssthresh}",
                f"srtt {srtt} rto {c.rto_ms:.0f}",
                f"mss {c.mss} pmtu {c.pmtu}",
                f"retrans {c.retrans} unacked {c.unacked_bytes}",
            ]
        )
    if not rows:
        return "no TCP connections or listeners"
    return table(["STATE", "LOCAL", "PEER", "CC", "RTT (ms)", "SIZES", "LOSS"], rows)


def counters(reply: node_pb2.GetCountersResponse) -> str:
    parts = []
    nonzero = [[k, str(v)] for k, v in sorted(reply.stack.items()) if v]
    parts.append(table(["STACK COUNTER", "VALUE"], nonzero) if nonzero else "stack: all zero")
    ports = [
        [name, k, str(v)]
        for name, pc in sorted(reply.ports.items())
        for k, v in sorted(pc.values.items())
        if v
    ]
    if ports:
        parts.append(table(["IFACE", "PORT COUNTER", "VALUE"], ports))
    io = [[k, str(v)] for k, v in sorted(reply.io.items()) if v]
    if io:
        parts.append(table(["IO COUNTER", "VALUE"], io))
    if reply.faults:
        rows = [
            [f.fault_id, f.spec.iface, counters_text(f.counters).rstrip()] for f in reply.faults
        ]
        parts.append(table(["FAULT", "IFACE", "COUNTERS"], rows))
    return "\n\n".join(parts)


def apps(nodes: Sequence[lab_pb2.NodeApps]) -> str:
    rows = [
        [
            n.node,
            a.app_id,
            "running" if a.running else "stopped",
            " ".join(f"{k}={v}" for k, v in sorted(a.stats.items())),
        ]
        for n in nodes
        for a in n.apps
    ]
    return table(["NODE", "APP", "STATE", "STATS"], rows) if rows else "no apps"


# ---- plots -------------------------------------------------------------------------------


def plot_transfer(reply: lab_pb2.TransferResponse, path: str, title: str = "") -> None:
    """cwnd, ssthresh (segments) and bytes in flight over time: the sawtooth."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    samples = list(reply.samples)
    t = [s.time_ms / 1000.0 for s in samples]
    mss = max(reply.final.mss, 1) if reply.HasField("final") else 1460
    fig, ax = plt.subplots(figsize=(9, 4.5))
    ax.step(t, [s.cwnd for s in samples], where="post", label="cwnd (segments)")
    ss_t = [x for x, s in zip(t, samples, strict=True) if s.HasField("ssthresh")]
    ss_v = [s.ssthresh for s in samples if s.HasField("ssthresh")]
    if ss_v:
        ax.step(ss_t, ss_v, where="post", linestyle="--", label="ssthresh (segments)")
    ax.plot(
        t,
        [s.inflight_bytes / mss for s in samples],
        alpha=0.7,
        label=f"in flight (bytes / mss {mss})",
    )
    ax.set_xlabel("time (s)")
    ax.set_ylabel("segments")
    ax.set_title(
        title
        or f"{reply.source_address} -> {reply.destination_address}: {bits(reply.goodput_bps)}, "
        f"{reply.retransmits} retransmits"
    )
    ax.grid(True, alpha=0.3)
    ax.legend(loc="upper left")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def _layout(names: list[str], edges: list[tuple[str, str]]) -> dict[str, tuple[float, float]]:
    """Fruchterman-Reingold from a circle (deterministic; small labs)."""
    import math

    n = max(len(names), 1)
    pos = {
        v: [math.cos(2 * math.pi * i / n), math.sin(2 * math.pi * i / n)]
        for i, v in enumerate(names)
    }
    k = math.sqrt(4.0 / n)
    temp = 0.2
    for _ in range(300):
        disp = {v: [0.0, 0.0] for v in names}
        for i, a in enumerate(names):
            for b in names[i + 1 :]:
                dx, dy = pos[a][0] - pos[b][0], pos[a][1] - pos[b][1]
                d = max(math.hypot(dx, dy), 1e-3)
                f = k * k / d
                disp[a][0] += dx / d * f
                disp[a][1] += dy / d * f
                disp[b][0] -= dx / d * f
                disp[b][1] -= dy / d * f
        for a, b in edges:
            dx, dy = pos[a][0] - pos[b][0], pos[a][1] - pos[b][1]
            d = max(math.hypot(dx, dy), 1e-3)
            f = d * d / k
            disp[a][0] -= dx / d * f
            disp[a][1] -= dy / d * f
            disp[b][0] += dx / d * f
            disp[b][1] += dy / d * f
        for v in names:
            dx, dy = disp[v]
            d = max(math.hypot(dx, dy), 1e-9)
            pos[v][0] += dx / d * min(d, temp)
            pos[v][1] += dy / d * min(d, temp)
        temp *= 0.985
    return {v: (p[0], p[1]) for v, p in pos.items()}


def plot_topology(lab: Lab, path: str) -> None:
    """Nodes (by kind), links with their subnets and interface addresses, LANs as hubs."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = [n.name for n in lab.nodes] + [f"lan:{s.name}" for s in lab.lans]
    edges: list[tuple[str, str]] = []
    for link in lab.links:
        a, b = link.endpoints
        edges.append((a.node, b.node))
    for lan in lab.lans:
        edges += [(f"lan:{lan.name}", m.node) for m in lan.members]
    pos = _layout(names, edges)
    colors = {"host": "#4c9be8", "router": "#f0a030", "linux": "#5cb85c"}
    fig, ax = plt.subplots(figsize=(8, 6))
    for link in lab.links:
        a, b = link.endpoints
        (x1, y1), (x2, y2) = pos[a.node], pos[b.node]
        ax.plot([x1, x2], [y1, y2], color="#888", zorder=1)
        ax.text(
            (x1 + x2) / 2,
            (y1 + y2) / 2,
            f"{link.name}\n{link.subnet}",
            fontsize=7,
            ha="center",
            va="center",
            color="#555",
            bbox={"facecolor": "white", "edgecolor": "none", "alpha": 0.8},
        )
        for ref, (xa, ya), (xb, yb) in ((a, (x1, y1), (x2, y2)), (b, (x2, y2), (x1, y1))):
            iface = lab.interface(ref)
            ax.text(
                xa + (xb - xa) * 0.22,
                ya + (yb - ya) * 0.22,
                f"{iface.name} .{str(iface.address).rsplit('.', 1)[1]}",
                fontsize=6,
                ha="center",
                va="center",
                color="#333",
            )
    for lan in lab.lans:
        hub = pos[f"lan:{lan.name}"]
        for m in lan.members:
            x, y = pos[m.node]
            ax.plot([hub[0], x], [hub[1], y], color="#888", zorder=1)
        ax.scatter([hub[0]], [hub[1]], s=300, marker="s", color="#ccc", zorder=2)
        ax.text(
            hub[0], hub[1] - 0.12, f"{lan.name}\n{lan.subnet}", fontsize=7, ha="center", va="top"
        )
    for node in lab.nodes:
        x, y = pos[node.name]
        ax.scatter(
            [x], [y], s=900, color=colors.get(node.kind.value, "#999"), zorder=3, edgecolors="black"
        )
        ax.text(x, y, node.name, ha="center", va="center", fontsize=9, zorder=4, fontweight="bold")
    for kind, color in colors.items():
        ax.scatter([], [], color=color, label=kind, s=80)
    ax.legend(loc="lower right", fontsize=8)
    ax.set_title(
        f"{lab.name}: {len(lab.nodes)} nodes, {len(lab.links)} links, {len(lab.lans)} LANs"
    )
    ax.axis("off")
    ax.margins(0.15)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
