"""Sending (BSD's tcp_output): segments with our window and options, and ``_push``, which
sends what the windows allow per RFC 9293 + RFC 6675: retransmissions of presumed-lost
data first (NextSeg rule 1), then new data (Nagle, sender SWS avoidance), then FIN, while
``pipe`` < cwnd. The same machinery covers NewReno (no SACK: duplicate ACKs stand in for
SACKed segments, as in Linux), SACK recovery, and RTO recovery (all outstanding data is
presumed lost)."""

from __future__ import annotations

from nodes.stack.tcp.mtup import SACK_FREE_CWND
from nodes.stack.tcp.seq import MASK
from nodes.stack.tcp.states import State
from nodes.stack.tcp.tcb import ACK, FIN, IP_TCP_HEADERS, PSH, SYN, URG, CaState, Tcb
from nodes.wire.tcp import TcpOptions, build_tcp_ts, encode_tcp_options, timestamp_only_options

FRAME_OVERHEAD = IP_TCP_HEADERS + 14 + 12  # Ethernet, IP, TCP and timestamp headers
_PACING_BUDGET = 1 / 1024  # s: Linux's sk_pacing_shift 10, ~1 ms of the pacing rate

_SENDING = frozenset(
    {State.ESTABLISHED, State.CLOSE_WAIT, State.FIN_WAIT_1, State.CLOSING, State.LAST_ACK}
)


