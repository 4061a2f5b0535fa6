"""Connection establishment, packetdrill style: exact segments and timers."""

from __future__ import annotations

import random

import pytest

from nodes.stack.tcp.config import TcpConfig
from nodes.stack.tcp.isn import IsnGenerator
from nodes.stack.tcp.testing import REMOTE_ADDR, Icmp, Network, Quoted, Script
from nodes.wire.tcp import TcpFlags as F
from nodes.wire.tcp import TcpOptions

SA = F.SYN | F.ACK
RA = F.RST | F.ACK


def test_passive_open_exact_synack_and_data_on_the_third_segment() -> None:
    s = Script()
    listener = s.listen()
    s.inject(F.SYN, seq=1000, options=TcpOptions(mss=1460))
    (synack,) = s.out()
    assert synack.flags == SA and synack.ack == 1001 and synack.window == 65535
    assert synack.options == TcpOptions(mss=1460)  # nothing the peer did not offer
    assert s.deadline() == 1.0  # SYN-ACK RTO
    s.advance(0.05)
    s.inject(F.ACK | F.PSH, seq=1001, ack=synack.seq + 1, payload=b"GET /")
    sock = listener.accept()
    assert sock.state == "ESTABLISHED" and sock.recv(100, now=s.now) == b"GET /"
    info = sock.info()
    assert info is not None and info.srtt == pytest.approx(0.05) and info.mss == 1460
    assert s.engine.counters()["tcp_passive_opens"] == 1
    (ack,) = s.out()  # the first data is ACKed at once (Linux quick-ACK mode)
    assert ack.flags == F.ACK and ack.ack == 1006 and ack.seq == synack.seq + 1


def test_peer_options_are_negotiated_linux_style() -> None:
    s = Script()
    s.listen()
    s.inject(F.SYN, seq=7, options=TcpOptions(mss=1400, wscale=7, sack_permitted=True,
                                               timestamp=(555, 0)))  # fmt: skip
    (synack,) = s.out()
    o = synack.options
    assert o.mss == 1460 and o.wscale == 7 and o.sack_permitted  # from rmem_max
    assert o.timestamp is not None and o.timestamp[1] == 555
    conn = next(iter(s.engine.demux.conns.values()))
    assert conn.mss == 1400 - 12  # peer's MSS minus the timestamp option, like mss_cache
    assert conn.snd_wscale == 7


def test_mss_defaults_to_536_without_the_option() -> None:
    s = Script()
    sock, _ = s.accept_connection(options=TcpOptions())
    info = sock.info()
    assert info is not None and info.mss == 536


def test_synack_retransmits_then_the_request_is_dropped() -> None:
    s = Script()  # synack_retries = 5
    s.listen()
    s.inject(F.SYN, seq=1000, options=TcpOptions(mss=1460))
    iss = s.out()[0].seq
    times = []
    while (d := s.deadline()) is not None:
        s.advance(d)
        out = s.out()
        if out:
            assert out[0].flags == SA and out[0].seq == iss
            assert out[0].options == TcpOptions(mss=1460)  # still only what was negotiated
            times.append(s.now)
    assert times == [1, 3, 7, 15, 31]
    assert s.now == 63 and not s.engine.demux.conns
    s.inject(F.ACK, seq=1001, ack=iss + 1)  # too late: the request is gone -> RST
    (rst,) = s.out()
    assert rst.flags == F.RST and rst.seq == iss + 1


@pytest.mark.parametrize(("retries", "fail_at"), [(5, 63.0), (6, 127.0), (2, 7.0)])
def test_syn_backoff_1_2_4_and_connect_timeout(retries: int, fail_at: float) -> None:
    s = Script(TcpConfig(syn_retries=retries))
    sock = s.engine.socket()
    sock.connect(REMOTE_ADDR, 80, now=0.0)
    (syn,) = s.out()
    assert syn.flags == F.SYN and syn.window == 65535
    assert syn.options == TcpOptions(mss=1460, wscale=7, sack_permitted=True,
                                     timestamp=syn.options.timestamp)  # fmt: skip
    sent = [0.0]
    while (d := s.deadline()) is not None:
        s.advance(d)
        sent += [s.now for seg in s.out() if seg.flags == F.SYN and seg.seq == syn.seq]
    assert sent == [float((1 << i) - 1) for i in range(retries + 1)]
    assert s.now == fail_at and sock.state == "CLOSED"
    with pytest.raises(TimeoutError):
        sock.recv(now=s.now)
    assert s.engine.counters()["tcp_attempt_fails"] == 1


