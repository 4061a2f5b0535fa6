"""Domain -> proto: build response messages from the stack's and the apps' objects."""

from __future__ import annotations

import math
from collections.abc import Iterable

from wirelab.v1 import common_pb2, node_pb2

from nodes.agent import events as ev
from nodes.agent.config import Kind
from nodes.agent.jobs import BulkOutcome, PingOutcome, TracerouteOutcome, UdpOutcome
from nodes.apps.bulk import SinkResult
from nodes.apps.http import HttpResult
from nodes.faults import (
    Codel,
    Direction,
    Distribution,
    FaultCounters,
    FaultInfo,
    FaultSpec,
    LinkProps,
    LinkShapingInfo,
)
from nodes.faults.match import protocol_name
from nodes.router.fib import Route
from nodes.router.ripmodel import RipStatus, RouteChange, RouteInfo
from nodes.stack.arp import Neighbor
from nodes.stack.interfaces import Interface
from nodes.stack.tcp.demux import Listener
from nodes.stack.tcp.info import TcpInfo
from nodes.wire.addr import ip_to_str, mac_to_str

_DIRECTIONS = {
    Direction.BOTH: common_pb2.DIRECTION_BOTH,
    Direction.EGRESS: common_pb2.DIRECTION_EGRESS,
    Direction.INGRESS: common_pb2.DIRECTION_INGRESS,
}
_DISTRIBUTIONS = {
    Distribution.UNIFORM: common_pb2.DELAY_DISTRIBUTION_UNIFORM,
    Distribution.NORMAL: common_pb2.DELAY_DISTRIBUTION_NORMAL,
}
_FAULT_CHANGES = {
    "added": node_pb2.FaultEvent.CHANGE_ADDED,
    "cleared": node_pb2.FaultEvent.CHANGE_CLEARED,
    "expired": node_pb2.FaultEvent.CHANGE_EXPIRED,
}
KINDS = {Kind.HOST: node_pb2.NODE_KIND_HOST, Kind.ROUTER: node_pb2.NODE_KIND_ROUTER}


def ms(seconds: float) -> float:
    return seconds * 1000.0


# ---- faults -------------------------------------------------------------------------------
def fault_spec(spec: FaultSpec) -> common_pb2.FaultSpec:
    e = spec.effects
    msg = common_pb2.FaultSpec(
        iface=spec.iface,
        direction=_DIRECTIONS[spec.direction],
        loss=e.loss,
        delay_ms=ms(e.delay),
        jitter_ms=ms(e.jitter),
        distribution=_DISTRIBUTIONS[e.distribution],
        duplicate=e.duplicate,
        corrupt=e.corrupt,
        reorder=e.reorder,
        down=e.down,
    )
    if spec.match is not None:
        m = spec.match
        msg.match.protocol = "" if m.protocol is None else protocol_name(m.protocol)
        msg.match.src = "" if m.src is None else str(m.src)
        msg.match.dst = "" if m.dst is None else str(m.dst)
        if m.src_port is not None:
            msg.match.src_port = m.src_port
        if m.dst_port is not None:
            msg.match.dst_port = m.dst_port
    if e.gilbert_elliott is not None:
        ge = e.gilbert_elliott
        msg.gilbert_elliott.p = ge.p
        msg.gilbert_elliott.r = ge.to_good
        msg.gilbert_elliott.loss_bad = ge.loss_bad
        msg.gilbert_elliott.loss_good = ge.loss_good
    if e.rate is not None:
        rate = e.rate
        msg.rate.rate_bps = rate.rate_bps
        msg.rate.burst_bytes = rate.burst_bytes
        if rate.queue_limit_bytes is not None:
            msg.rate.queue_limit_bytes = rate.queue_limit_bytes
        if rate.queue_limit_packets is not None:
            msg.rate.queue_limit_packets = rate.queue_limit_packets
        if rate.codel is not None:
            msg.rate.codel.CopyFrom(codel(rate.codel))
    if e.mtu is not None:
        msg.mtu = e.mtu
    if e.blackhole_mtu is not None:
        msg.blackhole_mtu = e.blackhole_mtu
    if spec.seed is not None:
        msg.seed = spec.seed
    if spec.duration is not None:
        msg.duration_ms = ms(spec.duration)
    return msg


def fault_counters(c: FaultCounters) -> common_pb2.FaultCounters:
    return common_pb2.FaultCounters(**c.as_dict())


def fault_info(info: FaultInfo, now: float, node: str) -> common_pb2.FaultInfo:
    msg = common_pb2.FaultInfo(
        fault_id=info.fault_id,
        seed=info.seed,
        spec=fault_spec(info.spec),
        age_ms=ms(max(0.0, now - info.added_at)),
        counters=fault_counters(info.counters),
        node=node,
    )
    if info.expires_at is not None:
        msg.remaining_ms = ms(max(0.0, info.expires_at - now))
    if info.first_hit_at is not None:
        msg.first_hit_ms = ms(max(0.0, info.first_hit_at - info.added_at))
    return msg


