"""official IKM figures from e-SUKMA; pekerjaan Lainnya free text

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 12:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.models

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_CURRENT = "superseded_at IS NULL AND removed_at IS NULL"


def upgrade() -> None:
    with op.batch_alter_table("skm_responses", schema=None) as batch_op:
        batch_op.add_column(sa.Column("pekerjaan_lainnya", sa.String(length=100), nullable=True))
    op.create_table(
        "skm_official",
        sa.Column("period", sa.String(length=10), nullable=False),
        sa.Column("value", storage.models.DecimalText(length=40), nullable=False),
        sa.Column("respondents", sa.Integer(), nullable=False),
        sa.Column("document", sa.String(length=200), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("recorded_by", sa.String(length=200), nullable=False),
        sa.Column("recorded_at", storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("superseded_at", storage.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("removed_at", storage.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("replaces_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["replaces_id"], ["skm_official.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("skm_official", schema=None) as batch_op:
        batch_op.create_index("ix_skm_official_period", ["period"], unique=False)
        batch_op.create_index(
            "uq_skm_official_current", ["period"], unique=True,
            sqlite_where=sa.text(_CURRENT), postgresql_where=sa.text(_CURRENT),
        )


def downgrade() -> None:
    with op.batch_alter_table("skm_official", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_skm_official_current",
            sqlite_where=sa.text(_CURRENT), postgresql_where=sa.text(_CURRENT),
        )
        batch_op.drop_index("ix_skm_official_period")
    op.drop_table("skm_official")
    with op.batch_alter_table("skm_responses", schema=None) as batch_op:
        batch_op.drop_column("pekerjaan_lainnya")
