# The register of official IKM figures: the IKM of a survey period as published in e-SUKMA
# (SUKMA-e Jatim), where the decree says the IKM is input and processed. IKU 2 uses it when
# a period has one; SIGAP's own figure is shown beside it.
# Invariants:
# - Like the IKU registers (storage.iku, storage.models.Corrected): entries are never edited
#   in place. Setting a period's figure again is a correction (a new row replaces the current
#   one, which is stamped superseded_at); a withdrawal is a tombstone row with removed_at.
#   Who, when and why (note) are kept on every row.
# - At most one current entry per period code (a partial unique index), even with two
#   officers entering at once: the loser of the first insert retries as a correction.
# - The value is the converted IKM (25-100) exactly as typed (Decimal, stored as text).
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import ColumnElement, and_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from storage.iku import RegisterError
from storage.models import SkmOfficial

MIN_VALUE, MAX_VALUE = Decimal(25), Decimal(100)
DOCUMENT_LIMIT = 200
FIELDS = ("period", "value", "respondents", "document")


@dataclass(frozen=True)
class OfficialFigure:
    """What the IKU table needs from a current entry."""

    id: int
    period: str
    value: Decimal
    respondents: int
    document: str
    recorded_by: str
    recorded_at: datetime


def _live() -> ColumnElement[bool]:
    return and_(SkmOfficial.superseded_at.is_(None), SkmOfficial.removed_at.is_(None))


def _validate(period: str, value: Decimal, respondents: int, document: str) -> tuple[str, str]:
    period = period.strip().upper()
    if not period or len(period) > 10:
        raise RegisterError(f"Kode periode tidak sah: {period!r}.")
    if not isinstance(value, Decimal) or not value.is_finite():
        raise RegisterError(f"Nilai IKM harus berupa angka, bukan {value!r}.")
    if not MIN_VALUE <= value <= MAX_VALUE:
        raise RegisterError("Nilai IKM resmi adalah nilai konversi 25-100 (contoh 84,12), "
                            f"bukan {value}.")
    if isinstance(respondents, bool) or not isinstance(respondents, int) or respondents < 1:
        raise RegisterError(f"Jumlah responden harus bilangan bulat positif, bukan {respondents!r}.")
    document = (document or "").strip()
    if not document:
        raise RegisterError("Dokumen sumber (nomor atau judul laporan e-SUKMA) wajib diisi.")
    if len(document) > DOCUMENT_LIMIT:
        raise RegisterError(f"Dokumen sumber terlalu panjang (paling banyak {DOCUMENT_LIMIT} karakter).")
    return period, document


def _current_row(session: Session, period: str, *, lock: bool = False) -> SkmOfficial | None:
    stmt = select(SkmOfficial).where(_live(), SkmOfficial.period == period).order_by(SkmOfficial.id.desc())
    if lock:
        stmt = stmt.with_for_update()
    return session.scalars(stmt).first()


def set_official(session: Session, period: str, value: Decimal, respondents: int, document: str,
                 who: str, now: datetime, note: str | None = None) -> SkmOfficial:
    """Record the official figure of `period`; a correction of the current one if any."""
    period, document = _validate(period, value, respondents, document)
    who = who.strip()[:200]
    if not who:
        raise RegisterError("Pencatat wajib diketahui.")
    values = {"period": period, "value": value, "respondents": respondents, "document": document}
    for _ in range(20):
        old = _current_row(session, period, lock=True)
        if old is None:
            try:
                with session.begin_nested():
                    row = SkmOfficial(**values, recorded_by=who, recorded_at=now, note=(note or None))
                    session.add(row)
                    session.flush()
                    return row
            except IntegrityError:
                continue  # someone else's first entry won: correct it instead
        if all(getattr(old, f) == v for f, v in values.items()):
            raise RegisterError("Tidak ada yang berubah; koreksi tidak dicatat.")
        old.superseded_at = now
        session.flush()  # the old row stops being current before the new one is (unique index)
        row = SkmOfficial(**values, recorded_by=who, recorded_at=now, note=(note or None),
                          replaces_id=old.id)
        session.add(row)
        session.flush()
        return row
    raise RegisterError("Terlalu banyak perubahan bersamaan; ulangi sebentar lagi.")


def remove_official(session: Session, period: str, who: str, now: datetime,
                    note: str | None = None) -> SkmOfficial:
    """Withdraw the current figure of `period` (a tombstone row records who, when, why)."""
    period = period.strip().upper()
    old = _current_row(session, period, lock=True)
    if old is None:
        raise RegisterError(f"Belum ada nilai IKM resmi untuk periode {period}.")
    who = who.strip()[:200]
    if not who:
        raise RegisterError("Pencatat wajib diketahui.")
    old.superseded_at = now
    session.flush()
    row = SkmOfficial(**{f: getattr(old, f) for f in FIELDS}, recorded_by=who, recorded_at=now,
                      note=(note or None), replaces_id=old.id, removed_at=now)
    session.add(row)
    session.flush()
    return row


def _figure(row: SkmOfficial) -> OfficialFigure:
    return OfficialFigure(id=row.id, period=row.period, value=row.value, respondents=row.respondents,
                          document=row.document, recorded_by=row.recorded_by, recorded_at=row.recorded_at)


def official_for(session: Session, period: str) -> OfficialFigure | None:
    row = _current_row(session, period.strip().upper())
    return None if row is None else _figure(row)


def official_figures(session: Session, periods: list[str]) -> dict[str, OfficialFigure]:
    """Current figures of the given period codes (one query), by code."""
    if not periods:
        return {}
    rows = session.scalars(
        select(SkmOfficial).where(_live(), SkmOfficial.period.in_(periods)).order_by(SkmOfficial.id)
    ).all()
    return {r.period: _figure(r) for r in rows}


def current_list(session: Session, year: int | None = None) -> list[SkmOfficial]:
    """The current register (optionally of one year, by the period code), by period."""
    stmt = select(SkmOfficial).where(_live())
    if year is not None:
        stmt = stmt.where(SkmOfficial.period.like(f"{year}%"))
    return list(session.scalars(stmt.order_by(SkmOfficial.period, SkmOfficial.id)).all())


def history(session: Session, period: str) -> list[SkmOfficial]:
    """Every entry ever recorded for `period`, oldest first (corrections and withdrawals)."""
    return list(session.scalars(
        select(SkmOfficial).where(SkmOfficial.period == period.strip().upper()).order_by(SkmOfficial.id)
    ).all())


def status_label(row: SkmOfficial) -> str:
    if row.removed_at is not None:
        return "dihapus"
    if row.superseded_at is not None:
        return "dikoreksi"
    return "berlaku"


__all__ = ["OfficialFigure", "current_list", "history", "official_figures", "official_for",
           "remove_official", "set_official", "status_label"]
