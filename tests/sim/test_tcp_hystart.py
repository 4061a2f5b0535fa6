"""CUBIC's HyStart (Linux tcp_cubic hystart_update): on a rate-limited path with a deep
buffer, slow start ends on the rising delay before the queue overflows, with ssthresh near
the bandwidth-delay product; without it slow start runs until the buffer drops packets."""

from __future__ import annotations

import hashlib

from nodes.faults.model import Direction, Effects, FaultSpec, RateLimit
from nodes.io.simulate import Line
from nodes.stack.tcp.config import TcpConfig
from nodes.stack.tcp.congestion import INFINITE_SSTHRESH
from nodes.stack.tcp.connection import Connection
from nodes.stack.tcp.testing import line_transfer, pattern

RATE = 20e6  # bit/s out of r1 toward h2
QUEUE = 200  # packets: a deep buffer, about 6 BDP
DELAY = 0.005  # per link: h1 -- r1 -- h2 is a 20 ms RTT
BOTTLENECK = [
    FaultSpec(
        "eth1",
        Effects(rate=RateLimit(RATE, burst_bytes=3028, queue_limit_packets=QUEUE)),
        Direction.EGRESS,
    ),
]
SIZE = 4 * 1024 * 1024


def first_exit(hystart: bool) -> tuple[Connection, dict[str, float]]:
    """Transfer SIZE bytes; returns the sender and its state when ssthresh was first set."""
    seen: dict[str, float] = {}

    def watch(line: Line, sender: Connection, now: float) -> None:
        if not seen and sender.cc.ssthresh != INFINITE_SSTHRESH:
            seen.update(t=now, ssthresh=sender.cc.ssthresh / sender.mss,
                        retrans=sender.total_retrans)  # fmt: skip

    result = line_transfer(SIZE, delay=DELAY, faults=BOTTLENECK, during=watch,
                           config=TcpConfig(hystart=hystart))  # fmt: skip
    assert result.sha256 == hashlib.sha256(pattern(SIZE)).digest()
    return result.sender, seen


def test_hystart_ends_slow_start_near_the_bdp_before_any_loss() -> None:
    sender, seen = first_exit(hystart=True)
    frame = sender.mss + 12 + 40 + 14  # payload + timestamps + IP/TCP + Ethernet
    bdp = RATE / 8 * 4 * DELAY / frame  # segments
    assert seen["retrans"] == 0  # slow start ended before the first loss
    # near the BDP (33 segments): the ACK train fires mid-round once a train of ACKs spans
    # half the minimum RTT; with slow start doubling per round that lands between 1 and
    # ~2.5 BDP (here 80 segments), far below what overflows the buffer (BDP + 200)
    assert bdp <= seen["ssthresh"] <= 2.5 * bdp
    assert sender.total_retrans == 0  # and congestion avoidance never filled the buffer
    counters = sender.stats
    assert counters["hystart_delay_exits"] + counters["hystart_train_exits"] == 1


def test_without_hystart_slow_start_overflows_the_buffer() -> None:
    sender, seen = first_exit(hystart=False)
    assert seen["retrans"] > 0 or sender.total_retrans > 0  # ssthresh came from a loss
    assert sender.stats["hystart_delay_exits"] == sender.stats["hystart_train_exits"] == 0
