# The kabupaten roll-up of the six IKU (issue 14): the figure of all kecamatan together, and
# each kecamatan's rank. Pure: the shell gives the per-kecamatan parts, as of one date.
# Invariants:
# - Ratio indicators (IKU 3, 4, 6) pool summed numerators over summed denominators
#   (domain.md section 4), never an average of the kecamatan percentages: a kecamatan with
#   10 complaints weighs a tenth of one with 100.
# - IKU 2 pools the answers: the per-unsur sums and counts of every kecamatan are added and
#   the IKM computed once from them (kpi.ikm.compute_ikm), as for a year that pools quarters.
# - Count indicators (IKU 1) sum.
# - IKU 5 (Nilai SAKIP) is a score issued per OPD by the evaluators; it has no numerator.
#   The kabupaten figure is the mean of the kecamatan that have a score (a choice of ours:
#   the regulation gives kecamatan no joint score), with the number of scores beside it.
# - Ranks are competition ranks ("1, 2, 2, 4"): equal values share a rank, the next rank
#   skips. They are read on the value as displayed (2 decimals, half up), so two kecamatan
#   shown "88,31" are never ranked apart by a digit nobody sees. A kecamatan without a value
#   has no rank. Lower-is-better indicators rank the smallest first.
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction

from kpi.capaian import DISPLAY_PLACES, ratio_value, sum_count
from kpi.ikm import DEFAULT_WEIGHT, IkmResult, NoResponsesError, compute_ikm
from kpi.rounding import Exact, as_fraction, round_half_up, to_decimal
from kpi.skm_questionnaire import UNSUR_CODES


@dataclass(frozen=True)
class RatioPart:
    """One kecamatan's numerator and denominator of a ratio IKU (x 100 for percent)."""

    numerator: Exact
    denominator: Exact


@dataclass(frozen=True)
class SkmPart:
    """One kecamatan's per-unsur answer sums and answer counts (a GROUP BY unsur result)."""

    sums: Mapping[str, int] = field(default_factory=dict)
    counts: Mapping[str, int] = field(default_factory=dict)


def pooled_ratio(parts: Iterable[RatioPart]) -> Decimal | None:
    """Percent of the summed numerators over the summed denominators; None with none."""
    items = list(parts)
    value = ratio_value([p.numerator for p in items], [p.denominator for p in items])
    return None if value is None else to_decimal(value * 100)


def pooled_count(parts: Iterable[int | None]) -> int:
    return sum_count(parts)


def pooled_ikm(parts: Iterable[SkmPart], weight: Fraction = DEFAULT_WEIGHT) -> IkmResult | None:
    """The IKM of every kecamatan's answers taken together; None when nobody answered."""
    sums = dict.fromkeys(UNSUR_CODES, 0)
    counts = dict.fromkeys(UNSUR_CODES, 0)
    for part in parts:
        for code in UNSUR_CODES:
            sums[code] += part.sums.get(code, 0)
            counts[code] += part.counts.get(code, 0)
    try:
        return compute_ikm(sums, counts, weight)
    except NoResponsesError:
        return None


def mean_score(scores: Iterable[Exact | None]) -> tuple[Decimal | None, int]:
    """IKU 5: the mean of the scores that exist, and how many there are."""
    present = [as_fraction(s) for s in scores if s is not None]
    if not present:
        return None, 0
    return to_decimal(sum(present, Fraction(0)) / len(present)), len(present)


def ranks(values: Mapping[str, Decimal | int | None], higher_is_better: bool = True) -> dict[str, int | None]:
    """Competition rank of each kecamatan (kode -> rank, 1 is best); None without a value."""
    shown = {
        kode: round_half_up(Decimal(v), DISPLAY_PLACES)
        for kode, v in values.items() if v is not None
    }
    ordered = sorted(shown.values(), reverse=higher_is_better)
    # The rank of a value is one more than the number of values strictly better than it:
    # its first position in the sorted list.
    first_position: dict[Decimal, int] = {}
    for position, value in enumerate(ordered, start=1):
        first_position.setdefault(value, position)
    return {kode: (first_position[shown[kode]] if kode in shown else None) for kode in values}


__all__ = [
    "RatioPart",
    "SkmPart",
    "mean_score",
    "pooled_count",
    "pooled_ikm",
    "pooled_ratio",
    "ranks",
]
