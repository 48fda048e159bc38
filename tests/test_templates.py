# The message templates render with trim_blocks: the newline right after a block tag is
# dropped. A tag closing a line of text therefore glues that line to the next one
# ("Laporan: 0Jawaban survei ...", cards whose history entries ran together). Such a tag
# must be written `+%}` to keep its newline. This test finds every place that forgets it.
from __future__ import annotations

import html
import re
from pathlib import Path

import bot
from bot.texts import render

TEMPLATES = Path(bot.__file__).parent / "templates"
# Any block tag (opening ones too: `...</b>{% if catatan %}` ate the line break of the
# status notice) ending a line of text, unless written `+%}`.
CLOSING_TAG = re.compile(r"\{%-?\s*(if|elif|else|endif|for|endfor|set|endset)\b[^%]*[^+]%\}$")
# Lines of tags only, or a macro call followed by tags (the macro ends its own lines).
TAG_ONLY = re.compile(r"^\s*(\{%[^%]*%\}\s*)+$|^\s*\{\{[^}]*\}\}(\{%[^%]*%\})+$")


def test_no_text_line_loses_its_newline_to_a_block_tag() -> None:
    glued = []
    for path in sorted(TEMPLATES.glob("*.j2")):
        lines = path.read_text(encoding="utf-8").split("\n")
        for number, (line, following) in enumerate(zip(lines, lines[1:], strict=False), 1):
            if CLOSING_TAG.search(line) and not TAG_ONLY.match(line) and following.strip():
                glued.append(f"{path.name}:{number}")
    assert glued == []


def test_officer_list_has_one_officer_per_line() -> None:
    class Row:
        def __init__(self, tid: int, role: str, name: str, active: bool) -> None:
            self.telegram_id, self.role, self.name, self.active = tid, role, name, active

    text = render("petugas_daftar", petugas=[Row(1, "admin", "Ani", True), Row(2, "petugas", "Budi", False)])
    assert text.splitlines()[1:3] == ["1 · admin · Ani", "2 · petugas · Budi (nonaktif)"]


# --- Every template rendered with sample data, read as a person reads it ------------------
# A generic sample value stands in for whatever a template is given: truthy (every {% if %}
# branch and two loop items) or falsy (every {% else %} branch, empty loops). It renders as
# a lower-case word, so a line glued to the next one shows up as "contohStatus" or
# "</b>Catatan". Hand-written contexts below add the branches that depend on real values
# (a status, a number).
import datetime as _dt  # noqa: E402
from types import SimpleNamespace as NS  # noqa: E402
from typing import Any  # noqa: E402

import pytest  # noqa: E402
from jinja2 import Undefined  # noqa: E402

from bot import texts  # noqa: E402


class Sample:
    def __init__(self, truthy: bool = True) -> None:
        self._truthy = truthy

    def __str__(self) -> str:
        return "contoh"

    def __html__(self) -> str:
        return "contoh"

    def __bool__(self) -> bool:
        return self._truthy

    def __getattr__(self, name: str) -> Sample:
        if name.startswith("__"):
            raise AttributeError(name)
        return Sample(self._truthy)

    def __getitem__(self, key: object) -> Sample:
        return Sample(self._truthy)

    def __call__(self, *args: object, **kwargs: object) -> Sample:
        return Sample(self._truthy)

    def __iter__(self) -> Any:
        return iter([Sample(self._truthy), Sample(self._truthy)] if self._truthy else [])

    def __len__(self) -> int:
        return 2 if self._truthy else 0

    def __float__(self) -> float:
        return 1.5

    def __int__(self) -> int:
        return 1

    def _num(self, *other: object) -> Sample:
        return Sample(self._truthy)

    __add__ = __radd__ = __sub__ = __rsub__ = __mul__ = __rmul__ = __mod__ = __neg__ = _num
    __truediv__ = __rtruediv__ = _num

    def _cmp(self, other: object) -> bool:
        return self._truthy

    __lt__ = __le__ = __gt__ = __ge__ = _cmp
    __hash__ = object.__hash__


class SampleUndefined(Undefined):
    """A name the template uses and the sample context lacks: a Sample (truthy)."""

    def __str__(self) -> str:
        return "contoh"


def _filter(real: Any, sample_text: str) -> Any:
    def f(value: Any, *args: Any) -> Any:
        return sample_text if isinstance(value, Sample | Undefined) else real(value, *args)

    return f


def _sample_environment() -> Any:
    env = texts.environment().overlay()
    env.filters.update(
        waktu=_filter(texts.waktu, "30 Nov 2026 14.05 WIB"),
        tanggal=_filter(texts.tanggal, "Senin, 30 November 2026"),
        tanggal_pendek=_filter(texts.tanggal_pendek, "30 Nov 2026"),
        angka=_filter(texts.angka, "88,31"),
        status=_filter(texts.status_label, "diproses"),
    )
    return env


AT = _dt.datetime(2026, 11, 30, 7, 5, tzinfo=_dt.UTC)


def _complaint(status: str, **extra: Any) -> NS:
    base: dict[str, Any] = dict(
        ticket="TRB-2026-00017", status=status, desa="Jelbuk", received_at=AT, rahasia=False,
        forwarded_to="Dinas PU Bina Marga", duplicate_of="TRB-2026-00011", verify_due=AT.date(),
        followup_due=AT.date(), address="Jl. Raya Jelbuk", latitude=-8.1, longitude=113.7,
        description="Jalan berlubang di depan SD.",
        resolve_due=AT.date(), current_due=AT.date(), postponed_until=None,  # deadline clock (A)
    )
    base.update(extra)
    return NS(**base)


