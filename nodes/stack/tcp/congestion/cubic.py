"""CUBIC (RFC 9438), Linux's default: after a loss the window follows
W(t) = C*(t-K)^3 + W_max with C = 0.4 and beta = 0.7, never below the Reno-friendly
estimate, with fast convergence. Computed in segments, exposed in bytes.

Slow start ends early with Linux's HyStart (bictcp hystart_update), once cwnd is at
least 16 segments, when in one round (a window of data) either the ACKs arrive as a
closely spaced train (each within 2 ms of the previous) longer than half the minimum
RTT, or the smallest of the round's first 8 RTT samples exceeds the minimum RTT by
clamp(min/8, 4 ms, 16 ms): ssthresh = cwnd, before the queue overflows."""

from __future__ import annotations

from nodes.stack.tcp.congestion.base import CongestionControl

C = 0.4
BETA = 0.7
ALPHA = 3 * (1 - BETA) / (1 + BETA)
HYSTART_LOW_WINDOW = 16  # segments
HYSTART_ACK_DELTA = 0.002
HYSTART_MIN_SAMPLES = 8
HYSTART_DELAY_MIN = 0.004
HYSTART_DELAY_MAX = 0.016


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
        # HyStart
        self.hystart = True
        self.found = False
        self.delay_min: float | None = None
        self.end_seq: int | None = None  # the round ends when SND.UNA passes this
        self.round_start = self.last_ack = 0.0
        self.curr_rtt = 0.0
        self.sample_cnt = 0

    def set_mss(self, mss: int, *, keep_bytes: bool = False) -> None:
        old = self.mss
        super().set_mss(mss, keep_bytes=keep_bytes)
        self.seg = float(self.cwnd) / self.mss
        if keep_bytes and old != self.mss:  # the same bytes are fewer (more) segments
            ratio = old / self.mss
            self.w_max *= ratio
            self.w_last_max *= ratio
            self.w_est *= ratio
            self.epoch = None

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

    def on_ack_sample(self, rtt: float | None, *, now: float, una: int, nxt: int) -> str | None:
        """Linux cubictcp_acked + hystart_update."""
        if rtt is not None:
            if self.epoch is not None and now - self.epoch < 1.0:
                return None  # discard delay samples right after a loss
            rtt = max(rtt, 1e-6)
            if self.delay_min is None or rtt < self.delay_min:
                self.delay_min = rtt
        delay_min = self.delay_min
        if (
            self.found
            or not self.hystart
            or delay_min is None
            or self.cwnd >= self.ssthresh
            or self.cwnd < HYSTART_LOW_WINDOW * self.mss
        ):
            return None
        if self.end_seq is None or una > self.end_seq:  # a new round
            self.round_start = self.last_ack = now
            self.end_seq = nxt
            self.curr_rtt = float("inf")
            self.sample_cnt = 0
        exit_: str | None = None
        if now - self.last_ack <= HYSTART_ACK_DELTA:  # ACK train
            self.last_ack = now
            if now - self.round_start > delay_min / 2:
                exit_ = "train"
        if rtt is not None and exit_ is None:  # delay increase
            self.curr_rtt = min(self.curr_rtt, rtt)
            if self.sample_cnt < HYSTART_MIN_SAMPLES:
                self.sample_cnt += 1
            else:
                thresh = min(max(delay_min / 8, HYSTART_DELAY_MIN), HYSTART_DELAY_MAX)
                if self.curr_rtt > delay_min + thresh:
                    exit_ = "delay"
        if exit_ is not None:
            self.found = True
            self.ssthresh = self.cwnd
        return exit_

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
        self.found = False  # cubictcp_state(TCP_CA_Loss): HyStart may act again
        self.end_seq = None

    def undo(self, cwnd: int, ssthresh: int) -> None:
        super().undo(cwnd, ssthresh)
        self.seg = self.cwnd / self.mss
        self.epoch = None

    def on_recovery_end(self) -> None:
        super().on_recovery_end()
        self.seg = self.cwnd / self.mss
