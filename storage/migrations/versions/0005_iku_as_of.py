"""IKU figures as of a date (status history index, frozen figures)

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 12:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.models

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_status_history_at", "status_history", ["at"])
    op.create_index("ix_status_history_complaint_at", "status_history", ["complaint_id", "at"])
    op.create_table(
        "iku_frozen_figures",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("code", sa.String(10), nullable=False),
        sa.Column("period", sa.String(10), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("value", storage.models.DecimalText(length=40), nullable=True),
        sa.Column("numerator", sa.Integer(), nullable=True),
        sa.Column("denominator", sa.Integer(), nullable=True),
        sa.Column("definition", sa.String(40), nullable=True),
        sa.Column("frozen_by", sa.String(200), nullable=False),
        sa.Column("frozen_at", storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.UniqueConstraint("code", "period"),
    )


def downgrade() -> None:
    op.drop_table("iku_frozen_figures")
    op.drop_index("ix_status_history_complaint_at", table_name="status_history")
    op.drop_index("ix_status_history_at", table_name="status_history")
