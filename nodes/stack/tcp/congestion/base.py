"""What a congestion controller must provide. Windows are in bytes; ``mss`` is the
sender's current segment size. The connection owns recovery (RFC 6675/6582): it calls
``on_ack`` for ACKs that advance SND.UNA outside recovery, ``on_congestion`` once per
loss event (fast retransmit), ``on_timeout`` on RTO, and ``on_recovery_end`` on exit."""

from __future__ import annotations

from abc import ABC, abstractmethod

INFINITE_SSTHRESH = 0x7FFFFFFF


class CongestionControl(ABC):
    name = "base"

    def __init__(self, mss: int, *, initial_window: int = 10) -> None:
        self.mss = mss
        self.cwnd = initial_window * mss
        self.ssthresh = INFINITE_SSTHRESH
        self.prior_cwnd = self.cwnd

    def in_slow_start(self) -> bool:
        return self.cwnd < self.ssthresh

    def set_mss(self, mss: int, *, keep_bytes: bool = False) -> None:
        """Keep the window the same in segments when the MSS changes (Linux counts
        packets), or the same in bytes with ``keep_bytes`` (an MTU probe succeeded:
        Linux scales its packet count down by the size ratio)."""
        if mss == self.mss or mss <= 0:
            return
        if keep_bytes:
            self.cwnd = max(mss, self.cwnd)
        else:
            self.cwnd = max(mss, self.cwnd * mss // self.mss)
            if self.ssthresh != INFINITE_SSTHRESH:
                self.ssthresh = max(2 * mss, self.ssthresh * mss // self.mss)
        self.mss = mss

    def slow_start(self, acked: int) -> int:
        """Grow by the bytes acked up to ssthresh (Linux tcp_slow_start); returns the rest."""
        new = min(self.cwnd + acked, self.ssthresh)
        rest = acked - (new - self.cwnd)
        self.cwnd = new
        return rest

    @abstractmethod
    def on_ack(self, acked: int, *, now: float, rtt: float, cwnd_limited: bool) -> None: ...

    def on_ack_sample(self, rtt: float | None, *, now: float, una: int, nxt: int) -> str | None:
        """Every ACK that advanced SND.UNA (before ``on_ack``), with this ACK's RTT sample
        if it gave one (Linux's pkts_acked hook). Returns the name of a slow-start exit it
        decided (HyStart: "train" or "delay"), else None."""
        return None

    @abstractmethod
    def on_congestion(self, *, now: float) -> None:
        """A loss event: set ssthresh (the connection then reduces cwnd toward it with
        Proportional Rate Reduction, RFC 6937, and sets cwnd = ssthresh when recovery ends)."""
        ...

    def on_timeout(self, *, now: float) -> None:
        """RTO: ssthresh from the loss rule, cwnd = 1 segment (RFC 5681 loss window)."""
        self.on_congestion(now=now)
        self.cwnd = self.mss

    def undo(self, cwnd: int, ssthresh: int) -> None:
        """A loss event turned out spurious: back to the window before it."""
        self.cwnd = max(self.cwnd, cwnd)
        self.ssthresh = ssthresh

    def on_recovery_end(self) -> None:
        self.cwnd = max(self.ssthresh, 2 * self.mss)
