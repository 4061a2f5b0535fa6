"""bench.topologies: the generated labs load, validate and have the planned shape."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

import topology
from bench.topologies import (
    PathLabParts,
    fan_line,
    lan_line,
    path_lab,
    router_line,
    spread,
    swarm_fan_line,
    swarm_path_lab,
    three_nodes,
)
from orchestrator.lab.backends.swarm import SwarmNode, place
from orchestrator.lab.swarmlab import SwarmLab
from topology import Lab, NodeKind
from topology.routes import forward_path

SWARM_HOSTS = [d.name for d in SwarmLab().daemons]  # make swarm-test's three daemons


def test_path_lab_has_our_path_kernel_ends_and_linux_path() -> None:
    lab = topology.load_text(path_lab("bt-path"))
    kinds = {n.name: n.kind for n in lab.nodes}
    assert kinds["r1"] is NodeKind.ROUTER and kinds["h1"] is NodeKind.HOST
    assert {kinds[n] for n in ("ka", "kb", "kc", "lx1", "lxr", "lx2")} == {NodeKind.LINUX}
    assert {str(a) for a in lab.node("h2").apps} == {"sink:5001", "echo:7"}
    # kernel ends route through our router, the linux ends through the Linux-kernel router
    assert [str(r.dst) for r in lab.node("ka").routes] == ["0.0.0.0/0"]
    assert lab.node("lxr").forwards and len(lab.node("lxr").interfaces) == 2
    for end in ("lx1", "lx2"):
        (default,) = lab.node(end).routes
        assert default.is_default and default.via in {i.address for i in lab.node("lxr").interfaces}
    path = forward_path(lab, "lx1", lab.node("lx2").interfaces[0].address)
    assert path == ["lx1", "lxr", "lx2"]


def test_path_lab_mtu_and_parts() -> None:
    lab = topology.load_text(path_lab("bt-j", mtu=9000, parts=PathLabParts(False, False, True)))
    assert {n.name for n in lab.nodes} == {"h1", "r1", "h2", "lx1", "lxr", "lx2"}
    assert {i.mtu for n in lab.nodes for i in n.interfaces} == {9000}


def test_three_nodes_and_router_line() -> None:
    assert [n.name for n in topology.load_text(three_nodes("bt-3")).nodes] == ["h1", "r1", "h2"]
    lab = topology.load_text(router_line("bt-l", 10))
    assert len(lab.nodes) == 12 and len(lab.segments) == 11
    assert sum(n.kind is NodeKind.ROUTER for n in lab.nodes) == 10
    # h1 reaches h2 through all ten routers
    path = forward_path(lab, "h1", lab.node("h2").interfaces[0].address)
    assert path is not None and len(path) == 12


@pytest.mark.parametrize(("nodes", "routers"), [(50, 10), (12, 3), (2, 1)])
def test_fan_line_node_count(nodes: int, routers: int) -> None:
    lab = topology.load_text(fan_line(f"bt-f{nodes}", nodes))
    assert len(lab.nodes) == nodes
    assert sum(n.kind is NodeKind.ROUTER for n in lab.nodes) == routers
    assert len(lab.segments) == nodes - 1


def test_generators_reject_nonsense() -> None:
    with pytest.raises(ValueError):
        router_line("bt-x", 0)
    with pytest.raises(ValueError):
        fan_line("bt-y", 1)


def test_lan_line_is_the_100_node_lab_of_issue_11() -> None:
    lab = topology.load_text(lan_line("bt-n100"))
    kinds = [n.kind for n in lab.nodes]
    assert len(lab.nodes) == 100
    assert kinds.count(NodeKind.ROUTER) == 20 and kinds.count(NodeKind.HOST) == 80
    lans = [s for s in lab.segments if len(s.members) > 2]
    assert len(lans) == 20 and all(len(s.members) == 5 for s in lans)
    assert len(lab.segments) == 20 + 19  # the LANs and the links between the routers
    # a host of the first LAN reaches one of the last across every router: 21 hops
    path = forward_path(lab, "h1-1", lab.node("h20-1").interfaces[0].address)
    assert path is not None and len(path) == 22
    small = topology.load_text(lan_line("bt-n3", routers=1, hosts_per_lan=2))
    assert [n.name for n in small.nodes] == ["r1", "h1-1", "h1-2"] and len(small.segments) == 1
    with pytest.raises(ValueError):
        lan_line("bt-z", 0)


def _within_a_host(lab: Lab) -> list[str]:
    """The segments with two members on one host (not an overlay between hosts)."""
    where = {n.name: n.placement for n in lab.nodes}
    return [
        s.name for s in lab.segments if len({where[m.node] for m in s.members}) != len(s.members)
    ]


def test_swarm_fan_line_spreads_50_nodes_over_all_three_daemons() -> None:
    lab = topology.load_text(swarm_fan_line("bt-sw50", SWARM_HOSTS))
    assert len(lab.nodes) == 50 and len(lab.segments) == 49
    counts = Counter(n.placement for n in lab.nodes)
    assert set(counts) == set(SWARM_HOSTS) == {"wlsw-d1", "wlsw-d2", "wlsw-d3"}
    assert max(counts.values()) - min(counts.values()) <= 1
    assert _within_a_host(lab) == []  # every link is an overlay between two daemons
    # the swarm backend places every node where its placement pins it
    swarm = [SwarmNode(h, {}, f"unix:///{h}.sock", True) for h in SWARM_HOSTS]
    assert place(lab, swarm) == {n.name: n.placement for n in lab.nodes}
    # the same lab as deploy_50_s apart from the placements
    plain = topology.load_text(fan_line("bt-sw50"))
    assert [(n.name, n.kind) for n in plain.nodes] == [(n.name, n.kind) for n in lab.nodes]


def test_swarm_path_lab_puts_each_node_of_a_path_on_its_own_daemon() -> None:
    parts = PathLabParts(kernel_ends=False, rr_client=False, linux_path=True)
    lab = topology.load_text(swarm_path_lab("bt-swp", SWARM_HOSTS, parts=parts))
    where = {n.name: n.placement for n in lab.nodes}
    assert [where[n] for n in ("h1", "r1", "h2")] == SWARM_HOSTS
    assert [where[n] for n in ("lx1", "lxr", "lx2")] == SWARM_HOSTS
    assert {str(a) for a in lab.node("h2").apps} == {"sink:5001", "echo:7"}


def test_spread_on_lans_and_with_too_few_hosts() -> None:
    doc: dict[str, Any] = {
        "name": "x",
        "nodes": {n: {} for n in "abcd"},
        "links": [{"endpoints": ["a:eth0", "b"]}],
        "lans": {"l": {"members": ["b", "c", "d"]}},
    }
    placed = spread(doc, ["x", "y", "z"])["nodes"]
    assert len({placed[n]["placement"] for n in "bcd"}) == 3  # a LAN's members too
    assert "placement" not in doc["nodes"]["a"]  # doc itself is not changed
    assert placed["a"]["placement"] != placed["b"]["placement"]
    one = spread(doc, ["only"])["nodes"]  # one host: all on it
    assert {v["placement"] for v in one.values()} == {"only"}
    with pytest.raises(ValueError):
        spread(doc, [])
