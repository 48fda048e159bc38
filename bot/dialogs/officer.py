# What officers do in chat: press a card's buttons, write the note a move needs, list and
# open complaints, register the Trantib group and other officers.
# Invariants: every move goes through storage.lifecycle.transition under a row lock with the
# version the button was drawn with, so of two officers pressing at once exactly one wins;
# a press by someone who is not an officer, or with a bad signature, changes nothing.
from __future__ import annotations

import re
from datetime import date
from typing import Any

from markupsafe import Markup

from bot.dialogs import case_list, deferred, notify
from bot.dialogs.context import TRANTIB_GROUP_KEY, Ctx
from bot.dialogs.types import Choice, Event
from storage import assignment, outbox, people, tenant_lookup
from storage import complaints as reg
from storage.complaint_search import search_complaints
from storage.lifecycle import MOVES_BY_ACTION, Actor, MoveRefused, StaleMove, preview, transition
from storage.models import Officer

NOTE_QUESTIONS = {
    "reason": "tulis alasan penolakan",
    "correction": "tulis alasan pengembalian ke status sebelumnya (misalnya tombol salah ditekan)",
    "note": "tulis catatan penyelesaian (apa yang sudah dilakukan)",
    "forwarded_to": "tulis instansi tujuan penerusan",
    "duplicate_of": "tulis nomor tiket laporan asli",
    "postpone": "tulis tanggal baru (HH-BB-TTTT) di baris pertama, lalu alasan penundaan di baris berikutnya",
}


def parse_postpone(text: str | None) -> tuple[date | None, str | None]:
    """'15-12-2026' (or 15/12/2026, 2026-12-15) on the first line, the reason after it; a
    reason on the same line after the date counts too."""
    if not text:
        return None, None
    first, _, rest = text.strip().partition("\n")
    m = re.match(r"\s*(\d{1,2})[-/.](\d{1,2})[-/.](\d{4})\b(.*)", first) or None
    iso = re.match(r"\s*(\d{4})-(\d{2})-(\d{2})\b(.*)", first)
    try:
        if m:
            day = date(int(m.group(3)), int(m.group(2)), int(m.group(1)))
            tail = m.group(4)
        elif iso:
            day = date(int(iso.group(1)), int(iso.group(2)), int(iso.group(3)))
            tail = iso.group(4)
        else:
            return None, text.strip()
    except ValueError:
        return None, text.strip()
    reason = "\n".join(x for x in (tail.strip(" ,;:-"), rest.strip()) if x).strip()
    return day, reason or None


def press_card(ctx: Ctx, body: str, state: dict[str, Any]) -> dict[str, Any]:
    """body is the verified 'k:<id>:<action>:<version>'."""
    _, cid, action, version = body.split(":")
    officer = ctx.officer
    if officer is None:
        ctx.toast = "Maaf, tindakan ini hanya untuk petugas yang terdaftar."
        return state
    if action == "tugaskan":
        _assign(ctx, int(cid), officer)
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
        state = {"flow": "catatan", "langkah": "umum", "complaint_id": complaint.id, "action": action,
                 "version": int(version)}
        return _ask_public(ctx, state, complaint.ticket)
    return apply_move(ctx, complaint.id, action, int(version), None, None, state)


# The note a move needs is written in two steps and sent only after a preview (issue 10):
# "umum" (what the reporter reads, or the field the move needs), "internal" (officers only),
# "pratinjau" (exactly the reporter's message, with Kirim / Ubah / Batal). Each step is in
# the dialog state, so it survives a restart and works the same on every channel.
NO_INTERNAL = {"-", "tidak", "tidak ada", "lewati", "kosong"}


def _ask_public(ctx: Ctx, state: dict[str, Any], ticket: str) -> dict[str, Any]:
    officer = ctx.officer
    move = MOVES_BY_ACTION[state["action"]]
    ctx.say(
        "petugas_minta_catatan",
        force_reply=True,
        nama=officer.name if officer else "",
        pertanyaan=NOTE_QUESTIONS[move.needs or "note"],
        tiket=ticket,
    )
    return {**state, "langkah": "umum"}


def note_step(ctx: Ctx, state: dict[str, Any], event: Event) -> dict[str, Any]:
    if event.kind != "text" or not event.text.strip():
        ctx.say("tidak_didukung", jenis="pesan ini", petunjuk="Balas dengan teks, atau /batal.")
        return state
    complaint = reg.by_id(ctx.session, state["complaint_id"])
    if complaint is None:
        return {}
    step = state.get("langkah", "umum")
    text = event.text.strip()
    if step == "umum":
        ctx.say("petugas_minta_internal", force_reply=True, tiket=complaint.ticket)
        return {**state, "langkah": "internal", "umum": text}
    if step == "internal":
        internal = None if text.casefold().strip(" .") in NO_INTERNAL else text
        return _show_preview(ctx, {**state, "internal": internal}, complaint)
    ctx.say("pilih_tombol")
    return state


