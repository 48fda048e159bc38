# The fast paths of the exports (issue 11): the CSV export reads its rows on the driver's
# cursor, outside the ORM, so it names its kecamatan by hand (storage/tenancy.py); the SKM
# workbook streams plain rows. What a person reads: the CSV text and the sheet's cells, on
# both backends.
from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from openpyxl import load_workbook

from bot.config.office import load_office
from bot.reports.skm_summary import skm_summary
from bot.reports.skm_xlsx import write_report_xlsx
from kpi.periods import Period
from storage import skm
from storage.complaints import (
    ComplaintDraft,
    DeadlinePolicy,
    create_complaint,
    get_or_create_person,
)
from storage.csv_io import export_complaints
from storage.db import Database
from storage.lifecycle import Actor
from storage.skm import ResponseDraft
from storage.tenancy import DEFAULT_KECAMATAN

JELBUK, ARJASA = DEFAULT_KECAMATAN, "35.09.22"
NOW = datetime(2026, 11, 30, 3, 7, tzinfo=UTC)
WIB = ZoneInfo("Asia/Jakarta")
WARGA = Actor("warga", None, None, "warga")


def intake(db: Database, policy: DeadlinePolicy, kode: str, prefix: str, received: datetime) -> None:
    with db.transaction(kode) as s:
        person = get_or_create_person(s, "telegram", "777", None, received)
        create_complaint(
            s, ComplaintDraft(kind="pengaduan", category="keributan", desa="Jelbuk", description="Berisik",
                              channel="telegram", received_at=received),
            reporter=person, actor=WARGA, now=received, policy=policy, prefix=prefix)


def test_the_csv_export_carries_only_its_own_kecamatan(db: Database, policy: DeadlinePolicy) -> None:
    intake(db, policy, JELBUK, "TRB", NOW)
    intake(db, policy, ARJASA, "ARJ", NOW + timedelta(hours=1))
    for kode, mine, other in ((JELBUK, "TRB-2026-", "ARJ-"), (ARJASA, "ARJ-2026-", "TRB-")):
        out = io.StringIO()
        with db.reading(kode) as s:
            assert export_complaints(s, out, policy=policy, tz=WIB, today=date(2026, 12, 1)) == 1
        lines = out.getvalue().splitlines()
        assert len(lines) == 2 and lines[1].startswith(mine), lines
        assert other not in out.getvalue()


def test_the_csv_export_writes_local_minutes_from_the_database_text(db: Database, policy: DeadlinePolicy) -> None:
    # 03:07:59 UTC is 10:07 WIB; 17:30 UTC on the 30th is 00:30 WIB on 1 December (the day
    # and the minutes both come from the hour's local prefix).
    intake(db, policy, JELBUK, "TRB", NOW.replace(second=59))
    intake(db, policy, JELBUK, "TRB", datetime(2026, 11, 30, 17, 30, tzinfo=UTC))
    out = io.StringIO()
    with db.reading() as s:
        export_complaints(s, out, policy=policy, tz=WIB, today=date(2026, 12, 1))
    rows = [line.split(",") for line in out.getvalue().splitlines()[1:]]
    assert [r[1] for r in rows] == ["2026-11-30 10:07", "2026-12-01 00:30"]


def test_the_skm_workbook_lists_every_respondent_with_its_answers(db: Database, tmp_path: Path) -> None:
    office = load_office()
    service = office.services[0]
    with db.transaction() as s:
        for i, answer in enumerate((4, 3, 2)):
            answers = {f"u{k}": answer for k in range(1, 10)}
            skm.record_response(s, ResponseDraft(service.code, "2026-Q4", date(2026, 11, 28 + i), answers),
                                source="telegram", now=NOW, respondent=f"kunci-{i}")
    out = tmp_path / "skm.xlsx"
    with db.reading() as s:
        summary = skm_summary(s, office, Period("year", 2026))
        assert write_report_xlsx(out, s, office, summary, progress=False) == 3
    sheet = load_workbook(out)["Pengolahan"]
    rows = [[c.value for c in row] for row in sheet.iter_rows(min_row=8, max_row=10, max_col=12)]
    assert [r[0] for r in rows] == [1, 2, 3]
    assert [r[1].date() for r in rows] == [date(2026, 11, 28), date(2026, 11, 29), date(2026, 11, 30)]
    assert [r[2] for r in rows] == [service.name] * 3
    assert [r[3:] for r in rows] == [[4] * 9, [3] * 9, [2] * 9]
    # Each data cell keeps its style: bordered, the date as DD/MM/YYYY.
    first = sheet.cell(row=8, column=2)
    assert first.number_format == "DD/MM/YYYY" and first.border.left.style == "thin"
    assert sheet.cell(row=8, column=4).alignment.horizontal == "center"
