"""ICMP error policy end to end: rate limiting, no error about an error, counters."""

from __future__ import annotations

from nodes.io.simulate import build_line
from nodes.stack.config import StackConfig
from nodes.wire.icmp import IcmpType, UnreachCode, build_error
from nodes.wire.ipv4 import IPProto, build_ipv4
from nodes.wire.udp import build_udp


def test_icmp_rate_limit_caps_port_unreachables() -> None:
    line = build_line(1)
    ep = line.left.udp.bind(5000)
    dst = (line.address("h2"), 9)
    for _ in range(20):
        ep.sendto(b"x", dst, now=0.0)
    line.sim.run_until(0.5)
    h2 = line.right.counters()
    assert h2["udp_no_ports"] == 20
    assert h2["icmp_out_dest_unreachs"] == 6  # Linux burst: 6 x icmp_ratelimit
    assert h2["icmp_out_ratelimit_host"] == 14
    assert len(ep.errors) == 6
    line.sim.run_until(2.5)
    for _ in range(5):  # 2 s later: two more tokens
        ep.sendto(b"x", dst, now=2.5)
    line.sim.run_until(3.0)
    assert line.right.counters()["icmp_out_dest_unreachs"] == 8


def test_rate_limit_is_configurable() -> None:
    line = build_line(1, host_config=StackConfig(icmp_ratemask=0))
    ep = line.left.udp.bind(5000)
    for _ in range(20):
        ep.sendto(b"x", (line.address("h2"), 9), now=0.0)
    line.sim.run_until(0.5)
    assert line.right.counters()["icmp_out_dest_unreachs"] == 20


def test_no_icmp_error_about_an_icmp_error() -> None:
    line = build_line(2)
    h1, h2 = line.address("h1"), line.address("h2")
    inner = build_ipv4(src=h2, dst=h1, proto=IPProto.UDP, payload=build_udp(h2, h1, 1, 2, b""))
    err = build_error(IcmpType.DEST_UNREACH, UnreachCode.PORT, inner)
    line.left.send_ip(h2, IPProto.ICMP, err, now=0.0, ttl=1)  # expires at r1
    line.left.send_ip(line.address("r2", "eth1") + 50, IPProto.ICMP, err, now=0.0)  # ARP fails
    line.sim.run_until(10.0)
    r1, r2 = line.routers[0].counters(), line.routers[1].counters()
    assert r1["ip_forw_ttl_exceeded"] == 1
    assert r1["icmp_error_suppressed_icmp_error"] == 1 and r1["icmp_out_time_excds"] == 0
    assert r2["arp_resolution_failed"] == 1 and r2["icmp_error_suppressed_icmp_error"] == 1
    assert line.left.counters()["icmp_in_msgs"] == 0


def test_no_error_about_broadcast_or_non_first_fragment() -> None:
    line = build_line(1)
    h1 = line.address("h1")
    bcast = 0x0A0000FF  # 10.0.0.255, the h1-r1 subnet broadcast
    seg = build_udp(h1, bcast, 1000, 9, b"x")
    line.left.send_ip(bcast, IPProto.UDP, seg, now=0.0)
    frag = build_ipv4(
        src=h1, dst=line.address("r1"), proto=250, payload=bytes(16), frag_offset=8, ident=5
    )
    first = build_ipv4(
        src=h1, dst=line.address("r1"), proto=250, payload=bytes(8), mf=True, ident=5
    )
    for raw in (first, frag):
        line.left.arp.output(line.left.interfaces.get("eth0"), line.address("r1"), raw, now=0.0)
    line.sim.run_until(1.0)
    r1 = line.routers[0].counters()
    assert r1["udp_no_ports"] == 1 and r1["icmp_error_suppressed_broadcast"] == 1
    assert r1["ip_reasm_oks"] == 1 and r1["ip_in_unknown_protos"] == 1
    assert r1["icmp_out_dest_unreachs"] == 1  # protocol unreachable about the whole datagram


def test_counters_cover_header_errors() -> None:
    line = build_line(1)
    r1 = line.routers[0]
    iface = r1.interfaces.get("eth0")
    good = bytearray(
        build_ipv4(src=line.address("h1"), dst=line.address("h2"), proto=17, payload=bytes(8))
    )
    bad_csum = bytes(good[:10]) + b"\x00\x00" + bytes(good[12:])
    short = bytes(good[:-4])
    bad_version = b"\x65" + bytes(good[1:])
    bad_option = build_ipv4(
        src=line.address("h1"),
        dst=line.address("h2"),
        proto=17,
        payload=bytes(8),
        options=b"\x07\x02\x04\x00",
    )
    h1_mac = line.left.interfaces.get("eth0").mac
    for raw in (bad_csum, short, bad_version, bad_option):
        frame = iface.mac + h1_mac + b"\x08\x00" + raw
        r1.receive_frame("eth0", frame, now=0.0)
    r1.receive_frame("eth0", b"\x00" * 10, now=0.0)
    r1.receive_frame("eth0", b"\x02" * 6 + h1_mac + b"\x08\x00" + bytes(good), now=0.0)
    c = r1.counters()
    assert c["ip_in_csum_errors"] == 1
    assert c["ip_in_truncated_pkts"] == 1
    assert c["ip_in_hdr_errors"] == 3  # checksum, version, option
    assert c["ip_in_bad_options"] == 1 and c["icmp_out_parm_probs"] == 1
    assert c["eth_in_truncated"] == 1 and c["eth_in_other_host"] == 1
    assert c["ip_forw_datagrams"] == 0
