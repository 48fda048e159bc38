# Dialog states (where each chat is in its conversation), read and written in Core with
# statements built once: they are read and written once per update, in the write batch that
# handles every chat, where the ORM's unit of work and identity map were a fifth of the
# batch's CPU (bench/README.md, issue 11).
# Invariants:
# - A handling batch reads its callers' states in one SELECT (`hold`); what it learns (a state,
#   or that there is none) is kept in the session's info for that transaction, so each step's
#   load costs no query. Every write goes to the database at once (one upsert) and to that
#   cache, so a later step of the same batch reads what the earlier one wrote.
# - The cache never outlives what it mirrors: it lives in the session (one transaction,
#   storage.db), a step rolled back in its savepoint drops it whole (`forget`, called by the
#   batch), and a delete of states (erasure) drops it too.
# - Nothing else writes dialog_states through the ORM: an ORM object of this table held in a
#   session would not see these writes.
from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any, cast

from sqlalchemy import ColumnElement, Table, bindparam, delete, select, tuple_
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from storage.models import DialogState

Key = tuple[str, str, str]  # (channel, chat_id, user_id)

_TABLE = cast(Table, DialogState.__table__)
_CACHE = "dialog_states"  # session.info key: {key: state dict, or None for "no row"}
_HOLD = select(_TABLE.c.channel, _TABLE.c.chat_id, _TABLE.c.user_id, _TABLE.c.state).where(
    tuple_(_TABLE.c.channel, _TABLE.c.chat_id, _TABLE.c.user_id).in_(bindparam("keys", expanding=True))
)
_ONE = select(_TABLE.c.state).where(
    _TABLE.c.channel == bindparam("channel"), _TABLE.c.chat_id == bindparam("chat_id"),
    _TABLE.c.user_id == bindparam("user_id"),
)


def _upsert(insert: Any) -> Any:
    stmt = insert(_TABLE).values(
        channel=bindparam("channel"), chat_id=bindparam("chat_id"), user_id=bindparam("user_id"),
        state=bindparam("state", type_=_TABLE.c.state.type), updated_at=bindparam("updated_at"),
    )
    return stmt.on_conflict_do_update(
        index_elements=[_TABLE.c.channel, _TABLE.c.chat_id, _TABLE.c.user_id],
        set_={"state": stmt.excluded.state, "updated_at": stmt.excluded.updated_at},
    )


_UPSERT = {"sqlite": _upsert(sqlite.insert), "postgresql": _upsert(postgresql.insert)}


def _cache(session: Session) -> dict[Key, dict[str, Any] | None] | None:
    return cast("dict[Key, dict[str, Any] | None] | None", session.info.get(_CACHE))


def hold(session: Session, keys: Iterable[Key]) -> int:
    """Read the states of a batch's callers in one query, for the rest of the transaction;
    the number found."""
    wanted = sorted(set(keys))
    cache = session.info.setdefault(_CACHE, {})
    if not wanted:
        return 0
    for key in wanted:
        cache[key] = None
    found = 0
    for channel, chat_id, user_id, state in session.connection().execute(_HOLD, {"keys": wanted}):
        cache[(channel, chat_id, user_id)] = state
        found += 1
    return found


def load(session: Session, channel: str, chat_id: str, user_id: str) -> dict[str, Any]:
    """The chat's state (a copy the step may change), {} when it has none."""
    key = (channel, chat_id, user_id)
    cache = _cache(session)
    if cache is not None and key in cache:
        state = cache[key]
    else:
        state = session.connection().execute(
            _ONE, {"channel": channel, "chat_id": chat_id, "user_id": user_id}).scalar()
        if cache is not None:
            cache[key] = state
    return dict(state) if state else {}


def save(session: Session, channel: str, chat_id: str, user_id: str, state: dict[str, Any],
         now: datetime) -> None:
    session.connection().execute(_UPSERT[session.get_bind().dialect.name], {
        "channel": channel, "chat_id": chat_id, "user_id": user_id, "state": state, "updated_at": now})
    cache = _cache(session)
    if cache is not None:
        cache[(channel, chat_id, user_id)] = state


def forget(session: Session) -> None:
    """Drop what this transaction knows of states (after a rollback to a savepoint, or a
    delete): later loads read the database again."""
    session.info.pop(_CACHE, None)


def delete_where(session: Session, *where: ColumnElement[bool]) -> int:
    """Delete the states matching `where` now (erasure), and forget the cache."""
    result = session.execute(delete(DialogState).where(*where).execution_options(synchronize_session=False))
    forget(session)
    return int(getattr(result, "rowcount", 0) or 0)
