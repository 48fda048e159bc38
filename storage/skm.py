# The SKM register: recording responses (chat, paper forms) and populations per period.
# Invariants: one response per respondent per service per period (a unique constraint, so
# two racing submissions cannot both land); answers are stored by unsur code u1..u9 in the
# standard form's order; no name, NIK or phone is ever stored, and the chat identity only
# as an HMAC (respondent_key) that is erased after the retention period, together with the
# free text that could name the person (pekerjaan_lainnya).
from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import cast

from sqlalchemy import Table, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from kpi.skm_questionnaire import UNSUR_CODES
from storage.lengths import limit
from storage.models import SkmPopulation, SkmResponse
from storage.tenancy import current

# The "Lainnya" occupation as typed, at most this long (its column).
OCCUPATION_TEXT_MAX: int = limit(SkmResponse.pekerjaan_lainnya) or 100


class AlreadyAnswered(Exception):
    """This respondent already answered for this service in this period."""


@dataclass(frozen=True)
class ResponseDraft:
    service: str
    period: str  # code of the survey period the answer counts in, e.g. 2026-Q4
    tanggal: date
    answers: Mapping[str, int | None]  # u1..u9 -> 1..4 (None: not answered, paper only)
    jenis_kelamin: str | None = None
    usia: int | None = None
    pendidikan: str | None = None
    pekerjaan: str | None = None
    saran: str | None = None
    pekerjaan_lainnya: str | None = None  # the free text when pekerjaan is "Lainnya"


def respondent_key(secret: bytes, channel: str, user_id: str) -> str:
    """A stable pseudonym for a chat identity: enough to refuse a second response, useless
    for finding out who answered."""
    return hmac.new(secret, f"skm:{channel}:{user_id}".encode(), hashlib.sha256).hexdigest()


def already_answered(session: Session, key: str, service: str, period: str) -> bool:
    row = session.scalar(
        select(SkmResponse.id).where(
            SkmResponse.respondent_key == key,
            SkmResponse.service == service,
            SkmResponse.period == period,
        )
    )
    return row is not None


def record_response(
    session: Session,
    draft: ResponseDraft,
    *,
    source: str,
    now: datetime,
    respondent: str | None = None,
    consent_at: datetime | None = None,
    guardian_consent: bool = False,
    recorded_by: str | None = None,
) -> SkmResponse:
    """Insert one response. Raises AlreadyAnswered (and changes nothing) on a repeat.
    `guardian_consent`: a parent or guardian agreed for a respondent under the age limit."""
    unknown = set(draft.answers) - set(UNSUR_CODES)
    if unknown:
        raise ValueError(f"Unsur tidak dikenal: {sorted(unknown)}")
    for code, value in draft.answers.items():
        if value is not None and value not in (1, 2, 3, 4):
            raise ValueError(f"Jawaban {code} harus 1-4, bukan {value!r}")
    row = SkmResponse(
        source=source,
        respondent_key=respondent,
        service=draft.service,
        period=draft.period,
        tanggal=draft.tanggal,
        answered_at=now,
        consent_at=consent_at,
        persetujuan_wali=guardian_consent,
        jenis_kelamin=draft.jenis_kelamin,
        usia=draft.usia,
        pendidikan=draft.pendidikan,
        pekerjaan=draft.pekerjaan,
        pekerjaan_lainnya=draft.pekerjaan_lainnya,
        saran=(draft.saran or None),
        recorded_by=recorded_by,
        created_at=now,
        **{code: draft.answers.get(code) for code in UNSUR_CODES},
    )
    # A savepoint, so a repeat refused by the unique constraint leaves the caller's
    # transaction (its dialog state, its replies) usable.
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
    except IntegrityError as exc:
        raise AlreadyAnswered from exc
    return row


