# `sigap iku ...`: the IKU registers (targets, documents, kegiatan, SAKIP, program
# indicators), their correction history, and the LKjIP-style report.
# Invariants: every entry is recorded as "cli:<OS user>" with the time; a mistake the user
# can fix (bad code, date, number, unknown entry) prints an Indonesian message on stderr
# and exits 1, never a traceback; nothing is written unless the whole command succeeded.
from __future__ import annotations

import argparse
import getpass
import json
import sys
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from bot.config.office import Office, load_office
from bot.config.settings import load_settings
from bot.reports import iku_report as rep
from bot.texts import render, to_plain
from kpi.ikm import weight_from_setting
from storage import iku
from storage.iku import RegisterError
from storage.models import IkuActivity, IkuDocument, ProgramIndicator, SakipScore


def _now() -> datetime:
    return datetime.now(UTC)


def recorder() -> str:
    try:
        user = getpass.getuser()
    except Exception:  # no login name (some containers): still say it came from the CLI
        user = "tidak-diketahui"
    return f"cli:{user}"


def _say(template: str, **values: Any) -> None:
    print(to_plain(render(template, **{**rep.base_context(), **values})))


def _opt_text(value: str | None) -> str | None:
    # "-" clears an optional field in a correction.
    return None if value is None or value.strip() == "-" else value