# ---- link properties ----------------------------------------------------------------------
def codel(c: Codel) -> common_pb2.Codel:
    return common_pb2.Codel(target_ms=ms(c.target), interval_ms=ms(c.interval))


def link_shaping(props: LinkProps) -> common_pb2.LinkShaping:
    msg = common_pb2.LinkShaping(
        delay_ms=ms(props.delay), jitter_ms=ms(props.jitter), loss=props.loss
    )
    if props.rate is not None:
        msg.rate_bps = props.rate
    if props.queue_packets is not None:
        msg.queue_packets = props.queue_packets
    if props.queue_bytes is not None:
        msg.queue_bytes = props.queue_bytes
    if props.codel is not None:
        msg.codel.CopyFrom(codel(props.codel))
    return msg


def link_shaping_info(info: LinkShapingInfo) -> node_pb2.LinkShapingInfo:
    return node_pb2.LinkShapingInfo(
        iface=info.iface,
        direction=_DIRECTIONS[info.direction],
        shaping=link_shaping(info.props),
        seed=info.seed,
        counters=fault_counters(info.counters),
    )


# ---- state -------------------------------------------------------------------------------
def interface_status(iface: Interface, device: str) -> node_pb2.InterfaceStatus:
    return node_pb2.InterfaceStatus(
        name=iface.name, device=device, mac=mac_to_str(iface.mac),
        address=ip_to_str(iface.address), prefix_len=iface.prefix_len, mtu=iface.mtu,
        up=iface.up, base_mtu=iface.base_mtu,
    )  # fmt: skip


def prefix_str(prefix: int, prefix_len: int) -> str:
    return f"{ip_to_str(prefix)}/{prefix_len}"


def _addr(address: int | None) -> str:
    return "" if address is None else ip_to_str(address)


def route_entry(
    route: Route, age: float | None = None, learned_from: int | None = None
) -> node_pb2.RouteEntry:
    msg = node_pb2.RouteEntry(
        prefix=prefix_str(route.prefix, route.prefix_len),
        gateway=_addr(route.gateway),
        iface=route.ifname,
        kind=route.kind.value,
        metric=route.metric,
    )
    if age is not None:
        msg.age_ms = ms(age)
    if learned_from is not None:
        msg.learned_from = ip_to_str(learned_from)
    return msg


def withdrawn_entry(r: RouteInfo) -> node_pb2.RouteEntry:
    """A RIP route being garbage-collected: out of the FIB, advertised with metric 16."""
    msg = node_pb2.RouteEntry(
        prefix=prefix_str(r.prefix, r.prefix_len), gateway=_addr(r.gateway),
        iface=r.ifname or "", kind="rip", metric=r.metric, age_ms=ms(r.age),
    )  # fmt: skip
    if r.neighbor is not None:
        msg.learned_from = ip_to_str(r.neighbor)
    return msg


def rip_status(st: RipStatus, counters: dict[str, int]) -> node_pb2.RipStatus:
    cfg = st.config
    redistribute = [
        name
        for name, on in (
            ("connected", cfg.redistribute_connected),
            ("static", cfg.redistribute_static),
            ("default", cfg.originate_default),
        )
        if on
    ]
    msg = node_pb2.RipStatus(
        enabled=True, update_s=cfg.update_interval, timeout_s=cfg.timeout,
        garbage_s=cfg.garbage, triggered_updates=cfg.triggered_updates,
        split_horizon=cfg.split_horizon, poisoned_reverse=cfg.poisoned_reverse,
        silent=cfg.silent, authentication=cfg.auth_key is not None, redistribute=redistribute,
        counters={k: v for k, v in counters.items() if k.startswith("rip_")}, daemon="wirelab",
    )  # fmt: skip
    if st.next_update_in is not None:
        msg.next_update_ms = ms(st.next_update_in)
    if st.triggered_in is not None:
        msg.triggered_update_ms = ms(st.triggered_in)
    for name, up, passive in st.interfaces:
        msg.interfaces.append(node_pb2.RipInterface(name=name, up=up, passive=passive))
    for n in st.neighbors:
        neighbor = node_pb2.RipNeighbor(
            address=ip_to_str(n.address), iface=n.ifname, last_heard_ms=ms(n.age),
            packets=n.packets, bad_packets=n.bad_packets, bad_routes=n.bad_routes,
            routes=n.routes,
        )  # fmt: skip
        if n.auth_sequence is not None:
            neighbor.auth_sequence = n.auth_sequence
        msg.neighbors.append(neighbor)
    for r in st.routes:
        route = node_pb2.RipRoute(
            prefix=prefix_str(r.prefix, r.prefix_len), origin=r.origin, metric=r.metric,
            iface=r.ifname or "", gateway=_addr(r.gateway), learned_from=_addr(r.neighbor),
            tag=r.tag, age_ms=ms(r.age), offers=r.offers,
        )  # fmt: skip
        if r.gc_in is not None:
            route.gc_in_ms = ms(r.gc_in)
        msg.routes.append(route)
    return msg


