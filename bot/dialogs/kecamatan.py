# One bot serving several kecamatan (issue 14): which kecamatan each dialog step works in,
# and the resident's pick of theirs.
# Invariants:
# - a step works in exactly ONE kecamatan: its session is scoped to it (`scoped`, which also
#   keeps the objects of one kecamatan out of the other's identity map) and its Ctx carries
#   that kecamatan's Office, deadline policy and time zone;
# - an officer works in the kecamatan of their registration (an officer registered in two is
#   refused, never guessed); a group in the kecamatan it was registered in with
#   /daftarkan_grup (or whose office file names it); a resident in the one they picked (or a
#   deep link `/start kec-350922` set), remembered in chat_kecamatan;
# - with one office file none of this runs (router.handle): no question, no extra query;
# - a resident who has not picked yet is asked first, and the message that led to the
#   question is handled once they picked, as if they had not been interrupted.
from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import TYPE_CHECKING, Any

from bot.config.office import Office
from bot.dialogs import typed
from bot.dialogs.context import TRANTIB_GROUP_KEY, Ctx, Runtime
from bot.dialogs.types import Caller, Choice, Event
from storage import kabupaten_access, people, tenant_lookup
from storage.tenancy import Tenanted

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

PICK_FLOW = "kecamatan"
COMMAND = "kecamatan"
DEEP_LINK_PREFIX = "kec-"  # /start kec-350922: the kode wilayah without its dots
# Typed without a slash (WhatsApp), outside the steps that take free text.
_BARE = {"kecamatan", "ganti kecamatan", "pilih kecamatan"}
_BARE_FLOWS = (None, "menu", "status", PICK_FLOW)

# A step: the normal dialog (router._step) for one office, in a session scoped to it.
Run = Callable[[Office, Event], Ctx]


def deep_link_payload(office: Office) -> str:
    """The /start payload (deep link, QR code) that sets this office's kecamatan."""
    return DEEP_LINK_PREFIX + office.kode_wilayah.replace(".", "")


@contextmanager
def scoped(session: Session, kode: str) -> Iterator[None]:
    """The session works for `kode` inside the block. What the enclosing kecamatan's steps
    left pending is flushed in its own scope first, and on the way out this block's writes
    are flushed in `kode`'s; the loaded rows of either kecamatan are expunged at each
    change, so a `session.get` by id cannot return a row the other kecamatan loaded."""
    before = session.info.get("kecamatan")
    if kode == before:
        yield
        return
    session.flush()
    _forget_tenanted(session)
    session.info["kecamatan"] = kode
    try:
        yield
        session.flush()
    finally:
        _forget_tenanted(session)
        session.info["kecamatan"] = before


def _forget_tenanted(session: Session) -> None:
    for obj in [*session.identity_map.values(), *session.new]:
        if isinstance(obj, Tenanted) and obj in session:
            session.expunge(obj)


def handle(rt: Runtime, session: Session, caller: Caller, event: Event, now: datetime, run: Run) -> Ctx:
    """One event of a bot serving several kecamatan: find its kecamatan, then run the step
    there (or ask the resident first)."""
    if _kabupaten_command(event):
        # Every kecamatan's table, or a plain refusal outside the kabupaten chat
        # (iku_commands.kabupaten_table): nobody is asked to pick one first.
        return _run_in(rt, session, rt.office.kode_wilayah, event, run)
    if caller.bot is not None and caller.bot in rt.offices:
        # Through a kecamatan's own bot: all of it is that kecamatan's, groups and officers
        # too (an officer of another kecamatan is simply not one here).
        return _run_in(rt, session, caller.bot, event, run)
    if not caller.private:
        kodes = _group_kecamatan(rt, session, caller)
        if len(kodes) > 1:
            return _refuse(rt, session, caller, event, now, "kecamatan_grup_ganda", kodes)
        return _run_in(rt, session, kodes[0], event, run)
    officer_in = _officer_kecamatan(rt, session, caller)
    if len(officer_in) > 1:
        return _refuse(rt, session, caller, event, now, "kecamatan_petugas_ganda", officer_in)
    if officer_in:
        if event.kind == "command" and event.command == COMMAND:  # officers type slashes
            ctx = Ctx(rt, session, caller, now, rt.office_of(officer_in[0]))
            ctx.say("kecamatan_petugas", kecamatan=ctx.office.name)
            return ctx
        return _run_in(rt, session, officer_in[0], event, run)
    if _reader_dashboard(session, caller, event):
        # A kabupaten reader's /dasbor: their link is to every kecamatan, so none is asked
        # for; the step runs in the default office's (dashboard_command reads no kecamatan row).
        return _run_in(rt, session, rt.office.kode_wilayah, event, run)
    return _resident(rt, session, caller, event, now, run)


def _reader_dashboard(session: Session, caller: Caller, event: Event) -> bool:
    if event.kind != "command" or event.command != "dasbor":
        return False
    if caller.channel not in ("telegram", "sandbox") or not caller.user_id.lstrip("-").isdigit():
        return False
    return kabupaten_access.active_reader(session, int(caller.user_id)) is not None


