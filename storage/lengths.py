# Bounded text columns hold the same values on both backends.
# Invariant: no String(n) column is flushed with a value longer than n characters.
# PostgreSQL refuses such a value (StringDataRightTruncation) while SQLite stores it whole, so
# a path tried only on SQLite could pass and then fail an office's PostgreSQL (issue 11). The
# guard below refuses it on SQLite too, at flush, naming the column. Data from outside (chat,
# profiles, files, the command line) is cut with `clip` or refused with a message where it
# enters; keys built from data use a fixed-length digest (storage.setting_keys).
# Core INSERTs (session.execute(insert(...)), e.g. storage.skm's bulk insert) do not flush
# ORM objects and are not seen here: their callers check lengths themselves.
from __future__ import annotations

from itertools import chain
from typing import Any

from sqlalchemy import String, event, inspect
from sqlalchemy.orm import InstrumentedAttribute, Session


class TooLong(ValueError):
    """A value longer than its column: a bug where the data entered (it was not cut or refused)."""


def limit(attribute: InstrumentedAttribute[Any]) -> int | None:
    """The length of a String(n) column attribute (e.g. Person.name), or None if unbounded."""
    column = attribute.property.columns[0]  # type: ignore[attr-defined]
    return column.type.length if isinstance(column.type, String) else None


def clip(attribute: InstrumentedAttribute[Any], value: str | None) -> str | None:
    """`value` cut to its column's length: for free text from outside where the end can go
    (a profile name), not for codes or keys, which must be refused instead."""
    n = limit(attribute)
    if value is None or n is None or len(value) <= n:
        return value
    return value[:n].rstrip()


@event.listens_for(Session, "before_flush")
def _refuse_too_long(session: Session, _context: Any, _instances: Any) -> None:
    for obj in chain(session.new, session.dirty):
        mapper = inspect(obj).mapper
        for attr in mapper.column_attrs:
            column = attr.columns[0]
            if not isinstance(column.type, String) or not column.type.length:
                continue
            value = getattr(obj, attr.key, None)
            if isinstance(value, str) and len(value) > column.type.length:
                raise TooLong(f"{column.table.name}.{column.name}: {len(value)} characters, "
                              f"the column holds {column.type.length}")


__all__ = ["TooLong", "clip", "limit"]
