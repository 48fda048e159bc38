"""aggregates: a covering index for the SKM sums by survey date

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02 18:00:00
"""

from __future__ import annotations

from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

# The SKM summary sums u1..u9 over a range of survey dates. With the index on (tanggal,
# service) alone, SQLite reads the range through it and fetches every row from the table
# at random: a year of 1M answers took 4.3 s against 1.7 s for a plain scan
# (bench/reports.py). With the answers in the index the range is read from the index alone,
# in order, in time proportional to the range (a quarter costs a quarter), on both
# backends (an index-only scan on PostgreSQL where the planner prefers it). Its prefix is
# the old index's, which it replaces.
ANSWERS = ["u1", "u2", "u3", "u4", "u5", "u6", "u7", "u8", "u9"]


def upgrade() -> None:
    op.drop_index("ix_skm_responses_tanggal", table_name="skm_responses")
    op.create_index("ix_skm_responses_tanggal_answers", "skm_responses", ["tanggal", "service", *ANSWERS])


def downgrade() -> None:
    op.drop_index("ix_skm_responses_tanggal_answers", table_name="skm_responses")
    op.create_index("ix_skm_responses_tanggal", "skm_responses", ["tanggal", "service"])
