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
    assert cwnd(sock) == (10, 10, "recovery")  # ssthresh = cwnd/2 (Linux reno)
    for _ in range(9):  # half a window of duplicate ACKs passes silently
        s.inject(F.ACK, seq=1001, ack=una)
        assert sent(s, base) == []
    s.inject(F.ACK, seq=1001, ack=una)
    assert sent(s, base) == [32]  # then one new segment per duplicate ACK
    s.inject(F.ACK, seq=1001, ack=base + 33 * MSS)  # everything: recovery ends
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
    assert out[0] == 4 and 1 not in out and 2 not in out  # only the hole, never SACKed data
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
    assert times == [0.2, 0.6, 1.4, 3.0]
    assert sock.state == "CLOSED" and s.now == pytest.approx(6.2)
    assert s.out() == []  # no RST when giving up (Linux tcp_write_err)
    with pytest.raises(TimeoutError):
        sock.send(b"x", now=s.now)
    c = s.engine.counters()
    assert c["tcp_timeouts"] == 4 and c["tcp_timeout_aborts"] == 1


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
    assert sent(s, base)[-1] == 0 and cwnd(sock) == (5, 5, "recovery")
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
