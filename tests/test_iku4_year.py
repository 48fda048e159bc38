# storage.iku4_year counts IKU 4 per triwulan, for the year, per channel and per desa in one
# pass; complaint_stats counts each with a query of its own, the definition its header
# states. On random registers (moves on random days across quarters and years, reopenings,
# duplicates, forwards, refusals, late logging) both must give the same numbers, for every
# definition, carry-over rule and a range of as-of dates, on SQLite and PostgreSQL.
from __future__ import annotations

import dataclasses
import random
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.config.office import load_office
from bot.reports.iku_report import iku4_cohort, iku_table
from storage import complaint_stats, iku4_year
from storage.complaints import ComplaintDraft, DeadlinePolicy, create_complaint
from storage.db import Database
from storage.lifecycle import Actor, MoveRefused, transition

JAKARTA = ZoneInfo("Asia/Jakarta")
ADMIN = Actor("petugas", 1, "Pak Admin", "admin")
WARGA = Actor("warga", None, None, "warga")
POLICY = DeadlinePolicy(verify_days=3, followup_days=5, holidays=set(), tz=JAKARTA)
CHANNELS = ("lisan", "surat", "telegram", "sp4n-lapor")
DESA = ("Jelbuk", "Sukojember", "Panduman", "Sugerkidul")


def _at(day: date, rng: random.Random) -> datetime:
    # Hours spread over the whole day, so local midnights at quarter ends are crossed.
    return datetime(day.year, day.month, day.day, rng.randrange(24), rng.randrange(60), tzinfo=JAKARTA)


def _register(db: Database, seed: int, n: int = 90) -> None:
    rng = random.Random(seed)
    first = date(2025, 11, 1)
    with db.transaction() as s:
        for _ in range(n):
            day = first + timedelta(days=rng.randrange(400))
            received = _at(day, rng)
            draft = ComplaintDraft(kind="pengaduan", category="keributan", desa=rng.choice(DESA),
                                   description="Ribut malam", channel=rng.choice(CHANNELS), received_at=received)
            c = create_complaint(s, draft, reporter=None, actor=WARGA, now=received, policy=POLICY, prefix="TRB")
            when = received
            for _step in range(rng.randrange(6)):
                when = when + timedelta(days=rng.choice((0, 1, 2, 5, 9, 20, 45)), hours=rng.randrange(12))
                if when.date() > date(2026, 12, 30):
                    break
                status = c.status
                options = {
                    "diterima": ["verifikasi", "verifikasi", "duplikat", "teruskan", "tolak"],
                    "diverifikasi": ["tindaklanjuti"],
                    "ditindaklanjuti": ["selesaikan"],
                    "selesai": ["buka_kembali"],
                    # A wrong press taken back: a complaint leaves duplikat or diteruskan.
                    "duplikat": ["kembalikan"],
                    "diteruskan": ["kembalikan"],
                    "ditolak": ["kembalikan"],
                }.get(status)
                if not options:
                    break
                action = rng.choice(options)
                kw: dict[str, object] = {}
                if action == "selesaikan":
                    kw["public_note"] = "Sudah ditertibkan"
                elif action == "duplikat":
                    kw["duplicate_of"] = "TRB-2026-00001"
                elif action == "teruskan":
                    kw["forwarded_to"] = "Polsek"
                elif action == "tolak":
                    kw["public_note"] = "Bukan ketertiban umum"
                elif action == "kembalikan":
                    kw["public_note"] = "Salah tekan"
                elif action == "buka_kembali":
                    kw["reopen_window"] = timedelta(days=400)
                    kw["max_reopens"] = 3
                try:
                    transition(s, c, action, ADMIN if action != "buka_kembali" else WARGA, when,
                               policy=POLICY, **kw)  # type: ignore[arg-type]
                except MoveRefused:
                    break


def _separate(db: Database, year: int, as_of: date, definition: str, carry: str):  # type: ignore[no-untyped-def]
    office = dataclasses.replace(load_office(), iku4_carry_over=carry)
    cohort = iku4_cohort(office, year, as_of)
    kw = {"cutoff": cohort.cutoff, "definition": definition, "carry_from": cohort.carry_from}
    with db.reading() as s:
        return (
            complaint_stats.resolution_by_quarter(s, year, JAKARTA, as_of=cohort.cutoff, definition=definition,
                                                  carry_over=carry),
            complaint_stats.cohort_counts(s, cohort, JAKARTA, definition),
            complaint_stats.resolution_by(s, cohort.start, cohort.end, JAKARTA, "channel", **kw),
            complaint_stats.resolution_by(s, cohort.start, cohort.end, JAKARTA, "desa", **kw),
        ), cohort


