# The office's deadline standard: how many working days to verify and to follow up, and how
# long to resolve, counted on the office's calendar (holidays + cuti bersama, bot/config/workcalendar.py).
# Invariants: every deadline is a local date and the complaint is on time through the end of
# that day (kpi.workdays.is_overdue); verification and follow-up count working days from the
# local receipt date (or from the reopening); resolution counts `resolve_days` calendar days
# (Perpres 76/2013 "paling lambat 60 hari") unless `resolve_working_days`, with an optional
# tier per category code or kind (category first).
from __future__ import annotations

from collections.abc import Container, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo

from kpi.workdays import add_working_days, working_days_between


@dataclass(frozen=True)
class DeadlinePolicy:
    verify_days: int
    followup_days: int
    holidays: Container[date]
    tz: tzinfo = field(default_factory=lambda: ZoneInfo("Asia/Jakarta"))
    resolve_days: int = 60
    resolve_working_days: bool = False
    # Category code or kind -> days, instead of resolve_days (same unit).
    resolve_tiers: Mapping[str, int] = field(default_factory=dict)

    def local_date(self, moment: datetime) -> date:
        return moment.astimezone(self.tz).date()

    def due_dates(self, received_at: datetime) -> tuple[date, date]:
        day = self.local_date(received_at)
        return (
            add_working_days(day, self.verify_days, self.holidays),
            add_working_days(day, self.followup_days, self.holidays),
        )

    def followup_due(self, start: date) -> date:
        return add_working_days(start, self.followup_days, self.holidays)

    def resolve_days_for(self, category: str | None, kind: str | None) -> int:
        for key in (category, kind):
            if key is not None and key in self.resolve_tiers:
                return self.resolve_tiers[key]
        return self.resolve_days

    def resolve_due(self, start: date, category: str | None = None, kind: str | None = None) -> date:
        days = self.resolve_days_for(category, kind)
        if self.resolve_working_days:
            return add_working_days(start, days, self.holidays)
        return start + timedelta(days=days)

    def extend(self, due: date, paused_from: date, paused_to: date, *, working: bool = True) -> date:
        """`due` moved on by the time spent postponed (ditunda): the clock stops while a
        complaint waits for its new date, so the days it waited do not count against it."""
        if working:
            n = working_days_between(paused_from, paused_to, self.holidays)
            return add_working_days(due, n, self.holidays) if n > 0 else due
        return due + timedelta(days=max(0, (paused_to - paused_from).days))


# For callers (mostly tests) that give no policy: the SP4N-LAPOR! defaults, weekends only.
DEFAULT_POLICY = DeadlinePolicy(verify_days=3, followup_days=5, holidays=frozenset())
