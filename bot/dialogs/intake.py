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
    local_midnight = datetime.combine(ctx.today, time(0), tzinfo=ctx.tz)
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
        ctx.say("lapor_rahasia", [Choice("Rahasia", "ya"), Choice("Tidak rahasia", "tidak")], kantor=office.name)
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
        **(_logged_by_officer(ctx, data) if state["mode"] == "petugas" else {"petugas": False}),
    }


def _logged_by_officer(ctx: Ctx, data: dict[str, Any]) -> dict[str, Any]:
    """What /catat's summary adds: how it came, when, and from whom."""
    day = date.fromisoformat(data["tanggal"])
    jam = received_time(data, ctx.today)
    if jam == "sekarang":
        jam = ctx.now.astimezone(ctx.tz).strftime("%H.%M")
    return {
        "petugas": True,
        "kanal": reg.CHANNELS.get(data.get("kanal", ""), data.get("kanal", "")),
        "tanggal": day,
        "jam": jam.replace(":", ".") if jam else None,
        "pelapor": " · ".join(x for x in (data.get("pelapor"), data.get("telepon")) if x) or None,
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
            data.pop("tambahan", None)
            return _advance(ctx, state)
        if value in ("tambah", "tidak_tambah") and data.get("tambahan"):
            extra = data.pop("tambahan")
            if value == "tambah":
                joined = f"{data['uraian']}\n{extra}"
                if len(joined) > office.max_description:
                    ctx.say("uraian_terlalu_panjang", panjang=len(joined), maks=office.max_description)
                else:
                    data["uraian"] = joined
                    ctx.say("lapor_foto", [Choice("Lanjut", "lanjut")], jumlah=len(data["foto"]),
                            maks=office.max_photos, ditambahkan=True)
                    return state
            prompt(ctx, state)
            return state
        if event.kind == "text" and event.text.strip():
            # A second message right after the description is most often more of it.
            data["tambahan"] = event.text.strip()[: office.max_description]
            ctx.say(
                "lapor_uraian_tambahan",
                [Choice("Tambahkan ke uraian", "tambah"), Choice("Tidak", "tidak_tambah"), Choice("Lanjut", "lanjut")],
                teks=data["tambahan"][:200],
            )
            return state
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
            data["jam"] = "sekarang"
            return _advance(ctx, state)
        if event.kind == "text":
            parsed, at = parse_date_time(event.text)
            if parsed is None or parsed > ctx.today:
                ctx.say("catat_tanggal_salah", teks=event.text.strip()[:40])
                return state
            data["tanggal"] = parsed.isoformat()
            data["jam"] = at.strftime("%H:%M") if at is not None else None
            return _advance(ctx, state)
        return _need(ctx, state, event, "Ketik tanggal atau pilih Hari ini.")
    if current == "pelapor":
        if value == "lewati":
            data["pelapor"], data["telepon"] = None, None
            return _advance(ctx, state)
        if event.kind == "text" and event.text.strip():
            data["pelapor"], data["telepon"] = split_name_phone(event.text)
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
    if len(_WORD.findall(text)) < MIN_DESCRIPTION_WORDS:
        # Only emoji, "tolong", "jalan rusak": officers cannot act on it; ask once more.
        ctx.say("uraian_terlalu_pendek", minimal=MIN_DESCRIPTION_WORDS)
        return state
    state["data"]["uraian"] = text
    return _advance(ctx, state)


# A description officers can act on says what and where: a few words, not emoji alone.
MIN_DESCRIPTION_WORDS = 3
_WORD = re.compile(r"[^\W\d_]{2,}")


_DATE = re.compile(r"^\s*(\d{1,2})[-/.](\d{1,2})[-/.](\d{4})\s*$")


_PHONE = re.compile(r"(?:\+?62|0)[\d\s-]{7,16}\d")
_DATE_TIME = re.compile(r"^\s*(.+?)\s+(?:jam\s+|pukul\s+)?(\d{1,2})[.:](\d{2})\s*(?:wib)?\s*$", re.IGNORECASE)


def split_name_phone(text: str) -> tuple[str | None, str | None]:
    """'Pak Slamet 0812-3456-7890' -> ('Pak Slamet', '081234567890'); either may be missing."""
    found = _PHONE.search(text)
    if found and len(re.sub(r"\D", "", found.group(0))) < 9:  # "08-12-2026" is a date
        found = None
    phone = re.sub(r"[\s-]", "", found.group(0))[:30] if found else None
    name = (text[: found.start()] + text[found.end():]) if found else text
    name = " ".join(name.replace(",", " ").split()).strip(" -/")[:200]
    return name or None, phone


def parse_date_time(text: str) -> tuple[date | None, time | None]:
    """'23-11-2026' -> (date, None): only a day; '23-11-2026 14.30' -> (date, 14:30)."""
    m = _DATE_TIME.match(text)
    if m:
        day = parse_date(m.group(1))
        hour, minute = int(m.group(2)), int(m.group(3))
        if day is not None and hour < 24 and minute < 60:
            return day, time(hour, minute)
    return parse_date(text), None


def received_time(data: dict[str, Any], today: date) -> str | None:
    """/catat's time of receipt: "sekarang" ("Hari ini"), "HH:MM" typed, None = only a day
    (a draft from before the time was asked: today is now, another day is a day only)."""
    if "jam" in data:
        return data["jam"]  # type: ignore[no-any-return]
    return "sekarang" if data["tanggal"] == today.isoformat() else None


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
        # A day without a time is kept as that day (local midnight, flagged date-only), not
        # as an invented hour; "Hari ini" and a typed time are the moment itself.
        jam = received_time(data, ctx.today)
        if jam == "sekarang":
            received_at = ctx.now
        elif jam:
            received_at = datetime.combine(received_day, time.fromisoformat(jam), tzinfo=ctx.tz).astimezone(UTC)
            received_at = min(received_at, ctx.now)
        else:
            received_at = datetime.combine(received_day, time(0), tzinfo=ctx.tz).astimezone(UTC)
        channel = data["kanal"]
        reporter = None
        if data.get("pelapor"):
            # Someone who came in person or wrote a letter: a name, no chat account.
            reporter = Person(channel=channel, name=data["pelapor"], phone=data.get("telepon"), created_at=ctx.now)
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
        policy=ctx.policy,
        prefix=ctx.office.ticket_prefix,
    )
    if state["mode"] == "petugas":
        if received_time(data, ctx.today) is None:
            complaint.received_date_only = True
        ctx.say("catat_terkirim", tiket=complaint.ticket, batas_verifikasi=complaint.verify_due)
    else:
        ctx.say("lapor_terkirim", tiket=complaint.ticket, batas_verifikasi=complaint.verify_due)
    notify.new_complaint(ctx, complaint)
    return {}
