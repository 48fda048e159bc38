# The IKU registers: targets, documents (IKU 1), kegiatan pemberdayaan (IKU 3), SAKIP scores
# (IKU 5) and program indicators (IKU 6), and the aggregates the IKU table reads from them.
# Invariants:
# - Entries are never edited in place (storage.models.Corrected). A correction inserts a new
#   row that `replaces_id` the old one, stamped by whoever corrected it, and stamps the old one
#   `superseded_at`. A withdrawal does the same with a tombstone row that carries `removed_at`
#   (so who withdrew it, when and why is recorded like any other entry). The current register
#   is the rows with neither stamp; `history` walks the whole chain of an entry.
# - Only a current entry can be corrected or withdrawn; the row is locked first (FOR UPDATE on
#   PostgreSQL, the database-wide write lock on SQLite), so two officers correcting the same
#   entry at once cannot both succeed.
# - At most one current target per (code, year) and one current SAKIP score per year:
#   setting one again is a correction of the current one.
# - Aggregates are COUNTs grouped by the database (quarter by CASE on the date column), never
#   rows pulled into Python.
from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, and_, case, func, select, true
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from kpi.periods import quarters_of
from kpi.sakip import sakip_grade
from storage.models import (
    IkuActivity,
    IkuDocument,
    IkuTarget,
    ProgramIndicator,
    SakipScore,
)

Entry = IkuTarget | IkuDocument | IkuActivity | SakipScore | ProgramIndicator
E = TypeVar("E", IkuTarget, IkuDocument, IkuActivity, SakipScore, ProgramIndicator)

# Register names as the CLI and chat commands say them.
REGISTERS: dict[str, Any] = {
    "target": IkuTarget,
    "dokumen": IkuDocument,
    "kegiatan": IkuActivity,
    "sakip": SakipScore,
    "program": ProgramIndicator,
}
_LABELS: dict[type, str] = {
    IkuTarget: "target",
    IkuDocument: "dokumen",
    IkuActivity: "kegiatan",
    SakipScore: "nilai SAKIP",
    ProgramIndicator: "indikator program",
}
# The values of each register (everything but the Corrected bookkeeping).
FIELDS: dict[type, tuple[str, ...]] = {
    IkuTarget: ("code", "year", "value"),
    IkuDocument: ("doc_type", "title", "number", "doc_date", "file_path"),
    IkuActivity: ("year", "name", "planned_on", "facilitated_on", "evidence"),
    SakipScore: ("year", "score", "lhe_number", "lhe_date"),
    ProgramIndicator: ("year", "program", "name", "unit", "target", "realisation", "higher_is_better"),
}
MIN_YEAR, MAX_YEAR = 2000, 2100


class RegisterError(ValueError):
    """A refused entry; the message is Indonesian and safe to show the person who typed it."""


def _live(model: type[Entry]) -> ColumnElement[bool]:
    return and_(model.superseded_at.is_(None), model.removed_at.is_(None))


# --- validation -----------------------------------------------------------------------------


def _text(values: dict[str, Any], key: str, label: str, limit: int, required: bool = True) -> None:
    raw = values.get(key)
    value = raw.strip() if isinstance(raw, str) else raw
    if not value:
        if required:
            raise RegisterError(f"{label} wajib diisi.")
        values[key] = None
        return
    if len(value) > limit:
        raise RegisterError(f"{label} terlalu panjang (paling banyak {limit} karakter).")
    values[key] = value


def _year(values: dict[str, Any]) -> int:
    year = values.get("year")
    if not isinstance(year, int) or isinstance(year, bool) or not MIN_YEAR <= year <= MAX_YEAR:
        raise RegisterError(f"Tahun harus {MIN_YEAR}-{MAX_YEAR}, bukan {year!r}.")
    return year


def _decimal(value: Any, label: str, *, required: bool = True, minimum: Decimal | None = None) -> None:
    if value is None:
        if required:
            raise RegisterError(f"{label} wajib diisi.")
        return
    if not isinstance(value, Decimal) or not value.is_finite():
        raise RegisterError(f"{label} harus berupa angka, bukan {value!r}.")
    if minimum is not None and value < minimum:
        raise RegisterError(f"{label} tidak boleh kurang dari {minimum}.")


def _in_year(d: date | None, year: int, label: str) -> None:
    if d is not None and d.year != year:
        raise RegisterError(f"{label} ({d.isoformat()}) harus jatuh pada tahun {year}.")


