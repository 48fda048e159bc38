"""register fixes (key lengths, import reasons)

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 12:30:00
"""

from __future__ import annotations

import hashlib

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


# runtime_settings keys are name:<first 40 hex of SHA-256 of the data> from now on
# (storage.setting_keys; copied here so that this step does not change if that module does).
# SQLite stored the old, over-long `skm_impor:<64 hex of the file>` keys without complaint
# (PostgreSQL refused them, so it has none): rewrite them, so a file imported before is still
# recognised.
_OLD_PREFIX = "skm_impor:"


def _new_key(old: str) -> str:
    data = old[len(_OLD_PREFIX):]
    return _OLD_PREFIX + hashlib.sha256(data.encode("utf-8")).hexdigest()[:40]


def upgrade() -> None:
    conn = op.get_bind()
    settings = sa.table("runtime_settings", sa.column("key", sa.String))
    rows = conn.execute(sa.select(settings.c.key).where(settings.c.key.like(_OLD_PREFIX + "%"))).scalars().all()
    for old in rows:
        if old.startswith(_OLD_PREFIX) and len(old) > 64:
            conn.execute(settings.update().where(settings.c.key == old).values(key=_new_key(old)))


def downgrade() -> None:
    # A digest cannot be turned back into the file's fingerprint: the rewritten keys stay.
    # Revision 0006's code would then not recognise those files; import them with --ulang
    # only if they were not imported before.
    pass
