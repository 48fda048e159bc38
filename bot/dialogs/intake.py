# The complaint intake conversation, for residents (any channel) and for officers logging a
# complaint that came by letter, in person, SP4N-LAPOR!, social media or WhatsApp (/catat).
# Invariants: the draft lives only in the dialog state until the resident confirms; the
# complaint, its first history row, the group card and the dialog reset are written in one
# transaction. A step that gets input it cannot use answers and leaves the state unchanged.
from __future__ import annotations

import re
from datetime import UTC, date, datetime, time
from typing import Any

from bot.dialogs.context import Ctx
from bot.dialogs.types import Choice, Event, kind_name
from storage import complaints as reg
from storage.lifecycle import Actor
from storage.models import Person

WARGA_STEPS = ("jenis", "kategori", "desa", "uraian", "foto", "lokasi", "anonim", "rahasia", "ringkasan")
PETUGAS_STEPS = ("kanal", "tanggal", "jenis", "kategori", "desa", "uraian", "pelapor", "rahasia", "ringkasan")
OTHER_CHANNELS = ("lisan", "surat", "sp4n-lapor", "media-sosial", "whatsapp")
EDITABLE = {
    "jenis": "Jenis",
    "kategori": "Kategori",
    "desa": "Desa",
    "uraian": "Uraian",
    "lokasi": "Lokasi",
    "anonim": "Identitas",
    "rahasia": "Sifat",
    "tanggal": "Tanggal",
    "kanal": "Kanal",
    "pelapor": "Pelapor",
}


def start(ctx: Ctx, mode: str = "warga") -> dict[str, Any]:
    if mode == "warga" and _over_daily_limit(ctx):
        ctx.say("batas_harian", batas=ctx.office.daily_limit)
        return {}
    first = WARGA_STEPS[0] if mode == "warga" else PETUGAS_STEPS[0]
    state = {"flow": "lapor", "mode": mode, "step": first, "data": {"foto": []}}
    prompt(ctx, state)
    return state


def _over_daily_limit(ctx: Ctx) -> bool:
    local_midnight = datetime.combine(ctx.today, time(0), tzinfo=ctx.rt.tz)
    return reg.count_since(ctx.session, ctx.person.id, local_midnight) >= ctx.office.daily_limit


def _steps(state: dict[str, Any]) -> tuple[str, ...]:
    return WARGA_STEPS if state["mode"] == "warga" else PETUGAS_STEPS


def _advance(ctx: Ctx, state: dict[str, Any]) -> dict[str, Any]:
    steps = _steps(state)
    if state.pop("ubah", False):
        state["step"] = "ringkasan"
    else:
        state["step"] = steps[steps.index(state["step"]) + 1]
    prompt(ctx, state)
    return state


def prompt(ctx: Ctx, state: dict[str, Any]) -> None:
    step, data, office = state["step"], state["data"], ctx.office
    if step == "jenis":
        ctx.say("lapor_jenis", [Choice(label, code) for code, label in reg.KINDS.items()])
    elif step == "kategori":
        ctx.say("lapor_kategori", [Choice(c.name, c.code) for c in office.categories])
    elif step == "desa":
        ctx.say("lapor_desa", [Choice(d, str(i)) for i, d in enumerate(office.desa)])
    elif step == "uraian":
        ctx.say("lapor_uraian", maks=office.max_description)
    elif step == "foto":
        ctx.say("lapor_foto", [Choice("Lanjut", "lanjut")], jumlah=len(data["foto"]), maks=office.max_photos)
    elif step == "lokasi":
        ctx.say("lapor_lokasi", [Choice("Lewati", "lewati")])
    elif step == "anonim":
        ctx.say("lapor_anonim", [Choice("Sertakan identitas", "tidak"), Choice("Anonim", "ya")])
    elif step == "rahasia":
        ctx.say("lapor_rahasia", [Choice("Rahasia", "ya"), Choice("Tidak rahasia", "tidak")])
    elif step == "kanal":
        ctx.say("catat_kanal", [Choice(reg.CHANNELS[c], c) for c in OTHER_CHANNELS])
    elif step == "tanggal":
        ctx.say("catat_tanggal", [Choice("Hari ini", "hari_ini")])
    elif step == "pelapor":
        ctx.say("catat_pelapor", [Choice("Lewati", "lewati")])
    elif step == "ringkasan":
        ctx.say(
            "lapor_ringkasan",
            [Choice("Kirim", "kirim"), Choice("Ubah", "ubah"), Choice("Batal", "batal")],
            **summary(ctx, state),
        )
    elif step == "ubah":
        fields = [s for s in _steps(state) if s in EDITABLE]
        ctx.say("lapor_ubah", [Choice(EDITABLE[s], s) for s in fields])


