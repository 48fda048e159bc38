# What a resident does besides filing: the menu, status and history of their own
# complaints, the "is it solved?" answer, and their personal data (see, correct, erase,
# withdraw survey consent: the rights of UU 27/2022).
# Invariants: a resident only ever sees their own complaints, and only public notes;
# "belum" reopens a complaint once, within the window set in the office file; a corrected
# name or phone is saved only after the resident saw exactly what will be saved.
from __future__ import annotations

from datetime import timedelta
from typing import Any

from bot.config.office import Office
from bot.dialogs import kecamatan, notify, survey
from bot.dialogs.context import Ctx
from bot.dialogs.types import Choice, Event
from bot.texts import render
from storage import complaints as reg
from storage import people, skm, tenant_lookup
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
    elsewhere = _office_of_ticket(ctx, ticket)
    if elsewhere is not None:
        # The prefix names another kecamatan of this bot: the resident's own complaint there
        # is answered (read in that kecamatan), anything else exactly like a missing ticket.
        with kecamatan.visiting(ctx, elsewhere) as there:
            person = people.find_person(there.session, there.caller.channel, there.caller.user_id)
            found = reg.by_ticket(there.session, ticket)
            if person is not None and found is not None and found.reporter_id == person.id:
                # No "is it solved?" buttons: they are answered in the resident's own kecamatan.
                _say_status(there, found, ask=False)
                return {}
        ctx.say("tiket_tidak_ada", tiket=ticket[:40], prefix=ctx.office.ticket_prefix)
        return {}
    complaint = reg.by_ticket(ctx.session, ticket)
    if complaint is None or complaint.reporter_id != ctx.person.id:
        # Someone else's ticket is answered exactly like a missing one: no enumeration.
        ctx.say("tiket_tidak_ada", tiket=ticket[:40], prefix=ctx.office.ticket_prefix)
        return {}
    _say_status(ctx, complaint, ask=complaint.status == SELESAI and complaint.feedback is None)
    return {}


def _office_of_ticket(ctx: Ctx, ticket: str) -> Office | None:
    """Another office of this bot whose prefix the ticket carries (TRB-2026-00017), if any."""
    if not ctx.rt.several:
        return None
    prefix = ticket.partition("-")[0]
    for office in ctx.rt.offices.values():
        if office.ticket_prefix.upper() == prefix and office.kode_wilayah != ctx.kecamatan:
            return office
    return None


def _say_status(ctx: Ctx, complaint: Any, *, ask: bool) -> None:
    history = [h for h in reg.with_history(ctx.session, complaint.id).history]  # type: ignore[union-attr]
    ctx.say(
        "status_detail",
        buttons=notify.feedback_buttons(ctx, complaint) if ask else (),
        c=complaint,
        kategori=ctx.office.category_name(complaint.category),
        riwayat=history,
        tanya=ask,
    )


def awaiting_feedback(ctx: Ctx) -> Any:
    """The resident's latest complaint that is selesai and not yet answered "ya"/"belum"."""
    person = people.find_person(ctx.session, ctx.caller.channel, ctx.caller.user_id)
    if person is None:
        return None
    for complaint in reg.complaints_of(ctx.session, person.id, limit=5):
        if complaint.status == SELESAI and complaint.feedback is None:
            return complaint
    return None


def awaiting_feedback_anywhere(ctx: Ctx) -> tuple[str, int] | None:
    """The kode and id of the complaint a typed "ya"/"belum" answers: awaiting_feedback in
    each kecamatan keeping a Person for this chat identity (the resident may have switched
    with /kecamatan since the question came), the one resolved last. Only the caller's own
    Persons are looked at, each in a session scoped to its kecamatan."""
    found: list[tuple[Any, str, int]] = []
    here = awaiting_feedback(ctx)
    if here is not None:
        found.append((here.resolved_at, ctx.kecamatan, here.id))
    if ctx.rt.several:
        for kode in tenant_lookup.person_kecamatan(ctx.session, ctx.caller.channel, ctx.caller.user_id):
            office = ctx.rt.offices.get(kode)
            if kode == ctx.kecamatan or office is None:
                continue
            with kecamatan.visiting(ctx, office) as there:
                waiting = awaiting_feedback(there)
                if waiting is not None:
                    found.append((waiting.resolved_at, kode, waiting.id))
    if not found:
        return None
    # Resolved last: the question the resident saw last (on a tie, the step's kecamatan).
    _, kode, cid = max(found, key=lambda f: (f[0] is not None, f[0]))
    return kode, cid


