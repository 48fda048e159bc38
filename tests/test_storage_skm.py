# The SKM register and its aggregates, on SQLite and PostgreSQL: one response per respondent
# per service per period, and every aggregate the report uses equal to a plain Python
# recomputation over the same (seeded random) responses, date range edges included.
from __future__ import annotations

import random
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from kpi.skm_questionnaire import AGE_BANDS, PEKERJAAN, PENDIDIKAN, UNSUR_CODES, age_band
from storage import skm_stats
from storage.db import Database
from storage.models import SkmResponse
from storage.skm import (
    AlreadyAnswered,
    ResponseDraft,
    get_population,
    insert_responses,
    record_response,
    set_population,
)

NOW = datetime(2026, 11, 20, 3, 0, tzinfo=UTC)
SERVICES = ["ktp-kk", "skck", "pengaduan", "layanan-lama"]
ALL4 = dict.fromkeys(UNSUR_CODES, 4)


def draft(**kw: Any) -> ResponseDraft:
    base: dict[str, Any] = dict(service="skck", period="2026-Q4", tanggal=date(2026, 11, 20),
                                answers=ALL4)
    base.update(kw)
    return ResponseDraft(**base)


def count(db: Database) -> int:
    with db.reading() as s:
        return int(s.scalar(select(func.count(SkmResponse.id))) or 0)


def random_rows(seed: int, n: int, first: date, days: int) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    rows = []
    for _ in range(n):
        answers = {c: (None if rng.random() < 0.1 else rng.randint(1, 4)) for c in UNSUR_CODES}
        rows.append({
            "source": rng.choice(["telegram", "kertas"]),
            "respondent_key": None,
            "service": rng.choice(SERVICES),
            "period": "x",
            "tanggal": first + timedelta(days=rng.randrange(days)),
            "answered_at": NOW,
            "consent_at": None,
            "jenis_kelamin": rng.choice(["L", "P", None]),
            "usia": rng.choice([None, 0, 17, 20, 21, 30, 31, 45, 60, 61, 88, 120]),
            "pendidikan": rng.choice([*PENDIDIKAN, None]),
            "pekerjaan": rng.choice([*PEKERJAAN, None]),
            **answers,
            "saran": rng.choice([None, "", "   ", "Antrean lama", f"Saran {rng.randrange(1000)}"]),
            "recorded_by": "tes",
            "created_at": NOW,
        })
    return rows


def python_totals(rows: list[dict[str, Any]]) -> skm_stats.UnsurTotals:
    sums = {c: sum(r[c] for r in rows if r[c] is not None) for c in UNSUR_CODES}
    counts = {c: sum(1 for r in rows if r[c] is not None) for c in UNSUR_CODES}
    return skm_stats.UnsurTotals(len(rows), sums, counts)


def in_range(rows: list[dict[str, Any]], first: date, last: date,
             service: str | None = None) -> list[dict[str, Any]]:
    return [r for r in rows if first <= r["tanggal"] <= last
            and (service is None or r["service"] == service)]


# ------------------------------------------------------------------------ recording


def test_one_response_per_respondent_service_period(db: Database) -> None:
    with db.transaction() as s:
        record_response(s, draft(), source="telegram", now=NOW, respondent="k1", consent_at=NOW)
        with pytest.raises(AlreadyAnswered):
            record_response(s, draft(answers=dict.fromkeys(UNSUR_CODES, 1)), source="telegram",
                            now=NOW, respondent="k1")
        # The refusal left the transaction usable: other services and periods still record.
        record_response(s, draft(service="ktp-kk"), source="telegram", now=NOW, respondent="k1")
        record_response(s, draft(period="2027-Q1", tanggal=date(2027, 1, 2)), source="telegram",
                        now=NOW, respondent="k1")
        # Paper forms have no respondent key: any number of them.
        for _ in range(2):
            record_response(s, draft(), source="kertas", now=NOW, recorded_by="petugas")
    assert count(db) == 5
    with db.reading() as s:
        totals = skm_stats.unsur_totals(s, date(2026, 10, 1), date(2026, 12, 31), "skck")
    # The refused all-1 answer is not in the sums.
    assert totals.respondents == 3
    assert totals.sums == dict.fromkeys(UNSUR_CODES, 12)


def test_bulk_insert_in_chunks(db: Database) -> None:
    rows = random_rows(7, 23, date(2026, 7, 1), 10)
    with db.transaction() as s:
        assert insert_responses(s, iter(rows), chunk=5) == 23
    assert count(db) == 23
    with db.reading() as s:
        assert skm_stats.unsur_totals(s, date(2026, 7, 1), date(2026, 7, 10)) == python_totals(rows)


def test_population_per_period_and_service(db: Database) -> None:
    with db.transaction() as s:
        set_population(s, "2026-Q4", "", 600, "tes", NOW)
        set_population(s, "2026-Q4", "skck", 80, "tes", NOW)
        set_population(s, "2026-Q4", "", 650, "tes", NOW)  # a correction replaces the figure
    with db.reading() as s:
        assert get_population(s, "2026-Q4") == 650
        assert get_population(s, "2026-Q4", "skck") == 80
        assert get_population(s, "2026-Q3") is None


# ------------------------------------------------------------------------ aggregates


