# Retention of personal data (UU 27/2022; domain.md section 5): each kind of data has its
# own period, after which the personal part is erased and the statistics stay.
# Invariants: nothing that an open complaint, an unsent message or an unhandled update
# still needs is touched; a reporter's identity is erased only when every complaint of
# theirs has been closed for longer than the period and they have not written since;
# photo files are returned to the caller for deletion AFTER the transaction commits, so a
# rolled-back purge never leaves rows pointing at deleted files.
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import delete, exists, func, or_, select, update
from sqlalchemy.orm import Session

from storage import skm
from storage.lifecycle import OPEN_STATUSES
from storage.models import Complaint, DialogState, InboxItem, OutboxItem, Person, Photo


@dataclass(frozen=True)
class RetentionPolicy:
    """Days each kind of personal data is kept (the office file's [retensi])."""

    reporter_identity_days: int = 730
    photo_days: int = 365
    inbox_days: int = 30
    outbox_days: int = 30
    dialog_days: int = 30
    survey_link_days: int = 365


@dataclass
class RetentionReport:
    identities_erased: int = 0
    photos_removed: int = 0
    inbox_cleared: int = 0
    outbox_cleared: int = 0
    dialogs_dropped: int = 0
    survey_links_dropped: int = 0
    files_to_delete: list[Path] = field(default_factory=list)

    @property
    def total(self) -> int:
        return (
            self.identities_erased + self.photos_removed + self.inbox_cleared
            + self.outbox_cleared + self.dialogs_dropped + self.survey_links_dropped
        )


def _count(result: object) -> int:
    return int(getattr(result, "rowcount", 0) or 0)


def purge(session: Session, policy: RetentionPolicy, now: datetime, data_dir: Path) -> RetentionReport:
    """Erase what is past its period, in the caller's transaction. Delete
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

    # Photos may show third parties, plates and addresses: only while the case needs them.
    cutoff = now - timedelta(days=policy.photo_days)
    old_photos = session.execute(
        select(Photo.id, Photo.path)
        .join(Complaint, Complaint.id == Photo.complaint_id)
        .where(Complaint.status.not_in(OPEN_STATUSES), Complaint.closed_at < cutoff)
    ).all()
    if old_photos:
        ids = [pid for pid, _ in old_photos]
        for chunk in range(0, len(ids), 500):
            session.execute(delete(Photo).where(Photo.id.in_(ids[chunk : chunk + 500])))
        report.photos_removed = len(ids)
        report.files_to_delete = [_resolve(data_dir, path) for _, path in old_photos]

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
    report.survey_links_dropped = skm.forget_respondents(session, now - timedelta(days=policy.survey_link_days))
    return report


def _resolve(data_dir: Path, stored: str) -> Path:
    path = Path(stored)
    return path if path.is_absolute() else data_dir / path


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
