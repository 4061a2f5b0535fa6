"""Packetization-layer PMTUD (RFC 4821, Linux tcp_mtu_probing) with a manual clock: the
search's arithmetic (mtup.py), then a connection packetdrill style: enabling after
retries1's timeouts when 1 (at once when 2), halving toward the floor, probe sizes, a
probe's success raising ``low``, a lost probe lowering ``high`` without a congestion
response, and searching again after probe_interval."""

from __future__ import annotations

import pytest

from nodes.stack.tcp.api import TcpSocket
from nodes.stack.tcp.config import TcpConfig
from nodes.stack.tcp.connection import Connection
from nodes.stack.tcp.mtup import MtuSearch
from nodes.stack.tcp.seq import MASK
from nodes.stack.tcp.testing import Script
from nodes.wire.tcp import TcpFlags as F
from nodes.wire.tcp import TcpOptions
from nodes.wire.tcp import TcpSegment as Seg


def search(probing: int = 1, *, pmtu: int = 1500, now: float = 0.0) -> MtuSearch:
    found = MtuSearch.create(
        TcpConfig(mtu_probing=probing), clamp=1460, options=12, pmtu=pmtu, now=now
    )
    assert found is not None
    return found


# ---- the search ----------------------------------------------------------------------------
def test_off_by_default_and_where_the_search_starts() -> None:
    assert MtuSearch.create(TcpConfig(), clamp=1460, options=12, pmtu=1500, now=0.0) is None
    one = search(1)
    assert not one.enabled and one.mss_limit() is None
    assert (one.low, one.high) == (1024 + 52, 1500)  # tcp_base_mss as an MTU .. mss_clamp
    two = search(2)
    assert two.enabled and two.mss_limit() == 1024  # always on: start at base_mss
    assert search(2, pmtu=1400).high == 1400  # never above the path MTU
    assert (search(1).to_mss(1500), search(1).to_mtu(1448)) == (1448, 1500)


def test_black_holes_enable_then_halve_down_to_the_floor() -> None:
    s = search(1)
    s.black_hole(now=7.0)
    assert s.enabled and s.started == 7.0 and s.mss_limit() == 1024
    limits = []
    for _ in range(6):
        s.black_hole(now=8.0)
        limits.append(s.mss_limit())
    assert limits == [512, 256, 128, 64, 48, 48]  # tcp_mtu_probe_floor / tcp_min_snd_mss
    assert s.started == 7.0


def test_halving_never_goes_above_base_mss() -> None:
    s = MtuSearch.create(
        TcpConfig(mtu_probing=1, base_mss=512), clamp=1460, options=12, pmtu=1500, now=0.0
    )
    assert s is not None
    s.black_hole(now=0.0)
    assert s.mss_limit() == 512
    s.low = 1500  # a search that had climbed to the full size
    s.black_hole(now=1.0)
    assert s.mss_limit() == 512  # half of 1448 would be more: base_mss caps it
    s.low = 1000
    s.black_hole(now=1.0)
    assert s.mss_limit() == 474  # half of 948


def test_probe_sizes_bisect_the_range_until_the_threshold() -> None:
    s = search(2)
    sizes = []
    while (probe := s.probe_mss(1.0, s.mss_limit() or 0, 1500)) is not None:
        sizes.append(probe)
        s.sent(1000, 1000 + probe)
        assert s.probe_size == probe + 52
        if probe + 52 <= 1300:  # the path carries 1300
            s.succeeded()
        else:
            s.failed()
        assert s.probe_size == 0
    assert sizes == [1236, 1342, 1288, 1261, 1248, 1254]
    assert (s.low, s.high) == (1300, 1305)  # high - low < tcp_probe_threshold (8)


