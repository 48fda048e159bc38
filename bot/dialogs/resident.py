# What a resident does besides filing: the menu, status and history of their own
# complaints, the "is it solved?" answer, and their personal data (see and erase).
# Invariants: a resident only ever sees their own complaints, and only public notes;
# "belum" reopens a complaint once, within the window set in the office file.
from __future__ import annotations

from datetime import timedelta
from typing import Any

from bot.dialogs import notify, survey
from bot.dialogs.context import Ctx
from bot.dialogs.types import Choice
from bot.texts import render
from storage import complaints as reg
from storage import skm
from storage.lifecycle import SELESAI, Actor, MoveRefused, transition

MENU = (
    Choice("📝 Buat laporan", "lapor"),
    Choice("🔎 Cek status", "status"),
    Choice("⭐ Survei kepuasan", "skm"),
    Choice("❓ Bantuan", "bantuan"),
    Choice("👤 Data saya", "datasaya"),
)


def menu(ctx: Ctx) -> dict[str, Any]:
    ctx.say("menu", MENU, office=ctx.office.name)
    return {"flow": "menu"}


def help_text(ctx: Ctx) -> None:
    ctx.say("bantuan", prefix=ctx.office.ticket_prefix)


def status(ctx: Ctx, ticket: str) -> dict[str, Any]:
    ticket = ticket.strip().upper()
    if not ticket:
        own = reg.complaints_of(ctx.session, ctx.person.id)
        ctx.say("status_daftar", [Choice(c.ticket, c.ticket) for c in own], laporan=own)
        return {"flow": "status"} if own else {}
    complaint = reg.by_ticket(ctx.session, ticket)
    if complaint is None or complaint.reporter_id != ctx.person.id:
        # Someone else's ticket is answered exactly like a missing one: no enumeration.
        ctx.say("tiket_tidak_ada", tiket=ticket[:40], prefix=ctx.office.ticket_prefix)
        return {}
    history = [h for h in reg.with_history(ctx.session, complaint.id).history]  # type: ignore[union-attr]
    ask = complaint.status == SELESAI and complaint.feedback is None
    ctx.say(
        "status_detail",
        buttons=notify.feedback_buttons(ctx, complaint) if ask else (),
        c=complaint,
        kategori=ctx.office.category_name(complaint.category),
        riwayat=history,
        tanya=ask,
    )
    return {}


def awaiting_feedback(ctx: Ctx) -> Any:
    """The resident's latest complaint that is selesai and not yet answered "ya"/"belum"."""
    from storage import people

    person = people.find_person(ctx.session, ctx.caller.channel, ctx.caller.user_id)
    if person is None:
        return None
    for complaint in reg.complaints_of(ctx.session, person.id, limit=5):
        if complaint.status == SELESAI and complaint.feedback is None:
            return complaint
    return None


def feedback(ctx: Ctx, body: str) -> None:
    """body is the verified 'f:<id>:<ya|belum>'."""
    _, cid, answer = body.split(":")
    complaint = reg.by_id(ctx.session, int(cid), lock=True)
    if complaint is None or complaint.reporter_id != ctx.person.id:
        ctx.toast = "Tombol ini bukan untuk Anda."
        return
    if complaint.status != SELESAI or complaint.feedback is not None:
        ctx.toast = "Jawaban untuk laporan ini sudah tercatat."
        return
    if answer == "ya":
        complaint.feedback = "ya"
        survey.say_with_offer(ctx, "umpan_balik_ya", tiket=complaint.ticket)
        return
    try:
        change = transition(
            ctx.session,
            complaint,
            "buka_kembali",
            Actor("warga", ctx.person.id, None, "warga"),
            ctx.now,
            public_note="Pelapor menyatakan masalah belum terselesaikan.",
            reopen_window=timedelta(days=ctx.office.reopen_window_days),
            max_reopens=ctx.office.max_reopens,
            policy=ctx.rt.policy,
        )
    except MoveRefused as exc:
        complaint.feedback = "belum"
        alasan = f"{exc} Silakan buat laporan baru bila masalahnya berlanjut."
        survey.say_with_offer(ctx, "umpan_balik_ditolak", alasan=alasan)
        return
    # Also on "belum": how the complaint was handled so far is worth rating either way.
    survey.say_with_offer(ctx, "umpan_balik_belum", tiket=complaint.ticket)
    group = ctx.trantib_group()
    if group:
        ctx.send_to("telegram", group, render("petugas_dibuka_kembali", tiket=complaint.ticket))
    notify.status_changed(ctx, complaint, change)


def _survey_key(ctx: Ctx) -> str:
    return skm.respondent_key(ctx.rt.secret, ctx.caller.channel, ctx.caller.user_id)


def my_data(ctx: Ctx) -> dict[str, Any]:
    person = ctx.person
    own = reg.complaints_of(ctx.session, person.id, limit=50)
    answers = skm.linked_responses(ctx.session, _survey_key(ctx))
    choices = [Choice("Hapus identitas saya", "hapus")]
    if answers:
        choices.append(Choice("Tarik persetujuan survei", "tarik_survei"))
    ctx.say(
        "datasaya",
        [*choices, Choice("Kembali", "kembali")],
        survei=answers,
        kanal=person.channel,
        akun=person.channel_user_id,
        nama=person.name,
        telepon=person.phone,
        jumlah=len(own),
        tiket=[c.ticket for c in own],
    )
    return {"flow": "datasaya", "step": "lihat"}


def my_data_step(ctx: Ctx, state: dict[str, Any], value: str | None) -> dict[str, Any]:
    if state.get("step") == "lihat" and value == "hapus":
        ctx.say("datasaya_konfirmasi", [Choice("Ya, hapus", "yakin"), Choice("Tidak", "kembali")])
        return {"flow": "datasaya", "step": "konfirmasi"}
    if state.get("step") == "lihat" and value == "tarik_survei":
        ctx.say("datasaya_survei_konfirmasi", [Choice("Ya, hapus jawaban", "yakin_survei"), Choice("Tidak", "kembali")])
        return {"flow": "datasaya", "step": "konfirmasi_survei"}
    if state.get("step") == "konfirmasi_survei" and value == "yakin_survei":
        removed = skm.withdraw_consent(ctx.session, _survey_key(ctx))
        ctx.say("datasaya_survei_dihapus", jumlah=removed)
        return {}
    if state.get("step") == "konfirmasi" and value == "yakin":
        reg.erase_identity(ctx.session, ctx.person, ctx.now)
        ctx.say("datasaya_dihapus")
        return {}
    if value == "kembali":
        return menu(ctx)
    ctx.say("pilih_tombol")
    return state