def _validate(model: type[Entry], values: dict[str, Any]) -> None:
    if model is IkuTarget:
        _text(values, "code", "Kode IKU", 10)
        values["code"] = values["code"].upper()
        _year(values)
        _decimal(values.get("value"), "Target", minimum=Decimal(0))
    elif model is IkuDocument:
        _text(values, "doc_type", "Jenis dokumen", 40)
        _text(values, "title", "Judul dokumen", 500)
        _text(values, "number", "Nomor dokumen", 200, required=False)
        _text(values, "file_path", "Berkas", 500, required=False)
        if not isinstance(values.get("doc_date"), date):
            raise RegisterError("Tanggal dokumen wajib diisi.")
    elif model is IkuActivity:
        year = _year(values)
        _text(values, "name", "Nama kegiatan", 500)
        _text(values, "evidence", "Bukti", 5000, required=False)
        _in_year(values.get("planned_on"), year, "Tanggal rencana")
        _in_year(values.get("facilitated_on"), year, "Tanggal pelaksanaan")
        # The numerator is "facilitated with its date and evidence": one without the other
        # would be counted on someone's word, or not counted though it happened.
        if (values.get("facilitated_on") is None) != (values.get("evidence") is None):
            raise RegisterError("Kegiatan yang difasilitasi perlu tanggal pelaksanaan dan bukti.")
    elif model is SakipScore:
        _year(values)
        _decimal(values.get("score"), "Nilai SAKIP")
        try:
            sakip_grade(values["score"])
        except ValueError as exc:
            raise RegisterError(str(exc)) from exc
        _text(values, "lhe_number", "Nomor LHE", 200)
        if not isinstance(values.get("lhe_date"), date):
            raise RegisterError("Tanggal LHE wajib diisi.")
    elif model is ProgramIndicator:
        _year(values)
        _text(values, "program", "Nama program", 500)
        _text(values, "name", "Nama indikator", 500)
        _text(values, "unit", "Satuan", 40)
        _decimal(values.get("target"), "Target", minimum=Decimal(0))
        _decimal(values.get("realisation"), "Realisasi", required=False)
        if not isinstance(values.get("higher_is_better"), bool):
            raise RegisterError("Arah indikator harus naik atau turun.")


# --- generic entry operations ----------------------------------------------------------------


def add(session: Session, model: type[E], values: Mapping[str, Any], who: str, now: datetime,
        note: str | None = None) -> E:
    fields = FIELDS[model]
    unknown = set(values) - set(fields)
    if unknown:
        raise RegisterError(f"Isian tidak dikenal untuk {_LABELS[model]}: {', '.join(sorted(unknown))}.")
    full: dict[str, Any] = {f: values.get(f) for f in fields}
    if model is ProgramIndicator and full["higher_is_better"] is None:
        full["higher_is_better"] = True
    _validate(model, full)
    if not who.strip():
        raise RegisterError("Pencatat wajib diketahui.")
    row = model(**full, recorded_by=who.strip()[:200], recorded_at=now, note=(note or None))
    session.add(row)
    session.flush()
    return row


def get(session: Session, model: type[E], entry_id: int) -> E | None:
    return session.get(model, entry_id)


def _successor(session: Session, model: type[Entry], entry_id: int) -> int | None:
    return session.scalar(select(model.id).where(model.replaces_id == entry_id))


def _lock_current(session: Session, model: type[E], entry_id: int) -> E:
    row = session.scalars(select(model).where(model.id == entry_id).with_for_update()).first()
    label = _LABELS[model]
    if row is None:
        raise RegisterError(f"Entri {label} nomor {entry_id} tidak ditemukan.")
    if row.removed_at is not None:
        raise RegisterError(f"Entri {label} nomor {entry_id} adalah catatan penghapusan.")
    if row.superseded_at is not None:
        newer = _successor(session, model, entry_id)
        removed = newer is not None and session.get(model, newer).removed_at is not None  # type: ignore[union-attr]
        if removed:
            raise RegisterError(f"Entri {label} nomor {entry_id} sudah dihapus.")
        raise RegisterError(
            f"Entri {label} nomor {entry_id} sudah dikoreksi menjadi nomor {newer}; "
            "koreksi entri yang berlaku."
        )
    return row


def _values(row: Entry) -> dict[str, Any]:
    return {f: getattr(row, f) for f in FIELDS[type(row)]}


def correct(session: Session, model: type[E], entry_id: int, changes: Mapping[str, Any], who: str,
            now: datetime, note: str | None = None) -> E:
    """Replace a current entry by a corrected copy; the old one stays, superseded."""
    unknown = set(changes) - set(FIELDS[model])
    if unknown:
        raise RegisterError(f"Isian tidak dikenal untuk {_LABELS[model]}: {', '.join(sorted(unknown))}.")
    old = _lock_current(session, model, entry_id)
    values = _values(old)
    values.update(changes)
    _validate(model, values)
    if values == _values(old):
        raise RegisterError("Tidak ada yang berubah; koreksi tidak dicatat.")
    if not who.strip():
        raise RegisterError("Pencatat wajib diketahui.")
    old.superseded_at = now
    session.flush()  # the old row stops being current before the new one is (unique index)
    row = model(**values, recorded_by=who.strip()[:200], recorded_at=now, note=(note or None),
                replaces_id=old.id)
    session.add(row)
    session.flush()
    return row


