# Chat commands for the IKU: /iku shows the table; /iku_target, /iku_dokumen, /iku_kegiatan,
# /iku_sakip and /iku_program enter and correct the registers, one line each; /skm_resmi
# records the official e-SUKMA IKM (IKU 2, bot.dialogs.skm_official_command), same roles.
# Invariants: only registered officers are answered. Roles (README, "IKU"): every officer
# role may read (/iku, the lists, riwayat); only admin sets targets (they come from the signed
# Perjanjian Kinerja); koordinator, pimpinan and admin enter the registers (the Camat and
# Sekcam are responsible for IKU 1, 5 and 6; petugas handle complaints, not reports).
# A refused or malformed command records nothing and answers with the reason and the
# command's format. Every entry records "<officer name> (telegram <id>)" as recorded_by.
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bot.dialogs import deferred
from bot.dialogs.context import Ctx
from bot.dialogs.dashboard_command import kabupaten_reader
from bot.dialogs.kecamatan import scoped
from bot.dialogs.skm_official_command import skm_official_command
from bot.reports import iku_report as rep
from bot.reports.kabupaten import KecamatanIku
from bot.reports.kabupaten_digest import digest_of
from kpi import periods
from storage import iku
from storage.iku import RegisterError
from storage.lifecycle import OFFICER_ROLES
from storage.models import IkuActivity, IkuDocument, IkuTarget, ProgramIndicator, SakipScore

COMMANDS = ("iku", "iku_target", "iku_dokumen", "iku_kegiatan", "iku_sakip", "iku_program", "skm_resmi")
READ_ROLES = OFFICER_ROLES
TARGET_ROLES = ("admin",)
ENTRY_ROLES = ("koordinator", "pimpinan", "admin")
# A chat message holds about 4000 characters: lists show the newest entries only.
LIST_LIMIT = 25

_REGISTER_OF: dict[str, tuple[str, Any]] = {
    "iku_target": ("target", IkuTarget),
    "iku_dokumen": ("dokumen", IkuDocument),
    "iku_kegiatan": ("kegiatan", IkuActivity),
    "iku_sakip": ("sakip", SakipScore),
    "iku_program": ("program", ProgramIndicator),
}


def _who(ctx: Ctx) -> str:
    officer = ctx.officer
    assert officer is not None
    return f"{officer.name} (telegram {officer.telegram_id})"


def _pipes(text: str, n_min: int, n_max: int) -> list[str]:
    parts = [p.strip() for p in text.split("|")]
    if not n_min <= len(parts) <= n_max or any(not p for p in parts[:n_min]):
        raise RegisterError("Isian perintah tidak lengkap.")
    return parts + [""] * (n_max - len(parts))


def _optional(text: str) -> str | None:
    return None if text.strip() in ("", "-") else text.strip()


def _say(ctx: Ctx, template: str, **values: Any) -> None:
    ctx.say(template, **{**rep.base_context(), **values})


def _recorded(ctx: Ctx, jenis: str, entry: Any, removed: bool = False, aksi: str = "catat") -> None:
    _say(ctx, "iku_tercatat", aksi="hapus" if removed else aksi, jenis=jenis, e=entry)


def handle(ctx: Ctx, name: str, args: str) -> None:
    if name == "iku" and args.split(maxsplit=1)[:1] == ["kabupaten"]:
        kabupaten_table(ctx, args.split(maxsplit=1)[1] if len(args.split(maxsplit=1)) > 1 else "")
        return
    officer = ctx.officer
    if officer is None:
        ctx.say("bukan_petugas")
        return
    if name == "iku" or args.split(maxsplit=1)[:1] == ["riwayat"]:
        allowed: tuple[str, ...] = READ_ROLES
    elif name == "iku_target" and args.strip():
        allowed = TARGET_ROLES
    elif args.strip():
        allowed = ENTRY_ROLES
    else:
        allowed = READ_ROLES  # no arguments: the list and the format, for every officer
    if officer.role not in allowed:
        ctx.say("iku_peran", perintah=name, peran=list(allowed), peran_anda=officer.role)
        return
    # What only reads (the table, the lists, riwayat) is built by the delivery, outside the
    # write batch (bot/dialogs/deferred.py); entries are written here, in the step.
    if name != "skm_resmi" and allowed is READ_ROLES and deferred.defer(ctx, "iku", f"{name} {args}"):
        return
    try:
        _HANDLERS[name](ctx, args.strip())
    except RegisterError as exc:
        _say(ctx, "iku_galat", pesan=str(exc), perintah=name)


