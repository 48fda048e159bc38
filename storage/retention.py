# Retention of personal data (UU 27/2022; domain.md section 5): each kind of data has its
# own period, after which the personal part is erased and the statistics stay.
# Invariants: nothing that an open complaint, an unsent message or an unhandled update
# still needs is touched; a reporter's identity is erased only when every complaint of
# theirs has been closed for longer than the period and they have not written since;
# photo files are returned to the caller for deletion AFTER the transaction commits, so a
# rolled-back purge never leaves rows pointing at deleted files. Descriptions, locations,
# notes and photos of closed complaints have their own periods (storage/erasure.py says
# what each erasure keeps for the statistics); a complaint of an erased reporter loses
# them as soon as it is closed. The shared channel plumbing (purge_shared) is purged once per
# run for the whole register, not once per kecamatan.
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import ColumnElement, String, cast, delete, exists, func, or_, select, update
from sqlalchemy.orm import Session

from storage import erasure, skm
from storage.lifecycle import OPEN_STATUSES
from storage.models import (
    ChatKecamatan,
    Complaint,
    DialogState,
    InboxItem,
    Officer,
    OutboxItem,
    Person,
    Photo,
)
from storage.tenancy import across_kecamatan


@dataclass(frozen=True)
class RetentionPolicy:
    """Days each kind of personal data is kept (the office file's [retensi])."""

    reporter_identity_days: int = 730
    photo_days: int = 365
    description_days: int = 730
    location_days: int = 365
    note_days: int = 730
    inbox_days: int = 30
    outbox_days: int = 30
    dialog_days: int = 30
    survey_link_days: int = 365
    # The survey's "kritik dan saran": free text that often names an officer, a neighbour or
    # the writer. The SKM report lists it (domain.md 2.4), so it is kept until the year's
    # report has been made and checked, longer than the chat link (office file's [retensi]).
    survey_suggestion_days: int = 730


@dataclass
class RetentionReport:
    identities_erased: int = 0
    photos_removed: int = 0
    inbox_cleared: int = 0
    outbox_cleared: int = 0
    dialogs_dropped: int = 0
    kecamatan_picks_dropped: int = 0  # residents' remembered kecamatan (chat_kecamatan)
    survey_links_dropped: int = 0
    survey_occupations_erased: int = 0  # "Lainnya" occupation texts of survey answers
    survey_suggestions_erased: int = 0  # "kritik dan saran" texts of survey answers
    descriptions_erased: int = 0
    locations_erased: int = 0
    notes_erased: int = 0
    erased_reporters_cases: int = 0
    files_to_delete: list[Path] = field(default_factory=list)
    # Tickets each complaint rule touched (for `sigap retensi --dry-run`).
    tickets: dict[str, list[str]] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return (
            self.identities_erased + self.photos_removed + self.inbox_cleared
            + self.outbox_cleared + self.dialogs_dropped + self.kecamatan_picks_dropped
            + self.survey_links_dropped
            + self.survey_occupations_erased + self.survey_suggestions_erased
            + self.descriptions_erased + self.locations_erased + self.notes_erased
            + self.erased_reporters_cases
        )


def _count(result: object) -> int:
    return int(getattr(result, "rowcount", 0) or 0)