class Output(Tcb):
    def _syn_options(self, now: float, *, synack: bool) -> TcpOptions:
        """A SYN offers what the config enables; a SYN-ACK (also when retransmitted)
        answers with what was negotiated from the peer's SYN."""
        cfg = self.cfg
        mss = self.owner.route_mtu(self.remote) - IP_TCP_HEADERS
        if synack:
            return TcpOptions(
                mss=mss,
                wscale=self.rcv_wscale if self.ws_ok else None,
                sack_permitted=self.sack_ok,
                timestamp=(self._tsval(now), self.ts_recent) if self.ts_ok else None,
            )
        return TcpOptions(
            mss=mss,
            wscale=self.rcv_wscale if cfg.window_scaling else None,
            sack_permitted=cfg.sack,
            timestamp=(self._tsval(now), 0) if cfg.timestamps else None,
        )

    def _send_syn(self, now: float) -> None:
        opts = self._syn_options(now, synack=False)
        wnd = min(self.rcvbuf.capacity, 0xFFFF)
        self._emit_raw(self.iss, 0, SYN, wnd, encode_tcp_options(opts), b"", now)
        self.snd_nxt = self.iss + 1

    def _send_synack(self, now: float) -> None:
        opts = self._syn_options(now, synack=True)
        wnd = min(self.rcvbuf.capacity, 0xFFFF)
        self.rcv_adv = self.rcvbuf.nxt + wnd
        self._emit_raw(self.iss, self.rcv_nxt, SYN | ACK, wnd, encode_tcp_options(opts), b"", now)
        self.last_ack_sent = self.rcv_nxt
        self.snd_nxt = self.iss + 1

    def _window_field(self) -> int:
        """The window to advertise: never shrink the right edge, and only move it by
        at least min(buffer/2, MSS) (receiver-side SWS avoidance, RFC 9293 3.8.6.2.2)."""
        buf = self.rcvbuf
        nxt = buf.nxt
        right = nxt + self._window_space()
        edge = self.rcv_adv
        if edge < nxt:
            edge = nxt
        if right - edge >= min(buf.capacity // 2, self.rcv_mss):
            edge = right
        self.rcv_adv = edge
        field = (edge - nxt) >> self.rcv_wscale
        return field if field < 0xFFFF else 0xFFFF

    def _options(self, now: float) -> bytes:
        """Timestamps, then SACK blocks: a D-SACK first (RFC 2883), then the out-of-order
        blocks, the most recent first (RFC 2018)."""
        opts = timestamp_only_options(self._tsval(now), self.ts_recent) if self.ts_ok else b""
        if self.sack_ok and (self.rcvbuf.has_gaps() or self.dsack is not None):
            limit = 3 if self.ts_ok else 4
            blocks = [] if self.dsack is None else [self.dsack]
            blocks += self.rcvbuf.sack_blocks(limit - len(blocks))
            self.dsack = None
            wire = tuple((s & MASK, e & MASK) for s, e in blocks)
            opts += encode_tcp_options(TcpOptions(sack_blocks=wire))
        return opts

    def _emit(
        self, seq: int, flags: int, payload: bytes | memoryview, now: float, urgent: int = 0
    ) -> None:
        """A segment in a synchronized state: carries ACK, our window and options."""
        flags |= ACK
        if self.snd_up and seq < self.snd_up:
            flags |= URG
            urgent = min(self.snd_up - seq, 0xFFFF)
        window = self._window_field()
        rcv_nxt = self.rcv_nxt
        if self.ts_ok and not (self.sack_ok and (self.dsack is not None or self.rcvbuf.has_gaps())):
            # what _options gives then, timestamps alone: header and options in one pack
            segment = build_tcp_ts(
                self.local, self.remote, self.lport, self.rport, seq, rcv_nxt, flags, window,
                self._tsval(now), self.ts_recent, payload, urgent,
            )  # fmt: skip
            self.segs_out += 1
            self.owner.transmit(self, segment, now=now)
        else:
            self._emit_raw(seq, rcv_nxt, flags, window, self._options(now), payload, now, urgent)
        self.last_ack_sent = rcv_nxt
        self.t_delack = None

    def _send_ack(self, now: float) -> None:
        if self.state is State.CLOSED or self.state is State.SYN_SENT:
            return
        self._emit(self.snd_nxt, 0, b"", now)

    def _challenge_ack(self, now: float) -> None:
        if self.owner.allow_challenge_ack(now=now):
            self.stats["challenge_acks"] += 1
            self._send_ack(now)
        else:
            self.stats["challenge_acks_limited"] += 1

    def _pipe(self) -> int:
        """RFC 6675 SetPipe in bytes: outstanding - SACKed - lost + retransmitted."""
        una, nxt = self.snd_una, self.snd_nxt
        out = nxt - una
        if self.ca is CaState.OPEN and not self.dupacks and not self.sb.starts:
            return out
        if self.sack_ok:
            sacked = self.sb.sacked
        else:
            sacked = min(self.dupacks * self.mss, max(0, out - self.mss))
        lost_point = self._lost_point()
        lost = retrans = 0
        if lost_point > una:
            lost = (lost_point - una) - self.sb.sacked_in(una, lost_point)
            top = min(self.high_rxt, lost_point)
            if top > una:
                retrans = (top - una) - self.sb.sacked_in(una, top)
        return max(out - sacked - lost + retrans, 0)

    def _lost_point(self) -> int:
        if self.ca is CaState.LOSS:
            return min(self.recover, self.snd_nxt)
        point = self.sb.lost_boundary(self.mss, self.dupthresh) if self.sb else 0
        if self.ca is CaState.RECOVERY:
            point = max(point, self.snd_una + self.mss)
        return min(point, self.snd_nxt)

    def _push(self, now: float, *, force: bool = False) -> None:
        """Send what the windows allow: lost data first, then new data, then FIN; then
        note whether the window, not the application or the peer, was the limit."""
        if self.state not in _SENDING:
            return
        sent = self.segs_out
        room = self.tsq_room = self.owner.tx_room(self, now=now)
        if room is not None:
            self.t_tsq = None  # _send_new arms it again if the queue still holds too much
        self._transmit(now, force)
        self.tsq_room = None
        limited = self._pipe() + self.mss > self.cc.cwnd
        if limited or self.segs_out != sent:
            self._cwnd_validate(limited)
            if self.segs_out != sent:
                self._arm_tlp(now)

    def _arm_tlp(self, now: float) -> None:
        """RFC 8985 7.2 / Linux tcp_schedule_loss_probe: with SACK, outside recovery and
        no probe outstanding, probe at PTO = 2*SRTT (+ the worst-case delayed ACK, Linux's
        rto_min, when one segment is in flight; else + 2 ms), never after the RTO."""
        if (
            not self.sack_ok
            or self.ca is not CaState.OPEN
            or self.tlp_high is not None
            or self.snd_nxt <= self.snd_una
            or not self.cfg.tlp
        ):
            self.t_tlp = None
            return
        srtt = self.rtt.srtt
        if srtt is None:
            pto = 1.0
        elif self.snd_nxt - self.snd_una <= self.mss:
            pto = 2 * srtt + self.cfg.rto_min
        else:
            pto = 2 * srtt + 0.002
        when = now + pto
        rtx = self.t_rtx
        self.t_tlp = when if rtx is None or when < rtx else rtx

    def _cwnd_validate(self, limited: bool) -> None:
        """Linux tcp_cwnd_validate (RFC 7661): remember, per window of data, whether the
        sender was cwnd-limited, else the most it had in flight."""
        flight = self.snd_nxt - self.snd_una
        if (
            self.snd_una >= self.cwnd_usage_seq
            or limited
            or (not self.is_cwnd_limited and flight > self.max_flight)
        ):
            self.is_cwnd_limited = limited
            self.max_flight = flight
            self.cwnd_usage_seq = self.snd_nxt

    def _cwnd_limited(self) -> bool:
        """Linux tcp_is_cwnd_limited: may an ACK grow cwnd? Only if the window was the
        limit in this window of data; in slow start also while cwnd < 2 * the most in
        flight (so slow start can double what was sent). A receiver-window-limited or
        application-limited sender keeps its cwnd."""
        if self.is_cwnd_limited:
            return True
        cc = self.cc
        return cc.cwnd < cc.ssthresh and cc.cwnd < 2 * self.max_flight

    def _transmit(self, now: float, force: bool) -> None:
        cwnd = self.cc.cwnd
        if self.ca is CaState.OPEN and not self.dupacks and not self.sb.starts:
            # nothing SACKed or presumed lost: NextSeg has no retransmission and pipe is
            # what is in flight (see _pipe); new data only, an MTU probe first (Linux
            # tcp_write_xmit), which may want the window to drain first
            search = self.mtup
            if search is not None and search.enabled and self._mtu_probe(now) == 0:
                return
            while self._send_new(now, self.snd_nxt - self.snd_una, cwnd):
                pass
            return
        while True:
            pipe = self._pipe()
            if self.ca is not CaState.OPEN or self.sb:
                todo = self._next_retransmission()
                if todo is not None:
                    seq, end, relost = todo
                    if not force and pipe > 0 and pipe + (end - seq) > cwnd:
                        return
                    force = False
                    self._send_range(seq, end, now, retransmit=True)
                    if not relost:
                        self.high_rxt = end
                    elif end < self.relost[0][1]:
                        self.relost[0] = (end, self.relost[0][1])
                    else:
                        self.relost.popleft()
                    continue
            if not self._send_new(now, pipe, cwnd):
                return

    def _mtu_probe(self, now: float) -> int:
        """Linux tcp_mtu_probe (RFC 4821): send one segment of the search's probe size
        from new data, ahead of at least (reordering + 1) full segments more, so that its
        loss shows as duplicate ACKs / SACKs. 1: sent; 0: wait until the window allows;
        -1: no probe now (one outstanding, cwnd < 11 segments, SACK blocks to send,
        too little data, the search resting). cwnd counts bytes here, so the probe's
        extra size is in pipe already (Linux, counting packets, takes one off cwnd)."""
        search = self.mtup
        assert search is not None
        mss, cwnd = self.mss, self.cc.cwnd
        if (
            search.probe_size
            or cwnd < SACK_FREE_CWND * mss
            or self.dsack is not None
            or self.rcvbuf.has_gaps()
        ):
            return -1
        probe = search.probe_mss(now, mss, self.pmtu)
        if probe is None:
            return -1
        nxt, una = self.snd_nxt, self.snd_una
        needed = probe + (self.dupthresh + 1) * mss
        if self.sndbuf.end - nxt < needed or self.snd_wnd < needed:
            return -1
        if nxt + needed > una + self.snd_wnd:
            return 0
        flight = nxt - una
        if flight + probe + mss > cwnd:
            return 0 if flight else -1
        self._send_range(nxt, nxt + probe, now, retransmit=False)
        search.sent(nxt, nxt + probe)
        self.stats["mtup_probes"] += 1
        return 1

    def _next_retransmission(self) -> tuple[int, int, bool] | None:
        """RFC 6675 NextSeg rule 1 (after lost retransmissions): (start, end, relost)."""
        sb, una = self.sb, self.snd_una
        relost = self.relost
        while relost:
            start, stop = relost[0]
            start = sb.skip_sacked(max(start, una))
            if start < stop:
                return start, self._clip(start, stop), True
            relost.popleft()
        lost_point = self._lost_point()
        seq = sb.skip_sacked(max(self.high_rxt, una))
        if seq < lost_point:
            return seq, self._clip(seq, lost_point), False
        return None

    def _clip(self, seq: int, limit: int) -> int:
        """End of one segment from ``seq``: at most an MSS, stopping at SACKed data."""
        end = min(seq + self.mss, limit)
        nxt_sacked = self.sb.next_sacked_start(seq)
        return nxt_sacked if nxt_sacked is not None and nxt_sacked < end else end

    def _send_new(self, now: float, pipe: int, cwnd: int, *, probe: bool = False) -> bool:
        """One new segment if Nagle, SWS avoidance and the windows allow (``probe``: the
        persist timer fired, send what the peer's small window takes, like Linux)."""
        nxt = self.snd_nxt
        data_end = self.sndbuf.end
        avail = data_end - nxt
        if avail <= 0:
            if self.fin_queued and nxt == data_end:
                self._send_range(nxt, nxt + 1, now, retransmit=False)
            return False
        wnd_end = self.snd_una + self.snd_wnd
        n = min(self.mss, avail, wnd_end - nxt)
        if n <= 0:
            self._arm_persist(now)
            return False
        if n < self.mss and not probe:
            if n < avail and n < self.max_wnd // 2:  # sender SWS avoidance
                self._arm_persist(now)
                return False
            if (
                n == avail
                and not self.opts.nodelay
                and not self.fin_queued
                and self.snd_sml > self.snd_una
            ):  # Nagle (Minshall): one small segment in flight at a time
                return False
        if pipe > 0 and pipe + n > cwnd:
            return False
        room = self.tsq_room
        if room is not None:
            if room < 0:  # Linux tcp_small_queue_check: wait for the queue to drain
                self._tsq_throttle(now)
                return False
            self.tsq_room = room - n - FRAME_OVERHEAD
        end = nxt + n
        if self.fin_queued and end == data_end:
            end += 1
        self._send_range(nxt, end, now, retransmit=False)
        return True

    def tsq_limit(self, floor: int = 0) -> int:
        """Linux tcp_small_queue_check: max(2 segments, ~1 ms at the pacing rate (2 x
        cwnd/srtt in slow start below ssthresh/2, else 1.2 x: tcp_update_pacing_rate)),
        capped at limit_output_bytes; at least ``floor`` (what the link sends while a
        real-time loop wakes late: Linux's TX completions take microseconds, a Python
        loop's timers milliseconds)."""
        limit = max(2 * (self.mss + FRAME_OVERHEAD), floor)
        srtt = self.rtt.srtt
        if srtt:
            cc = self.cc
            ratio = 2.0 if cc.cwnd < cc.ssthresh // 2 else 1.2
            paced = int(ratio * cc.cwnd / srtt * _PACING_BUDGET)
            if paced > limit:
                limit = paced
        cap = self.cfg.limit_output_bytes
        return limit if limit < cap else cap

    def _tsq_throttle(self, now: float) -> None:
        self.stats["tsq_throttled"] += 1
        when = self.owner.tx_resume_at(self, now=now)
        if when is not None:
            self.t_tsq = when  # later than now: tx_resume_at says so

    def _send_range(self, seq: int, end: int, now: float, *, retransmit: bool) -> None:
        data_end = self.sndbuf.end
        pend = end if end < data_end else data_end
        payload = self.sndbuf.get(seq, pend - seq) if pend > seq else b""
        flags = 0
        if self.fin_queued and end > data_end:
            flags |= FIN
        if payload and pend == data_end:
            flags |= PSH
        n = len(payload)
        self._emit(seq, flags, payload, now)
        if n:
            self.data_segs_out += 1
            self.bytes_sent += n
            if n < self.mss:
                self.snd_sml = pend
        if self.ca is CaState.RECOVERY:
            self.prr_out += end - seq
        if retransmit:
            search = self.mtup
            if search is not None and search.probe_size and search.overlaps(seq, end):
                search.probe_size = 0  # the probe's data again: its ACK proves nothing
            if self.rtx_stamp is None:
                self.rtx_stamp = now
            if self.ts_ok:
                self.rtx_tsval = self._tsval(now)
                if self.undo_tsval is None:
                    self.undo_tsval = self.rtx_tsval
            if self.sack_ok and self.ca is not CaState.OPEN:
                self.rxt_log.append((seq, end, self.snd_nxt))
            self.total_retrans += 1
            self.bytes_retrans += n
            self.stats["retrans_segs"] += 1
            if not self.ts_ok:
                self.rtt_seq = None  # Karn
        else:
            if self.rtt_seq is None and not self.ts_ok and n:
                self.rtt_seq, self.rtt_time = end, now
            if end > self.snd_nxt:
                self.snd_nxt = end
        if self.t_rtx is None:
            self.t_rtx = now + self.rtt.rto
        self.t_persist = None

    def _arm_persist(self, now: float) -> None:
        if self.snd_nxt == self.snd_una and self.t_persist is None and self.t_rtx is None:
            backoff = 1 << min(self.persist_backoff, 30)
            self.t_persist = now + min(self.rtt.base_rto * backoff, self.cfg.rto_max)
