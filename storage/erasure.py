# Erasing a complaint's personal content (UU 27/2022; domain.md section 5): a description,
# an address, a GPS point, photos and notes often identify the reporter or a third party,
# so erasure and retention remove them, not only the name and phone.
# Invariants:
# - what the statistics count stays exact: kind, category, desa, channel, every date and
#   status, the status history's moves (statuses, times, actors); only text and location go;
# - the description becomes the officer-approved redacted text when there is one, else the
#   fixed REDACTED_DESCRIPTION; description_erased_at records when;
# - an open complaint's content is never erased here (the case still needs it): on a
#   request it waits until the complaint is closed, and the retention job erases it then;
# - photo files go only after the transaction that removed their rows commits, and only
#   when no other photo row still points at the same file (Telegram reuses file ids).
from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import delete, event, func, or_, select, update
from sqlalchemy.orm import Session

from storage import dialog_states
from storage.lifecycle import OPEN_STATUSES
from storage.models import (
    Complaint,
    DialogState,
    InboxItem,
    OutboxItem,
    PdpRequest,
    Person,
    Photo,
    StatusChange,
)

REDACTED_DESCRIPTION = "[uraian dihapus untuk melindungi data pribadi]"
REDACTED_NOTE = "[catatan dihapus]"
CHUNK = 500
_PENDING_FILES = "sigap_files_after_commit"
log = logging.getLogger(__name__)


def _chunks(ids: Sequence[int]) -> Iterable[Sequence[int]]:
    for start in range(0, len(ids), CHUNK):
        yield ids[start : start + CHUNK]


def erase_descriptions(session: Session, ids: Sequence[int], now: datetime) -> None:
    for part in _chunks(ids):
        session.execute(
            update(Complaint)
            .where(Complaint.id.in_(part))
            .values(
                description=func.coalesce(Complaint.description_redacted, REDACTED_DESCRIPTION),
                description_erased_at=now,
            )
            .execution_options(synchronize_session=False)
        )


def erase_locations(session: Session, ids: Sequence[int]) -> None:
    # Removed rather than rounded: the desa (kept) already says where, for the statistics.
    for part in _chunks(ids):
        session.execute(
            update(Complaint)
            .where(Complaint.id.in_(part))
            .values(address=None, latitude=None, longitude=None)
            .execution_options(synchronize_session=False)
        )


def erase_notes(session: Session, ids: Sequence[int]) -> None:
    """Blank the status notes, the rejection reason and the texts of messages already sent
    or given up about these complaints (cards and notifications quote the description)."""
    for part in _chunks(ids):
        for column in (StatusChange.public_note, StatusChange.internal_note):
            session.execute(
                update(StatusChange)
                .where(StatusChange.complaint_id.in_(part), column.is_not(None), column != REDACTED_NOTE)
                .values({column.key: REDACTED_NOTE})
                .execution_options(synchronize_session=False)
            )
        session.execute(
            update(Complaint)
            .where(Complaint.id.in_(part), Complaint.reject_reason.is_not(None))
            .values(reject_reason=REDACTED_NOTE)
            .execution_options(synchronize_session=False)
        )
        session.execute(
            update(OutboxItem)
            .where(
                OutboxItem.complaint_id.in_(part),
                or_(OutboxItem.sent_at.is_not(None), OutboxItem.failed_at.is_not(None)),
            )
            .values(payload={})
            .execution_options(synchronize_session=False)
        )


def notes_pending(session: Session, ids: Sequence[int]) -> set[int]:
    """Which of these complaints still have a note text to erase."""
    found: set[int] = set()
    for part in _chunks(ids):
        found.update(
            session.scalars(
                select(StatusChange.complaint_id).where(
                    StatusChange.complaint_id.in_(part),
                    or_(
                        (StatusChange.public_note.is_not(None)) & (StatusChange.public_note != REDACTED_NOTE),
                        (StatusChange.internal_note.is_not(None)) & (StatusChange.internal_note != REDACTED_NOTE),
                    ),
                )
            ).all()
        )
        found.update(
            session.scalars(
                select(Complaint.id).where(
                    Complaint.id.in_(part),
                    Complaint.reject_reason.is_not(None),
                    Complaint.reject_reason != REDACTED_NOTE,
                )
            ).all()
        )
    return found


