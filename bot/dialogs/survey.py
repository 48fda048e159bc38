# The SKM survey conversation (PermenPANRB 14/2017) for residents on any channel, the same
# questions for an officer typing in a paper form (/skm_kertas), and /ikm for officers.
# Invariants:
# - nothing is asked before explicit consent, and nothing is recorded without it; the
#   consent time travels in the dialog state and is stored with the answers (UU 27/2022);
# - a resident's age is the first profile question: under the office's limit
#   (skm.usia_minimum_tanpa_wali) the survey goes on only once a parent or guardian agrees,
#   which is stored with the answers; "Berhenti" there ends it and records nothing;
# - no name, NIK or phone is asked, and the resident's Person row is never touched: the
#   chat identity reaches the register only as storage.skm.respondent_key (an HMAC);
# - answers are kept by unsur code u1..u9 in the standard form's order (kpi.skm_questionnaire);
# - one response per respondent per service per period: checked when the service is chosen
#   and enforced again by the unique constraint at the write (two devices racing);
# - input a step cannot use is answered and leaves the state exactly as it was, including
#   the prompt's nonce, so the buttons already on screen still work.
from __future__ import annotations

import hashlib
import re
from datetime import date, datetime
from typing import Any

from bot.dialogs import deferred
from bot.dialogs.context import Ctx
from bot.dialogs.intake import parse_date
from bot.dialogs.types import Choice, Event, kind_name
from bot.reports.skm_summary import SkmSummary, current_skm_period, skm_summary
from bot.texts import render
from kpi.periods import Period, period_containing, period_of_date
from kpi.rounding import round_half_up
from kpi.skm_questionnaire import PEKERJAAN, PENDIDIKAN, UNSUR, UNSUR_BY_CODE, UNSUR_CODES
from storage import skm

FLOW = "skm"
# The age first for residents, so that a child's guardian is asked before anything else is;
# a paper form is typed in the form's own order. "wali" (guardian consent) and "lainnya"
# (the occupation as free text) are asked only when the answer before calls for them.
KERTAS_PROFILE = ("jk", "usia", "pendidikan", "pekerjaan", "lainnya")
WARGA_PROFILE = ("usia", "wali", "jk", "pendidikan", "pekerjaan", "lainnya")
QUESTIONS = UNSUR_CODES  # u1..u9, the standard form's order
WARGA_STEPS = ("persetujuan", "layanan", *WARGA_PROFILE, *QUESTIONS, "saran")
KERTAS_STEPS = ("tanggal", "layanan", *KERTAS_PROFILE, *QUESTIONS, "saran")
OTHER_OCCUPATION = "Lainnya"
COMPLAINT_SERVICE = "pengaduan"
BACK = Choice("⬅️ Kembali", "kembali")
SKIP_BLANK = Choice("Tidak diisi", "kosong")  # paper forms only: a field left blank
JENIS_KELAMIN = (("L", "Laki-laki"), ("P", "Perempuan"))
USIA_MIN, USIA_MAX = 15, 100  # outside: refused as a typing mistake, on paper forms too
SARAN_MAX = 1000
PERIOD_WORDS = {"quarter": "triwulan", "semester": "semester", "year": "tahun"}
# "35" or "35 tahun": the sandbox reads a bare number as a button number, so the unit
# written after it is what lets an age through there.
_AGE = re.compile(r"(\d{1,3})(?:\s*(?:tahun|thn|th)\.?)?", re.IGNORECASE)
# An occupation names something in words: emoji, digits or punctuation alone are asked again.
_LETTER = re.compile(r"[^\W\d_]")
# Typed answers to the guardian question, besides its button labels: it reads as a yes/no
# question ("Apakah orang tua/wali Anda menyetujui ...?").
_GUARDIAN_WORDS = {"ya": "wali_setuju", "setuju": "wali_setuju", "tidak": "berhenti", "tidak setuju": "berhenti"}


