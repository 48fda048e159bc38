"""officer assignment (complaints.assigned_to, assignments), date-only receipt

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 13:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.models

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        # A plain ADD COLUMN with the reference inline: a batch "create_foreign_key" would
        # copy the complaints table, which the other tables' references to it forbid.
        op.execute("ALTER TABLE complaints ADD COLUMN assigned_to INTEGER "
                   "CONSTRAINT fk_complaints_assigned_to_officers REFERENCES officers (id)")
    else:
        op.add_column("complaints", sa.Column("assigned_to", sa.Integer(), nullable=True))
        op.create_foreign_key("fk_complaints_assigned_to_officers", "complaints", "officers",
                              ["assigned_to"], ["id"])
    op.create_index("ix_complaints_assigned_to", "complaints", ["assigned_to"], unique=False)
    op.add_column("complaints", sa.Column("received_date_only", sa.Boolean(), nullable=True))
    op.create_table(
        "assignments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("complaint_id", sa.Integer(), nullable=False),
        sa.Column("officer_id", sa.Integer(), nullable=True),
        sa.Column("officer_name", sa.String(length=200), nullable=True),
        sa.Column("at", storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("by_name", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(["complaint_id"], ["complaints.id"]),
        sa.ForeignKeyConstraint(["officer_id"], ["officers.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_assignments_complaint_id", "assignments", ["complaint_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_assignments_complaint_id", table_name="assignments")
    op.drop_table("assignments")
    if op.get_bind().dialect.name == "sqlite":
        op.execute("ALTER TABLE complaints DROP COLUMN received_date_only")
    else:
        op.drop_column("complaints", "received_date_only")
    op.drop_index("ix_complaints_assigned_to", table_name="complaints")
    if op.get_bind().dialect.name == "sqlite":
        # A copy of the table (references are off while migrating, storage/migrations/env.py):
        # after 0012 rebuilt complaints, the reference is a table constraint, which a plain
        # DROP COLUMN refuses.
        with op.batch_alter_table("complaints", recreate="always") as b:
            b.drop_column("assigned_to")
    else:
        op.drop_constraint("fk_complaints_assigned_to_officers", "complaints", type_="foreignkey")
        op.drop_column("complaints", "assigned_to")
