# The weekly kabupaten digest (issue 14): every kecamatan's six IKU side by side, as of the
# last day of the ISO week, for the kabupaten chat (SIGAP_KABUPATEN_CHAT).
# Invariants: each kecamatan's table is built in its own read transaction and scope
# (db.reading(kode)) from its own office file, as `sigap iku report --kabupaten --per <Sunday>`
# builds it, so the digest and the report show the same figures; the year is the ISO
# week-year and the date the week's Sunday, as the kecamatan digest's IKU section.
# - One message per IKU (31 kecamatan make ~2 000 characters an IKU; all six in one would pass
#   Telegram's 4 096), each with the table's heading so it reads on its own, the first under
#   the digest's heading; a part still too long is cut between lines. The number of parts
#   follows the IKU of the office file, not the figures, so a retry sends the same parts.
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from markupsafe import Markup

from bot.config.office import Office
from bot.reports.iku_report import iku_table
from bot.reports.kabupaten import KecamatanIku, kabupaten_table, kabupaten_text
from bot.texts import render, to_plain
from kpi.ikm import weight_from_setting
from kpi.periods import Period
from storage.db import Database

# Telegram's limit for one message's text, counted after entity parsing; the HTML tags count
# here too, so the cut is on the safe side.
MESSAGE_LIMIT = 4096


@dataclass(frozen=True)
class KabupatenDigest:
    week: Period
    as_of: date
    kecamatan: tuple[str, ...]  # kode wilayah, in the order shown
    parts: tuple[str, ...]  # Telegram HTML, one message each

    @property
    def text(self) -> str:
        return "\n\n".join(self.parts)

    @property
    def plain(self) -> str:
        return to_plain(self.text)


def split_long(text: str, limit: int = MESSAGE_LIMIT) -> list[str]:
    """`text` in pieces of at most `limit` characters, cut between lines (a line longer than
    the limit, which these tables never have, is cut where it must be)."""
    pieces: list[str] = []
    current = ""
    for line in text.split("\n"):
        while len(line) > limit:
            if current:
                pieces.append(current)
                current = ""
            pieces.append(line[:limit])
            line = line[limit:]
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) > limit:
            pieces.append(current)
            current = line
        else:
            current = candidate
    if current.strip():
        pieces.append(current)
    return [p.strip("\n") for p in pieces if p.strip()]


def kecamatan_tables(db: Database, offices: Mapping[str, Office], year: int, as_of: date) -> list[KecamatanIku]:
    """Each kecamatan's IKU table as of `as_of`, each in its own scope."""
    items = []
    for kode, office in offices.items():
        with db.reading(kode) as session:
            items.append(KecamatanIku(kode, office.kecamatan, iku_table(session, office, year, as_of)))
    return items


def build_kabupaten_digest(db: Database, offices: Mapping[str, Office], week: Period) -> KabupatenDigest:
    _check(offices, week)
    return digest_of(offices, week, kecamatan_tables(db, offices, week.year, week.last_day()))


def _check(offices: Mapping[str, Office], week: Period) -> None:
    if week.kind != "week":
        raise ValueError(f"Ringkasan mingguan memerlukan periode minggu, bukan {week}")
    if not offices:
        raise ValueError("Ringkasan kabupaten memerlukan sedikitnya satu berkas kantor")


def digest_of(offices: Mapping[str, Office], week: Period, tables: list[KecamatanIku]) -> KabupatenDigest:
    """The digest's messages from each kecamatan's table as of the week's Sunday, however
    they were read (the job: a read transaction each; /iku kabupaten in chat: the deferred
    view's session, scoped to each in turn)."""
    _check(offices, week)
    first = next(iter(offices.values()))
    as_of = week.last_day()
    rows = kabupaten_table(tables, weight_from_setting(first.skm_weight))
    parts: list[str] = []
    for i, row in enumerate(rows):
        body = kabupaten_text([row], first.kabupaten, week.year, as_of)
        if i == 0:
            body = render(
                "digest_kabupaten", kabupaten=first.kabupaten, minggu=week.label(), awal=week.first_day(),
                akhir=as_of, jumlah=len(offices), isi=Markup(body),  # our own rendered (escaped) template
            )
        parts += split_long(body)
    return KabupatenDigest(week, as_of, tuple(offices), tuple(parts))


__all__ = ["KabupatenDigest", "build_kabupaten_digest", "digest_of", "kecamatan_tables"]
