"""Data transfer details: delayed ACK, Nagle, flow control and persist, URG, PAWS,
window scaling, SACK generation, duplicates."""

from __future__ import annotations

import pytest

from nodes.stack.tcp.config import TcpConfig
from nodes.stack.tcp.testing import Script
from nodes.wire.tcp import TcpFlags as F
from nodes.wire.tcp import TcpOptions

MSS = 1460
FULL = bytes(MSS)


def test_delayed_ack_40ms_and_every_second_full_segment() -> None:
    s = Script(TcpConfig(quickacks=0))  # no quick-ACK mode at the start: see below
    _sock, iss = s.accept_connection()
    s.inject(F.ACK, seq=1001, ack=iss + 1, payload=FULL)
    assert s.out() == [] and s.deadline() == pytest.approx(0.040)
    s.inject(F.ACK, seq=1001 + MSS, ack=iss + 1, payload=FULL)
    (ack,) = s.out()
    assert ack.ack == 1001 + 2 * MSS and s.deadline() is None
    s.advance(1.0)
    s.inject(F.ACK, seq=1001 + 2 * MSS, ack=iss + 1, payload=b"tail")
    s.advance(1.039)
    assert s.out() == []
    s.advance(1.040)
    (ack,) = s.out()
    assert ack.ack == 1001 + 2 * MSS + 4
    assert s.engine.counters()["tcp_delayed_acks"] == 1


def test_quickack_mode_acks_the_first_segments_at_once_then_delays() -> None:
    s = Script()
    listener = s.listen()
    listener.set_buffer_sizes(rcvbuf=64 * MSS)
    _sock, iss = s.accept_connection()
    seq = 1001
    for _ in range(16):  # Linux: min(16, rcv_wnd / (2 * rcv_mss)) segments at once
        s.inject(F.ACK, seq=seq, ack=iss + 1, payload=b"x" * 100)
        seq += 100
        (ack,) = s.out()
        assert ack.ack == seq
    s.inject(F.ACK, seq=seq, ack=iss + 1, payload=b"x" * 100)
    assert s.out() == [] and s.deadline() == pytest.approx(0.040)
    s.advance(0.040)
    (ack,) = s.out()
    assert ack.ack == seq + 100
    s.advance(5.0)  # idle for longer than the RTO: quick-ACK mode again
    s.inject(F.ACK, seq=seq + 100, ack=iss + 1, payload=b"y")
    (ack,) = s.out()
    assert ack.ack == seq + 101


def test_small_window_gives_fewer_quickacks() -> None:
    s = Script()
    s.listen().set_buffer_sizes(rcvbuf=4 * MSS)
    _sock, iss = s.accept_connection()
    acks = []
    for i in range(3):
        s.inject(F.ACK, seq=1001 + i * MSS, ack=iss + 1, payload=FULL)
        acks.append(len(s.out()))
    assert acks == [1, 1, 0]  # 4 MSS / (2 * MSS) = 2 quick ACKs, then delayed ACK


def test_delayed_ack_off_acks_every_segment() -> None:
    s = Script(TcpConfig(delayed_ack=False, quickacks=0))
    _sock, iss = s.accept_connection()
    for i in range(4):
        s.inject(F.ACK, seq=1001 + i * 10, ack=iss + 1, payload=b"z" * 10)
        (ack,) = s.out()
        assert ack.ack == 1011 + i * 10
    assert s.deadline() is None


def test_out_of_order_is_acked_at_once_with_sack_and_the_hole_fill_too() -> None:
    s = Script()
    opts = TcpOptions(mss=MSS, sack_permitted=True)
    sock, iss = s.accept_connection(options=opts)
    s.inject(F.ACK, seq=1001 + MSS, ack=iss + 1, payload=FULL)
    (dup,) = s.out()
    assert dup.ack == 1001 and dup.options.sack_blocks == ((1001 + MSS, 1001 + 2 * MSS),)
    s.inject(F.ACK, seq=1001, ack=iss + 1, payload=FULL)
    (ack,) = s.out()
    assert ack.ack == 1001 + 2 * MSS and ack.options.sack_blocks == ()
    assert sock.recv(10_000, now=0.0) == FULL + FULL


def test_duplicate_data_is_acked_and_not_delivered_twice() -> None:
    s = Script()
    sock, iss = s.accept_connection()
    s.inject(F.ACK, seq=1001, ack=iss + 1, payload=b"abc")
    s.inject(F.ACK, seq=1001, ack=iss + 1, payload=b"abc")
    assert [a.ack for a in s.out()] == [1004, 1004]  # a quick ACK, then the duplicate's
    assert sock.recv(now=0.0) == b"abc"
    assert s.engine.counters()["tcp_dup_data_segments"] == 1