def rip_route_event(c: RouteChange) -> node_pb2.RipRouteEvent:
    msg = node_pb2.RipRouteEvent(
        prefix=prefix_str(c.prefix, c.prefix_len), change=c.change, metric=c.metric,
        gateway=_addr(c.gateway), iface=c.ifname or "", learned_from=_addr(c.neighbor),
    )  # fmt: skip
    if c.old_metric is not None:
        msg.old_metric = c.old_metric
    return msg


def arp_entry(n: Neighbor) -> node_pb2.ArpEntry:
    return node_pb2.ArpEntry(
        iface=n.ifname, address=ip_to_str(n.ip), mac="" if n.mac is None else mac_to_str(n.mac),
        state=n.state.value, queued_packets=len(n.queue),
    )  # fmt: skip


def tcp_info(i: TcpInfo) -> common_pb2.TcpConnectionInfo:
    msg = common_pb2.TcpConnectionInfo(
        state=i.state,
        local_address=ip_to_str(i.local[0]), local_port=i.local[1],
        remote_address=ip_to_str(i.remote[0]), remote_port=i.remote[1],
        congestion_control=i.congestion, ca_state=i.ca_state,
        cwnd=i.cwnd, cwnd_bytes=i.cwnd_bytes,
        rttvar_ms=ms(i.rttvar), rto_ms=ms(i.rto),
        mss=i.mss, pmtu=i.pmtu, rcv_mss=i.rcv_mss,
        snd_wscale=i.snd_wscale, rcv_wscale=i.rcv_wscale,
        snd_wnd_bytes=i.snd_wnd, rcv_wnd_bytes=i.rcv_wnd,
        bytes_sent=i.bytes_sent, bytes_retrans=i.bytes_retrans, bytes_acked=i.bytes_acked,
        bytes_received=i.bytes_received,
        segs_out=i.segs_out, segs_in=i.segs_in,
        data_segs_out=i.data_segs_out, data_segs_in=i.data_segs_in,
        retrans=i.retrans, retransmits=i.retransmits,
        lost_bytes=i.lost, sacked_bytes=i.sacked, dup_acks=i.dup_acks,
        unacked_bytes=i.unacked, send_queue_bytes=i.send_queue, recv_queue_bytes=i.recv_queue,
        ooo_bytes=i.ooo_bytes, sack=i.sack, timestamps=i.timestamps,
    )  # fmt: skip
    if i.ssthresh is not None:
        msg.ssthresh = i.ssthresh
    if i.srtt is not None:
        msg.srtt_ms = ms(i.srtt)
    return msg


def listener_info(lst: Listener) -> node_pb2.TcpListenerInfo:
    return node_pb2.TcpListenerInfo(
        local_address=ip_to_str(lst.local), local_port=lst.port, backlog=lst.backlog,
        syn_queue=len(lst.syn_queue), accept_queue=len(lst.accept_queue),
    )  # fmt: skip


def counters_map(values: dict[str, int]) -> dict[str, int]:
    return {k: v for k, v in values.items() if v >= 0}


# ---- apps ---------------------------------------------------------------------------------
def _rtt_summary(rtts: Iterable[float]) -> tuple[float, float, float]:
    values = [ms(r) for r in rtts]
    return min(values), math.fsum(values) / len(values), max(values)  # not statistics: 0.4 MB


def ping_response(o: PingOutcome) -> node_pb2.PingResponse:
    errors = {e.seq: e for e in o.errors}
    results = []
    for seq in sorted(o.sent):
        reply = o.replies.get(seq)
        if reply is not None:
            results.append(node_pb2.PingResult(
                seq=seq, replied=True, source=ip_to_str(reply.src), rtt_ms=ms(reply.rtt),
                ttl=reply.ttl, size_bytes=reply.size, route=[ip_to_str(a) for a in reply.route],
            ))  # fmt: skip
            continue
        result = node_pb2.PingResult(seq=seq)
        err = errors.get(seq)
        if err is not None:
            result.source = ip_to_str(err.reporter)
            result.rtt_ms = ms(err.time - o.sent[seq])
            result.icmp_type, result.icmp_code = err.type, err.code
            if err.mtu:
                result.next_hop_mtu = err.mtu
        results.append(result)
    received = len(o.replies)
    sent = len(o.sent)
    msg = node_pb2.PingResponse(
        results=results, transmitted=sent, received=received, errors=len(errors),
        loss=0.0 if sent == 0 else 1.0 - received / sent,
    )  # fmt: skip
    if o.replies:
        msg.rtt_min_ms, msg.rtt_avg_ms, msg.rtt_max_ms = _rtt_summary(
            r.rtt for r in o.replies.values()
        )
    return msg


