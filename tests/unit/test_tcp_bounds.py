"""The connection table's bounds: SYN_RCVD children node-wide (max_syn_backlog, then
cookies), TIME_WAIT buckets (max_tw_buckets, then close at once), orphans (max_orphans,
then reset at close), connections (max_connections), and the timer heap; SYN and
TIME_WAIT floods keep the table and memory flat."""

from __future__ import annotations

import random

import pytest

from nodes.stack.tcp.config import TcpConfig
from nodes.stack.tcp.states import State
from nodes.stack.tcp.testing import LOCAL_ADDR, REMOTE_ADDR, Packet, Script
from nodes.wire.tcp import TcpFlags as F
from nodes.wire.tcp import TcpOptions, build_tcp
from tests.floodkit import measure

SYN_OPTS = TcpOptions(mss=1460, wscale=7, sack_permitted=True, timestamp=(1, 0))


def established(s: Script, sport: int) -> int:
    """A passive connection from ``sport``; returns our ISS (the socket is accepted)."""
    _sock, iss = s.accept_connection(sport=sport, peer_isn=1000)
    return iss


def close_to_time_wait(s: Script, sport: int) -> None:
    """Accept from ``sport``, close first, the peer ACKs our FIN and sends its own."""
    sock, iss = s.accept_connection(sport=sport, peer_isn=1000)
    sock.close(now=s.now)
    s.inject(F.FIN | F.ACK, seq=1001, ack=iss + 2, sport=sport)
    s.out()


def test_syn_backlog_is_node_wide_then_cookies() -> None:
    s = Script(TcpConfig(max_syn_backlog=3))
    for port in (80, 81):
        sock = s.engine.socket()
        sock.bind(0, port)
        sock.listen(100)
    for k in range(4):
        s.inject(F.SYN, seq=k, sport=20000 + k, dport=80 + k % 2, options=SYN_OPTS)
    assert len(s.engine.demux.conns) == 3
    c = s.engine.counters()
    assert c["tcp_syncookies_sent"] == 1 and c["tcp_syn_backlog_cookies"] == 1
    assert all(seg.flags == F.SYN | F.ACK for seg in s.out())


def test_time_wait_beyond_the_buckets_closes_at_once() -> None:
    s = Script(TcpConfig(max_tw_buckets=2))
    seen: list[tuple[State, State]] = []
    s.engine.add_state_listener(lambda _c, old, new, _t: seen.append((old, new)))
    for k in range(3):
        close_to_time_wait(s, 40000 + k)
    c = s.engine.counters()
    assert c["tcp_curr_time_wait"] == 2 and c["tcp_time_wait_overflow"] == 1
    assert len(s.engine.demux.conns) == 2
    assert seen[-1] == (State.FIN_WAIT_2, State.CLOSED)  # never a TIME_WAIT it had no room for
    s.advance(61.0)
    assert s.engine.counters()["tcp_curr_time_wait"] == 0 and not s.engine.demux.conns


def test_a_connection_closed_without_time_wait_still_acks_the_peers_fin() -> None:
    s = Script(TcpConfig(max_tw_buckets=0))
    sock, iss = s.accept_connection(sport=40000, peer_isn=1000)
    sock.close(now=s.now)
    (fin,) = s.out()
    assert fin.flags & F.FIN
    s.inject(F.FIN | F.ACK, seq=1001, ack=iss + 2, sport=40000)
    (ack,) = s.out()  # Linux tcp_fin: ACK, then tcp_time_wait finds no bucket
    assert ack.flags == F.ACK and ack.ack == 1002 and ack.seq == iss + 2
    assert sock.state == "CLOSED" and not s.engine.demux.conns
    assert s.engine.counters()["tcp_time_wait_overflow"] == 1


def test_orphans_beyond_the_bound_are_reset_at_close() -> None:
    s = Script(TcpConfig(max_orphans=2))
    socks = []
    for k in range(3):
        sock, _iss = s.accept_connection(sport=40000 + k)
        sock.send(b"x" * 100, now=s.now)  # unacknowledged: close leaves work to finish
        socks.append(sock)
    s.out()
    for sock in socks:
        sock.close(now=s.now)
    c = s.engine.counters()
    assert c["tcp_curr_orphans"] == 2 and c["tcp_abort_on_memory"] == 1
    rst = [seg for seg in s.out() if seg.flags & F.RST]
    assert len(rst) == 1 and rst[0].dst_port == 40002
    socks[0].abort(now=s.now)  # an orphan that ends frees its place
    assert s.engine.counters()["tcp_curr_orphans"] == 1


