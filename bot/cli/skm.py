# `sigap skm ...`: the SKM report (terminal, JSON, XLSX, chart), the paper-form import, the
# population per period, the official e-SUKMA figures (`resmi`) and the printable QR code. Registered from bot/cli/sigap.py.
# Invariants: every message is Indonesian; a mistake the user can fix exits non-zero with
# the reason, never a traceback; reports only read (a read-only transaction), the import
# writes in one transaction or not at all.
from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.config.office import Office, load_office
from bot.config.settings import Settings, load_settings
from kpi.periods import Period, parse_period

SKM_PERIOD_HELP = "periode SKM: 2026 (tahun), 2026-S1/S2 (semester), 2026-Q1..Q4 (triwulan)"


class UserError(Exception):
    """A mistake on the command line: printed as is, exit code 1."""


def _now() -> datetime:
    return datetime.now(UTC)


def _period(text: str) -> Period:
    try:
        period = parse_period(text)
    except ValueError as exc:
        raise UserError(f"Periode tidak dikenal: '{text}'. Contoh: 2026, 2026-S2, 2026-Q4.") from exc
    if period.kind == "week":
        raise UserError(f"Periode SKM tidak bisa per minggu ('{text}'). Gunakan tahun (2026), "
                        "semester (2026-S1, 2026-S2) atau triwulan (2026-Q1 sampai 2026-Q4).")
    return period


def _service(office: Office, text: str | None) -> str | None:
    if text is None:
        return None
    from bot.reports.skm_qr import UnknownService, find_service

    try:
        return find_service(office, text).code
    except UnknownService as exc:
        raise UserError(str(exc)) from exc


def _context() -> tuple[Settings, Office]:
    settings = load_settings()
    return settings, load_office(settings.office_file)


def cmd_report(args: argparse.Namespace) -> int:
    from bot.app.service import open_database
    from bot.reports.skm_summary import skm_summary, summary_context, summary_json
    from bot.texts import render, set_timezone, to_plain

    settings, office = _context()
    period = _period(args.period)
    service = _service(office, args.layanan)
    set_timezone(ZoneInfo(office.timezone))
    db = open_database(settings)
    try:
        with db.reading() as session:
            summary = skm_summary(session, office, period, service)
            if args.xlsx:
                from bot.reports.skm_xlsx import TooManyRowsError, write_report_xlsx

                try:
                    n = write_report_xlsx(Path(args.xlsx), session, office, summary,
                                          progress=not args.json)
                except TooManyRowsError as exc:
                    raise UserError(str(exc)) from exc
                print(f"Laporan XLSX ({n} responden) ditulis ke {args.xlsx}.", file=sys.stderr)
    finally:
        db.dispose()
    if args.chart:
        from bot.reports.charts import nrr_chart

        Path(args.chart).write_bytes(nrr_chart(summary, office))
        print(f"Grafik NRR ditulis ke {args.chart}.", file=sys.stderr)
    if args.json:
        print(json.dumps(summary_json(summary, office), ensure_ascii=False, indent=2))
    else:
        print(to_plain(render("skm_report", **summary_context(summary, office))))
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    from bot.app.service import open_database
    from bot.imports.skm_import import import_skm_file

    settings, office = _context()
    path = Path(args.file)
    now = _now()
    db = open_database(settings)
    try:
        report = import_skm_file(db, path, office, now=now,
                                 today=now.astimezone(ZoneInfo(office.timezone)).date(),
                                 skip_invalid=args.skip_invalid, again=args.ulang)
    finally:
        db.dispose()
    for err in report.errors:
        where = f"baris {err.line}" if err.line else "berkas"
        column = f", kolom {err.column}" if err.column else ""
        print(f"  {where}{column}: {err.message}", file=sys.stderr)
    if report.file_error:
        print(f"Berkas {path.name} tidak dapat diimpor; tidak ada yang diimpor.", file=sys.stderr)
        return 1
    if report.errors and not args.skip_invalid:
        print(f"Berkas {path.name}: {len(report.bad_lines)} dari {report.rows} baris salah "
              f"({len(report.errors)} kesalahan); tidak ada yang diimpor. Perbaiki berkasnya, "
              "atau ulangi dengan --lewati-salah untuk mengimpor baris yang benar saja.",
              file=sys.stderr)
        return 1
    if report.bad_lines:
        lines = ", ".join(str(n) for n in report.bad_lines)
        print(f"Dilewati {len(report.bad_lines)} baris yang salah: {lines}.", file=sys.stderr)
    print(f"{report.imported} kuesioner diimpor dari {path.name}.")
    # Skipped rows are still errors in the file: a script must be able to notice them.
    return 1 if report.errors else 0


