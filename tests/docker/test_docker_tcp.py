"""Our TCP in Docker, host to host through our router (tests/docker/topologies/e2e.yaml):

- 50 MB from h1 to h2's sink: sha256 equal on both ends and to the pattern's;
- a seeded 10 % loss fault on the router's egress slows a transfer but does not break it,
  its counters show the drops, and the router's capture holds exactly the frames it let
  through (seen - dropped);
- an MTU drop on the router's interface mid-transfer: the router sends ICMP frag-needed
  (captured and decoded by scapy), our sender lowers its PMTU and MSS and the transfer
  completes intact; nothing above the new MTU leaves the router afterwards.

Captures here come from the agents' Capture RPC (pcap bytes of what an interface really
sent); tests/docker/test_docker_wire.py captures on the host's bridges instead. Every IPv4
packet in them must have valid checksums per scapy. Goodputs are printed (``pytest -s``).
"""

from __future__ import annotations

import io
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from types import TracebackType

import pytest
from scapy.layers.inet import ICMP, IP, TCP, TCPerror
from scapy.packet import Packet
from scapy.utils import rdpcap

from nodes.apps.data import pattern_sha256
from nodes.faults.model import Direction, Effects, FaultSpec
from orchestrator.domain import requests
from orchestrator.domain.results import (
    BulkSendResult,
    CaptureChunk,
    SinkResult,
    TcpConnection,
)
from orchestrator.lab.session import LabSession

pytestmark = pytest.mark.docker

MB = 1_000_000
BIG = 50 * MB  # the 50 MB transfer
LOSSY = 5 * MB  # ~0.75 MB/s under 10 % loss on this machine
PMTU_SIZE = 20 * MB
SEED = 1  # BulkSend's default pattern seed
QUIET = 0.5  # seconds for the last frames of a finished transfer to pass


# ---- helpers (the lab: ``lab`` of conftest.py, topologies/e2e.yaml) --------------------------


class AgentCapture:
    """The agent's Capture RPC on one interface and direction while the ``with`` block
    runs; the pcap decoded by scapy."""

    def __init__(
        self,
        session: LabSession,
        node: str,
        iface: str,
        direction: Direction,
        snaplen: int = 65535,
    ) -> None:
        request = requests.capture(iface, duration=120.0, snaplen=snaplen)
        self._cancel: list[Callable[[], object]] = []
        self._stream: Iterator[CaptureChunk] = session.agent(node).capture(
            request, direction=direction, on_start=self._cancel.append
        )
        self.data = bytearray()
        self.dropped = 0
        self._thread = threading.Thread(target=self._read, daemon=True)

    def _read(self) -> None:
        for chunk in self._stream:  # ends quietly when cancelled
            self.data += chunk.data
            self.dropped = chunk.dropped

    def __enter__(self) -> AgentCapture:
        self.data += next(self._stream).data  # the header: the tap is in place
        self._thread.start()
        return self

    def __exit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        time.sleep(0.5)  # the records of the last frames reach the stream
        for cancel in self._cancel:
            cancel()
        self._thread.join(10)

    def packets(self) -> list[Packet]:
        return list(rdpcap(io.BytesIO(bytes(self.data))))


def send(session: LabSession, size: int) -> BulkSendResult:
    return session.agent("h1").bulk_send(
        session.address("h2"), 5001, size, seed=SEED, sample_interval=None, wait=120.0,
        timeout=130,
    )  # fmt: skip


def sink_result(session: LabSession, sent: BulkSendResult) -> SinkResult:
    results = session.agent("h2").sink_results()
    mine = [r for r in results if r.remote_port == sent.local_port and r.finished]
    assert len(mine) == 1, results
    return mine[0]


def assert_intact(session: LabSession, sent: BulkSendResult, size: int) -> None:
    assert sent.error == "" and sent.bytes == size, sent
    assert sent.sha256 == pattern_sha256(size, SEED)
    got = sink_result(session, sent)
    assert (got.bytes, got.sha256, got.error) == (size, sent.sha256, "")


def mbps(reply: BulkSendResult) -> float:
    return reply.goodput_bps / 8e6


# ---- the tests -------------------------------------------------------------------------------


def test_50_mb_from_our_host_to_our_host_through_our_router(lab: LabSession) -> None:
    sent = send(lab, BIG)
    assert_intact(lab, sent, BIG)
    assert sent.final is not None
    print(f"\nh1 -> r1 -> h2, {BIG / MB:.0f} MB: {mbps(sent):.1f} MB/s in {sent.seconds:.1f} s, "
          f"{sent.retransmits} retransmits, srtt {sent.final.srtt_ms:.1f} ms")  # fmt: skip
    assert sent.final.mss == 1448 and sent.final.pmtu == 1500  # timestamps on: 1460 - 12