def traceroute_response(o: TracerouteOutcome) -> node_pb2.TracerouteResponse:
    hops: dict[int, node_pb2.TracerouteHop] = {}
    for p in o.probes:
        hop = hops.setdefault(p.ttl, node_pb2.TracerouteHop(ttl=p.ttl))
        probe = node_pb2.TracerouteProbe(
            ttl=p.ttl, responder="" if p.reporter is None else ip_to_str(p.reporter)
        )
        if p.type >= 0:
            probe.icmp_type, probe.icmp_code = p.type, p.code
        if p.rtt is not None:
            probe.rtt_ms = ms(p.rtt)
        hop.probes.append(probe)
        if not hop.responder and probe.responder:
            hop.responder = probe.responder
    return node_pb2.TracerouteResponse(hops=[hops[t] for t in sorted(hops)], reached=o.reached)


def bulk_response(o: BulkOutcome) -> node_pb2.BulkSendResponse:
    r = o.result
    seconds = 0.0 if r.end is None else r.end - r.start
    msg = node_pb2.BulkSendResponse(
        bytes=r.bytes, seconds=seconds, goodput_bps=r.goodput_bps, sha256=r.sha256,
        retransmits=r.retrans, bytes_retrans=r.bytes_retrans, error=r.error or "",
        local_port=o.local_port,
    )  # fmt: skip
    for s in o.samples:
        sample = node_pb2.TcpSample(
            time_ms=ms(s.time - r.start), cwnd=s.cwnd, inflight_bytes=s.in_flight,
            retrans=s.retrans, ca_state=s.ca_state,
        )  # fmt: skip
        if s.ssthresh is not None:
            sample.ssthresh = s.ssthresh
        if s.srtt is not None:
            sample.srtt_ms = ms(s.srtt)
        msg.samples.append(sample)
    if r.info is not None:
        msg.final.CopyFrom(tcp_info(r.info))
    return msg


def sink_result(r: SinkResult) -> node_pb2.SinkResult:
    return node_pb2.SinkResult(
        remote_address=ip_to_str(r.remote[0]), remote_port=r.remote[1], bytes=r.bytes,
        sha256=r.sha256, seconds=r.end - r.start, goodput_bps=r.goodput_bps,
        error=r.error or "", finished=True,
    )  # fmt: skip


def http_response(r: HttpResult) -> node_pb2.HttpGetResponse:
    return node_pb2.HttpGetResponse(
        status=r.status or 0, bytes=r.body_bytes, sha256=r.sha256, seconds=r.elapsed,
        error=r.error or "", headers={k.lower(): v for k, v in r.headers},
    )  # fmt: skip


def udp_response(o: UdpOutcome) -> node_pb2.UdpSendResponse:
    lo, avg, hi = _rtt_summary(o.rtts) if o.rtts else (0.0, 0.0, 0.0)
    return node_pb2.UdpSendResponse(
        sent=o.sent, replies=len(o.rtts), lost=o.sent - len(o.rtts), duplicates=o.duplicates,
        send_failures=o.send_failures, rtt_min_ms=lo, rtt_avg_ms=avg, rtt_max_ms=hi,
    )  # fmt: skip


# ---- events -------------------------------------------------------------------------------
def event(e: ev.Event, loop_now: float, dropped: int) -> node_pb2.Event:
    msg = node_pb2.Event(unix_time_s=e.unix_time, node=e.node, dropped=dropped)
    p = e.payload
    if p is None:
        msg.subscribed = True
    elif isinstance(p, ev.LinkChange):
        msg.link.CopyFrom(node_pb2.LinkEvent(iface=p.iface, up=p.up, mtu=p.mtu, change=p.change))
    elif isinstance(p, ev.TcpChange):
        msg.tcp.CopyFrom(node_pb2.TcpStateEvent(
            local_address=ip_to_str(p.local), local_port=p.local_port,
            remote_address=ip_to_str(p.remote), remote_port=p.remote_port,
            old_state=p.old, new_state=p.new,
        ))  # fmt: skip
    elif isinstance(p, RouteChange):
        msg.rip_route.CopyFrom(rip_route_event(p))
    else:
        msg.fault.change = _FAULT_CHANGES[p.change]
        msg.fault.fault.CopyFrom(fault_info(p.info, loop_now, e.node))
    return msg
