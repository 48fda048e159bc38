"""kecamatan (tenants): every register row belongs to a kecamatan

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02 22:00:00
"""

from __future__ import annotations

import warnings

import sqlalchemy as sa
from alembic import context, op

from storage.tenancy import DEFAULT_KECAMATAN, KECAMATAN_LENGTH

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

# The tables whose rows belong to one kecamatan (storage/tenancy.py says why these).
TABLES = (
    "people", "ticket_counters", "complaints", "officers", "runtime_settings", "skm_responses",
    "skm_populations", "iku_targets", "iku_documents", "iku_activities", "sakip_scores",
    "program_indicators", "iku_frozen_figures", "skm_official", "digest_claims", "pdp_requests",
    "pdp_incidents",
)
# Unique keys that become per kecamatan: table -> (old columns, new name).
UNIQUE = {
    "people": (["channel", "channel_user_id"], "uq_people_kecamatan_channel_user"),
    "complaints": (["year", "seq"], "uq_complaints_kecamatan_year_seq"),
    "officers": (["telegram_id"], "uq_officers_kecamatan_telegram_id"),
    "skm_responses": (["respondent_key", "service", "period"], "uq_skm_responses_kecamatan_respondent"),
    "iku_frozen_figures": (["code", "period"], "uq_iku_frozen_figures_kecamatan_code_period"),
}
# Primary keys that become per kecamatan: table -> old columns (kecamatan goes first).
PRIMARY = {
    "ticket_counters": ["year"],
    "runtime_settings": ["key"],
    "skm_populations": ["period", "service"],
    "digest_claims": ["chat_id", "period"],
}
# One current entry per ... and kecamatan (partial unique indexes).
CURRENT = {
    "uq_iku_targets_current": ("iku_targets", ["code", "year"]),
    "uq_sakip_scores_current": ("sakip_scores", ["year"]),
    "uq_skm_official_current": ("skm_official", ["period"]),
}
CURRENT_ROWS = "superseded_at IS NULL AND removed_at IS NULL"
ANSWERS = ["u1", "u2", "u3", "u4", "u5", "u6", "u7", "u8", "u9"]
# SQLite keeps unnamed UNIQUE constraints: named by this convention, batch mode can drop them.
NAMING = {"uq": "uq_%(table_name)s_%(column_0_N_name)s"}


def _kecamatan() -> str:
    # The register's office (storage.migrate passes Database.kecamatan, which the service
    # takes from the office file's kode_wilayah); Jelbuk when run without one.
    return str(context.config.attributes.get("kecamatan") or DEFAULT_KECAMATAN)


def _new_primary_key(table: str, columns: list[str]) -> None:
    """SQLite: copy the table with a new primary key. SQLAlchemy warns that the copied
    columns' own primary-key flags differ from the new key, and then uses the new key, which
    is what is wanted here."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*specifies columns .* as primary_key=True", category=sa.exc.SAWarning)
        with op.batch_alter_table(table, recreate="always") as b:
            b.create_primary_key(f"{table}_pkey", columns)


def _sqlite() -> bool:
    return op.get_bind().dialect.name == "sqlite"


def _unique_name(table: str, columns: list[str]) -> str:
    """The name of the unique key on `columns`: PostgreSQL's own, or on SQLite the one given
    by NAMING to an unnamed constraint (0001 made them unnamed; a downgrade of this one
    names them)."""
    for uc in sa.inspect(op.get_bind()).get_unique_constraints(table):
        if list(uc["column_names"]) == columns:
            if uc["name"]:
                return str(uc["name"])
            return f"uq_{table}_{'_'.join(columns)}"
    raise RuntimeError(f"{table}: no unique constraint on {columns}")


def _swap_unique(table: str, old: list[str], new: list[str], name: str) -> None:
    """Replace the unique key on `old` columns by one on `new`."""
    if _sqlite():
        with op.batch_alter_table(table, recreate="always", naming_convention=NAMING) as b:
            b.drop_constraint(_unique_name(table, old), type_="unique")
            b.create_unique_constraint(name, new)
        return
    op.drop_constraint(_unique_name(table, old), table, type_="unique")
    op.create_unique_constraint(name, table, new)


def _swap_primary(table: str, new: list[str]) -> None:
    if _sqlite():
        _new_primary_key(table, new)
        return
    op.drop_constraint(f"{table}_pkey", table, type_="primary")
    op.create_primary_key(f"{table}_pkey", table, new)


def upgrade() -> None:
    kode = _kecamatan()
    for table in TABLES:
        # The existing single-office register moves whole into its kecamatan.
        op.add_column(table, sa.Column("kecamatan", sa.String(KECAMATAN_LENGTH), nullable=False,
                                       server_default=kode))
        # Then no default: a row written without its kecamatan must fail, never land in one.
        if _sqlite():
            with op.batch_alter_table(table, recreate="always") as b:
                b.alter_column("kecamatan", server_default=None)
        else:
            op.alter_column(table, "kecamatan", server_default=None)
    for table, (old, name) in UNIQUE.items():
        _swap_unique(table, old, ["kecamatan", *old], name)
    for table, old in PRIMARY.items():
        _swap_primary(table, ["kecamatan", *old])
    for index, (table, columns) in CURRENT.items():
        op.drop_index(index, table_name=table)
        op.create_index(index, table, ["kecamatan", *columns], unique=True,
                        sqlite_where=sa.text(CURRENT_ROWS), postgresql_where=sa.text(CURRENT_ROWS))
    # Every SKM read is for one kecamatan: kecamatan first keeps the sums index-only (0011).
    op.drop_index("ix_skm_responses_tanggal_answers", table_name="skm_responses")
    op.create_index("ix_skm_responses_kecamatan_tanggal_answers", "skm_responses",
                    ["kecamatan", "tanggal", "service", *ANSWERS])


def downgrade() -> None:
    bind = op.get_bind()
    for table in TABLES:
        count = bind.execute(sa.text(f"SELECT COUNT(DISTINCT kecamatan) FROM {table}")).scalar_one()
        if count > 1:
            # Back to one office would merge kecamatan (and collide their tickets): refuse.
            raise RuntimeError(f"{table} memuat data {count} kecamatan: tidak bisa kembali ke satu kantor")
    op.drop_index("ix_skm_responses_kecamatan_tanggal_answers", table_name="skm_responses")
    op.create_index("ix_skm_responses_tanggal_answers", "skm_responses", ["tanggal", "service", *ANSWERS])
    for index, (table, columns) in CURRENT.items():
        op.drop_index(index, table_name=table)
        op.create_index(index, table, columns, unique=True,
                        sqlite_where=sa.text(CURRENT_ROWS), postgresql_where=sa.text(CURRENT_ROWS))
    for table, old in PRIMARY.items():
        _swap_primary(table, old)
    for table, (old, name) in UNIQUE.items():
        # Named as PostgreSQL names them (0001 left them to it).
        if _sqlite():
            with op.batch_alter_table(table, recreate="always") as b:
                b.drop_constraint(name, type_="unique")
                b.create_unique_constraint(f"{table}_{'_'.join(old)}_key", old)
        else:
            op.drop_constraint(name, table, type_="unique")
            op.create_unique_constraint(f"{table}_{'_'.join(old)}_key", table, old)
    for table in TABLES:
        if _sqlite():
            with op.batch_alter_table(table, recreate="always") as b:
                b.drop_column("kecamatan")
        else:
            op.drop_column(table, "kecamatan")
