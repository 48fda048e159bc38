"""kecamatan_indexes: the complaint indexes led by kecamatan

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-04 01:00:00
"""

from __future__ import annotations

from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

# Every read of complaints is for one kecamatan (storage/tenancy.py adds kecamatan = ? to
# it). With the indexes led by status or received_at, one kecamatan's /kasus, lists and
# year scans walked the index entries of all 31 kecamatan sharing a database and fetched
# their rows only to drop them. Led by kecamatan, each read is a range of its own entries.
# The year's list COUNT (status IN (...) over a year of received_at) took one random table
# read per complaint through the received_at index (SQLite 1M: 3.3-3.8 s); with status in
# the index after received_at it is counted from the index alone. (kecamatan, status) also
# leads the two deadline indexes, but is kept on its own: SQLite reads the open complaints
# through it in table order, and through (kecamatan, status, current_due) in deadline order,
# one random table read each (the dashboard's open per desa, 1M: 468 -> 661 ms without it).
# old name: (its columns, new name, new columns)
REPLACED = {
    "ix_complaints_received_at": (
        ["received_at"], "ix_complaints_kecamatan_received_at_status", ["kecamatan", "received_at", "status"]),
    "ix_complaints_status_resolved_at": (
        ["status", "resolved_at"], "ix_complaints_kecamatan_status_resolved_at", ["kecamatan", "status", "resolved_at"]),
    "ix_complaints_status_current_due": (
        ["status", "current_due"], "ix_complaints_kecamatan_status_current_due", ["kecamatan", "status", "current_due"]),
    # Created last on purpose: SQLite weighs the indexes newest first and keeps the first of
    # two that cost the same, as this one and (kecamatan, status, current_due) do for a
    # filter on status alone; made first, it lost to the deadline order (100k: 18 -> 28 ms).
    "ix_complaints_status": (["status"], "ix_complaints_kecamatan_status", ["kecamatan", "status"]),
}


# Every new index is built before any old one is dropped. On PostgreSQL the migration is one
# transaction: CREATE INDEX holds a SHARE lock (writes to complaints wait, reads go on) and
# DROP INDEX an ACCESS EXCLUSIVE one (reads wait too) until the commit, so dropping last
# keeps the reads going for all but the last moment. 1M complaints on this 2-core machine,
# loaded: about 10 s up, 5 s down, during which a batch that writes a complaint waits
# (nothing is lost: the inbox and outbox are other tables). Not CONCURRENTLY: a build that
# fails half way leaves an invalid index that IF NOT EXISTS would then take for done.
def upgrade() -> None:
    for _, new, columns in REPLACED.values():
        op.create_index(new, "complaints", columns)
    for old in REPLACED:
        op.drop_index(old, table_name="complaints")


def downgrade() -> None:
    for old, (columns, _, _) in REPLACED.items():
        op.create_index(old, "complaints", columns)
    for _, new, _ in REPLACED.values():
        op.drop_index(new, table_name="complaints")
