# Indeks Kepuasan Masyarakat (IKM) per PermenPANRB 14/2017.
# Invariants: arithmetic is exact (Fraction) from the answer sums to the IKM; the only
# rounding is the converted value, once, to 2 decimals half-up, and the grade is taken from
# that rounded value (the published 90.56-vs-91.48 discrepancy came from rounding midway);
# the weight is exactly 1/9 unless the office opts into its rounded 0,111 or 0,11.
# The 1-4 IKM that is printed beside the grade is that same rounded value / 25 (exact, at
# most 4 decimals): at an edge (exact 3.5322 -> 88.305 -> 88.31, A) printing the exact IKM to
# 3 decimals (3,532, the B interval) would contradict the grade on the same page.
#
# Unanswered unsur (count 0), a choice of ours: they are left out of the NRR and reported
# as None, and the weight of the answered unsur is scaled by 9/k (k = answered unsur) so the
# index stays on the 1-4 scale. Summing the 8 answered NRR x 1/9 would instead score the
# missing unsur as 0 and could push a unit from A to D on a blank column. With all nine
# answered the scaling is 1 and the computation is exactly the regulation's.

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

from kpi.rounding import round_half_up
from kpi.skm_questionnaire import SCORES, UNSUR_CODES

DEFAULT_WEIGHT = Fraction(1, 9)
CONVERSION_FACTOR = 25

_WEIGHT_SETTINGS: Mapping[str, Fraction] = {
    "1/9": Fraction(1, 9),
    "0.111": Fraction(111, 1000),
    "0.11": Fraction(11, 100),
}

# (minimum converted value, mutu, kinerja), highest first.
_GRADES: tuple[tuple[Decimal, str, str], ...] = (
    (Decimal("88.31"), "A", "Sangat baik"),
    (Decimal("76.61"), "B", "Baik"),
    (Decimal("65.00"), "C", "Kurang baik"),
)
_LOWEST_GRADE = ("D", "Tidak baik")

# The regulation's interval table, as printed under the processing sheet (domain.md 2.2):
# (nilai persepsi, IKM 1-4 from, to, konversi from, to, mutu, kinerja), lowest first.
GRADE_TABLE: tuple[tuple[int, Decimal, Decimal, Decimal, Decimal, str, str], ...] = (
    (1, Decimal("1.00"), Decimal("2.5996"), Decimal("25.00"), Decimal("64.99"), "D", "Tidak baik"),
    (2, Decimal("2.60"), Decimal("3.064"), Decimal("65.00"), Decimal("76.60"), "C", "Kurang baik"),
    (3, Decimal("3.0644"), Decimal("3.532"), Decimal("76.61"), Decimal("88.30"), "B", "Baik"),
    (4, Decimal("3.5324"), Decimal("4.00"), Decimal("88.31"), Decimal("100.00"), "A", "Sangat baik"),
)


class NoResponsesError(ValueError):
    """No unsur has any answer: there is no IKM to report for the period."""


@dataclass(frozen=True)
class IkmResult:
    nrr: dict[str, Fraction | None]
    nrr_tertimbang: dict[str, Fraction | None]
    ikm: Fraction  # scale 1-4, exact
    konversi: Decimal  # scale 25-100, rounded once to 2 decimals
    mutu: str
    kinerja: str
    weight: Fraction  # the configured bobot
    effective_weight: Fraction  # bobot applied to each answered unsur (== weight if all answered)
    lowest: str
    highest: str
    respondents: int

    @property
    def ikm_shown(self) -> Decimal:
        """The 1-4 IKM to print: the rounded converted value / 25, so it and the grade come
        from the same figure."""
        return ikm_of_konversi(self.konversi)


def weight_from_setting(setting: str) -> Fraction:
    """Bobot from its setting text: 1/9 (exact, default), 0.111/0,111 or 0.11/0,11."""
    key = setting.strip().replace(",", ".")
    if key not in _WEIGHT_SETTINGS:
        raise ValueError(f"Bobot tidak dikenal: {setting!r}. Pilihan: 1/9, 0,111, 0,11.")
    return _WEIGHT_SETTINGS[key]


