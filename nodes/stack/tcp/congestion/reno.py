"""NewReno's window rules (RFC 5681): slow start, then one MSS per window of acked bytes
(appropriate byte counting, RFC 3465), ssthresh = max(cwnd/2, 2*MSS) on loss like Linux's
tcp_reno_ssthresh. Fast recovery's partial-ACK logic (RFC 6582) lives in the connection."""

from __future__ import annotations

from nodes.stack.tcp.congestion.base import CongestionControl


class Reno(CongestionControl):
    name = "reno"

    def __init__(self, mss: int, *, initial_window: int = 10) -> None:
        super().__init__(mss, initial_window=initial_window)
        self.acc = 0  # bytes acked toward the next +1 MSS in congestion avoidance

    def on_ack(self, acked: int, *, now: float, rtt: float, cwnd_limited: bool) -> None:
        if not cwnd_limited:
            return
        if self.in_slow_start():
            acked = self.slow_start(acked)
            if not acked:
                return
        self.acc += acked
        if self.acc >= self.cwnd:
            self.acc -= self.cwnd
            self.cwnd += self.mss

    def on_congestion(self, *, now: float) -> None:
        self.prior_cwnd = self.cwnd
        self.ssthresh = max(self.cwnd // 2, 2 * self.mss)
        self.acc = 0
