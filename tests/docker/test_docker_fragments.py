"""Frames cross a lab's links exactly as sent (issue 11), in Docker.

The host runs br_netfilter (Docker's default), so without orchestrator/lab/hostnet.py
its conntrack reassembles IPv4 fragments on every bridge: a lone fragment, an overlapping
or teardrop series and a series with a fragment lost never reach the neighbour. Here
frames are sent raw from a linux-kind node's network namespace (an AF_PACKET socket made
there by a thread of this process that entered it) to our host h1, captured byte-equal by
an AF_PACKET socket in h1's namespace, and the lost fragment's ICMP time exceeded
(reassembly, type 11 code 1) from h1, ``reassembly_timeout`` later, is captured in lx1's
namespace and decoded by scapy. TCP segments conntrack would call INVALID (far outside the
window, a SYN-ACK out of nowhere) cross unchanged too.

Deploy says what it changed on the host (progress step ``host``) and destroy restores it:
the lab's notrack rule names exactly its data bridges (it has no other: the agents listen
on Unix sockets) and is gone after destroy. Needs root (entering namespaces, nft); labs are
named ``frag<random>``.
"""

from __future__ import annotations

import ctypes
import os
import select
import socket
import subprocess
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import docker
import pytest
from scapy.layers.inet import ICMP, IP, TCP, UDP, IPerror, UDPerror
from scapy.layers.l2 import Ether
from scapy.packet import Raw

import topology
from orchestrator.domain import requests
from orchestrator.domain.lab import DeployProgress
from orchestrator.image.build import BuildResult
from orchestrator.lab import hostnet
from orchestrator.lab import labels as L
from orchestrator.lab.backends.docker import DockerBackend
from orchestrator.lab.deploy import deploy
from orchestrator.lab.remove import destroy
from orchestrator.lab.session import LabSession

pytestmark = pytest.mark.docker

REASSEMBLY_TIMEOUT = 2.0  # s: h1's reassembly_timeout (30 s by default)
RPC = 30.0
CLONE_NEWNET = 0x40000000
ETH_P_ALL, PACKET_OUTGOING = 0x0003, 4
SINK_PORT = 5001

TOPOLOGY = f"""
name: NAME
defaults:
  reassembly_timeout: {REASSEMBLY_TIMEOUT}
nodes:
  h1: {{kind: host, apps: [sink:{SINK_PORT}]}}
  lx1: {{kind: linux}}
links:
  - endpoints: [lx1:eth0, h1:eth0]
"""


# ---- raw frames in a container's network namespace -------------------------------------------


def container_pid(lab: str, node: str) -> int:
    client = docker.from_env()
    try:
        return int(client.containers.get(L.container_name(lab, node)).attrs["State"]["Pid"])
    finally:
        client.close()


def packet_socket(pid: int, iface: str | None = None) -> socket.socket:
    """An AF_PACKET socket in the network namespace of process ``pid`` (bound to ``iface``
    there, or receiving from every interface). A short-lived thread enters the namespace
    and makes it: a socket belongs to the namespace it was made in; this thread and the
    rest of the process stay where they are."""
    made: list[socket.socket] = []
    failed: list[BaseException] = []

    def inside() -> None:
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            fd = os.open(f"/proc/{pid}/ns/net", os.O_RDONLY)
            try:
                if libc.setns(fd, CLONE_NEWNET) != 0:
                    raise OSError(ctypes.get_errno(), f"setns into {pid}'s network namespace")
            finally:
                os.close(fd)
            sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
            if iface is not None:
                sock.bind((iface, ETH_P_ALL))
            made.append(sock)
        except BaseException as exc:  # re-raised in the caller
            failed.append(exc)

    thread = threading.Thread(target=inside, name="netns")
    thread.start()
    thread.join()
    if failed:
        raise failed[0]
    return made[0]


@dataclass(frozen=True, slots=True)
class Arrival:
    at: float  # time.monotonic()
    data: bytes


def receive(
    sock: socket.socket,
    keep: Callable[[bytes], bool],
    done: Callable[[list[Arrival]], bool],
    timeout: float,
) -> list[Arrival]:
    """Frames arriving on ``sock`` that ``keep`` wants, until ``done`` says so or timeout."""
    deadline = time.monotonic() + timeout
    out: list[Arrival] = []
    while not done(out):
        left = deadline - time.monotonic()
        if left <= 0:
            break
        ready, _, _ = select.select([sock], [], [], left)
        if not ready:
            continue
        data, address = sock.recvfrom(65535)
        if address[2] != PACKET_OUTGOING and keep(data):
            out.append(Arrival(time.monotonic(), data))
    return out


