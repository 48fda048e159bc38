"""chat_kecamatan: the kecamatan each resident's chat identity picked

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-03 16:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.models

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "chat_kecamatan",
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("user_id", sa.String(length=64), nullable=False),
        sa.Column("kecamatan", sa.String(length=13), nullable=False),
        sa.Column("chosen_at", storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("channel", "user_id"),
    )


def downgrade() -> None:
    op.drop_table("chat_kecamatan")
