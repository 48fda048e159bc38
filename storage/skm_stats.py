# SKM aggregates for reports: computed by the database, never by a Python loop over rows.
# Invariants: every function filters on SkmResponse.tanggal (the local date of the survey)
# in the closed range [first_day, last_day] and, when given, on one service code; the
# per-unsur figures are SUM and COUNT of the non-null answers (a blank answer on a paper
# form is "not answered", not 0), so they feed kpi.ikm.compute_ikm directly; the totals
# are one SELECT, the per-service totals one GROUP BY; the row iterators stream with
# yield_per (a server-side cursor on PostgreSQL), so memory stays flat whatever the count.
from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from itertools import chain
from typing import Any

from sqlalchemy import ColumnElement, Select, case, func, literal, select
from sqlalchemy.orm import Session

from kpi.skm_questionnaire import AGE_BANDS, UNSUR_CODES, age_band
from storage.models import SkmResponse

_UNSUR_COLUMNS = tuple(getattr(SkmResponse, code) for code in UNSUR_CODES)
STREAM_BATCH = 2000


@dataclass(frozen=True)
class UnsurTotals:
    """Per-unsur answer sums and answer counts, and how many responses (rows) there are."""

    respondents: int
    sums: dict[str, int]
    counts: dict[str, int]


@dataclass(frozen=True)
class Profile:
    """Respondent counts per profile value; None is "tidak diisi" (left blank)."""

    jenis_kelamin: dict[str | None, int]
    usia: dict[str | None, int]  # keyed by kpi.skm_questionnaire.AGE_BANDS
    pendidikan: dict[str | None, int]
    pekerjaan: dict[str | None, int]
    # The texts written for pekerjaan "Lainnya" (Petani, Pelajar ...), None = not written.
    pekerjaan_lainnya: dict[str | None, int] = field(default_factory=dict)
    # Respondents under the office's age limit who answered with a parent's or guardian's
    # consent (UU 27/2022 Pasal 25): the report shows the office kept to its rule.
    persetujuan_wali: int = 0


@dataclass(frozen=True)
class Suggestion:
    tanggal: date
    service: str
    saran: str


@dataclass(frozen=True)
class ResponseRow:
    """One respondent for the processing sheet: no key, no identity, only the form."""

    id: int
    tanggal: date
    service: str
    source: str
    jenis_kelamin: str | None
    usia: int | None
    pendidikan: str | None
    pekerjaan: str | None
    answers: tuple[int | None, ...]  # u1..u9 in the standard form's order
    saran: str | None


def _where(first_day: date, last_day: date, service: str | None) -> list[ColumnElement[bool]]:
    conditions = [SkmResponse.tanggal >= first_day, SkmResponse.tanggal <= last_day]
    if service is not None:
        conditions.append(SkmResponse.service == service)
    return conditions


def _aggregate_columns() -> list[Any]:
    cols: list[Any] = [func.count(SkmResponse.id)]
    for col in _UNSUR_COLUMNS:
        # SUM over no rows is NULL; COALESCE keeps the result an integer on both backends.
        cols.append(func.coalesce(func.sum(col), 0))
        cols.append(func.count(col))  # COUNT(column) skips NULL: the unanswered
    return cols


def _totals(row: Any, offset: int) -> UnsurTotals:
    sums: dict[str, int] = {}
    counts: dict[str, int] = {}
    for i, code in enumerate(UNSUR_CODES):
        sums[code] = int(row[offset + 1 + 2 * i])
        counts[code] = int(row[offset + 2 + 2 * i])
    return UnsurTotals(respondents=int(row[offset]), sums=sums, counts=counts)


def totals_statement(first_day: date, last_day: date, service: str | None = None) -> Select[Any]:
    """The one SELECT behind unsur_totals (also what the benchmark times as the bare SQL)."""
    return select(*_aggregate_columns()).where(*_where(first_day, last_day, service))


def unsur_totals(
    session: Session, first_day: date, last_day: date, service: str | None = None
) -> UnsurTotals:
    """Sums and counts of the answers per unsur, and the number of responses: one query."""
    row = session.execute(totals_statement(first_day, last_day, service)).one()
    return _totals(row, 0)


