from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kpi.sakip import sakip_grade


@pytest.mark.parametrize(
    ("score", "grade", "predikat"),
    [("100", "AA", "Sangat memuaskan"), ("90.01", "AA", "Sangat memuaskan"),
     ("90.00", "A", "Memuaskan"), ("80.01", "A", "Memuaskan"), ("80.00", "BB", "Sangat baik"),
     ("70.01", "BB", "Sangat baik"), ("70", "B", "Baik"), ("60.01", "B", "Baik"),
     ("60", "CC", "Cukup (memadai)"), ("50.01", "CC", "Cukup (memadai)"), ("50", "C", "Kurang"),
     ("30.01", "C", "Kurang"), ("30.00", "D", "Sangat kurang"), ("0", "D", "Sangat kurang")],
)  # fmt: skip
def test_grade_intervals_are_open_below(score: str, grade: str, predikat: str) -> None:
    assert sakip_grade(Decimal(score)) == (grade, predikat)


def test_int_scores() -> None:
    assert sakip_grade(71) == ("BB", "Sangat baik")


@pytest.mark.parametrize("score", ["-0.01", "100.01", "NaN", "Infinity"])
def test_out_of_range_is_refused(score: str) -> None:
    with pytest.raises(ValueError):
        sakip_grade(Decimal(score))


ORDER = ["D", "C", "CC", "B", "BB", "A", "AA"]
scores = st.decimals(min_value=0, max_value=100, places=2)


@given(scores, scores)
def test_higher_score_never_gets_a_lower_grade(a: Decimal, b: Decimal) -> None:
    low, high = sorted((a, b))
    assert ORDER.index(sakip_grade(low)[0]) <= ORDER.index(sakip_grade(high)[0])
