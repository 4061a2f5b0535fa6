"""Plots with matplotlib (control plane only; imported when a command draws): a
transfer's congestion window over time and a topology's graph. SVG, PNG or PDF by the
file's extension."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from orchestrator.domain.results import TransferReport
from topology import Lab

if TYPE_CHECKING:
    from matplotlib.axes import Axes


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_transfer(report: TransferReport, path: str, title: str = "") -> None:
    """cwnd, ssthresh (segments) and bytes in flight over time: the sawtooth."""
    from orchestrator.cli.render import rate

    plt = _pyplot()
    samples = list(report.samples)
    t = [s.time_ms / 1000.0 for s in samples]
    mss = max(report.final.mss, 1) if report.final is not None else 1460
    fig, ax = plt.subplots(figsize=(9, 4.5))
    axes: Axes = ax
    axes.step(t, [s.cwnd for s in samples], where="post", label="cwnd (segments)")
    ss_t = [x for x, s in zip(t, samples, strict=True) if s.ssthresh is not None]
    ss_v = [s.ssthresh for s in samples if s.ssthresh is not None]
    if ss_v:
        axes.step(ss_t, ss_v, where="post", linestyle="--", label="ssthresh (segments)")
    axes.plot(
        t,
        [s.inflight_bytes / mss for s in samples],
        alpha=0.7,
        label=f"in flight (bytes / mss {mss})",
    )
    axes.set_xlabel("time (s)")
    axes.set_ylabel("segments")
    axes.set_title(
        title
        or f"{report.source_address} -> {report.destination_address}: "
        f"{rate(report.goodput_bps)}, {report.retransmits} retransmits"
    )
    axes.grid(True, alpha=0.3)
    axes.legend(loc="upper left")
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
    plt = _pyplot()
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
