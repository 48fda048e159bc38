from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kpi.rounding import as_fraction, round_half_up, to_decimal


@pytest.mark.parametrize(
    ("value", "places", "expected"),
    [(Fraction(91475, 1000), 2, "91.48"), (Fraction(91474999, 1000000), 2, "91.47"),
     (Fraction(-5, 1000), 2, "-0.01"), (Fraction(-4, 1000), 2, "0.00"), (100, 2, "100.00"),
     (Fraction(1, 9), 4, "0.1111"), (Fraction(5, 2), 0, "3"), (Decimal("2.345"), 2, "2.35")],
)  # fmt: skip
def test_round_half_up(value: Fraction | int | Decimal, places: int, expected: str) -> None:
    assert str(round_half_up(value, places)) == expected


def test_floats_are_refused() -> None:
    with pytest.raises(TypeError):
        as_fraction(0.1)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        as_fraction(Decimal("NaN"))


def test_to_decimal_keeps_significant_digits() -> None:
    assert to_decimal(Fraction(2, 3)) == Decimal("0.6666666666666666666666666667")


@given(st.decimals(min_value=-(10**6), max_value=10**6, places=6))
def test_agrees_with_decimal_quantize(value: Decimal) -> None:
    assert round_half_up(value, 2) == value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