def _kabupaten_command(event: Event) -> bool:
    return event.kind == "command" and event.command == "iku" and event.args.split()[:1] == ["kabupaten"]


def _run_in(rt: Runtime, session: Session, kode: str, event: Event, run: Run) -> Ctx:
    with scoped(session, kode):
        return run(rt.office_of(kode), event)


def _refuse(rt: Runtime, session: Session, caller: Caller, event: Event, now: datetime, template: str,
            kodes: list[str]) -> Ctx:
    ctx = Ctx(rt, session, caller, now)
    if event.kind == "choice":
        ctx.toast = "Tombol tidak dapat diproses."
    if caller.private or event.kind == "command":
        ctx.say(template, kecamatan=[rt.office_of(k).name for k in kodes])
    return ctx


def _officer_kecamatan(rt: Runtime, session: Session, caller: Caller) -> list[str]:
    # Officers are Telegram users (Ctx.officer): nobody else is looked up.
    if caller.channel not in ("telegram", "sandbox") or not caller.user_id.lstrip("-").isdigit():
        return []
    return [k for k in tenant_lookup.officer_kecamatan(session, int(caller.user_id)) if k in rt.offices]


def _group_kecamatan(rt: Runtime, session: Session, caller: Caller) -> list[str]:
    """The kecamatan(s) a group belongs to, at least one: registered with /daftarkan_grup,
    else named in an office file, else the officer's who speaks (a group being registered),
    else the default office's."""
    registered = [k for k in tenant_lookup.setting_kecamatan(session, TRANTIB_GROUP_KEY, caller.chat_id)
                  if k in rt.offices]
    if registered:
        return registered
    in_files = [k for k, o in rt.offices.items() if o.trantib_group and str(o.trantib_group) == caller.chat_id]
    if in_files:
        return in_files
    officer_in = _officer_kecamatan(rt, session, caller)
    if len(officer_in) == 1:
        return officer_in
    return [rt.office.kode_wilayah]


def _is_change(event: Event, flow: str | None) -> bool:
    """/kecamatan, or on WhatsApp the bare word, outside the steps that take free text."""
    if event.kind == "command":
        return event.command == COMMAND
    return event.kind == "text" and flow in _BARE_FLOWS and typed.normalise(event.text) in _BARE


def _deep_link(rt: Runtime, event: Event, channel: str) -> str | None:
    if event.kind != "command" or event.command not in ("start", "menu"):
        return None
    args = event.args.strip().lower()
    if not args.startswith(DEEP_LINK_PREFIX):
        return None
    for kode, office in rt.offices.items():
        if deep_link_payload(office) == args and _here(rt, kode, channel):
            return kode
    return None  # another's, or one with its own bot: the question offers the link to it


def _here(rt: Runtime, kode: str | None, channel: str) -> bool:
    """Whether the shared bot (or shared WhatsApp number) serves kecamatan `kode`: not when it
    has its own bot (own number) on that channel, which then sends everything of its residents
    (a notice through a bot they never started would fail; on a number they never wrote to
    WhatsApp allows only a template)."""
    if kode not in rt.offices:
        return False
    office = rt.office_of(kode)
    return not (office.whatsapp_phone_id if channel == "whatsapp" else office.telegram_token_env)


def _elsewhere(rt: Runtime, kode: str, channel: str) -> str | None:
    """The link that opens kecamatan `kode`'s own bot or number; None when it is not known."""
    if channel == "whatsapp":
        number = rt.office_of(kode).whatsapp_number
        return f"https://wa.me/{number}" if number else None
    username = rt.bot_usernames.get(kode)
    return f"https://t.me/{username}" if username else None


def _resident(rt: Runtime, session: Session, caller: Caller, event: Event, now: datetime, run: Run) -> Ctx:
    kode = tenant_lookup.remembered(session, caller.channel, caller.user_id)
    if not _here(rt, kode, caller.channel):
        kode = None
    if kode is None:
        # A resident of the register from before it served several kecamatan: theirs.
        known = [k for k in tenant_lookup.person_kecamatan(session, caller.channel, caller.user_id)
                 if _here(rt, k, caller.channel)]
        if len(known) == 1:
            kode = known[0]
            tenant_lookup.remember(session, caller.channel, caller.user_id, kode, now)
    linked = _deep_link(rt, event, caller.channel)
    if linked is not None:
        tenant_lookup.remember(session, caller.channel, caller.user_id, linked, now)
        if linked != kode:
            # As after a pick: which kecamatan it is now, and how to change it (a QR code
            # scanned at another office's counter changes it without asking).
            office = rt.office_of(linked)
            Ctx(rt, session, caller, now, office).say("kecamatan_dipilih", kecamatan=office.name)
        return _run_in(rt, session, linked, Event(kind="command", command="start", text="/start"), run)
    state = people.load_state(session, caller.channel, caller.chat_id, caller.user_id)
    flow = state.get("flow")
    if _is_change(event, flow):
        return _ask(rt, session, caller, now, None, kode)
    if flow == PICK_FLOW:
        picked = _picked(rt, state, event, caller.channel)
        if picked is not None:
            return _chosen(rt, session, caller, now, picked, state.get("then"), run)
        if kode is not None:
            # Asked to change (/kecamatan) and went on with something else: it stays. (A
            # press goes on as it is: a stale dialog button is refused there, while a signed
            # one, "is it solved?" say, still works.)
            if event.kind != "choice":
                people.save_state(session, caller.channel, caller.chat_id, caller.user_id, {}, now)
            return _run_in(rt, session, kode, event, run)
        if event.kind == "choice":
            ctx = Ctx(rt, session, caller, now)
            ctx.toast = "Tombol ini sudah tidak berlaku."
            return ctx
        if event.kind == "command" and event.command == "batal":
            people.save_state(session, caller.channel, caller.chat_id, caller.user_id, {}, now)
            ctx = Ctx(rt, session, caller, now)
            ctx.say("lapor_batal")
            return ctx
        if event.kind == "text":
            # Typed, and no kecamatan of ours (a misspelt or another kecamatan's name): said
            # so, and the message that led to the question stays the one handled after.
            return _ask(rt, session, caller, now, state.get("then") or _saved(event), None, wrong=True)
        return _ask(rt, session, caller, now, _saved(event) or state.get("then"), None)
    if kode is None:
        return _ask(rt, session, caller, now, _saved(event), None)
    return _run_in(rt, session, kode, event, run)


