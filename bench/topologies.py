"""The benchmark topologies, generated as YAML text (the format of topology/README.md).

``path_lab``: the measurement lab. Our path h1 -- r1 -- h2 (h2 runs sink:5001 and
echo:7); optionally kernel endpoints around OUR router (ka -- r1 -- kb: the Linux stack
at both ends, our router between them), a linux node ``kc`` on r1 that runs our stack
standalone as an echo client, and the Linux reference path lx1 -- lxr -- lx2 (all three
linux-kind; lxr is a Linux-kernel router, ``forward: true``, so the planner routes the two
ends through it like through r1).

``router_line``, ``fan_line`` and ``lan_line``: deploy-time labs (10 routers in a line; N
nodes; routers in a line each with a LAN of hosts, the 100-node lab of issue 11).

``spread``: any of them across the hosts of a swarm (the swarm backend), every node pinned
with ``placement:`` to another host than its neighbours, the hosts evenly loaded.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, cast

import yaml


@dataclass(frozen=True, slots=True)
class PathLabParts:
    kernel_ends: bool = True  # ka -- r1 -- kb (linux endpoints, our router)
    rr_client: bool = True  # kc -- r1: our stack standalone in a linux node (echo client)
    linux_path: bool = True  # lx1 -- lxr -- lx2 (the Linux reference)


def _dump(doc: dict[str, object]) -> str:
    return yaml.safe_dump(doc, sort_keys=False, default_flow_style=None)


def path_lab(name: str, *, mtu: int = 1500, parts: PathLabParts | None = None) -> str:
    return _dump(_path_lab(name, mtu=mtu, parts=parts))


def _path_lab(name: str, *, mtu: int, parts: PathLabParts | None) -> dict[str, object]:
    parts = parts or PathLabParts()
    nodes: dict[str, object] = {
        "h1": {"kind": "host"},
        "r1": {"kind": "router"},
        "h2": {"kind": "host", "apps": ["sink:5001", "echo:7"]},
    }
    links: list[dict[str, object]] = [
        {"endpoints": ["h1:eth0", "r1:eth0"], "name": "h1-r1"},
        {"endpoints": ["r1:eth1", "h2:eth0"], "name": "r1-h2"},
    ]
    next_if = 2
    if parts.kernel_ends:
        nodes["ka"] = {"kind": "linux"}
        nodes["kb"] = {"kind": "linux"}
        links.append({"endpoints": ["ka:eth0", f"r1:eth{next_if}"], "name": "ka-r1"})
        links.append({"endpoints": [f"r1:eth{next_if + 1}", "kb:eth0"], "name": "r1-kb"})
        next_if += 2
    if parts.rr_client:
        nodes["kc"] = {"kind": "linux"}
        links.append({"endpoints": ["kc:eth0", f"r1:eth{next_if}"], "name": "kc-r1"})
        next_if += 1
    if parts.linux_path:
        # lxr: a Linux-kernel router (created with ip_forward=1); lx1 and lx2 get a default
        # route via it from the planner
        nodes["lx1"] = {"kind": "linux"}
        nodes["lxr"] = {"kind": "linux", "forward": True}
        nodes["lx2"] = {"kind": "linux"}
        links.append({"endpoints": ["lx1:eth0", "lxr:eth0"], "name": "lx1-lxr"})
        links.append({"endpoints": ["lxr:eth1", "lx2:eth0"], "name": "lxr-lx2"})
    return {"name": name, "defaults": {"mtu": mtu}, "nodes": nodes, "links": links}


def three_nodes(name: str) -> str:
    """h1 -- r1 -- h2: the smallest routed lab."""
    return path_lab(name, parts=PathLabParts(False, False, False))


def router_line(name: str, routers: int = 10) -> str:
    """h1 -- r1 -- ... -- rN -- h2."""
    if routers < 1:
        raise ValueError("at least one router")
    chain = ["h1", *(f"r{k}" for k in range(1, routers + 1)), "h2"]
    nodes: dict[str, object] = {
        n: {"kind": "router" if n.startswith("r") else "host"} for n in chain
    }
    links = [{"endpoints": [a, b]} for a, b in itertools.pairwise(chain)]
    return _dump({"name": name, "nodes": nodes, "links": links})


def fan_line(name: str, nodes: int = 50, hosts_per_router: int = 4) -> str:
    """Routers in a line, each with up to ``hosts_per_router`` hosts: ``nodes`` in all
    (50 -> 10 routers, 40 hosts, 49 links)."""
    return _dump(_fan_line(name, nodes, hosts_per_router))


def _fan_line(name: str, nodes: int, hosts_per_router: int) -> dict[str, object]:
    if nodes < 2 or hosts_per_router < 1:
        raise ValueError("at least 2 nodes and 1 host per router")
    routers = max(1, -(-nodes // (hosts_per_router + 1)))
    hosts = nodes - routers
    doc_nodes: dict[str, object] = {f"r{k}": {"kind": "router"} for k in range(1, routers + 1)}
    links: list[dict[str, object]] = [
        {"endpoints": [f"r{k}", f"r{k + 1}"]} for k in range(1, routers)
    ]
    for i in range(hosts):
        host = f"h{i + 1}"
        doc_nodes[host] = {"kind": "host"}
        links.append({"endpoints": [f"r{i % routers + 1}", host]})
    return {"name": name, "nodes": doc_nodes, "links": links}


def lan_line(name: str, routers: int = 20, hosts_per_lan: int = 4) -> str:
    """Routers in a line (``r1 -- r2 -- ... -- rN``), each with a LAN of its own holding it
    and ``hosts_per_lan`` hosts (``h<router>-<k>``): 20 routers, 80 hosts, 20 LANs and 19
    links by default (100 nodes; h1-1 reaches h20-1 through all 20 routers: 21 hops)."""
    if routers < 1 or hosts_per_lan < 1:
        raise ValueError("at least one router and one host per LAN")
    doc_nodes: dict[str, object] = {f"r{k}": {"kind": "router"} for k in range(1, routers + 1)}
    lans: dict[str, object] = {}
    for k in range(1, routers + 1):
        hosts = [f"h{k}-{j}" for j in range(1, hosts_per_lan + 1)]
        doc_nodes |= {h: {"kind": "host"} for h in hosts}
        lans[f"lan{k}"] = {"members": [f"r{k}", *hosts]}
    links: list[dict[str, object]] = [
        {"endpoints": [f"r{k}", f"r{k + 1}"]} for k in range(1, routers)
    ]
    doc: dict[str, object] = {"name": name, "nodes": doc_nodes, "lans": lans}
    if links:
        doc["links"] = links
    return _dump(doc)


# ---- across the hosts of a swarm -----------------------------------------------------------


def spread(doc: dict[str, Any], hosts: Sequence[str]) -> dict[str, Any]:
    """``doc`` (a topology as a dict) with every node pinned to one of ``hosts`` by its
    ``placement``: in declaration order, each node goes to the least loaded host (the first
    of a tie) among those none of its placed neighbours is on, so that every link and LAN
    crosses hosts wherever there are hosts enough. ``doc`` itself is not changed."""
    if not hosts:
        raise ValueError("at least one host")
    nodes = cast(dict[str, dict[str, object]], doc["nodes"])
    segments = [[str(e).partition(":")[0] for e in link["endpoints"]] for link in doc["links"]]
    segments += [[str(m) for m in lan["members"]] for lan in doc.get("lans", {}).values()]
    neighbours: dict[str, set[str]] = {n: set() for n in nodes}
    for members in segments:
        for m in members:
            neighbours[m] |= set(members) - {m}
    load = dict.fromkeys(hosts, 0)
    where: dict[str, str] = {}
    for node in nodes:
        taken = {where[n] for n in neighbours[node] if n in where}
        host = min([h for h in hosts if h not in taken] or list(hosts), key=load.__getitem__)
        where[node] = host
        load[host] += 1
    placed = {n: {**spec, "placement": where[n]} for n, spec in nodes.items()}
    return {**doc, "nodes": placed}


def swarm_fan_line(name: str, hosts: Sequence[str], nodes: int = 50) -> str:
    """:func:`fan_line` spread over ``hosts`` (:func:`spread`): with three hosts, every one
    of the 49 links of the 50-node lab is an overlay between two hosts."""
    return _dump(spread(_fan_line(name, nodes, 4), hosts))


def swarm_path_lab(name: str, hosts: Sequence[str], *, parts: PathLabParts | None = None) -> str:
    """:func:`path_lab` spread over ``hosts``: with three, h1, r1, h2 on the first, second
    and third host, and the Linux path lx1, lxr, lx2 likewise (both cross every host)."""
    return _dump(spread(_path_lab(name, mtu=1500, parts=parts), hosts))
