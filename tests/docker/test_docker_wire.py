"""Our stack on the wire, in Docker: frames read by the HOST kernel from the lab's bridges
(not by our nodes) and decoded by scapy, an independent decoder.

- host - router - host: ping and traceroute through our router (TTLs, ICMP errors);
- a Linux node pings our host, our host pings it, Linux's traceroute crosses our router;
- every IPv4 packet our nodes emit has valid IP/ICMP/TCP/UDP checksums, every frame comes
  from a planned MAC (never one of Docker's 02:42:.. ones), and the kernel inside our nodes
  stays silent: no address, no ARP, exactly one answer (ours) to each ARP request, echo
  request, SYN to a closed port and UDP datagram to a closed port.

The captures open an AF_PACKET socket on each data network's bridge (``br-<id>``) in
promiscuous mode: the bridge then passes up a copy of every frame it forwards. The lab
(tests/docker/topologies/e2e.yaml) has a name unique to this run and is destroyed after the
module; nothing of it may be left behind.
"""

from __future__ import annotations

import ctypes
import select
import socket
import struct
import threading
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from types import TracebackType

import docker
import pytest
from scapy.layers.inet import ICMP, IP, TCP, UDP, IPerror, UDPerror
from scapy.layers.l2 import ARP, Ether
from scapy.packet import Packet

import topology
from orchestrator.domain import requests
from orchestrator.domain.results import PingReport
from orchestrator.lab import labels as L
from orchestrator.lab.session import LabSession

pytestmark = pytest.mark.docker

RPC = 30.0

# ---- capture on the host's bridges (the same helper is in test_docker_tcp/interop.py) -----

SOL_PACKET, PACKET_ADD_MEMBERSHIP, PACKET_MR_PROMISC, PACKET_STATISTICS = 263, 1, 1, 6
SO_ATTACH_FILTER, SO_RCVBUFFORCE, ETH_P_ALL, PACKET_OUTGOING = 26, 33, 0x0003, 4
Bpf = Sequence[tuple[int, int, int, int]]  # classic BPF: (code, jt, jf, k)


@dataclass(frozen=True, slots=True)
class Frame:
    link: str
    data: bytes

    @property
    def src(self) -> str:
        return ":".join(f"{b:02x}" for b in self.data[6:12])


class _SockFilter(ctypes.Structure):
    _fields_ = [
        ("code", ctypes.c_uint16),
        ("jt", ctypes.c_uint8),
        ("jf", ctypes.c_uint8),
        ("k", ctypes.c_uint32),
    ]


def _attach(sock: socket.socket, program: Bpf) -> None:
    insns = (_SockFilter * len(program))(*(_SockFilter(*i) for i in program))
    fprog = struct.pack("HL", len(program), ctypes.addressof(insns))
    sock.setsockopt(socket.SOL_SOCKET, SO_ATTACH_FILTER, fprog)


def bridges(lab: str) -> dict[str, str]:
    """Data link name -> the host's bridge device of its Docker network."""
    client = docker.from_env()
    try:
        nets = client.networks.list(filters={"label": [f"{L.LAB}={lab}", f"{L.KIND}=data"]})
        return {n.attrs["Labels"][L.LINK]: f"br-{n.id[:12]}" for n in nets}
    finally:
        client.close()


