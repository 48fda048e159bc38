# The one entry point for every inbound event on every channel: `handle` runs inside the
# caller's transaction, loads the dialog state, dispatches, and saves the new state.
# Invariants: a choice is accepted only if it carries the nonce of the prompt that drew it
# (dialog buttons) or a valid signature (standalone buttons); in a group the bot speaks
# only to commands and to officers it asked for a note, never to ordinary chatter; with
# several office files each step works in ONE kecamatan (bot/dialogs/kecamatan.py).
from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from bot.config.office import Office
from bot.dialogs import (
    iku_commands,
    intake,
    kecamatan,
    officer,
    pdp_requests,
    resident,
    survey,
    typed,
)
from bot.dialogs.context import Ctx, Runtime
from bot.dialogs.dashboard_command import dashboard_command
from bot.dialogs.types import Caller, Event
from storage import people

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

RESIDENT_COMMANDS = {"start", "menu", "batal", "status", "bantuan", "help", "datasaya", "lapor", "survei"}
OFFICER_COMMANDS = {"kasus", "catat", "daftarkan_grup", "petugas", "ikm", "skm_kertas", "digest",
                    "tugaskan", "kembalikan", "pdp", "dasbor",
                    *iku_commands.COMMANDS}


def handle(rt: Runtime, session: Session, caller: Caller, event: Event, now: datetime) -> Ctx:
    if rt.several:
        # Which kecamatan this step works in, the session scoped to it (bot/dialogs/kecamatan.py).
        return kecamatan.handle(rt, session, caller, event, now,
                                lambda office, ev: _step(rt, office, session, caller, ev, now))
    return _step(rt, None, session, caller, event, now)


def _step(rt: Runtime, office: Office | None, session: Session, caller: Caller, event: Event,
          now: datetime) -> Ctx:
    ctx = Ctx(rt, session, caller, now, office)
    state = people.load_state(session, caller.state_channel, caller.chat_id, caller.user_id)
    before = _copy(state)  # steps may change the loaded state in place
    new_state = dispatch(ctx, state, event)
    if new_state and new_state == before and not ctx.offered and before.get("nonce"):
        # The dialog did not move and drew no buttons (/bantuan, an unknown command, a sticker
        # answered with a hint): the buttons on screen stay valid, typed labels too.
        ctx.nonce, ctx.offered = before["nonce"], dict(before.get("offered") or {})
    if new_state != state or state:
        if new_state:
            new_state["nonce"] = ctx.nonce
            new_state["offered"] = ctx.offered
        people.save_state(session, caller.state_channel, caller.chat_id, caller.user_id, new_state, now)
    return ctx


def _copy(value: Any) -> Any:
    """A deep copy of a stored dialog state. States are JSON (a JSON column), so dicts,
    lists and scalars are all there is; copy.deepcopy's generality cost a tenth of a step."""
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy(v) for v in value]
    return value


def dispatch(ctx: Ctx, state: dict[str, Any], event: Event) -> dict[str, Any]:
    if event.kind == "command":
        return command(ctx, state, event)
    if event.kind == "choice":
        return choice(ctx, state, event)
    if not ctx.caller.private and state.get("flow") != "catatan":
        return state  # group chatter is not for the bot
    pressed = _typed_choice(state, event)
    if pressed is not None:
        return dialog_choice(ctx, state, event, pressed)
    flow = state.get("flow")
    bare = typed.bare_command(event) if ctx.caller.private else None
    if bare is not None and (bare.command in ("batal", "menu") or flow not in FREE_TEXT_FLOWS):
        return command(ctx, state, bare)
    if flow not in FREE_TEXT_FLOWS and event.kind == "text" and _answers_solved(ctx, event.text):
        return state
    if flow == "lapor":
        return intake.step(ctx, state, event, None)
    if flow == survey.FLOW:
        return survey.step(ctx, state, event, None)
    if flow == "catatan":
        return officer.note_step(ctx, state, event)
    if flow == resident.CORRECTION_FLOW:
        return resident.correction_text(ctx, state, event)
    if flow == "status" and event.kind == "text":
        return resident.status(ctx, event.text)
    if event.kind == "photo":
        ctx.say("foto_di_luar_langkah")
    elif event.kind == "location":
        ctx.say("lokasi_di_luar_langkah")
    elif event.kind == "unsupported":
        ctx.say("tidak_didukung", jenis="pesan ini", petunjuk="Ketik /start untuk melihat menu.")
    else:
        return resident.menu(ctx)
    return state


# Flows whose steps take free text: there a bare word is an answer, not a command (but
# "batal" and "menu" always are commands: nobody describes an incident in one such word).
FREE_TEXT_FLOWS = {"lapor", survey.FLOW, "catatan", resident.CORRECTION_FLOW}


def _typed_choice(state: dict[str, Any], event: Event) -> str | None:
    """Typed text that matches a button on screen counts as pressing it: its label in any
    case and spacing, its number, or an answer word its label starts with (ya, tidak, ...)."""
    if event.kind != "text":
        return None
    offered: dict[str, str] = state.get("offered") or {}
    return typed.typed_choice(offered, event.text)


