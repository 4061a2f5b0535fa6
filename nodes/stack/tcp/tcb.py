"""The transmission control block: one connection's variables, its state changes (only via
the table in states.py), its timers' slots and the few primitives every layer uses.

The connection is built in layers, one module each, like BSD's tcp_input/output/timer:
``Tcb`` (this) <- ``Output`` (output.py) <- ``Input`` (incoming.py) <- ``Timers``
(timers.py) <- ``Connection`` (connection.py: opening, the application calls, info).

Sequence numbers are absolute inside (see seq.py): ``iss``/``irs`` are the 32-bit wire
values, everything else counts up from them without wrapping.
"""

from __future__ import annotations

from collections import Counter, deque
from enum import Enum
from typing import Protocol

from nodes.stack.tcp import congestion
from nodes.stack.tcp.buffers import ReceiveBuffer, SendBuffer
from nodes.stack.tcp.config import SocketOptions, TcpConfig
from nodes.stack.tcp.mtup import MtuSearch
from nodes.stack.tcp.rtt import RttEstimator
from nodes.stack.tcp.sack import Scoreboard
from nodes.stack.tcp.seq import MASK
from nodes.stack.tcp.states import SYNCHRONIZED, Event, State, transition
from nodes.wire.tcp import TcpFlags, build_tcp_raw

FIN, SYN, RST, PSH, ACK, URG = (
    int(TcpFlags.FIN), int(TcpFlags.SYN), int(TcpFlags.RST),
    int(TcpFlags.PSH), int(TcpFlags.ACK), int(TcpFlags.URG),
)  # fmt: skip
IP_TCP_HEADERS = 40
TS_LEN = 12


class CaState(Enum):
    OPEN = "open"
    RECOVERY = "recovery"
    LOSS = "loss"


class ListenerLike(Protocol):
    def accept_queue_full(self) -> bool: ...


class Owner(Protocol):
    """What a connection needs from its engine."""

    config: TcpConfig
    stats: Counter[str]

    def transmit(self, conn: Tcb, segment: bytes, *, now: float) -> None: ...
    def allow_challenge_ack(self, *, now: float) -> bool: ...
    def established(self, conn: Tcb, *, now: float) -> None: ...
    def time_wait_admit(self) -> bool: ...
    def orphan_admit(self, conn: Tcb) -> bool: ...
    def state_changed(self, conn: Tcb, old: State, new: State, *, now: float) -> None: ...
    def route_mtu(self, remote: int) -> int: ...
    def tx_room(self, conn: Tcb, *, now: float) -> int | None: ...
    def tx_resume_at(self, conn: Tcb, *, now: float) -> float | None: ...