# Entry points ------------------------------------------------------------------------------
def start(ctx: Ctx, service: str | None = None) -> dict[str, Any]:
    """A resident starts the survey (menu, /survei, deep link, the offer after a complaint)."""
    if not ctx.office.services:
        ctx.say("skm_tidak_tersedia")
        return {}
    if service is not None and not _known_service(ctx, service):
        service = None  # an unknown code in a deep link: the resident picks the service
    state: dict[str, Any] = {"flow": FLOW, "mode": "warga", "step": "persetujuan", "data": {}}
    if service is not None:
        if _answered(ctx, service):
            # Asking for consent only to refuse afterwards would waste the resident's time.
            return _already(ctx, state, service)
        state["data"] = {"layanan": service, "preset": True}
    _prompt(ctx, state)
    return state


def start_paper(ctx: Ctx) -> dict[str, Any]:
    """An officer types in one paper questionnaire; consent was given on the paper."""
    if ctx.officer is None:
        ctx.say("bukan_petugas")
        return {}
    if not ctx.caller.private:
        ctx.send_to(ctx.caller.channel, ctx.caller.chat_id, "Gunakan /skm_kertas di chat pribadi dengan bot.")
        return {}
    if not ctx.office.services:
        ctx.say("skm_tidak_tersedia")
        return {}
    state: dict[str, Any] = {"flow": FLOW, "mode": "kertas", "step": "tanggal", "data": {}}
    _prompt(ctx, state)
    return state


def say_with_offer(ctx: Ctx, template: str, **values: Any) -> None:
    """Say `template` to a reporter who just answered "is it solved?", with an invitation to
    rate the complaint service under it, unless they already did this period. One message,
    so the answer to their press stays the last thing they read. The button is signed: it
    works outside any dialog and cannot be forged."""
    text = render(template, **values)
    buttons: list[list[Any]] = []
    if _known_service(ctx, COMPLAINT_SERVICE) and not _answered(ctx, COMPLAINT_SERVICE):
        text += "\n\n" + render("skm_tawaran", layanan=ctx.office.service_name(COMPLAINT_SERVICE))
        buttons = [["⭐ Isi survei", ctx.rt.signed(f"s:{COMPLAINT_SERVICE}"), None]]
    ctx.send_to(ctx.caller.channel, ctx.caller.chat_id, text, buttons)


def press_offer(ctx: Ctx, body: str, state: dict[str, Any]) -> dict[str, Any]:
    """body is the verified 's:<service code>'."""
    if state.get("flow") == "lapor":
        # Starting the survey would throw away a complaint being written.
        ctx.toast = "Selesaikan atau batalkan (/batal) laporan Anda dulu."
        return state
    return start(ctx, body.split(":", 1)[1])


