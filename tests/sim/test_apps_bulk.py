"""Bulk TCP transfers through a router: integrity (sha256), goodput in virtual time,
many senders into one sink, cwnd samples under a bottleneck, failures reported."""

from __future__ import annotations

import random

from nodes.apps.bulk import BulkSender, BulkSink
from nodes.apps.data import pattern_sha256
from nodes.apps.testing import run_until, tcp_line
from nodes.faults.engine import FaultEngine
from nodes.faults.model import Direction, Effects, FaultSpec, RateLimit

MB = 1_000_000


def test_ten_megabytes_arrive_intact_with_goodput_in_virtual_time() -> None:
    line = tcp_line(1, delay=0.001)
    sink = BulkSink(line.right, 5001)
    sink.start(now=0.0)
    sender = BulkSender(line.left, line.address("h2"), 5001, 10 * MB, seed=7)
    sender.start(now=0.0)
    run_until(line, lambda: sender.done and len(sink.results) == 1, timeout=30)
    sent, got = sender.result, sink.results[0]
    assert sent is not None and sent.error is None and got.error is None
    assert sent.bytes == got.bytes == 10 * MB
    assert sent.sha256 == got.sha256 == pattern_sha256(10 * MB, 7)
    assert got.remote == (line.address("h1"), sender.sock.local[1])
    # goodput is measured on the simulation clock: bytes over the transfer's duration
    assert sent.end is not None and 0 < sent.end - sent.start < 5
    assert sent.goodput_bps == 10 * MB * 8 / (sent.end - sent.start)
    assert got.goodput_bps == 10 * MB * 8 / (got.end - got.start) > 0
    assert sent.connected is not None and sent.start < sent.connected < sent.end
    assert sent.retrans == 0 and sent.info is not None


def test_many_concurrent_senders_into_one_sink() -> None:
    line = tcp_line(1, delay=0.002)
    sink = BulkSink(line.right, 5001)
    sink.start(now=0.0)
    senders = [
        BulkSender(line.left, line.address("h2"), 5001, 200_000 + 1000 * k, seed=k)
        for k in range(12)
    ]
    for k, s in enumerate(senders):
        s.start(now=0.001 * k)
    run_until(line, lambda: all(s.done for s in senders) and len(sink.results) == 12)
    by_port = {r.remote[1]: r for r in sink.results}
    assert sink.accepted == 12 and not sink.active
    for k, s in enumerate(senders):
        assert s.result is not None and s.result.error is None
        got = by_port[s.sock.local[1]]
        assert got.bytes == 200_000 + 1000 * k
        assert got.sha256 == s.result.sha256 == pattern_sha256(got.bytes, k)
    assert sink.total_bytes == sum(200_000 + 1000 * k for k in range(12))


def test_sender_samples_the_cwnd_sawtooth_at_a_bottleneck() -> None:
    line = tcp_line(1, delay=0.005)
    faults = FaultEngine(rng=random.Random(1))
    rate = RateLimit(rate_bps=20e6, burst_bytes=3000, queue_limit_packets=25)
    faults.add(FaultSpec("eth1", Effects(rate=rate), Direction.EGRESS), now=0.0)
    line.sim.set_impairment("r1", faults)
    sink = BulkSink(line.right, 5001)
    sink.start(now=0.0)
    sender = BulkSender(
        line.left, line.address("h2"), 5001, 4 * MB, seed=3, sample_interval=0.01,
        congestion="reno",
    )  # fmt: skip
    sender.start(now=0.0)
    run_until(line, lambda: sender.done and len(sink.results) == 1, timeout=60)
    result = sender.result
    assert result is not None and result.error is None
    assert result.sha256 == sink.results[0].sha256 == pattern_sha256(4 * MB, 3)
    assert result.retrans > 0 and result.bytes_retrans > 0  # queue overflow losses
    assert 8e6 < result.goodput_bps < 20e6  # below the bottleneck, not far below
    samples = sender.samples
    assert len(samples) > 100
    times = [s.time for s in samples]
    assert times == sorted(times) and abs(times[1] - times[0] - 0.01) < 1e-9
    cwnds = [s.cwnd for s in samples]
    # A sawtooth: multiplicative decreases after growth. PRR spreads each decrease over
    # about one RTT, so compare against the peak since the last decrease, not the last sample.
    drops, peak = 0, 0
    for cwnd in cwnds:
        if cwnd < 0.7 * peak:
            drops, peak = drops + 1, cwnd
        else:
            peak = max(peak, cwnd)
    assert drops >= 2
    assert any(s.ssthresh is not None for s in samples)
    assert all(s.in_flight >= 0 for s in samples) and samples[-1].in_flight == 0


def test_refused_connection_is_reported() -> None:
    line = tcp_line(1)
    sender = BulkSender(line.left, line.address("h2"), 5999, MB)
    sender.start(now=0.0)
    run_until(line, lambda: sender.done, timeout=5)
    assert sender.result is not None
    assert sender.result.error == "ECONNREFUSED" and sender.result.end is None
    assert sender.result.goodput_bps == 0.0 and sender.result.bytes == 0


def test_zero_byte_transfer_and_sink_close() -> None:
    line = tcp_line(1)
    sink = BulkSink(line.right, 5001)
    sink.start(now=0.0)
    sender = BulkSender(line.left, line.address("h2"), 5001, 0)
    sender.start(now=0.0)
    run_until(line, lambda: sender.done and len(sink.results) == 1, timeout=5)
    assert sink.results[0].bytes == 0 and sender.result is not None
    assert sender.result.error is None
    # a transfer cut short by the sink shows up as an error on both sides
    late = BulkSender(line.left, line.address("h2"), 5001, 50 * MB)
    late.start(now=line.sim.now)
    run_until(line, lambda: bool(sink.active) and sink.active[0].bytes > 0, timeout=5)
    sink.close(now=line.sim.now)
    run_until(line, lambda: late.done, timeout=5)
    assert late.result is not None and late.result.error == "ECONNRESET"
    assert sink.results[-1].error == "ECANCELED"