def grade(konversi: Decimal) -> tuple[str, str]:
    """(mutu, kinerja) of a converted value; it is first rounded to 2 decimals as the rule says."""
    value = konversi.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    for minimum, mutu, kinerja in _GRADES:
        if value >= minimum:
            return mutu, kinerja
    return _LOWEST_GRADE


def ikm_of_konversi(konversi: Decimal) -> Decimal:
    """The 1-4 value of a converted value rounded to 2 decimals (exact: at most 4 decimals)."""
    value = konversi.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    return value / CONVERSION_FACTOR


def _check_input(sums: Mapping[str, int], counts: Mapping[str, int]) -> None:
    unknown = (set(sums) | set(counts)) - set(UNSUR_CODES)
    if unknown:
        raise ValueError(f"Kode unsur tidak dikenal: {sorted(unknown)}")
    for code in UNSUR_CODES:
        total, count = sums.get(code, 0), counts.get(code, 0)
        # Every answer is 1..4, so a sum outside [count, 4*count] means corrupted input.
        if count < 0 or not min(SCORES) * count <= total <= max(SCORES) * count:
            raise ValueError(f"Jumlah {total} tidak mungkin untuk {count} jawaban pada {code}")


def compute_ikm(
    sums: Mapping[str, int],
    counts: Mapping[str, int],
    weight: Fraction = DEFAULT_WEIGHT,
) -> IkmResult:
    """IKM from per-unsur answer sums and answer counts (a GROUP BY unsur result).

    Missing codes count as unanswered. Raises NoResponsesError if nothing is answered.
    """
    if weight <= 0:
        raise ValueError(f"Bobot harus positif: {weight}")
    _check_input(sums, counts)
    nrr: dict[str, Fraction | None] = {
        code: Fraction(sums.get(code, 0), counts[code]) if counts.get(code, 0) else None
        for code in UNSUR_CODES
    }
    answered = [code for code in UNSUR_CODES if nrr[code] is not None]
    if not answered:
        raise NoResponsesError("Belum ada jawaban survei pada periode ini")
    effective_weight = weight * len(UNSUR_CODES) / len(answered)
    tertimbang: dict[str, Fraction | None] = {
        code: None if value is None else value * effective_weight for code, value in nrr.items()
    }
    ikm = sum((t for t in tertimbang.values() if t is not None), Fraction(0))
    konversi = round_half_up(ikm * CONVERSION_FACTOR, 2)
    mutu, kinerja = grade(konversi)
    answered_nrr = [(code, value) for code, value in nrr.items() if value is not None]
    # min/max return the first of equal values, i.e. the earlier unsur on the form.
    lowest = min(answered_nrr, key=lambda item: item[1])[0]
    highest = max(answered_nrr, key=lambda item: item[1])[0]
    return IkmResult(
        nrr=nrr,
        nrr_tertimbang=tertimbang,
        ikm=ikm,
        konversi=konversi,
        mutu=mutu,
        kinerja=kinerja,
        weight=weight,
        effective_weight=effective_weight,
        lowest=lowest,
        highest=highest,
        respondents=max(counts.get(code, 0) for code in UNSUR_CODES),
    )


def compute_ikm_from_responses(
    rows: Iterable[Mapping[str, int | None]],
    weight: Fraction = DEFAULT_WEIGHT,
) -> IkmResult:
    """IKM from individual responses {unsur code: score 1-4}; a missing or None score is unanswered."""
    sums = dict.fromkeys(UNSUR_CODES, 0)
    counts = dict.fromkeys(UNSUR_CODES, 0)
    for row in rows:
        for code, score in row.items():
            if code not in sums:
                raise ValueError(f"Kode unsur tidak dikenal: {code!r}")
            if score is None:
                continue
            if isinstance(score, bool) or score not in SCORES:
                raise ValueError(f"Nilai jawaban harus 1-4, bukan {score!r} pada {code}")
            sums[code] += score
            counts[code] += 1
    return compute_ikm(sums, counts, weight)