def show_table(ctx: Ctx, args: str) -> None:
    # /iku [TAHUN [TANGGAL]]: the table as of TANGGAL (default today), like `--per`.
    parts = args.split()
    if len(parts) > 2:
        raise RegisterError("Format: /iku [TAHUN [TTTT-BB-HH]].")
    year = rep.parse_year(parts[0]) if parts else ctx.today.year
    as_of = ctx.today
    if len(parts) == 2:
        as_of = rep.check_not_future(rep.parse_date(parts[1], "Tanggal keadaan"), ctx.today, "Tanggal keadaan")
    rows = rep.iku_table(ctx.session, ctx.office, year, as_of)
    _say(ctx, "iku_tabel", **rep.report_context(rows, ctx.office, year, as_of))


def is_kabupaten_chat(ctx: Ctx) -> bool:
    """Who reads every kecamatan's IKU in chat: the chat SIGAP_KABUPATEN_CHAT names (the chat
    the kabupaten digest goes to), whoever in it asks, and in their own private chat a
    kabupaten reader registered with `sigap kabupaten pembaca tambah` (the same people the
    kabupaten dashboard lets in, so the two views have one list of readers). Officers of a
    kecamatan read their own kecamatan only, whatever their role."""
    if ctx.caller.channel not in ("telegram", "sandbox"):
        return False
    chat = ctx.rt.kabupaten_chat
    if chat is not None and ctx.caller.chat_id == str(chat):
        return True
    return ctx.caller.private and kabupaten_reader(ctx) is not None


def kabupaten_table(ctx: Ctx, args: str) -> None:
    """/iku kabupaten [TTTT-BB-HH]: the kabupaten digest of the last whole week (or of the
    whole week holding that date), the very messages the weekly digest posts, built by the
    delivery outside the write batch; to the kabupaten chat only."""
    if not is_kabupaten_chat(ctx):
        ctx.say("iku_kabupaten_bukan")
        return
    if deferred.defer(ctx, "iku", f"iku kabupaten {args}".rstrip()):
        return
    last_whole = periods.previous(periods.period_of_date("week", ctx.today))
    week = last_whole
    if args.strip():
        try:
            day = rep.parse_date(args.strip(), "Tanggal")
        except RegisterError as exc:
            ctx.say("iku_kabupaten_format", pesan=str(exc))
            return
        week = periods.period_of_date("week", day)
        if week.last_day() > last_whole.last_day():
            ctx.say("iku_kabupaten_format", pesan="Minggu itu belum selesai.")
            return
    tables = []
    for kode, office in ctx.rt.offices.items():
        # Each kecamatan's table in its own scope, as the weekly job reads each in its own
        # transaction: the same figures as the digest and `sigap iku report --kabupaten`.
        with scoped(ctx.session, kode):
            tables.append(KecamatanIku(kode, office.kecamatan, rep.iku_table(ctx.session, office, week.year,
                                                                             week.last_day())))
    for part in digest_of(ctx.rt.offices, week, tables).parts:
        ctx.send_to(ctx.caller.channel, ctx.caller.chat_id, part)


