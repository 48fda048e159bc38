# The `sigap` command. Every message it prints is Indonesian; errors exit non-zero with
# the reason, never a traceback for a mistake the user can fix.
from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.cli.parser import SigapParser, quiet_stdout
from bot.config.office import OfficeFileError, load_office
from bot.config.settings import SettingsError, load_settings


def _now() -> datetime:
    return datetime.now(UTC)


def cmd_run(args: argparse.Namespace) -> int:
    from bot.app.service import Service

    settings = load_settings()
    token = settings.require_token()
    from bot.app.log_redact import configure_logging

    # Every line redacted: no token, phone number or chat id in clear (bot/app/log_redact.py).
    configure_logging(settings.log_level)
    # httpx logs every request URL, which contains the token.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    # pywa logs every update at INFO and whole payloads (names, message text) at DEBUG.
    logging.getLogger("pywa").setLevel(logging.WARNING)
    from storage.db import describe_url

    # Which register: a relative data/ depends on the working folder, so say it plainly.
    print(f"Register dibuka: {describe_url(settings.database_url)}", flush=True)
    service = Service(settings, token=token, rate_limit=True)
    try:
        asyncio.run(service.run_forever())
    except KeyboardInterrupt:
        pass
    return 0


def cmd_sandbox(args: argparse.Namespace) -> int:
    from bot.app.sandbox import run_sandbox

    return asyncio.run(run_sandbox(load_settings(), script=args.script))


def cmd_db_upgrade(args: argparse.Namespace) -> int:
    from storage.db import Database, redact_url
    from storage.migrate import upgrade

    settings = load_settings()
    upgrade(Database(settings.database_url, kecamatan=load_office(settings.office_file).kode_wilayah))
    print(f"Basis data mutakhir: {redact_url(settings.database_url)}")
    return 0


def cmd_officers(args: argparse.Namespace) -> int:
    from bot.app.service import open_database
    from storage import people

    db = open_database(load_settings())
    with db.transaction() as s:
        if args.op == "add":
            try:
                officer = people.add_officer(s, args.telegram_id, args.name, args.role, _now())
            except ValueError as exc:
                print(str(exc), file=sys.stderr)
                return 1
            print(f"Petugas {officer.name} ({officer.role}) terdaftar, ID Telegram {officer.telegram_id}.")
        elif args.op == "deactivate":
            try:
                gone = people.deactivate_officer(s, args.telegram_id)
            except people.LastAdmin as exc:
                print(str(exc), file=sys.stderr)
                return 1
            if gone is None:
                print(f"Tidak ada petugas dengan ID Telegram {args.telegram_id}.", file=sys.stderr)
                return 1
            print(f"Petugas {gone.name} dinonaktifkan.")
        else:
            rows = people.list_officers(s)
            if not rows:
                print("Belum ada petugas. Tambahkan: sigap petugas tambah --id-telegram ID --nama NAMA --peran admin")
            for o in rows:
                print(f"{o.telegram_id}\t{o.role}\t{o.name}{'' if o.active else ' (nonaktif)'}")
    return 0


def cmd_complaints(args: argparse.Namespace) -> int:
    from bot.app.service import open_database
    from storage import csv_io

    settings = load_settings()
    office = load_office(settings.office_file)
    tz = ZoneInfo(office.timezone)
    from bot.config.workcalendar import deadline_policy

    policy = deadline_policy(office)
    db = open_database(settings)
    if args.op == "import":
        with db.transaction() as s:
            report = csv_io.import_complaints(
                s,
                Path(args.file),
                policy=policy,
                prefix=office.ticket_prefix,
                # code -> name: the file may hold either, in any case; codes are stored.
                categories={c.code: c.name for c in office.categories},
                desa=office.desa,
                now=_now(),
                tz=tz,
            )
            if report.errors:
                s.rollback()
        if report.errors:
            print(f"Berkas {args.file} berisi {len(report.errors)} kesalahan; tidak ada yang diimpor:", file=sys.stderr)
            for err in report.errors:
                print(f"  baris {err.line}, kolom {err.column}: {err.message}", file=sys.stderr)
            return 1
        print(f"{report.imported} laporan diimpor dari {args.file}.")
        return 0
    if args.xlsx:
        out = Path(args.xlsx)
        with db.transaction() as s:
            n = csv_io.export_complaints_xlsx(
                s, out, policy=policy, categories={c.code: c.name for c in office.categories}, tz=tz
            )
        print(f"{n} laporan diekspor ke {out}.")
        return 0
    out = Path(args.csv)
    # With a BOM, Excel reads the file as UTF-8 (names such as "Sucopangepok" are safe either
    # way, but uraian and petugas names are not); ";" for Excel with Indonesian settings.
    with db.transaction() as s, out.open("w", encoding="utf-8-sig", newline="") as fh:
        n = csv_io.export_complaints(s, fh, policy=policy, tz=tz, delimiter=args.pemisah)
    print(f"{n} laporan diekspor ke {out}.")
    return 0


