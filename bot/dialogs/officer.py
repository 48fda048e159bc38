# What officers do in chat: press a card's buttons, write the note a move needs, list and
# open complaints, register the Trantib group and other officers.
# Invariants: every move goes through storage.lifecycle.transition under a row lock with the
# version the button was drawn with, so of two officers pressing at once exactly one wins;
# a press by someone who is not an officer, or with a bad signature, changes nothing.
from __future__ import annotations

from typing import Any

from bot.dialogs import notify
from bot.dialogs.context import TRANTIB_GROUP_KEY, Ctx
from bot.dialogs.types import Event
from storage import complaints as reg
from storage import people
from storage.lifecycle import MOVES_BY_ACTION, Actor, MoveRefused, transition

NOTE_QUESTIONS = {
    "reason": "tulis alasan penolakan",
    "note": "tulis catatan penyelesaian (apa yang sudah dilakukan)",
    "forwarded_to": "tulis instansi tujuan penerusan",
    "duplicate_of": "tulis nomor tiket laporan asli",
}


def press_card(ctx: Ctx, body: str, state: dict[str, Any]) -> dict[str, Any]:
    """body is the verified 'k:<id>:<action>:<version>'."""
    _, cid, action, version = body.split(":")
    officer = ctx.officer
    if officer is None:
        ctx.toast = "Maaf, tindakan ini hanya untuk petugas yang terdaftar."
        return state
    move = MOVES_BY_ACTION.get(action)
    complaint = reg.by_id(ctx.session, int(cid))
    if move is None or complaint is None:
        ctx.toast = "Tombol tidak dikenal."
        return state
    if officer.role not in move.roles:
        ctx.toast = f"Peran Anda ({officer.role}) tidak boleh melakukan '{move.label}'."
        return state
    if complaint.version != int(version):
        ctx.toast = f"{complaint.ticket} sudah diubah petugas lain. Kartu diperbarui."
        notify.refresh_cards(ctx, complaint)
        return state
    if move.needs:
        ctx.toast = "Tulis catatannya sebagai balasan."
        ctx.say(
            "petugas_minta_catatan",
            force_reply=True,
            nama=officer.name,
            pertanyaan=NOTE_QUESTIONS[move.needs],
            tiket=complaint.ticket,
        )
        return {"flow": "catatan", "complaint_id": complaint.id, "action": action, "version": int(version)}
    return apply_move(ctx, complaint.id, action, int(version), None, None, state)


def note_step(ctx: Ctx, state: dict[str, Any], event: Event) -> dict[str, Any]:
    if event.kind != "text" or not event.text.strip():
        ctx.say("tidak_didukung", jenis="pesan ini", petunjuk="Balas dengan teks, atau /batal.")
        return state
    public, internal = split_note(event.text)
    return apply_move(ctx, state["complaint_id"], state["action"], state["version"], public, internal, {})


def split_note(text: str) -> tuple[str | None, str | None]:
    """Lines starting with 'Internal:' are for officers only; the rest goes to the reporter."""
    public_lines, internal_lines = [], []
    for line in text.strip().splitlines():
        if line.strip().lower().startswith("internal:"):
            internal_lines.append(line.strip()[len("internal:"):].strip())
        else:
            public_lines.append(line)
    public = "\n".join(public_lines).strip() or None
    internal = "\n".join(internal_lines).strip() or None
    return public, internal


