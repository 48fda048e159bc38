# /pdp: the 72-hour clock of data subjects' requests (`sigap pdp catat`) and of breaches, in
# chat, for the officers who answer them.
# Invariants: only koordinator and admin see it, and only in a private chat (the list names
# the people who asked); overdue requests come first (storage.pdp.open_requests orders by
# deadline); hours are calendar hours, as the law counts them (storage.pdp.hours_left).
from __future__ import annotations

from bot.cli_pdp import KIND_LABELS
from bot.dialogs.context import Ctx
from storage import pdp

ROLES = ("koordinator", "admin")
SHOWN = 20  # a phone screen; the rest are counted


def list_requests(ctx: Ctx) -> None:
    officer = ctx.officer
    if officer is None:
        ctx.say("bukan_petugas")
        return
    if officer.role not in ROLES:
        ctx.say("pdp_peran", peran=officer.role)
        return
    if not ctx.caller.private:
        ctx.say("pdp_pribadi")
        return
    requests = pdp.open_requests(ctx.session)
    incidents = pdp.recent_incidents(ctx.session, ctx.now - 2 * pdp.CLOCK)
    ctx.say(
        "pdp_permintaan",
        permintaan=[(r, pdp.hours_left(r.due_at, ctx.now)) for r in requests[:SHOWN]],
        jumlah=len(requests),
        insiden=[(i, pdp.hours_left(i.due_at, ctx.now)) for i in incidents],
        jenis=KIND_LABELS,
    )
