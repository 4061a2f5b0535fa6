"""Timers (BSD's tcp_timer): retransmission (SYN, SYN-ACK, data, FIN) with exponential
backoff and give-up counts, zero-window persist probes, keepalive, TIME_WAIT and orphan
FIN_WAIT_2 expiry; and the ICMP-driven events (PMTUD, unreachable)."""

from __future__ import annotations

from nodes.stack.tcp.incoming import Input
from nodes.stack.tcp.mtup import MtuSearch
from nodes.stack.tcp.seq import unwrap
from nodes.stack.tcp.states import SYNCHRONIZED, Event, State
from nodes.stack.tcp.tcb import CaState


class Timers(Input):
    def on_timer(self, *, now: float) -> None:
        if self.t_wait is not None and now >= self.t_wait:
            self.t_wait = None
            if self.state is State.FIN_WAIT_2:
                self.stats["fin_wait2_timeouts"] += 1
            self._event(Event.TIMEOUT, now=now)
            return
        if self.t_delack is not None and now >= self.t_delack:
            self.stats["delayed_acks"] += 1
            self._send_ack(now)
        if self.t_tsq is not None and now >= self.t_tsq:
            self.t_tsq = None
            self._push(now)
        if self.t_tlp is not None and now >= self.t_tlp:
            self.t_tlp = None
            self._on_tlp(now)
        if self.t_rtx is not None and now >= self.t_rtx:
            self.t_rtx = None
            self._on_rto(now)
            if self.state is State.CLOSED:
                return
        if self.t_persist is not None and now >= self.t_persist:
            self.t_persist = None
            self._on_persist(now)
            if self.state is State.CLOSED:
                return
        if self.t_keepalive is not None and now >= self.t_keepalive:
            self.t_keepalive = None
            self._on_keepalive(now)

    def tsq_resume(self, *, now: float) -> None:
        """Small queues: the queue below drained (or the io layer took our output)."""
        self.t_tsq = None
        self._push(now)

    def _write_timed_out(self, now: float) -> bool:
        """Linux tcp_write_timeout: SYN and SYN-ACK retries are counts (a connect fails
        after 1+2+4+... s: 63 s for 5, 127 s for 6); otherwise retries2 (orphan_retries
        for an orphan) is a time limit since the first unacknowledged retransmission,
        checked when the RTO expires (retransmits_timed_out)."""
        cfg = self.cfg
        if self.state is State.SYN_SENT:
            return self.retransmits >= cfg.syn_retries
        if self.state is State.SYN_RCVD:
            return self.retransmits >= cfg.synack_retries
        return self._retransmits_timed_out(cfg.orphan_retries if self.orphan else cfg.retries2, now)

    def _retransmits_timed_out(self, boundary: int, now: float) -> bool:
        """Linux retransmits_timed_out: retransmitting for at least the time ``boundary``
        backed-off RTOs from rto_min take (model_timeout)."""
        if not self.retransmits or self.rtx_stamp is None:
            return False
        limit = model_timeout(boundary, self.cfg.rto_min, self.cfg.rto_max)
        return now - self.rtx_stamp >= limit - 1e-9

    def _on_rto(self, now: float) -> None:
        if self.state in SYNCHRONIZED and self.snd_nxt <= self.snd_una:
            return
        if self._write_timed_out(now):
            self.stats["timeout_aborts"] += 1
            if self.state is State.SYN_SENT:
                self.stats["attempt_fails"] += 1
            self._abort(now, send_rst=False, error="ETIMEDOUT")
            return
        search = self.mtup
        if search is not None and self.state in SYNCHRONIZED:
            self._mtu_black_hole(search, now)  # before counting this timeout, as Linux
        self.stats["timeouts"] += 1
        self.retransmits += 1
        self.tlp_high = None
        self.t_tlp = None
        self.rtt.back_off()
        self.rtt_seq = None
        if self.state is State.SYN_SENT:
            self._send_syn(now)
            self.total_retrans += 1
            self.stats["syn_retrans"] += 1
        elif self.state is State.SYN_RCVD:
            self._send_synack(now)
            self.total_retrans += 1
            self.stats["synack_retrans"] += 1
        else:
            if self.ca is not CaState.LOSS or self.retransmits == 1:
                self.cc.on_timeout(now=now)
            else:
                self.cc.cwnd = self.mss
            self.ca = CaState.LOSS
            self.recover = self.snd_nxt
            self.high_rxt = self.snd_una
            self.dupacks = 0
            self.dupthresh = 3  # Linux tcp_enter_loss: forget the reordering estimate
            self.undo_tsval = None
            self._reset_recovery_marks()
            self._push(now, force=True)
        self.t_rtx = now + self.rtt.rto

    def _mtu_black_hole(self, search: MtuSearch, now: float) -> None:
        """On an RTO with MTU probing on (Linux tcp_write_timeout): an outstanding probe
        that is the first unacknowledged segment counts as lost, one behind other lost
        data proves nothing; once retries1's time has passed, large segments are
        suspected to vanish: enable the search, or halve its lower end (tcp_mtu_probing)."""
        if search.probe_size:
            if self.snd_una >= search.probe_start:
                search.failed()
                self.stats["mtup_fail"] += 1
            else:
                search.probe_size = 0
        if self._retransmits_timed_out(self.cfg.retries1, now):
            search.black_hole(now)
            self.stats["mtup_black_holes"] += 1
            self._set_mss()

    def _on_tlp(self, now: float) -> None:
        """RFC 8985 7.3 / Linux tcp_send_loss_probe: send one new segment if the peer's
        window allows (cwnd does not apply), else retransmit the last segment; at most one
        probe outstanding; the RTO restarts from now."""
        if (
            self.ca is not CaState.OPEN
            or self.tlp_high is not None
            or self.snd_nxt <= self.snd_una
            or self.state not in SYNCHRONIZED
        ):
            return
        nxt = self.snd_nxt
        if self._send_new(now, 0, self.cc.cwnd, probe=True):
            self.tlp_retrans = False
        else:
            self._send_range(max(self.snd_una, nxt - self.mss), nxt, now, retransmit=True)
            self.tlp_retrans = True
        self.stats["tlp_probes"] += 1
        self.tlp_high = self.snd_nxt
        self.t_rtx = now + self.rtt.rto

    def _on_persist(self, now: float) -> None:
        if self.snd_nxt > self.snd_una or self.sndbuf.end <= self.snd_nxt:
            self._push(now)
            return
        if self.snd_wnd > 0:  # a window too small for SWS avoidance: fill it now
            self._send_new(now, 0, self.cc.cwnd, probe=True)
            self._push(now)
            return
        limit = self.cfg.orphan_retries if self.orphan else self.cfg.retries2
        if self.probes >= limit:
            self.stats["persist_aborts"] += 1
            self._abort(now, send_rst=False, error="ETIMEDOUT")
            return
        self.stats["persist_probes"] += 1
        self.probes += 1
        self.persist_backoff += 1
        self._emit(self.snd_una - 1, 0, b"", now)  # Linux tcp_xmit_probe_skb
        backoff = 1 << min(self.persist_backoff, 30)
        self.t_persist = now + min(self.rtt.base_rto * backoff, self.cfg.rto_max)

    def _on_keepalive(self, now: float) -> None:
        if not self.opts.keepalive or self.state not in SYNCHRONIZED:
            return
        idle, intvl, cnt = self._keep()
        if self.snd_nxt > self.snd_una or self.sndbuf.end > self.snd_nxt:
            self.t_keepalive = now + idle  # the retransmission timer watches the peer
            return
        if now - self.last_rcv < idle and self.ka_probes == 0:
            self.t_keepalive = self.last_rcv + idle
            return
        if self.ka_probes >= cnt:
            self.stats["keepalive_timeouts"] += 1
            self._abort(now, send_rst=True, error="ETIMEDOUT")
            return
        self.stats["keepalive_probes"] += 1
        self.ka_probes += 1
        self._emit(self.snd_una - 1, 0, b"", now)
        self.t_keepalive = now + intvl

    def on_pmtu(self, mtu: int, quoted_seq: int, *, now: float) -> None:
        """ICMP fragmentation needed (RFC 1191) for a segment we sent."""
        seq = unwrap(quoted_seq, self.snd_una)
        if not self.snd_una <= seq < max(self.snd_nxt, self.snd_una + 1):
            self.stats["icmp_out_of_window"] += 1
            return
        lock = False
        if mtu < self.cfg.min_pmtu:  # Linux __ip_rt_update_pmtu: min_pmtu, locked, no DF
            lock = not self.pmtu_locked
            mtu = min(self.pmtu, self.cfg.min_pmtu)
        if mtu >= self.pmtu and not lock:
            return
        self.stats["pmtu_updates"] += 1
        if lock:
            self.pmtu_locked = True
            self.stats["pmtu_locked"] += 1
        self.pmtu = mtu
        self._set_mss()
        if self.state in SYNCHRONIZED and self.snd_nxt > self.snd_una:
            # Linux tcp_simple_retransmit: resend in smaller pieces, cwnd untouched
            self.ca = CaState.LOSS
            self.recover = self.snd_nxt
            self.high_rxt = self.snd_una
            self.dupacks = 0
            self.rtt_seq = None
            self._push(now, force=True)

    def on_soft_error(self, error: str, *, now: float) -> None:
        """ICMP unreachable: fatal while connecting (Linux), remembered otherwise."""
        if self.state is State.SYN_SENT:
            self.stats["attempt_fails"] += 1
            self._abort(now, send_rst=False, error=error)
        else:
            self.soft_error = error


def model_timeout(boundary: int, rto_base: float, rto_max: float) -> float:
    """Linux tcp_model_timeout: how long ``boundary`` retransmissions take when the RTO
    starts at ``rto_base`` and doubles up to ``rto_max`` (then stays there):
    (2^(b+1) - 1) * base while doubling, then rto_max each. 15, 0.2 s, 120 s -> 924.6 s."""
    base_ms = max(round(rto_base * 1000), 1)
    max_ms = round(rto_max * 1000)
    linear = max(max_ms // base_ms, 1).bit_length() - 1  # ilog2(TCP_RTO_MAX / rto_base)
    if boundary <= linear:
        return ((2 << boundary) - 1) * base_ms / 1000
    return (((2 << linear) - 1) * base_ms + (boundary - linear) * max_ms) / 1000