def register(sub: Any) -> None:
    """Add `iku` to the `sigap` parser (called from bot.cli.sigap.parser)."""
    p = sub.add_parser("iku", help="indikator kinerja utama: register, riwayat dan laporan")
    p.set_defaults(func=run)
    groups = p.add_subparsers(dest="iku_register", required=True)

    t = groups.add_parser("target", help="target tahunan (Perjanjian Kinerja)").add_subparsers(dest="action", required=True)
    x = t.add_parser("set", help="tetapkan target, contoh: sigap iku target set IKU-4 2026 90")
    x.add_argument("kode")
    x.add_argument("tahun")
    x.add_argument("nilai")
    x.add_argument("--catatan")
    x = t.add_parser("list", help="target per IKU untuk satu tahun")
    x.add_argument("--year", dest="tahun")
    x = t.add_parser("remove", help="hapus target register (kembali ke berkas kantor)")
    x.add_argument("id")
    x.add_argument("--catatan", "--alasan", dest="catatan")

    d = groups.add_parser("dokumen", help="IKU 1: register dokumen").add_subparsers(dest="action", required=True)
    for name in ("add", "correct"):
        x = d.add_parser(name, help="catat dokumen" if name == "add" else "koreksi dokumen")
        if name == "correct":
            x.add_argument("id")
        req = name == "add"
        x.add_argument("--jenis", required=req, help="kode jenis: " + ", ".join(rep.DOC_TYPES))
        x.add_argument("--judul", required=req)
        x.add_argument("--nomor")
        x.add_argument("--tanggal", required=req, help="TTTT-BB-HH")
        x.add_argument("--berkas", help="path berkas dokumen (opsional)")
        x.add_argument("--catatan")
    x = d.add_parser("list", help="dokumen yang berlaku")
    x.add_argument("--year", dest="tahun")
    x = d.add_parser("remove", help="hapus dokumen")
    x.add_argument("id")
    x.add_argument("--catatan", "--alasan", dest="catatan")
    d.add_parser("jenis", help="daftar jenis dokumen")

    k = groups.add_parser("kegiatan", help="IKU 3: kegiatan pemberdayaan").add_subparsers(dest="action", required=True)
    x = k.add_parser("add", help="catat kegiatan yang direncanakan")
    x.add_argument("--year", dest="tahun", required=True)
    x.add_argument("--nama", required=True)
    x.add_argument("--rencana", help="tanggal rencana TTTT-BB-HH (opsional)")
    x.add_argument("--catatan")
    x = k.add_parser("facilitate", help="tandai kegiatan sudah difasilitasi")
    x.add_argument("id")
    x.add_argument("--tanggal", required=True)
    x.add_argument("--bukti", required=True)
    x.add_argument("--catatan")
    x = k.add_parser("correct", help="koreksi kegiatan")
    x.add_argument("id")
    x.add_argument("--nama")
    x.add_argument("--rencana")
    x.add_argument("--tanggal")
    x.add_argument("--bukti")
    x.add_argument("--catatan")
    x = k.add_parser("list", help="kegiatan yang berlaku")
    x.add_argument("--year", dest="tahun")
    x = k.add_parser("remove", help="hapus kegiatan")
    x.add_argument("id")
    x.add_argument("--catatan", "--alasan", dest="catatan")

    s = groups.add_parser("sakip", help="IKU 5: nilai SAKIP dari LHE").add_subparsers(dest="action", required=True)
    x = s.add_parser("set", help="catat nilai SAKIP tahun ini")
    x.add_argument("--year", dest="tahun", required=True)
    x.add_argument("--nilai", required=True)
    x.add_argument("--lhe-nomor", required=True)
    x.add_argument("--lhe-tanggal", required=True)
    x.add_argument("--catatan")
    x = s.add_parser("list", help="nilai SAKIP yang berlaku")
    x.add_argument("--year", dest="tahun")
    x = s.add_parser("remove", help="hapus nilai SAKIP")
    x.add_argument("id")
    x.add_argument("--catatan", "--alasan", dest="catatan")

    g = groups.add_parser("program", help="IKU 6: indikator program").add_subparsers(dest="action", required=True)
    for name in ("add", "correct"):
        x = g.add_parser(name, help="catat indikator program" if name == "add" else "koreksi indikator program")
        req = name == "add"
        if name == "correct":
            x.add_argument("id")
        x.add_argument("--year", dest="tahun", required=req)
        x.add_argument("--program", required=req)
        x.add_argument("--nama", required=req)
        x.add_argument("--satuan", required=req)
        x.add_argument("--target", required=req)
        x.add_argument("--arah", help="naik (bawaan) atau turun")
        x.add_argument("--realisasi")
        x.add_argument("--catatan")
    x = g.add_parser("realisasi", help="catat realisasi indikator program")
    x.add_argument("id")
    x.add_argument("nilai")
    x.add_argument("--catatan")
    x = g.add_parser("list", help="indikator program yang berlaku")
    x.add_argument("--year", dest="tahun")
    x = g.add_parser("remove", help="hapus indikator program")
    x.add_argument("id")
    x.add_argument("--catatan", "--alasan", dest="catatan")

    h = groups.add_parser("history", help="riwayat koreksi satu entri")
    h.add_argument("jenis", choices=sorted(iku.REGISTERS))
    h.add_argument("id")

    r = groups.add_parser("report", help="tabel pengukuran kinerja gaya LKjIP")
    r.add_argument("--year", dest="tahun")
    r.add_argument("--json", action="store_true", help="cetak JSON")
    r.add_argument("--xlsx", type=Path, help="tulis lembar kerja Excel ke berkas ini")
    r.add_argument("--per", help="tanggal keadaan TTTT-BB-HH (bawaan: hari ini)")
    r.add_argument("--kabupaten", action="store_true",
                   help="IKU semua kecamatan (satu berkas kantor per kecamatan di SIGAP_OFFICE_DIR) dalam satu tabel")

    c = groups.add_parser("tutup", help="kunci angka IKU yang dilaporkan untuk satu triwulan atau tahun")
    which = c.add_mutually_exclusive_group(required=True)
    which.add_argument("--triwulan", help="contoh 2026-Q1")
    which.add_argument("--tahun", help="contoh 2026")
    c.add_argument("--catatan")


