"""Match: protocol / prefix / port selectors read at fixed offsets; ARP passes."""

from __future__ import annotations

import random
from typing import Any

import pytest
from scapy.layers.inet import ICMP, IP, TCP, UDP
from scapy.layers.l2 import ARP, Ether

from nodes.faults import Direction, Effects, FaultEngine, FaultSpec, Match


def ether() -> Ether:
    return Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02")


def ip_frame(layer4: Any, src: str = "10.0.0.1", dst: str = "10.0.1.2", **ip: Any) -> bytes:
    return bytes(ether() / IP(src=src, dst=dst, **ip) / layer4)


TCP_80 = ip_frame(TCP(sport=40000, dport=80))
UDP_53 = ip_frame(UDP(sport=5353, dport=53), dst="192.168.7.9")
ICMP_ECHO = ip_frame(ICMP())
ARP_REQ = bytes(ether() / ARP(psrc="10.0.0.1", pdst="10.0.0.2"))
TCP_OPTS = ip_frame(TCP(sport=40000, dport=80), options=b"\x01\x01\x01\x00")  # ihl 6


@pytest.mark.parametrize(
    ("match", "hits"),
    [
        (Match.of(protocol="tcp"), {"tcp80", "tcpopts"}),
        (Match.of(protocol="udp"), {"udp53"}),
        (Match.of(protocol="icmp"), {"icmp"}),
        (Match.of(protocol=1), {"icmp"}),
        (Match.of(dst="192.168.0.0/16"), {"udp53"}),
        (Match.of(dst="10.0.1.0/24"), {"tcp80", "icmp", "tcpopts"}),
        (Match.of(src="10.0.0.1"), {"tcp80", "udp53", "icmp", "tcpopts"}),
        (Match.of(src="10.0.0.2"), set()),
        (Match.of(src="0.0.0.0/0"), {"tcp80", "udp53", "icmp", "tcpopts"}),
        (Match.of(dst_port=80), {"tcp80", "tcpopts"}),  # found past IPv4 options too
        (Match.of(dst_port=53), {"udp53"}),
        (Match.of(src_port=5353, protocol="udp"), {"udp53"}),
        (Match.of(src_port=5353, protocol="tcp"), set()),
        (Match.of(protocol="tcp", dst_port=81), set()),
        (
            Match.of(protocol="tcp", src="10.0.0.0/24", dst="10.0.1.0/24", dst_port=80),
            {"tcp80", "tcpopts"},
        ),
    ],
)
def test_match_selects_frames(match: Match, hits: set[str]) -> None:
    frames = {
        "tcp80": TCP_80,
        "udp53": UDP_53,
        "icmp": ICMP_ECHO,
        "arp": ARP_REQ,
        "tcpopts": TCP_OPTS,
    }
    assert {name for name, frame in frames.items() if match.matches(frame)} == hits


def test_later_fragments_have_no_ports() -> None:
    first = ip_frame(UDP(sport=1, dport=53) / (b"x" * 16), flags="MF")
    later = ip_frame(b"y" * 16, proto=17, frag=2)
    assert Match.of(dst_port=53).matches(first)
    assert not Match.of(dst_port=53).matches(later)
    assert Match.of(protocol="udp").matches(later)


def test_short_and_foreign_frames_do_not_match() -> None:
    match = Match.of(protocol="tcp")
    assert not match.matches(TCP_80[:30])
    assert not match.matches(b"")
    ipv6ish = TCP_80[:12] + b"\x86\xdd" + TCP_80[14:]
    assert not match.matches(ipv6ish)
    header_only = ip_frame(b"", proto=6)  # TCP by number, but no room for ports
    assert match.matches(header_only)
    assert not Match.of(dst_port=80).matches(header_only)


def test_arp_only_meets_faults_without_a_match() -> None:
    engine = FaultEngine(rng=random.Random(1))
    engine.add(
        FaultSpec("eth0", Effects(loss=1.0), Direction.EGRESS, match=Match.of(protocol="icmp")),
        now=0.0,
    )
    assert engine.process("eth0", Direction.EGRESS, ARP_REQ, now=0.0) == [(0.0, ARP_REQ)]
    assert engine.process("eth0", Direction.EGRESS, ICMP_ECHO, now=0.0) == []
    assert engine.process("eth0", Direction.EGRESS, TCP_80, now=0.0) == [(0.0, TCP_80)]
    engine.add(FaultSpec("eth0", Effects(loss=1.0), Direction.EGRESS), now=0.0)
    assert engine.process("eth0", Direction.EGRESS, ARP_REQ, now=0.0) == []
    counters = [info.counters for info in engine.list()]
    assert [(c.seen, c.matched, c.dropped) for c in counters] == [(4, 1, 1), (1, 1, 1)]
