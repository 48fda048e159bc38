# A complaint's card as officers see it, drawn from the current record at delivery time.
# Invariants: a group card never shows the reporter's identity (domain.md section 3); a
# rahasia complaint's group card shows only that it arrived; the buttons are exactly the
# moves allowed from the current status, each signed with the complaint's version.
from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from bot.config.office import Office
from bot.dialogs.context import Runtime
from bot.texts import render, status_label
from storage import outbox, reminders
from storage.assignment import assignments_of
from storage.complaints import CHANNELS, KINDS, is_overdue
from storage.lifecycle import (
    CORRECTABLE,
    DITERIMA,
    DITINDAKLANJUTI,
    DITUNDA,
    DIVERIFIKASI,
    OPEN_STATUSES,
    moves_from,
)
from storage.models import Complaint


def card_buttons(rt: Runtime, complaint: Complaint) -> list[list[Any]]:
    buttons = [
        [m.label, rt.signed(f"k:{complaint.id}:{m.action}:{complaint.version}"), None]
        for m in moves_from(complaint.status)
        if m.roles != ("warga",)
    ]
    if complaint.status in OPEN_STATUSES:
        # Not a move: the presser becomes the complaint's officer (storage/assignment.py).
        buttons.append(["Tugaskan ke saya", rt.signed(f"k:{complaint.id}:tugaskan:{complaint.version}"), None])
    return buttons


# What the deadline of each open status is for ("Batas verifikasi: ...").
DEADLINE_NAMES = {DITERIMA: "verifikasi", DIVERIFIKASI: "tindak lanjut",
                  DITINDAKLANJUTI: "penyelesaian", DITUNDA: "penundaan"}


def render_card(rt: Runtime, complaint: Complaint, audience: str, today: date, session: Any,
                office: Office | None = None) -> tuple[str, list[list[Any]]]:
    """The card of `complaint` for the group or an officer's private chat; `office`: its
    kecamatan's (the default office's when the bot serves one)."""
    office = office or rt.office
    overdue = is_overdue(complaint, today)
    # The first day it is late: the due day itself is still on time.
    late_since = complaint.current_due + timedelta(days=1) if overdue and complaint.current_due else None
    deadline = DEADLINE_NAMES.get(complaint.status, "")
    if audience == "grup" and complaint.rahasia:
        return render("kartu_rahasia", c=complaint, status=status_label(complaint.status), terlambat=overdue,
                      terlambat_sejak=late_since, batas_nama=deadline), []
    private = audience == "pribadi"
    reporter = None
    if private and not complaint.anonim and complaint.reporter is not None:
        r = complaint.reporter
        if r.erased_at is None and (r.name or r.phone):
            reporter = " · ".join(x for x in (r.name, r.phone) if x)
    # Officers in the group must see too that the reporter was not reached (no identity in it).
    failed = outbox.undelivered_for_complaint(session, complaint.id)
    text = render(
        "kartu",
        c=complaint,
        status=status_label(complaint.status),
        terlambat=overdue,
        terlambat_sejak=late_since,
        batas_nama=deadline,
        jenis=KINDS.get(complaint.kind, complaint.kind),
        kategori=office.category_name(complaint.category),
        kanal=CHANNELS.get(complaint.channel, complaint.channel),
        jumlah_foto=len(complaint.photos),
        pelapor=reporter,
        riwayat=complaint.history if private else [],
        koreksi=CORRECTABLE,
        tanggal_saja=bool(complaint.received_date_only),  # /catat with a day and no time
        petugas=complaint.assignee.name if complaint.assignee else None,
        penugasan=assignments_of(session, complaint.id) if private else [],
        # Reminders sent about it are part of its history for officers (storage/reminders.py).
        pengingat=reminders.sent_for(session, complaint.id) if private else [],
        gagal_kirim=len(failed),
        diblokir=bool(complaint.reporter and complaint.reporter.blocked_at),
    )
    return text, card_buttons(rt, complaint)
