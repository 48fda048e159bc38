# The daily retention run (UU 27/2022): used by the Service's JobQueue job and by
# `sigap retensi`. Files are deleted only after the purge committed. One run is one
# kecamatan's (`kecamatan`; None is the register's own), with that office's periods;
# `run_retention_all` runs every kecamatan in turn, then the shared tables (inbox, outbox,
# dialog states, kecamatan picks) ONCE with the default (first) office's periods, and
# reclaims the space once at the end.
from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path

from bot.config.office import Office
from bot.texts import render, to_plain
from storage.db import Database
from storage.retention import RetentionReport, delete_files, purge, purge_shared

log = logging.getLogger(__name__)


def run_retention(db: Database, office: Office, now: datetime, data_dir: Path, *, dry_run: bool = False,
                  compact: bool = False, kecamatan: str | None = None, reclaim: bool = True,
                  shared: bool = True) -> RetentionReport:
    with db.transaction(kecamatan) as s:
        report = purge(s, office.retention, now, data_dir, shared=shared)
        if dry_run:
            s.rollback()
    if not dry_run and report.files_to_delete:
        delete_files(report.files_to_delete)
    if not dry_run and reclaim:
        # The nightly run VACUUMs (no lock); `compact` rewrites the tables (storage/db.py).
        db.reclaim_erased(compact=compact)
    if report.total and not dry_run:
        log.info(
            "Retensi %s: %d identitas dihapus, %d isi laporan pelapor terhapus, %d uraian, %d lokasi, %d catatan, "
            "%d foto, %d pesan masuk, %d pesan keluar, %d percakapan, %d pilihan kecamatan, %d tautan survei, "
            "%d pekerjaan lain survei, %d saran survei",
            office.name, report.identities_erased, report.erased_reporters_cases, report.descriptions_erased,
            report.locations_erased, report.notes_erased, report.photos_removed, report.inbox_cleared,
            report.outbox_cleared, report.dialogs_dropped, report.kecamatan_picks_dropped, report.survey_links_dropped,
            report.survey_occupations_erased, report.survey_suggestions_erased,
        )
    return report


def run_retention_all(db: Database, offices: Mapping[str | None, Office], now: datetime,
                      data_dir: Path) -> dict[str | None, RetentionReport]:
    """The nightly run for every kecamatan (`{kode or None: Office}`, None the register's own),
    each in its own transaction, then the shared tables once in their own, with the periods
    of the first office (the default one: kecamatan_jobs.scopes puts it first), counted in its
    report only; then one VACUUM for all. A purge that fails is logged and the others still
    run (the shared one too: the inbox does not wait for a kecamatan's broken row)."""
    reports: dict[str | None, RetentionReport] = {}
    for kode, office in offices.items():
        try:
            reports[kode] = run_retention(db, office, now, data_dir, kecamatan=kode, reclaim=False, shared=False)
        except Exception:
            log.exception("Retensi data %s gagal", office.name)
    if offices:
        kode, office = next(iter(offices.items()))
        report = reports.setdefault(kode, RetentionReport())
        try:
            with db.transaction(kode) as s:
                purge_shared(s, office.retention, now, report)
        except Exception:
            report.inbox_cleared = report.outbox_cleared = report.dialogs_dropped = 0
            report.kecamatan_picks_dropped = 0  # rolled back: nothing of it was removed
            log.exception("Retensi data bersama (pesan, percakapan) gagal")
        else:
            log.info("Retensi data bersama: %d pesan masuk, %d pesan keluar, %d percakapan, %d pilihan kecamatan",
                     report.inbox_cleared, report.outbox_cleared, report.dialogs_dropped,
                     report.kecamatan_picks_dropped)
    db.reclaim_erased()
    return reports


def describe(report: RetentionReport, *, dry_run: bool) -> str:
    """What each rule removed (or, in a dry run, would remove, with the tickets)."""
    t = report.tickets
    rows = [
        ("identitas pelapor", report.identities_erased, []),
        ("isi (pelapor dihapus)", report.erased_reporters_cases, t.get("pelapor_dihapus", [])),
        ("uraian laporan", report.descriptions_erased, t.get("uraian", [])),
        ("alamat dan titik GPS", report.locations_erased, t.get("lokasi", [])),
        ("catatan status", report.notes_erased, t.get("catatan", [])),
        ("foto laporan", report.photos_removed, t.get("foto", [])),
        ("pesan masuk", report.inbox_cleared, []),
        ("pesan keluar", report.outbox_cleared, []),
        ("percakapan terbengkalai", report.dialogs_dropped, []),
        ("pilihan kecamatan warga", report.kecamatan_picks_dropped, []),
        ("tautan survei ke chat", report.survey_links_dropped, []),
        ("pekerjaan lain (survei)", report.survey_occupations_erased, []),
        ("kritik/saran (survei)", report.survey_suggestions_erased, []),
    ]
    return to_plain(render("retensi_ringkasan", uji=dry_run, baris=rows))