def summary(ctx: Ctx, state: dict[str, Any]) -> dict[str, Any]:
    data = state["data"]
    if data.get("lat") is not None:
        lokasi = f"titik {data['lat']:.5f}, {data['lon']:.5f}"
    else:
        lokasi = data.get("alamat") or "-"
    return {
        "jenis": reg.KINDS[data["jenis"]],
        "kategori": ctx.office.category_name(data["kategori"]),
        "desa": data["desa"],
        "uraian": data["uraian"],
        "foto": len(data["foto"]),
        "lokasi": lokasi,
        "anonim": data.get("anonim", False),
        "rahasia": data.get("rahasia", True),
    }


def step(ctx: Ctx, state: dict[str, Any], event: Event, value: str | None) -> dict[str, Any]:
    """Handle one event; `value` is the chosen option when the event is a valid choice."""
    current, data, office = state["step"], state["data"], ctx.office

    # Steps that take free input --------------------------------------------------------
    if current == "uraian":
        if event.kind == "photo":
            if not _add_photo(ctx, data, event):
                return state
            if event.text.strip():
                return _set_description(ctx, state, event.text)
            ctx.say("lapor_uraian_foto")
            return state
        if event.kind == "text":
            return _set_description(ctx, state, event.text)
        return _need(ctx, state, event, "Tuliskan uraian kejadian dengan teks.")
    if current == "foto":
        if event.kind == "photo":
            if len(data["foto"]) >= office.max_photos:
                ctx.say("lapor_foto_penuh", [Choice("Lanjut", "lanjut")], maks=office.max_photos)
                return state
            if _add_photo(ctx, data, event):
                prompt(ctx, state)
            return state
        if value == "lanjut" or (event.kind == "text" and event.text.strip().lower() == "lanjut"):
            return _advance(ctx, state)
        return _need(ctx, state, event, "Kirim foto, atau pilih Lanjut.")
    if current == "lokasi":
        if event.kind == "location":
            data.update(lat=event.latitude, lon=event.longitude, alamat=None)
            return _advance(ctx, state)
        if value == "lewati":
            data.update(lat=None, lon=None, alamat=None)
            return _advance(ctx, state)
        if event.kind == "text" and event.text.strip():
            data.update(lat=None, lon=None, alamat=event.text.strip()[:500])
            return _advance(ctx, state)
        return _need(ctx, state, event, "Kirim lokasi atau ketik alamat.")
    if current == "tanggal":
        if value == "hari_ini":
            data["tanggal"] = ctx.today.isoformat()
            return _advance(ctx, state)
        if event.kind == "text":
            parsed = parse_date(event.text)
            if parsed is None or parsed > ctx.today:
                ctx.say("catat_tanggal_salah", teks=event.text.strip()[:40])
                return state
            data["tanggal"] = parsed.isoformat()
            return _advance(ctx, state)
        return _need(ctx, state, event, "Ketik tanggal atau pilih Hari ini.")
    if current == "pelapor":
        if value == "lewati":
            data["pelapor"] = None
            return _advance(ctx, state)
        if event.kind == "text" and event.text.strip():
            data["pelapor"] = event.text.strip()[:200]
            return _advance(ctx, state)
        return _need(ctx, state, event, "Ketik nama pelapor atau pilih Lewati.")

    # Steps that take a button ------------------------------------------------------------
    if value is None:
        return _need(ctx, state, event, None)
    if current == "jenis" and value in reg.KINDS:
        data["jenis"] = value
    elif current == "kategori" and any(c.code == value for c in office.categories):
        data["kategori"] = value
    elif current == "desa" and value.isdigit() and int(value) < len(office.desa):
        data["desa"] = office.desa[int(value)]
    elif current == "anonim" and value in ("ya", "tidak"):
        data["anonim"] = value == "ya"
    elif current == "rahasia" and value in ("ya", "tidak"):
        data["rahasia"] = value == "ya"
    elif current == "kanal" and value in OTHER_CHANNELS:
        data["kanal"] = value
    elif current == "ubah" and value in EDITABLE and value in _steps(state):
        state["step"] = value
        state["ubah"] = True
        prompt(ctx, state)
        return state
    elif current == "ringkasan" and value == "ubah":
        state["step"] = "ubah"
        prompt(ctx, state)
        return state
    elif current == "ringkasan" and value == "batal":
        ctx.say("lapor_batal")
        return {}
    elif current == "ringkasan" and value == "kirim":
        return submit(ctx, state)
    else:
        ctx.say("tombol_kedaluwarsa")
        return state
    return _advance(ctx, state)