def cmd_retention(args: argparse.Namespace) -> int:
    from bot.app.service import open_database
    from bot.jobs.retention_job import describe, run_retention

    settings = load_settings()
    office = load_office(settings.office_file)
    report = run_retention(open_database(settings), office, _now(), settings.data_dir, dry_run=args.dry_run,
                           compact=args.padatkan)
    print(describe(report, dry_run=args.dry_run))
    return 0


def parser() -> argparse.ArgumentParser:
    # SigapParser: every sub-parser below (also those of cli_skm, cli_iku, ...) inherits it,
    # so usage, help and errors are Indonesian. Commands have Indonesian names; the English
    # ones stay as aliases for scripts written before.
    p = SigapParser(prog="sigap", description="SIGAP: pengaduan Trantib, SKM dan IKU kecamatan.")
    sub = p.add_subparsers(dest="command", required=True)

    sp = sub.add_parser("jalankan", aliases=["run"], help="jalankan bot sungguhan (perlu SIGAP_TELEGRAM_TOKEN)")
    sp.set_defaults(func=cmd_run)

    sp = sub.add_parser("sandbox", aliases=["coba"], help="coba SIGAP tanpa Telegram: emulator dan chat di terminal")
    sp.add_argument("--script", type=Path, help="baca masukan dari berkas ini, bukan dari keyboard")
    sp.set_defaults(func=cmd_sandbox)

    db = sub.add_parser("db", help="basis data").add_subparsers(dest="action", required=True)
    up = db.add_parser("mutakhirkan", aliases=["upgrade"], help="terapkan migrasi")
    up.set_defaults(func=cmd_db_upgrade)

    off = sub.add_parser("petugas", aliases=["officers"], help="petugas").add_subparsers(dest="action", required=True)
    add = off.add_parser("tambah", aliases=["add"], help="daftarkan petugas")
    add.add_argument("--telegram-id", type=int, required=True, metavar="ID", help="ID pengguna Telegram (angka)")
    add.add_argument("--name", "--nama", dest="name", required=True, metavar="NAMA", help="nama petugas")
    add.add_argument("--role", "--peran", dest="role", required=True,
                     choices=["petugas", "koordinator", "pimpinan", "admin"], help="peran")
    add.set_defaults(func=cmd_officers, op="add")
    de = off.add_parser("nonaktifkan", aliases=["deactivate"], help="nonaktifkan petugas")
    de.add_argument("--telegram-id", type=int, required=True, metavar="ID", help="ID pengguna Telegram (angka)")
    de.set_defaults(func=cmd_officers, op="deactivate")
    ls = off.add_parser("daftar", aliases=["list"], help="daftar petugas")
    ls.set_defaults(func=cmd_officers, op="list")

    comp = sub.add_parser("pengaduan", aliases=["complaints"], help="register pengaduan").add_subparsers(
        dest="action", required=True
    )
    imp = comp.add_parser("impor", aliases=["import"], help="impor register lama dari CSV atau XLSX")
    imp.add_argument("file", metavar="BERKAS", help="berkas .csv (UTF-8, pemisah , atau ;) atau .xlsx")
    imp.set_defaults(func=cmd_complaints, op="import")
    exp = comp.add_parser("ekspor", aliases=["export"], help="ekspor register ke CSV atau XLSX")
    where = exp.add_mutually_exclusive_group(required=True)
    where.add_argument("--csv", metavar="BERKAS", help="tulis CSV (UTF-8 dengan BOM, kode)")
    where.add_argument("--xlsx", metavar="BERKAS", help="tulis XLSX untuk Excel (label, uraian, tanggal)")
    exp.add_argument("--pemisah", choices=[",", ";"], default=",",
                     help="pemisah kolom CSV; ';' untuk Excel dengan pengaturan wilayah Indonesia")
    exp.set_defaults(func=cmd_complaints, op="export")

    ret = sub.add_parser("retensi", help="hapus data pribadi yang melewati masa simpan (juga berjalan harian)")
    ret.add_argument("--dry-run", action="store_true", help="hanya tampilkan yang akan dihapus")
    ret.add_argument("--padatkan", action="store_true",
                     help="PostgreSQL: tulis ulang tabel (VACUUM FULL) agar versi lama data yang dihapus "
                          "tidak tersisa di berkas basis data; mengunci tabel, jalankan di jam sepi")
    ret.set_defaults(func=cmd_retention)

    from bot.cli import skm as cli_skm
    cli_skm.add_parser(sub)

    from bot.cli import iku as cli_iku
    cli_iku.register(sub)

    from bot.cli import digest as cli_digest
    cli_digest.register(sub)

    from bot.cli import pdp as cli_pdp
    cli_pdp.register(sub)

    from bot.cli import kabupaten as cli_kabupaten
    cli_kabupaten.register(sub)
    return p


