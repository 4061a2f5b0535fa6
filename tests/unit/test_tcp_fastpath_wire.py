"""The send path's one-pack builder gives build_tcp_raw's bytes; the parser's
timestamp shortcut never reads past a truncated segment; the buffers' shortcuts keep
their meaning."""

from __future__ import annotations

import random

import pytest

from nodes.stack.tcp.buffers import ReceiveBuffer, SendBuffer
from nodes.stack.tcp.rtt import RttEstimator
from nodes.wire.checksum import ones_sum
from nodes.wire.errors import Truncated
from nodes.wire.tcp import build_tcp_raw, build_tcp_ts, parse_tcp, timestamp_only_options


def test_build_tcp_ts_is_build_tcp_raw_with_timestamp_options() -> None:
    rng = random.Random(5)
    for _ in range(5000):
        head = (
            rng.getrandbits(32), rng.getrandbits(32), rng.getrandbits(16), rng.getrandbits(16),
            rng.getrandbits(40), rng.getrandbits(40), rng.getrandbits(12), rng.getrandbits(16),
        )  # fmt: skip
        tsval, tsecr = rng.getrandbits(32), rng.getrandbits(32)
        n = rng.choice((0, 1, 2, 599, 600, 601, 1448, 1449, rng.randrange(0, 9000)))
        payload: bytes | memoryview = rng.randbytes(n)
        if rng.random() < 0.3:
            payload = memoryview(payload)
        urgent = rng.getrandbits(16) if rng.random() < 0.2 else 0
        want = build_tcp_raw(*head, timestamp_only_options(tsval, tsecr), payload, urgent)
        got = build_tcp_ts(*head, tsval, tsecr, payload, urgent)
        assert got == want and type(got) is bytes


@pytest.mark.parametrize("length", range(20, 32))
def test_a_timestamp_header_cut_short_is_truncated_not_a_crash(length: int) -> None:
    seg = bytearray(build_tcp_raw(1, 2, 3, 4, 5, 6, 0x10, 100, timestamp_only_options(7, 8), b""))
    cut = seg[:length]
    cut[16:18] = b"\0\0"
    cut[16:18] = (~ones_sum(bytes(cut), 1 + 2 + 6 + length) & 0xFFFF).to_bytes(2, "big")
    with pytest.raises(Truncated):
        parse_tcp(bytes(cut), 1, 2)


def test_send_buffer_end_follows_writes_and_acks() -> None:
    b = SendBuffer(1000, capacity=10)
    assert b.end == 1000
    assert b.write(b"abcdefgh") == 8 and b.end == 1008
    b.ack_to(1003)
    assert b.end == 1008 and b.start == 1003 and b.get(1003, 5) == b"defgh"
    assert b.write(b"xyzxyz") == 5 and b.end == 1013 and b.start + len(b) == b.end


def test_receive_buffer_read_all_or_part() -> None:
    b = ReceiveBuffer(0, 100)
    b.add(0, b"0123456789")
    assert b.read(4) == b"0123" and b.read(100) == b"456789" and b.read(5) == b""
    assert b.free() == 100


def test_rto_attributes_follow_samples_and_backoff() -> None:
    r = RttEstimator()
    for rtt in (0.5, 0.1, 0.0, 3.0):
        r.sample(rtt)
        for backoff in range(12):
            want_base = min(max(r._base, r.rto_min), r.rto_max)
            assert r.base_rto == want_base
            assert r.rto == min(want_base * (1 << backoff), r.rto_max)
            r.back_off()
        r.reset_backoff()
        assert r.backoff == 0 and r.rto == r.base_rto
