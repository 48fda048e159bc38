# The register's figure stamp: one runtime_settings row per kecamatan whose value changes in
# the same transaction as every write that can move an IKU figure or the public report card,
# so a cache of those figures (bot/dashboard/figure_cache.py) can ask "is it still true?" with
# one primary-key read instead of recomputing (issue 15).
# Invariants:
# - FIGURE_TABLES are every table the IKU table and the report card read (complaints, status
#   history, SKM answers and official IKM figures, the IKU manual registers, targets and
#   frozen figures); tests/test_figure_cache.py records the tables those reads touch and fails
#   when one is missing here. Office-file targets are not in the register: they change only
#   with a restart, which empties the in-process cache.
# - Every write to one of them through a Session bumps its kecamatan's stamp: ORM flushes (a
#   new, changed or deleted row: a status change, an edit, a correction) and ORM or Core
#   INSERT/UPDATE/DELETE statements run by session.execute (bulk SKM imports, erasure and
#   retention rewrites, respondent erasure). Only a statement sent on the raw connection would
#   pass unseen; none writes these tables (the raw ones are the inbox, outbox and exports).
# - A write marks its transaction; the bump, an upsert of a fresh random value (no
#   read-modify-write), is sent once, at the commit of the outermost transaction, after its
#   last flush. Last, so that on PostgreSQL the stamp row's lock is the last one a writer takes
#   and is held only while it commits: writers of one kecamatan never wait on it in the middle
#   of their work, nor deadlock on it against the ticket counter's row. A savepoint rolled back
#   leaves the mark (one bump too many, never one too few); a transaction rolled back writes
#   nothing. A reader reads the stamp BEFORE the figures in its own transaction, so figures
#   kept under a stamp are never older than that stamp.
# - Writes that touch none of these tables (a dialog step, an inbound message, the outbox, a
#   login) leave the stamp alone: they cannot move a figure.
from __future__ import annotations

import secrets
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import event, select
from sqlalchemy.orm import ORMExecuteState, Session, UOWTransaction

from storage.models import Setting
from storage.setting_keys import setting_key
from storage.tenancy import current

STAMP_KEY = setting_key("angka_iku_versi")
FIGURE_TABLES = frozenset({
    "complaints", "status_history", "skm_responses", "skm_official", "iku_targets", "iku_documents",
    "iku_activities", "sakip_scores", "program_indicators", "iku_frozen_figures",
})
_TOUCHED = "sigap_figures_touched"


def read_stamp(session: Session) -> str | None:
    """The session's kecamatan's stamp (None: no figure was written since it was introduced)."""
    value = session.scalar(select(Setting.value).where(Setting.key == STAMP_KEY))
    return None if value is None else str(value)


def touch(session: Session) -> None:
    """Mark the session's transaction as one that moves the figures of the kecamatan it works
    for now: its commit bumps that kecamatan's stamp. The hooks below call it; by hand only
    for a write they cannot see. The kecamatan is taken at the write, not at the commit: one
    handling batch steps through several kecamatan (bot/dialogs/kecamatan.py `scoped`, which
    flushes inside each one's scope), and commits in whichever scope it started in."""
    session.info.setdefault(_TOUCHED, set()).add(current(session))


def _touched(session: Session) -> bool:
    return current(session) in session.info.get(_TOUCHED, ())


def bump(session: Session, kode: str | None = None) -> None:
    """Give a kecamatan (the session's, by default) a new stamp now, in the session's transaction."""
    values = {"kecamatan": kode or current(session), "key": STAMP_KEY, "value": secrets.token_hex(16),
              "updated_at": datetime.now(UTC)}
    conn = session.connection()
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        stmt: Any = pg_insert(Setting).values(**values)
    else:
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        stmt = sqlite_insert(Setting).values(**values)
    stmt = stmt.on_conflict_do_update(index_elements=["kecamatan", "key"],
                                      set_={"value": stmt.excluded.value, "updated_at": stmt.excluded.updated_at})
    # On the connection: the session's transaction, without going through the session's own
    # hooks again (runtime_settings is not a figure table anyway).
    conn.execute(stmt)


def _table_of(obj: object) -> str | None:
    table = getattr(type(obj), "__table__", None)
    return getattr(table, "name", None)


def _on_flush(session: Session, _context: UOWTransaction, _instances: Any) -> None:
    if _touched(session):
        return
    changed = (*session.new, *session.deleted,
               *(o for o in session.dirty if session.is_modified(o, include_collections=False)))
    if any(_table_of(o) in FIGURE_TABLES for o in changed):
        touch(session)


def _on_execute(state: ORMExecuteState) -> None:
    if not (state.is_insert or state.is_update or state.is_delete) or _touched(state.session):
        return
    table = getattr(state.statement, "table", None)
    if getattr(table, "name", None) in FIGURE_TABLES:
        touch(state.session)


def _on_commit(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a savepoint released: the outermost commit bumps
    # The commit flushes what is pending only after this hook: flush first, so a figure row
    # still pending marks the transaction before the mark is read.
    session.flush()
    for kode in sorted(session.info.pop(_TOUCHED, ())):  # sorted: writers lock stamps in one order
        bump(session, kode)


def _on_transaction_end(session: Session, transaction: Any) -> None:
    # The outermost transaction is over (committed, or rolled back with its writes): the
    # next one starts unmarked. A savepoint's end keeps the mark.
    if transaction.parent is None:
        session.info.pop(_TOUCHED, None)


# On every Session, as storage.tenancy's hooks: a session opened beside Database bumps too.
event.listen(Session, "before_flush", _on_flush)
event.listen(Session, "do_orm_execute", _on_execute)
event.listen(Session, "before_commit", _on_commit)
event.listen(Session, "after_transaction_end", _on_transaction_end)


__all__ = ["FIGURE_TABLES", "STAMP_KEY", "bump", "read_stamp", "touch"]