def _need(ctx: Ctx, state: dict[str, Any], event: Event, hint: str | None) -> dict[str, Any]:
    if event.kind == "unsupported":
        ctx.say("tidak_didukung", jenis=kind_name(event.unsupported), petunjuk=hint or "Gunakan tombol yang tersedia.")
    elif hint and event.kind in ("choice",):
        ctx.say("tombol_kedaluwarsa")
    elif hint:
        ctx.say("tidak_didukung", jenis=kind_name(event.kind), petunjuk=hint)
    else:
        ctx.say("pilih_tombol")
        prompt(ctx, state)
    return state


def _add_photo(ctx: Ctx, data: dict[str, Any], event: Event) -> bool:
    if event.photo_too_large or event.photo_path is None:
        ctx.say("foto_terlalu_besar", maks_mb=ctx.office.max_photo_bytes // (1024 * 1024))
        return False
    if len(data["foto"]) >= ctx.office.max_photos:
        ctx.say("lapor_foto_penuh", [Choice("Lanjut", "lanjut")], maks=ctx.office.max_photos)
        return False
    data["foto"].append([event.photo_path, event.photo_size])
    return True


def _set_description(ctx: Ctx, state: dict[str, Any], text: str) -> dict[str, Any]:
    text = text.strip()
    if not text:
        ctx.say("uraian_kosong")
        return state
    if len(text) > ctx.office.max_description:
        ctx.say("uraian_terlalu_panjang", panjang=len(text), maks=ctx.office.max_description)
        return state
    state["data"]["uraian"] = text
    return _advance(ctx, state)


_DATE = re.compile(r"^\s*(\d{1,2})[-/.](\d{1,2})[-/.](\d{4})\s*$")


def parse_date(text: str) -> date | None:
    m = _DATE.match(text)
    if m:
        try:
            return date(int(m.group(3)), int(m.group(2)), int(m.group(1)))
        except ValueError:
            return None
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        return None


def submit(ctx: Ctx, state: dict[str, Any]) -> dict[str, Any]:
    from bot.dialogs import notify

    data = state["data"]
    officer = ctx.officer if state["mode"] == "petugas" else None
    if state["mode"] == "petugas":
        if officer is None:
            ctx.say("bukan_petugas")
            return {}
        received_day = date.fromisoformat(data["tanggal"])
        received_at = (
            ctx.now
            if received_day == ctx.today
            else datetime.combine(received_day, time(12), tzinfo=ctx.rt.tz).astimezone(UTC)
        )
        channel = data["kanal"]
        reporter = None
        if data.get("pelapor"):
            # Someone who came in person or wrote a letter: a name, no chat account.
            reporter = Person(channel=channel, name=data["pelapor"], created_at=ctx.now)
            ctx.session.add(reporter)
        actor = Actor("petugas", officer.id, officer.name, officer.role)
    else:
        if _over_daily_limit(ctx):
            ctx.say("batas_harian", batas=ctx.office.daily_limit)
            return {}
        received_at = ctx.now
        reporter = ctx.person
        if not data.get("anonim") and ctx.caller.display_name:
            reporter.name = ctx.caller.display_name
        actor = Actor("warga", reporter.id, None, "warga")
        channel = ctx.caller.channel if ctx.caller.channel != "sandbox" else "telegram"
    draft = reg.ComplaintDraft(
        kind=data["jenis"],
        category=data["kategori"],
        desa=data["desa"],
        description=data["uraian"],
        channel=channel,
        received_at=received_at,
        anonim=bool(data.get("anonim", False)),
        rahasia=bool(data.get("rahasia", True)),
        latitude=data.get("lat"),
        longitude=data.get("lon"),
        address=data.get("alamat"),
        photos=[(p, int(s)) for p, s in data["foto"]],
    )
    complaint = reg.create_complaint(
        ctx.session,
        draft,
        reporter=reporter,
        actor=actor,
        now=ctx.now,
        policy=ctx.rt.policy,
        prefix=ctx.office.ticket_prefix,
    )
    ctx.say("lapor_terkirim", tiket=complaint.ticket, batas_verifikasi=complaint.verify_due)
    notify.new_complaint(ctx, complaint)
    return {}
