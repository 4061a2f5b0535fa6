"""MTU faults and path MTU discovery in virtual time (h1 - r1 - h2): a router with an MTU
fault answers DF packets with ICMP frag-needed carrying the fault's MTU (decoded by scapy)
and fragments the others, the MTU comes back when the fault expires, TCP finds the path
MTU through it (also below ip_min_pmtu, and on its own host's interface), and a PMTUD
black hole stalls TCP unless it probes (RFC 4821)."""

from __future__ import annotations

import hashlib
import random

import pytest
from scapy.layers.inet import ICMP, IP, IPerror
from scapy.layers.l2 import Ether

from nodes.apps.ping import Ping
from nodes.faults import Direction, Effects, FaultEngine, FaultSpec, MtuChange
from nodes.io.simulate import Line, build_line
from nodes.stack.tcp.config import TcpConfig
from nodes.stack.tcp.testing import Transfer, line_transfer, pattern
from nodes.wire.addr import ip_from_str
from nodes.wire.icmp import UnreachCode


def with_faults(line: Line, node: str, *specs: FaultSpec) -> FaultEngine:
    engine = FaultEngine(rng=random.Random(2))
    for k, spec in enumerate(specs):
        engine.add(spec, now=line.sim.now, fault_id=f"f{k}")
    line.sim.set_impairment(node, engine)
    return engine


def ping_once(line: Line, size: int, *, df: bool) -> Ping:
    ping = Ping(line.left, line.address("h2"), size=size, df=df)
    seq = ping.send(now=line.sim.now)
    assert line.sim.run(lambda: ping.answered(seq), timeout=5)
    ping.close()
    return ping


def test_a_router_mtu_fault_refuses_df_with_frag_needed_and_fragments_the_rest() -> None:
    line = build_line(1, delay=0.001)
    engine = with_faults(line, "r1", FaultSpec("eth1", Effects(mtu=1000)))
    line.sim.capture = []
    df = ping_once(line, 1200, df=True)
    (err,) = df.errors
    assert (err.type, err.code, err.mtu) == (3, UnreachCode.FRAG_NEEDED, 1000)
    assert err.reporter == ip_from_str("10.0.0.2")  # r1's side facing h1
    # the frame on the wire, decoded by scapy: ICMP 3/4, next-hop MTU 1000, quoting the ping
    icmps = [Ether(c.frame) for c in line.sim.capture if (c.node, c.ifname) == ("r1", "eth0")]
    (frame,) = [p for p in icmps if ICMP in p and p[ICMP].type == 3]
    assert frame[IP].src == "10.0.0.2" and frame[IP].dst == "10.0.0.1"
    assert (frame[ICMP].code, frame[ICMP].nexthopmtu) == (4, 1000)
    quoted = frame[IPerror]
    assert quoted.dst == "10.0.1.2" and quoted.len == 1228 and quoted.flags.DF
    # without DF, r1 fragments to fit 1000 and h2 reassembles
    line.sim.capture = []
    plain = ping_once(line, 1200, df=False)
    assert plain.replies and plain.replies[1].size == 1200
    out = [Ether(c.frame) for c in line.sim.capture if (c.node, c.ifname) == ("r1", "eth1")]
    frags = [p[IP] for p in out if IP in p and (p[IP].flags.MF or p[IP].frag)]
    assert len(frags) == 2 and all(ip.len <= 1000 for ip in frags)
    counters = line.routers[0].counters()
    assert counters["ip_frag_fails"] == 1 and counters["ip_frag_oks"] == 1
    (info,) = engine.list()
    assert info.counters.mtu_exceeded == 2 and info.first_hit_at is not None
    assert info.counters.seen == 0  # an MTU alone never touched a frame
    engine.clear()
    assert ping_once(line, 1200, df=True).replies  # the link's own MTU is back


def test_the_mtu_comes_back_exactly_when_the_fault_expires() -> None:
    line = build_line(1)
    line.sim.run_until(1.0)
    with_faults(line, "r1", FaultSpec("*", Effects(mtu=900), duration=2.0))
    line.sim.run_until(2.0)
    r1 = line.routers[0]
    assert {i.name: i.mtu for i in r1.interfaces} == {"eth0": 900, "eth1": 900}
    assert ping_once(line, 1000, df=True).errors[0].mtu == 900
    line.sim.run_until(3.5)
    assert line.sim.mtu_log == [
        (1.0, "r1", MtuChange("eth0", 1500, 900)),
        (1.0, "r1", MtuChange("eth1", 1500, 900)),
        (3.0, "r1", MtuChange("eth0", 900, 1500)),
        (3.0, "r1", MtuChange("eth1", 900, 1500)),
    ]
    assert ping_once(line, 1000, df=True).replies


def assert_exact(result: Transfer, size: int) -> None:
    assert result.received == size
    assert result.sha256 == hashlib.sha256(pattern(size)).digest()


