# Deferred read-only replies: an officer's report (/ikm, /iku and the IKU register lists) is
# built by the delivery from a read-only transaction, not inside the write batch that handles
# every chat's messages at once (bot/channels/batch.py). On a register of a few years such a
# report reads a million rows; built in the batch, it held SQLite's write lock (and the batch's
# commit) for seconds, so a resident's /start in the same moment waited that long too.
# Invariants:
# - the dialog step queues only a small JSON request (outbox kind "lihat": the view's name,
#   its arguments, who asked and when); it is committed with the step, so it is sent if and
#   only if the step committed, in the chat's order like any other item;
# - the delivery runs the very same step function against a read-only session with a
#   collecting context (ReadCtx), so the texts are exactly those the step would have queued,
#   computed for the time the request was made (`now` travels in the request);
# - a view only reads: ReadCtx refuses to send to another chat or to queue cards, and the
#   session it gets is rolled back at the end (storage.db.Database.reading);
# - a view that draws dialog buttons (the /kasus pages) draws them with the nonce of the step
#   that asked (it travels in the request): the step saved that nonce in the dialog state,
#   with the typed forms of the buttons the view may draw, so a press on them is accepted;
# - /digest has its own kind ("digest", bot.reports.digest.draw_digest), older than this module.
from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict
from datetime import datetime
from typing import TYPE_CHECKING, Any

from bot.config.office import Office
from bot.dialogs.context import Ctx, Runtime
from bot.dialogs.types import Caller
from bot.texts import render

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

KIND = "lihat"
# What a view may say: plain texts and photos (by path), to the chat that asked.
_SENDABLE = ("text", "photo")


class ReadCtx(Ctx):
    """A Ctx whose messages are collected in `out` instead of queued in the outbox."""

    def __init__(self, rt: Runtime, session: Session, caller: Caller, now: datetime,
                 office: Office | None = None) -> None:
        super().__init__(rt, session, caller, now, office)
        self.out: list[tuple[str, dict[str, Any]]] = []

    def queue(self, channel: str, chat_id: str | int, kind: str, payload: dict[str, Any],
              complaint_id: int | None = None) -> None:
        if (channel, str(chat_id)) != (self.caller.channel, self.caller.chat_id) or kind not in _SENDABLE:
            raise ValueError(f"tampilan hanya-baca tidak boleh mengirim {kind} ke {channel}:{chat_id}")
        self.out.append((kind, payload))


def defer(ctx: Ctx, view: str, args: str = "") -> bool:
    """In a dialog step: queue the request for `view` and return True (the step is done).
    While the delivery builds that view (ctx is a ReadCtx): return False, so the caller goes
    on and says what it has to say."""
    if isinstance(ctx, ReadCtx):
        return False
    caller = asdict(ctx.caller)
    caller["message_id"] = None  # a report is a new message, never an edit
    caller["display_name"] = None  # no view needs it: no name kept in the outbox
    ctx.queue(ctx.caller.channel, ctx.caller.chat_id, KIND,
              {"view": view, "args": args, "caller": caller, "now": ctx.now.isoformat(), "nonce": ctx.nonce})
    return True


def _views() -> dict[str, Callable[[Ctx, str], None]]:
    # Imported here: the dialogs import this module.
    from bot.dialogs import iku_commands, officer, survey

    def iku(ctx: Ctx, args: str) -> None:
        name, _, rest = args.partition(" ")
        iku_commands.handle(ctx, name, rest)

    def kasus(ctx: Ctx, args: str) -> None:
        page, _, query_text = args.partition(" ")
        officer.show_cases(ctx, query_text, int(page))

    return {"ikm": lambda ctx, _args: survey.show_ikm(ctx), "iku": iku, "kasus": kasus}


def build(rt: Runtime, session: Session, payload: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """The messages (kind, payload) a queued request stands for, read in `session`, in the
    kecamatan of the step that asked (Ctx.queue puts it in the request when the bot serves
    several; a request without one is the session's own kecamatan's)."""
    kode = payload.get("kecamatan")
    if kode is None:
        return _build(rt, session, payload, None)
    if kode not in rt.offices:
        # Its office file is gone: nothing of it is shown, least of all another's figures.
        return [("text", {"text": render("kesalahan"), "buttons": []})]
    from bot.dialogs.kecamatan import scoped

    with scoped(session, kode):
        return _build(rt, session, payload, rt.office_of(kode))


def _build(rt: Runtime, session: Session, payload: dict[str, Any], office: Office | None) -> list[tuple[str, dict[str, Any]]]:
    ctx = ReadCtx(rt, session, Caller(**payload["caller"]), datetime.fromisoformat(payload["now"]), office)
    ctx.nonce = payload.get("nonce") or ctx.nonce  # requests queued before nonces travelled: none
    _views()[payload["view"]](ctx, payload.get("args", ""))
    return ctx.out


def expand(rt: Runtime, session: Session, kind: str, payload: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """An outbox item as the person receives it: a request becomes its messages (tests and
    tools that read the outbox directly)."""
    return build(rt, session, payload) if kind == KIND else [(kind, payload)]