def _generic(ctx: Ctx, name: str, args: str) -> bool:
    """hapus / riwayat, the same for every register; True when handled."""
    jenis, model = _REGISTER_OF[name]
    word, _, rest = args.partition(" ")
    if word.lower() == "hapus":
        entry_id, _, reason = rest.strip().partition(" ")
        entry = iku.remove(ctx.session, model, rep.parse_id(entry_id), _who(ctx), ctx.now, _optional(reason))
        _recorded(ctx, jenis, entry, removed=True)
        return True
    if word.lower() == "riwayat":
        number = rep.parse_id(rest)
        _say(ctx, "iku_riwayat", jenis=jenis, nomor=number, entri=iku.history(ctx.session, model, number))
        return True
    return False


def _list(ctx: Ctx, name: str, title: str, entries: list[Any]) -> None:
    jenis, _ = _REGISTER_OF[name]
    _say(ctx, "iku_daftar", judul=title, jenis=jenis, entri=entries[-LIST_LIMIT:])
    _say(ctx, "iku_format", perintah=name)


def target(ctx: Ctx, args: str) -> None:
    if not args:
        year = ctx.today.year
        _say(ctx, "iku_target_daftar", tahun=year, target=rep.target_list(ctx.session, ctx.office, year))
        _say(ctx, "iku_format", perintah="iku_target")
        return
    if _generic(ctx, "iku_target", args):
        return
    parts = args.split()
    if len(parts) != 3:
        raise RegisterError("Perintah target perlu KODE, TAHUN dan NILAI.")
    code = rep.check_code(ctx.office, parts[0])
    entry = iku.set_target(ctx.session, code, rep.parse_year(parts[1]), rep.parse_decimal(parts[2], "Target"),
                           _who(ctx), ctx.now)
    _recorded(ctx, "target", entry)


def _document_values(ctx: Ctx, text: str) -> dict[str, Any]:
    jenis, judul, nomor, tanggal = _pipes(text, 4, 4)
    when = rep.parse_date(tanggal, "Tanggal dokumen")
    return {
        "doc_type": rep.check_doc_type(jenis), "title": judul, "number": _optional(nomor),
        "doc_date": rep.check_not_future(when, ctx.today, "Tanggal dokumen"),
    }


def dokumen(ctx: Ctx, args: str) -> None:
    if not args:
        _list(ctx, "iku_dokumen", f"Dokumen IKU 1 tahun {ctx.today.year}",
              iku.current(ctx.session, IkuDocument, ctx.today.year))
        return
    if _generic(ctx, "iku_dokumen", args):
        return
    word, _, rest = args.partition(" ")
    if word.lower() == "koreksi":
        entry_id, _, text = rest.strip().partition(" ")
        values = _document_values(ctx, text)
        entry = iku.correct(ctx.session, IkuDocument, rep.parse_id(entry_id), values, _who(ctx), ctx.now)
    else:
        entry = iku.add(ctx.session, IkuDocument, _document_values(ctx, args), _who(ctx), ctx.now)
    _recorded(ctx, "dokumen", entry)


def kegiatan(ctx: Ctx, args: str) -> None:
    if not args:
        _list(ctx, "iku_kegiatan", f"Kegiatan pemberdayaan (IKU 3) tahun {ctx.today.year}",
              iku.current(ctx.session, IkuActivity, ctx.today.year))
        return
    if _generic(ctx, "iku_kegiatan", args):
        return
    word, _, rest = args.partition(" ")
    word = word.lower()
    if word == "tambah":
        year_text, _, text = rest.strip().partition(" ")
        nama, rencana = _pipes(text.lstrip("| "), 1, 2)
        planned = _optional(rencana)
        values: dict[str, Any] = {
            "year": rep.parse_year(year_text), "name": nama,
            "planned_on": rep.parse_date(planned, "Tanggal rencana") if planned else None,
        }
        entry = iku.add(ctx.session, IkuActivity, values, _who(ctx), ctx.now)
    elif word == "fasilitasi":
        entry_id, _, text = rest.strip().partition(" ")
        tanggal, bukti = _pipes(text, 2, 2)
        done = rep.check_not_future(rep.parse_date(tanggal, "Tanggal pelaksanaan"), ctx.today, "Tanggal pelaksanaan")
        entry = iku.facilitate(ctx.session, rep.parse_id(entry_id), done, bukti, _who(ctx), ctx.now)
        # A new version of the entry, but to the officer a record of the work, not a correction.
        _recorded(ctx, "kegiatan", entry, aksi="fasilitasi")
        return
    elif word == "koreksi":
        entry_id, _, text = rest.strip().partition(" ")
        nama, rencana = _pipes(text, 1, 2)
        planned = _optional(rencana)
        changes = {"name": nama, "planned_on": rep.parse_date(planned, "Tanggal rencana") if planned else None}
        entry = iku.correct(ctx.session, IkuActivity, rep.parse_id(entry_id), changes, _who(ctx), ctx.now)
    else:
        raise RegisterError(f"Tindakan {word!r} tidak dikenal untuk kegiatan.")
    _recorded(ctx, "kegiatan", entry)


