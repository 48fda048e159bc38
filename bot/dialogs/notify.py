# Who hears about a complaint, and when: the Trantib group on intake, every open card on a
# status change, the reporter on every change (public note only, never the internal one).
# Invariant: all of it is queued in the caller's transaction; cards are queued as
# "refresh this complaint's card in this chat" and drawn at delivery from the current
# record, so a card never shows a state older than the last committed one.
from __future__ import annotations

from bot.dialogs.context import Ctx
from storage import outbox
from storage.models import Complaint, StatusChange


def new_complaint(ctx: Ctx, complaint: Complaint) -> None:
    group = ctx.trantib_group()
    if group is None:
        return
    ctx.queue("telegram", group, "card", {"complaint_id": complaint.id, "audience": "grup"}, complaint.id)
    if complaint.rahasia:
        return  # photos and place of a rahasia complaint are opened in private only
    for photo in complaint.photos:
        ctx.queue("telegram", group, "photo", {"path": photo.path, "caption": complaint.ticket}, complaint.id)
    if complaint.latitude is not None and complaint.longitude is not None:
        ctx.queue(
            "telegram",
            group,
            "location",
            {"latitude": complaint.latitude, "longitude": complaint.longitude},
            complaint.id,
        )


def refresh_cards(ctx: Ctx, complaint: Complaint) -> None:
    chats = outbox.card_chats(ctx.session, complaint.id)
    queued = set()
    for chat in chats:
        audience = "pribadi" if not chat.startswith("-") else "grup"
        ctx.queue("telegram", chat, "card", {"complaint_id": complaint.id, "audience": audience}, complaint.id)
        queued.add(chat)
    group = ctx.trantib_group()
    if group and group not in queued and not outbox.card_message(ctx.session, complaint.id, group):
        ctx.queue("telegram", group, "card", {"complaint_id": complaint.id, "audience": "grup"}, complaint.id)


def status_changed(ctx: Ctx, complaint: Complaint, change: StatusChange) -> None:
    refresh_cards(ctx, complaint)
    reporter = complaint.reporter
    if reporter is None or reporter.channel_user_id is None or not reaches_reporter(complaint):
        return
    if change.actor_kind == "warga":
        return  # the reporter did this themself and has been answered already
    buttons = feedback_buttons(ctx, complaint) if complaint.status == "selesai" else []
    text = notice_text(complaint, change)
    ctx.send_to(reporter.channel, reporter.channel_user_id, text, buttons, complaint_id=complaint.id)


def reaches_reporter(complaint: Complaint) -> bool:
    """Whether a status change is sent to the reporter (a chat reporter, not a walk-in)."""
    r = complaint.reporter
    return r is not None and r.channel_user_id is not None and r.channel in ("telegram", "whatsapp")


def notice_text(complaint: Complaint, change: StatusChange) -> str:
    """The reporter's notice of a change: the officer's preview shows this very text."""
    from bot.texts import render

    return render("notif_status", c=complaint, catatan=change.public_note)


def feedback_buttons(ctx: Ctx, complaint: Complaint) -> list[tuple[str, str | None, str | None]]:
    """ "Apakah masalah Anda sudah terselesaikan?": signed, so they stay valid (in the
    notice and in /status) until answered; typing "ya"/"belum" works too (router).
    A bot of several kecamatan adds the complaint's kode (f:<id>:ya:35.09.25, under 40 of
    Telegram's 64 bytes), so a press after the resident switched kecamatan (/kecamatan) is
    answered in the complaint's kecamatan (resident.feedback), not refused."""
    where = f":{complaint.kecamatan or ctx.kecamatan}" if ctx.rt.several else ""
    return [
        ("Ya, sudah", ctx.rt.signed(f"f:{complaint.id}:ya{where}"), None),
        ("Belum", ctx.rt.signed(f"f:{complaint.id}:belum{where}"), None),
    ]