def test_nagle_holds_a_second_small_segment_until_acked() -> None:
    s = Script()
    sock, iss = s.accept_connection()
    sock.send(b"a", now=0.0)
    sock.send(b"b", now=0.0)
    sock.send(b"c", now=0.0)
    (seg,) = s.out()
    assert seg.payload.tobytes() == b"a" and seg.flags == F.ACK | F.PSH
    s.inject(F.ACK, seq=1001, ack=iss + 2)
    (seg,) = s.out()
    assert seg.payload.tobytes() == b"bc"


def test_nodelay_sends_every_write() -> None:
    s = Script()
    sock, _iss = s.accept_connection()
    sock.set_nodelay(True)
    for ch in b"abc":
        sock.send(bytes([ch]), now=0.0)
    assert [x.payload.tobytes() for x in s.out()] == [b"a", b"b", b"c"]


def test_zero_window_stops_sender_persist_probes_back_off_update_resumes() -> None:
    s = Script()
    sock, iss = s.accept_connection(window=2000)
    sock.set_nodelay(True)
    sock.send(bytes(3000), now=0.0)
    (seg,) = s.out()
    assert len(seg.payload) == 1460  # sender SWS avoidance: 540 more would fit; wait
    s.inject(F.ACK, seq=1001, ack=iss + 1 + 1460, window=0)
    assert s.out() == []
    assert s.deadline() == pytest.approx(0.2)  # persist timer = RTO
    probes = []
    for _ in range(4):
        s.advance(s.deadline() or 0)
        (p,) = s.out()
        assert p.seq == iss + 1460 and not p.payload  # SND.UNA - 1, no data (Linux)
        probes.append(round(s.now, 3))
        s.inject(F.ACK, seq=1001, ack=iss + 1 + 1460, window=0)  # still closed
    assert probes == [0.2, 0.6, 1.4, 3.0]  # 0.2 * 2^n backoff
    assert sock.state == "ESTABLISHED"  # answered probes never time out
    s.inject(F.ACK, seq=1001, ack=iss + 1 + 1460, window=10_000)
    segs = s.out()
    assert [len(x.payload) for x in segs] == [1460, 80] and segs[0].seq == iss + 1 + 1460
    assert s.engine.counters()["tcp_persist_probes"] == 4


def test_unanswered_persist_probes_give_up_after_retries2() -> None:
    s = Script(TcpConfig(retries2=3))
    sock, iss = s.accept_connection()
    sock.send(b"x", now=0.0)
    s.inject(F.ACK, seq=1001, ack=iss + 2, window=0)
    sock.send(b"y", now=0.0)
    while (d := s.deadline()) is not None:
        s.advance(d)
    assert sock.state == "CLOSED" and sock.error == "ETIMEDOUT"
    assert s.engine.counters()["tcp_persist_probes"] == 3


def test_receiver_window_closes_then_reopens_with_an_update() -> None:
    s = Script()
    listener = s.listen()
    listener.set_buffer_sizes(rcvbuf=4 * MSS)
    sock, iss = s.accept_connection()
    windows = []
    for i in range(4):
        s.inject(F.ACK, seq=1001 + i * MSS, ack=iss + 1, payload=FULL)
        windows += [a.window for a in s.out()]
    assert windows == [3 * MSS, 2 * MSS, 0]  # two quick ACKs, then every 2nd segment
    s.inject(F.ACK, seq=1001 + 4 * MSS, ack=iss + 1, payload=b"x")  # beyond the window
    (ack,) = s.out()
    assert ack.ack == 1001 + 4 * MSS and ack.window == 0
    assert len(sock.recv(100_000, now=0.0)) == 4 * MSS
    (update,) = s.out()
    assert update.window == 4 * MSS and s.engine.counters()["tcp_window_updates"] == 1


def test_zero_window_probe_is_answered() -> None:
    s = Script()
    s.listen().set_buffer_sizes(rcvbuf=MSS)
    _sock, iss = s.accept_connection()
    s.inject(F.ACK, seq=1001, ack=iss + 1, payload=FULL)
    (ack,) = s.out()
    assert ack.window == 0
    s.inject(F.ACK, seq=1001 + MSS - 1, ack=iss + 1)  # Linux-style probe: old seq, no data
    (ack,) = s.out()
    assert ack.ack == 1001 + MSS and ack.window == 0


def test_urgent_data_stays_in_the_stream_and_is_marked() -> None:
    s = Script()
    sock, iss = s.accept_connection()
    s.inject(F.ACK | F.URG, seq=1001, ack=iss + 1, payload=b"abcdef", urgent=4)
    assert sock.urgent_mark == 4
    assert sock.recv(3, now=0.0) == b"abc"
    assert sock.urgent_mark == 1
    assert sock.recv(now=0.0) == b"def"
    assert sock.urgent_mark is None
    sock.send(b"!", now=0.0, urgent=True)
    (seg,) = [x for x in s.out() if x.payload]
    assert seg.flags & F.URG and seg.urgent == 1