def _answers_solved(ctx: Ctx, text: str) -> bool:
    """A typed "ya"/"belum" answers "Apakah masalah Anda sudah terselesaikan?" for the
    resident's latest complaint still waiting for that answer (the question came with
    buttons from an officer's move, so it is not in the resident's dialog state), in
    whichever kecamatan it is: the resident may have switched with /kecamatan since."""
    word = typed.answer_word(text)
    if word is None:
        return False
    waiting = resident.awaiting_feedback_anywhere(ctx)
    if waiting is None:
        return False
    kode, cid = waiting
    # The same body as the signed button's: feedback answers it in the complaint's kecamatan.
    resident.feedback(ctx, f"f:{cid}:{'ya' if word == 'ya' else 'belum'}:{kode}")
    return True


def command(ctx: Ctx, state: dict[str, Any], event: Event) -> dict[str, Any]:
    name, args = event.command, event.args
    private = ctx.caller.private
    if name == "batal":
        if state or private:
            ctx.say("lapor_batal")
        if state.get("flow") == "catatan":
            officer.spend_preview(ctx, state)  # a preview on screen: its buttons are spent too
        return {}
    if not private and name not in OFFICER_COMMANDS:
        return state  # a resident command typed in the group: not ours to answer there
    if name in ("start", "menu"):
        if args.startswith("kasus_"):
            # The list's state too, so its page buttons (drawn with this step's nonce) work.
            return officer.list_cases(ctx, args[len("kasus_"):]) or {}
        if args == "skm" or args.startswith("skm_"):
            # Deep link from a service counter's QR code: skm_<service code> preselects it.
            return survey.start(ctx, args[len("skm_"):] or None)
        return resident.menu(ctx)
    if name == "lapor":
        return intake.start(ctx)
    if name == "survei":
        return survey.start(ctx)
    if name == "skm_kertas":
        return survey.start_paper(ctx)
    if name == "ikm":
        survey.show_ikm(ctx)
        return state
    if name in ("bantuan", "help"):
        if ctx.officer is not None:
            officer.help_text(ctx)  # the commands of the officer's role
        else:
            resident.help_text(ctx)
        return state
    if name == "status":
        return resident.status(ctx, args)
    if name == "datasaya":
        return resident.my_data(ctx)
    if name == "kasus":
        listed = officer.list_cases(ctx, args)
        return listed if listed is not None else state
    if name == "catat":
        if ctx.officer is None:
            ctx.say("bukan_petugas")
            return state
        if not private:
            ctx.send_to(ctx.caller.channel, ctx.caller.chat_id, "Gunakan /catat di chat pribadi dengan bot.")
            return state
        return intake.start(ctx, mode="petugas")
    if name == "digest":
        # Drawn by the delivery in this step's kecamatan (Ctx.queue names it).
        from bot.reports.digest import show_digest  # pulls in matplotlib: only when asked

        show_digest(ctx)
        return state
    if name == "tugaskan":
        officer.assign_command(ctx, args)
        return state
    if name == "kembalikan":
        started = officer.correct_command(ctx, args)
        return started if started is not None else state
    if name == "daftarkan_grup":
        officer.register_group(ctx)
        return state
    if name == "pdp":
        pdp_requests.list_requests(ctx)
        return state
    if name == "dasbor":
        dashboard_command(ctx, args)
        return state
    if name == "petugas":
        officer.add_officer(ctx, args)
        return state
    if name in iku_commands.COMMANDS:
        iku_commands.handle(ctx, name, args)
        return state
    if private:
        ctx.say("perintah_tidak_dikenal", nama_perintah=name[:30])
    return state


def choice(ctx: Ctx, state: dict[str, Any], event: Event) -> dict[str, Any]:
    data = event.data
    if data.startswith(("k:", "f:", "s:")):
        body = ctx.rt.verify(data)
        if body is None:
            ctx.toast = "Tombol tidak sah."
            return state
        if body.startswith("k:"):
            return officer.press_card(ctx, body, state)
        if body.startswith("s:"):
            return survey.press_offer(ctx, body, state)
        resident.feedback(ctx, body)
        return state
    if data.startswith("d:"):
        _, nonce, value = data.split(":", 2)
        if nonce != state.get("nonce"):
            ctx.toast = "Tombol ini sudah tidak berlaku."
            return state
        ctx.toast = ""
        return dialog_choice(ctx, state, event, value)
    ctx.toast = "Tombol tidak dikenal."
    return state


def dialog_choice(ctx: Ctx, state: dict[str, Any], event: Event, value: str) -> dict[str, Any]:
    flow = state.get("flow")
    if flow == "menu":
        if value == "lapor":
            return intake.start(ctx)
        if value == "status":
            return resident.status(ctx, "")
        if value == "bantuan":
            resident.help_text(ctx)
            return state
        if value == "datasaya":
            return resident.my_data(ctx)
        if value == "skm":
            return survey.start(ctx)
    if flow == "lapor":
        return intake.step(ctx, state, event, value)
    if flow == "status":
        return resident.status(ctx, value)
    if flow == "datasaya":
        return resident.my_data_step(ctx, state, value)
    if flow == resident.CORRECTION_FLOW:
        return resident.correction_choice(ctx, state, value)
    if flow == survey.FLOW:
        return survey.step(ctx, state, event, value)
    if flow == "catatan":
        return officer.note_choice(ctx, state, value)
    if flow == "kasus":
        return officer.case_page(ctx, state, value)
    ctx.toast = "Tombol ini sudah tidak berlaku."
    return state
