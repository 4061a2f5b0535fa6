"""One TCP connection, sans-I/O: the top layer of tcb -> output -> incoming -> timers.

Inputs: ``on_segment`` (a parsed segment for this 4-tuple), application calls (``send``,
``recv``, ``shutdown_write``, ``close``, ``abort``), ``on_timer``, ``on_pmtu``. Outputs:
segments handed to ``owner.transmit`` (the engine puts them into IP). State changes only
through ``Tcb._event`` -> states.transition (the one table).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from nodes.stack.tcp.congestion import INFINITE_SSTHRESH
from nodes.stack.tcp.info import TcpInfo
from nodes.stack.tcp.seq import MASK
from nodes.stack.tcp.states import CAN_SEND, SYNCHRONIZED, Event, State
from nodes.stack.tcp.tcb import (
    IP_TCP_HEADERS,
    CaState,
    ListenerLike,
    Owner,
    Tcb,
    wscale_for,
)
from nodes.stack.tcp.timers import Timers

if TYPE_CHECKING:
    from nodes.wire.tcp import TcpSegment

__all__ = ["IP_TCP_HEADERS", "CaState", "Connection", "ListenerLike", "Owner", "Tcb",
           "wscale_for"]  # fmt: skip


_FINISHED = frozenset({State.CLOSED, State.TIME_WAIT})  # no orphan left to finish


class Connection(Timers):
    def open_active(self, *, now: float) -> None:
        self._event(Event.ACTIVE_OPEN, now=now)
        self.stats["active_opens"] += 1
        self.rtt_time = now
        self._send_syn(now)
        self.t_rtx = now + self.rtt.rto

    def open_passive(self, seg: TcpSegment, *, now: float) -> None:
        """A SYN on a listener: this child goes LISTEN -> SYN_RCVD and sends SYN-ACK."""
        self._accept_syn_options(seg, now)
        self._event(Event.RCV_SYN, now=now)
        self.rtt_time = now
        self._send_synack(now)
        self.t_rtx = now + self.rtt.rto

    def open_from_cookie(
        self, seg: TcpSegment, mss: int, wscale: int | None, sack: bool, ts: bool, *, now: float
    ) -> None:
        """An ACK that carried a valid SYN cookie: straight to ESTABLISHED."""
        self.cookie = True
        self.syn_timed = False
        self.irs = (seg.seq - 1) & MASK
        self.rcvbuf.nxt = self.irs + 1
        self.last_ack_sent = self.rcvbuf.nxt
        self.peer_mss = mss
        self.ws_ok = self.cfg.window_scaling and wscale is not None
        self.snd_wscale = min(wscale, 14) if self.ws_ok and wscale is not None else 0
        if not self.ws_ok:
            self.rcv_wscale = 0
        self.sack_ok = self.cfg.sack and sack
        self.ts_ok = self.cfg.timestamps and ts
        if seg.options.timestamp is not None:
            self.ts_recent = seg.options.timestamp[0]
        self._start_mtu_search(now)
        self.snd_nxt = self.iss + 1
        self.rcv_adv = self.rcvbuf.nxt + min(self.rcvbuf.capacity, 0xFFFF)
        self._event(Event.RCV_SYN, now=now)

    def send(
        self, data: bytes | bytearray | memoryview, *, now: float, urgent: bool = False
    ) -> int:
        if self.state not in CAN_SEND and self.state not in (State.SYN_SENT, State.SYN_RCVD):
            raise BrokenPipeError("EPIPE: the connection cannot send")
        if self.fin_queued:
            raise BrokenPipeError("EPIPE: shutdown(SHUT_WR) already called")
        n = self.sndbuf.write(data)
        if urgent and n:
            self.snd_up = self.sndbuf.end
        if self.state in CAN_SEND:
            self._push(now)
        return n

    def recv(self, n: int, *, now: float) -> bytes:
        buf = self.rcvbuf
        before = self._window_now()
        out = buf.read(n)
        # Linux tcp_cleanup_rbuf: ACK when the window at least doubled from small
        if (
            out
            and self.state in SYNCHRONIZED
            and not self.fin_received
            and 2 * before <= buf.capacity
        ):
            space = self._window_space()
            if space >= 2 * before and space - before >= self.rcv_mss:
                self.stats["window_updates"] += 1
                self._send_ack(now)
        if self.rcv_up is not None and buf.nxt - len(buf.ready) >= self.rcv_up:
            self.rcv_up = None
        if out:
            self._rcv_space_adjust(now)
        return out

    def _rcv_space_adjust(self, now: float) -> None:
        """Linux tcp_rcv_space_adjust (dynamic right-sizing): once per receiver RTT, if the
        application read more than in the previous RTT, grow the receive buffer to about
        twice that (more when the rate is rising), up to rmem_max. SO_RCVBUF locks it."""
        rtt = self.rcv_rtt or self.rtt.srtt
        if not rtt or now - self.rcvq_time < rtt:
            return
        buf, cfg = self.rcvbuf, self.cfg
        copied_seq = buf.nxt - len(buf.ready)
        copied = copied_seq - self.rcvq_seq
        space = self.rcvq_space
        if copied > space > 0:
            if cfg.moderate_rcvbuf and self.opts.rcvbuf is None:
                rcvwin = 2 * copied + 16 * self.rcv_mss
                rcvwin += 2 * (rcvwin * (copied - space) // space)
                capacity = min(rcvwin, cfg.rmem_max)
                if capacity > buf.capacity:
                    buf.capacity = capacity
                    self.stats["rcvbuf_grown"] += 1
            self.rcvq_space = copied
        self.rcvq_seq, self.rcvq_time = copied_seq, now

    def shutdown_write(self, *, now: float) -> None:
        if self.fin_queued:
            return
        if self.state is State.SYN_SENT:
            self._abort(now, send_rst=False, error=None)
            return
        if self.state not in (State.ESTABLISHED, State.CLOSE_WAIT, State.SYN_RCVD):
            return
        self.fin_queued = True
        self._event(Event.CLOSE, now=now)
        self._push(now)

    def close(self, *, now: float) -> None:
        if self.state is State.CLOSED:
            return
        self.orphan = True
        if self.opts.linger == 0:
            self.stats["abort_on_linger"] += 1
            self._abort(now, send_rst=self.state is not State.SYN_SENT, error=None)
            return
        if self.rcvbuf.ready and self.state in SYNCHRONIZED:
            self.stats["abort_on_close"] += 1  # RFC 2525: unread data -> RST
            self._abort(now, send_rst=True, error=None)
            return
        self.shutdown_write(now=now)
        if self.state is State.FIN_WAIT_2 and self.t_wait is None:
            self.t_wait = now + self.cfg.fin_timeout
        if self.state not in _FINISHED and not self.owner.orphan_admit(self):
            # Linux tcp_close -> tcp_check_oom: too many orphans, reset it
            self.stats["abort_on_memory"] += 1
            self._abort(now, send_rst=True, error=None)

    def abort(self, *, now: float) -> None:
        if self.state is State.CLOSED:
            return
        send = self.state in SYNCHRONIZED or self.state is State.SYN_RCVD
        self._abort(now, send_rst=send and self.state is not State.TIME_WAIT, error=None)

    def info(self) -> TcpInfo:
        cc, mss = self.cc, max(self.mss, 1)

        lost_point = self._lost_point() if self.ca is not CaState.OPEN else self.snd_una
        lost = max(lost_point - self.snd_una - self.sb.sacked_in(self.snd_una, lost_point), 0)
        return TcpInfo(
            state=self.state.name,
            local=(self.local, self.lport),
            remote=(self.remote, self.rport),
            congestion=cc.name,
            ca_state=self.ca.value,
            cwnd=cc.cwnd // mss,
            cwnd_bytes=cc.cwnd,
            ssthresh=None if cc.ssthresh == INFINITE_SSTHRESH else cc.ssthresh // mss,
            srtt=self.rtt.srtt,
            rttvar=self.rtt.rttvar,
            rto=self.rtt.rto,
            mss=self.mss,
            pmtu=self.pmtu,
            rcv_mss=self.rcv_mss,
            snd_wscale=self.snd_wscale,
            rcv_wscale=self.rcv_wscale,
            snd_wnd=self.snd_wnd,
            rcv_wnd=self._window_now(),
            bytes_sent=self.bytes_sent,
            bytes_retrans=self.bytes_retrans,
            bytes_acked=self.bytes_acked,
            bytes_received=self.bytes_received,
            segs_out=self.segs_out,
            segs_in=self.segs_in,
            data_segs_out=self.data_segs_out,
            data_segs_in=self.data_segs_in,
            retrans=self.total_retrans,
            retransmits=self.retransmits,
            lost=lost,
            sacked=self.sb.sacked,
            dup_acks=self.dup_acks_in,
            unacked=self.snd_nxt - self.snd_una,
            send_queue=len(self.sndbuf),
            recv_queue=len(self.rcvbuf.ready),
            ooo_bytes=self.rcvbuf.ooo_bytes,
            sack=self.sack_ok,
            timestamps=self.ts_ok,
        )