def run(args: argparse.Namespace) -> int:
    from bot.app.service import open_database

    settings = load_settings()
    office = load_office(settings.office_file)
    today = _now().astimezone(ZoneInfo(office.timezone)).date()
    db = open_database(settings)
    try:
        if args.iku_register == "report" and getattr(args, "kabupaten", False):
            return _kabupaten_report(db, settings.office_dir, args, today)
        if args.iku_register == "report":
            with db.reading() as session:
                return _report(session, office, args, today)
        with db.transaction() as session:
            return _HANDLERS[args.iku_register](session, office, args, today)
    except RegisterError as exc:
        print(f"Gagal: {exc}", file=sys.stderr)
        return 1
    finally:
        db.dispose()


def _year(args: argparse.Namespace, today: date) -> int:
    value = getattr(args, "tahun", None)
    return rep.parse_year(value) if value else today.year


def _target(session: Any, office: Office, args: argparse.Namespace, today: date) -> int:
    if args.action == "set":
        code = rep.check_code(office, args.kode)
        entry = iku.set_target(session, code, rep.parse_year(args.tahun), rep.parse_decimal(args.nilai, "Target"),
                               recorder(), _now(), args.catatan)
        _say("iku_tercatat", aksi="set", jenis="target", e=entry)
    elif args.action == "remove":
        entry = iku.remove(session, iku.IkuTarget, rep.parse_id(args.id), recorder(), _now(), args.catatan)
        _say("iku_tercatat", aksi="hapus", jenis="target", e=entry)
    else:
        year = _year(args, today)
        _say("iku_target_daftar", tahun=year, target=rep.target_list(session, office, year))
    return 0


def _document_values(args: argparse.Namespace, today: date, partial: bool) -> dict[str, Any]:
    values: dict[str, Any] = {}
    if args.jenis is not None:
        values["doc_type"] = rep.check_doc_type(args.jenis)
    if args.judul is not None:
        values["title"] = args.judul
    if args.nomor is not None or not partial:
        values["number"] = _opt_text(args.nomor)
    if args.tanggal is not None:
        values["doc_date"] = rep.check_not_future(rep.parse_date(args.tanggal, "Tanggal dokumen"), today,
                                                  "Tanggal dokumen")
    if args.berkas is not None and args.berkas.strip() != "-":
        path = Path(args.berkas).expanduser()
        if not path.is_file():
            raise RegisterError(f"Berkas {args.berkas} tidak ditemukan.")
        values["file_path"] = str(path.resolve())
    elif args.berkas is not None or not partial:
        values["file_path"] = None
    return values


def _dokumen(session: Any, office: Office, args: argparse.Namespace, today: date) -> int:
    if args.action == "jenis":
        for code, label in rep.DOC_TYPES.items():
            print(f"{code}\t{label}")
        return 0
    if args.action == "add":
        entry = iku.add(session, IkuDocument, _document_values(args, today, False), recorder(), _now(), args.catatan)
    elif args.action == "correct":
        entry = iku.correct(session, IkuDocument, rep.parse_id(args.id), _document_values(args, today, True),
                            recorder(), _now(), args.catatan)
    elif args.action == "remove":
        entry = iku.remove(session, IkuDocument, rep.parse_id(args.id), recorder(), _now(), args.catatan)
    else:
        year = _year(args, today)
        _say("iku_daftar", judul=f"Dokumen IKU 1 tahun {year}", jenis="dokumen",
             entri=iku.current(session, IkuDocument, year))
        return 0
    _say("iku_tercatat", aksi="hapus" if args.action == "remove" else args.action, jenis="dokumen", e=entry)
    return 0


