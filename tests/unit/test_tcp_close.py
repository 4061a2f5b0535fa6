"""Closing: four-way close, half-close, CLOSE_WAIT/LAST_ACK, TIME_WAIT, FIN_WAIT_2 timeout,
simultaneous close, abort and SO_LINGER 0."""

from __future__ import annotations

import pytest

from nodes.stack.tcp.config import TcpConfig
from nodes.stack.tcp.testing import Network, Script
from nodes.wire.tcp import TcpFlags as F

FA = F.FIN | F.ACK
RA = F.RST | F.ACK


def test_active_close_time_wait_reacks_fin_and_restarts() -> None:
    s = Script()
    sock, iss = s.accept_connection()
    sock.close(now=0.0)
    (fin,) = s.out()
    assert fin.flags == FA and fin.seq == iss + 1 and fin.ack == 1001
    assert sock.state == "FIN_WAIT_1"
    s.inject(F.ACK, seq=1001, ack=iss + 2)
    assert sock.state == "FIN_WAIT_2" and s.out() == []
    s.advance(1.0)
    s.inject(FA, seq=1001, ack=iss + 2)
    (ack,) = s.out()
    assert ack.flags == F.ACK and ack.ack == 1002 and ack.seq == iss + 2
    assert sock.state == "TIME_WAIT" and s.deadline() == pytest.approx(61.0)  # 2*MSL
    s.advance(30.0)
    s.inject(FA, seq=1001, ack=iss + 2)  # our ACK was lost: the FIN comes again
    (ack,) = s.out()
    assert ack.flags == F.ACK and ack.ack == 1002
    assert s.deadline() == pytest.approx(90.0)
    s.advance(89.9)
    assert sock.state == "TIME_WAIT"
    s.advance(90.0)
    assert sock.state == "CLOSED" and not s.engine.demux.conns


def test_time_wait_lasts_2msl_configurable() -> None:
    s = Script(TcpConfig(msl=5.0))
    sock, iss = s.accept_connection()
    sock.close(now=0.0)
    s.inject(FA, seq=1001, ack=iss + 2)
    s.out()
    assert sock.state == "TIME_WAIT" and s.deadline() == pytest.approx(10.0)


def test_passive_close_close_wait_last_ack() -> None:
    s = Script()
    sock, iss = s.accept_connection()
    s.inject(FA, seq=1001, ack=iss + 1)
    (ack,) = s.out()  # a FIN is ACKed at once
    assert ack.ack == 1002 and sock.state == "CLOSE_WAIT"
    assert sock.recv(now=0.0) == b""  # end of stream
    assert sock.send(b"still talking", now=0.0) == 13  # the other direction stays open
    (data,) = s.out()
    assert data.payload.tobytes() == b"still talking"
    sock.close(now=0.0)
    (fin,) = s.out()
    assert fin.flags == FA and fin.seq == iss + 1 + 13 and sock.state == "LAST_ACK"
    s.inject(F.ACK, seq=1002, ack=iss + 15)
    assert sock.state == "CLOSED" and not s.engine.demux.conns


def test_half_close_peer_keeps_sending_no_fin_wait2_timer() -> None:
    s = Script()
    sock, iss = s.accept_connection()
    sock.shutdown(now=0.0)
    (fin,) = s.out()
    assert fin.flags & F.FIN
    s.inject(F.ACK, seq=1001, ack=iss + 2)
    assert sock.state == "FIN_WAIT_2" and s.deadline() is None  # not orphaned: no timeout
    with pytest.raises(BrokenPipeError):
        sock.send(b"x", now=0.0)
    s.advance(500.0)
    s.inject(F.ACK | F.PSH, seq=1001, ack=iss + 2, payload=b"more data")
    assert sock.recv(now=s.now) == b"more data"
    s.inject(FA, seq=1010, ack=iss + 2)
    assert sock.state == "TIME_WAIT" and sock.recv(now=s.now) == b""