class Tcb:
    def __init__(
        self,
        owner: Owner,
        local: int,
        lport: int,
        remote: int,
        rport: int,
        *,
        iss: int,
        ts_offset: int,
        options: SocketOptions,
        now: float,
        passive: bool = False,
    ) -> None:
        cfg = owner.config
        self.owner = owner
        self.cfg = cfg
        self.stats = owner.stats
        self.local, self.lport, self.remote, self.rport = local, lport, remote, rport
        self.opts = options
        # a passive child starts as a copy of its listener
        self.state = State.LISTEN if passive else State.CLOSED
        self.error: str | None = None
        self.orphan = False  # closed by the application: nobody reads any more
        self.listener: ListenerLike | None = None  # the listener until established
        self.cookie = False  # created from a SYN cookie
        # send side
        self.iss = iss
        self.snd_una = self.snd_nxt = iss
        self.snd_wnd = 0
        self.max_wnd = 0
        self.snd_wl1 = self.snd_wl2 = 0
        self.sndbuf = SendBuffer(iss + 1, options.sndbuf or cfg.wmem)
        self.fin_queued = False
        self.snd_up = 0  # urgent pointer (absolute, one past the urgent data); 0: none
        self.snd_sml = iss  # end of the last small segment sent (Minshall's Nagle)
        # receive side (set up when the peer's SYN arrives)
        self.irs = 0
        self.rcvbuf = ReceiveBuffer(0, options.rcvbuf or cfg.rmem)
        self.rcv_adv = 0  # right edge of the window we advertised
        self.fin_received = False
        self.pending_fin: int | None = None  # an out-of-order FIN's sequence number
        self.rcv_up: int | None = None
        self.last_ack_sent = 0
        self.rcv_mss = cfg.default_mss
        self.dsack: tuple[int, int] | None = None  # a duplicate to report once (RFC 2883)
        self.quickacks = 0  # data segments still to ACK at once (Linux quick-ACK mode)
        self.last_data_rcv: float | None = None  # arrival of the last data segment
        # options
        self.ws_ok = self.sack_ok = self.ts_ok = False
        self.snd_wscale = 0
        self.rcv_wscale = (
            wscale_for(max(self.rcvbuf.capacity, cfg.rmem_max)) if cfg.window_scaling else 0
        )
        # receive buffer autotuning (Linux tcp_rcv_space_adjust): bytes the application
        # read per receiver RTT; rcv_rtt from timestamps echoed on full-sized data
        self.rcvq_space = 0
        self.rcvq_seq = 0
        self.rcvq_time = now
        self.rcv_rtt: float | None = None
        self.ts_offset = ts_offset
        self.ts_recent = 0
        self.peer_mss = cfg.default_mss
        self.pmtu = owner.route_mtu(remote)
        self.pmtu_locked = False  # an ICMP below min_pmtu: sent without DF from then on
        self.mtup: MtuSearch | None = None  # RFC 4821 search (mtu_probing > 0), on sync
        self.mss = self.pmtu - IP_TCP_HEADERS  # payload per full segment, set on sync
        # recovery / congestion
        self.cc = congestion.create(
            options.congestion or cfg.congestion, self.mss, initial_window=cfg.initial_window,
            hystart=cfg.hystart,
        )  # fmt: skip
        self.ca = CaState.OPEN
        self.recover = iss
        self.high_rxt = iss
        self.dupacks = 0
        self.dupthresh = 3  # raised when reordering is detected (Linux tp->reordering)
        self.undo_cwnd = self.undo_ssthresh = 0  # the window before a loss event
        self.undo_tsval: int | None = None  # TSval of the episode's first retransmission
        self.rtx_tsval: int | None = None  # TSval of the latest retransmission
        self.sb = Scoreboard()
        # PRR (RFC 6937, Linux tcp_cwnd_reduction): bytes delivered to the peer and sent by
        # us since recovery began, and cwnd when it began (RecoverFS)
        self.prr_delivered = self.prr_out = 0
        self.prr_prior = 0
        # cwnd validation (Linux tcp_cwnd_validate): was cwnd the limit in this window?
        self.is_cwnd_limited = False
        self.max_flight = 0  # the most bytes in flight in this window of data
        self.cwnd_usage_seq = iss  # the window ends when SND.UNA passes this
        # retransmissions in this recovery: (start, end, SND.NXT when sent); a SACK for data
        # sent after one of them while it is still missing marks it lost again (``relost``)
        self.rxt_log: deque[tuple[int, int, int]] = deque()
        self.relost: deque[tuple[int, int]] = deque()
        self.rtt = RttEstimator(rto_min=cfg.rto_min, rto_max=cfg.rto_max, initial=cfg.rto_initial)
        self.rtt_seq: int | None = None
        self.rtt_time = 0.0
        self.syn_timed = True  # the SYN / SYN-ACK RTT may be sampled (not a cookie)
        self.retransmits = 0  # consecutive RTO/SYN timeouts
        self.rtx_stamp: float | None = None  # first retransmission not yet acked (Linux
        # retrans_stamp): retries2 / orphan_retries limit the time since then
        self.probes = 0  # zero-window probes without any ACK in between
        self.persist_backoff = 0
        self.ka_probes = 0  # keepalive probes without answer
        self.soft_error: str | None = None
        # timers (absolute times or None)
        self.t_rtx: float | None = None
        self.t_persist: float | None = None
        self.t_delack: float | None = None
        self.t_keepalive: float | None = None
        self.t_wait: float | None = None  # TIME_WAIT / orphaned FIN_WAIT_2
        self.t_tlp: float | None = None  # tail loss probe (PTO, RFC 8985)
        self.t_tsq: float | None = None  # small queues: the egress drains (TX completion)
        self.tsq_room: int | None = None  # bytes the egress queue takes, during a _push
        self.tlp_high: int | None = None  # SND.NXT when the outstanding probe was sent
        self.tlp_retrans = False  # that probe was a retransmission (not new data)
        self.last_rcv = now
        # ss -ti
        self.bytes_sent = self.bytes_retrans = self.bytes_acked = self.bytes_received = 0
        self.segs_out = self.segs_in = self.data_segs_out = self.data_segs_in = 0
        self.total_retrans = 0
        self.dup_acks_in = 0
        self.scheduled: float | None = None  # the engine's timer-heap bookkeeping

    def _event(self, event: Event, *, now: float) -> None:
        """The one place the state changes (then the owner's state-change hook runs)."""
        old = self.state
        new = transition(old, event)
        if new is State.TIME_WAIT and not self.owner.time_wait_admit():
            # Linux tcp_time_wait without a bucket (tcp_max_tw_buckets): tcp_done, the
            # connection closes at once; the state-change hook sees old -> CLOSED
            self.stats["time_wait_overflow"] += 1
            new = transition(new, Event.TIMEOUT)
        self.state = new
        self.stats["curr_estab"] += (new in _ESTAB) - (old in _ESTAB)
        self.owner.state_changed(self, old, new, now=now)
        if new is State.TIME_WAIT:
            self._stop_timers()
            self.t_wait = now + 2 * self.cfg.msl
        elif new is State.FIN_WAIT_2 and self.orphan:
            self.t_wait = now + self.cfg.fin_timeout
        elif new is State.CLOSED:
            self._stop_timers()
        if new is State.ESTABLISHED:
            # Linux tcp_init_buffer_space: autotuning starts from 10 segments per RTT
            self.rcvq_space = min(self.rcvbuf.capacity, 10 * self.mss)
            self.rcvq_seq, self.rcvq_time = self.rcvbuf.nxt, now
            if self.opts.keepalive:
                self._arm_keepalive(now)

    def _reset_recovery_marks(self) -> None:
        self.rxt_log.clear()
        self.relost.clear()

    def _stop_timers(self) -> None:
        self.t_rtx = self.t_persist = self.t_delack = self.t_keepalive = self.t_wait = None
        self.t_tlp = self.t_tsq = None

    def deadline(self) -> float | None:
        best: float | None = None
        for t in (
            self.t_rtx,
            self.t_tlp,
            self.t_tsq,
            self.t_persist,
            self.t_delack,
            self.t_keepalive,
            self.t_wait,
        ):
            if t is not None and (best is None or t < best):
                best = t
        return best

    @property
    def closed(self) -> bool:
        return self.state is State.CLOSED

    @property
    def key(self) -> tuple[int, int, int, int]:
        return (self.local, self.lport, self.remote, self.rport)

    @property
    def rcv_nxt(self) -> int:
        return self.rcvbuf.nxt + (1 if self.fin_received else 0)

    @property
    def fin_seq(self) -> int:
        return self.sndbuf.end

    def _fin_sent(self) -> bool:
        return self.fin_queued and self.snd_nxt > self.sndbuf.end

    def _tsval(self, now: float) -> int:
        return (int(now * 1000) + self.ts_offset) & MASK

    def _window_space(self) -> int:
        """rcvbuf.free(), at most what the largest window field says."""
        buf = self.rcvbuf
        space = buf.capacity - len(buf.ready)
        limit = 0xFFFF << self.rcv_wscale
        return limit if space > limit else space if space > 0 else 0

    def _window_now(self) -> int:
        return max(self.rcv_adv - self.rcvbuf.nxt, 0)

    def _set_mss(self, *, keep_bytes: bool = False) -> None:
        """Linux tcp_sync_mss: the MSS of the path MTU, within the MTU search's limit."""
        mss = min(self.peer_mss, self.pmtu - IP_TCP_HEADERS) - (TS_LEN if self.ts_ok else 0)
        search = self.mtup
        if search is not None:
            search.path_mtu(self.pmtu)
            limit = search.mss_limit()
            if limit is not None and limit < mss:
                mss = limit
        self.mss = max(mss, self.cfg.min_snd_mss)
        self.cc.set_mss(self.mss, keep_bytes=keep_bytes)

    def _start_mtu_search(self, now: float) -> None:
        """Once the peer's MSS and the options are known (Linux tcp_mtup_init)."""
        self.mtup = MtuSearch.create(
            self.cfg, clamp=self.peer_mss, options=TS_LEN if self.ts_ok else 0,
            pmtu=self.pmtu, now=now,
        )  # fmt: skip
        self._set_mss()

    def _emit_raw(
        self, seq: int, ack: int, flags: int, window: int, options: bytes,
        payload: bytes | memoryview, now: float, urgent: int = 0,
    ) -> None:  # fmt: skip
        segment = build_tcp_raw(
            self.local, self.remote, self.lport, self.rport, seq, ack, flags, window,
            options, payload, urgent,
        )  # fmt: skip
        self.segs_out += 1
        self.owner.transmit(self, segment, now=now)

    def _send_rst(self, seq: int, now: float) -> None:
        self.stats["out_rsts"] += 1
        self._emit_raw(seq, 0, RST, 0, b"", b"", now)

    def _abort(self, now: float, *, send_rst: bool, error: str | None) -> None:
        if send_rst:
            self.stats["out_rsts"] += 1
            self._emit_raw(self.snd_nxt, self.rcv_nxt, RST | ACK, 0, b"", b"", now)
        if self.state is State.ESTABLISHED or self.state is State.CLOSE_WAIT:
            self.stats["estab_resets"] += 1
        if error is not None:
            self.error = error
        self._event(Event.ABORT, now=now)

    def _reset_by_peer(self, now: float) -> None:
        state = self.state
        if state is State.ESTABLISHED or state is State.CLOSE_WAIT:
            self.stats["estab_resets"] += 1
        if state is State.SYN_RCVD and self.listener is None:
            self.error = "ECONNREFUSED"  # simultaneous open refused
        elif state is not State.TIME_WAIT:
            self.error = "ECONNRESET"
        self._event(Event.RCV_RST, now=now)

    def recycle(self, *, now: float) -> None:
        """A new SYN reuses this TIME_WAIT 4-tuple (Linux tcp_timewait_state_process)."""
        self._event(Event.TIMEOUT, now=now)

    def _keep(self) -> tuple[float, float, int]:
        o, c = self.opts, self.cfg
        return (
            o.keepidle if o.keepidle is not None else c.keepalive_time,
            o.keepintvl if o.keepintvl is not None else c.keepalive_intvl,
            o.keepcnt if o.keepcnt is not None else c.keepalive_probes,
        )

    def _arm_keepalive(self, now: float) -> None:
        if self.opts.keepalive and self.state in SYNCHRONIZED and self.state is not State.TIME_WAIT:
            self.t_keepalive = self.last_rcv + self._keep()[0]
            if self.t_keepalive <= now:
                self.t_keepalive = now + self._keep()[1]


_ESTAB = frozenset({State.ESTABLISHED, State.CLOSE_WAIT})


def wscale_for(capacity: int) -> int:
    """The smallest window shift that lets ``capacity`` be advertised (RFC 7323)."""
    shift = 0
    while (capacity >> shift) > 0xFFFF and shift < 14:
        shift += 1
    return shift
