"""Packetization-layer path MTU discovery (RFC 4821) the way Linux does it
(``tcp_mtu_probing``): one connection's search for the largest packet the path carries,
when ICMP frag-needed never comes (a PMTUD black hole).

Sizes are IP packet lengths (MTUs) unless named ``mss``. The search range is
``low`` (known, or assumed, to get through) .. ``high`` (not known to fail):

- start (Linux tcp_mtup_init): ``high`` = the peer's MSS + 40, at most the path MTU;
  ``low`` = base_mss as an MTU. ``tcp_mtu_probing`` 2 enables it at once (the
  connection then sends at most base_mss), 1 leaves it off until a black hole;
- black hole (tcp_mtu_probing, on every RTO once retries1's time has passed): the first
  one enables the search (the MSS drops to base_mss); each later one halves ``low``'s
  MSS (at most base_mss, at least mtu_probe_floor and min_snd_mss);
- probe (tcp_mtu_probe): while enabled, nothing outstanding, the sender in the open
  state with cwnd >= 11 segments, one segment of the MSS of (low + high) / 2 goes out
  ahead of at least (reordering + 1) full segments more; when high - low is below
  probe_threshold the search rests until probe_interval passed since it started, then
  starts over from the current MSS up to the peer's MSS (tcp_mtu_check_reprobe);
- an ACK past the probe (tcp_mtup_probe_success): ``low`` = the probe's size; a probe
  found lost by SACK / duplicate ACKs while it is the first unacknowledged segment
  (tcp_mtup_probe_failed): ``high`` = its size - 1, and only it is resent, in current
  segments, without a congestion response.

The connection's MSS is ``min(MSS of the path MTU, MSS of low)`` while enabled
(tcp_sync_mss). This module is the arithmetic; the connection layers call it (timers.py
on RTO, output.py to send a probe, incoming.py on ACKs).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from nodes.stack.tcp.config import TcpConfig

IP_TCP = 40  # IPv4 + TCP headers without options
SACK_FREE_CWND = 11  # segments of cwnd a probe needs (Linux: snd_cwnd < 11 -> no probe)


@dataclass(slots=True)
class MtuSearch:
    cfg: TcpConfig = field(repr=False)
    clamp: int  # the peer's MSS (Linux mss_clamp): no segment carries more
    options: int  # bytes of TCP options in every segment (12 with timestamps)
    enabled: bool
    low: int
    high: int
    probe_size: int = 0  # the outstanding probe's packet size; 0: none
    probe_start: int = 0  # its sequence range (absolute)
    probe_end: int = 0
    started: float = 0.0  # when the current search started (Linux probe_timestamp)

    @classmethod
    def create(
        cls, cfg: TcpConfig, *, clamp: int, options: int, pmtu: int, now: float
    ) -> MtuSearch | None:
        """The search of a connection that just learnt the peer's MSS; None when
        ``cfg.mtu_probing`` is 0 (nothing is ever probed then)."""
        if cfg.mtu_probing <= 0:
            return None
        search = cls(cfg, clamp, options, cfg.mtu_probing > 1, 0, min(clamp + IP_TCP, pmtu))
        search.low = search.to_mtu(cfg.base_mss)
        search.started = now
        return search

    def to_mss(self, mtu: int) -> int:
        """Linux tcp_mtu_to_mss: the payload of a segment in a ``mtu``-byte packet."""
        mss = min(mtu - IP_TCP, self.clamp) - self.options
        return max(mss, self.cfg.min_snd_mss)

    def to_mtu(self, mss: int) -> int:
        """Linux tcp_mss_to_mtu."""
        return mss + IP_TCP + self.options

    def mss_limit(self) -> int | None:
        """What the search allows a segment to carry (None: no limit, not enabled)."""
        return self.to_mss(self.low) if self.enabled else None

    def path_mtu(self, pmtu: int) -> None:
        """The path MTU (from the route or ICMP) bounds the search (tcp_sync_mss)."""
        if self.high > pmtu:
            self.high = pmtu
        if self.probe_size > pmtu:  # an ICMP said the probe is too big: it is over
            self.probe_size = 0

    def black_hole(self, now: float) -> None:
        """Retransmission timeouts say large segments vanish (Linux tcp_mtu_probing)."""
        if not self.enabled:
            self.enabled = True
            self.started = now
            return
        cfg = self.cfg
        mss = self.to_mss(self.low) >> 1
        mss = max(min(cfg.base_mss, mss), cfg.mtu_probe_floor, cfg.min_snd_mss)
        self.low = self.to_mtu(mss)

    def probe_mss(self, now: float, mss: int, pmtu: int) -> int | None:
        """The payload of the next probe, or None while the search rests (after
        probe_interval it starts over from the current ``mss`` up to the peer's MSS,
        within the path MTU ``pmtu``)."""
        probe = self.to_mss((self.high + self.low) >> 1)
        if probe > self.to_mss(self.high) or self.high - self.low < self.cfg.probe_threshold:
            if now - self.started >= self.cfg.probe_interval:  # tcp_mtu_check_reprobe
                self.probe_size = 0
                self.high = min(self.clamp + IP_TCP, pmtu)
                self.low = self.to_mtu(mss)
                self.started = now
            return None
        if probe <= mss:
            return None  # the range is below what is sent already: nothing to learn
        return probe

    def sent(self, start: int, end: int) -> None:
        self.probe_size = self.to_mtu(end - start)
        self.probe_start, self.probe_end = start, end

    def overlaps(self, start: int, end: int) -> bool:
        return start < self.probe_end and end > self.probe_start

    def succeeded(self) -> None:
        """The probe was acknowledged: that size gets through."""
        self.low = self.probe_size
        self.probe_size = 0

    def failed(self) -> None:
        """The probe was lost: that size does not get through."""
        self.high = self.probe_size - 1
        self.probe_size = 0
