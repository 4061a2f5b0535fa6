"""An endpoint's receive buffer (bytes, shared by its data and error queues) is bounded:
datagrams to a socket nobody reads, and ICMP errors about what it sent, stop at
``rcvbuf`` with their drops counted, and memory stays flat."""

from __future__ import annotations

import random

import pytest

from nodes.stack.config import StackConfig
from nodes.stack.host import Host
from nodes.stack.udp import ERR_COST, RCV_OVERHEAD
from nodes.wire.icmp import IcmpType, UnreachCode, build_error
from nodes.wire.ipv4 import build_ipv4, parse_ipv4
from nodes.wire.udp import build_udp
from tests.floodkit import ip_frame, measure, run_timers

ME, PEER = 0x0A000001, 0x0A000002


def host(**cfg: object) -> Host:
    h = Host("h1", config=StackConfig(**cfg), rng=random.Random(1))  # type: ignore[arg-type]
    h.add_interface("eth0", "02:00:00:00:00:01", "10.0.0.1", 24)
    h.frames_to_send()
    return h


def datagram(src: int, sport: int, payload: bytes, dport: int = 9) -> bytes:
    return build_ipv4(src=src, dst=ME, proto=17, payload=build_udp(src, ME, sport, dport, payload))


def test_receive_buffer_is_bytes_and_an_empty_queue_takes_one() -> None:
    h = host(udp_rmem_default=2 * (100 + RCV_OVERHEAD))
    ep = h.udp.bind(9)
    for _ in range(3):
        h.udp.on_packet(parse_ipv4(datagram(PEER, 1, b"x" * 100)), now=0.0)
    assert len(ep.queue) == 2 and h.counters()["udp_rcvbuf_errors"] == 1
    assert ep.recvfrom() is not None and ep.rmem == 100 + RCV_OVERHEAD
    ep.rcvbuf = 10  # smaller than one datagram: still one at a time
    ep.recvfrom()
    h.udp.on_packet(parse_ipv4(datagram(PEER, 1, b"y" * 1000)), now=0.0)
    assert len(ep.queue) == 1


def port_unreachable(ep_port: int, dst: int) -> bytes:
    sent = build_ipv4(src=ME, dst=dst, proto=17, payload=build_udp(ME, dst, ep_port, 53, b"q"))
    err = build_error(IcmpType.DEST_UNREACH, UnreachCode.PORT, sent)
    return build_ipv4(src=dst, dst=ME, proto=1, payload=err)


def test_error_queue_shares_the_buffer_and_drops_beyond() -> None:
    h = host(udp_rmem_default=3 * ERR_COST)
    ep = h.udp.bind(5353)
    for k in range(5):
        h.receive_frame("eth0", ip_frame(h, "eth0", port_unreachable(5353, PEER + k)), now=0.0)
    assert len(ep.errors) == 3 and h.counters()["udp_errqueue_drops"] == 2
    first = ep.recv_error()
    assert first is not None and first.dst == (PEER, 53) and ep.rmem == 2 * ERR_COST


def test_flood_to_a_socket_nobody_reads_keeps_memory_flat() -> None:
    """20,000 datagrams (0..1400 bytes, random sources) to a bound socket, and 20,000
    ICMP errors about what it sent: both queues stop at the receive buffer."""
    h = host()
    ep = h.udp.bind(9)
    rng = random.Random(17)
    frames = []
    for k in range(20_000):
        src = 0x0A000000 | rng.randrange(2, 250)
        if k % 2:
            raw = datagram(src, rng.randrange(1024, 65536), rng.randbytes(rng.randrange(1400)))
        else:
            raw = port_unreachable(9, src)
        frames.append(ip_frame(h, "eth0", raw))

    def flood(start: int, stop: int) -> None:
        for k in range(start, stop):
            now = k / 1000
            h.receive_frame("eth0", frames[k], now=now)
            run_timers(h, now)
            assert ep.rmem <= ep.rcvbuf + 1400 + RCV_OVERHEAD

    growth = measure(flood, 10_000)
    c = h.counters()
    assert c["udp_rcvbuf_errors"] > 9_000 and c["udp_errqueue_drops"] > 9_000
    assert growth.total < 2 * h.config.udp_rmem_default, growth  # the charge is honest
    growth.assert_flat()


def test_the_number_of_bound_sockets_is_bounded() -> None:
    h = host(udp_max_sockets=3)
    eps = [h.udp.bind() for _ in range(3)]
    with pytest.raises(ValueError, match="udp_max_sockets"):
        h.udp.bind(53)
    eps[0].close()
    assert h.udp.bind(53).port == 53
