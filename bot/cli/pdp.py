# `sigap pdp`: personal data handled the way UU 27/2022 asks of a controller.
#   catat / jawab / daftar   requests that came by letter, in person, by phone (3 x 24 h)
#   hapus / samarkan         erase a reporter by ticket; approve a redacted description
#   insiden                  record a breach, queue the notices by chat, print the report
# Invariants: every clock is 72 calendar hours (storage/pdp.py); messages are Indonesian,
# from templates; a mistake the user can fix exits 2 with the reason, never a traceback.
from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from bot.channels import telegram_bots
from bot.config.office import load_office
from bot.config.settings import load_settings
from bot.texts import render, set_timezone, to_plain


def register(sub: Any) -> None:
    from storage.pdp import REQUEST_KINDS, REQUEST_VIA

    pdp = sub.add_parser("pdp", help="data pribadi: permintaan warga, penghapusan, insiden (UU 27/2022)")
    act = pdp.add_subparsers(dest="action", required=True)

    p = act.add_parser("catat", help="catat permintaan warga yang masuk di luar bot (batas 3 x 24 jam)")
    p.add_argument("--jenis", required=True, choices=REQUEST_KINDS, help="jenis permintaan")
    p.add_argument("--cara", required=True, choices=REQUEST_VIA, help="cara permintaan masuk")
    p.add_argument("--pemohon", required=True, help="nama pemohon (dan tiket bila ada)")
    p.add_argument("--rincian", help="isi permintaan")
    p.add_argument("--diterima", help="waktu diterima, 'YYYY-MM-DD HH:MM' waktu setempat (bawaan: sekarang)")
    p.add_argument("--petugas", required=True, help="nama petugas yang mencatat")
    p.set_defaults(func=cmd_pdp)

    p = act.add_parser("jawab", help="tandai permintaan sudah dijawab")
    p.add_argument("nomor", type=int)
    p.add_argument("--jawaban", required=True, help="ringkasan jawaban kepada pemohon")
    p.add_argument("--petugas", required=True)
    p.set_defaults(func=cmd_pdp)

    p = act.add_parser("daftar", help="permintaan yang belum dijawab dan insiden, dengan sisa waktunya")
    p.add_argument("--per", help="keadaan pada waktu ini, 'YYYY-MM-DD HH:MM' waktu setempat (bawaan: sekarang)")
    p.set_defaults(func=cmd_pdp)

    p = act.add_parser("hapus", help="hapus identitas pelapor sebuah tiket dan isi laporannya yang sudah ditutup")
    p.add_argument("tiket")
    p.add_argument("--petugas", required=True)
    p.add_argument("--padatkan", action="store_true",
                   help="PostgreSQL: tulis ulang tabel (VACUUM FULL) agar versi lama data tidak tersisa")
    p.set_defaults(func=cmd_pdp)

    p = act.add_parser("samarkan", help="setujui uraian tersamar yang dipakai saat uraian asli dihapus")
    p.add_argument("tiket")
    p.add_argument("--teks", required=True, help="uraian tanpa nama, alamat atau ciri yang mengenali orang")
    p.add_argument("--petugas", required=True)
    p.set_defaults(func=cmd_pdp)

    p = act.add_parser("insiden", help="catat kebocoran data, kirim pemberitahuan, buat laporan ke lembaga")
    p.add_argument("--apa", required=True, help="data apa yang bocor")
    p.add_argument("--kapan", help="kapan terjadi, 'YYYY-MM-DD HH:MM' waktu setempat")
    p.add_argument("--diketahui", help="kapan diketahui, 'YYYY-MM-DD HH:MM' (bawaan: sekarang)")
    p.add_argument("--cara", required=True, help="bagaimana terjadi")
    p.add_argument("--terdampak", required=True,
                   help="tiket yang terdampak, dipisah koma, atau 'semua' untuk semua pelapor")
    p.add_argument("--tindakan", required=True, help="apa yang sudah dilakukan")
    p.add_argument("--petugas", required=True)
    p.add_argument("--laporan", type=Path, help="simpan laporan untuk lembaga pengawas ke berkas ini")
    p.add_argument("--tanpa-kirim", action="store_true", help="jangan antrekan pemberitahuan lewat chat")
    p.set_defaults(func=cmd_pdp)


def _moment(text: str | None, tz: ZoneInfo, now: datetime, flag: str) -> datetime | None:
    if not text:
        return None
    try:
        value = datetime.fromisoformat(text.strip().replace("T", " "))
    except ValueError as exc:
        raise ValueError(f"{flag} harus berbentuk YYYY-MM-DD HH:MM, bukan {text!r}.") from exc
    value = value.replace(tzinfo=tz) if value.tzinfo is None else value
    return value.astimezone(UTC)


def _say(template: str, **values: Any) -> None:
    print(to_plain(render(template, **values)))


