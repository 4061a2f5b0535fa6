"""UDP endpoints: bind, ephemeral ports, checksum and queue drops."""

from __future__ import annotations

import pytest

from nodes.io.simulate import build_line
from nodes.stack.host import Host
from nodes.wire.ipv4 import build_ipv4, parse_ipv4
from nodes.wire.udp import build_udp


def test_bind_rules_and_ephemeral_ports() -> None:
    h = Host("h")
    ep = h.udp.bind(53)
    with pytest.raises(ValueError, match="already bound"):
        h.udp.bind(53)
    e1, e2 = h.udp.bind(), h.udp.bind()
    assert 32768 <= e1.port <= 60999 and e1.port != e2.port
    ep.close()
    assert h.udp.bind(53).port == 53


def test_checksum_error_and_rcvbuf_counted() -> None:
    h = Host("h")
    h.add_interface("eth0", "02:00:00:00:00:01", "10.0.0.1", 24)
    ep = h.udp.bind(9)
    ep.rcvbuf = 1
    seg = bytearray(build_udp(0x0A000002, 0x0A000001, 1, 9, b"hi"))
    good = parse_ipv4(build_ipv4(src=0x0A000002, dst=0x0A000001, proto=17, payload=bytes(seg)))
    seg[-1] ^= 0xFF
    bad = parse_ipv4(build_ipv4(src=0x0A000002, dst=0x0A000001, proto=17, payload=bytes(seg)))
    h.udp.on_packet(bad, now=0.0)
    h.udp.on_packet(good, now=0.0)
    h.udp.on_packet(good, now=0.0)
    c = h.counters()
    assert c["udp_in_csum_errors"] == 1 and c["udp_in_datagrams"] == 1
    assert c["udp_rcvbuf_errors"] == 1 and c["udp_in_errors"] == 2
    assert ep.recvfrom() == (b"hi", (0x0A000002, 1)) and ep.recvfrom() is None


def test_sendto_without_route_is_false() -> None:
    line = build_line(1)
    ep = line.left.udp.bind(1)
    line.left.fib.remove(0, 0)
    assert not ep.sendto(b"x", (0x08080808, 53), now=0.0)
    assert line.left.counters()["udp_out_no_route"] == 1
