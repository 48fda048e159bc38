# The office's calendar of days off, built in this one place from the `holidays` package and
# the office file, and the deadline policy that counts on it.
# Invariants: a day is off when it is an extra day of the office file (libur_tambahan), or it
# is in one of the chosen `holidays` categories for Indonesia and not cancelled (bukan_libur);
# "public" are the national holidays, "government" the cuti bersama of the yearly SKB (civil
# servants do not work, so the office's clock stops). Weekends are kpi.workdays' business.
from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from zoneinfo import ZoneInfo

import holidays
from holidays.constants import GOVERNMENT, PUBLIC
from holidays.countries import Indonesia

from bot.config.office import Office, OfficeFileError
from storage.deadlines import DeadlinePolicy

NATIONAL = PUBLIC  # libur nasional
JOINT_LEAVE = GOVERNMENT  # cuti bersama
CATEGORY_LABELS = {NATIONAL: "libur nasional", JOINT_LEAVE: "cuti bersama"}


def check_categories(categories: tuple[str, ...]) -> tuple[str, ...]:
    unknown = [c for c in categories if c not in Indonesia.supported_categories]
    if unknown:
        raise OfficeFileError(
            f"Berkas kantor: hari_kerja.kategori_libur: {', '.join(unknown)} tidak dikenal "
            f"(pilihan: {', '.join(sorted(Indonesia.supported_categories))})."
        )
    return categories


class OfficeDaysOff:
    """A Container[date] of the office's days off (years are loaded as they are asked for)."""

    def __init__(
        self,
        categories: Iterable[str] = (NATIONAL, JOINT_LEAVE),
        extra: Iterable[date] = (),
        cancelled: Iterable[date] = (),
    ) -> None:
        self.categories = tuple(categories)
        self._by_category = {c: holidays.country_holidays("ID", categories=(c,)) for c in self.categories}
        self.extra = frozenset(extra)
        self.cancelled = frozenset(cancelled)

    def __contains__(self, day: object) -> bool:
        if not isinstance(day, date):
            return False
        if day in self.extra:
            return True
        return day not in self.cancelled and any(day in h for h in self._by_category.values())

    def name(self, day: date) -> str | None:
        """What the day off is, for people (the package's English name and its category)."""
        if day in self.extra:
            return "libur tambahan kantor"
        if day in self.cancelled:
            return None
        for category, h in self._by_category.items():
            if day in h:
                return f"{h.get(day)} ({CATEGORY_LABELS.get(category, category)})"
        return None

    def in_year(self, year: int) -> list[date]:
        days: set[date] = {d for d in self.extra if d.year == year}
        for category in self.categories:
            days |= set(holidays.country_holidays("ID", years=year, categories=(category,)))
        return sorted(d for d in days if d in self)


def office_days_off(office: Office) -> OfficeDaysOff:
    return OfficeDaysOff(office.holiday_categories, office.extra_holidays, office.cancelled_holidays)


def deadline_policy(office: Office) -> DeadlinePolicy:
    """The one place the runtime's DeadlinePolicy is built from the office file."""
    return DeadlinePolicy(
        verify_days=office.verify_days,
        followup_days=office.followup_days,
        holidays=office_days_off(office),
        tz=ZoneInfo(office.timezone),
        resolve_days=office.resolve_days,
        resolve_working_days=office.resolve_working_days,
        resolve_tiers=dict(office.resolve_tiers),
    )
