"""TcpEngine: the host's TCP (a TransportHandler). Demultiplexes segments to connections
and listeners, answers segments for nobody with RST, runs SYN cookies, applies ICMP errors
(PMTUD), keeps the stack-wide counters and one timer heap for all connections."""

from __future__ import annotations

import heapq
import itertools
import random
from collections import Counter
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Protocol, cast

from nodes.stack.tcp.config import SocketOptions, TcpConfig
from nodes.stack.tcp.connection import IP_TCP_HEADERS, Connection, Tcb, wscale_for
from nodes.stack.tcp.counters import COUNTERS
from nodes.stack.tcp.demux import Demux, Listener
from nodes.stack.tcp.info import TcpInfo
from nodes.stack.tcp.isn import IsnGenerator
from nodes.stack.tcp.seq import MASK, seq_gt
from nodes.stack.tcp.states import State
from nodes.stack.tcp.syncookies import SynCookies, encode_ts_options
from nodes.wire.errors import WireError
from nodes.wire.tcp import TcpFlags, TcpOptions, build_tcp_raw, encode_tcp_options, parse_tcp

if TYPE_CHECKING:
    from nodes.stack.tcp.api import TcpSocket
    from nodes.wire.tcp import TcpSegment

PROTO_TCP = 6
SYN, RST, ACK, FIN = (int(TcpFlags.SYN), int(TcpFlags.RST), int(TcpFlags.ACK),
                      int(TcpFlags.FIN))  # fmt: skip
_UNREACH_ERRNO: Mapping[int, str] = MappingProxyType(
    {0: "ENETUNREACH", 1: "EHOSTUNREACH", 2: "ENOPROTOOPT", 3: "ECONNREFUSED"}
)
_PLATEAUS = (32000, 17914, 8166, 4352, 2002, 1492, 1006, 508, 296, 68)  # RFC 1191 table 7


# (connection, old state, new state, now): called after every state change, from the
# connection's single transition point. A new connection's first change starts from
# CLOSED (active open) or LISTEN (a listener's child); the last one ends in CLOSED.
StateListener = Callable[[Connection, State, State, float], None]


class IpLayer(Protocol):
    def send_ip(
        self, dst: int, proto: int, payload: bytes | memoryview, *, now: float,
        src: int | None = None, ttl: int | None = None, df: bool = False, tos: int = 0,
    ) -> bool: ...  # fmt: skip
    def route_mtu(self, dst: int) -> int | None: ...
    def source_address_for(self, dst: int) -> int | None: ...


class IpPacketLike(Protocol):
    @property
    def src(self) -> int: ...
    @property
    def dst(self) -> int: ...
    @property
    def payload(self) -> memoryview: ...


class IcmpLike(Protocol):
    @property
    def type(self) -> int: ...
    @property
    def code(self) -> int: ...
    @property
    def rest(self) -> int: ...


class QuotedLike(Protocol):
    @property
    def src(self) -> int: ...
    @property
    def dst(self) -> int: ...
    @property
    def proto(self) -> int: ...
    @property
    def total_length(self) -> int: ...
    @property
    def l4(self) -> memoryview: ...


