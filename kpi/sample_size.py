# Minimum SKM sample (Krejcie and Morgan 1970), as PermenPANRB 14/2017 uses it.
# Invariants: computed exactly (X² = 3.841, P = 0.5, d = 0.05 as fractions) and rounded
# once to the nearest integer, half up; adequacy is only reported, the IKM is computed
# whatever the sample size.

from __future__ import annotations

from fractions import Fraction

from kpi.rounding import round_half_up

CHI_SQUARE = Fraction("3.841")  # 1 degree of freedom, 95% confidence
PROPORTION = Fraction(1, 2)
MARGIN = Fraction(1, 20)


def krejcie_morgan(population: int) -> int:
    """Minimum respondents for `population` service users in the period; 0 when N <= 0."""
    if population <= 0:
        return 0
    variance = CHI_SQUARE * PROPORTION * (1 - PROPORTION)
    size = variance * population / (MARGIN**2 * (population - 1) + variance)
    return int(round_half_up(size, 0))


def sample_adequate(respondents: int, population: int) -> bool:
    return respondents >= krejcie_morgan(population)