# The conversation ----------------------------------------------------------------------------
def step(ctx: Ctx, state: dict[str, Any], event: Event, value: str | None) -> dict[str, Any]:
    """Handle one event; `value` is the chosen option when the event is a valid choice."""
    # A copy, so a refused input leaves the loaded state untouched.
    state = {**state, "data": dict(state.get("data") or {})}
    current, data, mode = state["step"], state["data"], state.get("mode", "warga")

    if current == "lain":
        return _other_service_step(ctx, state, value)
    if current == "lagi":
        if value == "lagi":
            # The next form of a pile is often from the same day: offer that date as a button.
            carried = {"tanggal_lalu": data["tanggal"]} if data.get("tanggal") else {}
            new: dict[str, Any] = {"flow": FLOW, "mode": "kertas", "step": "tanggal", "data": carried}
            _prompt(ctx, new)
            return new
        if value == "selesai":
            ctx.say("skm_kertas_selesai")
            return {}
        return _refuse(ctx, state, event)

    if value == "kembali" and current != _steps(state)[0]:
        return _back(ctx, state)

    # Steps that take typed input ---------------------------------------------------------
    if current == "usia" and value is None:
        if event.kind != "text":
            return _refuse(ctx, state, event)
        text = event.text.strip()
        age = _AGE.fullmatch(text)
        if age is None or not USIA_MIN <= int(age.group(1)) <= USIA_MAX:
            _keep_prompt(ctx, state)
            ctx.say("skm_usia_salah", teks=text[:20], minimum=USIA_MIN, maksimum=USIA_MAX)
            return state
        data["usia"] = int(age.group(1))
        # Decided when the age is given, so a corrected age asks (or skips) the guardian anew.
        data["perlu_wali"] = mode == "warga" and data["usia"] < ctx.office.skm_guardian_age
        data.pop("wali_setuju", None)
        return _advance(ctx, state)
    if current == "lainnya" and value is None:
        if event.kind != "text":
            return _refuse(ctx, state, event)
        text = " ".join(event.text.split())
        if not _LETTER.search(text) or len(text) > skm.OCCUPATION_TEXT_MAX:
            _keep_prompt(ctx, state)
            too_long = len(text) if len(text) > skm.OCCUPATION_TEXT_MAX else None
            ctx.say("skm_pekerjaan_lainnya_salah", panjang=too_long, maks=skm.OCCUPATION_TEXT_MAX)
            return state
        data["pekerjaan_lainnya"] = text
        return _advance(ctx, state)
    if current == "saran" and value is None:
        if event.kind != "text" or not event.text.strip():
            return _refuse(ctx, state, event)
        text = event.text.strip()
        if len(text) > SARAN_MAX:
            _keep_prompt(ctx, state)
            ctx.say("skm_saran_panjang", panjang=len(text), maks=SARAN_MAX)
            return state
        data["saran"] = text
        return _finish(ctx, state)
    if current == "tanggal" and value is None:
        if event.kind != "text":
            return _refuse(ctx, state, event)
        parsed = parse_date(event.text)
        if parsed is None or parsed > ctx.today:
            _keep_prompt(ctx, state)
            ctx.say("catat_tanggal_salah", teks=event.text.strip()[:40])
            return state
        data["tanggal"] = parsed.isoformat()
        return _advance(ctx, state)

    # Steps that take a button (or its typed label) ----------------------------------------
    if value is None:
        return _refuse(ctx, state, event)
    blank_ok = mode == "kertas" and value == SKIP_BLANK.value
    if current == "persetujuan" and value in ("setuju", "tidak"):
        if value == "tidak":
            ctx.say("skm_tidak_setuju")
            return {}
        data["consent_at"] = ctx.now.isoformat()
    elif current == "wali" and value in ("wali_setuju", "berhenti"):
        if value == "berhenti":
            # Nothing was written yet; dropping the state drops the age and consent time too.
            ctx.say("skm_wali_berhenti")
            return {}
        data["wali_setuju"] = True
    elif current == "tanggal" and value in ("hari_ini", "sama"):
        if value == "sama" and not data.get("tanggal_lalu"):
            return _refuse(ctx, state, event)
        data["tanggal"] = ctx.today.isoformat() if value == "hari_ini" else data["tanggal_lalu"]
    elif current == "layanan" and _known_service(ctx, value):
        if mode == "warga" and _answered(ctx, value):
            ctx.say("skm_sudah", lain=True, **_already_values(ctx, value))
            _prompt(ctx, state)  # the service question again, to pick another one
            return state
        data["layanan"] = value
    elif current == "jk" and (value in dict(JENIS_KELAMIN) or blank_ok):
        data["jk"] = None if blank_ok else value
    elif current == "pendidikan" and (value in PENDIDIKAN or blank_ok):
        data["pendidikan"] = None if blank_ok else value
    elif current == "pekerjaan" and (value in PEKERJAAN or blank_ok):
        data["pekerjaan"] = None if blank_ok else value
        if data["pekerjaan"] != OTHER_OCCUPATION:
            data.pop("pekerjaan_lainnya", None)
    elif current == "lainnya" and blank_ok:
        data["pekerjaan_lainnya"] = None
    elif current == "usia" and blank_ok:
        data["usia"] = None
    elif current in QUESTIONS and (value in ("1", "2", "3", "4") or blank_ok):
        data[current] = None if blank_ok else int(value)
    elif current == "saran" and value == "lewati":
        data["saran"] = None
        return _finish(ctx, state)
    else:
        ctx.say("tombol_kedaluwarsa")
        _prompt(ctx, state)
        return state
    return _advance(ctx, state)