def sakip(ctx: Ctx, args: str) -> None:
    if not args:
        _list(ctx, "iku_sakip", "Nilai SAKIP (IKU 5)", iku.current(ctx.session, SakipScore))
        return
    if _generic(ctx, "iku_sakip", args):
        return
    head, lhe_number, lhe_date = _pipes(args, 3, 3)
    words = head.split()
    if len(words) != 2:
        raise RegisterError("Awali dengan TAHUN dan NILAI, contoh 2026 72,5.")
    entry = iku.set_sakip(ctx.session, rep.parse_year(words[0]), rep.parse_decimal(words[1], "Nilai SAKIP"),
                          lhe_number, rep.parse_date(lhe_date, "Tanggal LHE"), _who(ctx), ctx.now)
    _recorded(ctx, "sakip", entry)


def _program_values(text: str) -> dict[str, Any]:
    program, nama, satuan, target_text, arah = _pipes(text, 4, 5)
    return {
        "program": program, "name": nama, "unit": satuan,
        "target": rep.parse_decimal(target_text, "Target"),
        "higher_is_better": rep.parse_direction(arah) if arah else True,
    }


def program(ctx: Ctx, args: str) -> None:
    if not args:
        _list(ctx, "iku_program", f"Indikator program (IKU 6) tahun {ctx.today.year}",
              iku.current(ctx.session, ProgramIndicator, ctx.today.year))
        return
    if _generic(ctx, "iku_program", args):
        return
    word, _, rest = args.partition(" ")
    word = word.lower()
    if word == "tambah":
        year_text, _, text = rest.strip().partition(" ")
        values = {"year": rep.parse_year(year_text), **_program_values(text.lstrip("| "))}
        entry = iku.add(ctx.session, ProgramIndicator, values, _who(ctx), ctx.now)
    elif word == "realisasi":
        parts = rest.split()
        if len(parts) != 2:
            raise RegisterError("Perintah realisasi perlu NOMOR_ENTRI dan NILAI.")
        entry = iku.correct(ctx.session, ProgramIndicator, rep.parse_id(parts[0]),
                            {"realisation": rep.parse_decimal(parts[1], "Realisasi")}, _who(ctx), ctx.now)
    elif word == "koreksi":
        entry_id, _, text = rest.strip().partition(" ")
        entry = iku.correct(ctx.session, ProgramIndicator, rep.parse_id(entry_id), _program_values(text),
                            _who(ctx), ctx.now)
    else:
        raise RegisterError(f"Tindakan {word!r} tidak dikenal untuk indikator program.")
    _recorded(ctx, "program", entry)


_HANDLERS: dict[str, Callable[[Ctx, str], None]] = {
    "iku": show_table,
    "iku_target": target,
    "iku_dokumen": dokumen,
    "iku_kegiatan": kegiatan,
    "iku_sakip": sakip,
    "iku_program": program,
    "skm_resmi": lambda ctx, args: skm_official_command(ctx, args, _who(ctx)),
}
