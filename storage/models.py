# The register's schema. Alembic migrations in storage/migrations mirror this file.
# Invariants: every timestamp is stored as UTC and read back as an aware datetime;
# the status history is append-only (nothing updates or deletes its rows); a ticket
# number is unique and (year, seq) has no gaps because seq comes from ticket_counters
# in the same transaction as the complaint insert.
from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, declared_attr, mapped_column, relationship

from storage.setting_keys import SETTING_KEY_LENGTH
from storage.tenancy import KECAMATAN_LENGTH, Tenanted


class UTCDateTime(TypeDecorator[datetime]):
    """Aware datetimes in, aware UTC datetimes out, on every backend."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime refused: pass an aware datetime")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class DecimalText(TypeDecorator[Decimal]):
    """Exact decimals on every backend: SQLite has no decimal type (it would store a float),
    and targets, scores and realisations must come back exactly as they were entered."""

    impl = String(40)
    cache_ok = True

    def process_bind_param(self, value: Decimal | None, dialect: Any) -> str | None:
        if value is None:
            return None
        if not isinstance(value, Decimal):
            raise TypeError(f"Decimal expected, got {type(value).__name__}")
        return str(value)

    def process_result_value(self, value: str | None, dialect: Any) -> Decimal | None:
        return None if value is None else Decimal(value)


class Base(DeclarativeBase):
    type_annotation_map = {datetime: UTCDateTime, dict[str, Any]: JSON}


class Person(Tenanted, Base):
    """Someone who talks to the bot: a channel identity, and only what they chose to give.
    Per kecamatan: each kecamatan is the controller of what its residents gave it (UU 27/2022),
    so a resident who writes to two kecamatan is two people, one in each register."""

    __tablename__ = "people"
    __table_args__ = (UniqueConstraint("kecamatan", "channel", "channel_user_id", name="uq_people_kecamatan_channel_user"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(20))
    channel_user_id: Mapped[str | None] = mapped_column(String(64))
    name: Mapped[str | None] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(40))
    created_at: Mapped[datetime]
    last_inbound_at: Mapped[datetime | None]
    # Set when a send failed because the person blocked the bot; no retries after that.
    blocked_at: Mapped[datetime | None]
    erased_at: Mapped[datetime | None]


class TicketCounter(Tenanted, Base):
    """Per kecamatan and year: each kecamatan's tickets are gapless on their own."""

    __tablename__ = "ticket_counters"

    kecamatan: Mapped[str] = mapped_column(String(KECAMATAN_LENGTH), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last_seq: Mapped[int] = mapped_column(Integer, default=0)


class Complaint(Tenanted, Base):
    # The ticket stays unique across the kabupaten (each office file has its own prefix, which
    # bot.config.office checks); (year, seq) is per kecamatan. Photos, status history, cards,
    # reminder claims and assignments carry no kecamatan: every query reaches them through
    # their complaint (complaint_id), which is scoped.
    __tablename__ = "complaints"
    __table_args__ = (
        UniqueConstraint("kecamatan", "year", "seq", name="uq_complaints_kecamatan_year_seq"),
        # Led by kecamatan, as every read is scoped to one (migration 0015): each reads its
        # own kecamatan's entries only. Received in a range (year scans, lists, the CSV's
        # order); with status, the year's list COUNT is read from the index alone.
        Index("ix_complaints_kecamatan_received_at_status", "kecamatan", "received_at", "status"),
        # The open complaints in table order (the dashboard's figures per desa and category).
        Index("ix_complaints_kecamatan_status", "kecamatan", "status"),
        Index("ix_complaints_reporter", "reporter_id"),
        # The digest's "resolved this week" and 12-week series.
        Index("ix_complaints_kecamatan_status_resolved_at", "kecamatan", "status", "resolved_at"),
        # Open complaints "overdue first" (storage.complaints.open_complaints, /kasus), the
        # reminders' scan of deadlines (storage.reminders).
        Index("ix_complaints_kecamatan_status_current_due", "kecamatan", "status", "current_due"),
        # "Kasus saya" (/kasus saya): the complaints assigned to one officer.
        Index("ix_complaints_assigned_to", "assigned_to"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket: Mapped[str] = mapped_column(String(32), unique=True)
    # Null for a ticket imported from an older register with its own numbering.
    year: Mapped[int | None]
    seq: Mapped[int | None]
    kind: Mapped[str] = mapped_column(String(32))
    category: Mapped[str] = mapped_column(String(64))
    desa: Mapped[str] = mapped_column(String(64))
    description: Mapped[str] = mapped_column(Text)
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    address: Mapped[str | None] = mapped_column(String(500))
    channel: Mapped[str] = mapped_column(String(20))
    anonim: Mapped[bool] = mapped_column(Boolean, default=False)
    rahasia: Mapped[bool] = mapped_column(Boolean, default=True)
    reporter_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    # Officer who logged a complaint that came by another channel.
    recorded_by: Mapped[int | None] = mapped_column(ForeignKey("officers.id"))
    status: Mapped[str] = mapped_column(String(20))
    received_at: Mapped[datetime]
    created_at: Mapped[datetime]
    verify_due: Mapped[date] = mapped_column(Date)
    followup_due: Mapped[date] = mapped_column(Date)
    verified_at: Mapped[datetime | None]
    followed_up_at: Mapped[datetime | None]
    resolved_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    reopen_count: Mapped[int] = mapped_column(Integer, default=0)
    duplicate_of: Mapped[str | None] = mapped_column(String(32))
    forwarded_to: Mapped[str | None] = mapped_column(String(200))
    reject_reason: Mapped[str | None] = mapped_column(Text)
    # Bumped on every status change; buttons carry it so a stale press is refused.
    version: Mapped[int] = mapped_column(Integer, default=1)
    # Set after the reporter has answered "is it solved?", so the question is asked once.
    feedback: Mapped[str | None] = mapped_column(String(10))
    # The deadline clock (storage/deadlines.py, storage/lifecycle.py): resolve_due is the
    # resolution deadline in effect (from receipt, or from the last reopening); current_due
    # the deadline of the current status (NULL once closed); while ditunda, postponed_until
    # is the new date, postponed_from the status to go back to, postponed_at when it began.
    resolve_due: Mapped[date | None] = mapped_column(Date)
    current_due: Mapped[date | None] = mapped_column(Date)
    postponed_until: Mapped[date | None] = mapped_column(Date)
    postponed_from: Mapped[str | None] = mapped_column(String(20))
    postponed_at: Mapped[datetime | None]
    # Personal data (UU 27/2022; storage/erasure.py): a redacted description an officer
    # approved, used instead of the fixed "[uraian dihapus]" text when the description is
    # erased; description_erased_at is when the reporter's own words were removed.
    description_redacted: Mapped[str | None] = mapped_column(Text)
    redaction_approved_by: Mapped[str | None] = mapped_column(String(200))
    redaction_approved_at: Mapped[datetime | None]
    description_erased_at: Mapped[datetime | None]
    # The officer handling it (/tugaskan or the card's "Tugaskan ke saya"); each change of it
    # is also a history row (storage/assignment.py).
    assigned_to: Mapped[int | None] = mapped_column(
        ForeignKey("officers.id", name="fk_complaints_assigned_to_officers")
    )
    # True when only the day of receipt is known (/catat with a date and no time): then
    # received_at is that day's local midnight and is shown as a date, never as a time.
    received_date_only: Mapped[bool | None] = mapped_column(Boolean)

    reporter: Mapped[Person | None] = relationship()
    assignee: Mapped[Officer | None] = relationship(foreign_keys=[assigned_to])
    photos: Mapped[list[Photo]] = relationship(order_by="Photo.id", back_populates="complaint")
    history: Mapped[list[StatusChange]] = relationship(
        order_by="StatusChange.id", back_populates="complaint"
    )


class Photo(Base):
    __tablename__ = "photos"

    id: Mapped[int] = mapped_column(primary_key=True)
    complaint_id: Mapped[int] = mapped_column(ForeignKey("complaints.id"), index=True)
    path: Mapped[str] = mapped_column(String(500))
    size: Mapped[int]
    created_at: Mapped[datetime]

    complaint: Mapped[Complaint] = relationship(back_populates="photos")


class StatusChange(Base):
    """Append-only: one row per move, written by storage.lifecycle.transition only. The one
    exception: erasure and retention (storage/erasure.py) blank the notes' text, since
    notes may quote the reporter; the move itself (statuses, time, actor) stays."""

    __tablename__ = "status_history"
    __table_args__ = (
        # The IKU figures as of a date (storage.complaint_stats.status_at): the changes since
        # a cut-off, and a complaint's last change before it.
        Index("ix_status_history_at", "at"),
        Index("ix_status_history_complaint_at", "complaint_id", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    complaint_id: Mapped[int] = mapped_column(ForeignKey("complaints.id"), index=True)
    at: Mapped[datetime]
    actor_kind: Mapped[str] = mapped_column(String(20))  # warga, petugas, sistem
    actor_id: Mapped[int | None]
    actor_name: Mapped[str | None] = mapped_column(String(200))
    from_status: Mapped[str | None] = mapped_column(String(20))
    to_status: Mapped[str] = mapped_column(String(20))
    public_note: Mapped[str | None] = mapped_column(Text)
    internal_note: Mapped[str | None] = mapped_column(Text)
    # The deadline of the status this change entered (verify deadline for diterima, follow-up
    # for diverifikasi, resolution for ditindaklanjuti, the new date for ditunda; NULL for a
    # closed status), and for a move into selesai whether it met the standard in effect.
    due_on: Mapped[date | None] = mapped_column(Date)
    on_time: Mapped[bool | None] = mapped_column(Boolean)

    complaint: Mapped[Complaint] = relationship(back_populates="history")


class Officer(Tenanted, Base):
    """An officer of one kecamatan: an account is let in only by its own kecamatan."""

    __tablename__ = "officers"
    __table_args__ = (UniqueConstraint("kecamatan", "telegram_id", name="uq_officers_kecamatan_telegram_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    telegram_id: Mapped[int] = mapped_column(BigInteger)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime]


class Setting(Tenanted, Base):
    """Values the office sets from chat (e.g. the Trantib group registered by /daftarkan_grup),
    per kecamatan: each office registers its own group, period marks and imports."""

    __tablename__ = "runtime_settings"

    kecamatan: Mapped[str] = mapped_column(String(KECAMATAN_LENGTH), primary_key=True)
    # Built by storage.setting_keys.setting_key only, so that it fits by construction.
    key: Mapped[str] = mapped_column(String(SETTING_KEY_LENGTH), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime]


class InboxItem(Base):
    """Every inbound update, committed before it is acknowledged to its channel."""

    __tablename__ = "inbox"
    __table_args__ = (
        UniqueConstraint("source", "external_id"),
        Index("ix_inbox_pending", "handled_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(String(20))
    external_id: Mapped[str] = mapped_column(String(100))
    payload: Mapped[dict[str, Any]]
    received_at: Mapped[datetime]
    handled_at: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)


class DialogState(Base):
    __tablename__ = "dialog_states"

    channel: Mapped[str] = mapped_column(String(20), primary_key=True)
    chat_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    state: Mapped[dict[str, Any]]
    updated_at: Mapped[datetime]


class ChatKecamatan(Base):
    """The kecamatan a resident's chat identity picked (or a deep link set), so a bot serving
    several kecamatan asks only once. Shared, not Tenanted: it is read before the step knows
    its kecamatan (bot/dialogs/kecamatan.py)."""

    __tablename__ = "chat_kecamatan"

    channel: Mapped[str] = mapped_column(String(20), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    kecamatan: Mapped[str] = mapped_column(String(KECAMATAN_LENGTH))
    chosen_at: Mapped[datetime]


class OutboxItem(Base):
    """A message to deliver; written in the same transaction as what caused it."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_due", "sent_at", "failed_at", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(20))
    chat_id: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(20))  # text, photo, location, card
    payload: Mapped[dict[str, Any]]
    complaint_id: Mapped[int | None] = mapped_column(ForeignKey("complaints.id"))
    created_at: Mapped[datetime]
    next_attempt_at: Mapped[datetime]
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    sent_at: Mapped[datetime | None]
    # Given up: the person blocked the bot, or the message can never be delivered.
    failed_at: Mapped[datetime | None]
    error: Mapped[str | None] = mapped_column(Text)
    result_message_id: Mapped[int | None] = mapped_column(BigInteger)


class Card(Base):
    """Where a complaint's card sits in a chat, so it can be edited in place."""

    __tablename__ = "cards"

    complaint_id: Mapped[int] = mapped_column(ForeignKey("complaints.id"), primary_key=True)
    chat_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    message_id: Mapped[int] = mapped_column(BigInteger)
    updated_at: Mapped[datetime]


# --- SKM (issue 3) -------------------------------------------------------------------------


class SkmResponse(Tenanted, Base):
    """One filled questionnaire: by chat, or a paper form typed in or imported.

    No name, NIK or phone. `respondent_key` is an HMAC of the chat identity, kept only to
    enforce one response per respondent per service per period, and erased after the
    retention period; paper forms have none.
    """

    __tablename__ = "skm_responses"
    __table_args__ = (
        UniqueConstraint("kecamatan", "respondent_key", "service", "period", name="uq_skm_responses_kecamatan_respondent"),
        # Covering: the SKM sums of a date range are read from the index alone (0011), for
        # one kecamatan (0012 put kecamatan first, as every read is scoped to one).
        Index("ix_skm_responses_kecamatan_tanggal_answers", "kecamatan", "tanggal", "service",
              *(f"u{i}" for i in range(1, 10))),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(String(20))  # telegram, whatsapp, sandbox, kertas
    respondent_key: Mapped[str | None] = mapped_column(String(64))
    service: Mapped[str] = mapped_column(String(64))
    # Survey period code under the office's period setting when answered (e.g. 2026-Q4).
    period: Mapped[str] = mapped_column(String(10))
    tanggal: Mapped[date] = mapped_column(Date)  # local date of the survey
    answered_at: Mapped[datetime]
    consent_at: Mapped[datetime | None]
    # The respondent was under the office's age limit and a parent or guardian agreed
    # (UU 27/2022 Pasal 25); false for adults and for paper forms.
    persetujuan_wali: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    jenis_kelamin: Mapped[str | None] = mapped_column(String(1))
    usia: Mapped[int | None]
    pendidikan: Mapped[str | None] = mapped_column(String(10))
    pekerjaan: Mapped[str | None] = mapped_column(String(20))
    # What the respondent wrote when pekerjaan is "Lainnya" (Petani, Pelajar, ...).
    pekerjaan_lainnya: Mapped[str | None] = mapped_column(String(100))
    u1: Mapped[int | None]
    u2: Mapped[int | None]
    u3: Mapped[int | None]
    u4: Mapped[int | None]
    u5: Mapped[int | None]
    u6: Mapped[int | None]
    u7: Mapped[int | None]
    u8: Mapped[int | None]
    u9: Mapped[int | None]
    saran: Mapped[str | None] = mapped_column(Text)
    # Who typed a paper form in, or which file it was imported from.
    recorded_by: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime]


class SkmPopulation(Tenanted, Base):
    """Service users in a period, entered by the office, for the minimum sample size."""

    __tablename__ = "skm_populations"

    kecamatan: Mapped[str] = mapped_column(String(KECAMATAN_LENGTH), primary_key=True)
    period: Mapped[str] = mapped_column(String(10), primary_key=True)
    service: Mapped[str] = mapped_column(String(64), primary_key=True)  # "" = all services
    population: Mapped[int]
    recorded_by: Mapped[str | None] = mapped_column(String(200))
    recorded_at: Mapped[datetime]


# --- IKU registers (issue 4) --------------------------------------------------------------


class Corrected:
    """Entries are never edited in place: a correction inserts a new row that `replaces_id`
    the old one and stamps the old one `superseded_at`; a withdrawal stamps `removed_at`.
    The current register is the rows with neither stamp; the rest is the history."""

    id: Mapped[int] = mapped_column(primary_key=True)
    recorded_by: Mapped[str] = mapped_column(String(200))
    recorded_at: Mapped[datetime]
    note: Mapped[str | None] = mapped_column(Text)
    superseded_at: Mapped[datetime | None]
    removed_at: Mapped[datetime | None]

    @declared_attr
    def replaces_id(cls) -> Mapped[int | None]:  # noqa: N805 - SQLAlchemy's declared_attr
        return mapped_column(ForeignKey(f"{cls.__tablename__}.id"))  # type: ignore[attr-defined]


class IkuTarget(Tenanted, Corrected, Base):
    """A yearly target from the Perjanjian Kinerja, overriding the office file's."""

    __tablename__ = "iku_targets"
    __table_args__ = (
        Index("ix_iku_targets_code_year", "code", "year"),
        # One current target per indicator and year, even with two people entering at once.
        Index(
            "uq_iku_targets_current", "kecamatan", "code", "year", unique=True,
            sqlite_where=text("superseded_at IS NULL AND removed_at IS NULL"),
            postgresql_where=text("superseded_at IS NULL AND removed_at IS NULL"),
        ),
    )

    code: Mapped[str] = mapped_column(String(10))
    year: Mapped[int]
    value: Mapped[Decimal] = mapped_column(DecimalText)


class IkuDocument(Tenanted, Corrected, Base):
    """IKU 1: a document of organisational and procedural arrangement."""

    __tablename__ = "iku_documents"
    __table_args__ = (Index("ix_iku_documents_date", "doc_date"),)

    doc_type: Mapped[str] = mapped_column(String(40))
    title: Mapped[str] = mapped_column(String(500))
    number: Mapped[str | None] = mapped_column(String(200))
    doc_date: Mapped[date] = mapped_column(Date)
    file_path: Mapped[str | None] = mapped_column(String(500))


class IkuActivity(Tenanted, Corrected, Base):
    """IKU 3: a planned kegiatan pemberdayaan (the denominator), facilitated or not yet."""

    __tablename__ = "iku_activities"
    __table_args__ = (Index("ix_iku_activities_year", "year"),)

    year: Mapped[int]
    name: Mapped[str] = mapped_column(String(500))
    planned_on: Mapped[date | None] = mapped_column(Date)
    facilitated_on: Mapped[date | None] = mapped_column(Date)
    evidence: Mapped[str | None] = mapped_column(Text)


class SakipScore(Tenanted, Corrected, Base):
    """IKU 5: the year's SAKIP score from the evaluators' LHE."""

    __tablename__ = "sakip_scores"
    __table_args__ = (
        Index("ix_sakip_scores_year", "year"),
        Index(
            "uq_sakip_scores_current", "kecamatan", "year", unique=True,
            sqlite_where=text("superseded_at IS NULL AND removed_at IS NULL"),
            postgresql_where=text("superseded_at IS NULL AND removed_at IS NULL"),
        ),
    )

    year: Mapped[int]
    score: Mapped[Decimal] = mapped_column(DecimalText)
    lhe_number: Mapped[str] = mapped_column(String(200))
    lhe_date: Mapped[date] = mapped_column(Date)


class ProgramIndicator(Tenanted, Corrected, Base):
    """IKU 6: an indicator of a program (Renja/DPA) with its own target and realisation."""

    __tablename__ = "program_indicators"
    __table_args__ = (Index("ix_program_indicators_year", "year"),)

    year: Mapped[int]
    program: Mapped[str] = mapped_column(String(500))
    name: Mapped[str] = mapped_column(String(500))
    unit: Mapped[str] = mapped_column(String(40))
    target: Mapped[Decimal] = mapped_column(DecimalText)
    realisation: Mapped[Decimal | None] = mapped_column(DecimalText)
    higher_is_better: Mapped[bool] = mapped_column(Boolean, default=True)


class IkuFrozenFigure(Tenanted, Base):
    """A figure as it was reported (`sigap iku tutup`): one per indicator and period, kept
    as reported (2 decimals) with its numerator and denominator, who froze it and when.
    Later reports show it, and the live value beside it when they differ."""

    __tablename__ = "iku_frozen_figures"
    __table_args__ = (UniqueConstraint("kecamatan", "code", "period", name="uq_iku_frozen_figures_kecamatan_code_period"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(10))
    period: Mapped[str] = mapped_column(String(10))  # "2026-Q1" or "2026"
    as_of: Mapped[date] = mapped_column(Date)
    value: Mapped[Decimal | None] = mapped_column(DecimalText)
    numerator: Mapped[int | None]
    denominator: Mapped[int | None]
    definition: Mapped[str | None] = mapped_column(String(40))
    frozen_by: Mapped[str] = mapped_column(String(200))
    frozen_at: Mapped[datetime]
    note: Mapped[str | None] = mapped_column(Text)


# --- IKU 2 official figures (issue 9) ------------------------------------------------------


class SkmOfficial(Tenanted, Corrected, Base):
    """IKU 2 from the source the decree names: the period's IKM as published in e-SUKMA
    (SUKMA-e Jatim), typed in by an officer with its source document. One current entry per
    survey period; corrections and withdrawals keep the history (Corrected)."""

    __tablename__ = "skm_official"
    __table_args__ = (
        Index("ix_skm_official_period", "period"),
        Index(
            "uq_skm_official_current", "kecamatan", "period", unique=True,
            sqlite_where=text("superseded_at IS NULL AND removed_at IS NULL"),
            postgresql_where=text("superseded_at IS NULL AND removed_at IS NULL"),
        ),
    )

    period: Mapped[str] = mapped_column(String(10))  # 2026, 2026-S1, 2026-Q1
    value: Mapped[Decimal] = mapped_column(DecimalText)  # converted IKM, 25-100
    respondents: Mapped[int]
    document: Mapped[str] = mapped_column(String(200))


# --- Weekly digest (issue 4) --------------------------------------------------------------


class DigestClaim(Tenanted, Base):
    """One digest per (chat, period): claimed before it is sent, marked sent only after the
    Bot API accepted it, so it is never lost and never posted twice (even by two instances
    on one database: the primary key decides who claims)."""

    __tablename__ = "digest_claims"

    # A kecamatan's digest; a chat (a kabupaten group) may receive several kecamatan's.
    kecamatan: Mapped[str] = mapped_column(String(KECAMATAN_LENGTH), primary_key=True)
    chat_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    period: Mapped[str] = mapped_column(String(10), primary_key=True)  # e.g. 2026-W48
    claimed_by: Mapped[str] = mapped_column(String(64))
    claimed_at: Mapped[datetime]
    # A claim whose holder died is taken over after this moment.
    lease_until: Mapped[datetime]
    sent_at: Mapped[datetime | None]
    message_id: Mapped[int | None] = mapped_column(BigInteger)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)
    # Given up: too late to be useful (the office's setting), or the chat refuses the bot.
    abandoned_at: Mapped[datetime | None]


# --- Personal data (UU 27/2022, issue 12) ---------------------------------------------------


class PdpRequest(Tenanted, Base):
    """A data subject's request (see, correct, delete, withdraw consent) that arrived outside
    the bot, logged by an officer; the office must answer within 3 x 24 hours of receipt."""

    __tablename__ = "pdp_requests"
    __table_args__ = (Index("ix_pdp_requests_open", "answered_at", "received_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))  # akses, koreksi, hapus, tarik, keberatan
    via: Mapped[str] = mapped_column(String(20))  # surat, langsung, telepon, email, lainnya
    requester: Mapped[str] = mapped_column(String(200))
    detail: Mapped[str | None] = mapped_column(Text)
    received_at: Mapped[datetime]
    due_at: Mapped[datetime]
    recorded_by: Mapped[str] = mapped_column(String(200))
    recorded_at: Mapped[datetime]
    answered_at: Mapped[datetime | None]
    answer: Mapped[str | None] = mapped_column(Text)
    answered_by: Mapped[str | None] = mapped_column(String(200))


class PdpIncident(Tenanted, Base):
    """A personal-data breach: what, when, how, whom it concerns and what was done; the
    people affected and the authority must be told within 3 x 24 hours of its discovery."""

    __tablename__ = "pdp_incidents"

    id: Mapped[int] = mapped_column(primary_key=True)
    what: Mapped[str] = mapped_column(Text)
    occurred_at: Mapped[datetime | None]
    discovered_at: Mapped[datetime]
    due_at: Mapped[datetime]
    how: Mapped[str] = mapped_column(Text)
    affected: Mapped[str] = mapped_column(Text)
    actions: Mapped[str] = mapped_column(Text)
    # Tickets whose reporters were sent the notice by chat, and how many could not be.
    notified_chats: Mapped[int] = mapped_column(Integer, default=0)
    unreachable: Mapped[int] = mapped_column(Integer, default=0)
    recorded_by: Mapped[str] = mapped_column(String(200))
    recorded_at: Mapped[datetime]


# --- Deadline reminders (issue 9) ---------------------------------------------------------


class ReminderClaim(Base):
    """One reminder about one deadline of one complaint: claimed before it is sent, so it is
    sent once across restarts and processes (storage/reminders.py), and kept as part of the
    complaint's history for officers."""

    __tablename__ = "reminder_claims"
    __table_args__ = (UniqueConstraint("complaint_id", "kind", "due_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    complaint_id: Mapped[int] = mapped_column(ForeignKey("complaints.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))  # besok, terlambat, eskalasi
    due_on: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(20))  # the complaint's status it was about
    claimed_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]
    recipients: Mapped[int] = mapped_column(Integer, default=0)


class Assignment(Base):
    """Append-only: who was made responsible for a complaint, when and by whom
    (storage/assignment.py). Complaint.assigned_to is the latest; officer_id NULL = unassigned.
    Kept apart from status_history, whose rows are status moves the IKU figures count."""

    __tablename__ = "assignments"

    id: Mapped[int] = mapped_column(primary_key=True)
    complaint_id: Mapped[int] = mapped_column(ForeignKey("complaints.id"), index=True)
    officer_id: Mapped[int | None] = mapped_column(ForeignKey("officers.id"))
    officer_name: Mapped[str | None] = mapped_column(String(200))
    at: Mapped[datetime]
    by_name: Mapped[str] = mapped_column(String(200))


# --- Web dashboard (issue 15) ---------------------------------------------------------------


class DashboardLink(Base):
    """A one-time login link sent by /dasbor (storage/dashboard_access.py). Only the SHA-256
    of its token is kept, so a copy of the database cannot be used to log in."""

    __tablename__ = "dashboard_links"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    officer_id: Mapped[int] = mapped_column(ForeignKey("officers.id"), index=True)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]


class DashboardSession(Base):
    """A browser logged in through a link; its cookie holds the id, the table its SHA-256."""

    __tablename__ = "dashboard_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    session_hash: Mapped[str] = mapped_column(String(64), unique=True)
    officer_id: Mapped[int] = mapped_column(ForeignKey("officers.id"), index=True)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]


class KabupatenReader(Base):
    """A person of the kabupaten (Bagian Organisasi, Inspektorat) who reads every kecamatan's
    dashboard (storage/kabupaten_access.py). Not Tenanted: they belong to the kabupaten, not
    to one kecamatan; registered only by `sigap kabupaten pembaca tambah`."""

    __tablename__ = "kabupaten_readers"

    id: Mapped[int] = mapped_column(primary_key=True)
    telegram_id: Mapped[int] = mapped_column(BigInteger, unique=True)
    name: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime]


class KabupatenLink(Base):
    """A one-time login link of a kabupaten reader; as DashboardLink, only the token's SHA-256.
    Its own table (not a nullable column of dashboard_links), so that an officer's link and
    session can never be read as a reader's, and the officers' code stays as it is."""

    __tablename__ = "kabupaten_links"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    reader_id: Mapped[int] = mapped_column(ForeignKey("kabupaten_readers.id"), index=True)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]


class KabupatenSession(Base):
    """A browser logged in through a reader's link; its cookie holds the id, the table its SHA-256."""

    __tablename__ = "kabupaten_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    session_hash: Mapped[str] = mapped_column(String(64), unique=True)
    reader_id: Mapped[int] = mapped_column(ForeignKey("kabupaten_readers.id"), index=True)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