@dataclass
class Wire:
    """lx1 (linux, kernel stack idle: raw frames only) -- h1 (our host)."""

    session: LabSession
    events: list[DeployProgress]
    lx1_mac: str
    h1_mac: str
    lx1_ip: str
    h1_ip: str
    send: socket.socket  # in lx1, bound to its data interface
    at_h1: socket.socket  # in h1, every interface
    at_lx1: socket.socket  # in lx1, every interface

    def eth(self) -> Ether:
        return Ether(src=self.lx1_mac, dst=self.h1_mac)

    def from_lx1(self, data: bytes) -> bool:
        return data[6:12] == bytes.fromhex(self.lx1_mac.replace(":", ""))

    def from_h1(self, data: bytes) -> bool:
        return data[6:12] == bytes.fromhex(self.h1_mac.replace(":", ""))

    def drain(self) -> None:
        for sock in (self.at_h1, self.at_lx1):
            receive(sock, lambda _: False, lambda _: False, 0.05)

    def cross(self, frames: Sequence[bytes], timeout: float = 3.0) -> tuple[list[bytes], float]:
        """Send ``frames`` (IPv4) from lx1; the IPv4 frames with their IP ids that h1's
        namespace received from lx1 meanwhile (lx1's kernel may ARP at any time), and when
        the last one was sent."""
        self.drain()
        ids = {frame[18:20] for frame in frames}
        for frame in frames:
            self.send.send(frame)
        sent = time.monotonic()
        wanted = set(frames)

        def keep(data: bytes) -> bool:
            return self.from_lx1(data) and data[12:14] == b"\x08\x00" and data[18:20] in ids

        got = receive(self.at_h1, keep, lambda out: wanted <= {a.data for a in out}, timeout)
        return [a.data for a in got], sent

    def counters(self) -> dict[str, int]:
        return dict(self.session.agent("h1").counters().stack)


def lab_text(name: str) -> topology.Lab:
    return topology.load_text(TOPOLOGY.replace("NAME", name, 1))


def our_rule(lab: str) -> hostnet.LabRule | None:
    return hostnet.HostNet().current().rule(lab)


def data_and_management_bridges(lab: str) -> tuple[set[str], set[str]]:
    client = docker.from_env()
    try:
        nets = client.networks.list(filters={"label": f"{L.LAB}={lab}"})
        data = {f"br-{n.id[:12]}" for n in nets if n.attrs["Labels"].get(L.KIND) == L.KIND_DATA}
        mgmt = {f"br-{n.id[:12]}" for n in nets if n.attrs["Labels"].get(L.KIND) != L.KIND_DATA}
        return data, mgmt
    finally:
        client.close()


def host_messages(events: Sequence[DeployProgress]) -> list[str]:
    return [e.message for e in events if e.step == hostnet.STEP]


@pytest.fixture(scope="module")
def needs_root() -> None:
    if os.geteuid() != 0:
        pytest.skip("entering a container's network namespace and nft need root")


@pytest.fixture(scope="module")
def wire(needs_root: None, node_image: BuildResult) -> Iterator[Wire]:
    planned = lab_text(f"frag{uuid.uuid4().hex[:6]}")
    backend = DockerBackend(image=node_image.tag)
    events: list[DeployProgress] = []
    sockets: list[socket.socket] = []
    session: LabSession | None = None
    try:
        session = LabSession(deploy(planned, backend, progress=events.append))
        lx1, h1 = planned.node("lx1").interfaces[0], planned.node("h1").interfaces[0]
        links = session.exec("lx1", ["ip", "-o", "link"], timeout=10).output
        iface = next(
            line.split(":")[1].strip().split("@")[0]
            for line in links.splitlines()
            if lx1.mac_str in line
        )
        lx1_pid, h1_pid = container_pid(planned.name, "lx1"), container_pid(planned.name, "h1")
        sockets += [packet_socket(lx1_pid, iface), packet_socket(h1_pid), packet_socket(lx1_pid)]
        # h1 learns lx1's MAC first: its ICMP errors then leave at once
        ping = requests.ping(str(lx1.address), count=1, wait="2s")
        assert session.agent("h1").ping(ping, timeout=RPC).received == 1
        yield Wire(
            session,
            events,
            lx1.mac_str,
            h1.mac_str,
            str(lx1.address),
            str(h1.address),
            *sockets,
        )
    finally:
        for sock in sockets:
            sock.close()
        if session is not None:
            session.close(destroy=False)
        destroy(planned.name, backend)
    assert our_rule(planned.name) is None


