"""The saturation guard around a measurement: snapshot the event-loop counters of every
node of ours before and after it, and name the nodes whose loop was CPU-bound meanwhile
(:mod:`nodes.io.load`). A node that does not answer is left out (its load is unknown)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

from nodes.io.load import busy_between
from orchestrator.domain.errors import LabError
from orchestrator.domain.results import NodeLoad

Snapshot = dict[str, Mapping[str, int]]


def snapshot(nodes: Iterable[str], read: Callable[[str], Mapping[str, int]]) -> Snapshot:
    """``read(node)``: the node's io counters (the agent's GetCounters ``io``)."""
    out: Snapshot = {}
    for node in nodes:
        try:
            out[node] = read(node)
        except LabError:
            continue
    return out


def loads(
    before: Mapping[str, Mapping[str, int]], after: Mapping[str, Mapping[str, int]]
) -> tuple[NodeLoad, ...]:
    """Each node's load between the snapshots, in the order of ``after``."""
    out = []
    for node, values in after.items():
        prior = before.get(node)
        figures = None if prior is None else busy_between(prior, values)
        if figures is None:
            continue
        out.append(NodeLoad(
            node=node, busy_fraction=round(figures.busy_fraction, 4),
            late_fraction=round(figures.late_fraction, 4), wakeups=figures.wakeups,
            wall_s=round(figures.seconds, 6), saturated=figures.saturated,
        ))  # fmt: skip
    return tuple(out)


def saturated(found: Iterable[NodeLoad]) -> tuple[str, ...]:
    return tuple(load.node for load in found if load.saturated)
