# /kasus's order (overdue first, longest overdue first; then oldest received; then id) is
# read in two parts, each per status in an index's order, and merged (storage/complaint_search.py).
# The pages it gives must be exactly those of the one sort it replaced, over every page, for
# every kind of query an officer sends, on both backends; and each statement reads about a page.
from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import insert, select

from storage.complaint_search import CaseQuery, search_complaints
from storage.db import Database
from storage.lifecycle import OPEN_STATUSES, STATUSES
from storage.models import Complaint
from storage.tenancy import current

TODAY = date(2026, 11, 30)
DESA = ("Jelbuk", "Sukowiryo", "Panduman")


def _fill(db: Database, n: int = 240) -> None:
    rng = random.Random(17)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    rows: list[dict[str, Any]] = []
    for i in range(1, n + 1):
        status = rng.choice((*OPEN_STATUSES, *OPEN_STATUSES, "selesai", "selesai", "duplikat", "ditolak"))
        # Received at whole hours, several at the same moment: the id must break the ties.
        at = start + timedelta(hours=rng.randrange(0, 24 * 330, 7))
        due = TODAY + timedelta(days=rng.randrange(-40, 12)) if status in OPEN_STATUSES else None
        rows.append({
            "ticket": f"TRB-2026-{i:05d}", "year": 2026, "seq": i, "kind": "pengaduan", "category": "miras",
            "desa": DESA[i % 3], "description": f"Laporan {i} dekat {'pasar' if i % 4 == 0 else 'masjid'}",
            "channel": "lisan", "anonim": False, "rahasia": False, "status": status, "received_at": at,
            "created_at": at, "verify_due": TODAY, "followup_due": TODAY, "current_due": due,
            "reopen_count": 0, "version": 1,
        })
    with db.transaction() as s:
        kode = current(s)
        s.execute(insert(Complaint), [{**r, "kecamatan": kode} for r in rows])


def _expected(db: Database, query: CaseQuery) -> list[str]:
    """The order as one sort would give it, computed here from every matching row."""
    statuses = query.statuses or OPEN_STATUSES
    def matches(c: Complaint) -> bool:
        late = c.current_due is not None and c.current_due < TODAY
        return (c.status in statuses and (not query.desa or c.desa == query.desa)
                and all(w in c.description.lower() for w in query.words)
                and (not query.overdue or (c.status in OPEN_STATUSES and late)))

    def key(c: Complaint) -> tuple[Any, ...]:
        late = c.current_due is not None and c.current_due < TODAY
        return (0 if late else 1, c.current_due if late else date.min, c.received_at, c.id)

    with db.reading() as s:
        return [c.ticket for c in sorted(filter(matches, s.scalars(select(Complaint)).all()), key=key)]


QUERIES = [
    CaseQuery(),
    CaseQuery(overdue=True),
    CaseQuery(desa="Sukowiryo"),
    CaseQuery(words=("pasar",)),
    CaseQuery(statuses=("selesai", "duplikat")),
    CaseQuery(statuses=("diterima", "selesai")),
    CaseQuery(statuses=("diterima", "selesai", "diterima")),  # /kasus Diterima diterima selesai
    CaseQuery(statuses=tuple(STATUSES)),
]


@pytest.mark.parametrize("query", QUERIES, ids=lambda q: repr(q)[9:60])
def test_every_page_is_the_one_sort_would_give(db: Database, query: CaseQuery) -> None:
    _fill(db)
    expected = _expected(db, query)
    assert len(expected) > 14, "the register must give several pages"
    got: list[str] = []
    with db.reading() as s:
        page = 1
        while True:
            rows, total = search_complaints(s, query, TODAY, page=page, page_size=7)
            assert total == len(expected)
            if not rows:
                break
            assert len(rows) <= 7
            got += [c.ticket for c in rows]
            page += 1
        everything = [c.ticket for c in search_complaints(s, query, TODAY, page_size=None)[0]]
    assert got == expected
    assert everything == expected