def _say(line: str) -> None:
    # stderr itself may be a closed pipe: nothing more can be said then.
    try:
        print(line, file=sys.stderr, flush=True)
    except (BrokenPipeError, OSError):
        pass


def main(argv: list[str] | None = None) -> int:
    """Run one command. The failures a person can meet (configuration, a missing file or
    folder, the database down, no network, a closed pipe, Ctrl-C) end with one Indonesian
    line on stderr and a non-zero exit code, never a traceback."""
    if not logging.getLogger().handlers:
        # Any command may log a warning (digest --send, retensi): redacted like `run`'s.
        from bot.app.log_redact import configure_logging

        configure_logging("WARNING")
    try:
        args = parser().parse_args(argv)
    except BrokenPipeError:
        quiet_stdout()
        return 1
    from bot.app.failures import TelegramUnreachable
    from storage.db import unreachable_reason

    try:
        code = int(args.func(args) or 0)
        sys.stdout.flush()  # here, so that a closed pipe is caught below and not at exit
        return code
    except (SettingsError, OfficeFileError) as exc:
        _say(f"Kesalahan konfigurasi: {exc}")
        return 2
    except FileNotFoundError as exc:
        _say(f"Berkas atau folder tidak ditemukan: {exc.filename or exc}")
        return 1
    except IsADirectoryError as exc:
        _say(f"Ini sebuah folder, bukan berkas: {exc.filename or exc}")
        return 1
    except PermissionError as exc:
        _say(f"Tidak ada izin untuk membuka: {exc.filename or exc}")
        return 1
    except (FileExistsError, NotADirectoryError) as exc:
        _say(f"Berkas dan folder tidak cocok (ada berkas di tempat folder, atau sebaliknya): {exc.filename or exc}")
        return 1
    except TelegramUnreachable as exc:
        _say(str(exc))
        return 3
    except BrokenPipeError:
        quiet_stdout()
        return 1
    except KeyboardInterrupt:
        _say("Dihentikan.")
        return 130
    except Exception as exc:
        reason = unreachable_reason(exc)
        if reason is None:
            raise
        _say(f"Basis data tidak dapat dihubungi: {reason}. Periksa SIGAP_DATABASE_URL dan server basis datanya.")
        return 4


if __name__ == "__main__":
    sys.exit(main())