def unsur_totals_by_service(session: Session, first_day: date, last_day: date) -> dict[str, UnsurTotals]:
    """The same per service code (only services with responses in the range): one GROUP BY."""
    stmt = (
        select(SkmResponse.service, *_aggregate_columns())
        .where(*_where(first_day, last_day, None))
        .group_by(SkmResponse.service)
        .order_by(SkmResponse.service)
    )
    return {row[0]: _totals(row, 1) for row in session.execute(stmt)}


def unsur_totals_by_quarter(session: Session, year: int, last_day: date) -> dict[int, UnsurTotals]:
    """The same per triwulan of `year` for the answers dated 1 January .. last_day: one
    GROUP BY over the year's range, where a query per triwulan and one for the year read it
    twice (IKU 2 needs both; the year's totals are these added up, add_totals). Triwulan
    without answers are absent."""
    quarter = case(
        (SkmResponse.tanggal < date(year, 4, 1), 1),
        (SkmResponse.tanggal < date(year, 7, 1), 2),
        (SkmResponse.tanggal < date(year, 10, 1), 3),
        else_=4,
    ).label("q")
    stmt = (
        select(quarter, *_aggregate_columns())
        .where(*_where(date(year, 1, 1), min(last_day, date(year, 12, 31)), None))
        .group_by(quarter)
    )
    return {int(row[0]): _totals(row, 1) for row in session.execute(stmt)}


def add_totals(parts: Iterable[UnsurTotals]) -> UnsurTotals:
    """The totals of disjoint groups (e.g. the services) added up: exact integer sums."""
    respondents = 0
    sums = dict.fromkeys(UNSUR_CODES, 0)
    counts = dict.fromkeys(UNSUR_CODES, 0)
    for part in parts:
        respondents += part.respondents
        for code in UNSUR_CODES:
            sums[code] += part.sums[code]
            counts[code] += part.counts[code]
    return UnsurTotals(respondents, sums, counts)


def _age_band_sql() -> ColumnElement[Any]:
    # The bands of kpi.skm_questionnaire.AGE_BANDS, rebuilt from age_band() itself so the SQL
    # cannot drift from the Python definition: each band's upper bound is the largest age
    # that age_band() still puts in it (searched up to 200, beyond any real age).
    uppers: list[tuple[int, str]] = []
    for age in range(0, 200):
        band = age_band(age)
        if uppers and uppers[-1][1] == band:
            uppers[-1] = (age, band)
        else:
            uppers.append((age, band))
    whens = [(SkmResponse.usia <= upper, literal(band)) for upper, band in uppers[:-1]]
    return case(
        (SkmResponse.usia.is_(None), literal(None)),
        *whens,
        else_=literal(uppers[-1][1]),
    )


def _count_by(session: Session, column: Any, conditions: list[ColumnElement[bool]]) -> dict[str | None, int]:
    stmt = select(column, func.count()).where(*conditions).group_by(column)
    return {key: int(n) for key, n in session.execute(stmt)}


def profile_counts(
    session: Session, first_day: date, last_day: date, service: str | None = None
) -> Profile:
    """Respondents by jenis kelamin, age band, pendidikan and pekerjaan: one GROUP BY over the
    four (a few hundred groups of fixed choices, added up here), so the range is read once,
    not four times (on SQLite each read fetches every row of the range from the table:
    seconds a pass for a year of 1M answers, bench/reports.py); and the "Lainnya" texts."""
    where = _where(first_day, last_day, service)
    band = _age_band_sql().label("band")
    keys = (SkmResponse.jenis_kelamin, band, SkmResponse.pendidikan, SkmResponse.pekerjaan)
    tallies: tuple[dict[str | None, int], ...] = ({}, {}, {}, {})
    guardian = 0
    # The consent flag rides in the same GROUP BY (it at most doubles the few groups).
    statement = select(*keys, SkmResponse.persetujuan_wali, func.count()).where(*where)
    for *values, wali, n in session.execute(statement.group_by(*keys, SkmResponse.persetujuan_wali)):
        for tally, value in zip(tallies, values, strict=True):
            tally[value] = tally.get(value, 0) + int(n)
        if wali:
            guardian += int(n)
    jenis_kelamin, usia, pendidikan, pekerjaan = tallies
    # Every band is listed, in order, even when nobody falls in it: the printed table has
    # a fixed set of rows.
    ordered_usia: dict[str | None, int] = {b: usia.get(b, 0) for b in AGE_BANDS}
    if usia.get(None):
        ordered_usia[None] = usia[None]
    return Profile(
        jenis_kelamin=jenis_kelamin,
        usia=ordered_usia,
        pendidikan=pendidikan,
        pekerjaan=pekerjaan,
        pekerjaan_lainnya=_count_by(session, SkmResponse.pekerjaan_lainnya,
                                    [*where, SkmResponse.pekerjaan == "Lainnya"]),
        persetujuan_wali=guardian,
    )


