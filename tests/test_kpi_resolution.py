from __future__ import annotations

import statistics
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kpi.resolution import ResolutionCounts, percentile, resolution_rate, within_standard_share


def test_exclusions_leave_the_denominator() -> None:
    c = ResolutionCounts(
        received=50, excluded_duplicate=3, excluded_forwarded=7, resolved=36, within_standard=30
    )
    assert c.counted == 40
    assert resolution_rate(c) == Fraction(36, 40)
    assert within_standard_share(c) == Fraction(30, 36)


def test_nothing_counted_or_resolved_gives_none() -> None:
    assert resolution_rate(ResolutionCounts(0, 0, 0, 0, 0)) is None
    assert resolution_rate(ResolutionCounts(4, 1, 3, 0, 0)) is None
    assert within_standard_share(ResolutionCounts(5, 0, 0, 0, 0)) is None
    assert resolution_rate(ResolutionCounts(5, 0, 0, 0, 0)) == 0


@pytest.mark.parametrize(
    "args",
    [(-1, 0, 0, 0, 0), (5, 4, 2, 0, 0), (5, 1, 1, 4, 0), (5, 0, 0, 2, 3), (5, 0, -1, 0, 0)],
)
def test_inconsistent_counts_are_refused(args: tuple[int, int, int, int, int]) -> None:
    with pytest.raises(ValueError):
        ResolutionCounts(*args)


def test_percentiles_of_working_days() -> None:
    days = [1, 2, 2, 3, 5, 8, 13, 21, 34, 55]
    assert percentile(days, 50) == 6.5
    assert percentile(days, 90) == pytest.approx(
        statistics.quantiles(days, n=10, method="inclusive")[8]
    )
    assert percentile(days, 90) == pytest.approx(36.1)
    assert percentile(days, 0) == 1.0
    assert percentile(days, 100) == 55.0
    assert percentile([], 50) is None
    assert percentile([4], 90) == 4.0
    with pytest.raises(ValueError):
        percentile(days, 101)


durations = st.lists(st.integers(0, 200), min_size=1, max_size=60)


@given(durations, st.integers(0, 100), st.integers(0, 100))
def test_percentile_is_within_range_and_monotone(values: list[int], p: int, q: int) -> None:
    lo, hi = sorted((p, q))
    a, b = percentile(values, lo), percentile(values, hi)
    assert a is not None and b is not None
    assert min(values) <= a <= b <= max(values)


@given(st.integers(0, 500), st.data())
def test_rate_is_a_share(received: int, data: st.DataObject) -> None:
    dup = data.draw(st.integers(0, received))
    fwd = data.draw(st.integers(0, received - dup))
    resolved = data.draw(st.integers(0, received - dup - fwd))
    ontime = data.draw(st.integers(0, resolved))
    rate = resolution_rate(ResolutionCounts(received, dup, fwd, resolved, ontime))
    assert rate is None or 0 <= rate <= 1
    assert (rate is None) == (received - dup - fwd == 0)


def test_add_counts_adds_every_field_and_nothing_is_zero() -> None:
    from kpi.resolution import add_counts

    parts = [ResolutionCounts(10, 1, 2, 5, 3), ResolutionCounts(4, 0, 1, 2, 2), ResolutionCounts(0, 0, 0, 0, 0)]
    assert add_counts(parts) == ResolutionCounts(14, 1, 3, 7, 5)
    assert add_counts([]) == ResolutionCounts(0, 0, 0, 0, 0)
    assert add_counts(iter(parts[:1])) == parts[0]