def test_ten_percent_loss_on_the_router_slows_a_transfer_but_does_not_break_it(
    lab: LabSession, checksum_errors: Callable[[Packet], list[str]]
) -> None:
    r1 = lab.agent("r1")
    clean = send(lab, LOSSY)
    assert_intact(lab, clean, LOSSY)
    spec = FaultSpec(iface="eth1", effects=Effects(loss=0.1), direction=Direction.EGRESS, seed=7)
    time.sleep(QUIET)  # the clean transfer's last ACK is through r1
    with AgentCapture(lab, "r1", "eth1", Direction.EGRESS) as wire:
        fault = r1.add_fault(spec, "", timeout=10)
        try:
            lossy = send(lab, LOSSY)
            time.sleep(QUIET)  # and the lossy one's, while the fault still counts it
        finally:
            cleared = r1.clear_fault(fault.fault_id)
    assert fault.seed == 7
    assert_intact(lab, lossy, LOSSY)
    print(f"\n{LOSSY / MB:.0f} MB clean {mbps(clean):.2f} MB/s, 10 % loss {mbps(lossy):.2f} MB/s "
          f"({lossy.retransmits} retransmits)")  # fmt: skip
    assert mbps(lossy) < 0.7 * mbps(clean)

    (final,) = cleared
    counters = final.counters
    assert counters.dropped == counters.dropped_loss > 0
    assert 0.07 < counters.dropped_loss / counters.seen < 0.13, counters
    # The dropped segments were sent again (a dropped pure ACK or ARP probe needs no
    # retransmission: hence not exactly every drop).
    assert lossy.retransmits >= 0.9 * counters.dropped_loss
    # What r1 really sent on eth1 (its capture, after the fault): all but the drops.
    packets = wire.packets()
    assert wire.dropped == 0
    assert len(packets) == counters.seen - counters.dropped, (len(packets), counters)
    data = [p for p in packets if TCP in p and len(p[TCP].payload) > 0]
    assert len(data) >= LOSSY // 1448
    assert not [e for p in packets for e in checksum_errors(p)]


def connection_to_sink(session: LabSession) -> TcpConnection | None:
    reply = session.agent("h1").connections()
    established = [
        c for c in reply.connections if c.remote_port == 5001 and c.state == "ESTABLISHED"
    ]
    return established[0] if established else None


def test_an_mtu_drop_mid_transfer_makes_our_tcp_use_pmtud(
    lab: LabSession, checksum_errors: Callable[[Packet], list[str]]
) -> None:
    r1, h1 = lab.agent("r1"), lab.address("h1")
    before = lab.agent("h1").counters().stack
    sender = ThreadPoolExecutor(1, "bulk-send")  # the transfer runs while we watch it
    future = sender.submit(send, lab, PMTU_SIZE)
    try:
        deadline = time.monotonic() + 30
        while (c := connection_to_sink(lab)) is None or c.bytes_acked < PMTU_SIZE // 10:
            assert time.monotonic() < deadline and not future.done(), "the transfer never got going"
            time.sleep(0.1)
        assert c.pmtu == 1500
        with AgentCapture(lab, "r1", "eth0", Direction.EGRESS) as toward_h1:
            r1.set_interface(requests.interface_change("eth1", mtu=1000))
            # From now on; headers only (the IP length is what counts here).
            egress = Direction.EGRESS
            with AgentCapture(lab, "r1", "eth1", egress, snaplen=64) as toward_h2:
                sent = future.result()
    finally:
        sender.shutdown(wait=False, cancel_futures=True)
        r1.set_interface(requests.interface_change("eth1", mtu=1500))
    assert_intact(lab, sent, PMTU_SIZE)
    print(f"\n{PMTU_SIZE / MB:.0f} MB with an MTU drop to 1000: {mbps(sent):.1f} MB/s, "
          f"{sent.retransmits} retransmits")  # fmt: skip
    # The sender's connection info: PMTU 1000, MSS 1000 - 20 - 20 - 12 (timestamps).
    assert sent.final is not None
    assert (sent.final.pmtu, sent.final.mss) == (1000, 948), sent.final
    after = lab.agent("h1").counters().stack
    assert after["tcp_pmtu_updates"] > before["tcp_pmtu_updates"]

    # On the wire: r1 tells h1 "fragmentation needed, next-hop MTU 1000" about our segments.
    needed = [
        p
        for p in toward_h1.packets()
        if ICMP in p and (p[ICMP].type, p[ICMP].code) == (3, 4) and p[IP].dst == h1
    ]
    assert needed, "no ICMP frag-needed from r1"
    assert {p[IP].src for p in needed} == {lab.address("r1", "eth0")}
    assert {p[ICMP].nexthopmtu for p in needed} == {1000}
    assert {(p[TCPerror].sport, p[TCPerror].dport) for p in needed} == {(sent.local_port, 5001)}
    assert not [e for p in needed for e in checksum_errors(p)]
    # Toward h2 nothing above 1000 bytes of IP leaves r1 after the change, and segments
    # of the new size do.
    forwarded = toward_h2.packets()
    assert max(p[IP].len for p in forwarded if IP in p) <= 1000
    assert any(p[IP].len == 1000 for p in forwarded if TCP in p)