def purge(session: Session, policy: RetentionPolicy, now: datetime, data_dir: Path, *,
          shared: bool = True) -> RetentionReport:
    """Erase what is past its period, in the caller's transaction: the session's kecamatan's
    own rows and, with `shared`, the shared channel plumbing (purge_shared). Delete
    `report.files_to_delete` after committing."""
    report = RetentionReport()

    # Reporters: no open complaint, none closed recently, no message recently.
    cutoff = now - timedelta(days=policy.reporter_identity_days)
    recent_or_open = exists().where(
        Complaint.reporter_id == Person.id,
        or_(
            Complaint.status.in_(OPEN_STATUSES),
            func.coalesce(Complaint.closed_at, Complaint.created_at) >= cutoff,
        ),
    )
    report.identities_erased = _count(
        session.execute(
            update(Person)
            .where(
                Person.erased_at.is_(None),
                func.coalesce(Person.last_inbound_at, Person.created_at) < cutoff,
                ~recent_or_open,
            )
            .values(name=None, phone=None, channel_user_id=None, erased_at=now)
            .execution_options(synchronize_session=False)
        )
    )

    # Complaints of erased reporters (on request, or just above): their content goes as soon
    # as they are closed.
    rows = _closed(session, Complaint.reporter_id.in_(select(Person.id).where(Person.erased_at.is_not(None))))
    pending = _with_content(session, rows)
    report.erased_reporters_cases = len(pending)
    report.tickets["pelapor_dihapus"] = [t for _, t in pending]
    ids = [i for i, _ in pending]
    erasure.erase_descriptions(session, ids, now)
    erasure.erase_locations(session, ids)
    erasure.erase_notes(session, ids)
    report.photos_removed, files = erasure.remove_photos(session, ids) if ids else (0, [])
    photo_tickets: set[str] = set()
    if report.photos_removed:
        photo_tickets = set(session.scalars(select(Complaint.ticket).where(Complaint.id.in_(ids))).all())

    # Each kind of a closed complaint's content after its own period.
    rows = _closed(session, Complaint.closed_at < now - timedelta(days=policy.description_days),
                   Complaint.description_erased_at.is_(None))
    report.descriptions_erased = len(rows)
    report.tickets["uraian"] = [t for _, t in rows]
    erasure.erase_descriptions(session, [i for i, _ in rows], now)

    rows = _closed(session, Complaint.closed_at < now - timedelta(days=policy.location_days),
                   or_(Complaint.address.is_not(None), Complaint.latitude.is_not(None), Complaint.longitude.is_not(None)))
    report.locations_erased = len(rows)
    report.tickets["lokasi"] = [t for _, t in rows]
    erasure.erase_locations(session, [i for i, _ in rows])

    rows = _closed(session, Complaint.closed_at < now - timedelta(days=policy.note_days))
    with_notes = erasure.notes_pending(session, [i for i, _ in rows])
    rows = [(i, t) for i, t in rows if i in with_notes]
    report.notes_erased = len(rows)
    report.tickets["catatan"] = [t for _, t in rows]
    erasure.erase_notes(session, [i for i, _ in rows])

    # Photos may show third parties, plates and addresses: only while the case needs them.
    cutoff = now - timedelta(days=policy.photo_days)
    old_photos = session.execute(
        select(Photo.id, Photo.path, Complaint.ticket)
        .join(Complaint, Complaint.id == Photo.complaint_id)
        .where(Complaint.status.not_in(OPEN_STATUSES), Complaint.closed_at < cutoff)
    ).all()
    report.tickets["foto"] = sorted(photo_tickets | {ticket for _, _, ticket in old_photos})
    if old_photos:
        ids = [pid for pid, _, _ in old_photos]
        paths = {path for _, path, _ in old_photos}
        for chunk in range(0, len(ids), 500):
            session.execute(delete(Photo).where(Photo.id.in_(ids[chunk : chunk + 500])))
        report.photos_removed += len(ids)
        # A file another (newer) photo row still uses stays (Telegram reuses file ids).
        still_used = set(session.scalars(select(Photo.path).where(Photo.path.in_(paths))).all())
        files.extend(p for p in sorted(paths) if p not in still_used)
    report.files_to_delete = [_resolve(data_dir, path) for path in files]

    cutoff = now - timedelta(days=policy.survey_link_days)
    report.survey_links_dropped = skm.forget_respondents(session, cutoff)
    report.survey_occupations_erased = skm.forget_occupation_texts(session, cutoff)
    report.survey_suggestions_erased = skm.forget_suggestions(
        session, now - timedelta(days=policy.survey_suggestion_days)
    )
    if shared:
        purge_shared(session, policy, now, report)
    return report


