"""CUBIC (RFC 9438), Linux's default: after a loss the window follows
W(t) = C*(t-K)^3 + W_max with C = 0.4 and beta = 0.7, never below the Reno-friendly
estimate, with fast convergence. Computed in segments, exposed in bytes. No HyStart."""

from __future__ import annotations

from nodes.stack.tcp.congestion.base import CongestionControl

C = 0.4
BETA = 0.7
ALPHA = 3 * (1 - BETA) / (1 + BETA)


class Cubic(CongestionControl):
    name = "cubic"

    def __init__(self, mss: int, *, initial_window: int = 10) -> None:
        super().__init__(mss, initial_window=initial_window)
        self.w_max = 0.0  # segments
        self.w_last_max = 0.0
        self.k = 0.0
        self.epoch: float | None = None
        self.w_est = 0.0
        self.seg = float(self.cwnd) / mss  # cwnd in segments, fractional

    def set_mss(self, mss: int) -> None:
        super().set_mss(mss)
        self.seg = float(self.cwnd) / self.mss

    def w_cubic(self, t: float) -> float:
        return C * (t - self.k) ** 3 + self.w_max

    def on_ack(self, acked: int, *, now: float, rtt: float, cwnd_limited: bool) -> None:
        if not cwnd_limited:
            return
        if self.in_slow_start():
            acked = self.slow_start(acked)
            self.seg = self.cwnd / self.mss
            if not acked:
                return
        segs = acked / self.mss
        cwnd = self.seg
        if self.epoch is None:
            self.epoch = now
            if cwnd < self.w_max:
                self.k = ((self.w_max - cwnd) / C) ** (1 / 3)
            else:
                self.k = 0.0
                self.w_max = cwnd
            self.w_est = cwnd
        t = now - self.epoch
        target = min(max(self.w_cubic(t + rtt), cwnd), 1.5 * cwnd)
        alpha = 1.0 if self.w_est >= self.prior_cwnd / self.mss else ALPHA
        self.w_est += alpha * segs / cwnd
        if self.w_cubic(t) < self.w_est:  # Reno-friendly region (RFC 9438 4.3)
            cwnd = max(cwnd, self.w_est)
        else:  # concave / convex region (4.4, 4.5)
            cwnd += (target - cwnd) / cwnd * segs
        self.seg = cwnd
        self.cwnd = max(self.mss, int(cwnd * self.mss))

    def on_congestion(self, *, now: float) -> None:
        cwnd = self.cwnd / self.mss
        self.prior_cwnd = self.cwnd
        if cwnd < self.w_last_max:  # fast convergence
            self.w_last_max = cwnd
            self.w_max = cwnd * (1 + BETA) / 2
        else:
            self.w_last_max = cwnd
            self.w_max = cwnd
        self.ssthresh = max(int(self.cwnd * BETA), 2 * self.mss)
        self.epoch = None

    def on_timeout(self, *, now: float) -> None:
        super().on_timeout(now=now)
        self.seg = 1.0

    def undo(self, cwnd: int, ssthresh: int) -> None:
        super().undo(cwnd, ssthresh)
        self.seg = self.cwnd / self.mss
        self.epoch = None

    def on_recovery_end(self) -> None:
        super().on_recovery_end()
        self.seg = self.cwnd / self.mss
