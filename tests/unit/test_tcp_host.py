"""The Host composes TCP (DESIGN.md section 3): every Host and Router has a TcpEngine built
from ``StackConfig.tcp`` and seeded from the host's rng, with no registration step."""

from __future__ import annotations

import random

from nodes.io.simulate import build_line
from nodes.router.router import Router
from nodes.stack.config import StackConfig
from nodes.stack.host import Host
from nodes.stack.tcp.config import TcpConfig
from nodes.stack.tcp.engine import TcpEngine
from nodes.stack.tcp.testing import REMOTE_ADDR, Script
from nodes.wire.ipv4 import IPProto


def test_every_host_has_a_tcp_engine_from_its_stack_config() -> None:
    cfg = StackConfig(tcp=TcpConfig(msl=5.0, congestion="reno"))
    host = Host("h", config=cfg, rng=random.Random(1))
    assert isinstance(host.tcp, TcpEngine) and host.handlers[IPProto.TCP] is host.tcp
    assert host.tcp.config.msl == 5.0 and host.tcp.config.congestion == "reno"
    router = Router("r", config=cfg)
    assert router.config.forwarding and router.tcp.config.msl == 5.0
    assert Host("d").tcp.config == TcpConfig()
    assert "tcp_active_opens" in host.counters()


def _first_syn(seed: int) -> tuple[int, int]:
    host = Host("h", rng=random.Random(seed))
    host.add_interface("eth0", "02:00:00:00:00:01", "10.0.0.1", 24)
    sock = host.tcp.socket()
    sock.connect(0x0A000002, 80, now=0.0)
    conn = sock.connection
    assert conn is not None
    return conn.iss, conn.lport


def test_the_engine_is_seeded_from_the_host_rng() -> None:
    assert _first_syn(7) == _first_syn(7)
    assert _first_syn(7) != _first_syn(8)


def test_a_connection_over_a_line_needs_no_registration() -> None:
    line = build_line(1, delay=0.001, seed=2)
    srv = line.right.tcp.socket()
    srv.bind(0, 80)
    srv.listen()
    cli = line.left.tcp.socket()
    cli.connect(line.address("h2"), 80, now=0.0)
    assert line.sim.run(lambda: cli.state == "ESTABLISHED", timeout=1.0)
    cli.send(b"hello", now=line.sim.now)
    assert line.sim.run(lambda: bool(srv.readiness()), timeout=1.0)
    peer = srv.accept()
    assert line.sim.run(lambda: bool(peer.connection and peer.connection.rcvbuf.ready), timeout=1.0)
    assert peer.recv(now=line.sim.now) == b"hello"


def test_registering_another_engine_replaces_host_tcp() -> None:
    host = Host("h")
    mine = TcpEngine(host, TcpConfig(msl=1.0), random.Random(3))
    host.register_protocol(IPProto.TCP, mine)
    assert host.tcp is mine and host.handlers[IPProto.TCP] is mine


def test_the_timer_heap_stays_bounded_when_a_connection_is_pushed_again() -> None:
    # connections whose deadline stays put (a SYN's retransmission) while they forget they
    # were scheduled (a small queues resume clears it, say), as the timer heap sees it;
    # real ones, so that the compiled engine (setup.py, mypyc) takes them too
    script = Script()
    engine = script.engine
    for _ in range(3):
        engine.socket().connect(REMOTE_ADDR, 80, now=0.0)
    conns = list(engine.demux.conns.values())
    assert len(conns) == 3 and all(c.deadline() is not None for c in conns)
    for _ in range(2000):
        for conn in conns:
            conn.scheduled = None
            engine.touch(conn)
    # compaction keeps one entry a connection: without dropping the duplicates the heap
    # grew by every push and each push rebuilt it (a bulk transfer 3x slower in the sim)
    assert len(engine._timers) <= 2 * len(engine.demux.conns) + 64 + 1
