"""Random segments thrown at a connection in every state: no exception escapes, and the
bytes delivered to the application are always a prefix of the peer's real stream."""

from __future__ import annotations

import contextlib
import random
from collections.abc import Callable

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nodes.stack.tcp.api import TcpSocket
from nodes.stack.tcp.testing import REMOTE_ADDR, Script
from nodes.wire.tcp import TcpFlags as F
from nodes.wire.tcp import TcpOptions

PEER_ISN = 1000
STREAM = random.Random(42).randbytes(200_000)  # the peer's bytes from PEER_ISN + 1 on


def est(s: Script) -> tuple[TcpSocket | None, int]:
    sock, iss = s.accept_connection(peer_isn=PEER_ISN)
    sock.send(b"x" * 5000, now=s.now)
    s.out()
    return sock, iss


def listen_only(s: Script) -> tuple[TcpSocket | None, int]:
    s.listen()
    return None, 0


def syn_rcvd(s: Script) -> tuple[TcpSocket | None, int]:
    s.listen()
    s.inject(F.SYN, seq=PEER_ISN)
    return None, s.out()[0].seq


def syn_sent(s: Script) -> tuple[TcpSocket | None, int]:
    sock = s.engine.socket()
    sock.bind(0, 80)
    sock.connect(REMOTE_ADDR, 40000, now=0.0)
    return sock, s.out()[0].seq


def close_wait(s: Script) -> tuple[TcpSocket | None, int]:
    sock, iss = s.accept_connection(peer_isn=PEER_ISN)
    s.inject(F.FIN | F.ACK, seq=PEER_ISN + 1, ack=iss + 1)
    return sock, iss


def last_ack(s: Script) -> tuple[TcpSocket | None, int]:
    sock, iss = close_wait(s)
    assert sock is not None
    sock.close(now=s.now)
    return sock, iss


def fin_wait_1(s: Script) -> tuple[TcpSocket | None, int]:
    sock, iss = s.accept_connection(peer_isn=PEER_ISN)
    sock.shutdown(now=s.now)
    return sock, iss


def fin_wait_2(s: Script) -> tuple[TcpSocket | None, int]:
    sock, iss = fin_wait_1(s)
    s.inject(F.ACK, seq=PEER_ISN + 1, ack=iss + 2)
    return sock, iss


def closing(s: Script) -> tuple[TcpSocket | None, int]:
    sock, iss = fin_wait_1(s)
    s.inject(F.FIN | F.ACK, seq=PEER_ISN + 1, ack=iss + 1)
    return sock, iss


def time_wait(s: Script) -> tuple[TcpSocket | None, int]:
    sock, iss = fin_wait_1(s)
    s.inject(F.FIN | F.ACK, seq=PEER_ISN + 1, ack=iss + 2)
    return sock, iss


SETUPS: dict[str, Callable[[Script], tuple[TcpSocket | None, int]]] = {
    "LISTEN": listen_only, "SYN_SENT": syn_sent, "SYN_RCVD": syn_rcvd, "ESTABLISHED": est,
    "FIN_WAIT_1": fin_wait_1, "FIN_WAIT_2": fin_wait_2, "CLOSE_WAIT": close_wait,
    "CLOSING": closing, "LAST_ACK": last_ack, "TIME_WAIT": time_wait,
}  # fmt: skip

u32 = st.integers(0, 0xFFFFFFFF)
segment = st.fixed_dictionaries(
    {
        "flags": st.one_of(
            st.integers(0, 0xFF),
            st.sampled_from([F.ACK, F.ACK | F.PSH, F.ACK | F.FIN, F.ACK | F.URG]).map(int),
        ),
        # in-order and hole-filling pieces are likely: offsets on a 500-byte grid
        "seq_delta": st.one_of(
            st.integers(0, 20).map(lambda k: 500 * k), st.integers(-3000, 70_000), u32
        ),
        "ack_delta": st.one_of(st.integers(-70_000, 7000), u32),
        "length": st.one_of(st.integers(0, 3000), st.just(500), st.just(1000)),
        "window": st.integers(0, 0xFFFF),
        "urgent": st.integers(0, 0xFFFF),
        "corrupt": st.booleans(),
        "ts": st.none() | st.tuples(u32, u32),
        "sack": st.lists(st.tuples(u32, u32), max_size=2),
        "mss": st.none() | st.integers(0, 0xFFFF),
        "wscale": st.none() | st.integers(0, 255),
        "advance": st.sampled_from([0.0, 0.0, 0.001, 0.04, 0.3, 5.0, 70.0]),
        "read": st.booleans(),
        "in_order": st.booleans(),  # send at the connection's RCV.NXT (well-formed data)
    }
)


def run_fuzz(state: str, segs: list[dict[str, object]]) -> None:
    s = Script()
    sock, iss = SETUPS[state](s)
    s.out()
    if sock is not None and state != "LISTEN":
        assert sock.state == state
    delivered = bytearray()
    model_ok = True  # STREAM[i] is at PEER_ISN + 1 + i only while the peer's ISN is PEER_ISN
    for spec in segs:
        seq_delta, ack_delta = int(spec["seq_delta"]), int(spec["ack_delta"])  # type: ignore[call-overload]
        flags = int(spec["flags"])  # type: ignore[call-overload]
        conn = sock.connection if sock is not None else None
        if spec["in_order"] and conn is not None and conn.rcvbuf.nxt:
            seq_delta = conn.rcvbuf.nxt - (PEER_ISN + 1)
            ack_delta = conn.snd_una - (iss + 1)
            flags &= ~(F.SYN | F.RST)
        seq = (PEER_ISN + 1 + seq_delta) & 0xFFFFFFFF
        off = seq_delta if 0 <= seq_delta < len(STREAM) else 0
        payload = STREAM[off : off + int(spec["length"])]  # type: ignore[call-overload]
        if seq_delta >= len(STREAM) or seq_delta < 0:
            payload = b""  # outside the stream there is no true content to compare with
        opts = TcpOptions(
            mss=spec["mss"], wscale=spec["wscale"],  # type: ignore[arg-type]
            timestamp=spec["ts"], sack_blocks=tuple(spec["sack"]),  # type: ignore[arg-type]
        )  # fmt: skip
        s.inject(flags, seq=seq, ack=(iss + 1 + ack_delta) & 0xFFFFFFFF, payload=payload,
                 window=int(spec["window"]), urgent=int(spec["urgent"]),  # type: ignore[call-overload]
                 options=opts, corrupt=bool(spec["corrupt"]), sport=40000, dport=80)  # fmt: skip
        s.advance(s.now + float(spec["advance"]))  # type: ignore[arg-type]
        s.out()
        if conn is not None and conn.rcvbuf.nxt and conn.irs != PEER_ISN:
            model_ok = False  # a SYN in SYN_SENT chose another ISN: the stream moved
        if sock is not None and spec["read"]:
            with contextlib.suppress(BlockingIOError, ConnectionError, TimeoutError, OSError):
                delivered += sock.recv(1 << 20, now=s.now)
        assert not model_ok or bytes(delivered) == STREAM[: len(delivered)]
    if sock is not None:
        conn = sock.connection
        assert conn is not None
        delivered += bytes(conn.rcvbuf.ready)
        assert not model_ok or bytes(delivered) == STREAM[: len(delivered)]


@pytest.mark.parametrize("state", list(SETUPS))
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(segs=st.lists(segment, min_size=1, max_size=25))
def test_random_segments_in_every_state(state: str, segs: list[dict[str, object]]) -> None:
    run_fuzz(state, segs)