def remove_photos(session: Session, ids: Sequence[int]) -> tuple[int, list[str]]:
    """Delete the photo rows of these complaints; returns (rows, stored paths whose file no
    remaining row uses) so the caller deletes the files after committing."""
    rows: list[tuple[int, str]] = []
    for part in _chunks(ids):
        rows.extend(session.execute(select(Photo.id, Photo.path).where(Photo.complaint_id.in_(part))).all())
    if not rows:
        return 0, []
    photo_ids = [pid for pid, _ in rows]
    for part in _chunks(photo_ids):
        session.execute(delete(Photo).where(Photo.id.in_(part)).execution_options(synchronize_session=False))
    paths = sorted({path for _, path in rows})
    still_used = set(session.scalars(select(Photo.path).where(Photo.path.in_(paths))).all())
    return len(rows), [p for p in paths if p not in still_used]


def erase_content(session: Session, ids: Sequence[int], now: datetime) -> list[str]:
    """Everything personal in these (closed) complaints; returns photo paths to delete."""
    ids = list(ids)
    erase_descriptions(session, ids, now)
    erase_locations(session, ids)
    erase_notes(session, ids)
    return remove_photos(session, ids)[1]


def resolve(data_dir: Path, stored: str) -> Path:
    """A stored photo path is written as the channel saw it (data_dir / photos / ...)."""
    path = Path(stored)
    if path.is_absolute() or path.exists():
        return path
    return data_dir / path


def delete_after_commit(session: Session, paths: Iterable[Path]) -> None:
    """Unlink these files once the session's transaction commits; forget them on rollback."""
    pending: list[Path] | None = session.info.get(_PENDING_FILES)
    if pending is None:
        pending = session.info[_PENDING_FILES] = []

        def _committed(sess: Session) -> None:
            files = sess.info.pop(_PENDING_FILES, [])
            for file in files:
                file.unlink(missing_ok=True)

        def _rolled_back(sess: Session) -> None:
            sess.info.pop(_PENDING_FILES, None)

        event.listen(session, "after_commit", _committed, once=True)
        event.listen(session, "after_soft_rollback", _rolled_back, once=True)
    pending.extend(paths)


def _mentions(payload: object, user_id: str) -> bool:
    text = json.dumps(payload, ensure_ascii=False)
    return re.search(rf"(?<![0-9A-Za-z]){re.escape(user_id)}(?![0-9A-Za-z])", text) is not None


def _of_channel(column: Any, channel: str) -> Any:
    # A Telegram account's traces are also under each kecamatan bot's channel
    # ("telegram:<kode>", bot/channels/telegram_bots.py): the same user id on every bot; a
    # WhatsApp account's under each kecamatan number's ("whatsapp:<kode>",
    # bot/channels/whatsapp_numbers.py): the same phone number on every number.
    if channel in ("telegram", "whatsapp"):
        return or_(column == channel, column.like(f"{channel}:%"))
    return column == channel


