"""Fault spec validation: every bad value raises FaultSpecError naming the field."""

from __future__ import annotations

import math

import pytest

from nodes.faults import (
    Direction,
    Distribution,
    Effects,
    FaultSpec,
    FaultSpecError,
    GilbertElliott,
    Match,
    Prefix,
    RateLimit,
)


@pytest.mark.parametrize(
    ("kwargs", "field", "text"),
    [
        ({"loss": 1.5}, "loss", "loss: must be within 0..1, got 1.5"),
        ({"loss": -0.1}, "loss", "loss: must be within 0..1, got -0.1"),
        ({"duplicate": 2}, "duplicate", "within 0..1"),
        ({"corrupt": math.nan}, "corrupt", "within 0..1"),
        ({"reorder": 1.1, "delay": 0.1}, "reorder", "within 0..1"),
        ({"reorder": 0.5}, "reorder", "needs delay > 0"),
        ({"delay": -1.0}, "delay", "delay: must be within 0..3600 s, got -1.0"),
        ({"delay": math.inf}, "delay", "within 0..3600"),
        ({"jitter": -0.5}, "jitter", "within 0..3600"),
        (
            {"blackhole_mtu": 67},
            "blackhole_mtu",
            "blackhole_mtu: must be an integer within 68..65535, got 67",
        ),
        ({"blackhole_mtu": 1500.0}, "blackhole_mtu", "integer"),
        ({"seed": -1}, "seed", "within 0..18446744073709551615"),
        ({"seed": 2**64}, "seed", "seed:"),
        ({"duration": 0.0}, "duration", "must be > 0"),
        ({"duration": -3.0}, "duration", "duration:"),
        ({"direction": "sideways"}, "direction", "must be one of egress, ingress, both"),
        ({"distribution": "pareto"}, "distribution", "must be one of uniform, normal"),
        ({"down": 1}, "down", "true or false"),
        (
            {"down": True, "match": Match(protocol=1)},
            "match",
            "cannot be combined with down",
        ),
        (
            {"loss": 0.1, "gilbert_elliott": GilbertElliott(0.1)},
            "gilbert_elliott",
            "cannot be combined with loss",
        ),
    ],
)
def test_bad_spec_names_the_field(kwargs: dict[str, object], field: str, text: str) -> None:
    with pytest.raises(FaultSpecError) as info:
        effects = {
            k: v for k, v in kwargs.items() if k not in ("direction", "match", "seed", "duration")
        }
        spec = {k: v for k, v in kwargs.items() if k in ("direction", "match", "seed", "duration")}
        FaultSpec("eth0", Effects(**effects), **spec)  # type: ignore[arg-type]
    assert info.value.field == field
    assert str(info.value).startswith(f"{field}: ")
    assert text in str(info.value)


@pytest.mark.parametrize(
    ("build", "field"),
    [
        (lambda: GilbertElliott(p=1.2), "gilbert_elliott.p"),
        (lambda: GilbertElliott(p=0.1, r=-0.5), "gilbert_elliott.r"),
        (lambda: GilbertElliott(p=0.1, loss_bad=3), "gilbert_elliott.loss_bad"),
        (lambda: GilbertElliott(p=0.1, loss_good=-1), "gilbert_elliott.loss_good"),
        (lambda: RateLimit(rate_bps=0), "rate.rate_bps"),
        (lambda: RateLimit(rate_bps=1e6, burst_bytes=0), "rate.burst_bytes"),
        (lambda: RateLimit(rate_bps=1e6, queue_limit_bytes=-1), "rate.queue_limit_bytes"),
        (lambda: RateLimit(rate_bps=1e6, queue_limit_packets=-1), "rate.queue_limit_packets"),
        (lambda: Match.of(protocol="sctpx"), "match.protocol"),
        (lambda: Match.of(protocol=256), "match.protocol"),
        (lambda: Match.of(src="10.0.0.1/24"), "match.src"),
        (lambda: Match.of(dst="10.0.0.0/33"), "match.dst"),
        (lambda: Match.of(dst="not-an-ip"), "match.dst"),
        (lambda: Match.of(src_port=70000), "match.src_port"),
        (lambda: Match.of(protocol="icmp", dst_port=80), "match.dst_port"),
        (lambda: Match(src=Prefix(0x0A000001, 24)), "match.src"),
        (lambda: FaultSpec("", Effects()), "iface"),
    ],
)
def test_bad_nested_values_name_the_dotted_field(build: object, field: str) -> None:
    with pytest.raises(FaultSpecError) as info:
        build()  # type: ignore[operator]
    assert info.value.field == field
    assert str(info.value).startswith(f"{field}: ")


def test_spec_error_is_a_value_error() -> None:
    with pytest.raises(ValueError, match=r"loss: must be within 0\.\.1, got 1\.5"):
        FaultSpec("eth0", Effects(loss=1.5))


def test_defaults_and_coercions() -> None:
    spec = FaultSpec("eth0", Effects(distribution="normal"), "EGRESS")  # type: ignore[arg-type]
    assert spec.direction is Direction.EGRESS
    assert spec.effects.distribution is Distribution.NORMAL
    assert FaultSpec("eth0", Effects()).direction is Direction.BOTH
    assert FaultSpec("eth0", Effects(), match=Match()).match is None  # an empty match matches all
    assert Direction.BOTH.concrete == (Direction.EGRESS, Direction.INGRESS)


def test_gilbert_elliott_follows_tc_defaults() -> None:
    ge = GilbertElliott(p=0.2)
    assert ge.r == pytest.approx(0.8)  # tc: r defaults to 1 - p
    assert (ge.loss_bad, ge.loss_good) == (1.0, 0.0)  # 1-h = 100 %, 1-k = 0 %
    ge = GilbertElliott(p=0.01, r=0.25, loss_bad=0.5, loss_good=0.001)
    bad = 0.01 / 0.26
    assert ge.stationary_bad == pytest.approx(bad)
    assert ge.stationary_loss == pytest.approx(bad * 0.5 + (1 - bad) * 0.001)


def test_match_of_parses_text() -> None:
    match = Match.of(protocol="TCP", src="10.0.0.0/8", dst="192.168.1.7", dst_port=80)
    assert match.protocol == 6
    assert match.src == Prefix(0x0A000000, 8)
    assert match.dst == Prefix(0xC0A80107, 32)
    assert str(match.src) == "10.0.0.0/8"
    assert Match.of(protocol="47").protocol == 47


def test_match_normalises_untyped_text() -> None:
    match = Match(protocol="udp", dst="10.1.0.0/16")  # type: ignore[arg-type]
    assert match == Match(protocol=17, dst=Prefix(0x0A010000, 16))
    with pytest.raises(FaultSpecError, match=r"^match\.src: "):
        Match(src=42)  # type: ignore[arg-type]
