# `sigap digest`: print the weekly digest, or send it now to every target chat.
# Invariants: --coba (--dry-run) only reads (it claims nothing and sends nothing); --kirim (--send) goes
# through the same claims as the scheduled job, so a chat that already has the week's
# digest does not get it twice, while a digest the job abandoned as too late can be sent by
# hand. Messages are Indonesian; a mistake the user can fix exits non-zero with the reason.
from __future__ import annotations

import argparse
import asyncio
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from bot.config.office import Office, load_office
from bot.config.settings import Settings, load_settings
from bot.texts import set_timezone
from kpi.periods import Period, parse_period


def register(sub: Any) -> None:
    p = sub.add_parser("digest", help="ringkasan mingguan untuk grup Trantib dan pimpinan")
    mode = p.add_mutually_exclusive_group(required=True)
    mode.add_argument("--dry-run", action="store_true", help="tampilkan ringkasan tanpa mengirim")
    mode.add_argument("--send", action="store_true", help="kirim sekarang ke grup Trantib dan chat pimpinan")
    p.add_argument("--week", help="minggu ISO, mis. 2026-W48 (bawaan: minggu lalu)")
    p.add_argument("--chart", type=Path, help="dengan --coba: simpan grafiknya ke berkas PNG ini")
    p.add_argument("--kecamatan", metavar="KODE",
                   help="kode wilayah kecamatan lain dari SIGAP_OFFICE_DIR, mis. 35.09.22 (bawaan: berkas kantor)")
    p.set_defaults(func=cmd_digest)


def _week(text: str | None, office: Office, now: datetime) -> Period:
    from bot.reports.digest import default_week

    if not text:
        return default_week(office, now)
    period = parse_period(text)
    if period.kind != "week":
        raise ValueError(f"--minggu memerlukan minggu ISO seperti 2026-W48, bukan {text!r}")
    return period


def _office(settings: Settings, kode: str | None) -> Office:
    """The office file's office, or with --kecamatan another of SIGAP_OFFICE_DIR (the offices
    the bot serves, bot/jobs/offices.py)."""
    from bot.jobs.offices import office_by_kode

    return office_by_kode(settings, kode)


def cmd_digest(args: argparse.Namespace) -> int:
    settings = load_settings()
    try:
        office = _office(settings, getattr(args, "kecamatan", None))
    except ValueError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    set_timezone(ZoneInfo(office.timezone))
    now = datetime.now(UTC)
    try:
        week = _week(args.week, office, now)
    except ValueError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    if args.dry_run:
        return _dry_run(settings, office, week, now, args.chart)
    # A kecamatan with a bot of its own posts through that bot: its group has that bot, and
    # `sigap run` sends it the same way (bot/jobs/kecamatan_jobs.py).
    token = settings.bot_tokens({office.kode_wilayah: office}).get(office.kode_wilayah) or settings.require_token()
    return asyncio.run(_send(settings, office, token, week))


def _dry_run(settings: Settings, office: Office, week: Period, now: datetime, chart: Path | None) -> int:
    from bot.app.service import open_database
    from bot.reports.digest import build_digest

    db = open_database(settings)
    try:
        with db.reading(office.kode_wilayah) as s:
            digest = build_digest(s, office, week, now)
    finally:
        db.dispose()
    print(digest.plain)
    if chart is not None:
        chart.write_bytes(digest.chart)
        print(f"\nGrafik disimpan di {chart}.")
    return 0


async def _send(settings: Settings, office: Office, token: str, week: Period) -> int:
    from bot.app.service import make_runtime, open_database, utcnow
    from bot.channels.telegram import TelegramSender, build_application
    from bot.jobs.digest_job import DigestJob

    app = build_application(token, settings.telegram_base_url, settings.telegram_base_file_url, rate_limit=False)
    await app.initialize()
    db = open_database(settings)
    try:
        me = await app.bot.get_me()
        first = load_office(settings.office_file)
        other = office.kode_wilayah != first.kode_wilayah
        rt = make_runtime(settings, first, db, me.username or "sigap_bot")
        if other:
            from bot.jobs.offices import runtime_for

            rt = runtime_for(rt, office)
        job = DigestJob(db, rt, TelegramSender(app.bot), utcnow, kecamatan=office.kode_wilayah if other else None)
        chats = await asyncio.to_thread(job.target_chats)
        if not chats:
            print("Belum ada grup Trantib (/daftarkan_grup) atau chat pimpinan di berkas kantor.", file=sys.stderr)
            return 1
        outcomes = await job.send_now(week, chats)
    finally:
        await app.shutdown()
        db.dispose()
    done = {o.chat_id: o for o in outcomes}
    failed = False
    for chat in chats:
        o = done.get(chat)
        if o is None or o.result == "sudah ditangani":
            print(f"{week.code} ke chat {chat}: sudah terkirim sebelumnya (atau sedang dikirim), tidak dikirim lagi.")
        elif o.result == "terkirim":
            print(f"{week.code} ke chat {chat}: terkirim.")
        else:
            failed = True
            print(f"{week.code} ke chat {chat}: {o.result} ({o.error}).", file=sys.stderr)
    return 1 if failed else 0
