"""The one parser of people's units: durations, rates, probabilities, sizes, and back."""

from __future__ import annotations

import math
from datetime import timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from topology.units import (
    UnitError,
    format_duration,
    format_probability,
    format_rate,
    format_size,
    parse_duration,
    parse_probability,
    parse_rate,
    parse_size,
)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("20ms", 0.02), ("1.5s", 1.5), ("200us", 0.0002), ("2m", 120.0), ("1h", 3600.0),
        ("20 ms", 0.02), (" 50msec ", 0.05), ("3", 3.0), ("0.25", 0.25), (".5s", 0.5),
        ("1e-3s", 0.001), ("10µs", 1e-5), ("500ns", 5e-7), ("2MS", 0.002), (20, 20.0),
        (1.5, 1.5), (0, 0.0), (timedelta(milliseconds=20), 0.02), ("+5s", 5.0),
    ],
)  # fmt: skip
def test_durations(text: Any, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize(
    ("text", "bits"),
    [
        ("10mbit", 10e6), ("512kbit", 512e3), ("1gbit", 1e9), ("100bit", 100.0), ("1tbit", 1e12),
        ("10Mbit", 10e6), ("10MBIT", 10e6), ("10Mbit/s", 10e6), ("10 Mbit/s", 10e6),
        ("2.5Gbit/s", 2.5e9), ("10Mb/s", 10e6), ("10mbits", 10e6), ("1kibit", 1024.0),
        ("1mibit", 2.0**20), (5_000_000, 5e6), ("64000", 64000.0), (1.5, 1.5),
    ],
)  # fmt: skip
def test_rates(text: Any, bits: float) -> None:
    assert parse_rate(text) == bits


@pytest.mark.parametrize(
    ("text", "fraction"),
    [("5%", 0.05), ("0.5 %", 0.005), ("100%", 1.0), ("0%", 0.0), ("0.05", 0.05), (0.05, 0.05),
     (1, 1.0), (0, 0.0)],
)  # fmt: skip
def test_probabilities(text: Any, fraction: float) -> None:
    assert parse_probability(text) == fraction


@pytest.mark.parametrize(
    ("text", "nbytes"),
    [("10MB", 10**7), ("1MiB", 2**20), ("500k", 500_000), ("1.5GB", 1_500_000_000), ("1500", 1500),
     (1500, 1500), ("1kB", 1000), ("1KiB", 1024), ("2 GiB", 2 * 2**30), ("64B", 64),
     ("10 bytes", 10), ("1TB", 10**12), ("1.5k", 1500)],
)  # fmt: skip
def test_sizes(text: Any, nbytes: int) -> None:
    assert parse_size(text) == nbytes
    assert isinstance(parse_size(text), int)


def test_mbps_is_refused_with_what_to_write_instead() -> None:
    with pytest.raises(UnitError) as info:
        parse_rate("10mbps")
    message = str(info.value)
    assert "BYTES per second" in message
    assert "write 10mbit for 10 megabits per second" in message
    assert "80mbit for 10 megabytes per second" in message
    for text in ("10MB/s", "10Mbps", "100bps", "1.5kbps", "10mb", "10mbyte/s"):
        with pytest.raises(UnitError, match="BYTES per second"):
            parse_rate(text)


@pytest.mark.parametrize(
    ("parse", "value", "expected"),
    [
        (parse_duration, "5 parsecs", "bad duration '5 parsecs': unknown unit 'parsecs'"),
        (parse_duration, -1, "duration must not be negative, got -1"),
        (parse_duration, "-20ms", "duration must not be negative"),
        (parse_duration, True, "expected a duration, got a boolean"),
        (parse_duration, None, "expected a duration, got nothing (null)"),
        (parse_duration, [1], "expected a duration, got a list"),
        (parse_duration, float("nan"), "duration must be finite"),
        (parse_duration, "1e999s", "duration '1e999s' is too large"),
        (parse_duration, timedelta(seconds=-1), "duration must not be negative"),
        (parse_duration, "ms", "bad duration 'ms'"),
        (parse_rate, "10m", "bad rate '10m': unknown unit 'm'"),
        (parse_rate, 0, "rate must be greater than zero"),
        (parse_rate, "0kbit", "rate must be greater than zero"),
        (parse_rate, "fast", "bad rate 'fast'"),
        (parse_probability, 2, "2.0 is out of range; allowed: 0.0..1.0"),
        (parse_probability, "150%", "bad percentage '150%'; allowed: 0%..100%"),
        (parse_probability, "-1%", "bad percentage '-1%'"),
        (parse_probability, "5 percent", "bad probability '5 percent'"),
        (parse_size, "1.5B", "size '1.5B' is not a whole number of bytes"),
        (parse_size, "10kbit", "sizes are in bytes"),
        (parse_size, "10 furlongs", "bad size '10 furlongs'"),
    ],
)
def test_errors_name_the_problem(parse: Any, value: Any, expected: str) -> None:
    with pytest.raises(UnitError) as info:
        parse(value)
    assert expected in info.value.problem, info.value.problem
    assert isinstance(info.value, ValueError)


def test_errors_name_what_was_expected_and_the_notations() -> None:
    with pytest.raises(UnitError) as info:
        parse_duration("soon")
    assert info.value.expected == "a duration"
    assert "'20ms'" in info.value.notations
    assert str(info.value) == (
        "bad duration 'soon' (expected a duration: seconds as a number, '20ms', '1.5s', "
        "'200us', '2m')"
    )
    with pytest.raises(UnitError) as info:
        parse_rate([])
    assert "'10mbit'" in str(info.value)


@pytest.mark.parametrize("parse", [parse_duration, parse_rate, parse_probability, parse_size])
def test_values_echoed_in_messages_are_cut_short(parse: Any) -> None:
    for value in ("x" * 100_000, "1" * 100_000 + "ms", "5" + "q" * 100_000):
        with pytest.raises(UnitError) as info:
            parse(value)
        assert len(str(info.value)) < 400


def test_formatters_for_people() -> None:
    assert format_duration(0.02) == "20ms"
    assert format_duration(1.5) == "1.5s"
    assert format_duration(120) == "2m"
    assert format_duration(90) == "90s"
    assert format_duration(2e-4) == "200us"
    assert format_duration(7200) == "2h"
    assert format_duration(0) == "0s"
    assert format_rate(1e7) == "10mbit"
    assert format_rate(512_000) == "512kbit"
    assert format_rate(1.5e9) == "1.5gbit"
    assert format_rate(100) == "100bit"
    assert format_probability(0.05) == "5%"
    assert format_probability(1) == "100%"
    assert format_probability(0.0001) == "0.01%"
    assert format_size(10**7) == "10MB"
    assert format_size(2**20) == "1MiB"
    assert format_size(1500) == "1.5kB"
    assert format_size(100) == "100B"
    assert format_size(0) == "0B"


@pytest.mark.parametrize(
    ("fmt", "value"),
    [(format_duration, -1.0), (format_duration, math.inf), (format_rate, 0.0),
     (format_probability, 1.5), (format_size, -1), (format_size, 1.5)],
)  # fmt: skip
def test_formatters_refuse_what_cannot_be_written(fmt: Any, value: Any) -> None:
    with pytest.raises(UnitError):
        fmt(value)


finite = st.floats(min_value=0.0, allow_nan=False, allow_infinity=False)


@given(finite)
def test_duration_round_trip(seconds: float) -> None:
    assert parse_duration(format_duration(seconds)) == seconds


@given(st.floats(min_value=1e-300, allow_nan=False, allow_infinity=False))
def test_rate_round_trip(bits: float) -> None:
    assert parse_rate(format_rate(bits)) == bits


@given(st.floats(min_value=0.0, max_value=1.0))
def test_probability_round_trip(fraction: float) -> None:
    assert parse_probability(format_probability(fraction)) == fraction


@given(st.integers(min_value=0, max_value=2**70))
def test_size_round_trip(nbytes: int) -> None:
    assert parse_size(format_size(nbytes)) == nbytes


@given(st.integers(min_value=0, max_value=10**6), st.sampled_from(["us", "ms", "s", "m"]))
def test_parse_then_format_keeps_the_value(number: int, unit: str) -> None:
    seconds = parse_duration(f"{number}{unit}")
    assert parse_duration(format_duration(seconds)) == seconds