def _steps(state: dict[str, Any]) -> tuple[str, ...]:
    data = state["data"]
    skipped = set()
    if not data.get("perlu_wali"):
        skipped.add("wali")
    if data.get("pekerjaan") != OTHER_OCCUPATION:
        skipped.add("lainnya")
    if state.get("mode") == "kertas":
        steps = KERTAS_STEPS
    else:
        steps = WARGA_STEPS
        if data.get("preset"):
            skipped.add("layanan")
    return tuple(s for s in steps if s not in skipped)


def _advance(ctx: Ctx, state: dict[str, Any]) -> dict[str, Any]:
    steps = _steps(state)
    nxt = steps[steps.index(state["step"]) + 1]
    if state.get("mode") != "kertas" and "perlu_wali" not in state["data"] and steps.index(nxt) > steps.index("usia"):
        # A survey begun before the age came first and decided the guardian question (a
        # stored dialog state): ask the age now, so a child's guardian is still asked.
        nxt = "usia"
    state["step"] = nxt
    _prompt(ctx, state)
    return state


def _back(ctx: Ctx, state: dict[str, Any]) -> dict[str, Any]:
    steps = _steps(state)
    prev = steps[max(0, steps.index(state["step"]) - 1)]
    # Back from the first question after the guardian's answer goes to the age itself:
    # that is what a person going back wants to change.
    state["step"] = "usia" if prev == "wali" else prev
    _prompt(ctx, state)
    return state


def _choices(ctx: Ctx, state: dict[str, Any]) -> list[Choice]:
    """The buttons of the current step, in the order they are drawn."""
    current, data, mode = state["step"], state["data"], state.get("mode", "warga")
    if current == "persetujuan":
        return [Choice("Setuju", "setuju"), Choice("Tidak setuju", "tidak")]
    if current == "wali":
        return [Choice("Orang tua/wali menyetujui", "wali_setuju"), Choice("Berhenti", "berhenti"), BACK]
    if current == "lagi":
        return [Choice("Isi formulir lain", "lagi"), Choice("Selesai", "selesai")]
    if current == "tanggal":
        same = []
        if data.get("tanggal_lalu"):
            d = date.fromisoformat(data["tanggal_lalu"])
            same = [Choice(f"Sama: {d:%d-%m-%Y}", "sama")]
        return [Choice("Hari ini", "hari_ini"), *same]
    if current == "layanan":
        options = [Choice(sv.name, sv.code) for sv in ctx.office.services]
    elif current == "jk":
        options = [Choice(label, code) for code, label in JENIS_KELAMIN]
    elif current == "pendidikan":
        options = [Choice(p, p) for p in PENDIDIKAN]
    elif current == "pekerjaan":
        options = [Choice(p, p) for p in PEKERJAAN]
    elif current in QUESTIONS:
        # Scores 1..4 first and in order, so the sandbox's numbered buttons and typed digits
        # mean the same answer.
        options = [Choice(label, str(i)) for i, label in enumerate(UNSUR_BY_CODE[current].jawaban, 1)]
    elif current == "saran":
        options = [Choice("Lewati", "lewati")]
    else:
        options = []
    if mode == "kertas" and current in (*KERTAS_PROFILE, *QUESTIONS):
        options.append(SKIP_BLANK)
    if current != _steps(state)[0]:
        options.append(BACK)
    return options


