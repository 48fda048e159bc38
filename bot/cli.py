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

from bot.office import OfficeFileError, load_office
from bot.settings import SettingsError, load_settings


def _now() -> datetime:
    return datetime.now(UTC)


def cmd_run(args: argparse.Namespace) -> int:
    from bot.service import Service

    settings = load_settings()
    token = settings.require_token()
    logging.basicConfig(level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # httpx logs every request URL, which contains the token.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    # pywa logs every update at INFO and whole payloads (names, message text) at DEBUG.
    logging.getLogger("pywa").setLevel(logging.WARNING)
    service = Service(settings, token=token, rate_limit=True)
    try:
        asyncio.run(service.run_forever())
    except KeyboardInterrupt:
        pass
    return 0


def cmd_sandbox(args: argparse.Namespace) -> int:
    from bot.sandbox import run_sandbox

    return asyncio.run(run_sandbox(load_settings(), script=args.script))


def cmd_db_upgrade(args: argparse.Namespace) -> int:
    from storage.db import Database, redact_url
    from storage.migrate import upgrade

    settings = load_settings()
    upgrade(Database(settings.database_url))
    print(f"Basis data mutakhir: {redact_url(settings.database_url)}")
    return 0


def cmd_officers(args: argparse.Namespace) -> int:
    from bot.service import open_database
    from storage import people

    db = open_database(load_settings())
    with db.transaction() as s:
        if args.action == "add":
            officer = people.add_officer(s, args.telegram_id, args.name, args.role, _now())
            print(f"Petugas {officer.name} ({officer.role}) terdaftar, ID Telegram {officer.telegram_id}.")
        elif args.action == "deactivate":
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
                print("Belum ada petugas. Tambahkan: sigap officers add --telegram-id ID --name NAMA --role admin")
            for o in rows:
                print(f"{o.telegram_id}\t{o.role}\t{o.name}{'' if o.active else ' (nonaktif)'}")
    return 0


def cmd_complaints(args: argparse.Namespace) -> int:
    from bot.service import open_database
    from storage import csv_io

    settings = load_settings()
    office = load_office(settings.office_file)
    tz = ZoneInfo(office.timezone)
    import holidays

    from storage.complaints import DeadlinePolicy

    policy = DeadlinePolicy(office.verify_days, office.followup_days, holidays.country_holidays("ID"), tz)
    db = open_database(settings)
    if args.action == "import":
        with db.transaction() as s:
            report = csv_io.import_complaints(
                s,
                Path(args.file),
                policy=policy,
                prefix=office.ticket_prefix,
                categories=[c.code for c in office.categories],
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
    out = Path(args.csv)
    with db.transaction() as s, out.open("w", encoding="utf-8", newline="") as fh:
        n = csv_io.export_complaints(s, fh, policy=policy, tz=tz)
    print(f"{n} laporan diekspor ke {out}.")
    return 0


def cmd_retention(args: argparse.Namespace) -> int:
    from bot.retention_job import describe, run_retention
    from bot.service import open_database

    settings = load_settings()
    office = load_office(settings.office_file)
    report = run_retention(open_database(settings), office, _now(), settings.data_dir, dry_run=args.dry_run)
    print(describe(report, dry_run=args.dry_run))
    return 0


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="sigap", description="SIGAP: pengaduan Trantib, SKM dan IKU kecamatan.")
    sub = p.add_subparsers(dest="command", required=True)

    sp = sub.add_parser("run", help="jalankan bot sungguhan (perlu SIGAP_TELEGRAM_TOKEN)")
    sp.set_defaults(func=cmd_run)

    sp = sub.add_parser("sandbox", help="coba SIGAP tanpa Telegram: emulator dan chat di terminal")
    sp.add_argument("--script", type=Path, help="baca masukan dari berkas ini, bukan dari keyboard")
    sp.set_defaults(func=cmd_sandbox)

    db = sub.add_parser("db", help="basis data").add_subparsers(dest="action", required=True)
    up = db.add_parser("upgrade", help="terapkan migrasi")
    up.set_defaults(func=cmd_db_upgrade)

    off = sub.add_parser("officers", help="petugas").add_subparsers(dest="action", required=True)
    add = off.add_parser("add", help="daftarkan petugas")
    add.add_argument("--telegram-id", type=int, required=True)
    add.add_argument("--name", required=True)
    add.add_argument("--role", required=True, choices=["petugas", "koordinator", "pimpinan", "admin"])
    add.set_defaults(func=cmd_officers)
    de = off.add_parser("deactivate", help="nonaktifkan petugas")
    de.add_argument("--telegram-id", type=int, required=True)
    de.set_defaults(func=cmd_officers)
    ls = off.add_parser("list", help="daftar petugas")
    ls.set_defaults(func=cmd_officers)

    comp = sub.add_parser("complaints", help="register pengaduan").add_subparsers(dest="action", required=True)
    imp = comp.add_parser("import", help="impor register lama dari CSV")
    imp.add_argument("file")
    imp.set_defaults(func=cmd_complaints)
    exp = comp.add_parser("export", help="ekspor register ke CSV")
    exp.add_argument("--csv", required=True)
    exp.set_defaults(func=cmd_complaints)

    ret = sub.add_parser("retensi", help="hapus data pribadi yang melewati masa simpan (juga berjalan harian)")
    ret.add_argument("--dry-run", action="store_true", help="hanya tampilkan yang akan dihapus")
    ret.set_defaults(func=cmd_retention)

    from bot import cli_skm

    cli_skm.add_parser(sub)

    from bot import cli_iku

    cli_iku.register(sub)

    from bot import cli_digest

    cli_digest.register(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except (SettingsError, OfficeFileError) as exc:
        print(f"Kesalahan konfigurasi: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