def remove(session: Session, model: type[E], entry_id: int, who: str, now: datetime,
           note: str | None = None) -> E:
    """Withdraw a current entry: a tombstone row (who, when, why) replaces it."""
    old = _lock_current(session, model, entry_id)
    if not who.strip():
        raise RegisterError("Pencatat wajib diketahui.")
    old.superseded_at = now
    session.flush()
    row = model(**_values(old), recorded_by=who.strip()[:200], recorded_at=now, note=(note or None),
                replaces_id=old.id, removed_at=now)
    session.add(row)
    session.flush()
    return row


def history(session: Session, model: type[E], entry_id: int) -> list[E]:
    """Every version of the entry `entry_id` belongs to, oldest first (the last one is the
    current entry, or the tombstone of a withdrawn one)."""
    row = session.get(model, entry_id)
    if row is None:
        raise RegisterError(f"Entri {_LABELS[model]} nomor {entry_id} tidak ditemukan.")
    chain = [row]
    while chain[0].replaces_id is not None:
        older = session.get(model, chain[0].replaces_id)
        if older is None:
            break
        chain.insert(0, older)
    while True:
        newer = session.scalars(select(model).where(model.replaces_id == chain[-1].id)).first()
        if newer is None:
            break
        chain.append(newer)
    return chain


def current(session: Session, model: type[E], year: int | None = None) -> list[E]:
    """The current register (optionally of one year; documents by their date), oldest first."""
    stmt = select(model).where(_live(model))
    if year is not None:
        if model is IkuDocument:
            stmt = stmt.where(IkuDocument.doc_date >= date(year, 1, 1), IkuDocument.doc_date < date(year + 1, 1, 1))
        else:
            stmt = stmt.where(model.year == year)  # type: ignore[union-attr,attr-defined]
    return list(session.scalars(stmt.order_by(model.id)).all())


def status_label(row: Entry) -> str:
    if row.removed_at is not None:
        return "dihapus"
    if row.superseded_at is not None:
        return "dikoreksi"
    return "berlaku"


# --- targets and SAKIP: one current entry per key --------------------------------------------


def _set_one_current(session: Session, model: type[E], find: Callable[[], E | None],
                     values: dict[str, Any], changes: dict[str, Any], who: str, now: datetime,
                     note: str | None) -> E:
    """Insert the first entry for a key, or correct the current one, when several people may
    be doing the same at once (PostgreSQL; SQLite serialises writers anyway).

    The partial unique index on current rows lets one first insert win; a loser retries and
    becomes a correction. `find` locks the current row FOR UPDATE, and PostgreSQL re-checks
    "is current" after the wait, so a row superseded meanwhile is skipped and the next round
    finds its successor: one chain of corrections, never a fork.
    """
    for _ in range(20):
        existing = find()
        if existing is None:
            try:
                with session.begin_nested():
                    return add(session, model, values, who, now, note)
            except IntegrityError:
                continue
        return correct(session, model, existing.id, changes, who, now, note)
    raise RegisterError("Terlalu banyak perubahan bersamaan; ulangi sebentar lagi.")


def set_target(session: Session, code: str, year: int, value: Decimal, who: str, now: datetime,
               note: str | None = None) -> IkuTarget:
    """Record the Perjanjian Kinerja target of `code` for `year` (a correction if one exists)."""
    code = code.strip().upper()

    def find() -> IkuTarget | None:
        return session.scalars(
            select(IkuTarget)
            .where(_live(IkuTarget), IkuTarget.code == code, IkuTarget.year == year)
            .order_by(IkuTarget.id.desc())
            .with_for_update()
        ).first()

    return _set_one_current(session, IkuTarget, find, {"code": code, "year": year, "value": value},
                            {"value": value}, who, now, note)


def targets(session: Session, year: int) -> dict[str, IkuTarget]:
    """Current register targets of the year by code (the newest, should two ever be current)."""
    rows = session.scalars(
        select(IkuTarget).where(_live(IkuTarget), IkuTarget.year == year).order_by(IkuTarget.id)
    ).all()
    return {r.code: r for r in rows}


def set_sakip(session: Session, year: int, score: Decimal, lhe_number: str, lhe_date: date,
              who: str, now: datetime, note: str | None = None) -> SakipScore:
    values = {"year": year, "score": score, "lhe_number": lhe_number, "lhe_date": lhe_date}
    return _set_one_current(session, SakipScore, lambda: sakip_for(session, year, lock=True),
                            values, values, who, now, note)