# Quarter ends and the days after them, mid-quarter, after the year's end.
AS_OF = {
    2025: [date(2025, 11, 20), date(2026, 2, 1)],
    2026: [date(2026, 3, 31), date(2026, 4, 1), date(2026, 5, 17), date(2026, 9, 30), date(2026, 11, 30),
           date(2027, 2, 1)],
}


@pytest.mark.parametrize("seed", [1, 2])
def test_one_pass_equals_the_separate_queries(db: Database, seed: int) -> None:
    _register(db, seed)
    compared = 0
    for definition in complaint_stats.DEFINITIONS:
        for carry in complaint_stats.CARRY_OVER_RULES:
            for year, days in AS_OF.items():
                for as_of in days:
                    (by_q, total, by_channel, by_desa), cohort = _separate(db, year, as_of, definition, carry)
                    with db.reading() as s:
                        got = iku4_year.year_breakdown(s, year, JAKARTA, cohort, definition)
                    where = (definition, carry, year, as_of)
                    assert got.by_quarter == by_q, where
                    assert got.total == total, where
                    # Same groups, same counts, same order (largest first, then by name).
                    assert list(got.by_channel.items()) == list(by_channel.items()), where
                    assert list(got.by_desa.items()) == list(by_desa.items()), where
                    compared += total.received
    assert compared > 500  # the register really was counted, not empty


def test_the_iku_table_shows_the_one_pass_figures(db: Database) -> None:
    _register(db, 3)
    office = load_office()
    with db.reading() as s:
        rows = {r.code: r for r in iku_table(s, office, 2026, date(2026, 11, 30))}
    (by_q, total, by_channel, by_desa), _ = _separate(db, 2026, date(2026, 11, 30), office.iku4_definition,
                                                      office.iku4_carry_over)
    detail = rows["IKU-4"].detail
    assert detail["counts"] == total and total.received > 0
    assert detail["counts_by_quarter"] == {f"q{q}": by_q[q] for q in range(1, 5)}
    assert list(detail["by_channel"].items()) == list(by_channel.items())
    assert list(detail["by_desa"].items()) == list(by_desa.items())


@pytest.mark.parametrize("zone", ["Asia/Jakarta", "Asia/Makassar", "Asia/Jayapura"])
def test_on_or_before_a_local_day_is_the_local_calendar_days_rule(db: Database, zone: str) -> None:
    # The SQLite form compares text against the next local midnight in UTC: it must agree with
    # the local calendar day on both sides of every midnight, to the microsecond.
    from sqlalchemy import Date, literal, select

    from storage.complaint_stats import on_or_before_local_day
    from storage.models import UTCDateTime

    tz = ZoneInfo(zone)
    day = date(2026, 3, 31)
    local_midnight = datetime(2026, 4, 1, tzinfo=tz)
    cases = [local_midnight - timedelta(microseconds=1), local_midnight, local_midnight + timedelta(microseconds=1),
             local_midnight - timedelta(days=1), local_midnight - timedelta(days=1, microseconds=1),
             datetime(2026, 3, 31, 23, 59, 59, tzinfo=tz), datetime(2026, 3, 1, 0, 0, tzinfo=tz)]
    with db.reading() as s:
        for at in cases:
            ts = literal(at, UTCDateTime())
            got = s.scalar(select(on_or_before_local_day(s, ts, literal(day, Date()), tz)))
            assert bool(got) == (at.astimezone(tz).date() <= day), (zone, at)
        assert s.scalar(select(on_or_before_local_day(s, literal(None, UTCDateTime()), literal(day, Date()), tz))) is None


def test_the_excluded_list_is_the_same_read_from_candidates_or_from_every_row(
        db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    _register(db, 4, n=120)
    office = load_office()

    def lists() -> list[list[tuple[str, str]]]:
        out = []
        for year, days in AS_OF.items():
            for as_of in days:
                cohort = iku4_cohort(office, year, as_of)
                with db.reading() as s:
                    found = complaint_stats.excluded_complaints(s, cohort.start, cohort.end, cutoff=cohort.cutoff)
                out.append([(e.ticket, e.status) for e in found])
        return out

    candidates = lists()
    monkeypatch.setattr(complaint_stats, "CANDIDATES_LIMIT", 0)  # every cut-off "has many changes since"
    every_row = lists()
    assert candidates == every_row
    assert sum(len(x) for x in every_row) > 10  # there were excluded complaints to find