# Columns a bulk row must carry (id is assigned by the database).
BULK_COLUMNS: tuple[str, ...] = (
    "source", "respondent_key", "service", "period", "tanggal", "answered_at", "consent_at",
    "jenis_kelamin", "usia", "pendidikan", "pekerjaan", "pekerjaan_lainnya", *UNSUR_CODES, "saran",
    "recorded_by", "created_at",
)
BULK_CHUNK = 5000


def insert_responses(session: Session, rows: Iterable[Mapping[str, object]], chunk: int = BULK_CHUNK) -> int:
    """Bulk insert of already validated responses (paper imports, benchmarks); returns the count.

    One executemany per chunk of Core inserts (SQLAlchemy batches them into multi-row
    INSERTs), so a large file neither builds ORM objects nor holds every row at once. The
    caller validated the rows (answers 1-4, codes, dates); paper forms carry no
    respondent_key, so the one-per-period constraint does not apply to them.
    """
    table = cast(Table, SkmResponse.__table__)
    stmt = insert(table)
    kecamatan = current(session)  # a Core insert: the ORM hook does not fill it
    total = 0
    batch: list[dict[str, object]] = []
    for row in rows:
        batch.append({**{col: row.get(col) for col in BULK_COLUMNS}, "kecamatan": kecamatan})
        if len(batch) >= chunk:
            session.execute(stmt, batch)
            total += len(batch)
            batch = []
    if batch:
        session.execute(stmt, batch)
        total += len(batch)
    return total


def set_population(session: Session, period: str, service: str, population: int, who: str, now: datetime) -> None:
    if population < 0:
        raise ValueError("Populasi tidak boleh negatif")
    row = session.get(SkmPopulation, (current(session), period, service))
    if row is None:
        session.add(SkmPopulation(period=period, service=service, population=population, recorded_by=who, recorded_at=now))
    else:
        row.population, row.recorded_by, row.recorded_at = population, who, now


def get_population(session: Session, period: str, service: str = "") -> int | None:
    row = session.get(SkmPopulation, (current(session), period, service))
    return None if row is None else row.population


def forget_respondents(session: Session, answered_before: datetime) -> int:
    """Retention: drop the link between old answers and chat identities; keep the answers."""
    result = session.execute(
        update(SkmResponse)
        .where(SkmResponse.answered_at < answered_before, SkmResponse.respondent_key.is_not(None))
        .values(respondent_key=None)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def forget_occupation_texts(session: Session, answered_before: datetime) -> int:
    """Retention: the "Lainnya" occupation is free text that can identify a person in a
    small kecamatan ("Kepala Desa Sukowiryo"); it goes after the same period as the chat
    link, on chat and paper answers alike. pekerjaan stays "Lainnya" for the statistics."""
    result = session.execute(
        update(SkmResponse)
        .where(SkmResponse.answered_at < answered_before, SkmResponse.pekerjaan_lainnya.is_not(None))
        .values(pekerjaan_lainnya=None)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def forget_suggestions(session: Session, answered_before: datetime) -> int:
    """Retention: the "kritik dan saran" is free text that often names an officer, a
    neighbour or the writer. It is kept longer than the chat link because the SKM report
    lists it; then it goes, on chat and paper answers alike. Scores and profile stay, so the
    IKM of every period is unchanged."""
    result = session.execute(
        update(SkmResponse)
        .where(SkmResponse.answered_at < answered_before, SkmResponse.saran.is_not(None))
        .values(saran=None)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def linked_responses(session: Session, key: str) -> int:
    """How many answers are still linked to this chat identity (for "Data saya")."""
    from sqlalchemy import func

    return int(session.scalar(select(func.count(SkmResponse.id)).where(SkmResponse.respondent_key == key)) or 0)


def withdraw_consent(session: Session, key: str) -> int:
    """The respondent withdraws consent: their linked answers are deleted (UU 27/2022), the
    "Lainnya" occupation text with them. Answers already unlinked by retention can no longer
    be told apart and stay (their occupation text went at the same time as the link)."""
    from sqlalchemy import delete

    result = session.execute(delete(SkmResponse).where(SkmResponse.respondent_key == key))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
