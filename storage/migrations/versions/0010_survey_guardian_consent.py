"""survey: guardian consent for respondents under the survey's age limit

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 18:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Not null with a server default: the answers already stored were all given by the
    # respondents themselves (no guardian step existed), so false is their true value.
    with op.batch_alter_table("skm_responses", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("persetujuan_wali", sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    with op.batch_alter_table("skm_responses", schema=None) as batch_op:
        batch_op.drop_column("persetujuan_wali")
