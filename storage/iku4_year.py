# IKU 4 of a year as the IKU table shows it, from ONE pass over the year's complaints: the
# counts per triwulan (each as of its own quarter's end), the year to date (as of the as-of
# cut-off), and the year to date per channel and per desa.
# Why one pass: the table used to send four cohort queries over the same rows (by triwulan,
# the year, by channel, by desa), each reading every complaint of the year and seeking the
# status history for it; at 1M complaints that was most of a 30 s IKU page. Grouping by
# (triwulan, channel, desa) gives a few hundred groups, which are added up here.
# Invariants: the same rules and the same numbers as storage.complaint_stats (its header
# comment): a row's status and recorded on_time as of a cut-off come from the status history
# when the complaint changed at or after it, else from its columns; a triwulan's figure uses
# its own end (or the as-of cut-off if earlier), the year uses the as-of cut-off. Tested
# equal to complaint_stats' separate queries on random registers, on both backends
# (tests/test_iku4_year.py).
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import case, false, func, not_, null, select
from sqlalchemy.orm import Session

from kpi.periods import quarters_of
from kpi.resolution import ResolutionCounts, add_counts
from storage.complaint_stats import (
    DEFAULT_DEFINITION,
    Cohort,
    changed_since_of,
    cohort_where,
    count_columns,
    counts_of,
    last_before_of,
    prepare,
)
from storage.lifecycle import DITERIMA
from storage.models import Complaint, StatusChange


@dataclass(frozen=True)
class YearBreakdown:
    by_quarter: dict[int, ResolutionCounts]
    total: ResolutionCounts
    by_channel: dict[str, ResolutionCounts]  # largest first, then by name
    by_desa: dict[str, ResolutionCounts]


class _Pair:
    """A cohort table seen with one (status, on_time) pair as its s and ot, for
    complaint_stats.count_columns."""

    def __init__(self, t: Any, s: str, ot: str) -> None:
        cols = {col.key: col for col in t.c}
        cols["s"], cols["ot"] = cols[s], cols[ot]
        self.c = type("Cols", (), cols)


def _largest_first(groups: dict[str, list[ResolutionCounts]]) -> dict[str, ResolutionCounts]:
    summed = {key: add_counts(parts) for key, parts in groups.items()}
    return dict(sorted(summed.items(), key=lambda kv: (-kv[1].received, kv[0])))


