"""TCP over the real host stack and a router (h1 -- r1 -- h2): refusals, ICMP errors,
keepalive against a dead path, counters through Host.counters()."""

from __future__ import annotations

import random

import pytest

from nodes.faults.engine import FaultEngine
from nodes.faults.model import Effects, FaultSpec
from nodes.io.simulate import Line, build_line
from nodes.stack.tcp.config import TcpConfig
from nodes.stack.tcp.engine import TcpEngine
from nodes.wire.addr import ip_from_str


def setup(config: TcpConfig | None = None) -> tuple[Line, TcpEngine, TcpEngine]:
    line = build_line(1, delay=0.002, seed=3)
    cfg = config or TcpConfig()
    t1 = TcpEngine(ip=line.left, config=cfg, rng=random.Random(1))
    t2 = TcpEngine(ip=line.right, config=cfg, rng=random.Random(2))
    line.left.register_protocol(6, t1)
    line.right.register_protocol(6, t2)
    return line, t1, t2


def test_connect_to_a_closed_port_is_refused_by_rst() -> None:
    line, t1, _ = setup()
    sock = t1.socket()
    sock.connect(line.address("h2"), 9, now=0.0)
    line.sim.run(lambda: sock.state == "CLOSED", timeout=1.0)
    assert sock.state == "CLOSED" and line.sim.now < 0.1
    with pytest.raises(ConnectionRefusedError):
        sock.recv(now=line.sim.now)
    assert line.right.counters()["tcp_out_rsts"] == 1


def test_connect_to_an_unknown_network_fails_on_icmp_unreachable() -> None:
    line, t1, _ = setup()
    sock = t1.socket()
    sock.connect(ip_from_str("192.0.2.99"), 80, now=0.0)  # r1 has no route there
    line.sim.run(lambda: sock.state == "CLOSED", timeout=5.0)
    assert sock.state == "CLOSED" and sock.error in ("ENETUNREACH", "EHOSTUNREACH")
    assert line.left.counters()["tcp_attempt_fails"] == 1


def test_data_and_orderly_close_through_the_router() -> None:
    line, t1, t2 = setup()
    srv = t2.socket()
    srv.bind(0, 80)
    srv.listen()
    cli = t1.socket()
    cli.connect(line.address("h2"), 80, now=0.0)
    line.sim.run(lambda: bool(srv.readiness()), timeout=1.0)
    peer = srv.accept()
    cli.send(b"request", now=line.sim.now)
    cli.shutdown(now=line.sim.now)
    line.sim.run(lambda: peer.state == "CLOSE_WAIT", timeout=1.0)
    assert peer.recv(now=line.sim.now) == b"request" and peer.recv(now=line.sim.now) == b""
    peer.send(b"response", now=line.sim.now)
    peer.close(now=line.sim.now)
    line.sim.run(lambda: cli.state == "TIME_WAIT", timeout=1.0)
    assert cli.recv(now=line.sim.now) == b"response"
    line.sim.run_for(61.0)
    assert cli.state == "CLOSED" and peer.state == "CLOSED"


def test_keepalive_detects_a_dead_path() -> None:
    line, t1, t2 = setup(TcpConfig(keepalive_time=30, keepalive_intvl=5, keepalive_probes=3))
    srv = t2.socket()
    srv.bind(0, 80)
    srv.listen()
    cli = t1.socket()
    cli.connect(line.address("h2"), 80, now=0.0)
    line.sim.run(lambda: cli.state == "ESTABLISHED", timeout=1.0)
    cli.set_keepalive(True, now=line.sim.now)
    faults = FaultEngine(rng=random.Random(1))
    faults.add(FaultSpec("eth1", Effects(down=True)), now=line.sim.now)
    line.sim.set_impairment("r1", faults)
    assert line.sim.run(lambda: cli.state == "CLOSED", timeout=100.0)
    assert cli.error == "ETIMEDOUT" and 44.0 < line.sim.now < 46.0  # 30 + 3 * 5
    assert line.left.counters()["tcp_keepalive_probes"] == 3
