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
    if reporter is None or reporter.channel_user_id is None or reporter.channel not in ("telegram", "whatsapp"):
        return
    if change.actor_kind == "warga":
        return  # the reporter did this themself and has been answered already
    from bot.texts import render

    buttons = []
    if complaint.status == "selesai":
        buttons = [
            ["Ya, sudah", ctx.rt.signed(f"f:{complaint.id}:ya"), None],
            ["Belum", ctx.rt.signed(f"f:{complaint.id}:belum"), None],
        ]
    text = render("notif_status", c=complaint, catatan=change.public_note)
    ctx.send_to(reporter.channel, reporter.channel_user_id, text, buttons, complaint_id=complaint.id)
