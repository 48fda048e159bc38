# Schema migrations through Alembic, run programmatically (no alembic.ini to ship).
# Invariant: `upgrade` is idempotent and is applied at every startup.
from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

from storage.db import Database

MIGRATIONS = Path(__file__).parent / "migrations"


def _config(db: Database) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["engine"] = db.engine
    return cfg


def upgrade(db: Database, revision: str = "head") -> None:
    command.upgrade(_config(db), revision)


def downgrade(db: Database, revision: str) -> None:
    command.downgrade(_config(db), revision)


def revision(db: Database, message: str) -> None:
    """Developer tool: autogenerate a migration from the models."""
    command.revision(_config(db), message=message, autogenerate=True)