@pytest.mark.parametrize("seed", [1, 2])
def test_aggregates_equal_python_recomputation(db: Database, seed: int) -> None:
    # 25 June to 3 October: straddles the Q3 boundaries on both sides.
    rows = random_rows(seed, 400, date(2026, 6, 25), 101)
    with db.transaction() as s:
        insert_responses(s, rows)
    ranges = [
        (date(2026, 7, 1), date(2026, 9, 30)),  # Q3
        (date(2026, 6, 25), date(2026, 6, 25)),  # one day
        (date(2026, 1, 1), date(2026, 12, 31)),  # everything
        (date(2025, 1, 1), date(2025, 12, 31)),  # nothing
    ]
    rng = random.Random(seed)
    for _ in range(3):
        a = date(2026, 6, 25) + timedelta(days=rng.randrange(101))
        ranges.append((a, a + timedelta(days=rng.randrange(40))))
    with db.reading() as s:
        for first, last in ranges:
            sel = in_range(rows, first, last)
            assert skm_stats.unsur_totals(s, first, last) == python_totals(sel)
            for service in SERVICES:
                assert skm_stats.unsur_totals(s, first, last, service) == python_totals(
                    in_range(rows, first, last, service))
            by_service = skm_stats.unsur_totals_by_service(s, first, last)
            expected = {svc: python_totals(in_range(rows, first, last, svc))
                        for svc in SERVICES if in_range(rows, first, last, svc)}
            assert by_service == expected
            # The summary adds the groups up instead of scanning twice: the same figures.
            assert skm_stats.add_totals(by_service.values()) == python_totals(sel)

            prof = skm_stats.profile_counts(s, first, last)
            assert prof.jenis_kelamin == Counter(r["jenis_kelamin"] for r in sel)
            assert prof.pendidikan == Counter(r["pendidikan"] for r in sel)
            assert prof.pekerjaan == Counter(r["pekerjaan"] for r in sel)
            bands = Counter(None if r["usia"] is None else age_band(r["usia"]) for r in sel)
            assert {k: v for k, v in prof.usia.items() if v} == +bands
            assert list(prof.usia)[: len(AGE_BANDS)] == list(AGE_BANDS)

            with_saran = sorted((r for r in sel if r["saran"] and r["saran"].strip()),
                                key=lambda r: r["tanggal"])
            got = skm_stats.suggestions(s, first, last)
            # Same-day suggestions come in id order, which is the order they were inserted.
            assert [(g.tanggal, g.service, g.saran) for g in got] == [
                (r["tanggal"], r["service"], r["saran"]) for r in with_saran]
            assert [g.tanggal for g in got] == sorted(g.tanggal for g in got)
            assert skm_stats.suggestions(s, first, last, limit=3) == got[:3]
            assert skm_stats.count_suggestions(s, first, last) == len(with_saran)
            assert list(skm_stats.iter_suggestions(s, first, last)) == got

            streamed = list(skm_stats.iter_responses(s, first, last, batch=17))
            assert [(r.tanggal, r.id) for r in streamed] == sorted((r.tanggal, r.id) for r in streamed)
            assert Counter((r.tanggal, r.service, r.jenis_kelamin, r.usia, r.answers)
                           for r in streamed) == Counter(
                (r["tanggal"], r["service"], r["jenis_kelamin"], r["usia"],
                 tuple(r[c] for c in UNSUR_CODES)) for r in sel)


def test_date_range_edges_are_inclusive(db: Database) -> None:
    days = [date(2026, 6, 30), date(2026, 7, 1), date(2026, 9, 30), date(2026, 10, 1)]
    with db.transaction() as s:
        for i, d in enumerate(days):
            record_response(s, draft(tanggal=d, answers=dict.fromkeys(UNSUR_CODES, i + 1),
                                     saran=f"hari {i}"), source="kertas", now=NOW)
    with db.reading() as s:
        q3 = skm_stats.unsur_totals(s, date(2026, 7, 1), date(2026, 9, 30))
        assert q3.respondents == 2
        assert q3.sums == dict.fromkeys(UNSUR_CODES, 2 + 3)
        assert [x.saran for x in skm_stats.suggestions(s, date(2026, 7, 1), date(2026, 9, 30))] == [
            "hari 1", "hari 2"]
        assert skm_stats.unsur_totals(s, date(2026, 10, 1), date(2026, 10, 1)).respondents == 1
        assert skm_stats.unsur_totals(s, date(2026, 7, 2), date(2026, 9, 29)).respondents == 0


def test_empty_range_gives_zeros_not_nulls(db: Database) -> None:
    with db.reading() as s:
        t = skm_stats.unsur_totals(s, date(2026, 1, 1), date(2026, 12, 31))
        assert t == skm_stats.UnsurTotals(0, dict.fromkeys(UNSUR_CODES, 0), dict.fromkeys(UNSUR_CODES, 0))
        assert skm_stats.unsur_totals_by_service(s, date(2026, 1, 1), date(2026, 12, 31)) == {}
        prof = skm_stats.profile_counts(s, date(2026, 1, 1), date(2026, 12, 31))
        assert prof.usia == dict.fromkeys(AGE_BANDS, 0)
        assert prof.jenis_kelamin == {}
        assert list(skm_stats.iter_responses(s, date(2026, 1, 1), date(2026, 12, 31))) == []


def test_age_band_sql_matches_python_for_every_age(db: Database) -> None:
    with db.transaction() as s:
        insert_responses(s, [{**random_rows(0, 1, date(2026, 7, 1), 1)[0], "usia": age}
                             for age in range(0, 121)])
    with db.reading() as s:
        prof = skm_stats.profile_counts(s, date(2026, 7, 1), date(2026, 7, 1))
    assert prof.usia == Counter(age_band(a) for a in range(0, 121))