def note_choice(ctx: Ctx, state: dict[str, Any], value: str) -> dict[str, Any]:
    """Kirim / Ubah / Batal under the preview."""
    if state.get("langkah") != "pratinjau":
        ctx.toast = "Tombol ini sudah tidak berlaku."
        return state
    # The answer first, then the spent buttons off: the chat reads in the order it did before.
    if value == "kirim":
        after = apply_move(ctx, state["complaint_id"], state["action"], state["version"],
                           state.get("umum"), state.get("internal"), {})
    elif value == "ubah":
        complaint = reg.by_id(ctx.session, state["complaint_id"])
        after = {} if complaint is None else _ask_public(
            ctx, {k: v for k, v in state.items() if k not in ("umum", "internal", "pratinjau_id")}, complaint.ticket)
    else:
        ctx.say("petugas_catatan_batal")
        after = {}
    spend_preview(ctx, state)
    return after


def spend_preview(ctx: Ctx, state: dict[str, Any]) -> None:
    """Kirim / Ubah / Batal answer the preview once: its buttons come off the message, so
    they do not stay on screen looking pressable. WhatsApp cannot change a sent message."""
    if ctx.caller.channel == "whatsapp" or state.get("langkah") != "pratinjau":
        return
    target: dict[str, Any] = (
        {"message_id": ctx.caller.message_id} if ctx.caller.message_id else {"outbox_id": state.get("pratinjau_id")}
    )
    if target.get("message_id") or target.get("outbox_id"):
        ctx.queue(ctx.caller.channel, ctx.caller.chat_id, outbox.BUTTONS_OFF, target)


def _show_preview(ctx: Ctx, state: dict[str, Any], complaint: Any) -> dict[str, Any]:
    officer = ctx.officer
    if officer is None:
        return {}
    move = MOVES_BY_ACTION[state["action"]]
    public, kwargs = _move_fields(move.needs, state.get("umum"))
    try:
        notice, shown_public = preview(
            ctx.session, complaint, state["action"], Actor("petugas", officer.id, officer.name, officer.role), ctx.now,
            lambda c, change: (notify.notice_text(c, change) if notify.reaches_reporter(c) else None, change.public_note),
            public_note=public, internal_note=state.get("internal"), expected_version=state["version"],
            policy=ctx.policy, **kwargs,
        )
    except MoveRefused as exc:
        # Refused before anything is sent (a date not after today, an unknown ticket): ask again.
        ctx.send_to(ctx.caller.channel, ctx.caller.chat_id, str(exc))
        if isinstance(exc, StaleMove):
            notify.refresh_cards(ctx, complaint)
            return {}
        return _ask_public(ctx, state, complaint.ticket)
    ctx.number_buttons = False  # a typed "1" is not a press of Kirim
    with outbox.created_in(ctx.session) as made:
        ctx.say(
            "petugas_pratinjau",
            [Choice("Kirim", "kirim"), Choice("Ubah", "ubah"), Choice("Batal", "batal")],
            tiket=complaint.ticket,
            tindakan=move.label,
            pesan=Markup(notice) if notice is not None else None,
            catatan_umum=shown_public,
            internal=state.get("internal"),
        )
        ctx.session.flush()  # the preview's outbox id, for a typed "kirim" to find it by
    return {**state, "langkah": "pratinjau", "pratinjau_id": made[-1].id if made else None}


def _move_fields(needs: str | None, public: str | None) -> tuple[str | None, dict[str, Any]]:
    """The public note and the move's own fields from what the officer typed first."""
    kwargs: dict[str, Any] = {}
    if needs == "forwarded_to":
        kwargs["forwarded_to"], public = public, f"Diteruskan ke {public}" if public else None
    elif needs == "duplicate_of":
        kwargs["duplicate_of"] = (public or "").strip().upper()
        public = f"Sama dengan laporan {kwargs['duplicate_of']}" if public else None
    elif needs == "postpone":
        kwargs["postpone_until"], public = parse_postpone(public)
    return public, kwargs


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
    public, kwargs = _move_fields(move.needs, public)
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
            policy=ctx.policy,
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


