"""Tail loss probe (RFC 8985 TLP, Linux tcp_send_loss_probe): the last segment of a burst is
lost, no duplicate ACKs will come; a probe at PTO = 2*SRTT repairs it long before the RTO."""

from __future__ import annotations

import contextlib

from nodes.stack.tcp.config import TcpConfig
from nodes.stack.tcp.testing import Network, Packet

MSS = 1448


def burst_with_tail_drop(cfg: TcpConfig) -> tuple[Network, float, float]:
    """10 ms RTT; after a warm-up (quick-ACK mode over) a 10-segment burst whose last
    segment is dropped once. Returns (net, time of the burst, time it was all acked)."""
    net = Network(delay=0.005, config_a=cfg)
    srv = net.b.socket()
    srv.bind(net.addr_b, 80)
    srv.listen()
    cli = net.a.socket()
    cli.connect(net.addr_b, 80, now=0.0)
    net.run(1.0, until=lambda: cli.state == "ESTABLISHED")
    net.run(0.01)
    peer = srv.accept()
    conn = cli.connection
    assert conn is not None and conn.mss == MSS
    cli.send(bytes(20 * MSS), now=net.now)  # warm-up: the receiver's 16 quick ACKs
    net.run(1.0, until=lambda: conn.snd_una == conn.snd_nxt)
    peer.recv(1 << 20, now=net.now)
    net.run(0.02)
    target = (conn.snd_nxt + 9 * MSS) & 0xFFFFFFFF  # the burst's last segment
    dropped: list[float] = []

    def drop_tail(now: float, pkt: Packet) -> list[tuple[float, bytes]]:
        seq = int.from_bytes(pkt.payload[4:8], "big")
        if pkt.src == net.addr_a and seq == target and len(pkt.payload) > 100 and not dropped:
            dropped.append(now)
            return []
        return [(0.0, bytes(pkt.payload))]

    net.filter = drop_tail
    start = net.now
    cli.send(bytes(10 * MSS), now=start)
    end = conn.snd_nxt
    net.run(5.0, until=lambda: conn.snd_una >= end)
    with contextlib.suppress(BlockingIOError):
        assert len(peer.recv(1 << 20, now=net.now)) == 10 * MSS
    assert dropped
    return net, start, net.now


def test_tail_loss_is_repaired_by_a_probe_long_before_the_rto() -> None:
    net, start, done = burst_with_tail_drop(TcpConfig())
    c = net.a.counters()
    assert c["tcp_tlp_probes"] == 1
    assert c["tcp_timeouts"] == 0 and c["tcp_fast_retransmits"] == 0
    # the ACK for segment 8 leaves 2 in flight: PTO = 2*SRTT + 2 ms ~ 22 ms, which fires
    # before the receiver's delayed ACK for segment 9 (40 ms); the RTO is >= 200 ms
    assert done - start < 0.06
    info = net.a.connections()[0]
    assert info.retrans == 1 and info.ca_state == "open"


def test_without_tlp_the_tail_loss_waits_for_the_rto() -> None:
    net, start, done = burst_with_tail_drop(TcpConfig(tlp=False))
    c = net.a.counters()
    assert c["tcp_tlp_probes"] == 0 and c["tcp_timeouts"] == 1
    assert done - start > 0.2
