"""Static routes for ``routes: auto``: shortest paths (hop count) over routers.

* Only routers forward: ``router`` nodes and ``linux`` nodes with ``forward: true`` (a
  Linux-kernel router); "router" below means either. For every subnet, a breadth-first
  search starts at the routers attached to it; every node the search reaches gets a route
  to that subnet.
* Ties between equal-cost next hops go to the node's first interface (natural name order:
  eth0, eth1, ...), then to the first member of that link or LAN: deterministic.
* Routers get one route per remote subnet and no default route.
* Hosts and non-forwarding linux nodes get a default route via their first router
  neighbour (same order), plus specific routes only for subnets another neighbour reaches
  in fewer hops.
* A node with ``routing: rip`` gets none (RIP learns them); an explicit list stays (RIP
  redistributes it).

:func:`forward_path` follows the planned tables hop by hop (what the stacks will do).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import replace
from ipaddress import IPv4Address, IPv4Network

from topology.declared import RouteFile
from topology.model import Interface, Lab, Node, Route, RouteMode, Routing, Segment

DEFAULT = IPv4Network("0.0.0.0/0")


class _Graph:
    def __init__(self, lab: Lab) -> None:
        self.nodes = {n.name: n for n in lab.nodes}
        self.segments = {s.name: s for s in lab.segments}

    def forwards(self, name: str) -> bool:
        return self.nodes[name].forwards

    def neighbours(self, name: str) -> list[tuple[Interface, Interface]]:
        """(own interface, neighbour's interface) in tie-break order."""
        out = []
        for iface in self.nodes[name].interfaces:
            for ref in self.segments[iface.segment].members:
                if ref.node != name:
                    out.append((iface, self.nodes[ref.node].interface(ref.iface)))
        return out

    def distances(self, segment: Segment) -> dict[str, int]:
        """Hops from each node to ``segment`` (0: attached), forwarding through routers."""
        dist = {ref.node: 0 for ref in segment.members}
        queue = deque(ref.node for ref in segment.members if self.forwards(ref.node))
        while queue:
            current = queue.popleft()
            for _, peer in self.neighbours(current):
                if peer.node not in dist:
                    dist[peer.node] = dist[current] + 1
                    if self.forwards(peer.node):
                        queue.append(peer.node)
        return dist


def compute_routes(lab: Lab, explicit: Mapping[str, Sequence[RouteFile]]) -> Lab:
    """The lab with every node's static routes: computed, explicit or none by its mode."""
    graph = _Graph(lab)
    auto: dict[str, list[Route]] = {n.name: [] for n in lab.nodes}
    hops: dict[str, dict[str, int]] = {}
    for segment in lab.segments:
        dist = graph.distances(segment)
        hops[segment.name] = dist
        for name, d in dist.items():
            if d == 0:
                continue
            own, peer = next(
                (own, peer)
                for own, peer in graph.neighbours(name)
                if graph.forwards(peer.node) and dist.get(peer.node) == d - 1
            )
            auto[name].append(Route(segment.subnet, peer.address, own.name, RouteMode.AUTO))
    nodes = []
    for node in lab.nodes:
        if node.route_mode is RouteMode.STATIC:
            routes = [_explicit(node, r) for r in explicit.get(node.name, ())]
        elif node.route_mode is RouteMode.NONE or node.routing is Routing.RIP:
            routes = []  # a RIP node learns its routes
        elif node.forwards:
            routes = auto[node.name]
        else:
            routes = _host_routes(graph, node, auto[node.name], hops)
        routes.sort(key=lambda r: (r.dst.network_address, r.dst.prefixlen))
        nodes.append(replace(node, routes=tuple(routes)))
    return replace(lab, nodes=tuple(nodes))


def _host_routes(
    graph: _Graph, node: Node, routes: list[Route], hops: dict[str, dict[str, int]]
) -> list[Route]:
    gateway = next(
        ((own, peer) for own, peer in graph.neighbours(node.name) if graph.forwards(peer.node)),
        None,
    )
    if gateway is None:
        return routes
    own, peer = gateway
    out = [Route(DEFAULT, peer.address, own.name, RouteMode.AUTO)]
    subnet_segment = {s.subnet: name for name, s in graph.segments.items()}
    for route in routes:
        dist = hops[subnet_segment[route.dst]]
        via_gateway = dist.get(peer.node)
        if via_gateway is None or via_gateway + 1 > dist[node.name]:
            out.append(route)
    return out


def _explicit(node: Node, spec: RouteFile) -> Route:
    iface = next(i for i in node.interfaces if spec.via in i.network)
    return Route(spec.dst, spec.via, spec.dev or iface.name, RouteMode.STATIC)


def lookup(node: Node, dst: IPv4Address) -> tuple[Interface, IPv4Address] | None:
    """Longest-prefix match over connected subnets and static routes: (egress interface, next
    hop address), or None without a route. Connected subnets win ties."""
    best: tuple[int, Interface, IPv4Address] | None = None
    for iface in node.interfaces:
        if dst in iface.network and (best is None or iface.network.prefixlen > best[0]):
            best = (iface.network.prefixlen, iface, dst)
    for route in node.routes:
        if dst in route.dst and (best is None or route.dst.prefixlen > best[0]):
            best = (route.dst.prefixlen, node.interface(route.dev), route.via)
    return None if best is None else (best[1], best[2])


def forward_path(lab: Lab, src: str, dst: IPv4Address, max_hops: int = 64) -> list[str] | None:
    """The node names a packet from ``src`` to ``dst`` visits (src first, the owner of ``dst``
    last), following the planned tables; None when it is dropped or loops."""
    owners = {i.address: n.name for n in lab.nodes for i in n.interfaces}
    path = [src]
    current = lab.node(src)
    for _ in range(max_hops):
        if owners.get(dst) == current.name:
            return path
        if len(path) > 1 and not current.forwards:
            return None
        hop = lookup(current, dst)
        if hop is None:
            return None
        iface, next_hop = hop
        segment = lab.segment(iface.segment)
        peer = next((r.node for r in segment.members if lab.interface(r).address == next_hop), None)
        if peer is None:
            return None
        current = lab.node(peer)
        path.append(peer)
    return None
