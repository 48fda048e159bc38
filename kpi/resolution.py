# IKU 4: persentase tingkat penyelesaian laporan (complaint resolution).
# Invariants (our fixed definition, see domain.md section 3): the cohort is the complaints
# RECEIVED in the period; duplicates and complaints forwarded as not our authority leave the
# denominator (with a recorded reason, kept by storage); "resolved" never includes closed-
# but-not-fixed or forwarded complaints; rates are exact Fractions in 0..1 (x 100 for %).

from __future__ import annotations

import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from fractions import Fraction


@dataclass(frozen=True)
class ResolutionCounts:
    received: int
    excluded_duplicate: int
    excluded_forwarded: int
    resolved: int  # of the counted complaints (the denominator), those resolved
    within_standard: int  # of the resolved, those resolved within the standard service time

    def __post_init__(self) -> None:
        for name in (
            "received",
            "excluded_duplicate",
            "excluded_forwarded",
            "resolved",
            "within_standard",
        ):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} tidak boleh negatif: {getattr(self, name)}")
        if self.counted < 0:
            raise ValueError("Pengecualian melebihi jumlah laporan masuk")
        # Same cohort on both sides: more resolved than counted means a counting bug upstream.
        if self.resolved > self.counted:
            raise ValueError(
                f"Selesai ({self.resolved}) melebihi laporan yang dihitung ({self.counted})"
            )
        if self.within_standard > self.resolved:
            raise ValueError("Tepat waktu melebihi jumlah yang selesai")

    @property
    def counted(self) -> int:
        """The IKU 4 denominator."""
        return self.received - self.excluded_duplicate - self.excluded_forwarded


def add_counts(parts: Iterable[ResolutionCounts]) -> ResolutionCounts:
    """The counts of disjoint groups of one cohort (triwulan, desa, days) added up."""
    totals = [0, 0, 0, 0, 0]
    for p in parts:
        for i, n in enumerate((p.received, p.excluded_duplicate, p.excluded_forwarded, p.resolved,
                               p.within_standard)):
            totals[i] += n
    return ResolutionCounts(*totals)


def resolution_rate(c: ResolutionCounts) -> Fraction | None:
    """resolved / (received - duplicates - forwarded); None when nothing is counted."""
    if c.counted == 0:
        return None
    return Fraction(c.resolved, c.counted)


def within_standard_share(c: ResolutionCounts) -> Fraction | None:
    """Share of resolved complaints resolved within the standard time; None if none resolved."""
    if c.resolved == 0:
        return None
    return Fraction(c.within_standard, c.resolved)


def percentile(values: Sequence[float | int], p: int) -> float | None:
    """p-th percentile (0..100) of durations, e.g. working days to resolve; None if empty.

    Uses the inclusive method (interpolating between observed values, never beyond them),
    so p=0 is the minimum, p=50 the median and p=100 the maximum.
    """
    if not 0 <= p <= 100:
        raise ValueError(f"Persentil harus 0-100, bukan {p}")
    if not values:
        return None
    if p == 50:
        return float(statistics.median(values))
    if len(values) == 1:
        # statistics.quantiles needs two points before Python 3.13.
        return float(values[0])
    if p == 0:
        return float(min(values))
    if p == 100:
        return float(max(values))
    return float(statistics.quantiles(values, n=100, method="inclusive")[p - 1])