def _prompt(ctx: Ctx, state: dict[str, Any]) -> None:
    current, data, office = state["step"], state["data"], ctx.office
    choices = _choices(ctx, state)
    kertas = state.get("mode") == "kertas"
    # Digits in the survey are scores (1-4, below) or an age, never a button's position.
    ctx.number_buttons = False
    if current == "persetujuan":
        layanan = office.service_name(data["layanan"]) if data.get("layanan") else None
        ctx.say(
            "skm_persetujuan",
            choices,
            kantor=office.name,
            layanan=layanan,
            retensi=office.skm_retention_days,
            jumlah_unsur=len(UNSUR),
        )
    elif current == "tanggal":
        ctx.say("skm_kertas_tanggal", choices)
    elif current == "layanan":
        ctx.say("skm_layanan", choices, kantor=office.name, kertas=kertas)
    elif current == "jk":
        ctx.say("skm_jenis_kelamin", choices, kertas=kertas)
    elif current == "usia":
        ctx.say("skm_usia", choices, minimum=USIA_MIN, maksimum=USIA_MAX, kertas=kertas)
    elif current == "wali":
        ctx.say("skm_wali", choices, batas=office.skm_guardian_age)
        ctx.offered.update(_GUARDIAN_WORDS)
    elif current == "pendidikan":
        ctx.say("skm_pendidikan", choices, kertas=kertas)
    elif current == "pekerjaan":
        ctx.say("skm_pekerjaan", choices, kertas=kertas)
    elif current == "lainnya":
        ctx.say("skm_pekerjaan_lainnya", choices, maks=skm.OCCUPATION_TEXT_MAX, kertas=kertas)
    elif current in QUESTIONS:
        unsur = UNSUR_BY_CODE[current]
        ctx.say("skm_pertanyaan", choices, nomor=QUESTIONS.index(current) + 1, jumlah=len(QUESTIONS), unsur=unsur)
        # Typed digits count as the answer (WhatsApp, and anyone who reads the numbers).
        ctx.offered.update({str(i): str(i) for i in range(1, 5)})
    elif current == "saran":
        ctx.say("skm_saran", choices, maks=SARAN_MAX, kertas=kertas)
    if any(c.value == BACK.value for c in choices):
        ctx.offered["kembali"] = BACK.value


def _keep_prompt(ctx: Ctx, state: dict[str, Any]) -> None:
    """Keep the nonce and typed labels of the prompt on screen: nothing about the step changed."""
    ctx.number_buttons = False
    if state.get("nonce"):
        ctx.nonce = state["nonce"]
    ctx.offered.update(state.get("offered") or {})


def _refuse(ctx: Ctx, state: dict[str, Any], event: Event) -> dict[str, Any]:
    """Input the step cannot use: say what is expected, repeat the choices, change nothing."""
    _keep_prompt(ctx, state)
    current = state["step"]
    choices = _choices(ctx, state)
    labels = [c.label for c in choices if c.value not in (BACK.value, SKIP_BLANK.value)]
    if current == "usia":
        expected = f"Ketik usia Anda dalam angka ({USIA_MIN}-{USIA_MAX})."
    elif current == "saran":
        expected = "Tulis kritik dan saran dengan teks, atau pilih Lewati."
    elif current == "lainnya":
        expected = "Tulis pekerjaan Anda dengan teks, misalnya Petani."
    elif current == "tanggal":
        expected = "Ketik tanggal (HH-BB-TTTT) atau pilih Hari ini."
    else:
        expected = None
    kind = event.unsupported if event.kind == "unsupported" else event.kind
    ctx.say(
        "skm_pilih",
        choices,
        jenis=None if kind in ("text", "choice") else kind_name(kind, "pesan ini"),
        petunjuk=expected,
        pilihan=labels,
        angka=current in QUESTIONS,
    )
    return state