def cmd_population(args: argparse.Namespace) -> int:
    from bot.app.service import open_database
    from kpi.sample_size import krejcie_morgan
    from storage.skm import set_population

    settings, office = _context()
    period = _period(args.period)
    service = _service(office, args.layanan)
    if args.jumlah < 0:
        raise UserError("Populasi tidak boleh negatif.")
    db = open_database(settings)
    try:
        with db.transaction() as session:
            set_population(session, period.code, service or "", args.jumlah, "cli", _now())
    finally:
        db.dispose()
    what = office.service_name(service) if service else "semua layanan"
    print(f"Populasi {period.label()} ({what}): {args.jumlah} pengguna layanan. "
          f"Sampel minimum (Krejcie-Morgan): {krejcie_morgan(args.jumlah)} responden.")
    return 0


def cmd_qr(args: argparse.Namespace) -> int:
    from bot.channels.telegram_bots import link_username
    from bot.channels.whatsapp_numbers import link_number
    from bot.config.settings import DEFAULT_BOT_USERNAME
    from bot.jobs.offices import office_by_kode
    from bot.reports.skm_qr import deep_link, find_service, write_qr

    settings = load_settings()
    try:
        office = office_by_kode(settings, args.kecamatan)
    except ValueError as exc:
        raise UserError(str(exc)) from exc
    code = _service(office, args.layanan)
    assert code is not None
    service = find_service(office, code)
    out = Path(args.out)
    if out.suffix.lower() not in (".png", ".svg"):
        raise UserError(f"Berkas keluaran harus berakhiran .png atau .svg, bukan '{out.name}'.")
    # A kecamatan with its own bot: the card opens that bot, whose name only its office file
    # knows here (no network: getMe is `sigap run`'s, bot/channels/telegram_bots.py).
    username = link_username(office, settings.telegram_bot_username)
    if username is None:
        raise UserError(f"{office.name} memakai bot Telegram sendiri ({office.telegram_token_env}), tetapi "
                        "nama botnya belum ada di berkas kantor. Isi chat.telegram_username (nama bot "
                        "tanpa @, misalnya sigap_arjasa_bot) agar kartu membuka bot kecamatan itu.")
    try:
        link = deep_link(username, service.code)
    except ValueError as exc:
        raise UserError(str(exc)) from exc
    if not office.telegram_token_env and settings.telegram_bot_username == DEFAULT_BOT_USERNAME:
        # A card printed with a name that is not the office's bot leads residents nowhere.
        print(f"Peringatan: SIGAP_TELEGRAM_BOT_USERNAME belum diisi; tautan memakai nama bawaan "
              f"@{DEFAULT_BOT_USERNAME}. Isi dengan nama bot kantor (tanpa @) sebelum mencetak.",
              file=sys.stderr)
    # A kecamatan with its own WhatsApp number: the card opens that number (office file
    # chat.whatsapp_number), which answers for it (bot/channels/whatsapp_numbers.py).
    wa = link_number(office, settings.whatsapp.number) if settings.whatsapp.enabled else None
    write_qr(out, link, office, service, whatsapp_number=wa)
    print(f"Kode QR untuk {service.name} ditulis ke {out} (membuka {link}).")
    if settings.whatsapp.enabled and not wa:
        where = ("chat.whatsapp_number di berkas kantor " + office.name if office.whatsapp_phone_id
                 else "SIGAP_WHATSAPP_NUMBER")
        print(f"Catatan: isi {where} (mis. 6281234567890) agar kartu memuat tautan WhatsApp.", file=sys.stderr)
    return 0


def _official_action(args: argparse.Namespace) -> tuple[str, dict]:  # type: ignore[type-arg]
    """Run one `sigap skm resmi` action in a transaction; the template context to print."""
    from bot.app.service import open_database
    from bot.reports import skm_official as official
    from bot.reports.iku_report import parse_decimal
    from storage.iku import RegisterError

    settings, office = _context()
    db = open_database(settings)
    try:
        who = f"cli ({args.oleh})" if getattr(args, "oleh", None) else "cli"
        with db.transaction() as session:
            if args.resmi == "catat":
                return "skm_resmi", official.record_official(
                    session, office, official.parse_official_period(args.period),
                    parse_decimal(args.nilai, "Nilai IKM"), official.parse_respondents(args.responden),
                    args.dokumen, who, _now(), args.catatan)
            if args.resmi == "hapus":
                return "skm_resmi", official.remove_context(
                    session, official.parse_official_period(args.period), who, _now(), args.catatan)
            if args.resmi == "riwayat":
                return "skm_resmi", official.history_context(session, official.parse_official_period(args.period))
            return "skm_resmi", official.list_context(session, args.tahun)
    except RegisterError as exc:
        raise UserError(str(exc)) from exc
    finally:
        db.dispose()


