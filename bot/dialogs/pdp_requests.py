# /pdp: the 72-hour clock of data subjects' requests (`sigap pdp catat`) and of breaches, in
# chat, for the officers who answer them.
# Invariants: only koordinator and admin see it, and only in a private chat (the list names
# the people who asked); overdue requests come first (storage.pdp.open_requests orders by
# deadline); hours are calendar hours, as the law counts them (storage.pdp.hours_left).
from __future__ import annotations

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
    requests, incidents = pdp.waiting(ctx.session, ctx.now)
    ctx.say("pdp_permintaan", permintaan=requests[:SHOWN], jumlah=len(requests), insiden=incidents,
            jenis=pdp.KIND_LABELS)
