"""Listen backlog: SYN queue, accept queue, SYN cookies when the SYN queue is full."""

from __future__ import annotations

import pytest

from nodes.stack.tcp.config import TcpConfig
from nodes.stack.tcp.syncookies import SynCookies
from nodes.stack.tcp.testing import REMOTE_ADDR, Network, Script
from nodes.wire.tcp import TcpFlags as F
from nodes.wire.tcp import TcpOptions

SA = F.SYN | F.ACK


def fill_syn_queue(s: Script, n: int) -> None:
    for k in range(n):
        s.inject(F.SYN, seq=100 * k, sport=20000 + k, options=TcpOptions(mss=1460))
        (synack,) = s.out()
        assert synack.flags == SA


def test_syn_queue_full_answers_with_a_cookie_that_validates() -> None:
    s = Script()
    s.listen(backlog=2)
    fill_syn_queue(s, 2)
    assert len(s.engine.demux.conns) == 2
    s.inject(F.SYN, seq=5000, sport=30000, options=TcpOptions(mss=1460))
    (synack,) = s.out()
    assert synack.flags == SA and synack.options.mss == 1460
    assert len(s.engine.demux.conns) == 2  # no state kept for the cookie
    s.advance(0.5)
    s.inject(F.ACK, seq=5001, ack=synack.seq + 1, sport=30000, payload=b"hello")
    c = s.engine.counters()
    assert c["tcp_syncookies_sent"] == 1 and c["tcp_syncookies_recv"] == 1
    listener = s.listener
    assert listener is not None
    sock = listener.accept()
    assert sock.state == "ESTABLISHED" and sock.recv(now=s.now) == b"hello"
    info = sock.info()
    assert info is not None and info.mss == 1460 and not info.sack


def test_a_forged_cookie_ack_gets_rst() -> None:
    s = Script()
    s.listen(backlog=1)
    fill_syn_queue(s, 1)
    s.inject(F.SYN, seq=5000, sport=30000)
    (synack,) = s.out()
    s.inject(F.ACK, seq=5001, ack=synack.seq + 2, sport=30000)
    (rst,) = s.out()
    assert rst.flags == F.RST and s.engine.counters()["tcp_syncookies_failed"] == 1


def test_cookie_carries_wscale_and_sack_in_the_timestamp() -> None:
    s = Script()
    s.listen(backlog=1)
    fill_syn_queue(s, 1)
    opts = TcpOptions(mss=1400, wscale=7, sack_permitted=True, timestamp=(777, 0))
    s.inject(F.SYN, seq=5000, sport=30000, options=opts)
    (synack,) = s.out()
    o = synack.options
    assert o.timestamp is not None and o.timestamp[1] == 777 and o.wscale == 7
    assert o.mss == 1400  # 1400 is in the cookie's MSS table
    s.inject(F.ACK, seq=5001, ack=synack.seq + 1, sport=30000,
             options=TcpOptions(timestamp=(778, o.timestamp[0])))  # fmt: skip
    assert s.listener is not None
    info = s.listener.accept().info()
    assert info is not None and info.sack and info.timestamps and info.snd_wscale == 7


def test_without_syncookies_a_full_syn_queue_drops() -> None:
    s = Script(TcpConfig(syncookies=False))
    s.listen(backlog=1)
    fill_syn_queue(s, 1)
    s.inject(F.SYN, seq=5000, sport=30000)
    assert s.out() == [] and s.engine.counters()["tcp_listen_drops"] == 1


def test_full_accept_queue_drops_syns_and_the_final_ack() -> None:
    s = Script()
    s.listen(backlog=1)
    synacks = {}
    for port in (1, 2, 3):  # 1 completes; 2 waits in the SYN queue; 3 gets a cookie
        s.inject(F.SYN, seq=1000, sport=port)
        (synacks[port],) = s.out()
        if port == 1:
            s.inject(F.ACK, seq=1001, ack=synacks[1].seq + 1, sport=1)
    assert s.engine.counters()["tcp_syncookies_sent"] == 1
    s.inject(F.ACK, seq=1001, ack=synacks[2].seq + 1, sport=2)  # Linux: backlog + 1 fit
    s.inject(F.ACK, seq=1001, ack=synacks[3].seq + 1, sport=3)  # the queue is full: dropped
    assert s.engine.counters()["tcp_listen_overflows"] == 1
    s.inject(F.SYN, seq=1000, sport=4)
    assert s.out() == []  # SYNs are dropped while the accept queue is full
    assert s.engine.counters()["tcp_listen_overflows"] == 2
    assert s.listener is not None
    assert s.listener.accept().remote == (REMOTE_ADDR, 1)
    assert s.listener.accept().remote == (REMOTE_ADDR, 2)
    with pytest.raises(BlockingIOError):
        s.listener.accept()
    s.inject(F.ACK, seq=1001, ack=synacks[3].seq + 1, sport=3)  # the client's retry
    assert s.listener.accept().remote == (REMOTE_ADDR, 3)


def test_cookie_check_rejects_old_and_tampered_cookies() -> None:
    import random

    c = SynCookies(random.Random(1))
    tup = (1, 2, 3, 4)
    cookie = c.make(tup, 1000, 1460, now=0.0)
    assert c.check(tup, 1000, cookie, now=100.0) == 1460
    assert c.check(tup, 1000, cookie, now=64 * 3 + 1) is None  # too old
    assert c.check(tup, 1001, cookie, now=1.0) is None
    assert c.check((1, 2, 3, 5), 1000, cookie, now=1.0) is None
    assert c.check(tup, 1000, cookie ^ (1 << 24), now=1.0) is None  # tampered MSS index


def test_syn_flood_leaves_room_for_a_legitimate_client() -> None:
    net = Network()
    srv = net.b.socket()
    srv.bind(net.addr_b, 80)
    srv.listen(4)
    for k in range(50):  # spoofed SYNs that never complete
        net.ip_b.sent.clear()
        from nodes.stack.tcp.testing import Packet
        from nodes.wire.tcp import build_tcp

        raw = build_tcp(0x0B000000 + k, net.addr_b, src_port=1000 + k, dst_port=80, seq=k,
                        ack=0, flags=F.SYN, window=1000)  # fmt: skip
        net.b.on_packet(Packet(0x0B000000 + k, net.addr_b, memoryview(raw)), now=0.0)
    net.ip_b.sent.clear()
    cli = net.a.socket()
    cli.connect(net.addr_b, 80, now=0.0)
    net.run(0.2)
    assert cli.state == "ESTABLISHED"
    assert srv.accept().state == "ESTABLISHED"
    assert net.b.counters()["tcp_syncookies_recv"] == 1