# Already answered: offer another service -----------------------------------------------------
def _respondent(ctx: Ctx) -> str:
    return skm.respondent_key(ctx.rt.secret, ctx.caller.channel, ctx.caller.user_id)


def _period(ctx: Ctx) -> Period:
    return period_containing(ctx.office.skm_period, ctx.now, ctx.tz)


def _known_service(ctx: Ctx, code: str) -> bool:
    return any(sv.code == code for sv in ctx.office.services)


def _answered(ctx: Ctx, service: str) -> bool:
    return skm.already_answered(ctx.session, _respondent(ctx), service, _period(ctx).code)


def _already_values(ctx: Ctx, service: str) -> dict[str, Any]:
    return {"layanan": ctx.office.service_name(service), "periode": _period(ctx).label()}


def _already(ctx: Ctx, state: dict[str, Any], service: str) -> dict[str, Any]:
    """Tell the resident they answered for `service` this period; offer the services left."""
    period = _period(ctx).code
    key = _respondent(ctx)
    left = [sv for sv in ctx.office.services if not skm.already_answered(ctx.session, key, sv.code, period)]
    choices = [Choice(sv.name, sv.code) for sv in left]
    if choices:
        choices.append(Choice("Tidak, terima kasih", "selesai"))
    ctx.say("skm_sudah", choices, lain=bool(left), **_already_values(ctx, service))
    if not left:
        return {}
    consent = state["data"].get("consent_at")
    return {"flow": FLOW, "mode": "warga", "step": "lain", "data": {"consent_at": consent} if consent else {}}


def _other_service_step(ctx: Ctx, state: dict[str, Any], value: str | None) -> dict[str, Any]:
    if value == "selesai":
        ctx.say("skm_sampai_jumpa")
        return {}
    if value is None or not _known_service(ctx, value):
        ctx.say("pilih_tombol")
        _keep_prompt(ctx, state)
        return state
    if _answered(ctx, value):
        return _already(ctx, state, value)
    data: dict[str, Any] = {"layanan": value, "preset": True}
    if state["data"].get("consent_at"):
        # Consent was given minutes ago for the same survey: do not ask again.
        data["consent_at"] = state["data"]["consent_at"]
        new = {"flow": FLOW, "mode": "warga", "step": WARGA_PROFILE[0], "data": data}
    else:
        new = {"flow": FLOW, "mode": "warga", "step": "persetujuan", "data": data}
    _prompt(ctx, new)
    return new


# The write -------------------------------------------------------------------------------------
def _finish(ctx: Ctx, state: dict[str, Any]) -> dict[str, Any]:
    data, kertas = state["data"], state.get("mode") == "kertas"
    officer = ctx.officer if kertas else None
    if kertas:
        if officer is None:  # removed from the officers while typing the form
            ctx.say("bukan_petugas")
            return {}
        tanggal = date.fromisoformat(data["tanggal"])
        # A paper form counts in the period of the day it was filled in, not of the typing.
        period = period_of_date(ctx.office.skm_period, tanggal)
    else:
        if "perlu_wali" not in data or (data["perlu_wali"] and not data.get("wali_setuju")):
            # A child's answer without the guardian's consent must never be stored: a dialog
            # state from before the age came first asks the age (and the guardian) now.
            state["step"] = "wali" if "perlu_wali" in data else "usia"
            _prompt(ctx, state)
            return state
        tanggal = ctx.today
        period = _period(ctx)
    draft = skm.ResponseDraft(
        service=data["layanan"],
        period=period.code,
        tanggal=tanggal,
        answers={code: data.get(code) for code in QUESTIONS},
        jenis_kelamin=data.get("jk"),
        usia=data.get("usia"),
        pendidikan=data.get("pendidikan"),
        pekerjaan=data.get("pekerjaan"),
        pekerjaan_lainnya=data.get("pekerjaan_lainnya") if data.get("pekerjaan") == OTHER_OCCUPATION else None,
        saran=data.get("saran"),
    )
    if officer is not None:
        skm.record_response(ctx.session, draft, source="kertas", now=ctx.now, recorded_by=officer.name)
        after = {"flow": FLOW, "mode": "kertas", "step": "lagi", "data": {"tanggal": data["tanggal"]}}
        ctx.say(
            "skm_kertas_tersimpan",
            _choices(ctx, after),
            layanan=ctx.office.service_name(draft.service),
            tanggal=tanggal,
            periode=period.label(),
        )
        return after
    try:
        skm.record_response(
            ctx.session,
            draft,
            source=ctx.caller.channel,
            now=ctx.now,
            respondent=_respondent(ctx),
            consent_at=datetime.fromisoformat(data["consent_at"]),
            guardian_consent=bool(data.get("perlu_wali") and data.get("wali_setuju")),
        )
    except skm.AlreadyAnswered:
        # Another device of the same person finished first: theirs counts, this one does not.
        return _already(ctx, state, draft.service)
    ctx.say(
        "skm_terima_kasih",
        layanan=ctx.office.service_name(draft.service),
        periode=period.label(),
        setiap=PERIOD_WORDS.get(ctx.office.skm_period, "periode"),
        kantor=ctx.office.name,
    )
    return {}