def test_tcp_finds_the_path_mtu_through_a_router_mtu_fault() -> None:
    size = 2 << 20
    result = line_transfer(size, faults=[FaultSpec("eth1", Effects(mtu=1000))])
    assert_exact(result, size)
    sender = result.sender
    assert sender.pmtu == 1000 and sender.mss == 1000 - 40 - 12 and not sender.pmtu_locked
    assert sender.stats["pmtu_updates"] >= 1
    (fault,) = result.line.sim.impairments["r1"].list()  # type: ignore[attr-defined]
    assert fault.counters.mtu_exceeded >= 1
    assert result.elapsed < 1.0


def test_an_mtu_fault_added_mid_transfer_then_expiring() -> None:
    def shrink(line: Line, sender: object, now: float) -> None:
        if now >= 0.05 and "r1" not in line.sim.impairments:
            with_faults(line, "r1", FaultSpec("eth1", Effects(mtu=700), duration=0.1))

    size = 8 << 20
    result = line_transfer(size, during=shrink)
    assert_exact(result, size)
    assert result.sender.pmtu == 700  # learnt; a path MTU is not raised by ICMP
    assert [c for _, _, c in result.line.sim.mtu_log] == [
        MtuChange("eth1", 1500, 700), MtuChange("eth1", 700, 1500)
    ]  # fmt: skip


def test_below_ip_min_pmtu_tcp_sends_without_df_and_the_router_fragments() -> None:
    size = 1 << 20
    result = line_transfer(size, faults=[FaultSpec("eth1", Effects(mtu=500))], timeout=10)
    assert_exact(result, size)
    sender = result.sender
    assert sender.pmtu == 552 and sender.pmtu_locked  # Linux: locked at 552, DF off
    assert sender.stats["pmtu_locked"] == 1
    assert result.line.routers[0].counters()["ip_frag_oks"] > 100


def test_an_mtu_fault_on_the_senders_own_interface() -> None:
    line = build_line(1)
    engine = with_faults(line, "h1", FaultSpec("eth0", Effects(mtu=1100)))
    assert ping_once(line, 1200, df=True).errors[0].mtu == 1100  # EMSGSIZE, locally
    assert line.left.interfaces.get("eth0").mtu == 1100
    assert ping_once(line, 3000, df=False).replies  # h1 fragments
    assert engine.list()[0].counters.mtu_exceeded == 2


def test_tcp_on_a_host_whose_own_interface_has_an_mtu_fault() -> None:
    def local(line: Line, sender: object, now: float) -> None:
        if now >= 0.1 and "h1" not in line.sim.impairments:
            with_faults(line, "h1", FaultSpec("eth0", Effects(mtu=1100)))

    size = 1 << 20
    result = line_transfer(size, during=local)
    assert_exact(result, size)
    assert result.sender.pmtu == 1100
    (fault,) = result.line.sim.impairments["h1"].list()  # type: ignore[attr-defined]
    assert fault.counters.mtu_exceeded >= 1  # the refused segments, then the PMTU update


# ---- a PMTUD black hole: r1 drops what exceeds 1000 bytes and says nothing -----------------

BLACK_HOLE = FaultSpec("eth1", Effects(blackhole_mtu=1000), Direction.EGRESS, seed=1)
SIZE = 5_000_000


def black_hole_transfer(probing: int, timeout: float) -> Transfer:
    return line_transfer(SIZE, config=TcpConfig(mtu_probing=probing), faults=[BLACK_HOLE],
                         timeout=timeout, stall_ok=True)  # fmt: skip


def test_a_black_hole_stalls_tcp_without_mtu_probing() -> None:
    result = black_hole_transfer(0, timeout=60.0)
    assert result.line.sim.now == pytest.approx(60.0)
    assert result.received == 0  # every full-sized segment vanishes
    sender = result.sender
    assert sender.state.name == "ESTABLISHED" and sender.mtup is None
    assert sender.stats["timeouts"] >= 6 and sender.retransmits >= 6
    assert sender.rtt.rto >= 12.0  # backing off: 0.2 s doubled per timeout
    assert sender.mss == 1448 and sender.pmtu == 1500  # no ICMP ever came
    (fault,) = result.line.sim.impairments["r1"].list()  # type: ignore[attr-defined]
    assert fault.counters.dropped_blackhole >= sender.total_retrans + 10  # IW + retransmits


@pytest.mark.parametrize(("probing", "within"), [(1, 15.0), (2, 10.0)])
def test_mtu_probing_gets_through_the_black_hole(probing: int, within: float) -> None:
    result = black_hole_transfer(probing, timeout=within)
    assert_exact(result, SIZE)
    sender = result.sender
    assert sender.mss + 40 + 12 <= 1000  # the final segments fit
    assert sender.mss >= 900  # and the search came close: 941 (993-byte packets)
    search = sender.mtup
    assert search is not None and search.enabled and search.low <= 1000 < search.high + 1
    stats = sender.stats
    assert stats["mtup_black_holes"] >= 1 and stats["mtup_success"] >= 1
    assert stats["mtup_fail"] >= 1  # the probes above 1000 were lost
    assert result.elapsed < within