def list_cases(ctx: Ctx, args: str) -> dict[str, Any] | None:
    """/kasus [search]: one ticket opens its card; anything else is a search, paged with
    buttons (bot/dialogs/case_list.py). Returns the new dialog state (None: unchanged)."""
    if ctx.officer is None:
        ctx.say("bukan_petugas")
        return None
    ticket = args.strip().upper()
    if ticket and case_list.is_ticket(ticket):
        open_case(ctx, ticket)
        return None
    return show_cases(ctx, args.strip()[: case_list.QUERY_MAX], 1)


def show_cases(ctx: Ctx, query_text: str, page: int) -> dict[str, Any]:
    """One page of a /kasus search. In the step only the request for it is queued: the
    search reads the whole register, so the delivery builds the page outside the write
    batch (bot/dialogs/deferred.py), with this step's nonce on its buttons. A page past the
    last (fewer matches since its button was drawn, or "berikutnya" typed on the last page)
    shows the last one."""
    state = {"flow": "kasus", "q": query_text, "hal": page}
    if deferred.defer(ctx, "kasus", f"{page} {query_text}"):
        # Saved with the state: the typed forms of every button the page may get.
        ctx.buttons_for(case_list.page_buttons(page, None))
        return state
    officer = ctx.officer
    query = case_list.parse_query(ctx.office, query_text, officer.id if officer else None)
    rows, total = search_complaints(ctx.session, query, ctx.today, page, case_list.PAGE_SIZE)
    last = case_list.pages(total)
    if page > last:
        page = last
        rows, total = search_complaints(ctx.session, query, ctx.today, page, case_list.PAGE_SIZE)
    text, choices = case_list.render_page(query_text, rows, total, page, ctx.today)
    ctx.send_to(ctx.caller.channel, ctx.caller.chat_id, text, ctx.buttons_for(choices))
    return state


def case_page(ctx: Ctx, state: dict[str, Any], value: str) -> dict[str, Any]:
    """A page button under /kasus: 'hal:<n>' (behind the prompt's nonce)."""
    if ctx.officer is None or not value.startswith("hal:") or not value[4:].isdigit():
        ctx.toast = "Tombol ini sudah tidak berlaku."
        return state
    page = min(max(1, int(value[4:])), case_list.MAX_PAGE)
    return show_cases(ctx, str(state.get("q") or ""), page)


def _assign(ctx: Ctx, complaint_id: int, to: Officer) -> bool:
    """Make `to` the complaint's officer; answers in a toast (button) or a message (command)."""
    officer = ctx.officer
    complaint = reg.by_id(ctx.session, complaint_id, lock=True)
    if officer is None or complaint is None:
        return False

    def tell(text: str) -> None:
        ctx.toast = text
        if not ctx.caller.message_id:
            ctx.send_to(ctx.caller.channel, ctx.caller.chat_id, text)

    try:
        done = assignment.assign(ctx.session, complaint, to, Actor("petugas", officer.id, officer.name, officer.role),
                                 ctx.now)
    except assignment.AssignRefused as exc:
        tell(str(exc))
        return False
    if done is None:
        tell(f"{complaint.ticket} sudah ditugaskan ke {to.name}.")
        return False
    tell(f"{complaint.ticket} ditugaskan ke {to.name}.")
    notify.refresh_cards(ctx, complaint)
    return True


def assign_command(ctx: Ctx, args: str) -> None:
    """/tugaskan TICKET [telegram id]: to that officer, or to oneself without an id."""
    officer = ctx.officer
    if officer is None:
        ctx.say("bukan_petugas")
        return
    parts = args.split()
    if not parts or len(parts) > 2 or (len(parts) == 2 and not parts[1].lstrip("-").isdigit()):
        ctx.say("tugaskan_format")
        return
    complaint = reg.by_ticket(ctx.session, parts[0].upper())
    if complaint is None:
        ctx.say("kasus_tidak_ada", tiket=parts[0].upper()[:40])
        return
    to = people.officer_by_telegram(ctx.session, int(parts[1])) if len(parts) == 2 else officer
    if to is None:
        ctx.send_to(ctx.caller.channel, ctx.caller.chat_id, f"Tidak ada petugas aktif dengan ID Telegram {parts[1]}.")
        return
    _assign(ctx, complaint.id, to)


