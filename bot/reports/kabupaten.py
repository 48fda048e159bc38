# The kabupaten IKU table (issue 14): the six IKU of every kecamatan side by side, each
# kecamatan's rank and the kabupaten figure. Built from each kecamatan's own IKU table
# (bot.reports.iku_report.iku_table, run in that kecamatan's scope as of one date), so a
# kecamatan's column is exactly what its own report shows.
# Invariants:
# - The kabupaten figure pools the parts (kpi.kabupaten): ratios from summed numerators and
#   denominators, the IKM from the summed per-unsur answers, counts summed, SAKIP the mean.
# - A figure frozen for the year (iku_frozen) is used with its frozen numerator and
#   denominator; a kecamatan whose IKM is the official e-SUKMA figure cannot be pooled with
#   answers (the official sums are not known): the kabupaten IKM is then not computed and the
#   row says why, rather than mixing the two.
# - Ranks are on capaian (realisation against the kecamatan's own target, which the PK of
#   each kecamatan fixes), so kecamatan with different targets compare fairly.
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from bot.config.office import Office
from bot.reports.iku_report import IkuRow, fmt, iku_table
from bot.reports.skm_official import SOURCE_OWN
from bot.texts import render
from kpi.ikm import DEFAULT_WEIGHT
from kpi.kabupaten import (
    RatioPart,
    SkmPart,
    mean_score,
    pooled_count,
    pooled_ikm,
    pooled_ratio,
    ranks,
)

if TYPE_CHECKING:
    from storage.db import Database

NOT_POOLED_OFFICIAL = "IKM sebagian kecamatan berasal dari angka resmi e-SUKMA; tidak dapat digabung dengan jawaban"
NOT_POOLED_FROZEN = "angka sebagian kecamatan dibekukan tanpa pembilang dan penyebut"


@dataclass(frozen=True)
class KecamatanIku:
    """One kecamatan's IKU table, as its own report computed it."""

    kode: str  # Kemendagri kode wilayah, e.g. "35.09.25"
    nama: str
    rows: Sequence[IkuRow]


@dataclass(frozen=True)
class KecamatanCell:
    kode: str
    nama: str
    realisation: Decimal | None
    target: Decimal | None
    capaian: Decimal | None
    band: str | None
    rank: int | None


@dataclass(frozen=True)
class KabupatenRow:
    code: str
    name: str
    unit: str
    kind: str
    higher_is_better: bool
    cells: list[KecamatanCell]  # in the order the kecamatan were given
    kabupaten: Decimal | None
    note: str | None  # why the kabupaten figure is missing, or what it is (IKU 5)


def _ratio_part(row: IkuRow) -> RatioPart | None:
    frozen = (row.detail.get("frozen") or {}).get("ytd")
    if frozen is not None:
        if frozen.get("numerator") is None or frozen.get("denominator") is None:
            return None
        return RatioPart(frozen["numerator"], frozen["denominator"])
    nums, dens = row.detail.get("numerators") or {}, row.detail.get("denominators") or {}
    if nums.get("ytd") is None or dens.get("ytd") is None:
        return RatioPart(0, 0)
    return RatioPart(nums["ytd"], dens["ytd"])


def _skm_part(row: IkuRow) -> SkmPart | None:
    if (row.detail.get("nilai_sumber") or {}).get("ytd", SOURCE_OWN) != SOURCE_OWN or "ytd" in (row.detail.get("frozen") or {}):
        return None
    unsur: dict[str, Any] | None = row.detail.get("unsur_ytd")
    if unsur is None:
        return SkmPart()
    return SkmPart(unsur["sums"], unsur["counts"])


def _pooled(code: str, kind: str, rows: list[IkuRow], weight: Any) -> tuple[Decimal | None, str | None]:
    if code == "IKU-2":
        skm_parts = [_skm_part(r) for r in rows]
        if any(p is None for p in skm_parts):
            return None, NOT_POOLED_OFFICIAL
        result = pooled_ikm([p for p in skm_parts if p is not None], weight)
        return (None if result is None else result.konversi), None
    if kind == "rasio":
        ratio_parts = [_ratio_part(r) for r in rows]
        if any(p is None for p in ratio_parts):
            return None, NOT_POOLED_FROZEN
        return pooled_ratio([p for p in ratio_parts if p is not None]), None
    if kind == "jumlah":
        values = [r.realisation.get("ytd") for r in rows]
        return Decimal(pooled_count([None if v is None else int(v) for v in values])), None
    # "nilai" other than the IKM: the SAKIP score, one per OPD.
    mean, n = mean_score([r.realisation.get("ytd") for r in rows])
    return mean, (f"rata-rata nilai {n} kecamatan" if n else None)


def kabupaten_table(items: Sequence[KecamatanIku], weight: Any = DEFAULT_WEIGHT) -> list[KabupatenRow]:
    """The roll-up of the kecamatan IKU tables, one row per IKU code in the order of the first
    kecamatan's table. Every kecamatan must carry the same codes (the same decree shape)."""
    if not items:
        return []
    codes = [r.code for r in items[0].rows]
    for item in items:
        if [r.code for r in item.rows] != codes:
            raise ValueError(f"IKU {item.nama} tidak sama dengan IKU {items[0].nama}: {[r.code for r in item.rows]}")
    out: list[KabupatenRow] = []
    for i, code in enumerate(codes):
        rows = [item.rows[i] for item in items]
        first = rows[0]
        rank_of = ranks({item.kode: item.rows[i].capaian for item in items})
        figure, note = _pooled(code, first.kind, rows, weight)
        out.append(KabupatenRow(
            code=code, name=first.name, unit=first.unit, kind=first.kind,
            higher_is_better=first.higher_is_better,
            cells=[
                KecamatanCell(item.kode, item.nama, row.realisation.get("ytd"), row.target, row.capaian,
                              row.band, rank_of[item.kode])
                for item, row in zip(items, rows, strict=True)
            ],
            kabupaten=figure, note=note,
        ))
    return out


def kecamatan_tables(db: Database, offices: Mapping[str, Office], year: int, as_of: date) -> list[KecamatanIku]:
    """Each kecamatan's own IKU table as of `as_of`, each read in its own scope and its own
    transaction (storage/tenancy.py), in the order of `offices`: what `sigap iku report
    --kabupaten` and the dashboard's kabupaten page both pool, so they show the same figures."""
    items = []
    for kode, office in offices.items():
        with db.reading(kode) as session:
            items.append(KecamatanIku(kode, office.kecamatan, iku_table(session, office, year, as_of)))
    return items


def by_rank(row: KabupatenRow) -> list[KecamatanCell]:
    """The kecamatan of one IKU best first; those without a figure last, by name."""
    return sorted(row.cells, key=lambda c: (c.rank is None, c.rank or 0, c.nama))


def kabupaten_text(rows: Sequence[KabupatenRow], kabupaten: str, year: int, as_of: date) -> str:
    """The roll-up as chat HTML (the terminal strips it with bot.texts.to_plain)."""
    return render("iku_kabupaten", baris=rows, kabupaten=kabupaten, tahun=year, per=as_of, urut=by_rank, fmt=fmt)


__all__ = ["KabupatenRow", "KecamatanCell", "KecamatanIku", "by_rank", "kabupaten_table", "kabupaten_text",
           "kecamatan_tables"]
