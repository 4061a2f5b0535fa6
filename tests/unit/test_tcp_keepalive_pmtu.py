"""Keepalive (idle/interval/count), PMTUD from ICMP frag-needed, ss-style info and
netstat-style counters."""

from __future__ import annotations

import pytest

from nodes.stack.tcp.config import TcpConfig
from nodes.stack.tcp.testing import REMOTE_ADDR, Icmp, Network, Quoted, Script
from nodes.wire.tcp import TcpFlags as F
from nodes.wire.tcp import TcpSegment


def test_keepalive_probes_a_silent_peer_then_resets() -> None:
    s = Script()
    s.listen().set_keepalive(True)
    sock, iss = s.accept_connection()
    assert s.deadline() == pytest.approx(7200.0)
    probes = []
    while (d := s.deadline()) is not None:
        s.advance(d)
        for seg in s.out():
            if seg.flags == F.ACK:
                assert seg.seq == iss and not seg.payload  # SND.UNA - 1, no data
                probes.append(s.now)
            else:
                assert seg.flags == F.RST | F.ACK
    assert probes == [7200.0 + 75 * k for k in range(9)]
    assert sock.state == "CLOSED" and s.now == pytest.approx(7875.0)
    with pytest.raises(TimeoutError):
        sock.recv(now=s.now)
    assert s.engine.counters()["tcp_keepalive_timeouts"] == 1


def test_an_answered_keepalive_keeps_the_connection() -> None:
    s = Script(TcpConfig(keepalive_time=60.0, keepalive_intvl=10.0, keepalive_probes=2))
    s.listen().set_keepalive(True)
    sock, iss = s.accept_connection()
    s.advance(60.0)
    (_probe,) = s.out()
    s.inject(F.ACK, seq=1001, ack=iss + 1)  # the peer is alive: idle counts from here
    s.advance(119.0)
    assert s.out() == [] and sock.state == "ESTABLISHED"
    s.advance(120.0)
    assert len(s.out()) == 1  # the next probe after another idle period


def test_per_socket_keepalive_parameters() -> None:
    s = Script()
    sock, _iss = s.accept_connection()
    sock.set_keepalive(True, idle=5.0, interval=1.0, count=3, now=0.0)
    while (d := s.deadline()) is not None:
        s.advance(d)
    assert sock.state == "CLOSED" and s.now == pytest.approx(8.0)


def frag_needed(s: Script, seg: TcpSegment, mtu: int) -> None:
    l4 = memoryview(
        seg.src_port.to_bytes(2, "big") + seg.dst_port.to_bytes(2, "big")
        + seg.seq.to_bytes(4, "big")
    )  # fmt: skip
    quoted = Quoted(s.ip.address, REMOTE_ADDR, 6, 1500, l4)
    s.engine.on_icmp_error(Icmp(3, 4, mtu), quoted, now=s.now)


def test_frag_needed_lowers_mss_and_resends_smaller() -> None:
    s = Script()
    sock, iss = s.accept_connection()
    sock.send(bytes(3 * 1460), now=0.0)
    segs = s.out()
    assert [len(x.payload) for x in segs] == [1460] * 3
    cwnd_before = sock.info().cwnd  # type: ignore[union-attr]
    frag_needed(s, segs[0], 1000)
    out = s.out()
    assert [len(x.payload) for x in out] == [960] * 4 + [3 * 1460 - 4 * 960]
    assert out[0].seq == iss + 1
    info = sock.info()
    assert info is not None and info.pmtu == 1000 and info.mss == 960
    assert info.cwnd * 960 >= cwnd_before * 960  # no congestion response (RFC 1191)
    assert s.engine.counters()["tcp_pmtu_updates"] == 1
    frag_needed(s, segs[0], 1200)  # never raised by ICMP
    assert sock.info().pmtu == 1000  # type: ignore[union-attr]


def test_frag_needed_for_a_sequence_outside_the_window_is_ignored() -> None:
    s = Script()
    sock, _iss = s.accept_connection()
    sock.send(b"x" * 100, now=0.0)
    (seg,) = s.out()
    bogus = TcpSegment(seg.src_port, seg.dst_port, (seg.seq + 50_000) & 0xFFFFFFFF, 0, 20, 0,
                       0, 0, 0, seg.options, seg.payload)  # fmt: skip
    frag_needed(s, bogus, 600)
    assert sock.info().pmtu == 1500  # type: ignore[union-attr]
    assert s.engine.counters()["tcp_icmp_out_of_window"] == 1


def test_frag_needed_without_mtu_uses_plateaus_and_min_pmtu() -> None:
    s = Script()
    sock, _iss = s.accept_connection()
    sock.send(b"x" * 1460, now=0.0)
    (seg,) = s.out()
    frag_needed(s, seg, 0)  # an old router: next plateau below 1500 is 1492
    assert sock.info().pmtu == 1492  # type: ignore[union-attr]
    frag_needed(s, seg, 300)  # below ip_min_pmtu: clamped to 552 like Linux
    assert sock.info().pmtu == 552  # type: ignore[union-attr]


def test_info_and_counters_after_a_transfer() -> None:
    net = Network(delay=0.010)
    srv = net.b.socket()
    srv.bind(net.addr_b, 80)
    srv.listen()
    cli = net.a.socket()
    cli.connect(net.addr_b, 80, now=0.0)
    net.run(0.1)
    peer = srv.accept()
    cli.send(bytes(100_000), now=net.now)
    net.run(1.0)
    assert len(peer.recv(1 << 20, now=net.now)) == 100_000
    info = cli.info()
    assert info is not None
    assert info.state == "ESTABLISHED" and info.congestion == "cubic"
    assert info.bytes_sent == info.bytes_acked == 100_000 and info.retrans == 0
    assert info.srtt == pytest.approx(0.020, abs=0.002)
    assert info.mss == 1448 and info.rcv_wscale == 7 and info.snd_wscale == 7
    assert info.cwnd > 10 and info.ssthresh is None and info.unacked == 0
    pinfo = peer.info()
    assert pinfo is not None and pinfo.bytes_received == 100_000
    assert [i.state for i in net.a.connections()] == ["ESTABLISHED"]
    line = info.ss_line()
    assert line.startswith("ESTAB cubic wscale:7,7 rto:")
    assert "mss:1448" in line and "bytes_acked:100000" in line and "ssthresh" not in line
    ca, cb = net.a.counters(), net.b.counters()
    assert ca["tcp_active_opens"] == 1 and cb["tcp_passive_opens"] == 1
    assert ca["tcp_out_segs"] == cb["tcp_in_segs"] and ca["tcp_curr_estab"] == 1


def test_frag_needed_below_min_pmtu_locks_it_and_drops_df() -> None:
    s = Script()
    sock, _iss = s.accept_connection()
    sock.send(bytes(2 * 1460), now=0.0)
    assert len(s.ip.sent) == 2 and all(p.df for p in s.ip.sent)
    segs = s.out()
    frag_needed(s, segs[0], 500)  # a link below ip_min_pmtu: Linux locks 552, DF off
    info = sock.info()
    assert info is not None and info.pmtu == 552 and info.mss == 552 - 40
    resent = s.ip.sent[:]
    assert resent and not any(p.df for p in resent)  # routers may fragment them now
    assert [len(x.payload) for x in s.out()] == [512] * 5 + [2 * 1460 - 5 * 512]
    frag_needed(s, segs[0], 500)  # once locked, more of the same change nothing
    counters = s.engine.counters()
    assert counters["tcp_pmtu_updates"] == 1 and counters["tcp_pmtu_locked"] == 1