def _ask(rt: Runtime, session: Session, caller: Caller, now: datetime, then: dict[str, str] | None,
         current: str | None, *, wrong: bool = False) -> Ctx:
    ctx = Ctx(rt, session, caller, now)
    # A kecamatan with its own bot (own WhatsApp number) is a link that opens it, not a choice here.
    links = {kode: _elsewhere(rt, kode, caller.channel) for kode in rt.offices}
    choices = [Choice(o.name, kode) if _here(rt, kode, caller.channel) else Choice(o.name, url=links[kode])
               for kode, o in rt.offices.items() if _here(rt, kode, caller.channel) or links[kode]]
    ctx.say("kecamatan_pilih", choices,
            sekarang=rt.office_of(current).name if current else None, tidak_cocok=wrong,
            contoh=rt.office.kecamatan, jumlah=len(rt.offices))
    for kode, office in rt.offices.items():
        # "arjasa" as well as "Kecamatan Arjasa": what people type.
        if _here(rt, kode, caller.channel):
            ctx.offered.setdefault(typed.normalise(office.kecamatan), kode)
    state: dict[str, Any] = {"flow": PICK_FLOW, "nonce": ctx.nonce, "offered": ctx.offered}
    if then is not None:
        state["then"] = then
    people.save_state(session, caller.channel, caller.chat_id, caller.user_id, state, now)
    return ctx


def _picked(rt: Runtime, state: dict[str, Any], event: Event, channel: str) -> str | None:
    value: str | None = None
    if event.kind == "choice" and event.data.startswith("d:"):
        _, nonce, pressed = event.data.split(":", 2)
        value = pressed if nonce == state.get("nonce") else None
    elif event.kind == "text":
        value = typed.typed_choice(state.get("offered") or {}, event.text)
    return value if _here(rt, value, channel) else None


def _chosen(rt: Runtime, session: Session, caller: Caller, now: datetime, kode: str,
            then: dict[str, str] | None, run: Run) -> Ctx:
    tenant_lookup.remember(session, caller.channel, caller.user_id, kode, now)
    people.save_state(session, caller.channel, caller.chat_id, caller.user_id, {}, now)
    office = rt.office_of(kode)
    Ctx(rt, session, caller, now, office).say("kecamatan_dipilih", kecamatan=office.name)
    resumed = _restored(then) or Event(kind="command", command="start", text="/start")
    return _run_in(rt, session, kode, resumed, run)


# The message that led to the question, kept in the dialog state (text and commands only:
# a photo or a location is sent again more easily than stored for later).
def _saved(event: Event) -> dict[str, str] | None:
    if event.kind == "text":
        return {"kind": "text", "text": event.text}
    plain = event.command in ("start", "menu", "batal") and not event.args  # the menu follows anyway
    if event.kind == "command" and not plain:
        return {"kind": "command", "command": event.command, "args": event.args, "text": event.text}
    return None


def _restored(saved: Any) -> Event | None:
    if not isinstance(saved, dict):
        return None
    if saved.get("kind") == "text":
        return Event(kind="text", text=str(saved.get("text", "")))
    if saved.get("kind") == "command":
        return Event(kind="command", command=str(saved.get("command", "")), args=str(saved.get("args", "")),
                     text=str(saved.get("text", "")))
    return None


@contextmanager
def visiting(ctx: Ctx, office: Office) -> Iterator[Ctx]:
    """For a step that must look at its caller's own row in another kecamatan (/status of a
    ticket whose prefix names another): a Ctx of that office, the session scoped to it."""
    try:
        with scoped(ctx.session, office.kode_wilayah):
            yield Ctx(ctx.rt, ctx.session, ctx.caller, ctx.now, office)
    finally:
        # What the outer Ctx had loaded was expunged with its kecamatan's rows: load again.
        ctx._person, ctx._officer = None, False
