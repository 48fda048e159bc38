# The complaint lifecycle: a transition table and the one function that moves a status.
# Invariants: `transition` is the only code that changes Complaint.status after intake; it
# checks the move against MOVES, the actor's role and the required fields before touching
# anything, then sets the status, bumps the version and appends one StatusChange row in the
# caller's transaction. A refused move raises and leaves the complaint unchanged.
# The deadline clock: every open status has a deadline, kept in Complaint.current_due and
# written on the StatusChange that entered it (due_on); a move into selesai records whether
# it met the standard in effect (on_time). Ditunda is open (never counted as resolved); its
# time does not count: "lanjutkan" moves the deadlines still running on by the days waited.
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.deadlines import DEFAULT_POLICY, DeadlinePolicy
from storage.lengths import limit
from storage.models import Complaint, StatusChange

T = TypeVar("T")

DITERIMA = "diterima"
DIVERIFIKASI = "diverifikasi"
DITINDAKLANJUTI = "ditindaklanjuti"
SELESAI = "selesai"
DITOLAK = "ditolak"
DITERUSKAN = "diteruskan"
DUPLIKAT = "duplikat"
DITUNDA = "ditunda"

STATUSES = (DITERIMA, DIVERIFIKASI, DITINDAKLANJUTI, DITUNDA, SELESAI, DITOLAK, DITERUSKAN, DUPLIKAT)
OPEN_STATUSES = (DITERIMA, DIVERIFIKASI, DITINDAKLANJUTI, DITUNDA)
# The statuses a complaint can be postponed from (and goes back to on "lanjutkan").
POSTPONABLE = (DITERIMA, DIVERIFIKASI, DITINDAKLANJUTI)
# Honest outcomes that are not "resolved" (domain.md section 3).
CLOSED_UNRESOLVED = (DITOLAK, DITERUSKAN, DUPLIKAT)

STATUS_LABELS = {
    DITERIMA: "Diterima",
    DIVERIFIKASI: "Diverifikasi",
    DITINDAKLANJUTI: "Ditindaklanjuti",
    DITUNDA: "Ditunda",
    SELESAI: "Selesai",
    DITOLAK: "Ditolak",
    DITERUSKAN: "Diteruskan ke instansi lain",
    DUPLIKAT: "Duplikat",
}

OFFICER_ROLES = ("petugas", "koordinator", "pimpinan", "admin")
HANDLERS = ("petugas", "koordinator", "admin")
DECIDERS = ("koordinator", "admin")


# "kembalikan": the status a forward move came from, for each status it entered.
CORRECTABLE = {
    DIVERIFIKASI: DITERIMA,
    DITINDAKLANJUTI: DIVERIFIKASI,
    SELESAI: DITINDAKLANJUTI,
    DITOLAK: DITERIMA,
    DITERUSKAN: DITERIMA,
    DUPLIKAT: DITERIMA,
}


@dataclass(frozen=True)
class Move:
    action: str
    source: str
    target: str
    label: str
    roles: tuple[str, ...]  # officer roles allowed; "warga" for the reporter
    # "note", "reason", "forwarded_to", "duplicate_of", "postpone" (a reason and a new date),
    # "correction" (the reason a move is taken back)
    needs: str | None = None


MOVES: tuple[Move, ...] = (
    Move("verifikasi", DITERIMA, DIVERIFIKASI, "Verifikasi", HANDLERS),
    Move("tolak", DITERIMA, DITOLAK, "Tolak", DECIDERS, needs="reason"),
    Move("teruskan", DITERIMA, DITERUSKAN, "Teruskan (bukan wewenang)", DECIDERS, needs="forwarded_to"),
    Move("duplikat", DITERIMA, DUPLIKAT, "Tandai duplikat", DECIDERS, needs="duplicate_of"),
    Move("tindaklanjuti", DIVERIFIKASI, DITINDAKLANJUTI, "Tindak lanjuti", HANDLERS),
    Move("selesaikan", DITINDAKLANJUTI, SELESAI, "Selesai", HANDLERS, needs="note"),
    Move("buka_kembali", SELESAI, DITINDAKLANJUTI, "Buka kembali", ("warga",)),
    *(Move("tunda", s, DITUNDA, "Tunda", DECIDERS, needs="postpone") for s in POSTPONABLE),
    # Back to the status it was postponed from (Complaint.postponed_from), one row per status.
    *(Move("lanjutkan", DITUNDA, s, "Lanjutkan", HANDLERS) for s in POSTPONABLE),
    # A wrong press corrected (issue 10): one step back, with a reason, by a decider; only
    # back over the forward move that entered the status (see _find_move).
    *(Move("kembalikan", source, back, "Kembalikan (salah tekan)", DECIDERS, needs="correction")
      for source, back in CORRECTABLE.items()),
)
# Role, label and needs are the same for every row of an action.
MOVES_BY_ACTION = {m.action: m for m in MOVES}


class MoveRefused(Exception):
    """A move that is not allowed; the message is Indonesian and safe to show the actor."""


