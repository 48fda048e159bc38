# The report paths keep the plan and the cells bench/reports.py measured them with: the SKM
# sums of a date range come from the covering index (no table read per answer), and the SKM
# workbook's fast row path still writes every respondent cell with its border and format.
from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from openpyxl import load_workbook

from bot.config.office import load_office
from bot.reports.skm_summary import skm_summary
from bot.reports.skm_xlsx import write_report_xlsx
from kpi.periods import parse_period
from kpi.skm_questionnaire import UNSUR_CODES
from storage import skm_stats
from storage.db import Database
from storage.models import SkmResponse
from storage.skm import insert_responses
from storage.tenancy import DEFAULT_KECAMATAN

NOW = datetime(2026, 10, 1, 3, 0, tzinfo=UTC)


def _row(tanggal: date, answer: int, saran: str | None = None) -> dict[str, Any]:
    return {
        "source": "kertas", "respondent_key": None, "service": "ktp-kk", "period": "2026-Q3",
        "tanggal": tanggal, "answered_at": NOW, "consent_at": None, "jenis_kelamin": "P",
        "usia": 34, "pendidikan": "S1", "pekerjaan": "PNS", **dict.fromkeys(UNSUR_CODES, answer),
        "saran": saran, "recorded_by": "tes", "created_at": NOW,
    }


def _values(cells: Any) -> list[Any]:
    # Excel date cells read back as naive datetimes: compare their day.
    return [c.value.date() if isinstance(c.value, datetime) else c.value for c in cells]


def test_skm_sums_of_a_range_read_only_the_covering_index(sqlite_db: Database) -> None:
    # As a session runs it: scoped to its kecamatan (storage/tenancy.py), the index's first column.
    stmt = skm_stats.totals_statement(date(2026, 1, 1), date(2026, 12, 31)).where(
        SkmResponse.kecamatan == DEFAULT_KECAMATAN)
    with sqlite_db.engine.connect() as conn:
        compiled = stmt.compile(conn, compile_kwargs={"literal_binds": True})
        plan = " ".join(str(r[-1]) for r in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled}"))
    assert "SEARCH skm_responses USING COVERING INDEX ix_skm_responses_kecamatan_tanggal_answers" in plan, plan


def test_skm_workbook_rows_keep_their_borders_and_formats(db: Database, tmp_path: Path) -> None:
    with db.transaction() as s:
        insert_responses(s, iter([_row(date(2026, 7, 2), 4, "Antrean lama"), _row(date(2026, 7, 3), 3)]))
    office = load_office()
    out = tmp_path / "skm.xlsx"
    with db.reading() as s:
        summary = skm_summary(s, office, parse_period("2026-Q3"))
        assert write_report_xlsx(out, s, office, summary, progress=False) == 2
    wb = load_workbook(out)
    ws = wb["Pengolahan"]
    first = ws[8]
    assert _values(first[:4]) == [1, date(2026, 7, 2), "Rekomendasi KTP/KK", 4]
    assert first[1].number_format == "DD/MM/YYYY"
    assert all(c.border.left.style == "thin" for c in first[:12])
    assert first[3].alignment.horizontal == "center"
    assert _values(ws[9][:4]) == [2, date(2026, 7, 3), "Rekomendasi KTP/KK", 3]
    saran = wb["Saran"][7]
    assert _values(saran[:4]) == [1, date(2026, 7, 2), "Rekomendasi KTP/KK", "Antrean lama"]
    assert saran[3].alignment.wrap_text and saran[3].border.left.style == "thin"