class Wire:
    """Every frame crossing some of a lab's bridges while the ``with`` block runs, read by
    the host (frames the host itself sends are left out). ``bpf`` keeps only matching
    frames (for busy links)."""

    def __init__(self, session: LabSession, links: Sequence[str] = (), bpf: Bpf = ()) -> None:
        found = bridges(session.name)
        self.links = {link: found[link] for link in (links or found)}
        self.bpf = bpf
        self.frames: list[Frame] = []
        self.dropped = 0
        self._socks: dict[socket.socket, str] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> Wire:
        for link, bridge in self.links.items():
            sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, 0)  # nothing until bound
            sock.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, 32 << 20)
            if self.bpf:
                _attach(sock, self.bpf)
            index = socket.if_nametoindex(bridge)
            mreq = struct.pack("iHH8s", index, PACKET_MR_PROMISC, 0, b"")
            sock.setsockopt(SOL_PACKET, PACKET_ADD_MEMBERSHIP, mreq)
            sock.bind((bridge, ETH_P_ALL))
            self._socks[sock] = link
        self._thread.start()
        return self

    def _drain(self, sock: socket.socket) -> None:
        while True:
            try:
                data, address = sock.recvfrom(65535, socket.MSG_DONTWAIT)
            except BlockingIOError:
                return
            if address[2] != PACKET_OUTGOING:
                self.frames.append(Frame(self._socks[sock], data))

    def _run(self) -> None:
        while not self._stop.is_set():
            ready, _, _ = select.select(list(self._socks), [], [], 0.05)
            for sock in ready:
                self._drain(sock)

    def __exit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._stop.set()
        self._thread.join()
        for sock in self._socks:
            self._drain(sock)
            _, drops = struct.unpack("II", sock.getsockopt(SOL_PACKET, PACKET_STATISTICS, 8))
            self.dropped += drops
            sock.close()

    def on(self, link: str) -> list[Ether]:
        return [Ether(f.data) for f in self.frames if f.link == link]

    def decoded(self) -> list[tuple[Frame, Ether]]:
        return [(f, Ether(f.data)) for f in self.frames]


def our_macs(session: LabSession) -> set[str]:
    """The MACs of our stack's interfaces (hosts and routers)."""
    return {
        i.mac_str
        for n in session.lab.nodes
        if n.kind is not topology.NodeKind.LINUX
        for i in n.interfaces
    }


def assert_clean(
    wire: Wire, session: LabSession, checksum_errors: Callable[[Packet], list[str]]
) -> int:
    """Every frame on the lab's links comes from a planned MAC of its link, and every IPv4
    packet our nodes sent has valid checksums. Returns how many frames of ours were checked."""
    planned: dict[str, set[str]] = {}
    for n in session.lab.nodes:
        for i in n.interfaces:
            planned.setdefault(i.segment, set()).add(i.mac_str)
    ours = our_macs(session)
    strangers = Counter(f"{f.link}:{f.src}" for f in wire.frames if f.src not in planned[f.link])
    assert not strangers, f"frames from MACs nobody planned (the kernel's?): {strangers}"
    errors = [e for f in wire.frames if f.src in ours for e in checksum_errors(Ether(f.data))]
    assert not errors, f"{len(errors)} bad checksums, e.g. {errors[:5]}"
    return sum(f.src in ours for f in wire.frames)


# ---- helpers (the lab: ``lab`` of conftest.py, topologies/e2e.yaml) --------------------------


def ping(session: LabSession, src: str, dst: str, count: int = 3) -> PingReport:
    request = requests.ping(dst, count=count, interval="50ms", wait="2s")
    return session.agent(src).ping(request, timeout=RPC)


def mac(session: LabSession, node: str, iface: str) -> str:
    """The planned MAC of ``node``'s interface."""
    return session.node(node).interface(iface).mac_str


def sh(session: LabSession, node: str, command: str, timeout: float = 20.0) -> str:
    """A shell command in a node; its output (stdout and stderr)."""
    result = session.exec(node, ["sh", "-c", command], timeout=timeout)
    assert result.exit_code == 0, f"{node}: {command}: {result.output}"
    return result.output


def echo_requests(frames: Sequence[Ether], dst: str) -> list[Ether]:
    return [p for p in frames if ICMP in p and p[ICMP].type == 8 and p[IP].dst == dst]


def echo_replies(frames: Sequence[Ether], src: str) -> list[Ether]:
    return [p for p in frames if ICMP in p and p[ICMP].type == 0 and p[IP].src == src]


# ---- the tests -------------------------------------------------------------------------------


