"""host - r1 - r2 - host: ping, traceroute, fragmentation, DF, ARP failure, errors."""

from __future__ import annotations

from functools import partial

from nodes.apps.ping import Ping
from nodes.apps.traceroute import Traceroute
from nodes.io.simulate import build_line
from nodes.wire.addr import ip_from_str
from nodes.wire.icmp import IcmpType, TimeExceededCode, UnreachCode


def test_ping_works_both_ways() -> None:
    line = build_line(2, delay=0.005)
    sim = line.sim
    for a, b in ((line.left, line.right), (line.right, line.left)):
        ping = Ping(a, b.interfaces.get("eth0").address)
        seq = ping.send(now=sim.now)
        assert sim.run(partial(ping.answered, seq), timeout=5)
        reply = ping.replies[seq]
        assert reply.src == b.interfaces.get("eth0").address
        assert reply.ttl == 64 - 2
        assert reply.size == 56
        ping.close()
    # second ping: ARP is cached, the RTT is exactly 3 links x 2 directions x 5 ms
    ping = Ping(line.left, line.address("h2"))
    seq = ping.send(now=sim.now)
    assert sim.run(lambda: ping.answered(seq), timeout=5)
    assert abs(ping.replies[seq].rtt - 0.030) < 1e-9


def test_periodic_ping_driven_by_host_timers() -> None:
    line = build_line(1)
    ping = Ping(line.left, line.address("h2"))
    ping.start(4, now=0.0, interval=1.0)
    line.sim.run_until(3.5)
    assert sorted(ping.replies) == [1, 2, 3, 4]
    assert [round(ping.sent[s], 6) for s in sorted(ping.sent)] == [0.0, 1.0, 2.0, 3.0]


def test_ping_record_route_lists_each_hop() -> None:
    line = build_line(2)
    ping = Ping(line.left, line.address("h2"), record_route=True)
    seq = ping.send(now=0.0)
    assert line.sim.run(lambda: ping.answered(seq), timeout=5)
    ip = ip_from_str
    assert ping.replies[seq].route == (
        ip("10.0.1.1"),
        ip("10.0.2.1"),
        ip("10.0.2.2"),
        ip("10.0.1.2"),
        ip("10.0.0.2"),
    )


def test_traceroute_udp_and_icmp_list_every_router() -> None:
    for method in ("udp", "icmp"):
        line = build_line(2)
        tr = Traceroute(line.left, line.address("h2"), method=method, probes=2)
        tr.start(now=0.0)
        assert line.sim.run(partial(getattr, tr, "done"), timeout=60)
        assert tr.hops() == [ip_from_str("10.0.0.2"), ip_from_str("10.0.1.2"), line.address("h2")]
        last = tr.results[-1]
        if method == "udp":
            assert (last.type, last.code) == (IcmpType.DEST_UNREACH, UnreachCode.PORT)
        else:
            assert last.type == IcmpType.ECHO_REPLY
        assert [p.type for p in tr.results[:4]] == [IcmpType.TIME_EXCEEDED] * 4


def test_ttl_expiry_reported_by_the_right_router() -> None:
    line = build_line(3)
    ping = Ping(line.left, line.address("h2"), ttl=2)
    seq = ping.send(now=0.0)
    assert line.sim.run(lambda: ping.answered(seq), timeout=5)
    (err,) = ping.errors
    assert (err.type, err.code) == (IcmpType.TIME_EXCEEDED, TimeExceededCode.TTL)
    assert err.reporter == ip_from_str("10.0.1.2")  # r2, toward the sender
    assert line.node("r2").counters()["ip_forw_ttl_exceeded"] == 1
    assert line.node("r2").counters()["icmp_out_time_excds"] == 1


def test_no_route_gives_net_unreachable() -> None:
    line = build_line(2)
    ping = Ping(line.left, ip_from_str("192.0.2.1"))
    seq = ping.send(now=0.0)
    assert line.sim.run(lambda: ping.answered(seq), timeout=5)
    (err,) = ping.errors
    assert (err.type, err.code, err.reporter) == (3, UnreachCode.NET, ip_from_str("10.0.0.2"))
    assert line.routers[0].counters()["ip_in_no_route"] == 1
    # the sender itself with no route at all: send_ip says False, counted
    line.left.fib.remove(0, 0)
    assert not line.left.send_ip(ip_from_str("192.0.2.1"), 17, b"x" * 8, now=line.sim.now)
    assert line.left.counters()["ip_out_no_routes"] == 1


def test_arp_failure_gives_host_unreachable_after_retries() -> None:
    line = build_line(1)
    absent = ip_from_str("10.0.1.99")  # on r1's right subnet, nobody there
    ping = Ping(line.left, absent)
    seq = ping.send(now=0.0)
    assert line.sim.run(lambda: ping.answered(seq), timeout=10)
    (err,) = ping.errors
    assert (err.type, err.code) == (IcmpType.DEST_UNREACH, UnreachCode.HOST)
    assert err.reporter == ip_from_str("10.0.0.2")
    assert abs(err.time - 3.0) < 1e-9  # 3 probes 1 s apart, failure 1 s after the last
    r1 = line.routers[0].counters()
    assert r1["arp_resolution_failed"] == 1
    assert r1["arp_failed_packets"] == 1
    assert r1["icmp_out_dest_unreachs"] == 1


def test_arp_failure_on_the_sending_host_reaches_its_own_listener() -> None:
    line = build_line(1)
    ping = Ping(line.left, ip_from_str("10.0.0.77"))  # own subnet, absent
    seq = ping.send(now=0.0)
    assert line.sim.run(lambda: ping.answered(seq), timeout=10)
    assert [(e.type, e.code) for e in ping.errors] == [(3, UnreachCode.HOST)]
    assert ping.errors[0].reporter == line.address("h1")


def test_udp_to_closed_port_gives_port_unreachable() -> None:
    line = build_line(2)
    ep = line.left.udp.bind(5000)
    assert ep.sendto(b"hello", (line.address("h2"), 9), now=0.0)
    assert line.sim.run(lambda: bool(ep.errors), timeout=5)
    err = ep.errors[0]
    assert (err.type, err.code, err.dst) == (3, UnreachCode.PORT, (line.address("h2"), 9))
    assert line.right.counters()["udp_no_ports"] == 1
    # and to an open one it is delivered
    server = line.right.udp.bind(9)
    assert ep.sendto(b"hello", (line.address("h2"), 9), now=line.sim.now)
    assert line.sim.run(lambda: bool(server.queue), timeout=5)
    assert server.recvfrom() == (b"hello", (line.address("h1"), 5000))
