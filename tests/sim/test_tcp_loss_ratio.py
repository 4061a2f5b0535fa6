"""Goodput under 1% random loss (the bench's tcp_loss_ratio, in the simulation): on a
rate-limited path with a deep queue (the bufferbloat of the Docker path), SACK recovery
repairs every loss in fast recovery (no RTO, no collapse of cwnd to one segment), and when
the base RTT is short the lossy transfer keeps most of the lossless rate, as Linux does.
With a longer RTT the rate is bounded by the AIMD response (about 1.2/sqrt(p) segments per
RTT for CUBIC's Reno-friendly region), not by recovery: see the second test."""

from __future__ import annotations

import hashlib
import math

from nodes.faults.model import Direction, Effects, FaultSpec, RateLimit
from nodes.io.simulate import Line
from nodes.stack.tcp.connection import Connection
from nodes.stack.tcp.tcb import CaState
from nodes.stack.tcp.testing import Transfer, line_transfer, pattern

RATE = 160e6  # bit/s out of r1 toward h2 (about the Docker path's 20 MB/s)
QUEUE = 5000  # packets: a deep queue, as in the receiving nodes' raw-socket buffers
SIZE = 6_000_000
LOSS = 0.01


def transfer(loss: float, delay: float, watch: dict[str, float] | None = None) -> Transfer:
    rate = RateLimit(RATE, burst_bytes=3028, queue_limit_packets=QUEUE)
    spec = FaultSpec("eth1", Effects(loss=loss, rate=rate), Direction.EGRESS, seed=1)

    def during(line: Line, sender: Connection, now: float) -> None:
        if watch is None:
            return
        last = watch.get("t")
        if last is not None:
            dt = now - last
            watch["time"] = watch.get("time", 0.0) + dt
            watch["cwnd"] = watch.get("cwnd", 0.0) + dt * sender.cc.cwnd / sender.mss
        watch["t"] = now
        if sender.cc.cwnd <= sender.mss and sender.ca is CaState.LOSS:
            watch["collapsed"] = 1.0

    result = line_transfer(SIZE, delay=delay, faults=[spec], during=during, timeout=300)
    assert result.sha256 == hashlib.sha256(pattern(SIZE)).digest()
    return result


def test_one_percent_loss_keeps_most_of_the_rate_on_a_short_rtt() -> None:
    clean = transfer(0.0, 0.0002)
    watch: dict[str, float] = {}
    lossy = transfer(LOSS, 0.0002, watch)
    stats = lossy.sender.stats
    assert stats["timeouts"] == 0 and "collapsed" not in watch  # no RTO, cwnd never 1 MSS
    assert stats["sack_recoveries"] >= 20  # every loss event repaired by SACK recovery
    assert clean.elapsed / lossy.elapsed >= 0.85  # Linux keeps ~0.96 on its short RTT


def test_on_a_longer_rtt_the_rate_follows_the_aimd_response() -> None:
    watch: dict[str, float] = {}
    lossy = transfer(LOSS, 0.001, watch)  # 4 ms RTT: BDP ~55 segments, above 1.2/sqrt(p)
    assert lossy.sender.stats["timeouts"] == 0 and "collapsed" not in watch
    avg_cwnd = watch["cwnd"] / watch["time"]
    # CUBIC's Reno-friendly AIMD(0.53, 0.7) averages ~1.2/sqrt(p) = 12 segments; RFC 9438's
    # alpha = 1 once W_est passes the previous window adds a little
    assert 1.1 / math.sqrt(LOSS) <= avg_cwnd <= 2.0 / math.sqrt(LOSS)
