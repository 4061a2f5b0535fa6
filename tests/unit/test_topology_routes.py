"""routes: auto -- every node reaches every subnet over shortest paths, deterministically."""

from __future__ import annotations

from collections import deque
from ipaddress import IPv4Address, IPv4Network
from pathlib import Path

import pytest

from topology import Lab, RouteMode, load_file, load_text
from topology.routes import forward_path, lookup

EXAMPLES = sorted((Path(__file__).resolve().parents[2] / "topology" / "examples").glob("*.yaml"))
# routes computed at deploy: every example but those whose routers run RIP (the routes
# they learn are tested in tests/sim/test_sim_rip.py and tests/docker/test_docker_rip.py)
STATIC = [p for p in EXAMPLES if "routing: rip" not in p.read_text()]


def node_hops(lab: Lab, src: str) -> dict[str, int]:
    """Reference BFS: hops from src to every node it can reach; only routers forward."""
    adjacency: dict[str, set[str]] = {n.name: set() for n in lab.nodes}
    for segment in lab.segments:
        for a in segment.members:
            adjacency[a.node] |= {b.node for b in segment.members if b.node != a.node}
    dist = {src: 0}
    queue = deque([src])
    while queue:
        current = queue.popleft()
        if current != src and not lab.node(current).forwards:
            continue
        for peer in sorted(adjacency[current]):
            if peer not in dist:
                dist[peer] = dist[current] + 1
                queue.append(peer)
    return dist


def toward_segment(lab: Lab, src: str, segment: str) -> int:
    """Fewest hops from src onto ``segment`` then to a member: what routing toward the
    segment's subnet costs at most."""
    attached = {ref.node for ref in lab.segment(segment).members}
    if src in attached:
        return 1
    dist = node_hops(lab, src)
    return 1 + min(dist[r] for r in attached if r in dist and lab.node(r).forwards)


@pytest.mark.parametrize("path", STATIC, ids=lambda p: p.stem)
def test_every_node_reaches_every_address_over_a_shortest_path(path: Path) -> None:
    lab = load_file(path)
    for src in lab.nodes:
        for dst in lab.nodes:
            for iface in dst.interfaces:
                hops = forward_path(lab, src.name, iface.address)
                assert hops is not None, (src.name, str(iface.address))
                assert hops[-1] == dst.name
                if src.name == dst.name:
                    assert hops == [src.name]
                    continue
                # at least the fewest hops to dst, at most the shortest way onto the subnet
                assert node_hops(lab, src.name)[dst.name] <= len(hops) - 1
                assert len(hops) - 1 <= toward_segment(lab, src.name, iface.segment)


def test_line_of_routers_paths_and_tables() -> None:
    lab = load_file(next(p for p in EXAMPLES if p.stem == "line4"))
    h2 = lab.node("h2").interfaces[0].address
    assert forward_path(lab, "h1", h2) == ["h1", "r1", "r2", "r3", "r4", "h2"]
    r2 = lab.node("r2")
    assert len(r2.routes) == len(lab.segments) - 2  # every subnet not connected to r2
    assert all(r.origin is RouteMode.AUTO for r in r2.routes)
    (default,) = lab.node("h1").routes
    assert default.is_default and default.via == lab.node("r1").interface("eth0").address


DIAMOND = """\
name: d
nodes:
  r1: {kind: router}
  r2: {kind: router}
  r3: {kind: router}
  r4: {kind: router}
  h: {kind: host}
links:
  - endpoints: [r1:IF_A, r2]
  - endpoints: [r1:IF_B, r3]
  - endpoints: [r2, r4]
  - endpoints: [r3, r4]
  - endpoints: [r4, h]
"""


def test_diamond_tie_break_follows_the_first_interface() -> None:
    lab = load_text(DIAMOND.replace("IF_A", "eth0").replace("IF_B", "eth1"))
    h = lab.node("h").interfaces[0].address
    assert forward_path(lab, "r1", h) == ["r1", "r2", "r4", "h"]
    swapped = load_text(DIAMOND.replace("IF_A", "eth1").replace("IF_B", "eth0"))
    assert forward_path(swapped, "r1", h) == ["r1", "r3", "r4", "h"]
    assert load_text(DIAMOND.replace("IF_A", "eth0").replace("IF_B", "eth1")) == lab


def test_diamond_example_is_deterministic() -> None:
    path = next(p for p in EXAMPLES if p.stem == "diamond")
    lab = load_file(path)
    h2 = lab.node("h2").interfaces[0].address
    assert forward_path(lab, "h1", h2) == ["h1", "r1", "r2", "r4", "h2"]
    assert load_file(path) == lab


def test_hosts_do_not_forward() -> None:
    lab = load_text(
        "name: t\nnodes:\n  r1: {kind: router}\n  h: {kind: host}\n  r2: {kind: router}\n"
        "  x: {kind: host}\nlinks:\n  - endpoints: [r1, h]\n  - endpoints: [h, r2]\n"
        "  - endpoints: [r2, x]\n"
    )
    x = lab.node("x").interfaces[0].address
    assert forward_path(lab, "r1", x) is None
    assert lab.node("r1").routes == ()
    # h is on both sides: default via r1 (first), a specific route for x's subnet via r2
    h_routes = {str(r.dst): (str(r.via), r.dev) for r in lab.node("h").routes}
    assert h_routes == {
        "0.0.0.0/0": (str(lab.node("r1").interfaces[0].address), "eth0"),
        str(lab.segment("r2-x").subnet): (str(lab.node("r2").interface("eth0").address), "eth1"),
    }