# ---- the tests -----------------------------------------------------------------------------


def test_deploy_says_what_it_changed_and_only_the_labs_data_bridges_skip_conntrack(
    wire: Wire,
) -> None:
    messages = host_messages(wire.events)
    assert len(messages) == 1, [str(e) for e in wire.events]
    assert hostnet.WHERE in messages[0] and hostnet.WHAT in messages[0]  # maybe shared with a lab
    assert "lab's 1 bridge skip the host's conntrack" in messages[0]
    data, mgmt = data_and_management_bridges(wire.session.name)
    rule = our_rule(wire.session.name)
    assert rule is not None and set(rule.bridges) == data and len(data) == 1
    assert mgmt == set()  # the agents listen on Unix sockets, on no network


def test_a_lone_fragment_arrives_as_sent(wire: Wire) -> None:
    frame = bytes(
        wire.eth()
        / IP(src=wire.lx1_ip, dst=wire.h1_ip, id=0x1101, flags="MF", proto=17)
        / Raw(b"L" * 64)
    )
    before = wire.counters()
    got, _ = wire.cross([frame])
    assert got == [frame]
    after = wire.counters()
    assert after["ip_reasm_reqds"] - before["ip_reasm_reqds"] == 1  # our h1 got it


def test_an_overlapping_series_arrives_as_sent_and_h1_refuses_it(wire: Wire) -> None:
    ip: dict[str, Any] = {"src": wire.lx1_ip, "dst": wire.h1_ip, "id": 0x1102, "proto": 17}
    frames = [
        bytes(wire.eth() / IP(**ip, flags="MF", frag=0) / Raw(b"A" * 48)),
        bytes(wire.eth() / IP(**ip, flags="MF", frag=3) / Raw(b"B" * 48)),  # 24..72 over 0..48
        bytes(wire.eth() / IP(**ip, frag=9) / Raw(b"C" * 16)),
    ]
    before = wire.counters()
    got, _ = wire.cross(frames)
    assert got == frames
    after = wire.counters()
    assert after["ip_reasm_reqds"] - before["ip_reasm_reqds"] == 3
    assert after["ip_reasm_overlaps"] - before["ip_reasm_overlaps"] == 1


def test_a_teardrop_series_arrives_as_sent(wire: Wire) -> None:
    """The teardrop attack's pair: the second fragment lies inside the first one."""
    ip: dict[str, Any] = {"src": wire.lx1_ip, "dst": wire.h1_ip, "id": 0x1103}
    first = IP(**ip, flags="MF", frag=0) / UDP(sport=4000, dport=9, len=36) / Raw(b"T" * 28)
    second = IP(**ip, proto=17, frag=3) / Raw(b"T" * 4)  # bytes 24..28: inside 0..36
    frames = [bytes(wire.eth() / first), bytes(wire.eth() / second)]
    before = wire.counters()
    got, _ = wire.cross(frames)
    assert got == frames
    after = wire.counters()
    assert after["ip_reasm_reqds"] - before["ip_reasm_reqds"] == 2
    assert after["ip_reasm_fails"] > before["ip_reasm_fails"]


