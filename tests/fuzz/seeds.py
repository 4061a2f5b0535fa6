"""Writes the seed corpus of every target under tests/fuzz/corpus/<target>/ from real
frames, built with our codecs and with scapy (an independent encoder):

    python -m tests.fuzz.seeds          # (re)write the seeds; other files are left alone

Seeds are small (a frame or a short exchange each) and deterministic, so rewriting them
changes nothing unless this file changed. The node targets' seeds replay real exchanges
against the same node the target builds: a TCP handshake with data and close (our ISN
is read from the SYN-ACK the node sends), fragments, pings with options, errors.
Regression inputs from fixed bugs live beside them as ``regress-*`` and are never
rewritten here.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Iterator
from pathlib import Path

logging.getLogger("scapy.runtime").setLevel(logging.ERROR)

from scapy.layers.dns import DNS, DNSQR  # noqa: E402
from scapy.layers.inet import (  # noqa: E402
    ICMP,
    IP,
    TCP,
    UDP,
    IPOption_LSRR,
    IPOption_Router_Alert,
    IPOption_RR,
    IPOption_SSRR,
    IPOption_Timestamp,
    fragment,
)
from scapy.layers.l2 import ARP, Dot1Q, Ether  # noqa: E402
from scapy.packet import Raw  # noqa: E402

from nodes.wire.addr import ip_from_str  # noqa: E402
from nodes.wire.arp import ArpOp, ArpPacket  # noqa: E402
from nodes.wire.ethernet import ETH_P_IP, build_ethernet, parse_ethernet  # noqa: E402
from nodes.wire.icmp import (  # noqa: E402
    IcmpType,
    UnreachCode,
    build_echo,
    build_error,
    build_timestamp,
)
from nodes.wire.ipv4 import (  # noqa: E402
    RecordRoute,
    SourceRoute,
    Timestamp,
    build_ipv4,
    encode_options,
    parse_ipv4,
)
from nodes.wire.tcp import TcpFlags, TcpOptions, build_tcp, parse_tcp  # noqa: E402
from nodes.wire.udp import build_udp  # noqa: E402
from tests.fuzz import node_targets as nt  # noqa: E402
from tests.fuzz.node_targets import App, Steps  # noqa: E402
from tests.fuzz.registry import CORPUS  # noqa: E402

ME, PEER = "10.0.0.1", "10.0.0.2"
ME_I, PEER_I = ip_from_str(ME), ip_from_str(PEER)
MAC_ME, MAC_PEER = "02:00:00:00:00:01", "02:00:00:00:00:ee"
SYN_OPTS = [("MSS", 1460), ("SAckOK", b""), ("Timestamp", (1, 0)), ("NOP", None), ("WScale", 7)]


def addrs(src: str = PEER, dst: str = ME) -> bytes:
    return ip_from_str(src).to_bytes(4, "big") + ip_from_str(dst).to_bytes(4, "big")


# ---- wire parsers ---------------------------------------------------------------------
def ip_packets() -> Iterator[bytes]:
    base = IP(src=PEER, dst=ME, id=7)
    yield bytes(base / ICMP(id=1, seq=1) / Raw(b"abcdefgh"))
    yield bytes(IP(src=PEER, dst=ME, options=[IPOption_RR(routers=["0.0.0.0"] * 4)]) / ICMP())
    yield bytes(IP(src=PEER, dst=ME, options=[IPOption_Timestamp(flg=0)]) / ICMP())
    yield bytes(IP(src=PEER, dst=ME, options=[IPOption_Timestamp(flg=1)]) / ICMP())
    yield bytes(IP(src=PEER, dst=ME, options=[IPOption_LSRR(routers=["10.0.1.2"])]) / UDP())
    yield bytes(IP(src=PEER, dst=ME, options=[IPOption_SSRR(routers=["10.0.1.2"])]) / UDP())
    yield bytes(IP(src=PEER, dst=ME, options=[IPOption_Router_Alert()]) / UDP(dport=53))
    yield bytes(base / TCP(dport=80, flags="S", options=SYN_OPTS))
    yield bytes(base / UDP(sport=5353, dport=53) / DNS(qd=DNSQR(qname="wirelab.test")))
    pieces = fragment(base / UDP(dport=7) / Raw(bytes(300)), fragsize=96)  # type: ignore[no-untyped-call]
    yield from (bytes(f) for f in pieces)
    ts = Timestamp(5, 0, 3, ((PEER_I, 0), (ME_I, 0)))
    opts = encode_options([RecordRoute(4, (0, 0), 11), ts])
    yield build_ipv4(src=PEER_I, dst=ME_I, proto=1, payload=build_echo(8, 1, 2, b"x"),
                     options=opts)  # fmt: skip
    route = encode_options([SourceRoute(False, 4, (ME_I,))])
    yield build_ipv4(src=PEER_I, dst=ME_I, proto=17, payload=b"\0" * 8, options=route, df=True)


def icmp_messages() -> Iterator[bytes]:
    quoted = bytes(IP(src=ME, dst=PEER) / UDP(sport=40000, dport=53) / Raw(b"q" * 8))
    yield build_echo(IcmpType.ECHO_REQUEST, 1, 1, b"ping")
    yield build_echo(IcmpType.ECHO_REPLY, 1, 1, b"")
    yield build_error(IcmpType.DEST_UNREACH, UnreachCode.FRAG_NEEDED, quoted, mtu=1400)
    yield build_error(IcmpType.DEST_UNREACH, UnreachCode.PORT, quoted)
    yield build_error(IcmpType.TIME_EXCEEDED, 0, quoted)
    yield build_error(IcmpType.PARAM_PROBLEM, 0, quoted, pointer=20)
    yield build_error(IcmpType.REDIRECT, 1, quoted, gateway=ip_from_str("10.0.0.3"))
    yield build_timestamp(IcmpType.TIMESTAMP, 1, 2, 3, 0, 0)
    yield bytes(ICMP(type=14, id=1, seq=2, ts_ori=3, ts_rx=4, ts_tx=5))
    yield bytes(ICMP(type=3, code=3) / IP(src=ME, dst=PEER) / TCP(sport=80, dport=40000))


def udp_inputs() -> Iterator[bytes]:
    yield addrs() + build_udp(PEER_I, ME_I, 5353, 53, b"query")
    yield addrs() + bytes(IP(src=PEER, dst=ME) / UDP(sport=1, dport=7) / Raw(b"echo"))[20:]
    yield addrs() + bytes.fromhex("1f9000070000") + b"\0\0"  # checksum 0: none sent


def tcp_inputs() -> Iterator[bytes]:
    ip = IP(src=PEER, dst=ME)
    yield addrs() + bytes(ip / TCP(sport=40000, dport=80, flags="S", options=SYN_OPTS))[20:]
    sack = [("NOP", None), ("NOP", None), ("SAck", (1000, 2000, 3000, 4000))]
    yield addrs() + bytes(ip / TCP(flags="A", options=sack))[20:]
    ts = [("NOP", None), ("NOP", None), ("Timestamp", (100, 200))]
    yield addrs() + bytes(ip / TCP(flags="PA", options=ts) / Raw(b"data"))[20:]
    yield addrs() + bytes(ip / TCP(flags="FA", urgptr=3) / Raw(b"x"))[20:]
    opts = TcpOptions(mss=1460, wscale=7, sack_permitted=True, timestamp=(5, 6),
                      unknown=((30, b"mp"),))  # fmt: skip
    yield addrs() + build_tcp(PEER_I, ME_I, src_port=1, dst_port=2, seq=3, ack=4,
                              flags=TcpFlags.SYN, window=5, options=opts)  # fmt: skip


def frames() -> Iterator[bytes]:
    yield bytes(Ether(src=MAC_PEER, dst=MAC_ME) / IP(src=PEER, dst=ME) / ICMP())
    yield bytes(Ether(src=MAC_PEER, dst="ff:ff:ff:ff:ff:ff") / ARP(psrc=PEER, pdst=ME))
    yield bytes(Ether(src=MAC_PEER, dst=MAC_ME) / Dot1Q(vlan=5) / IP(src=PEER, dst=ME))
    yield build_ethernet(b"\x02" * 6, b"\x04" * 6, ETH_P_IP, b"")


def arp_packets() -> Iterator[bytes]:
    yield bytes(ARP(op=1, hwsrc=MAC_PEER, psrc=PEER, pdst=ME))
    yield bytes(ARP(op=2, hwsrc=MAC_PEER, psrc=PEER, hwdst=MAC_ME, pdst=ME))
    yield bytes(ARP(op=1, hwsrc=MAC_PEER, psrc=PEER, pdst=PEER))  # gratuitous
    yield ArpPacket(ArpOp.REQUEST, b"\x02" * 6, 0, bytes(6), ME_I).build() + bytes(18)


# ---- nodes ------------------------------------------------------------------------------
def _ip(pkt: IP) -> bytes:
    return bytes(pkt)


def handshake_steps(small: bool, *, sport: int = 40000) -> Steps:
    """A real TCP connection against the host target's node: SYN, ACK of the SYN-ACK
    that node really sends (our ISN read from it), data both ways, FIN, and a timeout."""
    w = nt._world(router=False, small=small)
    steps = Steps(small=small)

    def send(packet: bytes) -> list[bytes]:
        steps.ip(packet)
        frame = build_ethernet(w.node.interfaces.get("eth0").mac, nt.PEER_MAC, ETH_P_IP,
                               nt._fix_ip(packet, None, None))  # fmt: skip
        w.node.receive_frame("eth0", frame, now=w.now)
        return [f for _, f in w.node.frames_to_send()]

    def tcp(flags: str, seq: int, ack: int, data: bytes = b"", opts: list = []) -> bytes:  # type: ignore[type-arg]  # noqa: B006
        seg = TCP(sport=sport, dport=80, flags=flags, seq=seq, ack=ack, window=65535, options=opts)
        return (
            _ip(IP(src=PEER, dst=ME) / seg / Raw(data)) if data else _ip(IP(src=PEER, dst=ME) / seg)
        )

    out = send(tcp("S", 1000, 0, opts=[("MSS", 1460), ("SAckOK", b""), ("WScale", 7)]))
    synack = parse_tcp(parse_ipv4(parse_ethernet(out[-1]).payload).payload, ME_I, PEER_I)
    iss = synack.seq
    send(tcp("A", 1001, iss + 1))
    steps.app(App.ACCEPT_SEND)
    send(tcp("PA", 1001, iss + 1, b"GET / HTTP/1.0\r\n\r\n"))
    send(tcp("A", 1019, iss + 1 + 1080))
    send(tcp("FA", 1019, iss + 1 + 1080))
    steps.time(200).app(App.CLOSE).time(500)
    return steps


def host_seeds() -> Iterator[tuple[str, bytes]]:
    ping = _ip(IP(src=PEER, dst=ME) / ICMP(id=9, seq=1) / Raw(b"ping"))
    who_has = Ether(src=MAC_PEER, dst="ff:ff:ff:ff:ff:ff") / ARP(hwsrc=MAC_PEER, psrc=PEER, pdst=ME)
    yield "arp-request", Steps().raw(bytes(who_has)).build()
    yield "ping", Steps().ip(ping).time(10).build()
    yield "ping-rr", Steps().ip(_ip(IP(src=PEER, dst=ME, options=[IPOption_RR()]) / ICMP())).build()
    yield "ping-bcast", Steps().ip(ping, bcast=True, dst=2).build()
    yield "timestamp", Steps().ip(_ip(IP(src=PEER, dst=ME) / ICMP(type=13))).build()
    udp = _ip(IP(src=PEER, dst=ME) / UDP(sport=5353, dport=53) / Raw(b"query"))
    yield "udp-echo", Steps().ip(udp).app(App.UDP).build()
    yield "udp-closed", Steps().ip(_ip(IP(src=PEER, dst=ME) / UDP(dport=9))).time(5).build()
    datagram = IP(src=PEER, dst=ME, id=5) / UDP(dport=53) / Raw(bytes(200))
    frags = [bytes(f) for f in fragment(datagram, fragsize=64)]  # type: ignore[no-untyped-call]
    steps = Steps()
    for f in reversed(frags):
        steps.ip(f)
    yield "fragments", steps.build()
    yield "fragment-timeout", Steps(small=True).ip(frags[0]).time(3000).build()
    err = _ip(IP(src=PEER, dst=ME) / ICMP(type=3, code=4, nexthopmtu=576) /
              IP(src=ME, dst=PEER) / UDP(sport=53, dport=5353))  # fmt: skip
    yield "frag-needed", Steps().ip(err).app(App.UDP).build()
    yield "connect-unresolved", Steps(small=True).app(App.CONNECT).time(1000).time(3000).build()
    yield "handshake", handshake_steps(False).build()
    yield "handshake-small", handshake_steps(True).build()
    syns = Steps(small=True)
    for k in range(6):
        syns.ip(_ip(IP(src=f"10.0.0.{20 + k}", dst=ME) / TCP(sport=1000 + k, dport=80, flags="S")))
    yield "syn-flood-small", syns.time(1000).build()


def router_seeds() -> Iterator[tuple[str, bytes]]:
    far = "172.16.0.9"
    yield "forward", Steps().ip(_ip(IP(src=PEER, dst=far) / ICMP())).build()
    yield "ttl-1", Steps().ip(_ip(IP(src=PEER, dst=far, ttl=1) / UDP(dport=33434))).build()
    big = IP(src=PEER, dst=far) / UDP(dport=9) / Raw(bytes(1000))
    yield "fragment", Steps().ip(_ip(big)).build()
    yield (
        "frag-needed",
        Steps().ip(_ip(IP(src=PEER, dst=far, flags="DF") / Raw(bytes(900)))).build(),
    )
    yield "no-route", Steps().ip(_ip(IP(src=PEER, dst="198.51.100.1") / ICMP())).build()
    rr = IP(src=PEER, dst=far, options=[IPOption_RR(routers=["0.0.0.0"] * 3)]) / ICMP()
    yield "record-route", Steps().ip(_ip(rr)).build()
    yield "unresolved-next-hop", Steps(small=True).ip(_ip(IP(src=far, dst="10.0.0.77") / ICMP())) \
        .time(1000).time(1000).time(1500).build()  # fmt: skip
    yield "ping-router", Steps().ip(_ip(IP(src=PEER, dst=ME) / ICMP())).build()
    yield "from-far-side", Steps().ip(_ip(IP(src=far, dst=PEER) / TCP(flags="S")), iface=1).build()


def topology_seeds() -> Iterator[tuple[str, bytes]]:
    examples = Path(__file__).resolve().parents[2] / "topology" / "examples"
    for path in sorted(examples.glob("*.yaml")):
        yield f"seed-{path.stem}", path.read_bytes()
    yield "seed-broken", b"name: x\nnodes: {a: {kind: hots}}\nlinks: [{endpoints: [a, b]}]\n"


def lab_request_seeds() -> Iterator[tuple[str, bytes]]:
    from wirelab.v1 import lab_pb2, node_pb2

    from tests.fuzz.control_targets import LAB_REQUESTS

    spec = lab_pb2.LabFaultSpec(target=lab_pb2.FaultTarget(endpoint="r1:eth1"))
    spec.effects.loss, spec.effects.delay_ms, spec.effects.mtu = 0.05, 20.0, 1000
    examples: dict[type, object] = {
        lab_pb2.AddLabFaultRequest: lab_pb2.AddLabFaultRequest(lab="q", fault=spec),
        lab_pb2.LabPingRequest: lab_pb2.LabPingRequest(
            lab="q", node="h1", ping=node_pb2.PingRequest(destination="h2", count=3)
        ),
        lab_pb2.TransferRequest: lab_pb2.TransferRequest(
            lab="q", source="h1", destination="h2", size_bytes=10_000, timeout_ms=5000
        ),
        lab_pb2.LabSetInterfaceRequest: lab_pb2.LabSetInterfaceRequest(
            lab="q", node="r1", iface="eth1", mtu=1000, address="10.0.0.5/24"
        ),
        lab_pb2.LabAddRouteRequest: lab_pb2.LabAddRouteRequest(
            lab="q", node="h1", route=node_pb2.RouteConfig(prefix="10.9.0.0/24", gateway="10.0.0.1")
        ),
    }
    for k, (cls, _) in enumerate(LAB_REQUESTS):
        msg = examples.get(cls)
        if msg is not None:
            yield f"seed-{cls.__name__}", bytes([k]) + msg.SerializeToString()  # type: ignore[attr-defined]


def node_request_seeds() -> Iterator[tuple[str, bytes]]:
    from wirelab.v1 import common_pb2, node_pb2

    from tests.fuzz.control_targets import NODE_REQUESTS

    configure = node_pb2.ConfigureRequest(name="h1", kind=node_pb2.NODE_KIND_HOST)
    configure.interfaces.add(name="eth0", address="10.0.0.2", prefix_len=24, mtu=1500)
    configure.routes.add(prefix="0.0.0.0/0", gateway="10.0.0.1")
    examples: dict[type, object] = {
        node_pb2.ConfigureRequest: configure,
        common_pb2.FaultSpec: common_pb2.FaultSpec(iface="eth0", loss=0.1, mtu=1200, seed=3),
        node_pb2.AppConfig: node_pb2.AppConfig(kind="sink", port=5001),
        node_pb2.RouteConfig: node_pb2.RouteConfig(prefix="10.9.0.0/24", iface="eth1"),
    }
    for k, (cls, _) in enumerate(NODE_REQUESTS):
        msg = examples.get(cls)
        if msg is not None:
            yield f"seed-{cls.__name__}", bytes([k]) + msg.SerializeToString()  # type: ignore[attr-defined]


SEEDS: dict[str, Callable[[], Iterator[tuple[str, bytes]]]] = {
    "ethernet": lambda: ((f"seed-{k}", b) for k, b in enumerate(frames())),
    "arp": lambda: ((f"seed-{k}", b) for k, b in enumerate(arp_packets())),
    "ipv4": lambda: ((f"seed-{k}", b) for k, b in enumerate(ip_packets())),
    "icmp": lambda: ((f"seed-{k}", b) for k, b in enumerate(icmp_messages())),
    "udp": lambda: ((f"seed-{k}", b) for k, b in enumerate(udp_inputs())),
    "tcp": lambda: ((f"seed-{k}", b) for k, b in enumerate(tcp_inputs())),
    "host": host_seeds,
    "router": router_seeds,
    "topology": topology_seeds,
    "lab_requests": lab_request_seeds,
    "node_requests": node_request_seeds,
}


def write(root: Path = CORPUS) -> int:
    """Write every seed (``<name>-<hash>``); returns how many files there are."""
    count = 0
    for target, make in SEEDS.items():
        folder = root / target
        folder.mkdir(parents=True, exist_ok=True)
        for old in folder.glob("seed-*"):
            old.unlink()
        for name, data in make():
            digest = hashlib.sha1(data).hexdigest()[:8]
            stem = name if name.startswith("seed-") else f"seed-{name}"
            (folder / f"{stem}-{digest}").write_bytes(data)
            count += 1
    return count


if __name__ == "__main__":
    print(f"{write()} seed files under {CORPUS}")
