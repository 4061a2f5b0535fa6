"""One node's IPv4 stack: interfaces, ARP, IPv4 (fragmentation/reassembly), ICMP, UDP,
TCP (a TcpEngine built from ``StackConfig.tcp``), a FIB and counters. Sans-I/O: frames
in via ``receive_frame``, out via ``frames_to_send``; time via ``now``; timers via
``next_deadline``/``on_timer``.

A router is a Host whose ``_forward`` hook forwards (nodes/router/router.py).
Packets to one of our own addresses loop back through a queue that is drained at the
next ``on_timer`` (``next_deadline`` is then ``now``), so a transport never re-enters
itself from inside ``send_ip``. Locally generated ICMP errors (ARP failure, DF too big)
travel the same loopback path to the transport's ``on_icmp_error``.
"""

from __future__ import annotations

import random
import struct
from collections import deque
from collections.abc import Callable
from typing import Protocol

from nodes.router.fib import Fib, Route, RouteKind
from nodes.stack.arp import ArpEngine
from nodes.stack.config import StackConfig
from nodes.stack.counters import Counters
from nodes.stack.icmp import IcmpRateLimiter, error_veto
from nodes.stack.icmp_input import IcmpInput
from nodes.stack.interfaces import Interface, Interfaces
from nodes.stack.ipv4 import Reassembler, fragment
from nodes.stack.tcp.engine import TcpEngine
from nodes.stack.transport import IcmpListener, TimerClient, TransportHandler
from nodes.stack.udp import UdpEngine
from nodes.wire.addr import ALL_HOSTS, ip_from_str, mac_from_str
from nodes.wire.arp import parse_arp
from nodes.wire.errors import BadChecksum, Truncated, WireError
from nodes.wire.ethernet import ETH_HLEN, ETH_P_ARP, ETH_P_IP, unpack_ethernet
from nodes.wire.icmp import (
    IcmpType,
    TimeExceededCode,
    UnreachCode,
    build_error,
)
from nodes.wire.ipv4 import (
    FLAG_DF,
    IPV4_HLEN,
    BadOption,
    IPProto,
    IPv4Header,
    IPv4Packet,
    build_ipv4,
    ipv4_header,
    packet_from_header,
    parse_ipv4,
    plain_header,
)

_ADDRS = struct.Struct("!II")
_OUT_COUNTER: dict[int, str] = {
    IcmpType.DEST_UNREACH: "icmp_out_dest_unreachs",
    IcmpType.TIME_EXCEEDED: "icmp_out_time_excds",
    IcmpType.PARAM_PROBLEM: "icmp_out_parm_probs",
}
LOOPBACK_MTU = 65535
_ICMP = int(IPProto.ICMP)


class EgressGauge(Protocol):
    """What the io layer's egress queues tell the stack (nodes/faults/engine.py
    FaultEngine): the bytes an interface's egress holds waiting for a rate, and when they
    will have drained to a limit -- a NIC's transmit completions, in virtual time."""

    def queued(self, ifname: str, now: float) -> int | None: ...
    def drained_to(self, ifname: str, limit: int, now: float) -> float: ...
    def rate(self, ifname: str) -> float | None: ...


MtuListener = Callable[[str, int, float], None]
"""``(ifname, packet size, now)``: a packet above the interface's MTU in force was
fragmented or refused while something capped that MTU (see :meth:`Host.cap_mtu`)."""


def _ip(value: int | str) -> int:
    return ip_from_str(value) if isinstance(value, str) else value


