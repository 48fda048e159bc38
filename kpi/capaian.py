# Capaian kinerja (achievement against the Perjanjian Kinerja target), LKjIP style.
# Invariants: exact arithmetic (Fraction) until the returned Decimal, which keeps 28
# significant digits (callers round for display); values above 100% are kept as they are;
# ratio indicators are recomputed from summed numerators and denominators, never from an
# average of percentages; floats are refused; a band is chosen on the value as displayed
# (rounded half up to 2 decimals), so one "91,00" is never labelled two ways; lower-is-better
# capaian may be floored at 0 (office setting iku.capaian_minimum_nol).

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from kpi.rounding import Exact, as_fraction, round_half_up, to_decimal

# Capaian is shown with 2 decimals; the band is read from that shown value.
DISPLAY_PLACES = 2


def capaian(realisasi: Exact, target: Exact, higher_is_better: bool = True,
            floor_zero: bool = False) -> Decimal | None:
    """Capaian in percent; None when the target is 0 (there is nothing to achieve against).

    higher is better: realisasi / target x 100; lower is better: (2 x target - realisasi) / target x 100,
    which goes negative past twice the target: `floor_zero` shows that as 0.
    """
    r, t = as_fraction(realisasi), as_fraction(target)
    if t < 0:
        raise ValueError(f"Target tidak boleh negatif: {target}")
    if t == 0:
        return None
    value = r / t * 100 if higher_is_better else (2 * t - r) / t * 100
    if floor_zero and value < 0:
        value = Fraction(0)
    return to_decimal(value)


@dataclass(frozen=True)
class Band:
    minimum: Decimal  # inclusive lower bound of the band, in percent
    label: str


# Jawa Timur LKjIP bands. The published table reads "76-90 baik, >= 91 sangat baik", which
# leaves gaps (90-91, 75-76, ...) for non-integer capaian; we apply the lower bounds as
# thresholds on the value as displayed (2 decimals, half up), so 90.5 is "Baik", 75.9 is
# "Cukup" and 90.996 (shown "91,00") is "Sangat baik".
DEFAULT_BANDS: tuple[Band, ...] = (
    Band(Decimal(91), "Sangat baik"),
    Band(Decimal(76), "Baik"),
    Band(Decimal(66), "Cukup"),
    Band(Decimal(51), "Kurang"),
    Band(Decimal("-Infinity"), "Sangat kurang"),
)


def band(value: Decimal, bands: Sequence[Band] = DEFAULT_BANDS) -> str:
    """Label of the highest band whose minimum `value` reaches.

    The lowest band also takes anything below its own minimum, so every capaian gets a label
    even with an office's custom bands (bands may be given in any order).
    """
    if not bands:
        raise ValueError("Daftar rentang capaian kosong")
    value = round_half_up(value, DISPLAY_PLACES)
    ordered = sorted(bands, key=lambda b: b.minimum, reverse=True)
    for candidate in ordered:
        if value >= candidate.minimum:
            return candidate.label
    return ordered[-1].label


def ratio_value(numerators: Iterable[Exact], denominators: Iterable[Exact]) -> Fraction | None:
    """Sum of numerators / sum of denominators, as a plain ratio (x 100 for percent).

    None when the denominators sum to 0. Both lists must be the same length: one entry per
    triwulan (or other part) on each side.
    """
    nums = [as_fraction(n) for n in numerators]
    dens = [as_fraction(d) for d in denominators]
    if len(nums) != len(dens):
        raise ValueError(f"Jumlah pembilang ({len(nums)}) dan penyebut ({len(dens)}) berbeda")
    total = sum(dens, Fraction(0))
    if total == 0:
        return None
    return sum(nums, Fraction(0)) / total


def sum_count(values: Iterable[int | None]) -> int:
    """Year value of a count indicator; None (triwulan not reported yet) adds nothing."""
    total = 0
    for v in values:
        if v is None:
            continue
        if v < 0:
            raise ValueError(f"Jumlah tidak boleh negatif: {v}")
        total += v
    return total


def program_achieved(value: Decimal | None, threshold: Decimal = Decimal(100)) -> bool:
    """IKU 6: a program indicator counts as achieved when its capaian reaches the threshold.

    An indicator without capaian (no target) is not achieved.
    """
    return value is not None and value >= threshold