def year_breakdown(session: Session, year: int, tz: ZoneInfo, cohort: Cohort,
                   definition: str = DEFAULT_DEFINITION, *, quarters_only: bool = False) -> YearBreakdown:
    """IKU 4 of `year` for the cohort of bot.reports.iku_report.iku4_cohort (received in the
    year up to its cut-off, plus the carried-over open ones under bawa_sisa). quarters_only:
    only by_quarter is counted (the rest is empty), grouped by triwulan alone."""
    q = quarters_of(year)
    if cohort.cutoff is None:
        raise ValueError("year_breakdown needs the cohort's cut-off")
    limit = cohort.cutoff
    cuts = [min(p.end(tz), limit) for p in q]
    empty = {i: ResolutionCounts(0, 0, 0, 0, 0) for i in range(1, 5)}
    if limit <= q[0].start(tz):
        return YearBreakdown(empty, ResolutionCounts(0, 0, 0, 0, 0), {}, {})
    received = Complaint.received_at
    quarter = case(
        (received < q[1].start(tz), 1),
        (received < q[2].start(tz), 2),
        (received < q[3].start(tz), 3),
        else_=4,
    )
    cols = [Complaint.id, Complaint.status, Complaint.channel, Complaint.desa, Complaint.verified_at,
            Complaint.verify_due, Complaint.followed_up_at, Complaint.resolved_at, Complaint.followup_due,
            Complaint.resolve_due]
    # Two layers, each fenced by OFFSET 0 so that neither planner copies a layer's history
    # look-ups into every expression of the next (storage.complaint_stats.cohort_table); every
    # further layer costs a copy of each row (measured: about a second per layer at 1M).
    def per_quarter(make: Any, q_of: Callable[[int], Any]) -> Any:
        # The row's own quarter's cut-off is a literal in each branch, so PostgreSQL can still
        # hash a look-up against a recent cut-off (complaint_stats._changed_since).
        return case(*[(q_of(i), make(cuts[i])) for i in range(3)], else_=make(cuts[3]))

    by_receipt = [received < q[1].start(tz), received < q[2].start(tz), received < q[3].start(tz)]
    ch_q = per_quarter(lambda c: changed_since_of(Complaint.id, c), lambda i: by_receipt[i])
    x = (
        select(*cols, quarter.label("q"), ch_q.label("ch_q"))
        .where(cohort_where(session, cohort))
        .offset(0)
        .subquery("x")
    )
    # Changed since the year's cut-off implies changed since the (earlier or equal) quarter's,
    # so only the rows changed since their quarter's end pay a second look-up (twice, for the
    # status and the on_time: few rows, cheaper than a layer), and none in a quarter whose
    # cut-off is the year's.
    later = [(x.c.q == i + 1, changed_since_of(x.c.id, limit)) for i in range(4) if cuts[i] < limit]
    ch_y = case((not_(x.c.ch_q), false()), *later, else_=x.c.ch_q)
    in_q = [x.c.q == i + 1 for i in range(3)]
    s_q = case((x.c.ch_q, per_quarter(lambda c: func.coalesce(last_before_of(StatusChange.to_status, x.c.id, c),
                                                              DITERIMA), in_q.__getitem__)), else_=x.c.status)
    ot_q = case((x.c.ch_q, per_quarter(lambda c: last_before_of(StatusChange.on_time, x.c.id, c), in_q.__getitem__)),
                else_=null())
    s_y = case((ch_y, func.coalesce(last_before_of(StatusChange.to_status, x.c.id, limit), DITERIMA)),
               else_=x.c.status)
    ot_y = case((ch_y, last_before_of(StatusChange.on_time, x.c.id, limit)), else_=null())
    year_pair = [] if quarters_only else [s_y.label("s_y"), ot_y.label("ot_y")]
    t = (
        select(*[c for c in x.c if c.key not in ("status", "ch_q")],
               s_q.label("s_q"), ot_q.label("ot_q"), *year_pair)
        .offset(0)
        .subquery("t")
    )
    quarter_cols = count_columns(session, _Pair(t, "s_q", "ot_q"), tz, definition, prefix="q_")
    prepare(session)
    if quarters_only:
        counted = session.execute(select(t.c.q, *quarter_cols).group_by(t.c.q)).all()
        return YearBreakdown({i: add_counts(counts_of(r, "q_") for r in counted if int(r.q) == i) for i in range(1, 5)},
                             ResolutionCounts(0, 0, 0, 0, 0), {}, {})
    year_cols = count_columns(session, _Pair(t, "s_y", "ot_y"), tz, definition, prefix="y_")
    rows = session.execute(
        select(t.c.q, t.c.channel, t.c.desa, *quarter_cols, *year_cols).group_by(t.c.q, t.c.channel, t.c.desa)
    ).all()
    by_quarter: dict[int, list[ResolutionCounts]] = {}
    by_channel: dict[str, list[ResolutionCounts]] = {}
    by_desa: dict[str, list[ResolutionCounts]] = {}
    year_parts: list[ResolutionCounts] = []
    for row in rows:
        by_quarter.setdefault(int(row.q), []).append(counts_of(row, "q_"))
        ytd = counts_of(row, "y_")
        year_parts.append(ytd)
        by_channel.setdefault(str(row.channel), []).append(ytd)
        by_desa.setdefault(str(row.desa), []).append(ytd)
    return YearBreakdown(
        by_quarter={i: add_counts(by_quarter.get(i, [])) for i in range(1, 5)},
        total=add_counts(year_parts),
        by_channel=_largest_first(by_channel),
        by_desa=_largest_first(by_desa),
    )

