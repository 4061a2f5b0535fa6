"""bench.stats: percentiles like numpy's linear interpolation, medians, ratios."""

from __future__ import annotations

import pytest

from bench.stats import median, percentile, ratio


def test_percentile_interpolates_linearly() -> None:
    data = [4.0, 1.0, 3.0, 2.0]
    assert percentile(data, 0) == 1.0
    assert percentile(data, 100) == 4.0
    assert percentile(data, 50) == 2.5
    assert percentile(data, 25) == pytest.approx(1.75)
    assert percentile(list(range(101)), 99) == pytest.approx(99.0)


def test_median_of_odd_and_single() -> None:
    assert median([3.0, 1.0, 2.0]) == 2.0
    assert median([7.0]) == 7.0


def test_percentile_rejects_empty_and_out_of_range() -> None:
    with pytest.raises(ValueError):
        percentile([], 50)
    with pytest.raises(ValueError):
        percentile([1.0], 101)


def test_ratio_is_none_without_both_sides() -> None:
    assert ratio(2.0, 4.0) == 0.5
    assert ratio(None, 4.0) is None
    assert ratio(2.0, None) is None
    assert ratio(2.0, 0.0) is None
