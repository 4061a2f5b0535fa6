"""RST and SYN handling per RFC 9293 and RFC 5961; unacceptable segments."""

from __future__ import annotations

import pytest

from nodes.stack.tcp.config import TcpConfig
from nodes.stack.tcp.testing import Script
from nodes.wire.tcp import TcpFlags as F


def test_exact_rst_resets() -> None:
    s = Script()
    sock, _iss = s.accept_connection()
    s.inject(F.RST, seq=1001)
    assert sock.state == "CLOSED" and s.out() == []
    with pytest.raises(ConnectionResetError):
        sock.recv(now=0.0)
    c = s.engine.counters()
    assert c["tcp_in_rsts"] == 1 and c["tcp_estab_resets"] == 1 and c["tcp_curr_estab"] == 0


def test_in_window_inexact_rst_gets_a_challenge_ack() -> None:
    s = Script()
    sock, iss = s.accept_connection()
    s.inject(F.RST, seq=1001 + 500)
    (ack,) = s.out()
    assert ack.flags == F.ACK and ack.seq == iss + 1 and ack.ack == 1001
    assert sock.state == "ESTABLISHED"
    assert s.engine.counters()["tcp_challenge_acks"] == 1


def test_out_of_window_rst_is_ignored() -> None:
    s = Script()
    sock, _iss = s.accept_connection()
    for seq in (1000, 1001 + 200_000, 1001 - 70_000):
        s.inject(F.RST, seq=seq)
    assert s.out() == [] and sock.state == "ESTABLISHED"
    assert s.engine.counters()["tcp_rst_out_of_window"] == 3


def test_syn_on_an_established_connection_gets_a_challenge_ack() -> None:
    s = Script()
    sock, _iss = s.accept_connection()
    s.inject(F.SYN, seq=1001 + 10)
    (ack,) = s.out()
    assert ack.flags == F.ACK and ack.ack == 1001 and sock.state == "ESTABLISHED"


def test_challenge_acks_are_rate_limited_per_second() -> None:
    s = Script(TcpConfig(challenge_ack_limit=2))
    _sock, _iss = s.accept_connection()
    for _ in range(5):
        s.inject(F.RST, seq=1001 + 100)
    assert len(s.out()) == 2
    s.advance(1.0)
    s.inject(F.RST, seq=1001 + 100)
    assert len(s.out()) == 1
    c = s.engine.counters()
    assert c["tcp_challenge_acks"] == 3 and c["tcp_challenge_acks_limited"] == 3


def test_data_with_an_ack_for_unsent_data_is_dropped() -> None:
    s = Script()
    sock, iss = s.accept_connection()
    s.inject(F.ACK, seq=1001, ack=iss + 1 + 5000, payload=b"evil")
    (ack,) = s.out()
    assert ack.ack == 1001  # nothing accepted
    with pytest.raises(BlockingIOError):
        sock.recv(now=0.0)
    assert s.engine.counters()["tcp_ack_too_new"] == 1


def test_data_with_a_too_old_ack_is_dropped() -> None:
    s = Script()
    sock, iss = s.accept_connection(window=1000)
    s.inject(F.ACK, seq=1001, ack=iss + 1 - 100_000, payload=b"evil")
    (ack,) = s.out()
    assert ack.ack == 1001
    with pytest.raises(BlockingIOError):
        sock.recv(now=0.0)
    assert s.engine.counters()["tcp_ack_too_old"] == 1


def test_out_of_window_data_is_acked_not_accepted() -> None:
    s = Script()
    _sock, iss = s.accept_connection()
    s.inject(F.ACK, seq=1001 + 10_000_000, ack=iss + 1, payload=b"far")
    (ack,) = s.out()
    assert ack.ack == 1001 and s.engine.counters()["tcp_out_of_window"] == 1


def test_bad_checksum_is_a_counted_drop() -> None:
    s = Script()
    _sock, iss = s.accept_connection()
    s.inject(F.ACK, seq=1001, ack=iss + 1, payload=b"data", corrupt=True)
    assert s.out() == []
    c = s.engine.counters()
    assert c["tcp_bad_checksum"] == 1 and c["tcp_in_errs"] == 1


def test_rst_in_syn_rcvd_drops_the_child_only() -> None:
    s = Script()
    listener = s.listen()
    s.inject(F.SYN, seq=1000)
    s.out()
    s.inject(F.RST, seq=1001)
    assert not s.engine.demux.conns and listener.state == "LISTEN"
    sock, _ = s.accept_connection(sport=40001)
    assert sock.state == "ESTABLISHED"
