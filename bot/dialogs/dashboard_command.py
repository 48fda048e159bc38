# /dasbor: a one-time link to the web dashboard, for the officers who lead the office and for
# the kabupaten's registered readers; `/dasbor keluar` ends every link and session of the
# caller (a phone left logged in).
# Invariants: only in a private chat (a link posted in the Trantib group would let anyone in
# the group use it first); the link is the only place the token exists outside the browser
# (storage.dashboard_access and storage.kabupaten_access keep its hash). An officer's link
# opens the dashboard of the officer's own kecamatan (bot/dashboard/routes.py), whichever
# office of the bot that is; a reader's link opens the kabupaten view of every kecamatan.
# An officer who is also a kabupaten reader gets the kabupaten link (it reads their own
# kecamatan too, and more); `/dasbor kecamatan` gives them their officer link instead, and
# `/dasbor keluar` ends both kinds.
from __future__ import annotations

from datetime import timedelta

from bot.dialogs.context import Ctx
from storage import dashboard_access, kabupaten_access
from storage.models import KabupatenReader

LOGIN_PATH = "/dasbor/masuk"
OWN_KECAMATAN = "kecamatan"
LOGOUT_WORDS = ("keluar", "cabut")


def login_url(base: str, token: str) -> str:
    return f"{base.rstrip('/')}{LOGIN_PATH}?t={token}"


def kabupaten_reader(ctx: Ctx) -> KabupatenReader | None:
    """The active kabupaten reader the caller is, or None. Readers are Telegram users, as
    officers are (Ctx.officer)."""
    caller = ctx.caller
    if caller.channel not in ("telegram", "sandbox") or not caller.user_id.lstrip("-").isdigit():
        return None
    return kabupaten_access.active_reader(ctx.session, int(caller.user_id))


def dashboard_command(ctx: Ctx, args: str) -> None:
    word = args.strip().lower()
    reader = kabupaten_reader(ctx)
    if reader is not None and word != OWN_KECAMATAN:
        _reader_command(ctx, reader, word)
        return
    officer = ctx.officer
    if officer is None:
        ctx.say("bukan_petugas")
        return
    if officer.role not in dashboard_access.DASHBOARD_ROLES:
        ctx.say("dasbor_peran", peran=list(dashboard_access.DASHBOARD_ROLES), peran_anda=officer.role)
        return
    base = _link_base(ctx)
    if base is None:
        return
    if word in LOGOUT_WORDS:
        ended = dashboard_access.revoke_all(ctx.session, officer.id, ctx.now)
        ctx.say("dasbor_keluar", jumlah=ended)
        return
    minutes = ctx.rt.dashboard_link_minutes
    token = dashboard_access.create_link(ctx.session, officer, ctx.now, timedelta(minutes=minutes))
    ctx.say("dasbor_tautan", tautan=login_url(base, token), menit=minutes,
            berlaku_sampai=ctx.now + timedelta(minutes=minutes))


def _link_base(ctx: Ctx) -> str | None:
    """The dashboard's address, when a link may be sent: only where the dashboard is on, and
    only to a private chat (in a group, anyone in it could use it first); None after saying why."""
    if ctx.rt.dashboard_url is None:
        ctx.say("dasbor_mati")
        return None
    if not ctx.caller.private:
        ctx.send_to(ctx.caller.channel, ctx.caller.chat_id, "Gunakan /dasbor di chat pribadi dengan bot.")
        return None
    return ctx.rt.dashboard_url


def _reader_command(ctx: Ctx, reader: KabupatenReader, word: str) -> None:
    base = _link_base(ctx)
    if base is None:
        return
    officer = ctx.officer
    if word in LOGOUT_WORDS:
        ended = kabupaten_access.revoke_all(ctx.session, reader.id, ctx.now)
        if officer is not None:
            ended += dashboard_access.revoke_all(ctx.session, officer.id, ctx.now)
        ctx.say("dasbor_keluar", jumlah=ended)
        return
    minutes = ctx.rt.dashboard_link_minutes
    token = kabupaten_access.create_link(ctx.session, reader, ctx.now, timedelta(minutes=minutes))
    ctx.say("dasbor_tautan_kabupaten", tautan=login_url(base, token), menit=minutes,
            berlaku_sampai=ctx.now + timedelta(minutes=minutes), nama=reader.name,
            juga_petugas=officer is not None and officer.role in dashboard_access.DASHBOARD_ROLES)
