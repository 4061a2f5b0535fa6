"""Congestion control: the registry, Reno and CUBIC window trajectories, in isolation and
inside a connection on a bottleneck link."""

from __future__ import annotations

import contextlib
import itertools

import pytest

from nodes.stack.tcp import congestion
from nodes.stack.tcp.config import TcpConfig
from nodes.stack.tcp.congestion import INFINITE_SSTHRESH, Cubic, Reno
from nodes.stack.tcp.testing import Network, Packet

MSS = 1000


def test_registry() -> None:
    assert isinstance(congestion.create("cubic", MSS), Cubic)
    assert isinstance(congestion.create("reno", MSS), Reno)
    with pytest.raises(ValueError, match="choose one of"):
        congestion.create("bbr", MSS)


def test_reno_slow_start_congestion_avoidance_and_loss() -> None:
    cc = Reno(MSS)
    assert (cc.cwnd, cc.ssthresh) == (10 * MSS, INFINITE_SSTHRESH)
    cc.on_ack(MSS, now=0, rtt=0.1, cwnd_limited=True)
    assert cc.cwnd == 11 * MSS
    cc.on_ack(MSS, now=0, rtt=0.1, cwnd_limited=False)  # application-limited: no growth
    assert cc.cwnd == 11 * MSS
    cc.ssthresh = 12 * MSS
    cc.on_ack(3 * MSS, now=0, rtt=0.1, cwnd_limited=True)  # SS to ssthresh, rest to CA
    assert cc.cwnd == 12 * MSS and cc.acc == 2 * MSS
    trajectory = []
    for _ in range(3):  # congestion avoidance: +1 MSS per window of ACKed bytes
        for _ in range(cc.cwnd // MSS):
            cc.on_ack(MSS, now=0, rtt=0.1, cwnd_limited=True)
        trajectory.append(cc.cwnd // MSS)
    assert trajectory == [13, 14, 15]
    cc.on_congestion(now=0)
    assert cc.ssthresh == 7500
    cc.on_timeout(now=0)
    assert cc.cwnd == MSS and cc.ssthresh == 7500  # the loss window; ssthresh = cwnd/2


def run_rounds(cc: Cubic, rounds: int, rtt: float, t0: float) -> list[tuple[float, float]]:
    """ACK a full window per RTT; returns (time since t0, cwnd in segments) per round."""
    out = []
    now = t0
    for _ in range(rounds):
        for _ in range(max(cc.cwnd // MSS, 1)):
            cc.on_ack(MSS, now=now, rtt=rtt, cwnd_limited=True)
        now += rtt
        out.append((now - t0, cc.cwnd / MSS))
    return out


def test_cubic_decrease_07_and_concave_then_convex_growth_around_k() -> None:
    cc = Cubic(MSS)
    cc.cwnd, cc.seg, cc.ssthresh = 100 * MSS, 100.0, 100 * MSS
    cc.on_congestion(now=10.0)
    cc.cwnd = cc.ssthresh
    cc.seg = cc.cwnd / MSS
    assert cc.ssthresh == 70 * MSS and cc.w_max == 100
    k = (100 * 0.3 / 0.4) ** (1 / 3)
    traj = run_rounds(cc, 100, 0.1, 10.0)
    assert cc.k == pytest.approx(k, rel=1e-6)  # 4.217 s

    def at(t: float) -> float:
        return min(traj, key=lambda p: abs(p[0] - t))[1]

    assert 70 < at(1.0) < at(2.0) < at(3.0) < 100
    assert (at(2.0) - at(1.0)) > (at(4.0) - at(3.0))  # concave: slowing toward W_max
    assert at(k) == pytest.approx(100, abs=1.5)  # plateau at W_max at t = K
    assert (at(8.0) - at(7.0)) > (at(6.0) - at(5.0)) > 0  # convex: probing beyond
    expected = 0.4 * (9.0 - k) ** 3 + 100
    assert at(9.0) == pytest.approx(expected, rel=0.05)  # W(t) = C(t-K)^3 + W_max


def test_cubic_fast_convergence_and_reno_friendly_region() -> None:
    cc = Cubic(MSS)
    cc.cwnd = 100 * MSS
    cc.on_congestion(now=0)
    cc.cwnd = 80 * MSS  # the next loss comes before W_max is reached again
    cc.on_congestion(now=1)
    assert cc.w_max == pytest.approx(80 * (1 + 0.7) / 2)
    small = Cubic(MSS)  # tiny window, long RTT: CUBIC is at least as fast as Reno
    small.cwnd = 10 * MSS
    small.on_congestion(now=0)
    small.cwnd = small.ssthresh
    small.seg = small.cwnd / MSS
    traj = run_rounds(small, 20, 1.0, 0.0)
    assert traj[-1][1] >= 7 + 20 * 3 * 0.3 / 1.7 - 1


Point = tuple[float, int, int, str]  # time, cwnd, ssthresh (0: infinite), ca_state


def bottleneck_trajectory(cc_name: str, lose_at: int) -> list[Point]:
    """1 MB/s bottleneck, 20 ms RTT; packet number ``lose_at`` from a to b is dropped."""
    net = Network(delay=0.010, rate=1_000_000,
                  config_a=TcpConfig(congestion=cc_name, sack=True, timestamps=False))  # fmt: skip
    counter = {"n": 0}

    def drop_one(now: float, pkt: Packet) -> list[tuple[float, bytes]]:
        if pkt.src == net.addr_a and len(pkt.payload) > 100:
            counter["n"] += 1
            if counter["n"] == lose_at:
                return []
        return [(0.0, bytes(pkt.payload))]

    net.filter = drop_one
    srv = net.b.socket()
    srv.bind(net.addr_b, 80)
    srv.listen()
    cli = net.a.socket()
    cli.connect(net.addr_b, 80, now=0.0)
    net.run(0.05)
    peer = srv.accept()
    total = 1_500_000
    queued = cli.send(bytes(65536), now=net.now)
    traj = []
    while net.step(10.0):
        if queued < total and cli.sendall_possible():
            queued += cli.send(bytes(min(total - queued, 65536)), now=net.now)
        info = cli.info()
        assert info is not None
        traj.append((net.now, info.cwnd, info.ssthresh or 0, info.ca_state))
        with contextlib.suppress(BlockingIOError):
            peer.recv(1 << 20, now=net.now)
        if info.bytes_acked >= total:
            break
    return traj


def changes(traj: list[Point]) -> list[Point]:
    out: list[Point] = []
    for point in traj:
        if not out or point[1:] != out[-1][1:]:
            out.append(point)
    return out


def test_reno_trajectory_in_a_connection() -> None:
    steps = changes(bottleneck_trajectory("reno", lose_at=40))
    before = [c for _, c, s, _ in steps if not s]
    assert before[0] == 10 and before[-1] == 49  # IW10, slow start up to the loss
    assert all(s == 24 for _, _, s, _ in steps if s)  # 49 // 2
    # PRR (RFC 6937): in recovery cwnd = pipe + sndcnt; with pipe > ssthresh one segment
    # goes out per two delivered (ssthresh/RecoverFS = 24/49), so cwnd falls one segment
    # at a time from 49 toward 24 over about one RTT, never below ssthresh (was: a step
    # from 49 to 24 on entering recovery)
    rec = [c for _, c, s, ca in steps if ca == "recovery"]
    assert rec[0] == 48 and rec[-1] >= 24 and len(rec) >= 20
    assert all(c1 == c0 - 1 for c0, c1 in itertools.pairwise(rec))
    after = [(t, c) for t, c, s, ca in steps if s and ca == "open"]
    assert after[0][1] == 24  # recovery ends at ssthresh (tcp_end_cwnd_reduction)
    # congestion avoidance: +1 segment per RTT; the RTT is 20 ms + the queue (1 ms/segment)
    for (t0, c0), (t1, c1) in itertools.pairwise(after[1:]):
        assert c1 == c0 + 1
        rtt = 0.020 + c0 * 0.001
        assert 0.7 * rtt < t1 - t0 < 1.4 * rtt
    assert after[-1][1] >= 45


def test_cubic_trajectory_in_a_connection() -> None:
    steps = changes(bottleneck_trajectory("cubic", lose_at=40))
    before = [c for _, c, s, _ in steps if not s]
    assert before[-1] == 49
    # PRR: cwnd falls one segment at a time from 49 to ssthresh (was: a step to 34);
    # 34/49 of the delivered segments are sent, so the steps are slower than Reno's
    rec = [c for _, c, s, ca in steps if ca == "recovery"]
    assert rec[0] == 48 and rec[-1] >= 34
    assert all(c1 == c0 - 1 for c0, c1 in itertools.pairwise(rec))
    t_loss = next(t for t, _, s, _ in steps if s)
    after = [(t, c) for t, c, s, ca in steps if s and ca == "open"]
    c0 = after[0][1]
    assert c0 == int(49 * 0.7) == 34  # beta 0.7: recovery ends at ssthresh
    k = (49 * 0.3 / 0.4) ** (1 / 3)
    gaps = [t1 - t0 for (t0, _), (t1, _) in itertools.pairwise(after[1:])]
    assert all(c < 49 for t, c in after if t - t_loss < k)  # concave: below W_max until K
    assert gaps[-1] > gaps[0]  # slowing down as W approaches W_max
    assert after[-1][1] > 40
