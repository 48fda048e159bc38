# Reporting periods: year, semester, triwulan (quarter) and ISO week.
# Invariants: a Period is always valid (checked on construction); its span is the half-open
# interval [start, end) between local midnights in the tz the caller passes (Asia/Jakarta);
# weeks are ISO weeks (Monday first) and carry the ISO week-year, which can differ from the
# calendar year around New Year; the canonical code round-trips through parse_period.

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo
from typing import Literal

Kind = Literal["year", "semester", "quarter", "week"]
KINDS: tuple[Kind, ...] = ("year", "semester", "quarter", "week")

# Year 9998 at most so that the end of every valid period is still a representable date.
MIN_YEAR = 1
MAX_YEAR = 9998

_ROMAN = ("I", "II", "III", "IV")
_MONTHS_PER = {"semester": 6, "quarter": 3}
_LETTER_TO_KIND: dict[str, Kind] = {"S": "semester", "Q": "quarter", "W": "week"}
_PATTERN = re.compile(r"([0-9]{4})(?:-([SQW])([0-9]{1,2}))?")
_EXAMPLES = "Contoh: 2026, 2026-S2, 2026-Q4, 2026-W48."


def _iso_weeks_in(year: int) -> int:
    # 28 December always lies in the last ISO week of its year.
    return date(year, 12, 28).isocalendar().week


@dataclass(frozen=True)
class Period:
    kind: Kind
    year: int
    index: int = 0  # semester 1-2, quarter 1-4, ISO week 1-53; 0 for a year

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"Jenis periode tidak dikenal: {self.kind!r}")
        if not MIN_YEAR <= self.year <= MAX_YEAR:
            raise ValueError(f"Tahun di luar jangkauan: {self.year}")
        if self.kind == "year":
            valid = self.index == 0
        elif self.kind == "semester":
            valid = 1 <= self.index <= 2
        elif self.kind == "quarter":
            valid = 1 <= self.index <= 4
        else:
            valid = 1 <= self.index <= _iso_weeks_in(self.year)
        if not valid:
            raise ValueError(f"Nomor periode tidak sah untuk {self.kind} {self.year}: {self.index}")

    @property
    def code(self) -> str:
        if self.kind == "year":
            return f"{self.year:04d}"
        if self.kind == "semester":
            return f"{self.year:04d}-S{self.index}"
        if self.kind == "quarter":
            return f"{self.year:04d}-Q{self.index}"
        # Two-digit week numbers are the ISO 8601 form ("2026-W05"); parse accepts "2026-W5" too.
        return f"{self.year:04d}-W{self.index:02d}"

    def __str__(self) -> str:
        return self.code

    def label(self) -> str:
        if self.kind == "year":
            return f"Tahun {self.year}"
        if self.kind == "semester":
            return f"Semester {_ROMAN[self.index - 1]} {self.year}"
        if self.kind == "quarter":
            return f"Triwulan {_ROMAN[self.index - 1]} {self.year}"
        return f"Minggu ke-{self.index} {self.year}"

    def first_day(self) -> date:
        if self.kind == "week":
            return date.fromisocalendar(self.year, self.index, 1)
        if self.kind == "year":
            return date(self.year, 1, 1)
        return date(self.year, (self.index - 1) * _MONTHS_PER[self.kind] + 1, 1)

    def end_day(self) -> date:
        """First day after the period (exclusive), computed without building the next Period
        so the last period of MAX_YEAR still has an end."""
        if self.kind == "week":
            return self.first_day() + timedelta(days=7)
        if self.kind == "year":
            return date(self.year + 1, 1, 1)
        months = _MONTHS_PER[self.kind]
        month0 = self.index * months  # zero-based month after the period
        return date(self.year + month0 // 12, month0 % 12 + 1, 1)

    def last_day(self) -> date:
        return self.end_day() - timedelta(days=1)

    def start(self, tz: tzinfo) -> datetime:
        d = self.first_day()
        return datetime(d.year, d.month, d.day, tzinfo=tz)

    def end(self, tz: tzinfo) -> datetime:
        """Exclusive end: local midnight starting the following period."""
        d = self.end_day()
        return datetime(d.year, d.month, d.day, tzinfo=tz)


def period_of_date(kind: Kind, d: date) -> Period:
    if kind == "year":
        return Period("year", d.year)
    if kind == "semester":
        return Period("semester", d.year, 1 if d.month <= 6 else 2)
    if kind == "quarter":
        return Period("quarter", d.year, (d.month - 1) // 3 + 1)
    if kind == "week":
        iso = d.isocalendar()
        return Period("week", iso.year, iso.week)
    raise ValueError(f"Jenis periode tidak dikenal: {kind!r}")


def quarter_of_date(d: date) -> Period:
    return period_of_date("quarter", d)


def period_containing(kind: Kind, moment: datetime, tz: tzinfo) -> Period:
    """The period holding `moment` as seen on the wall clock of `tz`."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("Waktu harus memiliki zona waktu (aware datetime)")
    return period_of_date(kind, moment.astimezone(tz).date())


def following(period: Period) -> Period:
    return period_of_date(period.kind, period.end_day())


def previous(period: Period) -> Period:
    try:
        return period_of_date(period.kind, period.first_day() - timedelta(days=1))
    except OverflowError as exc:
        raise ValueError(f"Tidak ada periode sebelum {period}") from exc


def quarters_of(year: int) -> list[Period]:
    return [Period("quarter", year, q) for q in range(1, 5)]


def weeks_back(period: Period, n: int) -> list[Period]:
    """The n ISO weeks ending with `period`, oldest first."""
    if period.kind != "week":
        raise ValueError(f"weeks_back memerlukan periode minggu, bukan {period}")
    if n < 0:
        raise ValueError(f"n tidak boleh negatif: {n}")
    weeks: list[Period] = []
    current = period
    for i in range(n):
        weeks.append(current)
        if i + 1 < n:
            current = previous(current)
    weeks.reverse()
    return weeks


def parse_period(text: str) -> Period:
    """Parse "2026", "2026-S1", "2026-Q4", "2026-W48" (case and surrounding spaces ignored)."""
    match = _PATTERN.fullmatch(text.strip().upper())
    if match is not None:
        year = int(match.group(1))
        letter = match.group(2)
        try:
            if letter is None:
                return Period("year", year)
            return Period(_LETTER_TO_KIND[letter], year, int(match.group(3)))
        except ValueError:
            pass
    raise ValueError(f"Periode tidak dikenal: {text!r}. {_EXAMPLES}")