def correct_command(ctx: Ctx, args: str) -> dict[str, Any] | None:
    """/kembalikan TICKET [reason]: the card's "Kembalikan" as a command; the reason, if
    given, is the note for the reporter, and the internal note and the preview follow."""
    officer = ctx.officer
    if officer is None:
        ctx.say("bukan_petugas")
        return None
    ticket, _, reason = args.strip().partition(" ")
    complaint = reg.by_ticket(ctx.session, ticket.upper()) if ticket else None
    if complaint is None:
        ctx.say("kembalikan_format" if not ticket else "kasus_tidak_ada", tiket=ticket.upper()[:40])
        return None
    move = MOVES_BY_ACTION["kembalikan"]
    if officer.role not in move.roles:
        ctx.send_to(ctx.caller.channel, ctx.caller.chat_id,
                    f"Peran Anda ({officer.role}) tidak boleh melakukan '{move.label}'.")
        return None
    state = {"flow": "catatan", "langkah": "umum", "complaint_id": complaint.id, "action": "kembalikan",
             "version": complaint.version}
    if reason.strip():
        return note_step(ctx, state, Event(kind="text", text=reason))
    return _ask_public(ctx, state, complaint.ticket)


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


# /bantuan for an officer: the commands of their role (who may do what is decided where the
# command runs; this list only says it). (command, what it does, roles).
_ALL = ("petugas", "koordinator", "pimpinan", "admin")
_HANDLERS = ("petugas", "koordinator", "admin")
OFFICER_HELP: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("/kasus", "laporan terbuka, terlambat lebih dulu; cari dengan nomor tiket, desa, kategori, status, "
               "kata dari uraian, <code>terlambat</code>, <code>saya</code> (ditugaskan ke Anda), "
               "<code>semua</code> (yang sudah ditutup juga)", _ALL),
    ("/kasus NOMOR", "buka kartu satu laporan dengan tombolnya", _ALL),
    ("/catat", "catat laporan yang datang lewat kanal lain (lisan, telepon, surat, ...)", _HANDLERS),
    ("/tugaskan NOMOR ID", "tugaskan laporan ke petugas (ID Telegram; tanpa ID: ke Anda sendiri)", _HANDLERS),
    ("/kembalikan NOMOR ALASAN", "kembalikan laporan satu langkah (tombol yang salah ditekan); tercatat di riwayat",
     ("koordinator", "admin")),
    ("/digest", "ringkasan minggu ini", _ALL),
    ("/ikm", "IKM triwulan berjalan dari survei", _ALL),
    ("/skm_kertas", "masukkan formulir survei kertas", _ALL),
    ("/iku", "capaian IKU; /iku_target, /iku_dokumen, /iku_kegiatan, /iku_sakip, /iku_program, /skm_resmi "
             "untuk melihat atau mencatat datanya", _ALL),
    ("/pdp", "permintaan data pribadi yang belum dijawab, dengan sisa waktu 3 x 24 jam (yang terlambat lebih dulu), "
             "dan insiden kebocoran data", ("koordinator", "admin")),
    ("/dasbor", "tautan sekali pakai ke dasbor web (IKU, pengaduan, SKM); <code>/dasbor keluar</code> "
                "mengakhiri semua sesi", ("koordinator", "pimpinan", "admin")),
    ("/petugas", "daftar, tambah, nonaktifkan petugas", ("admin",)),
    ("/daftarkan_grup", "jadikan grup ini grup Trantib", ("admin",)),
    ("/batal", "batalkan langkah yang sedang berjalan", _ALL),
)


def help_text(ctx: Ctx) -> None:
    officer = ctx.officer
    assert officer is not None
    commands = [(cmd, Markup(what)) for cmd, what, roles in OFFICER_HELP if officer.role in roles]
    ctx.say("bantuan_petugas", nama=officer.name, peran=officer.role, perintah=commands,
            prefix=ctx.office.ticket_prefix)


def register_group(ctx: Ctx) -> None:
    officer = ctx.officer
    if officer is None or officer.role != "admin":
        ctx.say("hanya_admin")
        return
    if ctx.caller.private:
        # The bot the group needs is the one that posts this kecamatan's cards: its own, if any.
        ctx.say("daftarkan_grup_pribadi", bot=ctx.rt.username_of(ctx.kecamatan))
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
    if ctx.rt.several:
        # One Telegram account serves one kecamatan (bot/dialogs/kecamatan.py refuses an
        # officer registered in two), so the second registration is refused here, early.
        elsewhere = [k for k in tenant_lookup.officer_kecamatan(ctx.session, int(parts[0]))
                     if k != ctx.kecamatan and k in ctx.rt.offices]
        if elsewhere:
            ctx.say("kecamatan_petugas_lain", tid=parts[0],
                    kecamatan=[ctx.rt.office_of(k).name for k in elsewhere])
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