def test_resting_search_starts_over_after_the_interval() -> None:
    s = search(2, now=10.0)
    s.low, s.high = 1280, 1285
    assert s.probe_mss(609.9, 1228, 1500) is None and (s.low, s.high) == (1280, 1285)
    assert s.probe_mss(610.0, 1228, 1500) is None  # this call starts the new search
    assert (s.low, s.high, s.started) == (1280, 1500, 610.0)
    assert s.probe_mss(610.0, 1228, 1500) == s.to_mss((1500 + 1280) // 2)
    s.low, s.high = 1280, 1285
    s.probe_mss(1210.0, 1228, 1400)
    assert s.high == 1400  # a known path MTU bounds the new search


def test_the_path_mtu_bounds_the_search_and_ends_a_probe_too_big_for_it() -> None:
    s = search(2)
    s.sent(0, 1300)
    s.path_mtu(1200)
    assert s.high == 1200 and s.probe_size == 0


# ---- a connection --------------------------------------------------------------------------
def connection(probing: int, **cfg: object) -> tuple[Script, TcpSocket, Connection, int]:
    s = Script(TcpConfig(mtu_probing=probing, **cfg))  # type: ignore[arg-type]
    sock, iss = s.accept_connection(options=TcpOptions(mss=1460, sack_permitted=True))
    conn = sock.connection
    assert conn is not None
    sock.send(bytes(400_000), now=0.0)
    return s, sock, conn, iss + 1


def ack(s: Script, upto: int, sack: tuple[tuple[int, int], ...] = ()) -> list[Seg]:
    blocks = tuple((a & MASK, b & MASK) for a, b in sack)
    s.inject(F.ACK, seq=1001, ack=upto, options=TcpOptions(sack_blocks=blocks) if sack else None)
    return [x for x in s.out() if x.payload]


def test_probing_1_enables_after_retries1_timeouts_then_halves() -> None:
    s, _sock, conn, base = connection(1, tlp=False)
    first = [x for x in s.out() if x.payload]
    assert {len(x.payload) for x in first} == {1460} and conn.mtup is not None
    assert not conn.mtup.enabled
    sizes = []
    while (deadline := s.deadline()) is not None and deadline < 20.0:
        s.advance(deadline)
        sizes += [(round(s.now, 3), len(x.payload)) for x in s.out() if x.payload]
    # RTOs 0.2, 0.4, 0.8, ... from the first retransmission at 0.2: 3 s (tcp_retries1 = 3
    # with rto_min 200 ms) have passed at the RTO of 6.2 s: search on, MSS base_mss; the
    # next RTO halves it
    assert sizes == [(0.2, 1460), (0.6, 1460), (1.4, 1460), (3.0, 1460), (6.2, 1024),
                     (12.6, 512)]  # fmt: skip
    assert conn.mtup.enabled and conn.mss == 512
    assert all(x.seq == base for x in s.out())
    assert s.engine.counters()["tcp_mtup_black_holes"] == 2


def test_probing_0_keeps_the_mss_through_timeouts() -> None:
    s, _sock, conn, _base = connection(0)
    s.out()
    s.advance(30.0)
    assert conn.mtup is None and conn.mss == 1460
    assert {len(x.payload) for x in s.out()} == {1460}


def grow_until_probe(s: Script, conn: Connection, base: int) -> tuple[Seg, list[Seg]]:
    """ACK segment by segment until a segment larger than the MSS (the probe) goes out."""
    out = [x for x in s.out() if x.payload]
    assert {len(x.payload) for x in out} == {1024}  # probing 2: base_mss from the start
    una = base
    while True:
        una += 1024
        out = ack(s, una)
        probes = [x for x in out if len(x.payload) > conn.mss]
        if probes:
            (probe,) = probes
            return probe, out[out.index(probe) + 1 :]


def test_a_probe_goes_out_with_more_data_behind_it_and_its_ack_raises_the_mss() -> None:
    s, sock, conn, base = connection(2)
    probe, behind = grow_until_probe(s, conn, base)
    search = conn.mtup
    assert search is not None
    assert len(probe.payload) == search.to_mss((1500 + 1064) // 2) == 1242
    assert search.probe_size == 1282 and search.probe_start == probe.seq
    assert all(len(x.payload) == 1024 for x in behind)
    assert conn.sndbuf.end - probe.seq - 1242 >= 4 * 1024  # data behind it (reordering + 1)
    assert conn.cc.cwnd >= 11 * 1024
    cwnd = conn.cc.cwnd
    out = ack(s, probe.seq + len(probe.payload))
    assert (search.low, search.high) == (1282, 1500)
    assert conn.mss == 1242 and conn.cc.cwnd >= cwnd  # the same bytes, fewer segments
    # and the next probe bisects the upper half at once
    assert [len(x.payload) for x in out if len(x.payload) > 1242] == [1351]
    assert search.probe_size == 1391
    counters = s.engine.counters()
    assert counters["tcp_mtup_probes"] == 2 and counters["tcp_mtup_success"] == 1
    info = sock.info()
    assert info is not None and info.ssthresh is None and info.ca_state == "open"


def test_a_lost_probe_lowers_the_ceiling_and_only_the_probe_is_resent() -> None:
    s, sock, conn, base = connection(2)
    probe, behind = grow_until_probe(s, conn, base)
    search = conn.mtup
    assert search is not None
    start, end = probe.seq, probe.seq + len(probe.payload)
    ack(s, start)  # everything before the probe
    out: list[Seg] = []
    for k in range(1, 4):  # the segments behind it arrive: SACKed
        out += ack(s, start, sack=((end, end + k * 1024),))
    assert (search.low, search.high, search.probe_size) == (1064, 1281, 0)
    resent = [(x.seq, len(x.payload)) for x in out if x.seq < end]
    assert resent == [(start, 1024), (start + 1024, 218)]  # in current segments
    info = sock.info()
    assert info is not None and info.ssthresh is None  # no congestion response
    assert info.ca_state == "loss" and conn.mss == 1024
    assert s.engine.counters()["tcp_mtup_fail"] == 1
    assert behind  # (data followed the probe: that is how its loss showed)
    ack(s, end + 3 * 1024)
    assert sock.info().ca_state == "open"  # type: ignore[union-attr]
    # the next probe bisects the lower range
    assert search.probe_mss(s.now, conn.mss, conn.pmtu) == search.to_mss((1281 + 1064) // 2)


def test_a_resting_search_probes_again_after_the_interval() -> None:
    s, _sock, conn, base = connection(2)
    search = conn.mtup
    assert search is not None
    search.low, search.high = 1064, 1068  # a range below the threshold: resting
    una = base
    s.out()
    for _ in range(15):
        una += 1024
        assert all(len(x.payload) == 1024 for x in ack(s, una))
    s.now = 600.0  # tcp_probe_interval after the search started (at 0)
    probes = []
    for _ in range(30):
        una += 1024
        probes += [x for x in ack(s, una) if len(x.payload) > 1024]
        if probes:
            break
    assert search.started == pytest.approx(600.0) and search.high == 1500
    assert len(probes[0].payload) == search.to_mss((1500 + 1064) // 2)