def test_ping_and_traceroute_through_our_router(
    lab: LabSession, checksum_errors: Callable[[Packet], list[str]]
) -> None:
    h1, h2 = lab.address("h1"), lab.address("h2")
    r1_in = lab.address("r1", "eth0")
    with Wire(lab, ["h1-r1", "r1-h2"]) as wire:
        reply = ping(lab, "h1", h2, count=3)
        trace = lab.agent("h1").traceroute(
            requests.traceroute(h2, probes=2, wait="1s"), timeout=RPC
        )
    assert reply.received == 3 and [r.ttl for r in reply.results] == [63, 63, 63]
    assert trace.reached and [h.responder for h in trace.hops] == [r1_in, h2]
    assert {(p.icmp_type, p.icmp_code) for p in trace.hops[0].probes} == {(11, 0)}
    assert {(p.icmp_type, p.icmp_code) for p in trace.hops[1].probes} == {(3, 3)}

    left, right = wire.on("h1-r1"), wire.on("r1-h2")
    # The echo requests leave h1 with TTL 64 and r1 forwards them with 63, payload intact.
    sent, forwarded = echo_requests(left, h2), echo_requests(right, h2)
    assert [p[IP].ttl for p in sent] == [64] * 3 and [p[IP].ttl for p in forwarded] == [63] * 3
    assert [bytes(p[ICMP]) for p in sent] == [bytes(p[ICMP]) for p in forwarded]
    assert [p[Ether].src for p in forwarded] == [mac(lab, "r1", "eth1")] * 3
    assert [p[IP].ttl for p in echo_replies(right, h2)] == [64] * 3
    assert [p[IP].ttl for p in echo_replies(left, h2)] == [63] * 3
    # traceroute: r1 says time exceeded from its address on h1's side, quoting the probe;
    # h2 says port unreachable (through r1, TTL 63).
    exceeded = [p for p in left if ICMP in p and p[ICMP].type == 11 and p[IP].src == r1_in]
    assert len(exceeded) == 2 and all(p[ICMP].code == 0 for p in exceeded)
    quoted = exceeded[0][IPerror]
    assert quoted.src == lab.address("h1") and quoted.dst == h2 and quoted.ttl <= 1
    assert UDPerror in exceeded[0] and exceeded[0][UDPerror].dport >= 33434
    unreachable = [p for p in left if ICMP in p and p[ICMP].type == 3 and p[IP].src == h2]
    assert len(unreachable) == 2 and all(p[ICMP].code == 3 for p in unreachable)
    assert all(p[IP].ttl == 63 for p in unreachable)
    assert h1 == quoted.src
    assert assert_clean(wire, lab, checksum_errors) >= 20
    assert wire.dropped == 0


def test_a_linux_node_and_our_host_ping_each_other(
    lab: LabSession, checksum_errors: Callable[[Packet], list[str]]
) -> None:
    h1, lx1 = lab.address("h1"), lab.address("lx1")
    with Wire(lab, ["h1-r1", "r1-lx1"]) as wire:
        out = sh(lab, "lx1", f"ping -c 3 -i 0.2 -W 2 {h1}")
        reply = ping(lab, "h1", lx1, count=3)
        trace = sh(lab, "lx1", f"traceroute -n -N 1 -q 1 -w 2 {h1}")
    assert "3 received" in out and "DUP!" not in out, out
    assert reply.received == 3 and {r.ttl for r in reply.results} == {63}  # Linux: TTL 64
    hops = [line.split()[1] for line in trace.splitlines()[1:] if line.strip()]
    assert hops == [lab.address("r1", "eth2"), h1], trace

    left, right = wire.on("h1-r1"), wire.on("r1-lx1")
    # Linux's requests reach h1 through r1; h1 answers each exactly once.
    assert len(echo_requests(left, h1)) == 3
    assert len(echo_replies(left, h1)) == 3 and len(echo_replies(right, h1)) == 3
    assert {p[IP].ttl for p in echo_replies(right, h1)} == {63}
    # Our requests reach Linux; Linux's replies come back through r1.
    assert len(echo_requests(right, lx1)) == 3 and len(echo_replies(left, lx1)) == 3
    assert assert_clean(wire, lab, checksum_errors) >= 12
    # Linux's frames are whole too (its offloads are off: DESIGN.md §4).
    linux = [f for f in wire.frames if f.link == "r1-lx1" and f.src not in our_macs(lab)]
    assert linux and not [e for f in linux for e in checksum_errors(Ether(f.data))]


