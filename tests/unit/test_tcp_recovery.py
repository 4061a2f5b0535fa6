"""Loss recovery, packetdrill style: slow start, fast retransmit on the 3rd duplicate
ACK, NewReno partial ACKs, SACK recovery (RFC 6675), RTO backoff and give-up."""

from __future__ import annotations

import pytest

from nodes.stack.tcp.api import TcpSocket
from nodes.stack.tcp.config import TcpConfig
from nodes.stack.tcp.testing import Script
from nodes.wire.tcp import TcpFlags as F
from nodes.wire.tcp import TcpOptions

MSS = 1000


def setup(cc: str = "reno", sack: bool = False, **cfg: int) -> tuple[Script, TcpSocket, int]:
    s = Script(TcpConfig(congestion=cc, **cfg))  # type: ignore[arg-type]
    sock, iss = s.accept_connection(options=TcpOptions(mss=MSS, sack_permitted=sack))
    sock.send(bytes(200_000), now=0.0)
    return s, sock, iss + 1


def sent(s: Script, base: int) -> list[int]:
    """Offsets (in segments) of the data segments sent since the last call."""
    return [(x.seq - base) // MSS for x in s.out() if x.payload]


def cwnd(sock: TcpSocket) -> tuple[int, int | None, str]:
    i = sock.info()
    assert i is not None
    return i.cwnd, i.ssthresh, i.ca_state


def test_initial_window_10_and_slow_start_one_segment_per_ack() -> None:
    s, sock, base = setup()
    assert sent(s, base) == list(range(10))
    for k in range(1, 11):
        s.inject(F.ACK, seq=1001, ack=base + k * MSS)
        assert sent(s, base) == [8 + 2 * k, 9 + 2 * k]  # each ACK releases two segments
        assert cwnd(sock) == (10 + k, None, "open")


def test_fast_retransmit_on_third_dupack_then_newreno_recovery() -> None:
    s, sock, base = setup()
    sent(s, base)
    for k in range(1, 11):
        s.inject(F.ACK, seq=1001, ack=base + k * MSS)
    sent(s, base)  # 30 segments out, cwnd 20; segment 10 is "lost"
    una = base + 10 * MSS
    s.inject(F.ACK, seq=1001, ack=una)
    assert sent(s, base) == [30]  # limited transmit (RFC 3042)
    s.inject(F.ACK, seq=1001, ack=una)
    assert sent(s, base) == [31]
    s.inject(F.ACK, seq=1001, ack=una)
    assert sent(s, base) == [10]  # the third duplicate ACK: fast retransmit
    # ssthresh = cwnd/2 (Linux reno); PRR (RFC 6937): cwnd = pipe + what may be sent now,
    # 18 segments in flight + the retransmission (was: cwnd = ssthresh = 10 at once)
    assert cwnd(sock) == (19, 10, "recovery")
    # PRR: while pipe > ssthresh, send ssthresh/RecoverFS = 10/20 of what the peer got: one
    # new segment every second duplicate ACK (was: 9 silent duplicate ACKs, then one each)
    out = []
    for _ in range(10):
        s.inject(F.ACK, seq=1001, ack=una)
        out.append(sent(s, base))
    assert out == [[], [32], [], [33], [], [34], [], [35], [], [36]]
    assert cwnd(sock) == (14, 10, "recovery")  # pipe: 27 out - 13 duplicate ACKs
    s.inject(F.ACK, seq=1001, ack=base + 37 * MSS)  # everything: recovery ends
    assert cwnd(sock) == (10, 10, "open")
    assert s.engine.counters()["tcp_fast_retransmits"] == 1
    info = sock.info()
    assert info is not None and info.dup_acks == 13 and info.retrans == 1


def test_newreno_partial_ack_retransmits_the_next_hole_at_once() -> None:
    s, sock, base = setup()
    sent(s, base)  # segments 0..9 out; 2 and 5 are lost
    s.inject(F.ACK, seq=1001, ack=base + 2 * MSS)
    sent(s, base)
    for _ in range(3):
        s.inject(F.ACK, seq=1001, ack=base + 2 * MSS)
    assert sent(s, base)[-1] == 2
    s.inject(F.ACK, seq=1001, ack=base + 5 * MSS)  # partial ACK: up to the next hole
    assert 5 in sent(s, base)
    assert cwnd(sock)[2] == "recovery"


def test_sack_recovery_retransmits_only_the_holes() -> None:
    s, sock, base = setup(sack=True)
    assert sent(s, base) == list(range(10))

    def seg(a: int, b: int) -> tuple[int, int]:
        return (base + a * MSS, base + b * MSS)

    # segments 0 and 4 lost; the peer SACKs 1-3 and 5-9 as they arrive
    s.inject(F.ACK, seq=1001, ack=base, options=TcpOptions(sack_blocks=(seg(1, 2),)))
    s.inject(F.ACK, seq=1001, ack=base, options=TcpOptions(sack_blocks=(seg(1, 3),)))
    assert sent(s, base) == [10, 11]  # limited transmit, not yet lost
    s.inject(F.ACK, seq=1001, ack=base, options=TcpOptions(sack_blocks=(seg(1, 4),)))
    assert sent(s, base)[0] == 0  # > 2*MSS SACKed above: segment 0 is lost
    assert cwnd(sock)[2] == "recovery"
    for k in range(6, 11):
        s.inject(F.ACK, seq=1001, ack=base,
                 options=TcpOptions(sack_blocks=(seg(5, k), seg(1, 4))))  # fmt: skip
    out = sent(s, base)
    # only the hole, never SACKed data. PRR paces the recovery: the SACKs deliver 5
    # segments, which allow ssthresh/RecoverFS = 5/10 of that to be sent: new segment 12
    # (before 4 counts as lost) and then 4 (was: [4] alone, cwnd = ssthresh at once)
    assert out == [12, 4]
    s.inject(F.ACK, seq=1001, ack=base + 12 * MSS)
    assert cwnd(sock)[2] == "open"
    assert s.engine.counters()["tcp_sack_recoveries"] == 1
    info = sock.info()
    assert info is not None and info.retrans == 2 and info.sacked == 0


def test_rto_backoff_loss_window_and_give_up_after_retries2() -> None:
    s, sock, base = setup(retries2=4)
    sent(s, base)
    assert s.deadline() == pytest.approx(0.2)  # RTT ~0 in the script: RTO = 200 ms
    times = []
    while (d := s.deadline()) is not None:
        s.advance(d)
        out = sent(s, base)
        if out:
            assert out == [0]  # cwnd 1 segment: only the head
            times.append(round(s.now, 3))
            assert cwnd(sock) == (1, 5, "loss")  # ssthresh set once, not again
    # retries2 is a time limit (Linux retransmits_timed_out): tcp_model_timeout(4) =
    # (2^5 - 1) * 200 ms = 6.2 s since the first retransmission (0.2 s). At 6.2 s only
    # 6.0 s have passed, so a 5th retransmission goes out; the connection gives up at the
    # next expiry, 12.6 s (was: after exactly 4 retransmissions, at 6.2 s)
    assert times == [0.2, 0.6, 1.4, 3.0, 6.2]
    assert sock.state == "CLOSED" and s.now == pytest.approx(12.6)
    assert s.out() == []  # no RST when giving up (Linux tcp_write_err)
    with pytest.raises(TimeoutError):
        sock.send(b"x", now=s.now)
    c = s.engine.counters()
    assert c["tcp_timeouts"] == 5 and c["tcp_timeout_aborts"] == 1


def test_after_rto_slow_start_resends_the_window_and_ends_loss() -> None:
    s, sock, base = setup()
    sent(s, base)
    s.advance(0.2)
    assert sent(s, base) == [0]
    s.inject(F.ACK, seq=1001, ack=base + MSS)  # the retransmission arrived
    assert sent(s, base) == [1, 2]  # cwnd 2
    s.inject(F.ACK, seq=1001, ack=base + 10 * MSS)  # everything before the RTO
    assert cwnd(sock)[2] == "open"


def test_karn_no_rtt_sample_from_retransmitted_segments() -> None:
    s, sock, base = setup()
    sent(s, base)
    before = sock.info()
    s.advance(0.2)
    sent(s, base)
    s.advance(0.25)
    s.inject(F.ACK, seq=1001, ack=base + MSS)  # ambiguous: original or retransmission
    after = sock.info()
    assert before is not None and after is not None and after.srtt == before.srtt


def test_a_lost_retransmission_is_detected_by_sack_and_resent() -> None:
    s, sock, base = setup(sack=True)
    assert sent(s, base) == list(range(10))

    def sack(*blocks: tuple[int, int]) -> None:
        opts = TcpOptions(sack_blocks=tuple((base + a * MSS, base + b * MSS) for a, b in blocks))
        s.inject(F.ACK, seq=1001, ack=base, options=opts)

    sack((1, 2))
    sack((1, 3))
    assert sent(s, base) == [10, 11]
    sack((1, 4))
    assert sent(s, base)[0] == 0  # fast retransmit of 0, sent while SND.NXT was 12
    for k in range(5, 11):
        sack((1, k))
    out = sent(s, base)
    assert 0 not in out and max(out) >= 12  # new data goes out; 0 is not resent yet
    sack((1, 13))  # segment 12 was sent after the retransmission and is SACKed first
    assert sent(s, base)[0] == 0  # so the retransmission was lost: send it again
    assert s.engine.counters()["tcp_lost_retransmits"] == 1
    assert cwnd(sock)[2] == "recovery"


def test_eifel_undoes_a_spurious_fast_retransmit_and_raises_dupthresh() -> None:
    s = Script(TcpConfig(congestion="reno"))
    opts = TcpOptions(mss=MSS + 12, sack_permitted=True, timestamp=(1, 0))
    sock, iss = s.accept_connection(options=opts)
    base = iss + 1
    sock.send(bytes(200_000), now=0.0)
    first = s.out()
    assert len(first) == 10 and first[0].options.timestamp is not None
    t_orig = first[0].options.timestamp[0]
    s.advance(0.010)
    for k in (2, 3, 4):
        s.inject(F.ACK, seq=1001, ack=base, options=TcpOptions(
            sack_blocks=((base + MSS, base + k * MSS),), timestamp=(2, t_orig)))  # fmt: skip
    # PRR: cwnd = pipe (12 sent - 3 SACKed - 1 lost) + the retransmission (was 5 = ssthresh)
    assert sent(s, base)[-1] == 0 and cwnd(sock) == (9, 5, "recovery")
    # segment 0 was only late: the ACK that covers it echoes the original's timestamp
    s.inject(F.ACK, seq=1001, ack=base + 12 * MSS, options=TcpOptions(timestamp=(3, t_orig)))
    assert cwnd(sock)[1:] == (None, "open")  # ssthresh back to infinite, window restored
    assert s.engine.counters()["tcp_spurious_recoveries_undone"] == 1
    conn = sock.connection
    assert conn is not None and conn.dupthresh == 4


def test_karn_with_timestamps_ignores_echoes_older_than_the_retransmission() -> None:
    s = Script()
    opts = TcpOptions(mss=MSS + 12, timestamp=(1, 0))
    sock, iss = s.accept_connection(options=opts)
    sock.send(b"x" * 100, now=0.0)
    (first,) = s.out()
    assert first.options.timestamp is not None
    s.advance(0.2)
    (again,) = s.out()  # RTO retransmission, a newer TSval
    assert again.options.timestamp is not None
    assert again.options.timestamp[0] == first.options.timestamp[0] + 200
    srtt = sock.info().srtt  # type: ignore[union-attr]
    s.advance(3.0)  # more backed-off retransmissions meanwhile (0.6, 1.4, 3.0 s)
    assert len(s.out()) == 3
    # a stale echo (the peer's TS.Recent from before) would make this a 3 s sample
    s.inject(
        F.ACK,
        seq=1001,
        ack=iss + 101,
        options=TcpOptions(timestamp=(5, first.options.timestamp[0])),
    )
    assert sock.info().srtt == srtt  # type: ignore[union-attr]
    sock.send(b"y" * 100, now=s.now)
    (seg,) = s.out()
    assert seg.options.timestamp is not None
    s.advance(3.05)
    s.inject(
        F.ACK, seq=1001, ack=iss + 201, options=TcpOptions(timestamp=(6, seg.options.timestamp[0]))
    )
    info = sock.info()
    assert info is not None and info.srtt is not None and info.srtt < 0.1


def test_prr_bounds_the_burst_when_pipe_falls_below_ssthresh() -> None:
    """RFC 6937 PRR-CRB/SSRB (Linux tcp_cwnd_reduction): with 6 of 10 segments lost the
    pipe is far below ssthresh; the sender catches up by what was delivered (plus one
    segment when SND.UNA advances without new losses), not with a burst to ssthresh."""
    s, sock, base = setup(sack=True)
    assert sent(s, base) == list(range(10))

    def sack(ack: int, hi: int) -> None:
        opts = TcpOptions(sack_blocks=((base + 6 * MSS, base + hi * MSS),))
        s.inject(F.ACK, seq=1001, ack=base + ack * MSS, options=opts)

    sack(0, 7)
    sack(0, 8)
    assert sent(s, base) == [10, 11]  # limited transmit
    sack(0, 9)  # 3 segments SACKed above 0-5: all six are lost, pipe = 12 - 3 - 6 = 3
    assert sent(s, base) == [0]  # one delivered -> one sent (was: 2 more, up to ssthresh 5)
    assert cwnd(sock) == (4, 5, "recovery")
    sack(0, 10)
    assert sent(s, base) == [1]  # CRB: what was delivered
    sack(1, 10)  # SND.UNA advances, nothing newly lost: SSRB allows one segment more
    assert sent(s, base) == [2, 3]
    sack(4, 10)  # three delivered (SSRB: 4 may go), but only up to ssthresh: 5 - pipe 2
    assert sent(s, base) == [4, 5, 12]
    assert cwnd(sock) == (5, 5, "recovery")


def rto_give_up(s: Script, base: int) -> list[float]:
    """Let every RTO expire; returns when the head segment was retransmitted."""
    times = []
    while (d := s.deadline()) is not None:
        s.advance(d)
        times += [s.now for x in s.out() if x.payload and x.seq == base]
    return times


def test_retries2_15_gives_up_after_924_6_seconds_of_retransmission() -> None:
    """Linux: tcp_retries2 = 15 with rto_min 200 ms is a 924.6 s limit (tcp_model_timeout:
    1023 * 0.2 s while the RTO doubles, then 6 * 120 s at TCP_RTO_MAX), measured from the
    first retransmission and checked at each RTO expiry."""
    s, sock, base = setup()
    sent(s, base)
    times = rto_give_up(s, base)
    expiries = [0.2 * ((2 << k) - 1) for k in range(10)] + [204.6 + 120 * k for k in range(1, 7)]
    assert times == pytest.approx(expiries)  # 16 retransmissions: 924.6 - 0.2 < 924.6
    assert times[-1] - times[0] < 924.6
    assert s.now == pytest.approx(1044.6) and s.now - times[0] >= 924.6
    assert sock.state == "CLOSED"
    assert s.engine.counters()["tcp_timeout_aborts"] == 1


def test_retries2_is_a_time_limit_so_a_long_rto_retransmits_fewer_times() -> None:
    """With a 1.2 s RTO (a long RTT) the same 924.6 s pass after 13 retransmissions (a
    count of 15 would retransmit twice more and give up at 1232.4 s instead of 992.4 s)."""
    s = Script(TcpConfig(congestion="reno"))
    s.listen()
    s.inject(F.SYN, seq=1000, options=TcpOptions(mss=MSS))
    synack = s.out()[-1]
    s.advance(0.4)  # the handshake RTT: srtt 0.4, rttvar 0.2 -> RTO 0.4 + 0.8 = 1.2 s
    s.inject(F.ACK, seq=1001, ack=synack.seq + 1)
    assert s.listener is not None
    sock = s.listener.accept()
    sock.send(bytes(5000), now=s.now)
    base = synack.seq + 1
    start = s.now
    sent(s, base)
    times = [t - start for t in rto_give_up(s, base)]
    assert times[:3] == pytest.approx([1.2, 3.6, 8.4])
    assert len(times) == 13
    assert times[-1] - times[0] < 924.6 <= s.now - start - times[0]
    assert s.now - start == pytest.approx(992.4)
    assert sock.state == "CLOSED"