def sakip_for(session: Session, year: int, *, lock: bool = False) -> SakipScore | None:
    stmt = select(SakipScore).where(_live(SakipScore), SakipScore.year == year).order_by(SakipScore.id.desc())
    if lock:
        stmt = stmt.with_for_update()
    return session.scalars(stmt).first()


# --- activities ---------------------------------------------------------------------------


def facilitate(session: Session, entry_id: int, facilitated_on: date, evidence: str, who: str,
               now: datetime, note: str | None = None) -> IkuActivity:
    """Mark a planned activity facilitated (a correction of the planned entry)."""
    old = session.get(IkuActivity, entry_id)
    if old is not None and old.superseded_at is None and old.facilitated_on is not None:
        raise RegisterError(
            f"Kegiatan nomor {entry_id} sudah tercatat difasilitasi pada "
            f"{old.facilitated_on.isoformat()}; gunakan koreksi untuk mengubahnya."
        )
    return correct(session, IkuActivity, entry_id,
                   {"facilitated_on": facilitated_on, "evidence": evidence}, who, now, note)


# --- aggregates -----------------------------------------------------------------------------


def _quarter_of(column: Any, year: int) -> Any:
    """CASE giving the triwulan (1-4) of a date column inside `year`, 0 for NULL.

    Half-open bounds on the column keep it index-friendly and identical on both backends
    (SQLite compares the ISO date text, PostgreSQL the date)."""
    q = quarters_of(year)
    return case(
        (column.is_(None), 0),
        (column < q[1].first_day(), 1),
        (column < q[2].first_day(), 2),
        (column < q[3].first_day(), 3),
        else_=4,
    )


def _quarter_counts(rows: Sequence[Any]) -> dict[int, int]:
    out = dict.fromkeys(range(1, 5), 0)
    for key, n in rows:
        out[int(key)] = int(n)
    return out


def _until(column: Any, until: date | None) -> ColumnElement[bool]:
    # Figures as of a date: what was dated after it had not happened yet.
    return true() if until is None else column <= until


def document_counts(session: Session, year: int, until: date | None = None) -> dict[int, int]:
    """IKU 1: current documents dated in each triwulan of `year` ({1: n, ..., 4: n}), and
    not after `until` when given."""
    quarter = _quarter_of(IkuDocument.doc_date, year).label("q")
    rows = session.execute(
        select(quarter, func.count())
        .where(_live(IkuDocument), IkuDocument.doc_date >= date(year, 1, 1),
               IkuDocument.doc_date < date(year + 1, 1, 1), _until(IkuDocument.doc_date, until))
        .group_by(quarter)
    ).all()
    return _quarter_counts(rows)


def document_counts_by_type(session: Session, year: int, until: date | None = None) -> dict[str, int]:
    rows = session.execute(
        select(IkuDocument.doc_type, func.count())
        .where(_live(IkuDocument), IkuDocument.doc_date >= date(year, 1, 1),
               IkuDocument.doc_date < date(year + 1, 1, 1), _until(IkuDocument.doc_date, until))
        .group_by(IkuDocument.doc_type)
        .order_by(IkuDocument.doc_type)
    ).all()
    return {str(t): int(n) for t, n in rows}


@dataclass(frozen=True)
class ActivityCounts:
    """IKU 3 counts of a year. planned[q] by planned_on (planned[0]: no planned date, counted
    in the year only); facilitated[q] by facilitated_on."""

    planned: dict[int, int]
    facilitated: dict[int, int]

    @property
    def planned_total(self) -> int:
        return sum(self.planned.values())

    @property
    def facilitated_total(self) -> int:
        return sum(self.facilitated.values())


def activity_counts(session: Session, year: int, until: date | None = None) -> ActivityCounts:
    """IKU 3 counts; an activity facilitated after `until` (when given) counts as not yet."""
    planned_q = _quarter_of(IkuActivity.planned_on, year).label("q")
    planned_rows = session.execute(
        select(planned_q, func.count())
        .where(_live(IkuActivity), IkuActivity.year == year)
        .group_by(planned_q)
    ).all()
    done_q = _quarter_of(IkuActivity.facilitated_on, year).label("q")
    done_rows = session.execute(
        select(done_q, func.count())
        .where(_live(IkuActivity), IkuActivity.year == year, IkuActivity.facilitated_on.is_not(None),
               _until(IkuActivity.facilitated_on, until))
        .group_by(done_q)
    ).all()
    planned = {0: 0, **_quarter_counts([r for r in planned_rows if int(r[0]) != 0])}
    planned[0] = sum(int(n) for k, n in planned_rows if int(k) == 0)
    return ActivityCounts(planned=planned, facilitated=_quarter_counts(done_rows))