class TcpEngine:
    def __init__(
        self,
        ip: IpLayer,
        config: TcpConfig | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.ip = ip
        self.config = config or TcpConfig()
        self.rng = rng or random.Random(0)
        self.stats: Counter[str] = Counter(dict.fromkeys(COUNTERS, 0))
        self.demux = Demux()
        self.isn = IsnGenerator(self.rng)
        self.cookies = SynCookies(self.rng)
        self._timers: list[tuple[float, int, Connection]] = []
        self._tick = itertools.count()
        self.orphans: set[Tcb] = set()  # closed by their application, still finishing
        self._cack_second = -1.0
        self._cack_count = 0
        self.state_listeners: list[StateListener] = []
        # the IP layer's egress gauge, when it has one (Host: tx_backlog / tx_drained)
        self._tx_backlog: Callable[..., int | None] | None = getattr(ip, "tx_backlog", None)
        self._tx_drained: Callable[..., float | None] | None = getattr(ip, "tx_drained", None)
        # connections waiting for the io layer to take our output (small queues)
        self._flush_waiters: list[Connection] = []
        self._flush_gen = 0
        self._flush_since = 0.0

    # ------------------------------------------------------------ TransportHandler
    def on_packet(self, packet: IpPacketLike, *, now: float) -> None:
        src, dst = packet.src, packet.dst
        try:
            seg = parse_tcp(packet.payload, src, dst)
        except WireError as err:
            self.stats["in_errs"] += 1
            self.stats[err.counter] += 1
            return
        self.stats["in_segs"] += 1
        key = (dst, seg.dst_port, src, seg.src_port)
        conn = self.demux.conns.get(key)
        if conn is not None:
            if (
                conn.state is State.TIME_WAIT
                and seg.flags & (SYN | ACK | RST) == SYN
                and seq_gt(seg.seq, conn.rcv_nxt & MASK)
            ):
                self.stats["time_wait_recycled"] += 1
                conn.recycle(now=now)
                self.touch(conn)
            else:
                conn.on_segment(seg, now=now)
                self.touch(conn)
                return
        listener = self.demux.listener_for(dst, seg.dst_port)
        if listener is not None and not listener.closed:
            self._to_listener(listener, key, seg, now)
        else:
            self.stats["no_socket"] += 1
            self._reset_for(key, seg, now)

    def on_icmp_error(self, msg: IcmpLike, quoted: QuotedLike, *, now: float) -> None:
        l4 = quoted.l4
        if quoted.proto != PROTO_TCP or len(l4) < 8:
            return
        sport, dport = int.from_bytes(l4[0:2], "big"), int.from_bytes(l4[2:4], "big")
        conn = self.demux.conns.get((quoted.src, sport, quoted.dst, dport))
        if conn is None:
            self.stats["icmp_no_socket"] += 1
            return
        seq = int.from_bytes(l4[4:8], "big")
        self.stats["icmp_errors"] += 1
        if msg.type == 3 and msg.code == 4:
            mtu = msg.rest & 0xFFFF or _plateau_below(quoted.total_length)
            conn.on_pmtu(mtu, seq, now=now)
        elif msg.type == 3:
            conn.on_soft_error(_UNREACH_ERRNO.get(msg.code, "EHOSTUNREACH"), now=now)
        elif msg.type == 11:
            conn.soft_error = "EHOSTUNREACH"
        self.touch(conn)

    def next_deadline(self) -> float | None:
        if self._flush_waiters and self._flushed():
            return self._flush_since  # overdue: they wait for nothing more
        timers = self._timers
        while timers:
            when, _, conn = timers[0]
            if conn.scheduled == when and not conn.closed:
                return when
            heapq.heappop(timers)
        return None

    def on_timer(self, *, now: float) -> None:
        if self._flush_waiters and self._flushed():
            waiters, self._flush_waiters = self._flush_waiters, []
            for waiter in waiters:
                if not waiter.closed:
                    waiter.tsq_resume(now=now)
                    self.touch(waiter)
        timers = self._timers
        while timers and timers[0][0] <= now:
            when, _, conn = heapq.heappop(timers)
            if conn.scheduled != when or conn.closed:
                continue
            conn.scheduled = None
            conn.on_timer(now=now)
            self.touch(conn)

    def counters(self) -> dict[str, int]:
        """netstat -s style, every name prefixed ``tcp_`` (the host merges them)."""
        return {"tcp_" + k: v for k, v in self.stats.items()}

    # ------------------------------------------------------------ Owner (connections)
    def transmit(self, conn: Tcb, segment: bytes, *, now: float) -> None:
        self.stats["out_segs"] += 1
        self.ip.send_ip(
            conn.remote, PROTO_TCP, segment, now=now, src=conn.local, df=not conn.pmtu_locked
        )

    def state_changed(self, conn: Tcb, old: State, new: State, *, now: float) -> None:
        stats = self.stats
        if old is State.TIME_WAIT:
            stats["curr_time_wait"] -= 1
        if new is State.TIME_WAIT:
            stats["curr_time_wait"] += 1
        if (new is State.CLOSED or new is State.TIME_WAIT) and conn in self.orphans:
            self.orphans.discard(conn)
            stats["curr_orphans"] = len(self.orphans)
        for listener in self.state_listeners:
            listener(cast(Connection, conn), old, new, now)

    def time_wait_admit(self) -> bool:
        """A connection may enter TIME_WAIT (fewer than max_tw_buckets are in it)."""
        return self.stats["curr_time_wait"] < self.config.max_tw_buckets

    def orphan_admit(self, conn: Tcb) -> bool:
        """``conn`` was closed by its application and still has work: count it as an
        orphan, unless max_orphans are already (then the caller resets it)."""
        orphans = self.orphans
        if conn not in orphans:
            if len(orphans) >= self.config.max_orphans:
                return False
            orphans.add(conn)
            self.stats["curr_orphans"] = len(orphans)
        return True

    def table_full(self) -> bool:
        """max_connections connections (TIME_WAIT aside) exist: no new one."""
        full = len(self.demux.conns) - self.stats["curr_time_wait"] >= self.config.max_connections
        if full:
            self.stats["table_full"] += 1
        return full

    def syn_backlog(self) -> int:
        """Half-open children of every listener (SYN_RCVD, before the accept queue)."""
        return sum(len(listener.syn_queue) for listener in self.demux.listeners.values())

    def add_state_listener(self, listener: StateListener) -> None:
        """Call ``listener(conn, old, new, now)`` on every connection state change."""
        self.state_listeners.append(listener)

    def remove_state_listener(self, listener: StateListener) -> None:
        if listener in self.state_listeners:
            self.state_listeners.remove(listener)

    def allow_challenge_ack(self, *, now: float) -> bool:
        second = float(int(now))
        if second != self._cack_second:
            self._cack_second, self._cack_count = second, 0
        self._cack_count += 1
        return self._cack_count <= self.config.challenge_ack_limit

    def established(self, conn: Tcb, *, now: float) -> None:
        listener = conn.listener
        if isinstance(listener, Listener) and isinstance(conn, Connection):
            listener.syn_queue.pop(conn.key, None)
            listener.accept_queue.append(conn)
            conn.listener = None

    def route_mtu(self, remote: int) -> int:
        return self.ip.route_mtu(remote) or self.config.default_mtu

    def tx_room(self, conn: Tcb, *, now: float) -> int | None:
        """TCP small queues: how many more bytes ``conn`` may hand down before the egress
        queue below holds its limit (negative: too many already); None when the IP layer
        has no egress gauge (nothing queues below TCP) or small queues are off."""
        backlog = self._tx_backlog
        if backlog is None or not self.config.small_queues:
            return None
        queued = backlog(conn.remote, now=now)
        if queued is None:
            return None
        return cast(Connection, conn).tsq_limit(self._slack_bytes(conn.remote)) - queued

    def tx_resume_at(self, conn: Tcb, *, now: float) -> float | None:
        """When the egress below ``conn`` will have drained to its limit (the transmit
        completion that lets it send again). None: no time to wait for -- our own output
        not yet handed to the io layer holds the limit, so ``conn`` resumes right after
        the io layer took it (the IP layer's ``tx_flushes`` moved)."""
        drained = self._tx_drained
        if drained is None:
            return None
        limit = cast(Connection, conn).tsq_limit(self._slack_bytes(conn.remote))
        when = drained(conn.remote, limit, now=now)
        if when is None or when > now:
            return when
        if conn not in self._flush_waiters:
            if not self._flush_waiters:
                self._flush_gen = self._tx_flushes()
                self._flush_since = now
            self._flush_waiters.append(cast(Connection, conn))
        return None

    def _slack_bytes(self, remote: int) -> int:
        slack = getattr(self.ip, "tx_slack_bytes", None)
        return 0 if slack is None else int(slack(remote))

    def _tx_flushes(self) -> int:
        flushes: int = getattr(self.ip, "tx_flushes", 0)
        return flushes

    def _flushed(self) -> bool:
        return self._tx_flushes() != self._flush_gen

    def touch(self, conn: Connection) -> None:
        """After anything happened to ``conn``: drop it when closed, else (re)schedule."""
        if conn.state is State.CLOSED:
            key = conn.key
            if self.demux.conns.get(key) is conn:
                del self.demux.conns[key]
            listener = conn.listener
            if isinstance(listener, Listener):
                listener.syn_queue.pop(key, None)
            return
        when = conn.deadline()
        if when is not None and when != conn.scheduled:
            conn.scheduled = when
            timers = self._timers
            heapq.heappush(timers, (when, next(self._tick), conn))
            if len(timers) > 2 * len(self.demux.conns) + 64:
                self._compact_timers()
        elif when is None:
            conn.scheduled = None

    def _compact_timers(self) -> None:
        """Drop the heap entries nobody will act on (rescheduled or closed connections, and
        a connection's duplicates):
        left in place, they would keep closed connections alive until their old deadline
        (a keepalive's two hours). Runs when they outnumber the live ones, so the heap
        stays within twice the table and the rebuild is O(1) per push, amortized."""
        live = []
        kept: set[int] = set()  # one entry a connection: its deadline may have been pushed
        for entry in self._timers:  # again after it moved away and back (A, B, A)
            conn = entry[2]
            if conn.scheduled == entry[0] and not conn.closed and id(conn) not in kept:
                kept.add(id(conn))
                live.append(entry)
        heapq.heapify(live)
        self._timers = live

    # ------------------------------------------------------------ application side
    def socket(self) -> TcpSocket:
        from nodes.stack.tcp.api import TcpSocket

        return TcpSocket(self)

    def connections(self) -> list[TcpInfo]:
        """Every connection's info, like ``ss -tani``."""
        return [c.info() for c in self.demux.conns.values()]

    def new_connection(
        self, local: int, lport: int, remote: int, rport: int, opts: SocketOptions, *,
        now: float, passive: bool = False, iss: int | None = None,
    ) -> Connection:  # fmt: skip
        if iss is None:
            iss = self.isn.isn(local, lport, remote, rport, now=now)
        conn = Connection(
            self, local, lport, remote, rport, iss=iss,
            ts_offset=self.isn.offset(local, remote), options=opts, now=now, passive=passive,
        )  # fmt: skip
        self.demux.conns[conn.key] = conn
        return conn

    def connect(
        self, local: int | None, lport: int, remote: int, rport: int, opts: SocketOptions,
        *, now: float,
    ) -> Connection:  # fmt: skip
        if local is None or local == 0:
            local = self.ip.source_address_for(remote)
            if local is None:
                raise OSError(101, "ENETUNREACH: no route to the destination")
        if self.table_full():
            raise OSError(105, "ENOBUFS: the connection table is full (max_connections)")
        if lport == 0:
            lport = self.demux.ephemeral_port(
                local, remote, rport, self.config.port_range, self.rng
            )
        elif (local, lport, remote, rport) in self.demux.conns:
            raise OSError(98, "EADDRINUSE: the 4-tuple is in use")
        conn = self.new_connection(local, lport, remote, rport, opts, now=now)
        conn.open_active(now=now)
        self.touch(conn)
        return conn

    def listen(self, local: int, port: int, backlog: int, opts: SocketOptions) -> Listener:
        if self.demux.port_in_use(local, port):
            raise OSError(98, f"EADDRINUSE: port {port} is in use")
        backlog = max(0, min(backlog, self.config.somaxconn))
        listener = Listener(local, port, backlog, opts)
        self.demux.listeners[(local, port)] = listener
        return listener

    def close_listener(self, listener: Listener, *, now: float) -> None:
        listener.closed = True
        self.demux.listeners.pop((listener.local, listener.port), None)
        for conn in [*listener.syn_queue.values(), *listener.accept_queue]:
            conn.abort(now=now)
            self.touch(conn)
        listener.syn_queue.clear()
        listener.accept_queue.clear()

    # ------------------------------------------------------------ internals
    def _to_listener(
        self, listener: Listener, key: tuple[int, int, int, int], seg: TcpSegment, now: float
    ) -> None:
        flags = seg.flags
        if flags & RST:
            self.stats["listener_dropped"] += 1
            return
        if flags & ACK:
            if not flags & SYN and self._cookie_ack(listener, key, seg, now):
                return
            self._reset_for(key, seg, now)
            return
        if not flags & SYN:
            self.stats["listener_dropped"] += 1
            return
        if listener.accept_queue_full():
            self.stats["listen_overflows"] += 1
            self.stats["listen_drops"] += 1
            return
        backlog_full = self.syn_backlog() >= self.config.max_syn_backlog
        if listener.syn_queue_full() or backlog_full:
            if self.config.syncookies:
                if backlog_full and not listener.syn_queue_full():
                    self.stats["syn_backlog_cookies"] += 1
                self._send_cookie(listener, key, seg, now)
            else:
                self.stats["listen_drops"] += 1
            return
        if self.table_full():
            self.stats["listen_drops"] += 1
            return
        local, lport, remote, rport = key
        conn = self.new_connection(
            local, lport, remote, rport, listener.opts.copy(), now=now, passive=True
        )
        conn.listener = listener
        listener.syn_queue[key] = conn
        self.stats["passive_opens"] += 1
        conn.open_passive(seg, now=now)
        self.touch(conn)

    def _send_cookie(
        self, listener: Listener, key: tuple[int, int, int, int], seg: TcpSegment, now: float
    ) -> None:
        cfg = self.config
        local, lport, remote, rport = key
        peer_mss = seg.options.mss or cfg.default_mss
        mss = min(peer_mss, self.route_mtu(remote) - IP_TCP_HEADERS)
        isn = self.cookies.make(key, seg.seq, mss, now=now)
        ts = None
        if cfg.timestamps and seg.options.timestamp is not None:
            ours = peer_ws = None
            if cfg.window_scaling and seg.options.wscale is not None:
                ours = wscale_for(max(listener.opts.rcvbuf or cfg.rmem, cfg.rmem_max))
                peer_ws = seg.options.wscale  # the cookie remembers the peer's shift
            sack = cfg.sack and seg.options.sack_permitted
            tsval = (int(now * 1000) + self.isn.offset(local, remote)) & MASK
            ts = (encode_ts_options(tsval, peer_ws, sack), seg.options.timestamp[0])
            opts = TcpOptions(mss=mss, wscale=ours, sack_permitted=sack, timestamp=ts)
        else:
            opts = TcpOptions(mss=mss)
        listener.cookie_time = now
        self.stats["syncookies_sent"] += 1
        self.stats["out_segs"] += 1
        raw = build_tcp_raw(
            local, remote, lport, rport, isn, (seg.seq + 1) & MASK, SYN | ACK,
            min(listener.opts.rcvbuf or cfg.rmem, 0xFFFF), encode_tcp_options(opts), b"",
        )  # fmt: skip
        self.ip.send_ip(remote, PROTO_TCP, raw, now=now, src=local, df=True)

    def _cookie_ack(
        self, listener: Listener, key: tuple[int, int, int, int], seg: TcpSegment, now: float
    ) -> bool:
        if not self.config.syncookies or listener.cookie_time is None:
            return False
        if now - listener.cookie_time > 3 * 64.0:
            return False
        client_isn = (seg.seq - 1) & MASK
        cookie = (seg.ack - 1) & MASK
        mss = self.cookies.check(key, client_isn, cookie, now=now)
        if mss is None:
            self.stats["syncookies_failed"] += 1
            return False
        if listener.accept_queue_full():
            self.stats["listen_overflows"] += 1
            return True  # drop, like Linux
        if self.table_full():
            self.stats["listen_drops"] += 1
            return True  # drop: the client retransmits its ACK or data later
        ws, sack, ts_ok = None, False, False
        if seg.options.timestamp is not None:
            ws, sack, ts_ok = SynCookies.decode_ts_options(seg.options.timestamp[1])
        self.stats["syncookies_recv"] += 1
        self.stats["passive_opens"] += 1
        local, lport, remote, rport = key
        conn = self.new_connection(
            local, lport, remote, rport, listener.opts.copy(), now=now, passive=True, iss=cookie
        )
        conn.listener = listener
        conn.open_from_cookie(seg, mss, ws, sack, ts_ok, now=now)
        conn.on_segment(seg, now=now)
        self.touch(conn)
        return True

    def _reset_for(self, key: tuple[int, int, int, int], seg: TcpSegment, now: float) -> None:
        """RFC 9293 3.10.7.1: answer a segment for no connection with RST (never a RST)."""
        if seg.flags & RST:
            return
        local, lport, remote, rport = key
        if seg.flags & ACK:
            seq, ack, flags = seg.ack, 0, RST
        else:
            seglen = (
                len(seg.payload) + (1 if seg.flags & SYN else 0) + (1 if seg.flags & FIN else 0)
            )
            seq, ack, flags = 0, (seg.seq + seglen) & MASK, RST | ACK
        self.stats["out_rsts"] += 1
        self.stats["out_segs"] += 1
        raw = build_tcp_raw(local, remote, lport, rport, seq, ack, flags, 0, b"", b"")
        self.ip.send_ip(remote, PROTO_TCP, raw, now=now, src=local, df=True)


def _plateau_below(length: int) -> int:
    """RFC 1191 section 7: no next-hop MTU in the ICMP -> the next plateau down."""
    return next((p for p in _PLATEAUS if p < length), 68)
