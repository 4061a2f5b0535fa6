"""Fuzz targets for whole nodes: a Host and a Router (nodes.stack / nodes.router) fed
arbitrary frames on their interfaces at advancing virtual times, with timers run and a
few application calls in between. Nothing may escape ``receive_frame`` or ``on_timer``:
every bad frame must end as a counted drop. After every step, invariants:

* every frame the node sends decodes (Ethernet, then ARP or an IPv4 header whose checksum
  verifies; a host's own ICMP/UDP/TCP checksums verify too), from the interface's MAC;
* the bounded tables stay within their bounds and no counter or gauge is negative;
* timers converge: after ``on_timer(now)`` a few times, nothing is due at ``now`` (a timer
  left in the past would spin the node's event loop).

Input: one byte choosing the configuration (Linux's defaults, or tiny bounds so a short
input reaches them), then operations read by :class:`~tests.fuzz.reader.Reader` until
the input ends (see ``Op``); :func:`encode` writes them (the seeds are made with it).
"""

from __future__ import annotations

import contextlib
import random
from dataclasses import dataclass, field
from enum import IntEnum

from nodes.router.router import Router
from nodes.stack.config import StackConfig
from nodes.stack.host import Host
from nodes.stack.tcp.api import TcpSocket
from nodes.stack.tcp.config import TcpConfig
from nodes.stack.udp import UdpEndpoint
from nodes.wire.addr import BROADCAST_MAC, ip_from_str
from nodes.wire.arp import ArpPacket, parse_arp
from nodes.wire.checksum import internet_checksum, transport_checksum, verify_transport
from nodes.wire.ethernet import ETH_HLEN, ETH_P_ARP, ETH_P_IP, build_ethernet, parse_ethernet
from nodes.wire.ipv4 import parse_ipv4
from tests.fuzz.reader import Reader, Writer
from tests.fuzz.registry import target

PEER_MAC = bytes.fromhex("0200000000ee")
FAR = ip_from_str("172.16.0.9")  # behind the router's static route; the host's default
STRANGER = ip_from_str("203.0.113.5")
SMALL = StackConfig(
    arp_gc_thresh1=2, arp_gc_thresh2=4, arp_gc_thresh3=8, arp_unres_qlen_bytes=600,
    arp_unres_total_bytes=1500, ipfrag_high_thresh=4000, icmp_ratelimit_peers=4,
    icmp_msgs_burst=4, udp_rmem_default=1200, ipfrag_time=2.0,
    tcp=TcpConfig(max_syn_backlog=2, max_tw_buckets=2, max_orphans=1, max_connections=4,
                  msl=1.0, fin_timeout=2.0),
)  # fmt: skip


class Op(IntEnum):
    RAW = 0  # iface index, frame (chunk): exactly these bytes
    IP = 1  # iface, link dst, dst mode, src mode, IP packet (chunk): lengths/checksums fixed
    ARP = 2  # iface, op, sender MAC (6), sender mode, target mode
    TIME = 3  # milliseconds (2 bytes): the clock advances, due timers run
    APP = 4  # action: what the applications do


class App(IntEnum):
    ACCEPT_SEND = 0  # accept every pending connection, send on each
    CLOSE = 1  # close every accepted or connected socket
    UDP = 2  # read every queued datagram and echo it, read the error queue
    CONNECT = 3  # open a connection to a peer on the link


@dataclass(slots=True)
class World:
    node: Host
    router: bool
    now: float = 0.0
    listener: TcpSocket | None = None
    udp: list[UdpEndpoint] = field(default_factory=list)
    socks: list[TcpSocket] = field(default_factory=list)

    def peer(self, ifname: str) -> int:
        return self.node.interfaces.get(ifname).address + 1


def _world(router: bool, small: bool) -> World:
    cfg = SMALL if small else StackConfig()
    rng = random.Random(1)
    node: Host = Router("r1", config=cfg, rng=rng) if router else Host("h1", config=cfg, rng=rng)
    node.add_interface("eth0", "02:00:00:00:00:01", "10.0.0.1", 24)
    node.add_interface("eth1", "02:00:00:00:01:01", "10.0.1.1", 24, mtu=576)
    if router:
        node.add_route("172.16.0.0", 16, "10.0.1.2")
    else:
        node.add_route("0.0.0.0", 0, "10.0.0.2")
    w = World(node, router)
    for ifname in ("eth0", "eth1"):  # the next hops are resolved (a request for us)
        iface = node.interfaces.get(ifname)
        hello = ArpPacket(1, PEER_MAC, w.peer(ifname), bytes(6), iface.address)
        node.receive_frame(ifname, build_ethernet(BROADCAST_MAC, PEER_MAC, ETH_P_ARP,
                                                   hello.build()), now=0.0)  # fmt: skip
    w.listener = node.tcp.socket()
    w.listener.bind(0, 80)
    w.listener.listen(4)
    w.udp = [node.udp.bind(53), node.udp.bind(7)]
    node.frames_to_send()
    return w


