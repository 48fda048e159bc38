# /dasbor: a one-time link to the web dashboard, for the officers who lead the office;
# `/dasbor keluar` ends every link and session of the officer (a phone left logged in).
# Invariants: only in a private chat (a link posted in the Trantib group would let anyone in
# the group use it first); the link is the only place the token exists outside the browser
# (storage.dashboard_access keeps its hash). The link opens the dashboard of the officer's own
# kecamatan (bot/dashboard/routes.py), whichever office of the bot that is.
from __future__ import annotations

from datetime import timedelta

from bot.dialogs.context import Ctx
from storage import dashboard_access

LOGIN_PATH = "/dasbor/masuk"


def login_url(base: str, token: str) -> str:
    return f"{base.rstrip('/')}{LOGIN_PATH}?t={token}"


def dashboard_command(ctx: Ctx, args: str) -> None:
    officer = ctx.officer
    if officer is None:
        ctx.say("bukan_petugas")
        return
    if officer.role not in dashboard_access.DASHBOARD_ROLES:
        ctx.say("dasbor_peran", peran=list(dashboard_access.DASHBOARD_ROLES), peran_anda=officer.role)
        return
    if ctx.rt.dashboard_url is None:
        ctx.say("dasbor_mati")
        return
    if not ctx.caller.private:
        ctx.send_to(ctx.caller.channel, ctx.caller.chat_id, "Gunakan /dasbor di chat pribadi dengan bot.")
        return
    if args.strip().lower() in ("keluar", "cabut"):
        ended = dashboard_access.revoke_all(ctx.session, officer.id, ctx.now)
        ctx.say("dasbor_keluar", jumlah=ended)
        return
    minutes = ctx.rt.dashboard_link_minutes
    token = dashboard_access.create_link(ctx.session, officer, ctx.now, timedelta(minutes=minutes))
    ctx.say("dasbor_tautan", tautan=login_url(ctx.rt.dashboard_url, token), menit=minutes,
            berlaku_sampai=ctx.now + timedelta(minutes=minutes))