class StaleMove(MoveRefused):
    """The complaint changed since the button was drawn (another officer was faster)."""


def moves_from(status: str, role: str | None = None) -> list[Move]:
    """The actions possible from `status`, one per action."""
    seen: dict[str, Move] = {}
    for m in MOVES:
        if m.source == status and (role is None or role in m.roles):
            seen.setdefault(m.action, m)
    return list(seen.values())


def _find_move(action: str, complaint: Complaint) -> Move | None:
    for m in MOVES:
        if m.action == action and m.source == complaint.status:
            if action == "lanjutkan" and m.target != complaint.postponed_from:
                continue
            return m
    return None


@dataclass(frozen=True)
class Actor:
    kind: str  # "petugas" (any officer role), "warga", "sistem"
    id: int | None
    name: str | None
    role: str  # officer role, or "warga" / "sistem"


def transition(
    session: Session,
    complaint: Complaint,
    action: str,
    actor: Actor,
    now: datetime,
    *,
    public_note: str | None = None,
    internal_note: str | None = None,
    forwarded_to: str | None = None,
    duplicate_of: str | None = None,
    expected_version: int | None = None,
    reopen_window: timedelta | None = None,
    max_reopens: int = 1,
    postpone_until: date | None = None,
    policy: DeadlinePolicy | None = None,
) -> StatusChange:
    p = policy or DEFAULT_POLICY
    today = p.local_date(now)
    generic = MOVES_BY_ACTION.get(action)
    if generic is None:
        raise MoveRefused(f"Tindakan tidak dikenal: {action}.")
    if expected_version is not None and complaint.version != expected_version:
        raise StaleMove(
            f"Laporan {complaint.ticket} sudah diubah (status sekarang: "
            f"{STATUS_LABELS[complaint.status]}). Tindakan Anda tidak dicatat."
        )
    found_move = _find_move(action, complaint)
    if found_move is None:
        raise MoveRefused(
            f"Laporan {complaint.ticket} berstatus {STATUS_LABELS[complaint.status]}; "
            f"tindakan '{generic.label}' tidak berlaku."
        )
    move = found_move
    if actor.role not in move.roles:
        raise MoveRefused(f"Peran Anda ({actor.role}) tidak boleh melakukan '{move.label}'.")
    if action == "kembalikan":
        # Only the forward move that entered this status is taken back: not a reopening by
        # the reporter, not a resumption, and never two steps.
        entered_from = session.scalar(
            select(StatusChange.from_status).where(StatusChange.complaint_id == complaint.id)
            .order_by(StatusChange.id.desc()).limit(1)
        )
        if entered_from != move.target:
            raise MoveRefused(
                f"Laporan {complaint.ticket} tidak bisa dikembalikan: status "
                f"{STATUS_LABELS[complaint.status]} tidak berasal dari langkah sebelumnya."
            )
        if not (public_note and public_note.strip()):
            raise MoveRefused("Alasan pengembalian wajib diisi.")
    if move.needs == "reason" and not (public_note and public_note.strip()):
        raise MoveRefused("Alasan penolakan wajib diisi.")
    if move.needs == "note" and not (public_note and public_note.strip()):
        raise MoveRefused("Catatan penyelesaian wajib diisi.")
    if move.needs == "postpone":
        if not (public_note and public_note.strip()):
            raise MoveRefused("Alasan penundaan wajib diisi.")
        if postpone_until is None:
            raise MoveRefused("Tanggal baru wajib diisi.")
        if postpone_until <= today:
            raise MoveRefused("Tanggal baru harus sesudah hari ini.")
    if move.needs == "forwarded_to" and not (forwarded_to and forwarded_to.strip()):
        raise MoveRefused("Instansi tujuan wajib diisi.")
    if move.needs == "forwarded_to" and len(forwarded_to or "") > (longest := limit(Complaint.forwarded_to) or 0):
        # Typed by an officer in chat: refused here, on SQLite as PostgreSQL would.
        raise MoveRefused(f"Nama instansi tujuan paling banyak {longest} karakter.")
    if move.needs == "duplicate_of":
        original = (duplicate_of or "").strip().upper()
        if not original:
            raise MoveRefused("Nomor tiket laporan asli wajib diisi.")
        if original == complaint.ticket:
            raise MoveRefused("Laporan tidak bisa menjadi duplikat dirinya sendiri.")
        found = session.scalar(select(Complaint.id).where(Complaint.ticket == original))
        if found is None:
            raise MoveRefused(f"Tiket {original} tidak ditemukan.")
        duplicate_of = original
    if action == "buka_kembali":
        if complaint.reopen_count >= max_reopens:
            raise MoveRefused("Laporan ini sudah pernah dibuka kembali.")
        if (
            reopen_window is not None
            and complaint.resolved_at is not None
            and now - complaint.resolved_at > reopen_window
        ):
            raise MoveRefused("Batas waktu untuk membuka kembali laporan ini sudah lewat.")

    # Every check passed: only now is the record touched.
    source = complaint.status
    complaint.status = move.target
    complaint.version += 1
    on_time: bool | None = None
    if action in ("tunda", "lanjutkan"):
        pass  # a pause: the milestones (verified_at, followed_up_at) stay as they were
    elif action == "kembalikan":
        _take_back(complaint, source)
    elif move.target == DIVERIFIKASI:
        complaint.verified_at = now
    elif move.target == DITINDAKLANJUTI:
        if complaint.followed_up_at is None:
            complaint.followed_up_at = now
        if action == "buka_kembali":
            complaint.reopen_count += 1
            complaint.resolved_at = None
            complaint.closed_at = None
            complaint.feedback = "belum"
            # A new follow-up and resolution deadline, counted from the reopening.
            complaint.followup_due = p.followup_due(today)
            complaint.resolve_due = p.resolve_due(today, complaint.category, complaint.kind)
    elif move.target == SELESAI:
        complaint.resolved_at = now
        complaint.closed_at = now
        complaint.feedback = None
        on_time = _met_standard(complaint, p, today)
    elif move.target in CLOSED_UNRESOLVED:
        complaint.closed_at = now
        if move.target == DITOLAK:
            complaint.reject_reason = public_note
        elif move.target == DITERUSKAN:
            complaint.forwarded_to = forwarded_to
        elif move.target == DUPLIKAT:
            complaint.duplicate_of = duplicate_of
    if action == "tunda":
        complaint.postponed_from = source
        complaint.postponed_until = postpone_until
        complaint.postponed_at = now
    elif action == "lanjutkan":
        _resume_clock(complaint, p, today)
    complaint.current_due = due_of_status(complaint)
    change = StatusChange(
        complaint_id=complaint.id,
        at=now,
        actor_kind=actor.kind,
        actor_id=actor.id,
        actor_name=actor.name,
        from_status=source,
        to_status=move.target,
        public_note=public_note,
        internal_note=internal_note,
        due_on=complaint.current_due,
        on_time=on_time,
    )
    session.add(change)
    session.flush()
    return change


