from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, localcontext
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kpi.ikm import (
    NoResponsesError,
    compute_ikm,
    compute_ikm_from_responses,
    grade,
    weight_from_setting,
)
from kpi.skm_questionnaire import (
    AGE_BANDS,
    PEKERJAAN,
    PENDIDIKAN,
    UNSUR,
    UNSUR_BY_CODE,
    UNSUR_CODES,
    age_band,
)

CODES = UNSUR_CODES


def all_answers(score: int, n: int = 5) -> list[dict[str, int | None]]:
    return [dict.fromkeys(CODES, score) for _ in range(n)]


# --- questionnaire -------------------------------------------------------------------


def test_unsur_follow_the_standard_form_order() -> None:
    assert CODES == ("u1", "u2", "u3", "u4", "u5", "u6", "u7", "u8", "u9")
    assert UNSUR_BY_CODE["u8"].nama == "Sarana dan prasarana"
    assert UNSUR_BY_CODE["u9"].nama == "Penanganan pengaduan, saran dan masukan"
    assert [u.nama for u in UNSUR[:7]] == [
        "Persyaratan",
        "Sistem, mekanisme, dan prosedur",
        "Waktu penyelesaian",
        "Biaya/tarif",
        "Produk spesifikasi jenis pelayanan",
        "Kompetensi pelaksana",
        "Perilaku pelaksana",
    ]


def test_questions_and_answer_labels_are_verbatim() -> None:
    u4 = UNSUR_BY_CODE["u4"]
    assert u4.pertanyaan == (
        "Bagaimana pendapat Saudara tentang kewajaran biaya/tarif dalam pelayanan?"
    )
    assert u4.jawaban == ("Sangat mahal", "Cukup mahal", "Murah", "Gratis")
    assert UNSUR_BY_CODE["u5"].pertanyaan == (
        "Bagaimana pendapat Saudara tentang kesesuaian produk pelayanan antara yang tercantum "
        "dalam standar pelayanan dengan hasil yang diberikan?"
    )
    assert UNSUR_BY_CODE["u9"].label(2) == "Ada tetapi tidak berfungsi"
    assert UNSUR_BY_CODE["u8"].label(1) == "Buruk"
    assert UNSUR_BY_CODE["u7"].label(4) == "Sangat sopan dan ramah"
    with pytest.raises(ValueError):
        UNSUR_BY_CODE["u1"].label(5)
    assert all(len(u.jawaban) == 4 and u.pertanyaan.endswith("?") for u in UNSUR)


def test_profile_options() -> None:
    assert PENDIDIKAN == ("SD", "SMP", "SMA", "D1-D3", "S1", "S2", "S3")
    assert PEKERJAAN == ("PNS", "TNI", "POLRI", "Swasta", "Wirausaha", "Lainnya")


@pytest.mark.parametrize(
    ("age", "band"),
    [(0, "<=20"), (20, "<=20"), (21, "21-30"), (30, "21-30"), (31, "31-40"), (50, "41-50"),
     (51, "51-60"), (60, "51-60"), (61, ">60"), (99, ">60")],
)  # fmt: skip
def test_age_band_edges(age: int, band: str) -> None:
    assert age_band(age) == band
    assert band in AGE_BANDS


def test_negative_age_is_refused() -> None:
    with pytest.raises(ValueError):
        age_band(-1)


# --- weights and grades ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("setting", "weight"),
    [("1/9", Fraction(1, 9)), (" 1/9 ", Fraction(1, 9)), ("0.111", Fraction(111, 1000)),
     ("0,111", Fraction(111, 1000)), ("0.11", Fraction(11, 100)), ("0,11", Fraction(11, 100))],
)  # fmt: skip
def test_weight_settings(setting: str, weight: Fraction) -> None:
    assert weight_from_setting(setting) == weight


@pytest.mark.parametrize("setting", ["", "0.1", "1/8", "0.1111", "0,11,1", "abc", "1/9x"])
def test_unknown_weight_settings_are_refused(setting: str) -> None:
    with pytest.raises(ValueError):
        weight_from_setting(setting)


@pytest.mark.parametrize(
    ("value", "mutu", "kinerja"),
    [("100.00", "A", "Sangat baik"), ("88.31", "A", "Sangat baik"), ("88.30", "B", "Baik"),
     ("76.61", "B", "Baik"), ("76.60", "C", "Kurang baik"), ("65.00", "C", "Kurang baik"),
     ("64.99", "D", "Tidak baik"), ("25.00", "D", "Tidak baik"),
     # the rule grades the value rounded to 2 decimals
     ("88.305", "A", "Sangat baik"), ("88.3049", "B", "Baik")],
)  # fmt: skip
def test_grade_boundaries(value: str, mutu: str, kinerja: str) -> None:
    assert grade(Decimal(value)) == (mutu, kinerja)


