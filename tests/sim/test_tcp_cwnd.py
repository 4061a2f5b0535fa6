"""cwnd grows only while the sender is cwnd-limited (Linux tcp_is_cwnd_limited, RFC 7661):
a flow limited by the receive window or by the application keeps its cwnd."""

from __future__ import annotations

import hashlib

from nodes.io.simulate import Line
from nodes.stack.tcp.config import TcpConfig
from nodes.stack.tcp.connection import Connection
from nodes.stack.tcp.states import State
from nodes.stack.tcp.testing import Network, line_transfer, pattern

RWND = 128 * 1024


def test_rwnd_limited_10mb_keeps_cwnd_near_the_window() -> None:
    peak = {"ss": 0, "ca": 0}
    forced: list[bool] = []

    def watch(line: Line, sender: Connection, now: float) -> None:
        if sender.state is State.ESTABLISHED and not forced:
            # like a cached route ssthresh: congestion avoidance from 20 segments on
            sender.cc.ssthresh = 20 * sender.mss
            forced.append(True)
        peak["ca"] = max(peak["ca"], sender.cc.cwnd)

    size = 10 * 1024 * 1024
    cfg = TcpConfig()
    result = line_transfer(size, config=cfg, rcvbuf=RWND, during=watch)
    assert result.sha256 == hashlib.sha256(pattern(size)).digest()
    mss = result.sender.mss
    assert result.sender.total_retrans == 0
    # the receiver never offers more than RWND: cwnd stops within ~2 segments of it
    assert peak["ca"] <= RWND + 2 * mss  # was ~117 segments (cwnd grew on rwnd-limited ACKs)

    def watch_ss(line: Line, sender: Connection, now: float) -> None:
        peak["ss"] = max(peak["ss"], sender.cc.cwnd)

    line_transfer(size // 4, config=cfg, rcvbuf=RWND, during=watch_ss)
    assert peak["ss"] <= 3 * RWND  # slow start may reach twice what was in flight


def test_application_limited_sender_keeps_its_cwnd() -> None:
    net = Network(delay=0.005)
    srv = net.b.socket()
    srv.bind(0, 80)
    srv.listen()
    cli = net.a.socket()
    cli.connect(net.addr_b, 80, now=0.0)
    net.run(1.0, until=lambda: cli.state == "ESTABLISHED")
    conn = cli.connection
    assert conn is not None
    conn.cc.ssthresh = 10 * conn.mss  # congestion avoidance at the initial window
    net.run(0.1)
    peer = srv.accept()
    start = conn.cc.cwnd
    for _ in range(50):  # 6 segments every 50 ms: 60% of cwnd, never cwnd-limited
        cli.send(b"x" * 6 * conn.mss, now=net.now)
        net.run(0.05)
        peer.recv(1 << 20, now=net.now)
    assert conn.bytes_acked == 50 * 6 * conn.mss
    assert conn.cc.cwnd == start  # was growing by ~1 segment per RTT
