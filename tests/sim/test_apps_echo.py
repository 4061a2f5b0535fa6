"""Echo over TCP and UDP through a router, and the UDP traffic apps."""

from __future__ import annotations

import pytest

from nodes.apps.echo import TcpEchoClient, TcpEchoServer, UdpEchoServer
from nodes.apps.testing import run_until, tcp_line
from nodes.apps.udp import HEADER, UdpReceiver, UdpSender


def test_tcp_echo_round_trips() -> None:
    line = tcp_line(1, delay=0.005)  # RTT 20 ms
    server = TcpEchoServer(line.right, 7)
    server.start(now=0.0)
    client = TcpEchoClient(line.left, line.address("h2"), 7, count=20, size=100)
    client.start(now=0.0)
    run_until(line, lambda: client.done, timeout=10)
    result = client.result
    assert result is not None and result.error is None
    assert len(result.rtts) == 20 and result.mismatches == 0 and result.bytes == 2000
    assert all(rtt == pytest.approx(0.020) for rtt in result.rtts)
    assert server.accepted == 1 and server.bytes_echoed == 2000
    run_until(line, lambda: not server.conns, timeout=5)  # the server closed its side


def test_tcp_echo_of_large_messages_with_back_pressure() -> None:
    line = tcp_line(1, delay=0.001)
    server = TcpEchoServer(line.right, 7)
    server.start(now=0.0)
    clients = [
        TcpEchoClient(line.left, line.address("h2"), 7, count=3, size=300_000, seed=k)
        for k in range(3)
    ]
    for c in clients:
        c.start(now=0.0)
    run_until(line, lambda: all(c.done for c in clients), timeout=30)
    for c in clients:
        assert c.result is not None and c.result.error is None
        assert c.result.mismatches == 0 and c.result.bytes == 900_000
    assert server.bytes_echoed == 2_700_000 and server.errors == 0


def test_tcp_echo_client_sees_refusal() -> None:
    line = tcp_line(1)
    client = TcpEchoClient(line.left, line.address("h2"), 7)
    client.start(now=0.0)
    run_until(line, lambda: client.done, timeout=5)
    assert client.result is not None and client.result.error == "ECONNREFUSED"


def test_udp_echo_round_trips() -> None:
    line = tcp_line(1, delay=0.005)
    server = UdpEchoServer(line.right, 7)
    server.start(now=0.0)
    sender = UdpSender(line.left, line.address("h2"), 7, count=10, size=200, interval=0.05)
    sender.start(now=0.0)
    run_until(line, lambda: sender.done_sending and sender.lost == 0, timeout=5)
    assert sorted(sender.rtts) == list(range(10))
    # the first datagram waits for ARP on both links; then exactly 4 links x 5 ms
    assert all(sender.rtts[s] == pytest.approx(0.020) for s in range(1, 10))
    assert [sender.sent[s] for s in range(10)] == pytest.approx([0.05 * s for s in range(10)])
    assert server.datagrams == 10 and server.bytes == 2000 and sender.duplicates == 0


def test_udp_send_to_receiver_counts_datagrams_and_bytes() -> None:
    line = tcp_line(2, delay=0.001)
    receiver = UdpReceiver(line.right, 9000)
    receiver.start(now=0.0)
    senders = [
        UdpSender(line.left, line.address("h2"), 9000, count=25, size=1000 + k, interval=0.001)
        for k in range(2)
    ]
    for s in senders:
        s.start(now=0.0)
    run_until(line, lambda: receiver.datagrams == 50, timeout=5)
    assert receiver.bytes == 25 * 1000 + 25 * 1001
    assert sorted(receiver.per_source.values()) == [25, 25]
    assert receiver.late == 0 and receiver.first is not None and receiver.last is not None
    assert all(s.lost == 25 for s in senders)  # nobody echoes: no replies
    # datagrams larger than the MTU are fragmented and reassembled
    big = UdpSender(line.left, line.address("h2"), 9000, count=2, size=4000)
    big.start(now=line.sim.now)
    run_until(line, lambda: receiver.datagrams == 52, timeout=5)
    assert receiver.bytes == 25 * 2001 + 8000


def test_udp_sender_validates_arguments() -> None:
    line = tcp_line(1)
    with pytest.raises(ValueError, match="size"):
        UdpSender(line.left, line.address("h2"), 7, size=HEADER.size - 1)
    with pytest.raises(ValueError, match="count"):
        UdpSender(line.left, line.address("h2"), 7, count=-1)
