"""Topology -> the agent's Configure messages: what the orchestrator sends each host and
router of a planned lab (``topology.load_file(...)``). Linux-kind nodes have no agent."""

from __future__ import annotations

from wirelab.v1 import common_pb2, node_pb2

from topology import Lab, Node, NodeKind, StackOptions

_KINDS = {NodeKind.HOST: node_pb2.NODE_KIND_HOST, NodeKind.ROUTER: node_pb2.NODE_KIND_ROUTER}


def stack_options(opts: StackOptions) -> common_pb2.StackOptions:
    """Every option, explicitly (a planned lab has them all resolved)."""
    return common_pb2.StackOptions(
        congestion_control=opts.congestion_control,
        msl_ms=opts.msl * 1000.0,
        syn_retries=opts.syn_retries,
        synack_retries=opts.synack_retries,
        retries1=opts.retries1,
        retries2=opts.retries2,
        orphan_retries=opts.orphan_retries,
        fin_timeout_ms=opts.fin_timeout * 1000.0,
        delayed_ack=opts.delayed_ack,
        sack=opts.sack,
        timestamps=opts.timestamps,
        wscale=opts.wscale,
        syncookies=opts.syncookies,
        initial_cwnd=opts.initial_cwnd,
        hystart=opts.hystart,
        tlp=opts.tlp,
        rto_min_ms=opts.rto_min * 1000.0,
        ttl=opts.ttl,
        arp_reachable_ms=opts.arp_reachable * 1000.0,
        arp_retries=opts.arp_retries,
        reassembly_timeout_ms=opts.reassembly_timeout * 1000.0,
        mtu_probing=opts.mtu_probing,
        base_mss=opts.base_mss,
    )


def configure_request(
    lab: Lab, node: str | Node, *, seed: int | None = None
) -> node_pb2.ConfigureRequest:
    """The Configure message of one host or router node of ``lab``."""
    n = lab.node(node) if isinstance(node, str) else node
    if n.kind not in _KINDS:
        raise ValueError(f"node {n.name} is a {n.kind.value} node: it runs no node agent")
    req = node_pb2.ConfigureRequest(
        name=n.name,
        kind=_KINDS[n.kind],
        lab=lab.name,
        stack=stack_options(n.stack),
        interfaces=[
            node_pb2.InterfaceConfig(
                name=i.name, address=str(i.address), prefix_len=i.network.prefixlen,
                mac=i.mac_str, mtu=i.mtu,
            )
            for i in n.interfaces
        ],
        routes=[
            node_pb2.RouteConfig(prefix=str(r.dst), gateway=str(r.via), iface=r.dev)
            for r in n.routes
        ],
        apps=[node_pb2.AppConfig(kind=a.kind.value, port=a.port) for a in n.apps],
    )  # fmt: skip
    if seed is not None:
        req.seed = seed
    return req


def configure_requests(
    lab: Lab, *, seed: int | None = None
) -> dict[str, node_pb2.ConfigureRequest]:
    """Every host and router of ``lab`` (seeded per node when ``seed`` is given)."""
    return {
        n.name: configure_request(lab, n, seed=None if seed is None else seed + i)
        for i, n in enumerate(lab.nodes)
        if n.kind in _KINDS
    }