def cmd_official(args: argparse.Namespace) -> int:
    from bot.texts import render, set_timezone, to_plain

    _, office = _context()
    set_timezone(ZoneInfo(office.timezone))
    template, context = _official_action(args)
    print(to_plain(render(template, **context)))
    return 0


def _guard(func):  # type: ignore[no-untyped-def]
    def run(args: argparse.Namespace) -> int:
        try:
            return int(func(args))
        except UserError as exc:
            print(str(exc), file=sys.stderr)
            return 1

    return run


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """The `skm` command group, added to the top-level parser of bot/cli/sigap.py."""
    skm = sub.add_parser("skm", help="Survei Kepuasan Masyarakat: laporan, impor, populasi, nilai resmi, QR")
    acts = skm.add_subparsers(dest="action", required=True)

    rep = acts.add_parser("report", help="ringkasan IKM satu periode")
    rep.add_argument("--period", required=True, help=SKM_PERIOD_HELP)
    rep.add_argument("--layanan", help="kode layanan (bawaan: semua layanan)")
    rep.add_argument("--json", action="store_true", help="cetak satu objek JSON")
    rep.add_argument("--xlsx", help="tulis lembar pengolahan, profil dan saran ke berkas XLSX")
    rep.add_argument("--chart", help="tulis grafik NRR per unsur ke berkas PNG")
    rep.set_defaults(func=_guard(cmd_report))

    imp = acts.add_parser("import", help="impor kuesioner kertas dari CSV atau XLSX")
    imp.add_argument("file")
    imp.add_argument("--skip-invalid", action="store_true",
                     help="impor baris yang benar dan lewati baris yang salah")
    imp.add_argument("--ulang", action="store_true",
                     help="impor juga bila berkas yang sama sudah pernah diimpor")
    imp.set_defaults(func=_guard(cmd_import))

    pop = acts.add_parser("populasi", help="catat populasi pengguna layanan satu periode")
    pop.add_argument("--period", required=True, help=SKM_PERIOD_HELP)
    pop.add_argument("--layanan", help="kode layanan (bawaan: semua layanan)")
    pop.add_argument("jumlah", type=int, help="jumlah pengguna layanan")
    pop.set_defaults(func=_guard(cmd_population))

    res = acts.add_parser("resmi", help="nilai IKM resmi dari e-SUKMA (IKU 2): catat, hapus, daftar, riwayat")
    res_acts = res.add_subparsers(dest="resmi", required=True)
    r_set = res_acts.add_parser("catat", help="catat (atau koreksi) nilai resmi satu periode")
    r_set.add_argument("period", help=SKM_PERIOD_HELP)
    r_set.add_argument("nilai", help="nilai konversi IKM 25-100 dari e-SUKMA, contoh 84,12")
    r_set.add_argument("responden", help="jumlah responden menurut e-SUKMA")
    r_set.add_argument("dokumen", help="dokumen sumber: nomor atau judul laporan e-SUKMA")
    r_set.add_argument("--catatan", help="alasan atau keterangan (disimpan di riwayat)")
    r_set.add_argument("--oleh", help="nama pencatat (disimpan di riwayat)")
    r_del = res_acts.add_parser("hapus", help="hapus nilai resmi satu periode (riwayat tetap)")
    r_del.add_argument("period", help=SKM_PERIOD_HELP)
    r_del.add_argument("--catatan", help="alasan penghapusan")
    r_del.add_argument("--oleh", help="nama pencatat")
    r_list = res_acts.add_parser("daftar", help="nilai resmi yang berlaku")
    r_list.add_argument("--tahun", type=int, help="hanya tahun ini (bawaan: semua)")
    r_hist = res_acts.add_parser("riwayat", help="semua catatan satu periode, termasuk koreksi")
    r_hist.add_argument("period", help=SKM_PERIOD_HELP)
    res.set_defaults(func=_guard(cmd_official))

    qr = acts.add_parser("qr", help="kode QR cetak untuk loket layanan")
    qr.add_argument("--layanan", required=True, help="kode layanan")
    qr.add_argument("--out", required=True, help="berkas keluaran .png atau .svg")
    qr.add_argument("--kecamatan", metavar="KODE",
                    help="kode wilayah kecamatan lain dari SIGAP_OFFICE_DIR, mis. 35.09.22 (bawaan: berkas kantor)")
    qr.set_defaults(func=_guard(cmd_qr))


__all__ = ["add_parser"]