def feedback(ctx: Ctx, body: str) -> None:
    """body is the verified 'f:<id>:<ya|belum>[:<kode>]'. A kode other than the step's (the
    resident switched kecamatan since) is answered in that kecamatan, the session scoped to
    it; a button from before there was a kode, in the step's, as it always was."""
    _, cid, answer, *where = body.split(":")
    kode = where[0] if where else ctx.kecamatan
    office = ctx.rt.offices.get(kode)
    if kode != ctx.kecamatan and office is not None:
        with kecamatan.visiting(ctx, office) as there:
            # Only a resident already known there can be its reporter: a stranger's press
            # must not leave a Person behind in a kecamatan they never wrote to.
            if people.find_person(there.session, there.caller.channel, there.caller.user_id) is None:
                there.toast = "Tombol ini bukan untuk Anda."
            else:
                _feedback(there, int(cid), answer)
        ctx.toast = there.toast if there.toast is not None else ctx.toast
        return
    _feedback(ctx, int(cid), answer)


def _feedback(ctx: Ctx, cid: int, answer: str) -> None:
    complaint = reg.by_id(ctx.session, cid, lock=True)
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
            policy=ctx.policy,
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
    choices = [Choice("Ubah nama", "ubah_nama"), Choice("Ubah nomor telepon", "ubah_telepon"),
               Choice("Hapus identitas saya", "hapus")]
    if answers:
        choices.append(Choice("Tarik persetujuan survei", "tarik_survei"))
    ctx.say(
        "datasaya",
        [*choices, Choice("Kembali", "kembali")],
        kantor=ctx.office.name,
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
    if state.get("step") == "lihat" and value in ("ubah_nama", "ubah_telepon"):
        return _ask_correction(ctx, value.removeprefix("ubah_"))
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
        tenant_lookup.forget(ctx.session, ctx.caller.channel, ctx.caller.user_id)
        ctx.say("datasaya_dihapus")
        return {}
    if value == "kembali":
        return menu(ctx)
    ctx.say("pilih_tombol")
    return state


# Correcting the name or phone (the right to correct, UU 27/2022): its own flow because its
# step takes free text (router FREE_TEXT_FLOWS). "tulis" waits for the value, "periksa"
# shows exactly what will be saved with Simpan / Batal; Batal leaves the row as it was.
CORRECTION_FLOW = "ubah_data"
_FIELDS = {"nama": ("name", people.clean_name), "telepon": ("phone", people.clean_phone)}


def _ask_correction(ctx: Ctx, field: str, error: str | None = None) -> dict[str, Any]:
    ctx.number_buttons = False  # digits typed here are a phone number, not a press of Batal
    ctx.say("datasaya_ubah", [Choice("Batal", "batal")], bagian=field, galat=error,
            maks=people.NAME_MAX, contoh=people.PHONE_EXAMPLE)
    return {"flow": CORRECTION_FLOW, "field": field, "step": "tulis"}


def correction_text(ctx: Ctx, state: dict[str, Any], event: Event) -> dict[str, Any]:
    """A typed name or phone (at either step: a new text replaces the one being checked)."""
    field = state.get("field")
    if field not in _FIELDS:
        return menu(ctx)
    if event.kind != "text":
        return _ask_correction(ctx, field)
    attribute, clean = _FIELDS[field]
    try:
        value = clean(event.text)
    except people.BadContact as exc:
        return _ask_correction(ctx, field, str(exc))
    ctx.say("datasaya_ubah_periksa", [Choice("Simpan", "simpan"), Choice("Batal", "batal")],
            bagian=field, nilai=value, lama=getattr(ctx.person, attribute))
    return {"flow": CORRECTION_FLOW, "field": field, "step": "periksa", "nilai": value}


def correction_choice(ctx: Ctx, state: dict[str, Any], value: str) -> dict[str, Any]:
    field = state.get("field")
    if value == "batal" or field not in _FIELDS:
        ctx.say("datasaya_ubah_batal")
        return {}
    if value == "simpan" and state.get("step") == "periksa":
        new = str(state.get("nilai") or "")
        try:
            if field == "nama":
                people.correct_contact(ctx.person, name=new)
            else:
                people.correct_contact(ctx.person, phone=new)
        except people.BadContact as exc:  # checked when typed; the rule may have changed since
            return _ask_correction(ctx, field, str(exc))
        ctx.say("datasaya_ubah_tersimpan", bagian=field, nilai=new)
        return {}
    ctx.say("pilih_tombol")
    return state
