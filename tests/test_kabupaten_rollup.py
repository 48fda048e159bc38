# The kabupaten figure of the six IKU and the kecamatan ranks (kpi.kabupaten), by worked
# examples and by properties.
from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

from hypothesis import given
from hypothesis import strategies as st

from kpi.kabupaten import (
    RatioPart,
    SkmPart,
    mean_score,
    pooled_count,
    pooled_ikm,
    pooled_ratio,
    ranks,
)
from kpi.skm_questionnaire import UNSUR_CODES


def test_a_ratio_pools_numerators_and_denominators_not_percentages() -> None:
    # Jelbuk resolved 90 of 100 complaints (90%), Arjasa 0 of 1 (0%). The mean of the two
    # percentages would be 45%; the kabupaten resolved 90 of 101 = 89,108910...%.
    value = pooled_ratio([RatioPart(90, 100), RatioPart(0, 1)])
    assert value is not None
    assert round(value, 4) == Decimal("89.1089")
    assert value == Decimal(9000) / Decimal(101)


def test_a_ratio_without_any_denominator_has_no_value() -> None:
    assert pooled_ratio([]) is None
    assert pooled_ratio([RatioPart(0, 0), RatioPart(0, 0)]) is None


def test_counts_sum_and_a_missing_count_adds_nothing() -> None:
    assert pooled_count([3, None, 5]) == 8


def _all(score: int, n: int) -> SkmPart:
    return SkmPart({u: score * n for u in UNSUR_CODES}, dict.fromkeys(UNSUR_CODES, n))


def test_the_ikm_pools_the_answers_of_every_kecamatan() -> None:
    # 30 respondents answering 4 everywhere and 10 answering 1: NRR 130/40 = 3,25 on each
    # unsur, IKM 3,25 x 25 = 81,25 (B, Baik). The mean of 100,00 and 25,00 would be 62,50.
    result = pooled_ikm([_all(4, 30), _all(1, 10)])
    assert result is not None
    assert result.konversi == Decimal("81.25")
    assert (result.mutu, result.kinerja) == ("B", "Baik")
    assert result.respondents == 40


def test_all_fours_give_100_and_all_ones_give_25_whatever_the_kecamatan() -> None:
    four = pooled_ikm([_all(4, 7), _all(4, 120), _all(4, 1)])
    one = pooled_ikm([_all(1, 3), _all(1, 50)])
    assert four is not None and four.konversi == Decimal("100.00")
    assert one is not None and one.konversi == Decimal("25.00")


def test_no_answers_anywhere_gives_no_ikm() -> None:
    assert pooled_ikm([SkmPart(), SkmPart()]) is None


def test_the_sakip_figure_is_the_mean_of_the_scores_present() -> None:
    assert mean_score([Decimal("70.50"), None, Decimal("81.25")]) == (Decimal("75.875"), 2)
    assert mean_score([None, None]) == (None, 0)


def test_equal_shown_values_share_a_rank_and_the_next_rank_skips() -> None:
    values = {
        "35.09.25": Decimal("88.31"),
        "35.09.22": Decimal("90"),
        "35.09.24": Decimal("88.305"),  # shown 88,31: the same as Jelbuk
        "35.09.01": Decimal("70"),
        "35.09.02": None,
    }
    assert ranks(values) == {"35.09.22": 1, "35.09.25": 2, "35.09.24": 2, "35.09.01": 4, "35.09.02": None}
    # Lower is better: the smallest value ranks first.
    assert ranks(values, higher_is_better=False) == {
        "35.09.01": 1, "35.09.25": 2, "35.09.24": 2, "35.09.22": 4, "35.09.02": None,
    }


parts = st.lists(
    st.integers(min_value=1, max_value=500).flatmap(
        lambda den: st.tuples(st.integers(min_value=0, max_value=den), st.just(den))
    ),
    min_size=1, max_size=31,
)


@given(parts)
def test_the_pooled_ratio_lies_between_the_lowest_and_highest_kecamatan(items: list[tuple[int, int]]) -> None:
    value = pooled_ratio([RatioPart(n, d) for n, d in items])
    rates = [Fraction(n, d) * 100 for n, d in items]
    assert value is not None
    assert min(rates) - Fraction(1, 10**20) <= Fraction(value) <= max(rates) + Fraction(1, 10**20)


@given(st.dictionaries(st.text(min_size=1, max_size=8), st.one_of(st.none(), st.integers(0, 100)), max_size=31))
def test_ranks_are_competition_ranks(values: dict[str, int | None]) -> None:
    result = ranks(values)
    assert set(result) == set(values)
    present = {k: v for k, v in values.items() if v is not None}
    for kode, rank in result.items():
        mine = values[kode]
        if mine is None:
            assert rank is None
        else:
            assert rank == sum(1 for v in present.values() if v > mine) + 1
