# Exact rounding of exact numbers.
# Invariants: inputs are never floats; rounding happens here and only where a caller
# asks for a displayed/graded value; half-up means away from zero on a tie, the
# convention of Indonesian reports (and of Decimal.ROUND_HALF_UP).

from __future__ import annotations

from decimal import Decimal, localcontext
from fractions import Fraction

Exact = int | Fraction | Decimal


def as_fraction(value: Exact) -> Fraction:
    # Floats are refused: their binary noise would leak into regulated numbers.
    if isinstance(value, bool) or not isinstance(value, int | Fraction | Decimal):
        raise TypeError(f"Nilai harus int, Fraction atau Decimal, bukan {type(value).__name__}")
    if isinstance(value, Decimal) and not value.is_finite():
        raise ValueError(f"Nilai tidak terhingga atau NaN: {value}")
    return Fraction(value)


def round_half_up(value: Exact, places: int) -> Decimal:
    """Round exactly to `places` decimals, ties away from zero, e.g. 91.475 -> 91.48."""
    exact = as_fraction(value)
    scaled = abs(exact) * Fraction(10) ** places
    quotient, remainder = divmod(scaled.numerator, scaled.denominator)
    if 2 * remainder >= scaled.denominator:
        quotient += 1
    sign = 1 if exact < 0 and quotient else 0
    # Building from the digit tuple avoids any context rounding of large values.
    return Decimal((sign, tuple(int(c) for c in str(quotient)), -places))


def to_decimal(value: Exact, digits: int = 28) -> Decimal:
    """Decimal with `digits` significant digits: for values that are not rounded for display yet."""
    exact = as_fraction(value)
    with localcontext() as ctx:
        ctx.prec = digits
        return Decimal(exact.numerator) / Decimal(exact.denominator)
