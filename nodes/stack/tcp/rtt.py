"""Retransmission timeout per RFC 6298 with Linux's bounds (min 200 ms, max 120 s,
initial 1 s) and Karn's rule (the caller never feeds samples of retransmitted segments,
unless timestamps disambiguate them).

Linux computes RTO = SRTT + max(4*RTTVAR, rto_min) rather than max(SRTT + 4*RTTVAR,
rto_min); we follow Linux so a LAN connection's RTO is about 200 ms + SRTT.
"""

from __future__ import annotations

RTO_INITIAL = 1.0
RTO_MIN = 0.2
RTO_MAX = 120.0
CLOCK_GRANULARITY = 0.001


class RttEstimator:
    """``base_rto`` and ``rto`` are plain attributes, recomputed when an input changes (a
    sample, a backoff): the per-segment path reads them often."""

    __slots__ = (
        "_base", "backoff", "base_rto", "latest", "min_rtt", "rto", "rto_max", "rto_min",
        "rttvar", "srtt",
    )  # fmt: skip

    def __init__(
        self, *, rto_min: float = RTO_MIN, rto_max: float = RTO_MAX, initial: float = RTO_INITIAL
    ) -> None:
        self.rto_min = rto_min
        self.rto_max = rto_max
        self.srtt: float | None = None
        self.rttvar = initial / 2
        self.latest = 0.0
        self.min_rtt: float | None = None
        self.backoff = 0
        self._base = initial
        self._update()

    def sample(self, rtt: float) -> None:
        """RFC 6298 section 2.2/2.3 update with one measurement (seconds)."""
        rtt = max(rtt, 0.0)
        self.latest = rtt
        if self.min_rtt is None or rtt < self.min_rtt:
            self.min_rtt = rtt
        if self.srtt is None:
            self.srtt = rtt
            self.rttvar = rtt / 2
        else:
            self.rttvar = 0.75 * self.rttvar + 0.25 * abs(self.srtt - rtt)
            self.srtt = 0.875 * self.srtt + 0.125 * rtt
        self._base = self.srtt + max(CLOCK_GRANULARITY, 4 * self.rttvar, self.rto_min)
        self.backoff = 0
        self._update()

    def _update(self) -> None:
        self.base_rto = min(max(self._base, self.rto_min), self.rto_max)
        # the current timeout including exponential backoff (RFC 6298 5.5), capped
        self.rto = min(self.base_rto * (1 << min(self.backoff, 30)), self.rto_max)

    def back_off(self) -> None:
        self.backoff += 1
        self._update()

    def reset_backoff(self) -> None:
        if self.backoff:
            self.backoff = 0
            self._update()
