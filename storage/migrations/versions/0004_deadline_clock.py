"""deadline clock (tunda, resolution deadline, reminders)

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02 12:30:00
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from alembic import op

import storage.models

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

# The defaults of the office file (bot/config/office_jelbuk.toml [pengaduan]): resolution within 60
# calendar days of receipt. Rows written after this migration get the office's own setting.
_RESOLVE_DAYS = 60
_TZ = ZoneInfo("Asia/Jakarta")


def _aware(value: object) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    assert isinstance(value, datetime)
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _date(value: object) -> date:
    return date.fromisoformat(value) if isinstance(value, str) else value  # type: ignore[return-value]


def upgrade() -> None:
    with op.batch_alter_table("complaints") as batch:
        batch.add_column(sa.Column("resolve_due", sa.Date(), nullable=True))
        batch.add_column(sa.Column("current_due", sa.Date(), nullable=True))
        batch.add_column(sa.Column("postponed_until", sa.Date(), nullable=True))
        batch.add_column(sa.Column("postponed_from", sa.String(length=20), nullable=True))
        batch.add_column(sa.Column("postponed_at", storage.models.UTCDateTime(timezone=True), nullable=True))
        batch.create_index("ix_complaints_status_current_due", ["status", "current_due"])
    with op.batch_alter_table("status_history") as batch:
        batch.add_column(sa.Column("due_on", sa.Date(), nullable=True))
        batch.add_column(sa.Column("on_time", sa.Boolean(), nullable=True))
    op.create_table(
        "reminder_claims",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("complaint_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("claimed_at", storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("sent_at", storage.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("recipients", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["complaint_id"], ["complaints.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("complaint_id", "kind", "due_on"),
    )
    op.create_index("ix_reminder_claims_complaint_id", "reminder_claims", ["complaint_id"])
    _fill()


def _fill() -> None:
    """Existing rows: the resolution deadline from receipt, the current status's deadline, and
    on the history each change's deadline and, for a resolution, whether it was on time."""
    conn = op.get_bind()
    complaints = sa.table(
        "complaints", sa.column("id", sa.Integer()), sa.column("status", sa.String()),
        sa.column("received_at", storage.models.UTCDateTime()), sa.column("verify_due", sa.Date()),
        sa.column("followup_due", sa.Date()), sa.column("verified_at", storage.models.UTCDateTime()),
        sa.column("resolve_due", sa.Date()), sa.column("current_due", sa.Date()),
    )
    history = sa.table(
        "status_history", sa.column("id", sa.Integer()), sa.column("complaint_id", sa.Integer()),
        sa.column("at", storage.models.UTCDateTime()), sa.column("to_status", sa.String()),
        sa.column("due_on", sa.Date()), sa.column("on_time", sa.Boolean()),
    )
    dues: dict[int, tuple[date, date, date, datetime | None]] = {}
    for row in conn.execute(sa.select(complaints)).mappings():
        received = _aware(row["received_at"])
        assert received is not None
        resolve = received.astimezone(_TZ).date() + timedelta(days=_RESOLVE_DAYS)
        verify, followup = _date(row["verify_due"]), _date(row["followup_due"])
        current = {"diterima": verify, "diverifikasi": followup, "ditindaklanjuti": resolve}.get(row["status"])
        dues[row["id"]] = (verify, followup, resolve, _aware(row["verified_at"]))
        conn.execute(
            complaints.update().where(complaints.c.id == row["id"])
            .values(resolve_due=resolve, current_due=current)
        )
    for row in conn.execute(sa.select(history)).mappings():
        if row["complaint_id"] not in dues:
            continue
        verify, followup, resolve, verified_at = dues[row["complaint_id"]]
        due = {"diterima": verify, "diverifikasi": followup, "ditindaklanjuti": resolve}.get(row["to_status"])
        on_time = None
        if row["to_status"] == "selesai":
            at = _aware(row["at"])
            assert at is not None
            on_time = (
                verified_at is not None and verified_at.astimezone(_TZ).date() <= verify
                and at.astimezone(_TZ).date() <= resolve
            )
        if due is not None or on_time is not None:
            conn.execute(
                history.update().where(history.c.id == row["id"]).values(due_on=due, on_time=on_time)
            )


def downgrade() -> None:
    op.drop_index("ix_reminder_claims_complaint_id", table_name="reminder_claims")
    op.drop_table("reminder_claims")
    with op.batch_alter_table("status_history") as batch:
        batch.drop_column("on_time")
        batch.drop_column("due_on")
    with op.batch_alter_table("complaints") as batch:
        batch.drop_index("ix_complaints_status_current_due")
        batch.drop_column("postponed_at")
        batch.drop_column("postponed_from")
        batch.drop_column("postponed_until")
        batch.drop_column("current_due")
        batch.drop_column("resolve_due")
