# Frozen IKU figures (`sigap iku tutup`): what was reported for an indicator and a period,
# kept as reported, with who froze it and when.
# Invariants: one row per (indicator, period), never changed after it is written (a second
# freeze of the same period is refused); the value is stored as displayed (2 decimals), with
# the numerator and denominator it came from when the indicator is a ratio.
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from storage.iku import RegisterError
from storage.models import IkuFrozenFigure


@dataclass(frozen=True)
class Figure:
    code: str
    period: str  # "2026-Q1" or "2026"
    as_of: date
    value: Decimal | None
    numerator: int | None
    denominator: int | None
    definition: str | None = None


def freeze(session: Session, figures: Sequence[Figure], by: str, at: datetime,
           note: str | None = None) -> list[IkuFrozenFigure]:
    """Record the figures of one period; refused whole if any of them is frozen already."""
    periods = {f.period for f in figures}
    taken = session.scalars(
        select(IkuFrozenFigure).where(IkuFrozenFigure.period.in_(periods),
                                      IkuFrozenFigure.code.in_({f.code for f in figures}))
    ).all()
    if taken:
        first = taken[0]
        raise RegisterError(
            f"{first.code} periode {first.period} sudah dikunci oleh {first.frozen_by} "
            f"pada {first.frozen_at:%Y-%m-%d %H:%M} UTC; angka yang dikunci tidak diubah."
        )
    rows = [
        IkuFrozenFigure(code=f.code, period=f.period, as_of=f.as_of, value=f.value, numerator=f.numerator,
                        denominator=f.denominator, definition=f.definition, frozen_by=by, frozen_at=at, note=note)
        for f in figures
    ]
    session.add_all(rows)
    session.flush()
    return rows


def frozen_for_year(session: Session, year: int) -> dict[tuple[str, str], IkuFrozenFigure]:
    """The frozen figures of a year's quarters and of the year, by (code, period)."""
    rows = session.scalars(
        select(IkuFrozenFigure).where(or_(IkuFrozenFigure.period == str(year),
                                          IkuFrozenFigure.period.like(f"{year}-Q%")))
    ).all()
    return {(r.code, r.period): r for r in rows}
