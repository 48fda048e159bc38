# Nilai SAKIP grade per PermenPANRB 88/2021.
# Invariants: score is on 0..100 (anything else is refused, not clamped); each grade's
# interval is open below and closed above ("> 80-90"), so 90.00 is A and 90.01 is AA;
# D is the closed interval 0-30.

from __future__ import annotations

from decimal import Decimal

# (exclusive lower bound, grade, predikat), highest first.
_GRADES: tuple[tuple[Decimal, str, str], ...] = (
    (Decimal(90), "AA", "Sangat memuaskan"),
    (Decimal(80), "A", "Memuaskan"),
    (Decimal(70), "BB", "Sangat baik"),
    (Decimal(60), "B", "Baik"),
    (Decimal(50), "CC", "Cukup (memadai)"),
    (Decimal(30), "C", "Kurang"),
)
_LOWEST = ("D", "Sangat kurang")


def sakip_grade(score: Decimal | int) -> tuple[str, str]:
    value = Decimal(score)
    if not value.is_finite() or not 0 <= value <= 100:
        raise ValueError(f"Nilai SAKIP harus 0-100, bukan {score}")
    for bound, grade, predikat in _GRADES:
        if value > bound:
            return grade, predikat
    return _LOWEST