def test_paws_drops_old_timestamps() -> None:
    s = Script()
    opts = TcpOptions(mss=MSS, timestamp=(1000, 0))
    sock, iss = s.accept_connection(options=opts)
    conn = sock.connection
    assert conn is not None and conn.ts_ok and conn.mss == MSS - 12
    s.inject(F.ACK, seq=1001, ack=iss + 1, payload=b"new", options=TcpOptions(timestamp=(2000, 0)))
    s.inject(F.ACK, seq=1004, ack=iss + 1, payload=b"old", options=TcpOptions(timestamp=(1500, 0)))
    acks = s.out()
    assert acks[-1].ack == 1004  # the old-timestamp segment is dropped and ACKed
    assert sock.recv(now=0.0) == b"new"
    assert s.engine.counters()["tcp_paws_rejected"] == 1
    assert acks[-1].options.timestamp is not None and acks[-1].options.timestamp[1] == 2000


def test_window_scaling_both_ways() -> None:
    s = Script()
    sock, iss = s.accept_connection(options=TcpOptions(mss=MSS, wscale=7))
    conn = sock.connection
    assert (
        conn is not None and conn.snd_wscale == 7 and conn.rcv_wscale == 7
    )  # Linux: from rmem_max
    s.inject(F.ACK, seq=1001, ack=iss + 1, window=1000, payload=b"x")
    assert conn.snd_wnd == 128_000
    s.advance(1.0)
    (ack,) = s.out()
    assert ack.window == (131072 - 1) >> 7


def test_out_of_order_fin_is_held_until_the_hole_fills() -> None:
    s = Script()
    sock, iss = s.accept_connection()
    s.inject(F.ACK | F.FIN, seq=1004, ack=iss + 1, payload=b"def")
    s.out()
    assert sock.state == "ESTABLISHED"
    s.inject(F.ACK, seq=1001, ack=iss + 1, payload=b"abc")
    (ack,) = s.out()
    assert ack.ack == 1008 and sock.state == "CLOSE_WAIT"
    assert sock.recv(now=0.0) == b"abcdef" and sock.recv(now=0.0) == b""


def test_duplicate_data_is_reported_with_a_dsack_block() -> None:
    s = Script()
    sock, iss = s.accept_connection(options=TcpOptions(mss=MSS, sack_permitted=True))
    s.inject(F.ACK, seq=1001, ack=iss + 1, payload=b"abcdef")
    s.advance(0.1)
    s.out()
    s.inject(F.ACK, seq=1001, ack=iss + 1, payload=b"abcdef")
    (ack,) = s.out()
    assert ack.ack == 1007 and ack.options.sack_blocks == ((1001, 1007),)  # below ACK: D-SACK
    s.inject(F.ACK, seq=1003, ack=iss + 1, payload=b"cdefgh")  # half old, half new
    (ack,) = s.out()
    assert ack.ack == 1009 and ack.options.sack_blocks == ((1003, 1007),)
    assert sock.recv(now=s.now) == b"abcdefgh"
    assert s.engine.counters()["tcp_dsack_sent"] == 2


def test_a_small_window_is_filled_when_the_persist_timer_fires() -> None:
    s = Script()
    sock, iss = s.accept_connection()
    sock.set_nodelay(True)
    sock.send(bytes(3000), now=0.0)
    assert [len(x.payload) for x in s.out()] == [1460, 1460, 80]
    s.inject(F.ACK, seq=1001, ack=iss + 1 + 3000, window=0)
    sock.send(bytes(3000), now=0.0)
    s.inject(F.ACK, seq=1001, ack=iss + 1 + 3000, window=500)  # opens, but only a little
    assert s.out() == []  # 500 < max window / 2: sender SWS avoidance waits
    s.advance(s.deadline() or 0.0)
    (seg,) = s.out()
    assert len(seg.payload) == 500  # the persist timer sends what fits


def test_receiver_sws_avoidance_keeps_a_closed_window_closed_until_an_mss_fits() -> None:
    s = Script()
    s.listen().set_buffer_sizes(rcvbuf=4 * MSS)
    sock, iss = s.accept_connection()
    for i in range(4):
        s.inject(F.ACK, seq=1001 + i * MSS, ack=iss + 1, payload=FULL)
    assert s.out()[-1].window == 0
    sock.recv(100, now=0.0)  # 100 bytes free: too little to open the window
    s.inject(F.ACK, seq=1001 + 4 * MSS - 1, ack=iss + 1)  # a probe
    (ack,) = s.out()
    assert ack.window == 0
    sock.recv(MSS, now=0.0)  # now more than an MSS is free: a window update goes out
    (update,) = s.out()
    assert update.window == MSS + 100