class Host:
    def __init__(
        self, name: str, *, config: StackConfig | None = None, rng: random.Random | None = None
    ) -> None:
        self.name = name
        self.config = config or StackConfig()
        self.rng = rng or random.Random(name)
        self.interfaces = Interfaces()
        self.fib = Fib()
        self.counter_set = Counters()
        self._cv = self.counter_set.values  # per-packet paths add to the dict directly
        self._out: list[tuple[str, bytes]] = []
        self._out_bytes = 0  # bytes output() queued in _out since frames_to_send took it
        self.tx_flushes = 0  # how often frames_to_send took output (small queues wait on it)
        self.egress_gauge: EgressGauge | None = None
        self.egress_slack = 0.0
        self.arp = ArpEngine(self.interfaces, self.config, self.counter_set, self._out)
        self.reassembler = Reassembler(self.config, self.counter_set)
        self.icmp_limiter = IcmpRateLimiter(self.config, self.counter_set)
        self.handlers: dict[int, TransportHandler] = {}
        self.listeners: list[IcmpListener] = []
        self._apps: list[TimerClient] = []
        self._loopback: deque[bytes] = deque()
        self._loopback_due = 0.0
        self._ident = self.rng.randrange(65536)
        self._mtu_listener: MtuListener | None = None
        self.icmp = IcmpInput(self)
        self.udp = UdpEngine(self)
        self.register_protocol(IPProto.UDP, self.udp)
        # TCP from the config's TcpConfig, its ISN key and ports drawn from the host's rng
        self.tcp = TcpEngine(self, self.config.tcp, random.Random(self.rng.getrandbits(64)))
        self.register_protocol(IPProto.TCP, self.tcp)

    # ---- configuration -----------------------------------------------------------
    def add_interface(
        self,
        name: str,
        mac: bytes | str,
        address: int | str,
        prefix_len: int,
        *,
        mtu: int = 1500,
        up: bool = True,
    ) -> Interface:
        """Add an interface and its connected route; announce it (gratuitous ARP)."""
        mac_b = mac_from_str(mac) if isinstance(mac, str) else mac
        iface = Interface(name, mac_b, _ip(address), prefix_len, mtu, up)
        self.interfaces.add(iface)
        self.fib.add(Route(iface.network, prefix_len, name, None, RouteKind.CONNECTED))
        self.fib.set_interface_up(name, up)
        if up and self.config.arp_notify:
            self.arp.announce(iface)
        return iface

    def set_interface_up(self, name: str, up: bool) -> None:
        iface = self.interfaces.get(name)
        if iface.up == up:
            return
        iface.up = up
        self.fib.set_interface_up(name, up)
        if up and self.config.arp_notify:
            self.arp.announce(iface)
        if not up:
            self.arp.flush(name)

    def set_mtu(self, name: str, mtu: int) -> bool:
        """The configured (base) MTU of ``name``; a cap (:meth:`cap_mtu`) still holds.
        True when the MTU in force changed."""
        return self.interfaces.get(name).set_base_mtu(mtu)

    def cap_mtu(self, name: str, cap: int | None) -> bool:
        """Cap the MTU in force of ``name`` at ``cap`` (None: lift the cap), as an MTU
        fault does for its life. True when the MTU in force changed."""
        return self.interfaces.get(name).set_mtu_cap(cap)

    def join_group(self, name: str, group: int) -> None:
        """Receive the multicast ``group`` on interface ``name`` (IP_ADD_MEMBERSHIP)."""
        if (group >> 28) != 0xE:
            raise ValueError(f"{group:#x} is not an IPv4 multicast group")
        self.interfaces.get(name).groups.add(group)

    def leave_group(self, name: str, group: int) -> None:
        iface = self.interfaces.get(name)
        if group != ALL_HOSTS:
            iface.groups.discard(group)

    def mtu_of(self, name: str) -> int:
        return self.interfaces.get(name).mtu

    def interface_names(self) -> list[str]:
        return list(self.interfaces.by_name)

    def set_mtu_listener(self, listener: MtuListener | None) -> None:
        """Who hears of packets above a capped MTU (the fault engine's ``mtu_exceeded``)."""
        self._mtu_listener = listener

    def _mtu_exceeded(self, iface: Interface, size: int, now: float) -> None:
        """A packet of ``size`` bytes was too big for ``iface``: fragmented or refused."""
        listener = self._mtu_listener
        if listener is not None and iface.mtu_cap is not None:
            listener(iface.name, size, now)

    def set_address(self, name: str, address: int | str, prefix_len: int) -> Interface:
        """Give ``name`` a new address/prefix at run time (``ip addr replace``): its
        connected route is replaced, the ARP entries learnt on it are flushed and, when it
        is up, a gratuitous ARP announces the new address. Counters stay."""
        iface = self.interfaces.get(name)
        old_net, old_len = iface.network, iface.prefix_len
        self.interfaces.readdress(iface, _ip(address), prefix_len)
        for route in self.fib.routes():
            if (
                route.kind is RouteKind.CONNECTED
                and route.ifname == name
                and (route.prefix, route.prefix_len) == (old_net, old_len)
            ):
                self.fib.remove(old_net, old_len)
        self.fib.add(Route(iface.network, prefix_len, name, None, RouteKind.CONNECTED))
        self.arp.flush(name)
        if iface.up and self.config.arp_notify:
            self.arp.announce(iface)
        return iface

    def add_route(
        self,
        prefix: int | str,
        prefix_len: int,
        gateway: int | str | None = None,
        ifname: str | None = None,
        *,
        metric: int = 0,
    ) -> Route:
        """A static route; ``ifname`` defaults to the interface whose subnet holds the
        gateway. ``add_route("0.0.0.0", 0, gw)`` is the default route."""
        gw = None if gateway is None else _ip(gateway)
        if ifname is None:
            if gw is None:
                raise ValueError("a route needs a gateway or an interface")
            on_link = [i for i in self.interfaces if i.on_link(gw)]
            if not on_link:
                raise ValueError(f"{self.name}: gateway {gateway} is on no connected subnet")
            ifname = on_link[0].name
        route = Route(_ip(prefix), prefix_len, ifname, gw, RouteKind.STATIC, metric)
        self.fib.add(route)
        return route

    def register_protocol(self, proto: int, handler: TransportHandler) -> None:
        """Install ``handler`` for ``proto``; a TcpEngine for TCP also becomes ``tcp``."""
        self.handlers[proto] = handler
        if proto == IPProto.TCP and isinstance(handler, TcpEngine):
            self.tcp = handler

    def add_icmp_listener(self, listener: IcmpListener) -> None:
        self.listeners.append(listener)

    def remove_icmp_listener(self, listener: IcmpListener) -> None:
        if listener in self.listeners:
            self.listeners.remove(listener)

    def attach(self, app: TimerClient) -> None:
        """Drive ``app``'s timers from this host's ``next_deadline``/``on_timer``."""
        self._apps.append(app)

    def detach(self, app: TimerClient) -> None:
        if app in self._apps:
            self._apps.remove(app)

    # ---- node-facing API ---------------------------------------------------------
    def frames_to_send(self) -> list[tuple[str, bytes]]:
        out = self._out
        if not out:
            return []
        frames = out[:]
        out.clear()
        self._out_bytes = 0
        self.tx_flushes += 1
        self.counter_set.inc("eth_out_frames", len(frames))
        return frames

    def counters(self) -> dict[str, int]:
        values = self.counter_set.snapshot()
        for handler in self.handlers.values():
            extra = getattr(handler, "counters", None)
            if callable(extra) and handler is not self.udp:
                values.update(extra())
        # gauges: how full the bounded tables are now (/proc/net/stat/arp_cache entries,
        # /proc/net/sockstat FRAG inuse/memory)
        values["arp_entries"] = len(self.arp.neighbors)
        values["arp_unresolved_bytes"] = self.arp.unres_bytes
        values["ip_frag_queues"] = len(self.reassembler)
        values["ip_frag_memory"] = self.reassembler.mem
        values["icmp_ratelimit_peers"] = len(self.icmp_limiter)
        return values

    def next_deadline(self) -> float | None:
        best = self._loopback_due if self._loopback else None
        for t in (self.arp.next_deadline(), self.reassembler.next_deadline()):
            if t is not None and (best is None or t < best):
                best = t
        for client in (*self.handlers.values(), *self._apps):
            t = client.next_deadline()
            if t is not None and (best is None or t < best):
                best = t
        return best

    def on_timer(self, *, now: float) -> None:
        while self._loopback:
            self.counter_set.inc("ip_in_loopback")
            self._local_deliver(parse_ipv4(self._loopback.popleft()), False, now=now)
        self.arp.on_timer(now=now)
        failed, self.arp.failed = self.arp.failed, []
        for raw in failed:
            self.send_icmp_error(raw, IcmpType.DEST_UNREACH, UnreachCode.HOST, now=now)
        for quote in self.reassembler.on_timer(now=now):
            self.send_icmp_error(
                quote, IcmpType.TIME_EXCEEDED, TimeExceededCode.REASSEMBLY, now=now
            )
        for client in (*self.handlers.values(), *self._apps):
            t = client.next_deadline()
            if t is not None and t <= now:
                client.on_timer(now=now)

    def receive_frame(self, ifname: str, frame: bytes | memoryview, *, now: float) -> None:
        cv = self._cv
        cv["eth_in_frames"] += 1
        iface = self.interfaces.by_name.get(ifname)
        if iface is None or not iface.up:
            cv["eth_in_if_down"] += 1
            return
        if len(frame) < ETH_HLEN:
            cv["eth_in_truncated"] += 1
            return
        dst, _, ethertype = unpack_ethernet(frame)
        link_bcast = False
        if dst != iface.mac:
            if not dst[0] & 1:
                cv["eth_in_other_host"] += 1
                return
            link_bcast = True
        if ethertype == ETH_P_IP:
            self._ip_input(iface, memoryview(frame)[ETH_HLEN:], link_bcast, now=now)
        elif ethertype == ETH_P_ARP:
            try:
                pkt = parse_arp(memoryview(frame)[ETH_HLEN:])
            except WireError:
                cv["arp_in_errors"] += 1
                return
            self.arp.receive(iface, pkt, now=now)
        else:
            cv["eth_in_unknown_ethertype"] += 1

    # ---- egress backlog (TCP small queues) -----------------------------------------
    def set_egress_gauge(self, gauge: EgressGauge | None, *, slack: float = 0.0) -> None:
        """Let transports see the io layer's egress queues (the loops install the node's
        FaultEngine: its rate queues are this node's device queues); ``slack``: how late
        the loop may wake (seconds), which small queues add to their time budget."""
        self.egress_gauge = gauge
        self.egress_slack = slack

    def tx_backlog(self, dst: int, *, now: float) -> int | None:
        """Bytes queued below the transports toward ``dst``: in the egress queues of its
        route's interface and in our output not yet handed to the io layer. None: no
        gauge, no route, or no queue on that interface (nothing to bound: the io layer
        hands our output to the wire in the same turn)."""
        gauge = self.egress_gauge
        if gauge is None:
            return None
        route = self.fib.lookup(dst)
        if route is None:
            return None
        queued = gauge.queued(route.ifname, now)
        return None if queued is None else queued + self._out_bytes

    def tx_slack_bytes(self, dst: int) -> int:
        """What the egress toward ``dst`` sends while the loop wakes ``egress_slack`` late
        (its slowest rate): the least a small queue must hold to keep that link busy."""
        gauge = self.egress_gauge
        if gauge is None or not self.egress_slack:
            return 0
        route = self.fib.lookup(dst)
        rate = None if route is None else gauge.rate(route.ifname)
        return 0 if rate is None else int(rate * self.egress_slack)

    def tx_drained(self, dst: int, limit: int, *, now: float) -> float | None:
        """When the egress toward ``dst`` will hold at most ``limit`` bytes again (our
        unflushed output counts against the limit); None when nothing bounds it."""
        gauge = self.egress_gauge
        route = None if gauge is None else self.fib.lookup(dst)
        if gauge is None or route is None:
            return None
        return gauge.drained_to(route.ifname, max(0, limit - self._out_bytes), now)

    # ---- transport-facing API ----------------------------------------------------
    def route_mtu(self, dst: int) -> int | None:
        if self.interfaces.is_local(dst):
            return LOOPBACK_MTU
        route = self.fib.lookup(dst)
        return None if route is None else self.interfaces.get(route.ifname).mtu

    def source_address_for(self, dst: int) -> int | None:
        if self.interfaces.is_local(dst):
            return dst
        route = self.fib.lookup(dst)
        return None if route is None else self.interfaces.get(route.ifname).address

    def send_ip(
        self,
        dst: int,
        proto: int,
        payload: bytes | memoryview,
        *,
        now: float,
        src: int | None = None,
        ttl: int | None = None,
        df: bool = False,
        tos: int = 0,
        options: bytes = b"",
        other_options: bytes = b"",
    ) -> bool:
        """Route, pick the source, fragment (unless DF), resolve ARP (queueing) and send.
        False when nothing was sent: no route, or DF set and the packet exceeds the
        egress MTU (a frag-needed error then also reaches the sender's ``on_icmp_error``
        via loopback, as Linux reports EMSGSIZE). ``options`` go in the (first) header,
        ``other_options`` in the other fragments'."""
        c = self.counter_set
        c.values["ip_out_requests"] += 1
        ttl = self.config.default_ttl if ttl is None else ttl
        ident = self._ident = (self._ident + 1) & 0xFFFF
        local = self.interfaces.local.get(dst)
        if (local is not None and local.up) or (dst >> 24) == 127:
            raw = build_ipv4(
                src=dst if src is None else src,
                dst=dst,
                proto=proto,
                payload=payload,
                ttl=ttl,
                ident=ident,
                tos=tos,
                df=df,
                options=options,
            )
            if not self._loopback:
                self._loopback_due = now
            self._loopback.append(raw)
            return True
        route = self.fib.lookup(dst)
        if route is None:
            c.inc("ip_out_no_routes")
            return False
        iface = self.interfaces.get(route.ifname)
        if src is None:
            src = iface.address
        total = IPV4_HLEN + len(options) + len(payload)
        if total <= iface.mtu:
            gateway = route.gateway
            next_hop = dst if gateway is None else gateway
            if not options:  # the common case: one join of cached link header + IP header
                hh = self.arp.link_header(iface, next_hop, now=now)
                if hh is not None:
                    header = ipv4_header(src, dst, proto, total, ttl, ident, tos, FLAG_DF * df)
                    self._out.append((iface.name, b"".join((hh, header, payload))))
                    self._out_bytes += total
                    return True
            raw = build_ipv4(
                src=src,
                dst=dst,
                proto=proto,
                payload=payload,
                ttl=ttl,
                ident=ident,
                tos=tos,
                df=df,
                options=options,
            )
            self.arp.output(iface, next_hop, raw, now=now)
            return True
        self._mtu_exceeded(iface, total, now)
        if df:
            c.inc("ip_frag_fails")
            raw = build_ipv4(
                src=src,
                dst=dst,
                proto=proto,
                payload=payload[:8],
                ttl=ttl,
                ident=ident,
                tos=tos,
                df=df,
                options=options,
            )
            self.send_icmp_error(
                raw, IcmpType.DEST_UNREACH, UnreachCode.FRAG_NEEDED, now=now, mtu=iface.mtu
            )
            return False
        frags = fragment(
            src=src,
            dst=dst,
            proto=proto,
            payload=payload,
            mtu=iface.mtu,
            ident=ident,
            ttl=ttl,
            tos=tos,
            first_options=options,
            other_options=other_options,
        )
        c.inc("ip_frag_oks")
        c.inc("ip_frag_creates", len(frags))
        next_hop = route.next_hop(dst)
        for raw in frags:
            self.arp.output(iface, next_hop, raw, now=now)
        return True

    def output(
        self,
        dst: int,
        proto: int,
        payload: bytes | memoryview,
        *,
        now: float,
        src: int | None = None,
        ttl: int | None = None,
        df: bool = False,
        tos: int = 0,
        options: bytes = b"",
        other_options: bytes = b"",
    ) -> bool:
        """:meth:`send_ip` under the name ICMP and the apps use (a method, not an alias of
        it: a class compiled by mypyc cannot alias one)."""
        return self.send_ip(
            dst, proto, payload, now=now, src=src, ttl=ttl, df=df, tos=tos,
            options=options, other_options=other_options,
        )  # fmt: skip

    def send_link(
        self,
        ifname: str,
        dst: int,
        proto: int,
        payload: bytes | memoryview,
        *,
        now: float,
        src: int | None = None,
        ttl: int = 1,
        tos: int = 0,
    ) -> bool:
        """Send one unfragmented packet out of ``ifname`` to ``dst`` on that link, without
        routing: a multicast group (its MAC) or a neighbour (resolved by ARP), as
        IP_MULTICAST_IF / SO_BINDTODEVICE do for link-scope protocols (RIP). False when
        nothing was sent: the interface is down, or the packet exceeds its MTU."""
        c = self.counter_set
        c.values["ip_out_requests"] += 1
        iface = self.interfaces.get(ifname)
        if not iface.up:
            c.inc("ip_out_if_down")
            return False
        if IPV4_HLEN + len(payload) > iface.mtu:
            c.inc("ip_frag_fails")
            return False
        ident = self._ident = (self._ident + 1) & 0xFFFF
        raw = build_ipv4(
            src=iface.address if src is None else src, dst=dst, proto=proto, payload=payload,
            ttl=ttl, ident=ident, tos=tos,
        )  # fmt: skip
        self.arp.output(iface, dst, raw, now=now)
        return True

    def send_icmp_error(
        self,
        offending: bytes | memoryview,
        icmp_type: int,
        code: int,
        *,
        now: float,
        mtu: int = 0,
        pointer: int = 0,
        link_broadcast: bool = False,
    ) -> bool:
        """Send an ICMP error about ``offending`` (its IP header and >= 8 payload bytes)
        to its source, unless the RFC 1122 rules or the rate limiter forbid it."""
        c = self.counter_set
        if len(offending) < IPV4_HLEN:
            c.inc("icmp_error_suppressed_bad_src")
            return False
        src, dst = _ADDRS.unpack_from(offending, 12)
        veto = error_veto(
            offending, link_broadcast=link_broadcast, is_broadcast=self.interfaces.is_broadcast(dst)
        )
        if veto is None and not self.interfaces.is_local(src):
            veto = self.icmp_limiter.allow(icmp_type, src, now=now)
        if veto is not None:
            c.inc(veto)
            return False
        msg = build_error(icmp_type, code, offending, mtu=mtu, pointer=pointer)
        err_src = dst if self.interfaces.is_local(dst) else None
        if self.output(
            src, IPProto.ICMP, msg, now=now, src=err_src, tos=self.config.icmp_error_tos
        ):
            c.inc("icmp_out_msgs")
            if icmp_type in _OUT_COUNTER:
                c.inc(_OUT_COUNTER[icmp_type])
            return True
        return False

    # ---- input path --------------------------------------------------------------
    def _ip_input(
        self, iface: Interface, data: memoryview, link_bcast: bool, *, now: float
    ) -> None:
        cv = self._cv
        cv["ip_in_receives"] += 1
        h = plain_header(data)  # the common case: no options, lengths and checksum fine
        if h is not None:
            pkt = None
            src, dst = h[8], h[9]
        else:
            try:
                pkt = parse_ipv4(data)
            except BadOption as e:
                cv["ip_in_bad_options"] += 1
                cv["ip_in_hdr_errors"] += 1
                self.send_icmp_error(
                    data,
                    IcmpType.PARAM_PROBLEM,
                    0,
                    now=now,
                    pointer=e.offset,
                    link_broadcast=link_bcast,
                )
                return
            except BadChecksum:
                cv["ip_in_csum_errors"] += 1
                cv["ip_in_hdr_errors"] += 1
                return
            except Truncated:
                cv["ip_in_truncated_pkts"] += 1
                return
            except WireError:
                cv["ip_in_hdr_errors"] += 1
                return
            src, dst = pkt.src, pkt.dst
        ifaces = self.interfaces
        broadcasts = ifaces.broadcasts
        if (src >> 28) == 0xE or src in broadcasts or src in ifaces.local:
            cv["ip_in_martian_src"] += 1  # multicast, broadcast or one of ours
            return
        local = ifaces.local.get(dst)
        is_local = local is not None and local.up
        if (dst >> 28) == 0xE and dst not in iface.groups:
            cv["ip_in_mcast_not_joined"] += 1  # no router forwards multicast here
            return
        if is_local or dst in broadcasts or (dst >> 28) == 0xE:
            if pkt is None:
                assert h is not None
                pkt = packet_from_header(h, data)
            self._local_deliver(pkt, link_bcast or not is_local, now=now)
        elif link_bcast:
            cv["ip_in_addr_errors"] += 1  # never forward what came as a link broadcast
        elif pkt is None:
            assert h is not None
            self._forward_plain(iface, data, h, now=now)
        else:
            self._forward(iface, pkt, now=now)

    def _forward_plain(
        self, iface: Interface, data: memoryview, h: IPv4Header, *, now: float
    ) -> None:
        """Not for us, a plain header (:func:`plain_header` verified it): a router's fast
        path overrides this; the default is :meth:`_forward` on the parsed packet."""
        self._forward(iface, packet_from_header(h, data), now=now)

    def _forward(self, iface: Interface, pkt: IPv4Packet, *, now: float) -> None:
        """Not for us: a host drops it (a router overrides this)."""
        self.counter_set.inc("ip_in_addr_errors")

    def _local_deliver(self, pkt: IPv4Packet, bcast: bool, *, now: float) -> None:
        if pkt.mf or pkt.frag_offset:
            whole = self.reassembler.add(pkt, now=now)
            if whole is None:
                return
            pkt = whole
        proto = pkt.proto
        if proto == _ICMP:
            self._cv["ip_in_delivers"] += 1
            self.icmp.receive(pkt, bcast, now=now)
            return
        handler = self.handlers.get(proto)
        if handler is None:
            self.counter_set.inc("ip_in_unknown_protos")
            self.send_icmp_error(
                quote_of(pkt),
                IcmpType.DEST_UNREACH,
                UnreachCode.PROTOCOL,
                now=now,
                link_broadcast=bcast,
            )
            return
        self._cv["ip_in_delivers"] += 1
        handler.on_packet(pkt, now=now)


def quote_of(pkt: IPv4Packet) -> bytes:
    """What an ICMP error quotes of ``pkt``: its header and first 8 payload bytes."""
    return bytes(pkt.header) + bytes(pkt.payload[:8])
