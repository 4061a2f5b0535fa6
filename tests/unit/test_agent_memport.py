"""In-memory ports (nodes/io/memport.py): point-to-point links, a learning switch, the
eventfd that wakes a runner, the inbox limit, and two real Runners pinging each other."""

from __future__ import annotations

import select
import threading
import time

import pytest

from nodes.apps.ping import Ping
from nodes.io.memport import MemPort, connect, mem_lan, mem_link
from nodes.io.runner import Runner
from nodes.stack.host import Host


def _readable(port: MemPort) -> bool:
    return bool(select.select([port.fileno()], [], [], 0)[0])


def _frame(dst: bytes, src: bytes, body: bytes = b"x") -> bytes:
    return dst + src + b"\x08\x00" + body


def test_a_link_delivers_both_ways_and_signals_the_fd() -> None:
    a, b = mem_link()
    try:
        assert not _readable(a) and not _readable(b)
        assert a.send(b"frame-1") and a.send(b"frame-2")
        assert _readable(b) and not _readable(a)
        assert b.recv_batch(1) == [b"frame-1"]
        assert _readable(b)  # one more waits: still readable
        assert b.recv_batch(10) == [b"frame-2"]
        assert not _readable(b) and b.recv_batch(10) == []
        assert b.send(b"back") and a.recv_batch(10) == [b"back"]
        assert a.counters.tx_frames == 2 and b.counters.rx_frames == 2
        assert a.counters.tx_bytes == 14 and b.counters.rx_bytes == 14
    finally:
        a.close()
        b.close()


def test_the_inbox_is_bounded_and_closed_ports_refuse() -> None:
    a, b = mem_link(queue_limit=3)
    try:
        assert [a.send(b"f%d" % i) for i in range(5)] == [True, True, True, False, False]
        assert a.counters.tx_dropped_full == 2 and b.pending == 3
        b.close()
        assert not a.send(b"late") and a.counters.tx_dropped_closed == 1
        lone = MemPort("lone")
        assert not lone.send(b"nowhere")
        lone.close()
    finally:
        a.close()
        b.close()
    with pytest.raises(ValueError):
        connect(MemPort("only"))


def test_a_lan_floods_unknown_destinations_and_learns_macs() -> None:
    p0, p1, p2 = ports = mem_lan(3)
    m0, m1, m2 = (bytes([2, 0, 0, 0, 0, i]) for i in range(3))
    bcast = b"\xff" * 6
    try:
        p0.send(_frame(bcast, m0))
        assert p1.recv_batch(9) and p2.recv_batch(9) and not p0.recv_batch(9)
        p1.send(_frame(m0, m1))  # m0 was learned on p0
        assert p0.recv_batch(9) and not p2.recv_batch(9)
        p0.send(_frame(m2, m0))  # m2 unknown yet: flooded
        assert p1.recv_batch(9) and p2.recv_batch(9)
    finally:
        for p in ports:
            p.close()


def test_two_runners_on_threads_ping_over_a_mem_link() -> None:
    a, b = mem_link()
    h1, h2 = Host("h1"), Host("h2")
    h1.add_interface("eth0", "02:00:00:00:00:01", "10.0.0.1", 24)
    h2.add_interface("eth0", "02:00:00:00:00:02", "10.0.0.2", 24)
    r1, r2 = Runner(h1, {"eth0": a}), Runner(h2, {"eth0": b})
    threads = [threading.Thread(target=r.run) for r in (r1, r2)]
    for t in threads:
        t.start()
    try:
        ping = r1.call(lambda: Ping(h1, 0x0A000002)).result(5)
        r1.call(lambda: ping.start(3, now=r1.now(), interval=0.01)).result(5)
        end = time.monotonic() + 5
        while r1.call(lambda: len(ping.replies)).result(5) < 3 and time.monotonic() < end:
            time.sleep(0.01)
        assert sorted(ping.replies) == [1, 2, 3]
        assert all(0 < r.rtt < 1 for r in ping.replies.values())
    finally:
        for r in (r1, r2):
            r.stop()
        for t in threads:
            t.join(5)
        for r in (r1, r2):
            r.close()
        a.close()
        b.close()
    assert not any(t.is_alive() for t in threads)
    assert r1.counters()["io_rx_frames"] >= 3 and r2.counters()["io_tx_frames"] >= 3