def test_host_on_a_lan_with_two_routers_gets_specific_routes_only_where_shorter() -> None:
    lab = load_text(
        "name: t\nnodes:\n  h: {kind: host}\n  ra: {kind: router}\n  rb: {kind: router}\n"
        "  sa: {kind: host}\n  sb: {kind: host}\n"
        "lans:\n  l: {members: [h, ra, rb]}\n"
        "links:\n  - endpoints: [ra, sa]\n  - endpoints: [rb, sb]\n"
    )
    routes = lab.node("h").routes
    assert [str(r.dst) for r in routes] == ["0.0.0.0/0", str(lab.segment("rb-sb").subnet)]
    assert routes[0].via == lab.node("ra").interfaces[-1].address
    for name in ("sa", "sb"):
        dst = lab.node(name).interfaces[0].address
        assert forward_path(lab, "h", dst) is not None
        assert len(forward_path(lab, "h", dst) or []) == 3


def test_routes_none_and_explicit_routes() -> None:
    lab = load_text(
        "name: t\nroutes: none\nnodes:\n"
        "  h1:\n    kind: host\n    routes:\n      - {dst: default, via: 10.7.1.3}\n"
        "      - {dst: 10.8.0.0/16, via: 10.7.1.3, dev: eth0}\n"
        "  r1: {kind: router, routes: auto}\n  h2: {kind: host}\n"
        "pool: 10.7.0.0/16\nlinks:\n  - endpoints: [h1, r1]\n  - endpoints: [r1, h2]\n"
    )
    assert lab.route_mode is RouteMode.NONE
    h1 = lab.node("h1")
    assert h1.route_mode is RouteMode.STATIC
    assert [(str(r.dst), str(r.via), r.dev, r.origin) for r in h1.routes] == [
        ("0.0.0.0/0", "10.7.1.3", "eth0", RouteMode.STATIC),
        ("10.8.0.0/16", "10.7.1.3", "eth0", RouteMode.STATIC),
    ]
    assert lab.node("h2").routes == ()
    assert lab.node("r1").route_mode is RouteMode.AUTO
    assert lab.node("r1").routes == ()  # both subnets are connected to r1
    assert lookup(h1, IPv4Address("10.8.1.1")) == (h1.interfaces[0], IPv4Address("10.7.1.3"))
    assert lookup(lab.node("h2"), IPv4Address("10.7.1.2")) is None


def test_routes_cover_every_remote_subnet_for_routers() -> None:
    lab = load_file(next(p for p in EXAMPLES if p.stem == "lan"))
    r1 = lab.node("r1")
    connected = {i.network for i in r1.interfaces}
    remote = {s.subnet for s in lab.segments} - connected
    assert {r.dst for r in r1.routes} == remote
    assert IPv4Network("0.0.0.0/0") not in {r.dst for r in r1.routes}


LINUX_LINE = """\
name: t
nodes:
  a: {kind: linux}
  lr1: {kind: linux, forward: FWD}
  r2: {kind: router}
  b: {kind: host}
links:
  - endpoints: [a, lr1]
  - endpoints: [lr1, r2]
  - endpoints: [r2, b]
"""


def test_forwarding_linux_nodes_are_routers() -> None:
    lab = load_text(LINUX_LINE.replace("FWD", "true"))
    lr1, r2 = lab.node("lr1"), lab.node("r2")
    b = lab.node("b").interfaces[0].address
    a = lab.node("a").interfaces[0].address
    assert forward_path(lab, "a", b) == ["a", "lr1", "r2", "b"]
    assert forward_path(lab, "b", a) == ["b", "r2", "lr1", "a"]
    # a route per remote subnet and no default, like our router
    assert [(str(r.dst), r.via, r.dev) for r in lr1.routes] == [
        (str(lab.segment("r2-b").subnet), r2.interface("eth0").address, "eth1")
    ]
    assert [str(r.dst) for r in r2.routes] == [str(lab.segment("a-lr1").subnet)]
    # the linux host uses it as its gateway
    (default,) = lab.node("a").routes
    assert default.is_default and default.via == lr1.interface("eth0").address


def test_a_linux_node_without_forward_stays_a_host() -> None:
    lab = load_text(LINUX_LINE.replace("FWD", "false"))
    b = lab.node("b").interfaces[0].address
    assert forward_path(lab, "a", b) is None
    assert lab.node("a").routes == ()  # no router neighbour
    # lr1 is an end host on r2's side: a default route via r2
    assert [str(r.dst) for r in lab.node("lr1").routes] == ["0.0.0.0/0"]
    assert lab.node("r2").routes == ()  # nothing beyond lr1 is reachable


def test_forwarding_linux_node_with_routes_none_gets_only_connected_routes() -> None:
    lab = load_text(LINUX_LINE.replace("forward: FWD", "forward: true, routes: none"))
    assert lab.node("lr1").routes == ()
    assert lab.node("lr1").forwards