def erase_chat_traces(session: Session, channel: str, user_id: str) -> int:
    """Raw updates already handled, messages already sent or given up, and conversation
    state of this chat account. A message still waiting (such as the confirmation of the
    erasure itself) is delivered first; the outbox retention removes it afterwards."""
    removed = 0
    handled = session.execute(select(InboxItem.id, InboxItem.payload).where(InboxItem.handled_at.is_not(None))).all()
    ids = [row_id for row_id, payload in handled if _mentions(payload, user_id)]
    for part in _chunks(ids):
        session.execute(delete(InboxItem).where(InboxItem.id.in_(part)).execution_options(synchronize_session=False))
    removed += len(ids)
    result = session.execute(
        delete(OutboxItem)
        .where(
            _of_channel(OutboxItem.channel, channel),
            OutboxItem.chat_id == user_id,
            or_(OutboxItem.sent_at.is_not(None), OutboxItem.failed_at.is_not(None)),
        )
        .execution_options(synchronize_session=False)
    )
    removed += int(getattr(result, "rowcount", 0) or 0)
    # The dialog that asked for the erasure writes its next state after us (a new row, which
    # _again_after_commit and the dialog retention drop); storage/dialog_states.py forgets
    # what the transaction had read, so that write is not mistaken for an update of a row
    # that is gone.
    dialog_states.delete_where(
        session, _of_channel(DialogState.channel, channel),
        or_(DialogState.chat_id == user_id, DialogState.user_id == user_id),
    )
    return removed


def _again_after_commit(session: Session, channel: str, user_id: str) -> None:
    """The update that asked for the erasure (with the sender's name and id) is marked
    handled, and the dialog's state written, in this same transaction, after us: once it
    commits, a second short transaction removes those too."""
    bind = session.get_bind()

    def _scrub(_sess: Session) -> None:
        try:
            with Session(bind, info=dict(session.info)) as again, again.begin():
                erase_chat_traces(again, channel, user_id)
        except Exception:  # the erasure has committed; the inbox and dialog retention remove these later
            log.exception("membersihkan sisa percakapan setelah penghapusan gagal")

    event.listen(session, "after_commit", _scrub, once=True)


def erase_person(session: Session, person: Person, now: datetime, *, via: str | None = None) -> int:
    """A reporter's erasure request ("Hapus identitas", or `sigap pdp hapus`): identity and
    chat traces now, closed complaints' content now, open complaints' content when they
    close (the retention job). Returns how many complaints had their content erased now.
    With `via`, the request is also entered in the register of requests, answered at once
    (so the office's record of data subjects' requests is complete)."""
    if via is not None:
        session.add(
            PdpRequest(
                kind="hapus", via=via, requester=f"pelapor #{person.id}", detail="Hapus identitas (Data saya)",
                received_at=now, due_at=now + timedelta(hours=72), recorded_by="sistem", recorded_at=now,
                answered_at=now, answer="Dihapus seketika oleh bot", answered_by="sistem",
            )
        )
    if person.channel_user_id:
        erase_chat_traces(session, person.channel, person.channel_user_id)
        _again_after_commit(session, person.channel, person.channel_user_id)
    person.name = None
    person.phone = None
    person.channel_user_id = None
    person.erased_at = now
    session.flush()
    closed = list(
        session.scalars(
            select(Complaint.id).where(Complaint.reporter_id == person.id, Complaint.status.not_in(OPEN_STATUSES))
        ).all()
    )
    if closed:
        paths = erase_content(session, closed, now)
        delete_after_commit(session, [Path(p) for p in paths])
        session.expire_all()
    return len(closed)


def open_complaints_of(session: Session, person_id: int) -> int:
    """How many complaints of this reporter are still being handled (their content waits)."""
    return int(
        session.scalar(
            select(func.count()).where(Complaint.reporter_id == person_id, Complaint.status.in_(OPEN_STATUSES))
        )
        or 0
    )


def approve_redaction(session: Session, complaint: Complaint, text: str, officer: str, now: datetime) -> None:
    """An officer's redacted description, used instead of the fixed text at erasure (and
    at once if the description was already erased)."""
    text = text.strip()
    if not text:
        raise ValueError("Teks uraian yang disamarkan tidak boleh kosong.")
    complaint.description_redacted = text
    complaint.redaction_approved_by = officer[:200]
    complaint.redaction_approved_at = now
    if complaint.description_erased_at is not None:
        complaint.description = text