def kernel_view(session: LabSession, node: str) -> dict[str, tuple[str, list[str]]]:
    """MAC -> (link flags, IPv4 addresses) of each device, as the node's kernel sees it."""
    links = sh(session, node, "ip -o link show").splitlines()
    addrs = sh(session, node, "ip -4 -o addr show").splitlines()
    view: dict[str, tuple[str, list[str]]] = {}
    for line in links:
        fields = line.split()
        if "link/ether" in fields:
            device = fields[1].rstrip(":").split("@")[0]
            mac = fields[fields.index("link/ether") + 1]
            held = [a.split()[3] for a in addrs if a.split()[1] == device]
            view[mac] = (fields[2], held)
    return view


def test_the_kernel_in_our_nodes_never_answers_for_our_addresses(
    lab: LabSession, checksum_errors: Callable[[Packet], list[str]]
) -> None:
    # Inside our nodes: each data device carries its planned MAC, no IPv4 address, ARP off.
    for node in ("h1", "r1", "h2"):
        view = kernel_view(lab, node)
        for iface in lab.node(node).interfaces:
            assert iface.mac_str in view, f"{node}: no device has {iface.mac_str}: {view}"
            flags, held = view[iface.mac_str]
            assert held == [] and "NOARP" in flags, f"{node} {iface.name}: {flags} {held}"

    h2, r1 = lab.address("h2"), lab.address("r1", "eth2")
    with Wire(lab) as wire:
        sh(lab, "lx1", "ip neigh flush dev eth0")
        sh(lab, "lx1", f"ping -c 3 -i 0.2 -W 2 {r1} && ping -c 3 -i 0.2 -W 2 {h2}")
        refused = lab.exec("lx1", ["curl", "-sS", "-m", "5", f"http://{h2}:9/"], timeout=10)
        page = sh(lab, "lx1", f"curl -sS -m 5 http://{h2}/")
        udp = sh(lab, "lx1", f"traceroute -n -N 1 -q 1 -w 2 -m 3 {h2}")
    assert refused.exit_code == 7, refused.output  # "Couldn't connect": refused at once
    assert "wirelab" in page and udp.splitlines()[-1].split()[1] == h2
    near, far = wire.on("r1-lx1"), wire.on("r1-h2")  # lx1's link, h2's link

    # ARP: one reply per request for our address, and from our MAC only.
    for frames in (near, far):
        asked = Counter(p[ARP].pdst for p in frames if ARP in p and p[ARP].op == 1)
        told = Counter(p[ARP].psrc for p in frames if ARP in p and p[ARP].op == 2)
        assert all(told[a] <= asked[a] for a in told), (asked, told)
    assert [p[Ether].src for p in near if ARP in p and p[ARP].psrc == r1 and p[ARP].op == 2] == [
        mac(lab, "r1", "eth2")
    ]
    # Echo: exactly one reply per request (the kernel's would be a DUP!).
    for dst, frames in ((r1, near), (h2, far)):
        requests = Counter((p[ICMP].id, p[ICMP].seq) for p in echo_requests(frames, dst))
        replies = Counter((p[ICMP].id, p[ICMP].seq) for p in echo_replies(frames, dst))
        assert len(requests) == 3 and replies == requests, (dst, requests, replies)
    # A SYN to a closed port: one RST (ours), and no RST at all around the HTTP exchange.
    syns = [p for p in far if TCP in p and p[IP].dst == h2 and p[TCP].flags == "S"]
    resets = [p for p in far if TCP in p and p[IP].src == h2 and p[TCP].flags.R]
    assert sorted(p[TCP].dport for p in syns) == [9, 80]
    assert [(p[TCP].sport, p[TCP].dport) for p in resets] == [
        (9, p[TCP].sport) for p in syns if p[TCP].dport == 9
    ]
    # UDP to a closed port: one port unreachable per datagram that reached h2.
    probes = Counter(p[IP].id for p in far if UDP in p and p[IP].dst == h2)
    answers = Counter(
        p[IPerror].id
        for p in far
        if ICMP in p and p[IP].src == h2 and p[ICMP].type == 3 and p[ICMP].code == 3
    )
    assert answers and answers == probes, (probes, answers)
    assert assert_clean(wire, lab, checksum_errors) >= 20
    assert wire.dropped == 0