def _history(note: str | None, internal: str | None) -> list[NS]:
    return [
        NS(at=AT, to_status="diterima", actor_name=None, public_note=None, internal_note=None),
        NS(at=AT, to_status="diproses", actor_name="Budi", public_note=note, internal_note=internal),
        NS(at=AT, to_status="selesai", actor_name="Budi", public_note="Sudah ditambal", internal_note=None),
    ]


CONTEXTS: dict[str, list[dict[str, Any]]] = {
    "notif_status": [
        dict(c=_complaint(s), catatan=n)
        for s in ("ditindaklanjuti", "selesai", "diteruskan", "duplikat", "ditolak")
        for n in (None, "Tim berangkat besok")
    ],
    "status_detail": [
        dict(c=_complaint("selesai"), kategori="Jalan", riwayat=_history(n, None)) for n in (None, "Dicek")
    ],
    "kartu": [
        dict(c=_complaint("diproses"), status="Diproses", terlambat=t, jenis="Pengaduan", kategori="Jalan",
             kanal="Telegram", jumlah_foto=f, pelapor=p, riwayat=r, gagal_kirim=g, diblokir=b)
        for t, f, p, r, g, b in (
            (False, 0, None, [], 0, False),
            (True, 2, "Siti · 0812", _history("Dicek", "Koordinasi"), 1, True),
            (False, 0, "Siti", _history(None, None), 1, False),
            (False, 0, None, [], 2, False),
        )
    ],
    "datasaya": [
        dict(kanal="Telegram", akun="42", nama=n, telepon=None, jumlah=len(t), tiket=t, survei=s)
        for n, t, s in ((None, [], 0), ("Siti", ["TRB-2026-00017", "TRB-2026-00018"], 2))
    ],
    "retensi_ringkasan": [
        dict(uji=u, baris=[("Identitas pelapor", 3, ["TRB-2026-00017"]), ("Foto", 0, [])]) for u in (True, False)
    ],
}

# Words whose inner capital is part of the word, not a glued line.
CAMEL_CASE = {"WhatsApp", "PermenPANRB", "KemenPANRB", "MenPANRB"}
GLUED = re.compile(r"(?:[a-z.)]|</[a-z]+>)([A-Z][A-Za-z]*)")


def _glued(text: str) -> list[str]:
    found = []
    for m in GLUED.finditer(text):
        start = m.start()
        word_start = start
        while word_start > 0 and text[word_start - 1].isalpha():
            word_start -= 1
        if text[word_start : m.end()] not in CAMEL_CASE:
            found.append(text[max(0, start - 25) : m.end() + 5])
    return found


def _renderings(name: str) -> list[str]:
    env = _sample_environment()
    template = env.get_template(f"{name}.j2")
    source = env.loader.get_source(env, f"{name}.j2")[0]  # type: ignore[union-attr]
    from jinja2 import meta

    names = meta.find_undeclared_variables(env.parse(source))
    out = []
    for truthy in (True, False):
        try:
            out.append(template.render({n: Sample(truthy) for n in names}))
        except (TypeError, ValueError):
            if name not in CONTEXTS:  # a shape the generic sample cannot take: write a context
                raise
    for ctx in CONTEXTS.get(name, []):
        out.append(template.render({**{n: Sample(True) for n in names}, **ctx}))
    return out


@pytest.mark.parametrize("name", sorted(p.stem for p in TEMPLATES.glob("*.j2")))
def test_every_template_reads_without_glued_lines(name: str) -> None:
    glued = [g for text in _renderings(name) for g in _glued(text)]
    assert glued == [], f"{name}.j2 glues lines: {glued}"


def test_sample_renderings_show_each_branch() -> None:
    """The hand-written contexts reach the lines they are there for (the test can fail)."""
    texts_ = "\n---\n".join(_renderings("notif_status"))
    assert "Status sekarang: <b>Selesai</b>\nCatatan petugas: Tim berangkat besok\n\nApakah" in texts_
    assert "Status sekarang: <b>Diteruskan ke instansi lain</b>\nDiteruskan ke: Dinas PU Bina Marga" in texts_
    forwarded = render("notif_status", c=_complaint("diteruskan"), catatan="Diteruskan ke Dinas PU Bina Marga")
    assert forwarded.count("Dinas PU Bina Marga") == 1 and "Catatan petugas" not in forwarded
    assert "Catatan petugas: Tim berangkat besok\nDiteruskan ke: Dinas PU Bina Marga" in texts_
    assert _glued("Status sekarang: <b>Selesai</b>Catatan petugas: x") != []
    assert _glued("tidak terkirimStatus") != []
    assert _glued("Ketik di WhatsApp: Status") == []


@pytest.mark.parametrize("name", sorted(p.stem for p in TEMPLATES.glob("*.j2")))
def test_no_template_prints_a_macro_or_an_object(name: str) -> None:
    # A value named like an imported macro is shadowed by it: "Perintah /<Macro 'perintah'>"
    # reached residents. Neither that nor a Python object's repr may ever be printed.
    for text in map(html.unescape, _renderings(name)):
        assert "<Macro " not in text and " object at 0x" not in text, f"{name}.j2: {text[:200]}"


def test_an_unknown_command_is_named_back() -> None:
    text = render("perintah_tidak_dikenal", nama_perintah="kasuss", kanal_pembaca="telegram")
    assert text.startswith("Perintah /kasuss tidak dikenal. Ketik /start")