def test_max_connections_refuses_syns_cookie_acks_and_connects() -> None:
    s = Script(TcpConfig(max_connections=2))
    s.listen(backlog=10)
    established(s, 40000)
    established(s, 40001)
    s.inject(F.SYN, seq=7, sport=40002, options=SYN_OPTS)
    assert s.out() == [] and len(s.engine.demux.conns) == 2
    with pytest.raises(OSError, match="ENOBUFS"):
        s.engine.socket().connect(REMOTE_ADDR, 80, now=s.now)
    c = s.engine.counters()
    assert c["tcp_table_full"] == 2 and c["tcp_listen_drops"] == 1


def test_time_wait_does_not_count_against_max_connections() -> None:
    s = Script(TcpConfig(max_connections=1))
    close_to_time_wait(s, 40000)
    established(s, 40001)
    assert len(s.engine.demux.conns) == 2


def test_timer_heap_sheds_closed_connections() -> None:
    s = Script()
    s.listen(backlog=300)
    socks = []
    for k in range(200):
        sock, _iss = s.accept_connection(sport=30000 + k)
        sock.set_keepalive(True, now=s.now)  # a deadline two hours away
        socks.append(sock)
    for sock in socks:
        sock.abort(now=s.now)
    for k in range(200):  # more work: the heap compacts as it grows
        established(s, 40000 + k)
    heap = s.engine._timers
    assert len(heap) <= 2 * len(s.engine.demux.conns) + 64
    assert not any(entry[2].closed for entry in heap)


# ---- floods ------------------------------------------------------------------------
def test_spoofed_syn_flood_keeps_the_table_and_memory_flat() -> None:
    """20,000 SYNs from random sources (1000/s) to a listener with the largest backlog
    an application may ask for (somaxconn 4096)."""
    s = Script()
    s.listen(backlog=4096)
    engine, ip = s.engine, s.ip
    rng = random.Random(23)
    syns = []
    for _ in range(20_000):
        src = 0x0B000000 | rng.getrandbits(24)
        raw = build_tcp(src, LOCAL_ADDR, src_port=rng.randrange(1024, 65536), dst_port=80,
                        seq=rng.getrandbits(32), ack=0, flags=F.SYN, window=65535,
                        options=SYN_OPTS)  # fmt: skip
        syns.append(Packet(src, LOCAL_ADDR, memoryview(raw)))
    most = [0, 0]

    def flood(start: int, stop: int) -> None:
        for k in range(start, stop):
            now = k / 1000
            s.advance(now)
            engine.on_packet(syns[k], now=now)
            ip.sent.clear()
            most[0] = max(most[0], len(engine.demux.conns))
            most[1] = max(most[1], len(engine._timers))

    growth = measure(flood, 10_000)
    c = engine.counters()
    assert most[0] == engine.config.max_syn_backlog == 256
    assert most[1] <= 2 * 256 + 65
    assert c["tcp_syncookies_sent"] + c["tcp_passive_opens"] == 20_000
    growth.assert_flat()


def test_time_wait_flood_keeps_the_buckets_and_memory_flat() -> None:
    """2,000 connections closed by us first, faster than TIME_WAIT (60 s) ends."""
    s = Script()
    s.listen(backlog=128)

    def flood(start: int, stop: int) -> None:
        for k in range(start, stop):
            s.advance(k / 100)
            close_to_time_wait(s, 1024 + k)

    growth = measure(flood, 1_000)
    c = s.engine.counters()
    assert c["tcp_curr_time_wait"] == s.engine.config.max_tw_buckets == 512
    assert c["tcp_time_wait_overflow"] == 2_000 - 512  # none ended: 20 s < 2 MSL
    assert len(s.engine.demux.conns) == 512
    growth.assert_flat()