def _suggestion_statement(first_day: date, last_day: date, service: str | None) -> Any:
    return (
        select(SkmResponse.tanggal, SkmResponse.service, SkmResponse.saran)
        .where(
            *_where(first_day, last_day, service),
            SkmResponse.saran.is_not(None),
            func.trim(SkmResponse.saran) != "",
        )
        .order_by(SkmResponse.tanggal, SkmResponse.id)
    )


def iter_suggestions(
    session: Session, first_day: date, last_day: date, service: str | None = None
) -> Iterator[Suggestion]:
    """Non-empty kritik dan saran, oldest first, streamed."""
    stmt = _suggestion_statement(first_day, last_day, service).execution_options(yield_per=STREAM_BATCH)
    for tanggal, svc, saran in session.execute(stmt):
        yield Suggestion(tanggal, svc, saran.strip())


def suggestions(
    session: Session,
    first_day: date,
    last_day: date,
    service: str | None = None,
    limit: int | None = None,
) -> list[Suggestion]:
    """Non-empty kritik dan saran with their date and service, oldest first."""
    stmt = _suggestion_statement(first_day, last_day, service)
    if limit is not None:
        stmt = stmt.limit(limit)
    return [Suggestion(t, svc, s.strip()) for t, svc, s in session.execute(stmt)]


def count_suggestions(session: Session, first_day: date, last_day: date, service: str | None = None) -> int:
    stmt = select(func.count()).select_from(_suggestion_statement(first_day, last_day, service).subquery())
    return int(session.scalar(stmt) or 0)


def iter_answers(
    session: Session, first_day: date, last_day: date, service: str | None = None,
    batch: int = STREAM_BATCH,
) -> Iterator[tuple[Any, ...]]:
    """(tanggal, service, u1..u9) of every response in the range, by date then id, streamed:
    what the SKM workbook's processing sheet writes per respondent, as plain rows (no
    ResponseRow built per row: bench/reports.py, a million respondents)."""
    stmt = (
        select(SkmResponse.tanggal, SkmResponse.service, *_UNSUR_COLUMNS)
        .where(*_where(first_day, last_day, service))
        .order_by(SkmResponse.tanggal, SkmResponse.id)
    )
    # Through the session, so that what it adds to every ORM statement applies here too.
    result = session.execute(stmt, execution_options={"yield_per": batch})
    return chain.from_iterable(result.partitions())


def iter_responses(
    session: Session,
    first_day: date,
    last_day: date,
    service: str | None = None,
    batch: int = STREAM_BATCH,
) -> Iterator[ResponseRow]:
    """Every response in the range, by date then id, in constant memory (yield_per)."""
    stmt = (
        select(
            SkmResponse.id,
            SkmResponse.tanggal,
            SkmResponse.service,
            SkmResponse.source,
            SkmResponse.jenis_kelamin,
            SkmResponse.usia,
            SkmResponse.pendidikan,
            SkmResponse.pekerjaan,
            *_UNSUR_COLUMNS,
            SkmResponse.saran,
        )
        .where(*_where(first_day, last_day, service))
        .order_by(SkmResponse.tanggal, SkmResponse.id)
        .execution_options(yield_per=batch)
    )
    n = len(UNSUR_CODES)
    for row in session.execute(stmt):
        yield ResponseRow(
            id=row[0],
            tanggal=row[1],
            service=row[2],
            source=row[3],
            jenis_kelamin=row[4],
            usia=row[5],
            pendidikan=row[6],
            pekerjaan=row[7],
            answers=tuple(row[8 : 8 + n]),
            saran=row[8 + n],
        )


__all__ = [
    "Profile",
    "ResponseRow",
    "Suggestion",
    "UnsurTotals",
    "add_totals",
    "count_suggestions",
    "iter_responses",
    "iter_suggestions",
    "profile_counts",
    "suggestions",
    "totals_statement",
    "unsur_totals",
    "unsur_totals_by_service",
]