# /ikm ---------------------------------------------------------------------------------------------
def show_ikm(ctx: Ctx) -> None:
    """The current period's IKM for officers and leadership (any registered officer)."""
    if ctx.officer is None:
        ctx.say("bukan_petugas")
        return
    if deferred.defer(ctx, "ikm"):  # built by the delivery, outside the write batch
        return
    period = current_skm_period(ctx.office, ctx.now)
    summary = skm_summary(ctx.session, ctx.office, period)
    result = summary.result
    unsur_rows = []
    if result is not None:
        for u in UNSUR:
            nrr = result.nrr.get(u.code)
            unsur_rows.append(
                {
                    "kode": u.code.upper(),
                    "nama": u.nama,
                    # Half-up once for display, as the report does (Babel would round half-even).
                    "nrr": None if nrr is None else round_half_up(nrr, 3),
                    "terendah": u.code == result.lowest,
                    "tertinggi": u.code == result.highest,
                }
            )
    services = [
        {
            "nama": ctx.office.service_name(code),
            "responden": summary.per_service_respondents.get(code, 0),
            "konversi": None if res is None else res.konversi,
            "mutu": None if res is None else res.mutu,
        }
        for code, res in summary.per_service.items()
    ]
    ctx.say(
        "skm_ikm",
        kantor=ctx.office.name,
        periode=summary.period.label(),
        responden=summary.respondents,
        sampel=summary.required_sample,
        populasi=summary.population,
        cukup=summary.sample_adequate,
        hasil=result,
        ikm=None if result is None else result.ikm_shown,  # same rounded figure as the grade
        unsur=unsur_rows,
        layanan=services,
    )
    if result is not None:
        _queue_chart(ctx, summary)


def _queue_chart(ctx: Ctx, summary: SkmSummary) -> None:
    """The NRR chart as a photo, if bot/reports/charts.py provides it. The outbox holds JSON, so the
    PNG goes to a file named by its content (the same chart is written once) and the photo
    is queued by path, exactly like a complaint's photos."""
    try:
        from bot.reports.charts import nrr_chart
    except ImportError:
        return
    png: bytes = nrr_chart(summary, ctx.office)
    folder = ctx.rt.data_dir / "grafik"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"nrr-{hashlib.sha256(png).hexdigest()[:16]}.png"
    if not path.exists():
        tmp = path.with_suffix(".part")
        tmp.write_bytes(png)
        tmp.replace(path)
    caption = f"NRR per unsur, {summary.period.label()}"
    ctx.queue(ctx.caller.channel, ctx.caller.chat_id, "photo", {"path": str(path), "caption": caption})