IFACES = ("eth0", "eth1", "eth9")  # eth9 does not exist


def _address(w: World, mode: int, ifname: str, keep: int) -> int:
    iface = w.node.interfaces.find(ifname) or w.node.interfaces.get("eth0")
    return (keep, iface.address, iface.broadcast, FAR, w.peer(iface.name), STRANGER,
            0xE0000001, 0x7F000001)[mode]  # fmt: skip


def _fix_ip(packet: bytes, dst: int | None, src: int | None) -> bytes:
    """Make ``packet`` a well-formed IPv4 header over whatever follows: version 4, a
    header length that fits, the total length, the addresses asked for and the header
    checksum; and, for a whole TCP/UDP/ICMP datagram, its checksum (and UDP length)."""
    if len(packet) < 20:
        return packet
    ip = bytearray(packet)
    ihl = min(max(ip[0] & 0x0F, 5), len(ip) // 4, 15)
    hlen = ihl * 4
    ip[0] = 0x40 | ihl
    ip[2:4] = len(ip).to_bytes(2, "big")
    if src is not None:
        ip[12:16] = src.to_bytes(4, "big")
    if dst is not None:
        ip[16:20] = dst.to_bytes(4, "big")
    ip[10:12] = b"\0\0"
    ip[10:12] = internet_checksum(ip[:hlen]).to_bytes(2, "big")
    if int.from_bytes(ip[6:8], "big") & 0x3FFF:
        return bytes(ip)  # a fragment: the transport checksum covers the whole datagram
    proto, body = ip[9], ip[hlen:]
    s, d = int.from_bytes(ip[12:16], "big"), int.from_bytes(ip[16:20], "big")
    at = {6: 16, 17: 6, 1: 2}.get(proto)
    if at is None or len(body) < at + 2:
        return bytes(ip)
    if proto == 17:
        body[4:6] = len(body).to_bytes(2, "big")
    body[at : at + 2] = b"\0\0"
    csum = internet_checksum(body) if proto == 1 else transport_checksum(s, d, proto, body)
    body[at : at + 2] = csum.to_bytes(2, "big")
    return bytes(ip[:hlen] + body)


def _step(w: World, r: Reader) -> None:
    node = w.node
    op = r.pick(len(Op))
    if op == Op.RAW:
        ifname = IFACES[r.pick(3)]
        node.receive_frame(ifname, r.chunk(), now=w.now)
    elif op == Op.IP:
        ifname = IFACES[r.pick(3)]
        link_bcast = r.pick(2)
        dst_mode, src_mode = r.pick(8), r.pick(8)
        packet = r.chunk()
        dst = None if dst_mode == 0 else _address(w, dst_mode, ifname, 0)
        src = None if src_mode == 0 else _address(w, src_mode, ifname, 0)
        iface = node.interfaces.find(ifname)
        mac = BROADCAST_MAC if link_bcast or iface is None else iface.mac
        frame = build_ethernet(mac, PEER_MAC, ETH_P_IP, _fix_ip(packet, dst, src))
        node.receive_frame(ifname, frame, now=w.now)
    elif op == Op.ARP:
        ifname = IFACES[r.pick(3)]
        arp_op = 1 + r.pick(3)  # request, reply, or an unknown operation 3
        sender_mac = r.take(6).ljust(6, b"\0")
        sender = _address(w, r.pick(8), ifname, r.uint(4))
        tgt = _address(w, r.pick(8), ifname, r.uint(4))
        raw = ArpPacket(arp_op, sender_mac, sender, bytes(6), tgt).build()
        node.receive_frame(ifname, build_ethernet(BROADCAST_MAC, PEER_MAC, ETH_P_ARP, raw),
                           now=w.now)  # fmt: skip
    elif op == Op.TIME:
        w.now += r.uint(2) / 1000 * (60 if r.pick(2) else 1)
        _run_timers(w)
    else:
        _app(w, App(r.pick(len(App))))
    _check_output(w)
    _check_bounds(w)


def _app(w: World, action: App) -> None:
    node, now = w.node, w.now
    if action is App.ACCEPT_SEND:
        assert w.listener is not None
        while True:
            try:
                sock = w.listener.accept()
            except BlockingIOError:
                break
            w.socks.append(sock)
        for sock in w.socks:
            with contextlib.suppress(OSError):
                sock.send(b"hello from the fuzzed node\n" * 40, now=now)
    elif action is App.CLOSE:
        for sock in w.socks:
            sock.close(now=now)
        w.socks.clear()
    elif action is App.UDP:
        for ep in w.udp:
            while (item := ep.recvfrom()) is not None:
                data, addr = item
                ep.sendto(data, addr, now=now)
            while ep.recv_error() is not None:
                pass
    else:
        sock = node.tcp.socket()
        try:
            sock.connect(w.peer("eth0"), 80, now=now)
        except OSError:
            return
        w.socks.append(sock)


def _run_timers(w: World) -> None:
    node = w.node
    for _ in range(50):
        due = node.next_deadline()
        if due is None or due > w.now:
            return
        node.on_timer(now=w.now)
        _check_output(w)
    due = node.next_deadline()
    assert due is None or due > w.now, f"timers do not converge: {due} due at {w.now}"


def _check_output(w: World) -> None:
    node = w.node
    for ifname, frame in node.frames_to_send():
        iface = node.interfaces.get(ifname)
        eth = parse_ethernet(frame)
        assert eth.src == iface.mac, "a frame from another interface's MAC"
        if eth.ethertype == ETH_P_ARP:
            parse_arp(eth.payload)
            continue
        assert eth.ethertype == ETH_P_IP, f"ethertype {eth.ethertype:#x} sent"
        pkt = parse_ipv4(eth.payload)  # header and checksum verify, or this raises
        assert len(frame) - ETH_HLEN <= iface.mtu, "a frame over the interface MTU"
        if w.router and not node.interfaces.is_local(pkt.src):
            continue  # forwarded: the sender's transport checksum is the sender's business
        if pkt.is_fragment:
            continue
        if pkt.proto == 1:
            assert internet_checksum(pkt.payload) == 0, "our ICMP checksum does not verify"
        elif pkt.proto in (6, 17) and not (pkt.proto == 17 and bytes(pkt.payload[6:8]) == b"\0\0"):
            assert verify_transport(pkt.src, pkt.dst, pkt.proto, pkt.payload), "bad checksum"


def _check_bounds(w: World) -> None:
    node = w.node
    cfg, tcp_cfg = node.config, node.config.tcp
    c = node.counters()
    negative = [k for k, v in c.items() if v < 0]
    assert not negative, f"negative counters: {negative}"
    assert c["arp_entries"] <= cfg.arp_gc_thresh3
    assert c["arp_unresolved_bytes"] <= cfg.arp_unres_total_bytes
    assert c["ip_frag_memory"] <= cfg.ipfrag_high_thresh
    assert c["icmp_ratelimit_peers"] <= cfg.icmp_ratelimit_peers
    assert c["tcp_curr_time_wait"] <= tcp_cfg.max_tw_buckets
    assert c["tcp_curr_orphans"] <= tcp_cfg.max_orphans
    conns = len(node.tcp.demux.conns)
    assert conns - c["tcp_curr_time_wait"] <= tcp_cfg.max_connections
    assert node.tcp.syn_backlog() <= tcp_cfg.max_syn_backlog


def _run(data: bytes, *, router: bool) -> None:
    r = Reader(data)
    w = _world(router, small=bool(r.pick(2)))
    steps = 0
    while r.remaining() and steps < 64:
        _step(w, r)
        steps += 1
    w.now += 120.0  # everything left times out: retransmissions, reassembly, TIME_WAIT
    _run_timers(w)


@target("host", runs=1_200, max_seconds=20.0)
def fuzz_host(data: bytes) -> None:
    """A Host receiving frames, running timers and serving a TCP listener and UDP
    sockets: nothing escapes, output decodes, tables stay bounded, timers converge."""
    _run(data, router=False)


@target("router", runs=1_200, max_seconds=20.0)
def fuzz_router(data: bytes) -> None:
    """A Router (a static route, a small-MTU link) forwarding and answering arbitrary
    frames: nothing escapes, output decodes, tables stay bounded, timers converge."""
    _run(data, router=True)


# ---- writing inputs (seeds) ---------------------------------------------------------
class Steps:
    """Writes an input for the node targets, step by step (the seeds are made with it)."""

    def __init__(self, *, small: bool = False) -> None:
        self._w = Writer().pick(int(small), 2)

    def raw(self, frame: bytes, iface: int = 0) -> Steps:
        self._w.pick(Op.RAW, len(Op)).pick(iface, len(IFACES)).chunk(frame)
        return self

    def ip(
        self, packet: bytes, iface: int = 0, *, bcast: bool = False, dst: int = 0, src: int = 0
    ) -> Steps:
        """An IP packet, fixed up on arrival; ``dst``/``src`` pick an address (0: keep)."""
        w = self._w.pick(Op.IP, len(Op)).pick(iface, len(IFACES)).pick(int(bcast), 2)
        w.pick(dst, 8).pick(src, 8).chunk(packet)
        return self

    def time(self, ms: int) -> Steps:
        self._w.pick(Op.TIME, len(Op)).uint(ms, 2).pick(0, 2)
        return self

    def app(self, action: App) -> Steps:
        self._w.pick(Op.APP, len(Op)).pick(action, len(App))
        return self

    def build(self) -> bytes:
        return self._w.build()
