# The daily retention run (UU 27/2022): used by the Service's JobQueue job and by
# `sigap retensi`. Files are deleted only after the purge committed.
from __future__ import annotations

import logging
from datetime import datetime
from pathlib import Path

from bot.office import Office
from storage.db import Database
from storage.retention import RetentionReport, delete_files, purge

log = logging.getLogger(__name__)


def run_retention(db: Database, office: Office, now: datetime, data_dir: Path, *, dry_run: bool = False) -> RetentionReport:
    with db.transaction() as s:
        report = purge(s, office.retention, now, data_dir)
        if dry_run:
            s.rollback()
    if not dry_run and report.files_to_delete:
        delete_files(report.files_to_delete)
    if report.total and not dry_run:
        log.info(
            "Retensi: %d identitas dihapus, %d foto, %d pesan masuk, %d pesan keluar, %d percakapan, %d tautan survei",
            report.identities_erased, report.photos_removed, report.inbox_cleared,
            report.outbox_cleared, report.dialogs_dropped, report.survey_links_dropped,
        )
    return report


def describe(report: RetentionReport, *, dry_run: bool) -> str:
    head = "Akan dihapus (uji coba, tidak ada yang diubah):" if dry_run else "Dihapus:"
    return "\n".join(
        [
            head,
            f"  identitas pelapor      : {report.identities_erased}",
            f"  foto laporan           : {report.photos_removed}",
            f"  pesan masuk            : {report.inbox_cleared}",
            f"  pesan keluar           : {report.outbox_cleared}",
            f"  percakapan terbengkalai: {report.dialogs_dropped}",
            f"  tautan survei ke chat  : {report.survey_links_dropped}",
        ]
    )