def test_orphaned_fin_wait2_times_out_after_fin_timeout() -> None:
    s = Script(TcpConfig(fin_timeout=60.0))
    sock, iss = s.accept_connection()
    sock.close(now=0.0)
    s.out()
    s.inject(F.ACK, seq=1001, ack=iss + 2)
    assert sock.state == "FIN_WAIT_2" and s.deadline() == pytest.approx(60.0)
    s.advance(60.0)
    assert sock.state == "CLOSED" and s.engine.counters()["tcp_fin_wait2_timeouts"] == 1
    assert s.out() == []  # silently, like Linux's FIN_WAIT_2 timewait socket


def test_simultaneous_close_goes_through_closing() -> None:
    s = Script()
    sock, iss = s.accept_connection()
    sock.close(now=0.0)
    s.out()
    s.inject(FA, seq=1001, ack=iss + 1)  # the peer's FIN crossed ours
    (ack,) = s.out()
    assert sock.state == "CLOSING" and ack.ack == 1002
    s.inject(F.ACK, seq=1002, ack=iss + 2)
    assert sock.state == "TIME_WAIT"


def test_simultaneous_close_two_engines() -> None:
    net = Network()
    srv = net.b.socket()
    srv.bind(net.addr_b, 80)
    srv.listen()
    cli = net.a.socket()
    cli.connect(net.addr_b, 80, now=0.0)
    net.run(0.1)
    peer = srv.accept()
    cli.close(now=net.now)
    peer.close(now=net.now)
    net.run(0.1)
    assert cli.state == peer.state == "TIME_WAIT"
    net.run(61.0)
    assert cli.state == peer.state == "CLOSED"


def test_fin_is_retransmitted_with_backoff_and_orphan_gives_up() -> None:
    s = Script(TcpConfig(orphan_retries=3))
    sock, _iss = s.accept_connection()
    sock.close(now=0.0)
    s.out()
    times = []
    while (d := s.deadline()) is not None:
        s.advance(d)
        times += [s.now for seg in s.out() if seg.flags & F.FIN]
    # RTT ~0 -> RTO 200 ms (the minimum), doubled each time, then the orphan gives up.
    # orphan_retries is a time limit like retries2 (Linux tcp_write_timeout for a dead
    # socket): tcp_model_timeout(3) = 3.0 s after the first retransmission at 0.2 s, so
    # the FIN at 3.0 s still goes out and the orphan dies at the next expiry, 6.2 s (was:
    # 3 retransmissions, closed at 3.0 s)
    assert times == pytest.approx([0.2, 0.6, 1.4, 3.0])
    assert sock.state == "CLOSED" and s.now == pytest.approx(6.2)


def test_linger_zero_close_sends_rst() -> None:
    s = Script()
    sock, iss = s.accept_connection()
    sock.set_linger(0)
    sock.close(now=0.0)
    (rst,) = s.out()
    assert rst.flags == RA and rst.seq == iss + 1 and sock.state == "CLOSED"
    assert s.engine.counters()["tcp_out_rsts"] == 1


def test_abort_sends_rst_and_close_with_unread_data_too() -> None:
    s = Script()
    sock, _iss = s.accept_connection()
    sock.abort(now=0.0)
    (rst,) = s.out()
    assert rst.flags == RA
    sock2, iss2 = s.accept_connection(sport=40001)
    s.inject(F.ACK, seq=1001, ack=iss2 + 1, payload=b"unread", sport=40001)
    s.out()
    sock2.close(now=0.0)
    (rst,) = s.out()
    assert rst.flags == RA and s.engine.counters()["tcp_abort_on_close"] == 1


def test_data_to_an_orphan_is_answered_with_rst() -> None:
    s = Script()
    sock, iss = s.accept_connection()
    sock.close(now=0.0)
    s.out()
    s.inject(F.ACK, seq=1001, ack=iss + 2, payload=b"late")
    (rst,) = s.out()
    assert rst.flags & F.RST and sock.state == "CLOSED"


def test_new_syn_recycles_time_wait() -> None:
    s = Script()
    s.listen()
    sock, iss = s.accept_connection()
    sock.close(now=0.0)
    s.inject(FA, seq=1001, ack=iss + 2)
    s.out()
    assert sock.state == "TIME_WAIT"
    s.inject(F.SYN, seq=100000, sport=40000)
    (synack,) = s.out()
    assert synack.flags == F.SYN | F.ACK and synack.ack == 100001
    assert s.engine.counters()["tcp_time_wait_recycled"] == 1