# --- computation ---------------------------------------------------------------------


def test_all_fours_is_100_and_a() -> None:
    result = compute_ikm_from_responses(all_answers(4))
    assert str(result.konversi) == "100.00"
    assert result.ikm == 4
    assert (result.mutu, result.kinerja) == ("A", "Sangat baik")
    assert result.respondents == 5


def test_rounded_weights_change_the_result() -> None:
    assert str(compute_ikm_from_responses(all_answers(4), Fraction(11, 100)).konversi) == "99.00"
    assert str(compute_ikm_from_responses(all_answers(4), Fraction(111, 1000)).konversi) == "99.90"


def test_all_ones_is_25_and_d() -> None:
    result = compute_ikm_from_responses(all_answers(1))
    assert str(result.konversi) == "25.00"
    assert (result.mutu, result.kinerja) == ("D", "Tidak baik")


def test_exact_91_475_rounds_once_to_91_48() -> None:
    # 1000 respondents; per unsur 341 answer 3 and 659 answer 4: NRR 3.659 exactly,
    # IKM 3.659, konversi 91.475 exactly. Uneven unsur keep the same total sum.
    rows: list[dict[str, int | None]] = []
    for i in range(1000):
        row: dict[str, int | None] = dict.fromkeys(CODES, 3 if i < 341 else 4)
        # Shift one point from u1 to u2 for 100 respondents: NRRs differ, their sum does not.
        if 341 <= i < 441:
            row["u1"] = 3
        if 100 <= i < 200:
            row["u2"] = 4
        rows.append(row)
    result = compute_ikm_from_responses(rows)
    assert result.ikm * 25 == Fraction(91475, 1000)
    assert result.konversi == Decimal("91.48")
    assert result.konversi != Decimal("90.56")
    assert result.nrr["u1"] == Fraction(3559, 1000)
    assert result.nrr["u2"] == Fraction(3759, 1000)
    assert (result.lowest, result.highest) == ("u1", "u2")
    # 90.56 is what the rounded weight 0,11 gives on the same data.
    assert compute_ikm_from_responses(rows, Fraction(11, 100)).konversi == Decimal("90.56")


def test_nrr_and_tertimbang_from_group_by_sums() -> None:
    sums = {c: 14 for c in CODES} | {"u3": 8, "u7": 16}
    counts = dict.fromkeys(CODES, 4)
    result = compute_ikm(sums, counts)
    assert result.nrr["u3"] == 2
    assert result.nrr["u1"] == Fraction(7, 2)
    assert result.nrr_tertimbang["u1"] == Fraction(7, 18)
    assert result.ikm == sum(v for v in result.nrr_tertimbang.values() if v is not None)
    assert result.ikm == Fraction(14 * 7 + 8 + 16, 36)
    # 25 * 122/36 = 84.7222...
    assert result.konversi == Decimal("84.72")
    assert result.mutu == "B"
    assert (result.lowest, result.highest) == ("u3", "u7")
    assert result.weight == result.effective_weight == Fraction(1, 9)


def test_ties_pick_the_first_unsur() -> None:
    result = compute_ikm_from_responses(all_answers(3))
    assert (result.lowest, result.highest) == ("u1", "u1")


def test_unanswered_unsur_is_none_and_weight_is_spread() -> None:
    rows: list[dict[str, int | None]] = [{**dict.fromkeys(CODES, 4), "u9": None}] * 3
    result = compute_ikm_from_responses(rows)
    assert result.nrr["u9"] is None
    assert result.nrr_tertimbang["u9"] is None
    assert result.effective_weight == Fraction(1, 8)
    # A blank column must not be scored as 0 (which would give 88.89).
    assert str(result.konversi) == "100.00"
    # Missing keys in the GROUP BY result mean the same as count 0.
    sums = {c: 12 for c in CODES if c != "u9"}
    counts = {c: 3 for c in CODES if c != "u9"}
    assert compute_ikm(sums, counts) == result


def test_no_answers_at_all() -> None:
    with pytest.raises(NoResponsesError):
        compute_ikm({}, {})
    with pytest.raises(NoResponsesError):
        compute_ikm_from_responses([])


@pytest.mark.parametrize(
    ("sums", "counts"),
    [({"u1": 9}, {"u1": 2}), ({"u1": 1}, {"u1": 2}), ({"u1": 3}, {}), ({"u10": 4}, {"u10": 1}),
     ({"u1": 0}, {"u1": -1})],
)  # fmt: skip
def test_impossible_aggregates_are_refused(sums: dict[str, int], counts: dict[str, int]) -> None:
    with pytest.raises(ValueError):
        compute_ikm(sums, counts)