def preview(
    session: Session,
    complaint: Complaint,
    action: str,
    actor: Actor,
    now: datetime,
    show: Callable[[Complaint, StatusChange], T],
    **kwargs: Any,
) -> T:
    """What a move would look like: `transition` runs in a savepoint with every check of the
    real move (a refused one raises MoveRefused), `show` reads the moved complaint and its
    history row, and the savepoint is rolled back, so nothing of it stays."""
    nested = session.begin_nested()
    try:
        return show(complaint, transition(session, complaint, action, actor, now, **kwargs))
    finally:
        nested.rollback()


def _take_back(complaint: Complaint, source: str) -> None:
    """Undo what the forward move out of the status now entered again had set."""
    if source == DIVERIFIKASI:
        complaint.verified_at = None
    elif source == DITINDAKLANJUTI:
        if complaint.reopen_count == 0:  # after a reopening it is the first follow-up's
            complaint.followed_up_at = None
    elif source == SELESAI:
        complaint.resolved_at = None
        complaint.closed_at = None
        complaint.feedback = None
    else:  # ditolak, diteruskan, duplikat: open again
        complaint.closed_at = None
        complaint.reject_reason = None
        complaint.forwarded_to = None
        complaint.duplicate_of = None


def due_of_status(complaint: Complaint) -> date | None:
    """The deadline of the complaint's current status; None once it is closed."""
    status = complaint.status
    if status == DITERIMA:
        return complaint.verify_due
    if status == DIVERIFIKASI:
        return complaint.followup_due
    if status == DITINDAKLANJUTI:
        return complaint.resolve_due
    if status == DITUNDA:
        return complaint.postponed_until
    return None


def _met_standard(complaint: Complaint, p: DeadlinePolicy, today: date) -> bool:
    """Verified by its verify deadline and resolved (today) by the resolution deadline in
    effect, i.e. the one set by the last reopening if there was one."""
    verified = complaint.verified_at is not None and p.local_date(complaint.verified_at) <= complaint.verify_due
    return verified and complaint.resolve_due is not None and today <= complaint.resolve_due


def _resume_clock(complaint: Complaint, p: DeadlinePolicy, today: date) -> None:
    start = p.local_date(complaint.postponed_at) if complaint.postponed_at is not None else today
    back_to = complaint.status
    # Only the deadlines still ahead of the complaint at the postponement move on.
    if back_to == DITERIMA:
        complaint.verify_due = p.extend(complaint.verify_due, start, today)
    if back_to in (DITERIMA, DIVERIFIKASI):
        complaint.followup_due = p.extend(complaint.followup_due, start, today)
    if complaint.resolve_due is not None:
        complaint.resolve_due = p.extend(
            complaint.resolve_due, start, today, working=p.resolve_working_days
        )
    complaint.postponed_from = None
    complaint.postponed_until = None
    complaint.postponed_at = None
