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
from collections.abc import Callable
from types import TracebackType

import grpc
import pytest
from scapy.layers.inet import ICMP, IP, TCP, TCPerror
from scapy.packet import Packet
from scapy.utils import rdpcap
from wirelab.v1 import common_pb2, node_pb2

from nodes.apps.data import pattern_sha256
from orchestrator.handle import LabHandle

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
        handle: LabHandle,
        node: str,
        iface: str,
        direction: common_pb2.Direction,
        snaplen: int = 65535,
    ) -> None:
        request = node_pb2.CaptureRequest(
            iface=iface, direction=direction, duration_ms=120_000, snaplen_bytes=snaplen
        )
        self._stream = handle.agent(node).Capture(request, timeout=130)
        self.data = bytearray()
        self.dropped = 0
        self._thread = threading.Thread(target=self._read, daemon=True)

    def _read(self) -> None:
        try:
            for chunk in self._stream:
                self.data += chunk.data
                self.dropped = chunk.dropped
        except grpc.RpcError as exc:
            if exc.code() is not grpc.StatusCode.CANCELLED:
                raise

    def __enter__(self) -> AgentCapture:
        self.data += next(self._stream).data  # the header: the tap is in place
        self._thread.start()
        return self

    def __exit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        time.sleep(0.5)  # the records of the last frames reach the stream
        self._stream.cancel()
        self._thread.join(10)

    def packets(self) -> list[Packet]:
        return list(rdpcap(io.BytesIO(bytes(self.data))))


def send(handle: LabHandle, size: int) -> node_pb2.BulkSendResponse:
    request = node_pb2.BulkSendRequest(
        destination=handle.address("h2"), port=5001, size_bytes=size, timeout_ms=120_000
    )
    reply: node_pb2.BulkSendResponse = handle.agent("h1").BulkSend(request, timeout=130)
    return reply


def sink_result(handle: LabHandle, sent: node_pb2.BulkSendResponse) -> node_pb2.SinkResult:
    results = handle.agent("h2").GetSinkResults(node_pb2.GetSinkResultsRequest()).results
    mine = [r for r in results if r.remote_port == sent.local_port and r.finished]
    assert len(mine) == 1, results
    return mine[0]


def assert_intact(handle: LabHandle, sent: node_pb2.BulkSendResponse, size: int) -> None:
    assert sent.error == "" and sent.bytes == size, sent
    assert sent.sha256 == pattern_sha256(size, SEED)
    got = sink_result(handle, sent)
    assert (got.bytes, got.sha256, got.error) == (size, sent.sha256, "")


def mbps(reply: node_pb2.BulkSendResponse) -> float:
    return reply.goodput_bps / 8e6


# ---- the tests -------------------------------------------------------------------------------


def test_50_mb_from_our_host_to_our_host_through_our_router(lab: LabHandle) -> None:
    sent = send(lab, BIG)
    assert_intact(lab, sent, BIG)
    print(f"\nh1 -> r1 -> h2, {BIG / MB:.0f} MB: {mbps(sent):.1f} MB/s in {sent.seconds:.1f} s, "
          f"{sent.retransmits} retransmits, srtt {sent.final.srtt_ms:.1f} ms")  # fmt: skip
    assert sent.final.mss == 1448 and sent.final.pmtu == 1500  # timestamps on: 1460 - 12


def test_ten_percent_loss_on_the_router_slows_a_transfer_but_does_not_break_it(
    lab: LabHandle, checksum_errors: Callable[[Packet], list[str]]
) -> None:
    r1 = lab.agent("r1")
    clean = send(lab, LOSSY)
    assert_intact(lab, clean, LOSSY)
    spec = common_pb2.FaultSpec(
        iface="eth1", direction=common_pb2.DIRECTION_EGRESS, loss=0.1, seed=7
    )
    time.sleep(QUIET)  # the clean transfer's last ACK is through r1
    with AgentCapture(lab, "r1", "eth1", common_pb2.DIRECTION_EGRESS) as wire:
        fault = r1.AddFault(node_pb2.AddFaultRequest(fault=spec), timeout=10)
        try:
            lossy = send(lab, LOSSY)
            time.sleep(QUIET)  # and the lossy one's, while the fault still counts it
        finally:
            cleared = r1.ClearFault(node_pb2.ClearFaultRequest(fault_id=fault.fault_id))
    assert fault.seed == 7
    assert_intact(lab, lossy, LOSSY)
    print(f"\n{LOSSY / MB:.0f} MB clean {mbps(clean):.2f} MB/s, 10 % loss {mbps(lossy):.2f} MB/s "
          f"({lossy.retransmits} retransmits)")  # fmt: skip
    assert mbps(lossy) < 0.7 * mbps(clean)

    (final,) = cleared.cleared
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


def connection_to_sink(handle: LabHandle) -> common_pb2.TcpConnectionInfo | None:
    reply = handle.agent("h1").GetConnections(node_pb2.GetConnectionsRequest(), timeout=10)
    established = [
        c for c in reply.connections if c.remote_port == 5001 and c.state == "ESTABLISHED"
    ]
    return established[0] if established else None


def test_an_mtu_drop_mid_transfer_makes_our_tcp_use_pmtud(
    lab: LabHandle, checksum_errors: Callable[[Packet], list[str]]
) -> None:
    r1, h1 = lab.agent("r1"), lab.address("h1")
    before = lab.agent("h1").GetCounters(node_pb2.GetCountersRequest()).stack
    request = node_pb2.BulkSendRequest(
        destination=lab.address("h2"), port=5001, size_bytes=PMTU_SIZE, timeout_ms=120_000
    )
    future = lab.agent("h1").BulkSend.future(request, timeout=130)
    try:
        deadline = time.monotonic() + 30
        while (c := connection_to_sink(lab)) is None or c.bytes_acked < PMTU_SIZE // 10:
            assert time.monotonic() < deadline and not future.done(), "the transfer never got going"
            time.sleep(0.1)
        assert c.pmtu == 1500
        with AgentCapture(lab, "r1", "eth0", common_pb2.DIRECTION_EGRESS) as toward_h1:
            r1.SetInterface(node_pb2.SetInterfaceRequest(name="eth1", mtu=1000), timeout=10)
            # From now on; headers only (the IP length is what counts here).
            egress = common_pb2.DIRECTION_EGRESS
            with AgentCapture(lab, "r1", "eth1", egress, snaplen=64) as toward_h2:
                sent: node_pb2.BulkSendResponse = future.result()
    finally:
        future.cancel()
        r1.SetInterface(node_pb2.SetInterfaceRequest(name="eth1", mtu=1500), timeout=10)
    assert_intact(lab, sent, PMTU_SIZE)
    print(f"\n{PMTU_SIZE / MB:.0f} MB with an MTU drop to 1000: {mbps(sent):.1f} MB/s, "
          f"{sent.retransmits} retransmits")  # fmt: skip
    # The sender's connection info: PMTU 1000, MSS 1000 - 20 - 20 - 12 (timestamps).
    assert (sent.final.pmtu, sent.final.mss) == (1000, 948), sent.final
    after = lab.agent("h1").GetCounters(node_pb2.GetCountersRequest()).stack
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