def test_syn_to_a_closed_port_gets_rst() -> None:
    s = Script()
    s.inject(F.SYN, seq=4242, dport=81, payload=b"")
    (rst,) = s.out()
    assert rst.flags == RA and rst.seq == 0 and rst.ack == 4243
    s.inject(F.ACK, seq=1, ack=777, dport=81)
    (rst,) = s.out()
    assert rst.flags == F.RST and rst.seq == 777
    s.inject(F.RST, seq=1, dport=81)
    assert s.out() == []  # never a RST for a RST
    assert s.engine.counters()["tcp_no_socket"] == 3


def test_synack_for_an_old_syn_gets_rst_and_the_real_handshake_completes() -> None:
    s = Script()
    sock = s.engine.socket()
    sock.connect(REMOTE_ADDR, 80, now=0.0)
    (syn,) = s.out()
    port = syn.src_port
    s.inject(SA, seq=9000, ack=syn.seq + 12345, sport=80, dport=port)  # acks an old ISN
    (rst,) = s.out()
    assert rst.flags == F.RST and rst.seq == syn.seq + 12345
    assert sock.state == "SYN_SENT"
    s.inject(SA, seq=5000, ack=syn.seq + 1, sport=80, dport=port, options=TcpOptions(mss=1000))
    (ack,) = s.out()
    assert ack.flags == F.ACK and ack.seq == syn.seq + 1 and ack.ack == 5001
    assert sock.state == "ESTABLISHED"


def test_rst_in_syn_sent_refuses_the_connection() -> None:
    s = Script()
    sock = s.engine.socket()
    sock.connect(REMOTE_ADDR, 80, now=0.0)
    (syn,) = s.out()
    s.inject(RA, seq=0, ack=syn.seq + 2, sport=80, dport=syn.src_port)  # wrong ack: ignored
    assert sock.state == "SYN_SENT"
    s.inject(RA, seq=0, ack=syn.seq + 1, sport=80, dport=syn.src_port)
    assert sock.state == "CLOSED"
    with pytest.raises(ConnectionRefusedError):
        sock.send(b"x", now=s.now)


def test_icmp_unreachable_fails_a_connect() -> None:
    s = Script()
    sock = s.engine.socket()
    sock.connect(REMOTE_ADDR, 80, now=0.0)
    (syn,) = s.out()
    l4 = memoryview(syn.src_port.to_bytes(2, "big") + b"\x00\x50" + syn.seq.to_bytes(4, "big"))
    s.engine.on_icmp_error(Icmp(3, 1, 0), Quoted(s.ip.address, REMOTE_ADDR, 6, 60, l4), now=0.1)
    assert sock.state == "CLOSED" and sock.error == "EHOSTUNREACH"


def test_simultaneous_open_scripted() -> None:
    s = Script()
    sock = s.engine.socket()
    sock.bind(0, 5555)
    sock.connect(REMOTE_ADDR, 80, now=0.0)
    (syn,) = s.out()
    s.inject(F.SYN, seq=300, sport=80, dport=5555, options=TcpOptions(mss=1460))
    (synack,) = s.out()
    assert sock.state == "SYN_RCVD"
    assert synack.flags == SA and synack.seq == syn.seq and synack.ack == 301
    s.inject(SA, seq=300, ack=syn.seq + 1, sport=80, dport=5555)
    assert sock.state == "ESTABLISHED"


def test_simultaneous_open_two_engines() -> None:
    net = Network()
    a, b = net.a.socket(), net.b.socket()
    a.bind(net.addr_a, 5000)
    b.bind(net.addr_b, 6000)
    a.connect(net.addr_b, 6000, now=0.0)
    b.connect(net.addr_a, 5000, now=0.0)
    net.run(0.1)
    assert a.state == b.state == "ESTABLISHED"
    a.send(b"ping", now=net.now)
    net.run(0.1)
    assert b.recv(now=net.now) == b"ping"


def test_isn_rfc6528_keyed_hash_plus_4us_clock() -> None:
    gen = IsnGenerator(random.Random(1))
    a = gen.isn(1, 2, 3, 4, now=0.0)
    assert gen.isn(1, 2, 3, 4, now=1.0) == (a + 250_000) & 0xFFFFFFFF
    assert gen.isn(1, 2, 3, 5, now=0.0) != a
    assert IsnGenerator(random.Random(2)).isn(1, 2, 3, 4, now=0.0) != a


def test_the_window_in_a_synack_is_never_scaled() -> None:
    s = Script()
    sock, _ = s.connect(options=TcpOptions(mss=1460, wscale=7), window=1000)
    conn = sock.connection
    assert conn is not None and conn.snd_wscale == 7 and conn.snd_wnd == 1000