def purge_shared(session: Session, policy: RetentionPolicy, now: datetime, report: RetentionReport) -> None:
    """The tables no kecamatan owns (inbox, outbox, dialog states, residents' kecamatan picks),
    counted into `report`. Once per run for the whole register, with ONE office's periods
    (bot/jobs/retention_job.py: the default office's): run per kecamatan, the shortest period
    of any kecamatan would win for all, and each would count the same rows again.
    The conditions that ask who a chat belongs to read every kecamatan (across_kecamatan)."""
    # Raw updates carry names, user ids and message text; once handled they are not needed.
    cutoff = now - timedelta(days=policy.inbox_days)
    report.inbox_cleared = _count(
        session.execute(
            delete(InboxItem)
            .where(InboxItem.handled_at.is_not(None), InboxItem.handled_at < cutoff)
            .execution_options(synchronize_session=False)
        )
    )
    cutoff = now - timedelta(days=policy.outbox_days)
    report.outbox_cleared = _count(
        session.execute(
            delete(OutboxItem)
            .where(
                or_(
                    OutboxItem.sent_at < cutoff,
                    (OutboxItem.failed_at < cutoff) & OutboxItem.complaint_id.is_(None),
                )
            )
            .execution_options(synchronize_session=False)
        )
    )
    # Sent to a private chat that no longer belongs to anyone (an erased reporter, such as
    # the confirmation of the erasure itself): nothing needs it, and its chat id was theirs.
    # The outbox is shared by every kecamatan, so "anyone" is a person or officer of any of
    # them (across_kecamatan): scoped, one kecamatan's run would take another's chats for
    # nobody's and delete their messages (the prompts whose buttons are removed later).
    owned = exists().where(Person.channel == OutboxItem.channel, Person.channel_user_id == OutboxItem.chat_id)
    officer = OutboxItem.chat_id.in_(select(cast(Officer.telegram_id, String)))
    report.outbox_cleared += _count(
        session.execute(
            across_kecamatan(
                delete(OutboxItem)
                .where(
                    OutboxItem.sent_at.is_not(None), OutboxItem.complaint_id.is_(None),
                    ~OutboxItem.chat_id.startswith("-"), ~owned, ~officer,
                )
                .execution_options(synchronize_session=False)
            )
        )
    )
    # An undelivered notification stays (its card says "tidak terkirim"), without its text.
    session.execute(
        update(OutboxItem)
        .where(OutboxItem.failed_at < cutoff, OutboxItem.complaint_id.is_not(None))
        .values(payload={})
        .execution_options(synchronize_session=False)
    )
    cutoff = now - timedelta(days=policy.dialog_days)
    report.dialogs_dropped = _count(
        session.execute(
            delete(DialogState).where(DialogState.updated_at < cutoff).execution_options(synchronize_session=False)
        )
    )
    # A resident's kecamatan pick names their chat account: personal data, kept only while
    # it saves asking again. Its period is dialog_days: like a dialog state it is channel
    # plumbing (domain.md 5: collect only what the purpose needs), and losing it costs one
    # question, or none when their Person row names one kecamatan (bot/dialogs/kecamatan.py
    # takes it from there). "No inbound" is: picked before the cutoff, no dialog step since
    # (a dialog state of any chat of theirs updated after it), no Person of theirs in any
    # kecamatan written to since; a pick whose Person has an open complaint stays, so the
    # resident's next message about it lands in its kecamatan.
    pick = ChatKecamatan
    open_case = exists().where(Complaint.reporter_id == Person.id, Complaint.status.in_(OPEN_STATUSES))
    still_theirs = exists().where(
        Person.channel == pick.channel, Person.channel_user_id == pick.user_id,
        or_(Person.last_inbound_at >= cutoff, open_case),
    )
    stepped = exists().where(
        DialogState.channel == pick.channel, DialogState.user_id == pick.user_id, DialogState.updated_at >= cutoff,
    )
    report.kecamatan_picks_dropped = _count(
        session.execute(
            across_kecamatan(
                delete(pick)
                .where(pick.chosen_at < cutoff, ~still_theirs, ~stepped)
                .execution_options(synchronize_session=False)
            )
        )
    )


def _closed(session: Session, *where: ColumnElement[bool]) -> list[tuple[int, str]]:
    return [
        (cid, ticket)
        for cid, ticket in session.execute(
            select(Complaint.id, Complaint.ticket)
            .where(Complaint.status.not_in(OPEN_STATUSES), Complaint.closed_at.is_not(None), *where)
            .order_by(Complaint.id)
        ).all()
    ]


def _with_content(session: Session, rows: list[tuple[int, str]]) -> list[tuple[int, str]]:
    """The complaints among rows that still hold a description, location, note or photo."""
    if not rows:
        return []
    ids = [i for i, _ in rows]
    keep: set[int] = erasure.notes_pending(session, ids)
    for chunk in range(0, len(ids), 500):
        part = ids[chunk : chunk + 500]
        keep.update(
            session.scalars(
                select(Complaint.id).where(
                    Complaint.id.in_(part),
                    or_(
                        Complaint.description_erased_at.is_(None),
                        Complaint.address.is_not(None),
                        Complaint.latitude.is_not(None),
                        Complaint.longitude.is_not(None),
                        exists().where(Photo.complaint_id == Complaint.id),
                    ),
                )
            ).all()
        )
    return [(i, t) for i, t in rows if i in keep]


def _resolve(data_dir: Path, stored: str) -> Path:
    return erasure.resolve(data_dir, stored)


def delete_files(paths: list[Path]) -> int:
    """Remove the files of a committed purge; a file already gone is not an error."""
    removed = 0
    for path in paths:
        try:
            path.unlink()
            removed += 1
        except FileNotFoundError:
            pass
    return removed