def apply_move(
    ctx: Ctx,
    complaint_id: int,
    action: str,
    version: int,
    public: str | None,
    internal: str | None,
    state_after: dict[str, Any],
) -> dict[str, Any]:
    officer = ctx.officer
    if officer is None:
        ctx.toast = "Maaf, tindakan ini hanya untuk petugas yang terdaftar."
        return {}
    complaint = reg.by_id(ctx.session, complaint_id, lock=True)
    if complaint is None:
        return {}
    move = MOVES_BY_ACTION[action]
    kwargs: dict[str, Any] = {}
    if move.needs == "forwarded_to":
        kwargs["forwarded_to"], public = public, f"Diteruskan ke {public}" if public else None
    elif move.needs == "duplicate_of":
        kwargs["duplicate_of"] = (public or "").strip().upper()
        public = f"Sama dengan laporan {kwargs['duplicate_of']}" if public else None
    try:
        change = transition(
            ctx.session,
            complaint,
            action,
            Actor("petugas", officer.id, officer.name, officer.role),
            ctx.now,
            public_note=public,
            internal_note=internal,
            expected_version=version,
            **kwargs,
        )
    except MoveRefused as exc:
        ctx.toast = str(exc)
        if not ctx.caller.message_id:  # a typed note: no toast to show it in
            ctx.send_to(ctx.caller.channel, ctx.caller.chat_id, str(exc))
        notify.refresh_cards(ctx, complaint)
        return state_after if state_after else {}
    ctx.toast = f"{complaint.ticket}: {move.label} dicatat."
    if not ctx.caller.message_id:
        ctx.say("petugas_tercatat", tiket=complaint.ticket, status=complaint.status, nama=officer.name)
    notify.status_changed(ctx, complaint, change)
    return state_after


def list_cases(ctx: Ctx, args: str) -> None:
    if ctx.officer is None:
        ctx.say("bukan_petugas")
        return
    ticket = args.strip().upper()
    if ticket:
        open_case(ctx, ticket)
        return
    rows = [(c, reg.is_overdue(c, ctx.today)) for c in reg.open_complaints(ctx.session, ctx.today)]
    ctx.say("kasus_daftar", laporan=rows[:30])


def open_case(ctx: Ctx, ticket: str) -> None:
    complaint = reg.by_ticket(ctx.session, ticket)
    if complaint is None:
        ctx.say("kasus_tidak_ada", tiket=ticket)
        return
    audience = "pribadi" if ctx.caller.private else "grup"
    ctx.queue(ctx.caller.channel, ctx.caller.chat_id, "card", {"complaint_id": complaint.id, "audience": audience, "new": True}, complaint.id)
    if ctx.caller.private:
        for photo in complaint.photos:
            ctx.queue(ctx.caller.channel, ctx.caller.chat_id, "photo", {"path": photo.path, "caption": complaint.ticket}, complaint.id)
        if complaint.latitude is not None and complaint.longitude is not None:
            ctx.queue(ctx.caller.channel, ctx.caller.chat_id, "location", {"latitude": complaint.latitude, "longitude": complaint.longitude}, complaint.id)


def register_group(ctx: Ctx) -> None:
    officer = ctx.officer
    if officer is None or officer.role != "admin" or ctx.caller.private:
        ctx.say("hanya_admin")
        return
    people.set_setting(ctx.session, TRANTIB_GROUP_KEY, ctx.caller.chat_id, ctx.now)
    ctx.say("grup_terdaftar")


def add_officer(ctx: Ctx, args: str) -> None:
    officer = ctx.officer
    if officer is None or officer.role != "admin":
        ctx.say("hanya_admin")
        return
    parts = args.split(maxsplit=2)
    if not parts:
        ctx.say("petugas_daftar", petugas=people.list_officers(ctx.session))
        return
    if parts[0].lower() == "nonaktif":
        _deactivate(ctx, parts[1] if len(parts) > 1 else "")
        return
    if len(parts) < 3 or not parts[0].lstrip("-").isdigit():
        ctx.say("petugas_format")
        return
    try:
        added = people.add_officer(ctx.session, int(parts[0]), parts[2], parts[1].lower(), ctx.now)
    except ValueError as exc:
        ctx.send_to(ctx.caller.channel, ctx.caller.chat_id, str(exc))
        return
    ctx.say("petugas_ditambah", nama=added.name, peran=added.role, tid=added.telegram_id)


def _deactivate(ctx: Ctx, raw_id: str) -> None:
    if not raw_id.lstrip("-").isdigit():
        ctx.say("petugas_format")
        return
    try:
        gone = people.deactivate_officer(ctx.session, int(raw_id))
    except people.LastAdmin as exc:
        ctx.send_to(ctx.caller.channel, ctx.caller.chat_id, str(exc))
        return
    if gone is None:
        ctx.send_to(ctx.caller.channel, ctx.caller.chat_id, f"Tidak ada petugas dengan ID Telegram {raw_id}.")
        return
    ctx.say("petugas_dinonaktifkan", nama=gone.name, tid=gone.telegram_id)
