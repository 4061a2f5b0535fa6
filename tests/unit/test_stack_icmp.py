"""ICMP error policy (RFC 1122) and the Linux-like rate limiter."""

from __future__ import annotations

import pytest

from nodes.stack.config import StackConfig
from nodes.stack.icmp import IcmpRateLimiter, error_veto, icmp_timestamp_ms
from nodes.wire.icmp import IcmpType, build_echo, build_error
from nodes.wire.ipv4 import build_ipv4

A, B = 0x0A000001, 0x0A000002


def pkt(**kw: object) -> bytes:
    args: dict[str, object] = {"src": A, "dst": B, "proto": 17, "payload": bytes(8)}
    args.update(kw)
    return build_ipv4(**args)  # type: ignore[arg-type]


def test_allowed_for_an_ordinary_unicast_packet() -> None:
    assert error_veto(pkt(), link_broadcast=False, is_broadcast=False) is None
    echo = build_echo(IcmpType.ECHO_REQUEST, 1, 1, b"")
    assert error_veto(pkt(proto=1, payload=echo), link_broadcast=False, is_broadcast=False) is None


@pytest.mark.parametrize(
    ("raw", "link_bcast", "bcast", "why"),
    [
        (pkt(), True, False, "icmp_error_suppressed_broadcast"),
        (pkt(), False, True, "icmp_error_suppressed_broadcast"),
        (pkt(dst=0xE0000001), False, False, "icmp_error_suppressed_broadcast"),
        (pkt(frag_offset=8), False, False, "icmp_error_suppressed_fragment"),
        (pkt(src=0), False, False, "icmp_error_suppressed_bad_src"),
        (pkt(src=0xE0000001), False, False, "icmp_error_suppressed_bad_src"),
        (
            pkt(proto=1, payload=build_error(3, 3, pkt())),
            False,
            False,
            "icmp_error_suppressed_icmp_error",
        ),
        (
            pkt(proto=1, payload=b"\x63" + bytes(7)),
            False,
            False,
            "icmp_error_suppressed_icmp_error",
        ),  # unknown ICMP type: treated as an error
        (b"\x45" * 10, False, False, "icmp_error_suppressed_bad_src"),
    ],
)
def test_vetoes(raw: bytes, link_bcast: bool, bcast: bool, why: str) -> None:
    assert error_veto(raw, link_broadcast=link_bcast, is_broadcast=bcast) == why


def test_per_destination_bucket_burst_6_then_one_per_second() -> None:
    lim = IcmpRateLimiter(StackConfig())
    results = [lim.allow(3, A, now=0.0) for _ in range(10)]
    assert results.count(None) == 6
    assert results[6:] == ["icmp_out_ratelimit_host"] * 4
    assert lim.allow(3, B, now=0.0) is None  # another destination has its own bucket
    assert lim.allow(3, A, now=0.5) == "icmp_out_ratelimit_host"
    assert lim.allow(3, A, now=1.0) is None


def test_ratemask_exempts_echo_reply_and_global_limit_applies() -> None:
    lim = IcmpRateLimiter(StackConfig(icmp_msgs_burst=3))
    assert all(lim.allow(0, A, now=0.0) is None for _ in range(100))  # echo reply: not masked
    results = [lim.allow(11, i, now=0.0) for i in range(5)]
    assert results == [None, None, None, "icmp_out_ratelimit_global", "icmp_out_ratelimit_global"]


def test_timestamp_is_ms_since_midnight() -> None:
    assert icmp_timestamp_ms(1.5) == 1500
    assert icmp_timestamp_ms(86400.25) == 250
