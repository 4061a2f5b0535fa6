"""The socket-like API: readiness, options, errors."""

from __future__ import annotations

import pytest

from nodes.stack.tcp.api import SHUT_WR, Readiness, TcpSocket
from nodes.stack.tcp.testing import Network


def pair(net: Network) -> tuple[TcpSocket, TcpSocket, TcpSocket]:
    srv = net.b.socket()
    srv.bind(net.addr_b, 80)
    srv.listen()
    cli = net.a.socket()
    cli.connect(net.addr_b, 80, now=net.now)
    assert cli.readiness() == Readiness.NONE  # SYN_SENT: nothing yet
    net.run(0.1)
    assert srv.readiness() == Readiness.READABLE
    return srv, cli, srv.accept()


def test_readiness_through_a_connection_lifetime() -> None:
    net = Network()
    _, cli, peer = pair(net)
    assert cli.readiness() == Readiness.CONNECTED | Readiness.WRITABLE
    # what apps poll every turn: the same bits as a plain int (no enum arithmetic)
    assert type(cli.ready_bits()) is int and cli.ready_bits() == 16 | 2
    cli.send(b"hi", now=net.now)
    net.run(0.1)
    assert Readiness.READABLE in peer.readiness()
    assert peer.recv(now=net.now) == b"hi"
    cli.shutdown(SHUT_WR, now=net.now)
    assert Readiness.WRITABLE not in cli.readiness()
    net.run(0.1)
    assert Readiness.READABLE in peer.readiness() and peer.recv(now=net.now) == b""
    peer.close(now=net.now)
    net.run(0.1)
    assert Readiness.HUP in cli.readiness() and cli.recv(now=net.now) == b""


def test_errors_like_sockets() -> None:
    net = Network()
    srv, cli, peer = pair(net)
    with pytest.raises(BlockingIOError):
        peer.recv(now=net.now)
    with pytest.raises(BlockingIOError):
        srv.accept()
    with pytest.raises(OSError, match="EADDRINUSE"):
        other = net.b.socket()
        other.bind(net.addr_b, 80)
        other.listen()
    with pytest.raises(OSError, match="ENOTCONN"):
        net.a.socket().recv(now=net.now)
    with pytest.raises(OSError, match="EISCONN"):
        cli.connect(net.addr_b, 80, now=net.now)
    cli.shutdown(now=net.now)
    with pytest.raises(BrokenPipeError):
        cli.send(b"x", now=net.now)
    peer.abort(now=net.now)
    net.run(0.1)
    with pytest.raises(ConnectionResetError):
        cli.recv(now=net.now)


def test_a_full_send_buffer_would_block() -> None:
    net = Network()
    _, cli, _ = pair(net)
    cli.set_buffer_sizes(sndbuf=1000)
    assert cli.send(bytes(5000), now=net.now) == 1000
    with pytest.raises(BlockingIOError):
        cli.send(b"x", now=net.now)
    assert cli.sendall_possible() == 0


def test_congestion_algorithm_per_socket() -> None:
    net = Network()
    _, cli, _ = pair(net)
    assert cli.info().congestion == "cubic"  # type: ignore[union-attr]
    cli.set_congestion("reno")
    assert cli.info().congestion == "reno"  # type: ignore[union-attr]
    with pytest.raises(ValueError, match="choose one of"):
        cli.set_congestion("vegas")


def test_ephemeral_ports_are_distinct_and_in_range() -> None:
    net = Network()
    srv = net.b.socket()
    srv.bind(net.addr_b, 80)
    srv.listen(64)
    ports = set()
    for _ in range(20):
        s = net.a.socket()
        s.connect(net.addr_b, 80, now=net.now)
        ports.add(s.local[1])
    assert len(ports) == 20 and all(32768 <= p <= 60999 for p in ports)
    net.run(0.1)
    assert len(net.b.connections()) == 20


def test_close_of_a_listener_resets_pending_children() -> None:
    net = Network()
    srv, _cli, _ = pair(net)
    cli2 = net.a.socket()
    cli2.connect(net.addr_b, 80, now=net.now)
    net.run(0.1)
    srv.close(now=net.now)
    net.run(0.1)
    assert cli2.state == "CLOSED" and cli2.error == "ECONNRESET"
    assert srv.state == "CLOSED"


def test_every_counter_the_code_uses_is_declared_and_reported() -> None:
    import re
    from pathlib import Path

    from nodes.stack.tcp.counters import COUNTERS

    root = Path(__file__).resolve().parents[2] / "nodes" / "stack" / "tcp"
    used = set()
    for path in root.rglob("*.py"):
        used |= set(re.findall(r'stats\["([a-z0-9_]+)"\]', path.read_text()))
    used |= {"sack_recoveries", "reno_recoveries", "bad_checksum", "truncated", "malformed"}
    assert used <= set(COUNTERS), used - set(COUNTERS)
    reported = Network().a.counters()
    assert set(reported) == {"tcp_" + name for name in COUNTERS}
    assert all(v == 0 for v in reported.values())
