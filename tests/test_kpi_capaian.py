from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kpi.capaian import (
    DEFAULT_BANDS,
    Band,
    band,
    capaian,
    program_achieved,
    ratio_value,
    sum_count,
)


def test_higher_is_better() -> None:
    assert capaian(80, 100) == Decimal(80)
    assert capaian(Decimal("4"), Decimal("5")) == Decimal(80)
    # Above-target realisation is kept as it is.
    assert capaian(120, 100) == Decimal(120)


def test_lower_is_better() -> None:
    assert capaian(5, 10, higher_is_better=False) == Decimal(150)
    assert capaian(10, 10, higher_is_better=False) == Decimal(100)
    assert capaian(15, 10, higher_is_better=False) == Decimal(50)


def test_zero_target_has_no_capaian() -> None:
    assert capaian(3, 0) is None
    assert capaian(3, Decimal("0.00"), higher_is_better=False) is None


def test_full_precision_is_kept_for_the_caller_to_round() -> None:
    value = capaian(1, 3)
    assert value is not None
    assert value == Decimal("33.33333333333333333333333333")
    assert capaian(Fraction(1, 8), 1) == Decimal("12.5")


def test_floats_and_negative_targets_are_refused() -> None:
    with pytest.raises(TypeError):
        capaian(0.8, 1)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        capaian(1, -1)


@pytest.mark.parametrize(
    ("value", "label"),
    [("150", "Sangat baik"), ("91", "Sangat baik"), ("90.99", "Baik"), ("90.5", "Baik"),
     ("76", "Baik"), ("75.9", "Cukup"), ("66", "Cukup"), ("65.5", "Kurang"), ("51", "Kurang"),
     ("50.99", "Sangat kurang"), ("0", "Sangat kurang"), ("-20", "Sangat kurang")],
)  # fmt: skip
def test_default_bands(value: str, label: str) -> None:
    assert band(Decimal(value)) == label


def test_custom_bands_any_order_lowest_is_open_below() -> None:
    bands = [
        Band(Decimal(50), "Sedang"),
        Band(Decimal(100), "Tercapai"),
        Band(Decimal(0), "Rendah"),
    ]
    assert band(Decimal(100), bands) == "Tercapai"
    assert band(Decimal("99.99"), bands) == "Sedang"
    assert band(Decimal(-1), bands) == "Rendah"
    with pytest.raises(ValueError):
        band(Decimal(1), [])


def test_ratio_sums_before_dividing() -> None:
    # Q1 1/2 (50%), Q2 99/100 (99%): the year is 100/102, not the 74.5% average.
    assert ratio_value([1, 99], [2, 100]) == Fraction(100, 102)
    assert ratio_value([0, 0], [0, 0]) is None
    assert ratio_value([], []) is None
    with pytest.raises(ValueError):
        ratio_value([1, 2], [3])


def test_counts_sum_and_skip_unreported_quarters() -> None:
    assert sum_count([2, 3, None, 4]) == 9
    assert sum_count([]) == 0
    with pytest.raises(ValueError):
        sum_count([1, -1])


def test_program_achieved_threshold() -> None:
    assert program_achieved(Decimal(100))
    assert program_achieved(Decimal("120.5"))
    assert not program_achieved(Decimal("99.99"))
    assert program_achieved(Decimal("91"), threshold=Decimal(91))
    assert not program_achieved(Decimal("90.99"), threshold=Decimal(91))
    assert not program_achieved(None)


positive = st.integers(1, 10**6)
amounts = st.integers(0, 10**6)


@given(amounts, positive)
def test_higher_and_lower_mirror_around_100(realisasi: int, target: int) -> None:
    up = capaian(realisasi, target)
    down = capaian(realisasi, target, higher_is_better=False)
    assert up is not None and down is not None
    assert abs(up + down - 200) < Decimal("1e-20")
    assert (up >= 100) == (realisasi >= target)


@given(st.lists(st.tuples(amounts, positive), min_size=1, max_size=8))
def test_summed_ratio_lies_between_the_parts(parts: list[tuple[int, int]]) -> None:
    value = ratio_value([n for n, _ in parts], [d for _, d in parts])
    ratios = [Fraction(n, d) for n, d in parts]
    assert value is not None
    assert min(ratios) <= value <= max(ratios)


capaian_values = st.decimals(min_value=-1000, max_value=1000, allow_nan=False)


@given(capaian_values, capaian_values)
def test_bands_are_monotone(a: Decimal, b: Decimal) -> None:
    order = [b.label for b in DEFAULT_BANDS]
    low, high = sorted((a, b))
    assert order.index(band(low)) >= order.index(band(high))


def test_band_is_chosen_on_the_value_as_displayed() -> None:
    # 90.996 is shown "91,00": labelled as 91.00 is, never "Baik" beside "91,00".
    assert band(Decimal("90.996")) == band(Decimal(91)) == "Sangat baik"
    assert band(Decimal("90.994")) == "Baik"  # shown "90,99"
    assert band(Decimal("75.995")) == "Baik" and band(Decimal("75.9949")) == "Cukup"


def test_lower_is_better_floor_at_zero() -> None:
    # Realisasi past twice the target: (2 x 10 - 25) / 10 x 100 = -50%, shown 0 when floored.
    assert capaian(25, 10, higher_is_better=False) == Decimal(-50)
    assert capaian(25, 10, higher_is_better=False, floor_zero=True) == Decimal(0)
    assert capaian(15, 10, higher_is_better=False, floor_zero=True) == Decimal(50)
    # Higher is better never goes negative; the floor changes nothing there.
    assert capaian(0, 10, floor_zero=True) == Decimal(0)
