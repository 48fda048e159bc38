"""personal data (erasure, requests, breaches)

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 12:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.models

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("complaints") as batch:
        batch.add_column(sa.Column("description_redacted", sa.Text(), nullable=True))
        batch.add_column(sa.Column("redaction_approved_by", sa.String(length=200), nullable=True))
        batch.add_column(sa.Column("redaction_approved_at", storage.models.UTCDateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("description_erased_at", storage.models.UTCDateTime(timezone=True), nullable=True))
    op.create_table(
        "pdp_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("via", sa.String(length=20), nullable=False),
        sa.Column("requester", sa.String(length=200), nullable=False),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.Column("received_at", storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("due_at", storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("recorded_by", sa.String(length=200), nullable=False),
        sa.Column("recorded_at", storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("answered_at", storage.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("answer", sa.Text(), nullable=True),
        sa.Column("answered_by", sa.String(length=200), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_pdp_requests_open", "pdp_requests", ["answered_at", "received_at"], unique=False)
    op.create_table(
        "pdp_incidents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("what", sa.Text(), nullable=False),
        sa.Column("occurred_at", storage.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("discovered_at", storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("due_at", storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("how", sa.Text(), nullable=False),
        sa.Column("affected", sa.Text(), nullable=False),
        sa.Column("actions", sa.Text(), nullable=False),
        sa.Column("notified_chats", sa.Integer(), nullable=False),
        sa.Column("unreachable", sa.Integer(), nullable=False),
        sa.Column("recorded_by", sa.String(length=200), nullable=False),
        sa.Column("recorded_at", storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )


def downgrade() -> None:
    op.drop_table("pdp_incidents")
    op.drop_index("ix_pdp_requests_open", table_name="pdp_requests")
    op.drop_table("pdp_requests")
    with op.batch_alter_table("complaints") as batch:
        batch.drop_column("description_erased_at")
        batch.drop_column("redaction_approved_at")
        batch.drop_column("redaction_approved_by")
        batch.drop_column("description_redacted")