@pytest.mark.parametrize("row", [{"u1": 5}, {"u1": 0}, {"x": 3}, {"u1": True}])
def test_bad_responses_are_refused(row: dict[str, int]) -> None:
    with pytest.raises(ValueError):
        compute_ikm_from_responses([row])


def test_non_positive_weight_is_refused() -> None:
    with pytest.raises(ValueError):
        compute_ikm_from_responses(all_answers(3), Fraction(0))


# --- properties ----------------------------------------------------------------------

full_row = st.fixed_dictionaries({c: st.integers(1, 4) for c in CODES})
full_rows = st.lists(full_row, min_size=1, max_size=40)
partial_row = st.fixed_dictionaries({c: st.none() | st.integers(1, 4) for c in CODES})
partial_rows = st.lists(partial_row, min_size=1, max_size=40).filter(
    lambda rows: any(v is not None for row in rows for v in row.values())
)


def oracle_konversi(rows: list[dict[str, int]]) -> Decimal:
    """25 x mean NRR with plain high-precision Decimal, rounded half up."""
    n = len(rows)
    with localcontext() as ctx:
        ctx.prec = 60
        nrrs = [Decimal(sum(r[c] for r in rows)) / Decimal(n) for c in CODES]
        mean = sum(nrrs, Decimal(0)) / Decimal(len(CODES))
        return (mean * 25).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


@given(full_rows)
def test_konversi_matches_25_times_mean_nrr(rows: list[dict[str, int]]) -> None:
    result = compute_ikm_from_responses(rows)
    assert Decimal(25) <= result.konversi <= Decimal(100)
    assert result.konversi == oracle_konversi(rows)
    assert (result.mutu, result.kinerja) == grade(result.konversi)


@given(partial_rows)
def test_konversi_stays_on_scale_with_blank_answers(rows: list[dict[str, int | None]]) -> None:
    result = compute_ikm_from_responses(rows)
    assert Decimal(25) <= result.konversi <= Decimal(100)
    assert result.ikm == sum(v for v in result.nrr_tertimbang.values() if v is not None)


@given(partial_rows, st.data())
def test_raising_one_answer_never_lowers_the_ikm(
    rows: list[dict[str, int | None]], data: st.DataObject
) -> None:
    answered = [(i, c) for i, row in enumerate(rows) for c, v in row.items() if v is not None]
    i, code = data.draw(st.sampled_from(answered))
    old = rows[i][code]
    assert old is not None
    new = data.draw(st.integers(old, 4))
    raised = [dict(row) for row in rows]
    raised[i][code] = new
    before, after = compute_ikm_from_responses(rows), compute_ikm_from_responses(raised)
    assert after.ikm >= before.ikm
    assert after.konversi >= before.konversi


@given(partial_rows)
def test_aggregates_and_rows_agree(rows: list[dict[str, int | None]]) -> None:
    sums = {c: sum(r[c] or 0 for r in rows) for c in CODES}
    counts = {c: sum(r[c] is not None for r in rows) for c in CODES}
    assert compute_ikm(sums, counts) == compute_ikm_from_responses(rows)


# Grade edges (issue 9): the printed 1-4 IKM comes from the same rounded figure as the grade.
# Hand-computed: 5000 respondents, every unsur summing to 17661 -> NRR 3,5322 each, IKM exact
# 3,5322, x 25 = 88,305 -> 88,31 -> A; printed 88,31 / 25 = 3,5324 (the A interval), never
# 3,532 (the exact IKM to 3 decimals, which the interval table puts in B). Likewise 15321 ->
# NRR 3,0642 -> 76,605 -> 76,61 -> B, printed 3,0644; and 17660 -> 3,5320 -> 88,30 -> B, 3,532.
@pytest.mark.parametrize("unsur_sum, konversi, mutu, shown", [
    (17661, "88.31", "A", "3.5324"),
    (17660, "88.30", "B", "3.532"),
    (15321, "76.61", "B", "3.0644"),
    (15320, "76.60", "C", "3.064"),
])
def test_grade_edges_print_the_same_rounded_figure(unsur_sum: int, konversi: str, mutu: str, shown: str) -> None:
    from kpi.ikm import GRADE_TABLE, ikm_of_konversi

    result = compute_ikm(dict.fromkeys(UNSUR_CODES, unsur_sum), dict.fromkeys(UNSUR_CODES, 5000))
    assert result.konversi == Decimal(konversi) and result.mutu == mutu
    assert result.ikm_shown == Decimal(shown) and ikm_of_konversi(Decimal(konversi)) == Decimal(shown)
    # The printed value falls in the interval-table row of the grade.
    (row,) = [g for g in GRADE_TABLE if g[5] == mutu]
    assert row[1] <= result.ikm_shown <= row[2] and row[3] <= result.konversi <= row[4]
