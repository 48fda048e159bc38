# The complaint lifecycle: a transition table and the one function that moves a status.
# Invariants: `transition` is the only code that changes Complaint.status after intake; it
# checks the move against MOVES, the actor's role and the required fields before touching
# anything, then sets the status, bumps the version and appends one StatusChange row in the
# caller's transaction. A refused move raises and leaves the complaint unchanged.
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.models import Complaint, StatusChange

DITERIMA = "diterima"
DIVERIFIKASI = "diverifikasi"
DITINDAKLANJUTI = "ditindaklanjuti"
SELESAI = "selesai"
DITOLAK = "ditolak"
DITERUSKAN = "diteruskan"
DUPLIKAT = "duplikat"

STATUSES = (DITERIMA, DIVERIFIKASI, DITINDAKLANJUTI, SELESAI, DITOLAK, DITERUSKAN, DUPLIKAT)
OPEN_STATUSES = (DITERIMA, DIVERIFIKASI, DITINDAKLANJUTI)
# Honest outcomes that are not "resolved" (domain.md section 3).
CLOSED_UNRESOLVED = (DITOLAK, DITERUSKAN, DUPLIKAT)

STATUS_LABELS = {
    DITERIMA: "Diterima",
    DIVERIFIKASI: "Diverifikasi",
    DITINDAKLANJUTI: "Ditindaklanjuti",
    SELESAI: "Selesai",
    DITOLAK: "Ditolak",
    DITERUSKAN: "Diteruskan ke instansi lain",
    DUPLIKAT: "Duplikat",
}

OFFICER_ROLES = ("petugas", "koordinator", "pimpinan", "admin")
HANDLERS = ("petugas", "koordinator", "admin")
DECIDERS = ("koordinator", "admin")


@dataclass(frozen=True)
class Move:
    action: str
    source: str
    target: str
    label: str
    roles: tuple[str, ...]  # officer roles allowed; "warga" for the reporter
    needs: str | None = None  # "note", "reason", "forwarded_to", "duplicate_of"


MOVES: tuple[Move, ...] = (
    Move("verifikasi", DITERIMA, DIVERIFIKASI, "Verifikasi", HANDLERS),
    Move("tolak", DITERIMA, DITOLAK, "Tolak", DECIDERS, needs="reason"),
    Move("teruskan", DITERIMA, DITERUSKAN, "Teruskan (bukan wewenang)", DECIDERS, needs="forwarded_to"),
    Move("duplikat", DITERIMA, DUPLIKAT, "Tandai duplikat", DECIDERS, needs="duplicate_of"),
    Move("tindaklanjuti", DIVERIFIKASI, DITINDAKLANJUTI, "Tindak lanjuti", HANDLERS),
    Move("selesaikan", DITINDAKLANJUTI, SELESAI, "Selesai", HANDLERS, needs="note"),
    Move("buka_kembali", SELESAI, DITINDAKLANJUTI, "Buka kembali", ("warga",)),
)
MOVES_BY_ACTION = {m.action: m for m in MOVES}


class MoveRefused(Exception):
    """A move that is not allowed; the message is Indonesian and safe to show the actor."""


class StaleMove(MoveRefused):
    """The complaint changed since the button was drawn (another officer was faster)."""


def moves_from(status: str, role: str | None = None) -> list[Move]:
    return [m for m in MOVES if m.source == status and (role is None or role in m.roles)]


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
) -> StatusChange:
    move = MOVES_BY_ACTION.get(action)
    if move is None:
        raise MoveRefused(f"Tindakan tidak dikenal: {action}.")
    if expected_version is not None and complaint.version != expected_version:
        raise StaleMove(
            f"Laporan {complaint.ticket} sudah diubah (status sekarang: "
            f"{STATUS_LABELS[complaint.status]}). Tindakan Anda tidak dicatat."
        )
    if complaint.status != move.source:
        raise MoveRefused(
            f"Laporan {complaint.ticket} berstatus {STATUS_LABELS[complaint.status]}; "
            f"tindakan '{move.label}' tidak berlaku."
        )
    if actor.role not in move.roles:
        raise MoveRefused(f"Peran Anda ({actor.role}) tidak boleh melakukan '{move.label}'.")
    if move.needs == "reason" and not (public_note and public_note.strip()):
        raise MoveRefused("Alasan penolakan wajib diisi.")
    if move.needs == "note" and not (public_note and public_note.strip()):
        raise MoveRefused("Catatan penyelesaian wajib diisi.")
    if move.needs == "forwarded_to" and not (forwarded_to and forwarded_to.strip()):
        raise MoveRefused("Instansi tujuan wajib diisi.")
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
    if move.target == DIVERIFIKASI:
        complaint.verified_at = now
    elif move.target == DITINDAKLANJUTI:
        if complaint.followed_up_at is None:
            complaint.followed_up_at = now
        if action == "buka_kembali":
            complaint.reopen_count += 1
            complaint.resolved_at = None
            complaint.closed_at = None
            complaint.feedback = "belum"
    elif move.target == SELESAI:
        complaint.resolved_at = now
        complaint.closed_at = now
        complaint.feedback = None
    elif move.target in CLOSED_UNRESOLVED:
        complaint.closed_at = now
        if move.target == DITOLAK:
            complaint.reject_reason = public_note
        elif move.target == DITERUSKAN:
            complaint.forwarded_to = forwarded_to
        elif move.target == DUPLIKAT:
            complaint.duplicate_of = duplicate_of
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
    )
    session.add(change)
    session.flush()
    return change
