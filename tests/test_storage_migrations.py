# The Alembic migrations and the models must describe the same schema, on both backends,
# and every migration must downgrade cleanly (so a bad release can be rolled back).
from __future__ import annotations

from datetime import UTC, datetime

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, select

from storage import migrate
from storage.db import Database
from storage.models import Base, Setting
from storage.people import set_setting
from storage.setting_keys import SETTING_KEY_LENGTH, setting_key
from tests.conftest import BACKENDS, PG_URL


def test_migrations_match_the_models(db: Database) -> None:
    with db.engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(ctx, Base.metadata)
    assert diff == []


def test_downgrade_to_nothing_and_back(db: Database) -> None:
    migrate.downgrade(db, "base")
    assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
    migrate.upgrade(db)
    assert set(Base.metadata.tables) <= set(inspect(db.engine).get_table_names())


def _current(db: Database) -> str | None:
    with db.engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def _revisions() -> list[str]:
    """base..head, oldest first."""
    cfg = migrate._config(Database("sqlite://"))
    script = ScriptDirectory.from_config(cfg)
    return [r.revision for r in reversed(list(script.walk_revisions()))]


def test_the_migrations_run_on_the_backend_they_say(db: Database, request: pytest.FixtureRequest) -> None:
    # The `db` fixture's id is the backend the test really ran on; with the PostgreSQL URL
    # set (CI), both ids exist, so nothing here is SQLite-only by accident.
    backend = request.node.callspec.params["db"]
    assert db.engine.dialect.name == backend
    if PG_URL:
        assert BACKENDS == ["sqlite", "postgresql"]
    assert _current(db) == _revisions()[-1]


def test_each_revision_down_and_up_again(db: Database) -> None:
    revisions = _revisions()
    # Down one step at a time from head to base, and at every step up one and down again,
    # so each downgrade runs against the schema its own upgrade made.
    for i in range(len(revisions) - 1, -1, -1):
        below = revisions[i - 1] if i else None
        migrate.downgrade(db, "-1")
        assert _current(db) == below
        migrate.upgrade(db, "+1")
        assert _current(db) == revisions[i]
        migrate.downgrade(db, "-1")
    assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
    for rev in revisions:
        migrate.upgrade(db, "+1")
        assert _current(db) == rev
    with db.engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(ctx, Base.metadata) == []


def test_0007_rewrites_the_over_long_skm_import_keys(db: Database) -> None:
    # What SQLite stored before 0007 (PostgreSQL refused it): skm_impor:<64 hex of the file>.
    migrate.downgrade(db, "0006")
    fingerprint = "ab" * 32
    old = f"skm_impor:{fingerprint}"
    with db.engine.begin() as conn:
        if db.is_sqlite:
            conn.execute(Setting.__table__.insert().values(key=old, value="lama.csv", updated_at=datetime.now(UTC)))
        conn.execute(Setting.__table__.insert().values(key="trantib_group", value="-100", updated_at=datetime.now(UTC)))
    migrate.upgrade(db)
    with db.reading() as s:
        keys = {k: v for k, v in s.execute(select(Setting.key, Setting.value))}
    expected = {"trantib_group": "-100"}
    if db.is_sqlite:
        expected[setting_key("skm_impor", fingerprint)] = "lama.csv"
    assert keys == expected
    assert all(len(k) <= SETTING_KEY_LENGTH for k in keys)


def test_an_over_long_setting_key_is_refused_on_both(db: Database) -> None:
    with pytest.raises(ValueError, match="setting_key"), db.transaction() as s:
        set_setting(s, "x" * (SETTING_KEY_LENGTH + 1), "v", datetime.now(UTC))