def _kegiatan(session: Any, office: Office, args: argparse.Namespace, today: date) -> int:
    now = _now()
    if args.action == "add":
        values: dict[str, Any] = {"year": rep.parse_year(args.tahun), "name": args.nama}
        if args.rencana:
            values["planned_on"] = rep.parse_date(args.rencana, "Tanggal rencana")
        entry = iku.add(session, IkuActivity, values, recorder(), now, args.catatan)
    elif args.action == "facilitate":
        done = rep.check_not_future(rep.parse_date(args.tanggal, "Tanggal pelaksanaan"), today, "Tanggal pelaksanaan")
        entry = iku.facilitate(session, rep.parse_id(args.id), done, args.bukti, recorder(), now, args.catatan)
    elif args.action == "correct":
        changes: dict[str, Any] = {}
        if args.nama is not None:
            changes["name"] = args.nama
        if args.rencana is not None:
            changes["planned_on"] = None if args.rencana.strip() == "-" else rep.parse_date(args.rencana, "Tanggal rencana")
        if args.tanggal is not None:
            changes["facilitated_on"] = None if args.tanggal.strip() == "-" else rep.check_not_future(
                rep.parse_date(args.tanggal, "Tanggal pelaksanaan"), today, "Tanggal pelaksanaan")
        if args.bukti is not None:
            changes["evidence"] = _opt_text(args.bukti)
        entry = iku.correct(session, IkuActivity, rep.parse_id(args.id), changes, recorder(), now, args.catatan)
    elif args.action == "remove":
        entry = iku.remove(session, IkuActivity, rep.parse_id(args.id), recorder(), now, args.catatan)
    else:
        year = _year(args, today)
        _say("iku_daftar", judul=f"Kegiatan pemberdayaan (IKU 3) tahun {year}", jenis="kegiatan",
             entri=iku.current(session, IkuActivity, year))
        return 0
    _say("iku_tercatat", aksi="hapus" if args.action == "remove" else args.action, jenis="kegiatan", e=entry)
    return 0


def _sakip(session: Any, office: Office, args: argparse.Namespace, today: date) -> int:
    if args.action == "set":
        entry = iku.set_sakip(
            session, rep.parse_year(args.tahun), rep.parse_decimal(args.nilai, "Nilai SAKIP"), args.lhe_nomor,
            rep.parse_date(args.lhe_tanggal, "Tanggal LHE"), recorder(), _now(), args.catatan,
        )
    elif args.action == "remove":
        entry = iku.remove(session, SakipScore, rep.parse_id(args.id), recorder(), _now(), args.catatan)
    else:
        year = getattr(args, "tahun", None)
        _say("iku_daftar", judul="Nilai SAKIP (IKU 5)", jenis="sakip",
             entri=iku.current(session, SakipScore, rep.parse_year(year) if year else None))
        return 0
    _say("iku_tercatat", aksi="hapus" if args.action == "remove" else "set", jenis="sakip", e=entry)
    return 0


def _program_values(args: argparse.Namespace) -> dict[str, Any]:
    values: dict[str, Any] = {}
    if args.tahun is not None:
        values["year"] = rep.parse_year(args.tahun)
    for arg, key in (("program", "program"), ("nama", "name"), ("satuan", "unit")):
        if getattr(args, arg) is not None:
            values[key] = getattr(args, arg)
    if args.target is not None:
        values["target"] = rep.parse_decimal(args.target, "Target")
    if args.arah is not None:
        values["higher_is_better"] = rep.parse_direction(args.arah)
    if args.realisasi is not None:
        values["realisation"] = None if args.realisasi.strip() == "-" else rep.parse_decimal(args.realisasi, "Realisasi")
    return values


def _program(session: Any, office: Office, args: argparse.Namespace, today: date) -> int:
    now = _now()
    if args.action == "add":
        entry = iku.add(session, ProgramIndicator, _program_values(args), recorder(), now, args.catatan)
    elif args.action == "correct":
        entry = iku.correct(session, ProgramIndicator, rep.parse_id(args.id), _program_values(args), recorder(), now,
                            args.catatan)
    elif args.action == "realisasi":
        entry = iku.correct(session, ProgramIndicator, rep.parse_id(args.id),
                            {"realisation": rep.parse_decimal(args.nilai, "Realisasi")}, recorder(), now, args.catatan)
    elif args.action == "remove":
        entry = iku.remove(session, ProgramIndicator, rep.parse_id(args.id), recorder(), now, args.catatan)
    else:
        year = _year(args, today)
        _say("iku_daftar", judul=f"Indikator program (IKU 6) tahun {year}", jenis="program",
             entri=iku.current(session, ProgramIndicator, year))
        return 0
    _say("iku_tercatat", aksi="hapus" if args.action == "remove" else args.action, jenis="program", e=entry)
    return 0


