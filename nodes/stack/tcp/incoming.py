"""Segment arrival (BSD's tcp_input, RFC 9293 section 3.10.7): SYN_SENT processing, PAWS,
the acceptability test, RST and SYN checks with RFC 5961 challenge ACKs, ACK processing
(window update, SACK scoreboard, RTT, congestion control, fast retransmit and recovery),
in-order / out-of-order data with delayed ACKs, URG, and FIN."""

from __future__ import annotations

from typing import TYPE_CHECKING

from nodes.stack.tcp.congestion import INFINITE_SSTHRESH
from nodes.stack.tcp.output import Output
from nodes.stack.tcp.seq import MASK, seq_lt, unwrap
from nodes.stack.tcp.states import CAN_RECEIVE_DATA, Event, State
from nodes.stack.tcp.tcb import ACK, FIN, RST, SYN, URG, CaState

if TYPE_CHECKING:
    from nodes.wire.tcp import TcpSegment

# header prediction looks at segments whose flags, among these, are ACK alone (PSH is free)
_PREDICTED_FLAGS = SYN | FIN | RST | URG | ACK


class Input(Output):
    def _accept_syn_options(self, seg: TcpSegment, now: float) -> None:
        o = seg.options
        cfg = self.cfg
        self.irs = seg.seq
        self.rcvbuf.nxt = seg.seq + 1
        self.last_ack_sent = self.rcvbuf.nxt
        self.peer_mss = o.mss if o.mss else cfg.default_mss
        self.ws_ok = cfg.window_scaling and o.wscale is not None
        self.snd_wscale = min(o.wscale or 0, 14) if self.ws_ok else 0
        if not self.ws_ok:
            self.rcv_wscale = 0
        self.sack_ok = cfg.sack and o.sack_permitted
        self.ts_ok = cfg.timestamps and o.timestamp is not None
        if o.timestamp is not None:
            self.ts_recent = o.timestamp[0]
        self._start_mtu_search(now)
        self.rcv_mss = min(self.peer_mss, 536) if self.peer_mss else 536

    def on_segment(self, seg: TcpSegment, *, now: float) -> None:
        self.segs_in += 1
        state = self.state
        if (
            state is State.ESTABLISHED
            and seg.flags & _PREDICTED_FLAGS == ACK
            and self.cfg.header_prediction
            and self._fast_path(seg, now)
        ):
            return
        if state is State.SYN_SENT:
            self._in_syn_sent(seg, now)
            return
        if state is State.CLOSED or state is State.LISTEN:
            return
        flags = seg.flags
        rcv_nxt = self.rcv_nxt
        seq = unwrap(seg.seq, rcv_nxt)
        plen = len(seg.payload)
        ts = seg.options.timestamp
        # PAWS (RFC 7323 section 5)
        if (
            self.ts_ok
            and ts is not None
            and not flags & RST
            and seq_lt(ts[0], self.ts_recent)
            and not self._disordered_ack(seg, seq, rcv_nxt, ts[0])
        ):
            self.stats["paws_rejected"] += 1
            self._send_ack(now)
            return
        # Acceptability (Linux tcp_sequence: ends at or after RCV.NXT, starts within window)
        end = seq + plen + (1 if flags & SYN else 0) + (1 if flags & FIN else 0)
        wnd = max(self.rcv_adv - self.rcvbuf.nxt, 0)
        if end < rcv_nxt or seq > rcv_nxt + wnd:
            if flags & RST:
                self.stats["rst_out_of_window"] += 1
                return
            self.stats["out_of_window"] += 1
            self._send_ack(now)
            return
        self._arrived(seq, plen, ts, now)
        # RST (RFC 5961 section 3)
        if flags & RST:
            if seq == rcv_nxt:
                self.stats["in_rsts"] += 1
                self._reset_by_peer(now)
            else:
                self._challenge_ack(now)
            return
        # SYN in a synchronized state or a duplicate SYN (RFC 5961 section 4)
        if flags & SYN and not (
            state is State.SYN_RCVD
            and flags & ACK
            and not plen
            and seq + 1 == rcv_nxt
            and unwrap(seg.ack, self.snd_una) == self.snd_nxt
        ):  # (a simultaneous open's SYN-ACK passes, as in Linux)
            if state is State.SYN_RCVD and seq == self.irs and not flags & ACK:
                self._send_synack(now)  # the peer lost our SYN-ACK
                self.total_retrans += 1
                return
            self._challenge_ack(now)
            return
        if not flags & ACK:
            self.stats["no_ack_dropped"] += 1
            return
        ack = unwrap(seg.ack, self.snd_una)
        if state is State.SYN_RCVD:
            if not self.snd_una < ack <= self.snd_nxt:
                self._send_rst(ack, now)
                return
            self.snd_wnd = seg.window if flags & SYN else seg.window << self.snd_wscale
            self.max_wnd = max(self.max_wnd, self.snd_wnd)
            self.snd_wl1, self.snd_wl2 = seq, ack
            if not self.owner_accepts(now):
                return
            if self.retransmits == 0 and self.syn_timed:
                self.rtt.sample(now - self.rtt_time)
            self.snd_una = ack
            self.retransmits = 0
            self.rtt.reset_backoff()
            self.t_rtx = None
            self._event(Event.RCV_ACK_OF_SYN, now=now)
            self.owner.established(self, now=now)
            state = self.state
        # ACK (RFC 5961 section 5: data with an unacceptable ACK is dropped)
        if ack > self.snd_nxt:
            self.stats["ack_too_new"] += 1
            self._send_ack(now)
            return
        if ack < self.snd_una - max(self.max_wnd, 1):
            self.stats["ack_too_old"] += 1
            self._challenge_ack(now)
            return
        self._process_ack(seg, seq, ack, plen, now)
        if self.closed:
            return
        # URG (RFC 9293 3.8.5; the data stays in the stream)
        if flags & URG and seg.urgent:
            up = seq + seg.urgent
            if self.rcv_up is None or up > self.rcv_up:
                self.rcv_up = up
        # data
        if plen and self.state in CAN_RECEIVE_DATA:
            if self.orphan and seq + plen > self.rcvbuf.nxt:
                self.stats["abort_on_data"] += 1
                self._abort(now, send_rst=True, error="ECONNRESET")
                return
            self._receive_data(seq, seg.payload, now)
        elif plen and end > rcv_nxt:
            self.stats["data_after_fin"] += 1
        # FIN
        if flags & FIN:
            self._receive_fin(seq + plen, now)
        elif self.state is not State.CLOSED:
            self._push(now)

    def _fast_path(self, seg: TcpSegment, now: float) -> bool:
        """Header prediction (Van Jacobson; Linux tcp_rcv_established's fast path), in
        ESTABLISHED for a segment with ACK and none of SYN/FIN/RST/URG (on_segment checked
        those) that is (1) a pure ACK advancing SND.UNA or (2) in-order data (at RCV.NXT,
        no out-of-order queue, as in Linux), passes PAWS, has no SACK blocks and an ACK in
        [SND.UNA, SND.NXT], while recovery is OPEN, nothing is SACKed and no tail loss
        probe is out. Then every check of the full path passes (an in-order segment is
        acceptable, RFC 9293 3.10.7.4) and its ACK processing is the window update and
        ``_ack_advanced`` only: no duplicate ACK (acked > 0, or data), no SACK, no entry
        into recovery (dupacks < dupthresh and no SACKed data: both always so in OPEN,
        checked to keep the argument local), no TLP accounting. So this makes the same
        calls in the same order, minus the checks. Returns False, having changed nothing,
        for any other segment."""
        una = self.snd_una
        # ``unwrap(seg.ack, una)`` when it is not older than SND.UNA (an older one comes
        # out beyond SND.NXT, at least 2**31 above SND.UNA, and goes the full path)
        ack = una + ((seg.ack - una) & MASK)
        rcvbuf = self.rcvbuf
        seq = rcvbuf.nxt  # RCV.NXT: no FIN received in ESTABLISHED
        opts = seg.options
        ts = opts.timestamp
        payload = seg.payload
        plen = len(payload)
        if (
            seg.seq != seq & MASK
            or ack > self.snd_nxt
            or opts.sack_blocks
            or self.ca is not CaState.OPEN
            or self.sb.starts
            or self.tlp_high is not None
            or self.dupacks >= self.dupthresh
            or (ts is not None and self.ts_ok and seq_lt(ts[0], self.ts_recent))  # PAWS
            or (plen and (rcvbuf.has_gaps() or self.orphan))
            or (not plen and ack == una)  # duplicate ACKs, window updates: the full path
        ):
            return False
        self._arrived(seq, plen, ts, now)
        self.probes = 0
        self._update_window(seg, seq, ack)
        if ack > una:
            self._ack_advanced(seg, ack, ack - una, now)
        if plen:
            self.stats["fastpath_data"] += 1
            self._receive_data(seq, payload, now)
        else:
            self.stats["fastpath_acks"] += 1
        self._push(now)
        return True

    def _arrived(self, seq: int, plen: int, ts: tuple[int, int] | None, now: float) -> None:
        """An acceptable segment: TS.Recent (RFC 7323 4.3: only from a segment at or below
        the last ACK we sent), the receiver's RTT sample, and the peer is alive."""
        if ts is not None and self.ts_ok:
            if seq <= self.last_ack_sent and not seq_lt(ts[0], self.ts_recent):
                self.ts_recent = ts[0]
            if plen >= self.rcv_mss and ts[1]:
                self._rcv_rtt_sample(ts[1], now)
        self.last_rcv = now
        self.ka_probes = 0

    def _rcv_rtt_sample(self, tsecr: int, now: float) -> None:
        """Linux tcp_rcv_rtt_measure_ts: the receiver's RTT from the echo of our TSval on
        full-sized data, smoothed 1/8 (for receive buffer autotuning)."""
        ms = (self._tsval(now) - tsecr) & MASK
        if 0 < ms < 600_000:
            rtt = self.rcv_rtt
            self.rcv_rtt = ms / 1000 if rtt is None else rtt + (ms / 1000 - rtt) / 8

    def _disordered_ack(self, seg: TcpSegment, seq: int, rcv_nxt: int, tsval: int) -> bool:
        """Linux tcp_disordered_ack: a reordered pure ACK is not an old duplicate; let it
        through PAWS when its timestamp is at most one RTO older."""
        return (
            not seg.payload
            and not seg.flags & (SYN | FIN)
            and seq == rcv_nxt
            and ((self.ts_recent - tsval) & MASK) <= int(self.rtt.rto * 1000) + 1
        )

    def owner_accepts(self, now: float) -> bool:
        """SYN_RCVD -> ESTABLISHED only if the listener's accept queue has room (Linux
        drops the ACK otherwise; the SYN-ACK is retransmitted and the client ACKs again)."""
        if self.listener is not None and self.listener.accept_queue_full():
            self.stats["listen_overflows"] += 1
            return False
        return True

    def _in_syn_sent(self, seg: TcpSegment, now: float) -> None:
        flags = seg.flags
        iss_w = self.iss & MASK
        if flags & ACK:
            ack = seg.ack
            if ((ack - iss_w) & MASK) == 0 or ((ack - iss_w) & MASK) > 1:
                if not flags & RST:
                    self.stats["synack_bad_ack"] += 1
                    self._send_rst(ack, now)
                return
            if flags & RST:
                self.stats["in_rsts"] += 1
                self.stats["attempt_fails"] += 1
                self._abort(now, send_rst=False, error="ECONNREFUSED")
                return
        elif flags & RST:
            self.stats["syn_sent_dropped"] += 1
            return
        if not flags & SYN:
            self.stats["syn_sent_dropped"] += 1
            return
        self._accept_syn_options(seg, now)
        if flags & ACK:
            self.snd_una = self.iss + 1
            self.snd_wnd = seg.window  # never scaled in a SYN (RFC 7323 2.2)
            self.max_wnd = self.snd_wnd
            self.snd_wl1, self.snd_wl2 = self.rcvbuf.nxt - 1, self.snd_una
            if self.retransmits == 0:
                self.rtt.sample(now - self.rtt_time)
            self.retransmits = 0
            self.rtt.reset_backoff()
            self.t_rtx = None
            self.rcv_adv = self.rcvbuf.nxt + self._window_space()
            self._event(Event.RCV_SYN_ACK, now=now)
            self.last_rcv = now
            if seg.payload:
                self._receive_data(self.rcvbuf.nxt, seg.payload, now)
            if flags & FIN:
                self._receive_fin(self.rcvbuf.nxt, now)
            self._send_ack(now)
            self._push(now)
        else:  # simultaneous open: SYN_SENT -> SYN_RCVD, SYN-ACK with the same ISS
            self._event(Event.RCV_SYN, now=now)
            self.snd_wnd = seg.window
            self._send_synack(now)
            self.t_rtx = now + self.rtt.rto

    def _update_window(self, seg: TcpSegment, seq: int, ack: int) -> bool:
        """RFC 9293 3.10.7.4: SND.WND from the newest segment (SND.WL1/WL2); a nonzero
        window stops the persist timer. True if the window changed."""
        if self.snd_wl1 < seq or (self.snd_wl1 == seq and self.snd_wl2 <= ack):
            window = seg.window if seg.flags & SYN else seg.window << self.snd_wscale
            changed = window != self.snd_wnd
            self.snd_wnd = window
            self.snd_wl1, self.snd_wl2 = seq, ack
            if window > self.max_wnd:
                self.max_wnd = window
            if window and self.t_persist is not None:
                self.t_persist = None
                self.persist_backoff = 0
            return changed
        return False

    def _process_ack(self, seg: TcpSegment, seq: int, ack: int, plen: int, now: float) -> None:
        una0 = self.snd_una
        sacked0 = self.sb.sacked if self.sack_ok else self.dupacks * self.mss
        recovering = self.ca is CaState.RECOVERY
        lost0 = self._lost_point() if recovering else 0
        relost0 = len(self.relost)
        self.probes = 0
        window_changed = self._update_window(seg, seq, ack)
        newly_sacked = 0
        if self.sack_ok and seg.options.sack_blocks:
            newly_sacked = self._update_scoreboard(seg.options.sack_blocks, ack)
        acked = ack - self.snd_una
        if acked > 0:
            self._ack_advanced(seg, ack, acked, now)
        elif (
            acked == 0
            and self.snd_nxt > self.snd_una
            and not plen
            and not seg.flags & (SYN | FIN)
            and (newly_sacked > 0 if self.sack_ok and seg.options.sack_blocks else
                 not window_changed)
        ):  # fmt: skip
            self.dupacks += 1
            self.dup_acks_in += 1
            self.stats["dup_acks"] += 1
        if self.tlp_high is not None:
            self._tlp_ack(seg, ack, acked, newly_sacked, plen, now)
        if self.rxt_log and self.ca is not CaState.OPEN:
            self._detect_lost_retransmissions()
        if (
            self.ca is CaState.OPEN
            and self.snd_nxt > self.snd_una
            and (
                self.dupacks >= self.dupthresh
                or (self.sb and self.sb.lost_boundary(self.mss, self.dupthresh) > self.snd_una)
            )
        ):
            search = self.mtup
            if search is not None and search.probe_size and self.snd_una == search.probe_start:
                self._mtu_probe_lost(now)  # Linux tcp_fastretrans_alert: no cwnd cut
                return
            self._enter_recovery(now)
        if self.ca is CaState.RECOVERY:
            sacked = self.sb.sacked if self.sack_ok else self.dupacks * self.mss
            delivered = self.snd_una - una0 + sacked - sacked0
            if delivered > 0:
                newly_lost = len(self.relost) > relost0 or self._lost_point() > lost0
                self._prr(delivered, self.snd_una > una0 and not newly_lost)
            if not recovering or (acked > 0 and not self.sack_ok):
                # entering: fast retransmit at once; a NewReno partial ACK (RFC 6582):
                # retransmit the next hole at once
                self._push(now, force=True)

    def _mtu_probe_lost(self, now: float) -> None:
        """The MTU probe is the first segment missing while later ones arrived: that size
        does not get through (Linux tcp_mtup_probe_failed). Resend only the probe's data,
        in current segments, without a congestion response (tcp_simple_retransmit: the
        loss state until the probe's end is acknowledged)."""
        search = self.mtup
        assert search is not None
        end = search.probe_end
        search.failed()
        self.stats["mtup_fail"] += 1
        self.ca = CaState.LOSS
        self.recover = end
        self.high_rxt = self.snd_una
        self.dupacks = 0
        self.rtt_seq = None
        self._reset_recovery_marks()
        self._push(now, force=True)

    def _mtu_probe_acked(self) -> None:
        """An ACK past the MTU probe: that size gets through (Linux
        tcp_mtup_probe_success). The MSS grows, cwnd keeps its bytes (fewer, larger
        segments) and ssthresh is at least 3/4 of it."""
        search = self.mtup
        assert search is not None
        search.succeeded()
        self.stats["mtup_success"] += 1
        cc = self.cc
        self._set_mss(keep_bytes=True)
        if cc.ssthresh != INFINITE_SSTHRESH:
            cc.ssthresh = max(cc.ssthresh, (cc.cwnd >> 1) + (cc.cwnd >> 2))

    def _prr(self, delivered: int, ssrb: bool) -> None:
        """Proportional Rate Reduction (RFC 6937) as Linux's tcp_cwnd_reduction: while
        pipe > ssthresh send ssthresh/RecoverFS of what the peer got (in whole segments);
        below ssthresh catch up by at most what was delivered (PRR-CRB), one segment more
        when SND.UNA advanced without new losses (PRR-SSRB). cwnd = pipe + that."""
        cc, mss = self.cc, self.mss
        self.prr_delivered += delivered
        pipe = self._pipe()
        ssthresh = cc.ssthresh
        if pipe > ssthresh:
            quota = -(-ssthresh * self.prr_delivered // (max(self.prr_prior, mss) * mss)) * mss
            sndcnt = quota - self.prr_out
        else:
            sndcnt = max(self.prr_delivered - self.prr_out, delivered)
            if ssrb:
                sndcnt += mss
            sndcnt = min(ssthresh - pipe, sndcnt)
        cc.cwnd = pipe + max(sndcnt, 0 if self.prr_out else mss)

    def _tlp_ack(
        self, seg: TcpSegment, ack: int, acked: int, newly_sacked: int, plen: int, now: float
    ) -> None:
        """Linux tcp_process_tlp_ack (RFC 8985 7.4): did the probe repair a loss? A D-SACK
        or a pure duplicate ACK says both copies arrived; an ACK beyond the probe's SND.NXT
        (not a D-SACK) says the original was lost: reduce cwnd once (CWR)."""
        high = self.tlp_high
        if high is None or ack < high:
            return
        blocks = seg.options.sack_blocks
        if not self.tlp_retrans or (blocks and unwrap(blocks[0][0], ack) < ack):
            self.tlp_high = None
        elif ack > high:
            self.tlp_high = None
            self.stats["tlp_recoveries"] += 1
            if self.ca is CaState.OPEN:
                self.cc.on_congestion(now=now)
                self.cc.on_recovery_end()
        elif acked <= 0 and not newly_sacked and not plen:
            self.tlp_high = None

    def _update_scoreboard(self, blocks: tuple[tuple[int, int], ...], ack: int) -> int:
        added = 0
        una, nxt = max(ack, self.snd_una), self.snd_nxt
        for left_w, right_w in blocks:
            left, right = unwrap(left_w, una), unwrap(right_w, una)
            if left < una:
                self.stats["sack_blocks_below_ack"] += 1
                left = una
            if right > nxt:
                right = nxt
            if right > left:
                added += self.sb.add(left, right)
        return added

    def _ack_advanced(self, seg: TcpSegment, ack: int, acked: int, now: float) -> None:
        una = self.snd_una
        # RTT: timestamps echo, else the one timed segment (Karn: cleared on retransmit)
        ts = seg.options.timestamp
        sample: float | None = None
        if self.ts_ok and ts is not None and ts[1]:
            # Karn for timestamps: an echo older than our last retransmission can come from
            # a stale TS.Recent at the peer (its duplicate-ACK path) and would include the
            # retransmission delay; only echoes of newer transmissions are samples.
            if self.rtx_tsval is None or not seq_lt(ts[1], self.rtx_tsval):
                ms = (int(now * 1000) + self.ts_offset - ts[1]) & MASK
                if ms < 600_000:
                    sample = ms / 1000
                    self.rtt.sample(sample)
        elif self.rtt_seq is not None and ack >= self.rtt_seq:
            sample = now - self.rtt_time
            self.rtt.sample(sample)
            self.rtt_seq = None
        cc = self.cc
        if sample is not None or cc.cwnd < cc.ssthresh:
            exit_ = cc.on_ack_sample(sample, now=now, una=ack, nxt=self.snd_nxt)
            if exit_ is not None:
                self.stats[
                    "hystart_train_exits" if exit_ == "train" else "hystart_delay_exits"
                ] += 1
        sndbuf = self.sndbuf
        data_acked = min(ack, sndbuf.end) - max(una, sndbuf.start)
        if data_acked > 0:
            self.bytes_acked += data_acked
        sndbuf.ack_to(ack)
        self.snd_una = ack
        search = self.mtup
        if search is not None and search.probe_size and ack >= search.probe_end:
            self._mtu_probe_acked()
        if self.sb.starts:
            self.sb.ack(ack)
        if self.high_rxt < ack:
            self.high_rxt = ack
        self.retransmits = 0
        self.rtt.reset_backoff()
        if self.snd_up and ack >= self.snd_up:
            self.snd_up = 0
        if self.ca is CaState.RECOVERY and self._spurious(ts):
            self._undo(now)
        if self.ca is CaState.OPEN:
            self.dupacks = 0
            self.cc.on_ack(
                acked, now=now, rtt=self.rtt.srtt or 0.0, cwnd_limited=self._cwnd_limited()
            )
            if self.cc.cwnd * 2 > self.sndbuf.capacity:
                self._sndbuf_expand()
        elif ack >= self.recover:
            self._exit_recovery()
        else:  # partial ACK (RFC 6582): the new head is presumed lost, see _lost_point
            # one ACK filled a hole, the rest stood for duplicate ACKs (tcp_remove_reno_sacks)
            self.dupacks = max(0, self.dupacks - max(acked // max(self.mss, 1) - 1, 0))
            if self.ca is CaState.LOSS:
                self.cc.on_ack(acked, now=now, rtt=self.rtt.srtt or 0.0, cwnd_limited=True)
        if self.ca is CaState.OPEN:
            self.rtx_stamp = None  # no retransmission outstanding any more
        # RFC 6298 5.2/5.3
        self.t_rtx = None if self.snd_una >= self.snd_nxt else now + self.rtt.rto
        self._arm_tlp(now)
        if (
            self.fin_queued
            and ack > self.fin_seq
            and self.state in (State.FIN_WAIT_1, State.CLOSING, State.LAST_ACK)
        ):
            self._event(Event.RCV_ACK_OF_FIN, now=now)

    def _sndbuf_expand(self) -> None:
        """Linux tcp_sndbuf_expand: room for twice cwnd (so the application can keep the
        window full while the last one is in flight), up to wmem_max; SO_SNDBUF locks."""
        if self.opts.sndbuf is None:
            capacity = min(2 * self.cc.cwnd, self.cfg.wmem_max)
            if capacity > self.sndbuf.capacity:
                self.sndbuf.capacity = capacity
                self.stats["sndbuf_grown"] += 1

    def _spurious(self, ts: tuple[int, int] | None) -> bool:
        """Eifel detection (RFC 3522): the ACK for retransmitted data echoes a timestamp
        older than the first retransmission, so the original arrived: it was reordering."""
        return (
            self.undo_tsval is not None
            and ts is not None
            and ts[1] != 0
            and seq_lt(ts[1], self.undo_tsval)
        )

    def _undo(self, now: float) -> None:
        """Linux tcp_try_undo_recovery: restore the window and tolerate more reordering."""
        self.stats["spurious_recoveries_undone"] += 1
        self.cc.undo(self.undo_cwnd, self.undo_ssthresh)
        self.dupthresh = min(self.dupthresh + 1, 64)
        self.ca = CaState.OPEN
        self.dupacks = 0
        self._reset_recovery_marks()

    def _detect_lost_retransmissions(self) -> None:
        """A retransmission still missing after data sent later was SACKed is lost again
        (Linux's tcp_mark_lost_retrans; RACK does this with time)."""
        highest, una, log = self.sb.highest(), self.snd_una, self.rxt_log
        while log:
            start, end, sent_nxt = log[0]
            if end > una and sent_nxt >= highest:
                break
            log.popleft()
            start = max(start, una)
            if end > start and self.sb.sacked_in(start, end) < end - start:
                self.relost.append((start, end))
                self.stats["lost_retransmits"] += 1

    def _enter_recovery(self, now: float) -> None:
        self.stats["sack_recoveries" if self.sack_ok else "reno_recoveries"] += 1
        self.stats["fast_retransmits"] += 1
        self.undo_cwnd, self.undo_ssthresh = self.cc.cwnd, self.cc.ssthresh
        self.undo_tsval = None
        self.cc.on_congestion(now=now)
        self.prr_prior = self.cc.cwnd  # PRR's RecoverFS; cwnd follows _prr from here
        self.prr_delivered = self.prr_out = 0
        self.tlp_high = None
        self.t_tlp = None
        self.ca = CaState.RECOVERY
        self.recover = self.snd_nxt
        # high_rxt stays: data retransmitted in an earlier episode that was undone (Eifel)
        # is still in flight and is not resent again unless detected lost again
        self.high_rxt = max(self.high_rxt, self.snd_una)
        self._reset_recovery_marks()

    def _exit_recovery(self) -> None:
        self._reset_recovery_marks()
        if self.ca is CaState.RECOVERY:
            self.cc.on_recovery_end()
        self.ca = CaState.OPEN
        self.dupacks = 0

    def _receive_data(self, seq: int, payload: memoryview, now: float) -> None:
        plen = len(payload)
        buf = self.rcvbuf
        self.data_segs_in += 1
        if plen > self.rcv_mss:
            self.rcv_mss = plen
        last = self.last_data_rcv
        if last is None or now - last > self.rtt.rto:
            self._enter_quickack()
        self.last_data_rcv = now
        had_gaps = buf.has_gaps()
        before = buf.nxt
        if seq < before and self.sack_ok:
            self.dsack = (seq, min(seq + plen, before))  # report the duplicate part
            self.stats["dsack_sent"] += 1
        if seq + plen <= before:
            self.stats["dup_data_segments"] += 1
            self._send_ack(now)  # a retransmission we already have: ACK at once
            return
        gained = buf.add(seq, payload)
        self.bytes_received += gained
        if gained == 0:
            if seq > before:
                self.stats["ooo_segments"] += 1
            else:
                self.stats["rcv_window_full"] += 1
            self._send_ack(now)
            return
        if self.pending_fin is not None and buf.nxt >= self.pending_fin:
            self._accept_fin(now)  # an earlier out-of-order FIN is now in order
            return
        if self.quickacks:
            self.quickacks -= 1
            self.stats["quick_acks"] += 1
            self._send_ack(now)
        elif (
            had_gaps
            or buf.has_gaps()
            or seq < before
            or buf.nxt - self.last_ack_sent > self.rcv_mss
            or buf.free() < self.rcv_mss
            or not self.cfg.delayed_ack
        ):  # out of order, a hole filled, a 2nd full segment, the window closing, no delack
            self._send_ack(now)
        elif self.t_delack is None:
            self.t_delack = now + self.cfg.delack

    def _enter_quickack(self) -> None:
        """Linux tcp_incr_quickack, simplified: the first data of a connection (and data
        after an idle gap longer than the RTO) is ACKed at once for min(16, rcv_wnd /
        (2 * rcv_mss)) segments (at least 2), so the sender's slow start is not slowed by
        delayed ACKs. Linux also leaves quick-ACK mode in interactive ("pingpong")
        exchanges; we do not model that."""
        quick = max(self._window_now() // (2 * max(self.rcv_mss, 1)), 2)
        self.quickacks = max(self.quickacks, min(quick, self.cfg.quickacks))

    def _receive_fin(self, fin_seq: int, now: float) -> None:
        if self.fin_received:
            if fin_seq + 1 == self.rcv_nxt:  # a retransmitted FIN
                if self.state is State.TIME_WAIT:
                    self.t_wait = now + 2 * self.cfg.msl
                    self.stats["time_wait_fin_reacked"] += 1
                self._send_ack(now)
            return
        if fin_seq > self.rcvbuf.nxt:
            self.pending_fin = fin_seq
            self._send_ack(now)
            return
        if fin_seq < self.rcvbuf.nxt:
            return
        self._accept_fin(now)

    def _accept_fin(self, now: float) -> None:
        self.fin_received = True
        self.pending_fin = None
        if self.state is State.FIN_WAIT_2:
            # Linux tcp_fin: the ACK goes out before tcp_time_wait, which closes the
            # connection at once when no TIME_WAIT bucket is free (max_tw_buckets)
            self._send_ack(now)
            self._event(Event.RCV_FIN, now=now)
            return
        if self.state in (State.ESTABLISHED, State.FIN_WAIT_1, State.SYN_RCVD):
            self._event(Event.RCV_FIN, now=now)
        self._send_ack(now)
        self._push(now)