def test_a_lost_fragment_yields_icmp_time_exceeded_after_the_reassembly_timeout(
    wire: Wire,
) -> None:
    ip: dict[str, Any] = {"src": wire.lx1_ip, "dst": wire.h1_ip, "id": 0x1104, "proto": 17}
    datagram = bytes(IP(**ip) / UDP(sport=4001, dport=9) / Raw(b"F" * 3000))[20:]
    pieces = [  # 1400-byte fragments (a multiple of 8), as a 1420-byte MTU would make
        IP(**ip, flags="MF" if at + 1400 < len(datagram) else 0, frag=at // 8)
        / Raw(datagram[at : at + 1400])
        for at in range(0, len(datagram), 1400)
    ]
    assert len(pieces) == 3
    frames = [bytes(wire.eth() / pieces[0]), bytes(wire.eth() / pieces[2])]  # the middle lost
    before = wire.counters()
    got, sent = wire.cross(frames)
    assert got == frames

    def time_exceeded(data: bytes) -> bool:  # about this datagram (not an earlier test's)
        p = Ether(data)
        return wire.from_h1(data) and IPerror in p and p[IPerror].id == 0x1104

    answers = receive(wire.at_lx1, time_exceeded, bool, REASSEMBLY_TIMEOUT + 3.0)
    assert answers, f"no ICMP time exceeded from h1 within {REASSEMBLY_TIMEOUT + 3.0:.0f} s"
    waited = answers[0].at - sent
    assert REASSEMBLY_TIMEOUT - 0.3 <= waited <= REASSEMBLY_TIMEOUT + 1.5, waited
    icmp = Ether(answers[0].data)  # scapy decodes it, not our codecs
    assert (icmp[IP].src, icmp[IP].dst) == (wire.h1_ip, wire.lx1_ip)
    assert (icmp[ICMP].type, icmp[ICMP].code) == (11, 1)  # fragment reassembly time exceeded
    quoted = icmp[IPerror]
    assert (quoted.src, quoted.dst, quoted.id, quoted.frag) == (wire.lx1_ip, wire.h1_ip, 0x1104, 0)
    assert (icmp[UDPerror].sport, icmp[UDPerror].dport) == (4001, 9)
    after = wire.counters()
    assert after["ip_reasm_timeout"] > before["ip_reasm_timeout"]


def test_tcp_segments_conntrack_calls_invalid_arrive_as_sent(wire: Wire) -> None:
    """A Linux client's connection to h1's sink; then, raw from lx1, a segment 1 GiB past
    the window and a SYN-ACK nobody asked for: the host's conntrack would mark both
    INVALID (measured: they pass only because Docker accepts everything within a bridge)."""
    client = (
        "import socket, time\n"
        f"s = socket.create_connection(({wire.h1_ip!r}, {SINK_PORT}))\n"
        "s.sendall(b'hello')\n"
        "time.sleep(2)\n"
    )
    wire.drain()
    running = threading.Thread(
        target=wire.session.exec, args=("lx1", ["python3", "-c", client]), kwargs={"timeout": 20}
    )
    running.start()
    try:

        def data_to_h1(out: list[Arrival]) -> bool:
            return any(TCP in Ether(a.data) and Ether(a.data)[TCP].payload for a in out)

        seen = receive(wire.at_h1, wire.from_lx1, data_to_h1, 10.0)
        hello = next(Ether(a.data) for a in seen if data_to_h1([a]))
        seq = hello[TCP].seq + len(hello[TCP].payload)
        ip: dict[str, Any] = {"src": wire.lx1_ip, "dst": wire.h1_ip}
        far = (
            wire.eth()
            / IP(**ip, id=0x1105)
            / TCP(
                sport=hello[TCP].sport,
                dport=SINK_PORT,
                flags="PA",
                seq=(seq + (1 << 30)) % (1 << 32),
                ack=hello[TCP].ack,
                window=500,
            )
            / Raw(b"far")
        )
        stray = (
            wire.eth()
            / IP(**ip, id=0x1106)
            / TCP(sport=40000, dport=SINK_PORT, flags="SA", seq=1, ack=1, window=500)
        )
        frames = [bytes(far), bytes(stray)]
        got, _ = wire.cross(frames)
        assert got == frames
    finally:
        running.join()


def test_destroy_restores_the_host(needs_root: None, node_image: BuildResult) -> None:
    """A lab of two linux nodes (no agents: quick): deploy adds its rule, destroy removes
    it, and says so; with no other lab left the table itself is gone."""
    name = f"frag{uuid.uuid4().hex[:6]}r"
    planned = topology.load_text(
        f"name: {name}\nnodes: {{a: {{kind: linux}}, b: {{kind: linux}}}}\n"
        "links: [{endpoints: [a, b]}]\n"
    )
    backend = DockerBackend(image=node_image.tag)
    events: list[DeployProgress] = []
    try:
        deploy(planned, backend, progress=events.append)
        assert our_rule(name) is not None
        deploy(planned, backend, progress=events.append)  # handed out again: unchanged
        assert "already lets the lab's 1 bridge skip" in host_messages(events)[-1]
    finally:
        destroy(name, backend, progress=events.append)
    assert our_rule(name) is None
    restored = host_messages(events)[-1]
    assert restored.startswith("removed the lab's notrack rule")
    current = hostnet.HostNet().current()
    if not current.rules:  # no other lab on this host needed the table
        assert "the host's ruleset is as before" in restored
        assert not current.table
        listed = subprocess.run(["nft", "list", "tables"], capture_output=True, text=True)
        assert f"table {hostnet.FAMILY} {hostnet.TABLE}" not in listed.stdout