def cmd_pdp(args: argparse.Namespace) -> int:
    from bot.app.service import open_database

    settings = load_settings()
    office = load_office(settings.office_file)
    tz = ZoneInfo(office.timezone)
    set_timezone(tz)
    now = datetime.now(UTC)
    db = open_database(settings)
    try:
        return _run(args, db, office, tz, now)
    except (ValueError, LookupError) as exc:
        print(str(exc).strip("'\""), file=sys.stderr)
        return 2
    finally:
        db.dispose()


def _run(args: argparse.Namespace, db: Any, office: Any, tz: ZoneInfo, now: datetime) -> int:
    from storage import pdp

    if args.action == "catat":
        received = _moment(args.diterima, tz, now, "--diterima") or now
        with db.transaction() as s:
            row = pdp.record_request(s, kind=args.jenis, via=args.cara, requester=args.pemohon, detail=args.rincian,
                                     received_at=received, recorded_by=args.petugas, now=now)
            _say("pdp_tercatat", r=row, jenis=pdp.KIND_LABELS[row.kind])
        return 0
    if args.action == "jawab":
        with db.transaction() as s:
            row = pdp.answer_request(s, args.nomor, args.jawaban, args.petugas, now)
            _say("pdp_dijawab", r=row, tepat=now <= row.due_at)
        return 0
    if args.action == "daftar":
        # --per reads the clock at a chosen moment: what was due then, and how much time was left.
        at = _moment(args.per, tz, now, "--per") or now
        with db.reading() as s:
            requests, incidents = pdp.waiting(s, at)
            # The same text as /pdp in chat, with every request (the chat shows the first few).
            _say("pdp_permintaan", permintaan=requests, jumlah=len(requests), insiden=incidents,
                 jenis=pdp.KIND_LABELS)
        return 0
    if args.action in ("hapus", "samarkan"):
        return _by_ticket(args, db, now)
    return _incident(args, db, office, tz, now)


def _by_ticket(args: argparse.Namespace, db: Any, now: datetime) -> int:
    from storage import complaints as reg
    from storage import erasure

    ticket = args.tiket.strip().upper()
    with db.transaction() as s:
        complaint = reg.by_ticket(s, ticket)
        if complaint is None:
            raise LookupError(f"Tidak ada laporan dengan tiket {ticket}.")
        if args.action == "samarkan":
            erasure.approve_redaction(s, complaint, args.teks, args.petugas, now)
            _say("pdp_samarkan", tiket=ticket, petugas=args.petugas, sudah=complaint.description_erased_at is not None)
            return 0
        person = complaint.reporter
        if person is None:
            raise LookupError(f"Laporan {ticket} tidak menyimpan pelapor.")
        still_open = erasure.open_complaints_of(s, person.id)
        erased = erasure.erase_person(s, person, now)
    db.reclaim_erased(compact=args.padatkan)
    _say("pdp_hapus_selesai", tiket=ticket, jumlah=erased, terbuka=still_open)
    return 0


def _incident(args: argparse.Namespace, db: Any, office: Any, tz: ZoneInfo, now: datetime) -> int:
    from storage import outbox, pdp

    occurred = _moment(args.kapan, tz, now, "--kapan")
    discovered = _moment(args.diketahui, tz, now, "--diketahui") or now
    scope = args.terdampak.strip()
    tickets = None if scope.lower() == "semua" else [t.strip().upper() for t in scope.split(",") if t.strip()]
    if tickets == []:
        raise ValueError("--terdampak berisi tiket dipisah koma, atau 'semua'.")
    with db.transaction() as s:
        who = pdp.affected_reporters(s, tickets)
        reachable = [] if args.tanpa_kirim else who.reachable
        affected = "semua pelapor" if tickets is None else ", ".join(tickets)
        row = pdp.record_incident(
            s, what=args.apa, occurred_at=occurred, discovered_at=discovered, how=args.cara,
            affected=f"Pelapor pada laporan: {affected}", actions=args.tindakan,
            notified_chats=len(reachable), unreachable=len(who.unreachable_tickets),
            recorded_by=args.petugas, now=now,
        )
        notice = render("pdp_insiden_pemberitahuan", kantor=office.name, i=row)
        for person in reachable:
            # Delivered by the running bot (it sends whatever is due in the outbox).
            # A Telegram reporter of a kecamatan with its own bot is reached through that bot.
            channel = telegram_bots.channel_for(office) if person.channel == telegram_bots.SHARED else person.channel
            outbox.enqueue(s, channel, str(person.channel_user_id), "text",
                           {"text": notice, "buttons": []}, now)
        report = to_plain(render("pdp_insiden_laporan", kantor=office.name, i=row,
                                 tidak_terjangkau=who.unreachable_tickets))
    if args.laporan is not None:
        args.laporan.write_text(report + "\n", encoding="utf-8")
    _say("pdp_insiden_tercatat", i=row, tidak_terjangkau=who.unreachable_tickets, tidak_dikenal=who.unknown_tickets,
         berkas=args.laporan)
    if args.laporan is None:
        print(report)
    return 0