def _history(session: Any, office: Office, args: argparse.Namespace, today: date) -> int:
    entry_id = rep.parse_id(args.id)
    chain = iku.history(session, iku.REGISTERS[args.jenis], entry_id)
    _say("iku_riwayat", jenis=args.jenis, nomor=entry_id, entri=chain)
    return 0


def _tutup(session: Any, office: Office, args: argparse.Namespace, today: date) -> int:
    if args.triwulan:
        raw = args.triwulan.strip().upper()
        year_text, _, quarter_text = raw.partition("-Q")
        if not quarter_text or quarter_text not in ("1", "2", "3", "4"):
            raise RegisterError(f"Triwulan harus berbentuk TTTT-QN (contoh 2026-Q1), bukan {args.triwulan.strip()!r}.")
        year, quarter = rep.parse_year(year_text), int(quarter_text)
    else:
        year, quarter = rep.parse_year(args.tahun), None
    who = recorder()
    rows = rep.freeze_period(session, office, year, quarter, today, who, _now(), args.catatan)
    label = f"triwulan {['I', 'II', 'III', 'IV'][quarter - 1]} {year}" if quarter else f"tahun {year}"
    _say("iku_tutup", periode=label, oleh=who, per=rows[0].as_of if rows else today, angka=rows)
    return 0


def _report(session: Any, office: Office, args: argparse.Namespace, today: date) -> int:
    if args.per:
        today = rep.parse_date(args.per, "Tanggal keadaan")
    year = _year(args, today)
    rows = rep.iku_table(session, office, year, today)
    if args.xlsx is not None:
        from bot.reports.iku_xlsx import write_iku_xlsx

        try:
            write_iku_xlsx(args.xlsx, rows, office, year, today)
        except OSError as exc:
            raise RegisterError(f"Tidak bisa menulis {args.xlsx}: {exc.strerror or exc}") from exc
    if args.json:
        print(json.dumps(rep.iku_json(rows), ensure_ascii=False, indent=2))
    elif args.xlsx is not None:
        print(f"Laporan IKU tahun {year} ditulis ke {args.xlsx}.")
    else:
        _say("iku_laporan", **rep.report_context(rows, office, year, today))
    return 0


def _kabupaten_report(db: Any, office_dir: Path | None, args: argparse.Namespace, today: date) -> int:
    """Each kecamatan's own IKU table, built in its own scope (storage/tenancy.py), side by
    side with the kabupaten figure from summed numerators and denominators."""
    from bot.config.office import load_offices
    from bot.reports.kabupaten import kabupaten_table, kabupaten_text, kecamatan_tables

    offices = load_offices(office_dir)
    if args.per:
        today = rep.parse_date(args.per, "Tanggal keadaan")
    year = _year(args, today)
    items = kecamatan_tables(db, offices, year, today)
    first = next(iter(offices.values()))
    rows = kabupaten_table(items, weight_from_setting(first.skm_weight))
    if args.xlsx is not None:
        from bot.reports.kabupaten_xlsx import write_kabupaten_xlsx

        try:
            write_kabupaten_xlsx(args.xlsx, rows, first.kabupaten, year, today)
        except OSError as exc:
            raise RegisterError(f"Tidak bisa menulis {args.xlsx}: {exc.strerror or exc}") from exc
        print(f"Laporan IKU kabupaten tahun {year} ditulis ke {args.xlsx}.")
    else:
        print(to_plain(kabupaten_text(rows, first.kabupaten, year, today)))
    return 0


_HANDLERS = {
    "target": _target,
    "dokumen": _dokumen,
    "kegiatan": _kegiatan,
    "sakip": _sakip,
    "program": _program,
    "history": _history,
    "tutup": _tutup,
}

__all__ = ["recorder", "register", "run"]
