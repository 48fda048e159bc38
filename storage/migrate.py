# Schema migrations through Alembic, run programmatically (no alembic.ini to ship).
# Invariant: `upgrade` is idempotent and is applied at every startup.
from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import text

from storage.db import Database

MIGRATIONS = Path(__file__).parent / "migrations"


def _config(db: Database) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["engine"] = db.engine
    # The kecamatan an existing single-office register moves into (0012_tenants).
    cfg.attributes["kecamatan"] = db.kecamatan
    return cfg


# Held while migrating on PostgreSQL: several workers started at once on one register
# migrate it one after the other (the later ones find it current), not all at the same time.
MIGRATE_LOCK = 0x51_6A_50_01


def upgrade(db: Database, revision: str = "head") -> None:
    if db.is_sqlite:  # BEGIN IMMEDIATE already lets one writer at a time
        command.upgrade(_config(db), revision)
        return
    with db.engine.connect() as lock:
        lock.execute(text("SELECT pg_advisory_lock(:key)"), {"key": MIGRATE_LOCK})
        try:
            command.upgrade(_config(db), revision)
        finally:
            lock.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": MIGRATE_LOCK})


def downgrade(db: Database, revision: str) -> None:
    command.downgrade(_config(db), revision)


def revision(db: Database, message: str) -> None:
    """Developer tool: autogenerate a migration from the models."""
    command.revision(_config(db), message=message, autogenerate=True)
