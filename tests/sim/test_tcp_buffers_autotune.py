"""Buffer sizing like Linux: a 128 KiB receive buffer that autotunes up to tcp_rmem max
(6 MiB) when the application drains fast, window scale 7 chosen from that max, and a send
buffer that grows with cwnd up to tcp_wmem max (4 MiB)."""

from __future__ import annotations

import hashlib

from nodes.faults.model import Direction, Effects, FaultSpec, RateLimit
from nodes.stack.tcp.config import TcpConfig
from nodes.stack.tcp.testing import line_transfer, pattern

SIZE = 12 * 1024 * 1024
# a long fat pipe: 1 Gbit/s out of r1 toward h2, 4 x 5 ms one-way links = 20 ms RTT
GIGABIT = [
    FaultSpec(
        "eth1",
        Effects(rate=RateLimit(1e9, burst_bytes=15140, queue_limit_packets=5000)),
        Direction.EGRESS,
    ),
]


def test_autotuning_fills_a_long_fat_pipe() -> None:
    auto = line_transfer(SIZE, delay=0.005, faults=GIGABIT)
    fixed = line_transfer(SIZE, delay=0.005, faults=GIGABIT, config=TcpConfig(
        moderate_rcvbuf=False))  # fmt: skip
    assert auto.sha256 == fixed.sha256 == hashlib.sha256(pattern(SIZE)).digest()
    rcv, snd = auto.receiver, auto.sender
    assert rcv.rcv_wscale == 7 and snd.snd_wscale == 7  # Linux with default sysctls
    assert rcv.rcvbuf.capacity > 2 * 1024 * 1024  # grew from 128 KiB (BDP is 2.5 MB)
    assert rcv.rcvbuf.capacity <= 6 * 1024 * 1024
    assert snd.sndbuf.capacity > 1024 * 1024 and snd.sndbuf.capacity <= 4 * 1024 * 1024
    assert fixed.receiver.rcvbuf.capacity == 131072
    goodput_auto, goodput_fixed = SIZE / auto.elapsed, SIZE / fixed.elapsed
    assert goodput_fixed < 7e6  # 128 KiB per 20 ms RTT: ~6.5 MB/s
    assert goodput_auto > 5 * goodput_fixed
    counters = auto.line.right.counters()
    assert counters["tcp_rcvbuf_grown"] >= 3


def test_so_rcvbuf_locks_the_buffer_but_not_the_window_scale() -> None:
    result = line_transfer(1 << 20, rcvbuf=65536)
    assert result.receiver.rcvbuf.capacity == 65536
    assert result.receiver.rcv_wscale == 7  # Linux: chosen from tcp_rmem[2] all the same
    assert result.line.right.counters()["tcp_rcvbuf_grown"] == 0
