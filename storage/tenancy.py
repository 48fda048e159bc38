# Tenants: every register row of a kecamatan's own data carries its Kemendagri kode wilayah
# (e.g. "35.09.25" for Jelbuk), and a session sees and writes only its own kecamatan's rows.
# Invariant: isolation holds by construction, not by a WHERE in every query. The session's
# kecamatan (session.info["kecamatan"], set by storage.db.Database) is added by a
# do_orm_execute hook as `with_loader_criteria(Tenanted, ...)` to every ORM SELECT, UPDATE
# and DELETE, in subqueries and relationship loads too (SQLAlchemy's documented "global
# filter" recipe), and filled in on every new row at flush; a row of another kecamatan added
# by mistake is refused at flush. Core statements that bypass the ORM (an INSERT ... ON
# CONFLICT, a bulk insert on the Table) set the column by hand with `current(session)`; the
# column has no server default, so one that forgets it fails instead of landing in a tenant.
#
# Which tables carry it (storage/models.py): those read or written on their own, i.e. by
# something else than their complaint's id: people, officers, complaints, ticket counters,
# runtime settings, SKM answers, populations and IKM figures, the IKU registers and frozen
# figures, digest claims, PDP requests and incidents. Photos, status history, cards,
# reminder claims and assignments are reached only through their complaint, which is scoped.
# The channel plumbing (inbox, outbox, dialog states) is keyed by chat and update and is
# shared: an update arrives before anyone knows its kecamatan.
from __future__ import annotations

import re
from typing import Any

from sqlalchemy import String, event
from sqlalchemy.orm import (
    Mapped,
    ORMExecuteState,
    Session,
    mapped_column,
    with_loader_criteria,
)

KECAMATAN_LENGTH = 13  # "35.09.25" is 8; a desa-level kode (35.09.25.2001) would be 13
# The kecamatan of a register made before there were tenants (migration 0012) and of a
# deployment whose office file names none: the shipped office, Jelbuk.
DEFAULT_KECAMATAN = "35.09.25"
_KODE = re.compile(r"\d{2}\.\d{2}\.\d{2}")


class TenantError(ValueError):
    pass


def check_kode(kode: str) -> str:
    """A Kemendagri kode wilayah of a kecamatan: 35.09.25."""
    if not _KODE.fullmatch(kode):
        raise TenantError(f"kode wilayah kecamatan harus berbentuk 35.09.25, bukan {kode!r}")
    return kode


class Tenanted:
    """Mixin of the models whose rows belong to one kecamatan (see the module comment)."""

    kecamatan: Mapped[str] = mapped_column(String(KECAMATAN_LENGTH))


def current(session: Session) -> str:
    """The kecamatan a session works for."""
    kode = session.info.get("kecamatan")
    if not kode:
        raise TenantError("sesi tanpa kecamatan: buka lewat storage.db.Database")
    return str(kode)


# The one way to read across kecamatan: a statement marked with across_kecamatan(). Only for
# finding WHICH kecamatan a caller belongs to before a dialog step is scoped (an officer's
# registration, a group's; storage/tenant_lookup.py), and for the upkeep of the shared
# channel plumbing whose conditions ask about every kecamatan (retention's "a private chat
# that is nobody's any more" must look at everyone's people); never for showing rows. An
# UPDATE or DELETE of a kecamatan's own rows cannot carry the mark: it is refused.
ACROSS_KECAMATAN = "sigap_across_kecamatan"


def across_kecamatan(statement: Any) -> Any:
    """`statement` unscoped: a SELECT reads every kecamatan's rows; an UPDATE or DELETE of a
    shared (not Tenanted) table has its conditions read every kecamatan's rows."""
    return statement.execution_options(**{ACROSS_KECAMATAN: True})


def _scope(state: ORMExecuteState) -> None:
    if not (state.is_select or state.is_update or state.is_delete):
        return
    # Column and relationship loads inherit the criteria from the statement that loaded the
    # object (propagate_to_loaders), so adding them again would only cost time.
    if state.is_column_load or state.is_relationship_load:
        return
    if state.execution_options.get(ACROSS_KECAMATAN):
        # A deliberate look-up across kecamatan (see across_kecamatan); a write with the mark
        # only to a shared table, never to a kecamatan's rows.
        target = state.bind_mapper
        if state.is_select or (target is not None and not issubclass(target.class_, Tenanted)):
            return
        raise TenantError("perubahan baris kecamatan tidak boleh lintas kecamatan")
    kode = state.session.info.get("kecamatan")
    if not kode:
        # A session made outside Database would read every kecamatan: refuse instead (the
        # shared channel plumbing, inbox and outbox, needs none).
        if any(issubclass(m.class_, Tenanted) for m in state.all_mappers):
            raise TenantError("sesi tanpa kecamatan: buka lewat storage.db.Database")
        return
    state.statement = state.statement.options(
        with_loader_criteria(Tenanted, lambda cls: cls.kecamatan == kode, include_aliases=True)
    )


def _fill(session: Session, _context: Any, _instances: Any) -> None:
    touched = [obj for obj in (*session.new, *session.dirty) if isinstance(obj, Tenanted)]
    if not touched:
        return
    kode = current(session)
    for obj in session.new:
        if not isinstance(obj, Tenanted):
            continue
        if obj.kecamatan is None:
            obj.kecamatan = kode
        elif obj.kecamatan != kode:
            raise TenantError(f"baris kecamatan {obj.kecamatan} tidak boleh ditulis dari sesi kecamatan {kode}")
    for obj in session.dirty:
        if isinstance(obj, Tenanted) and obj.kecamatan != kode:
            raise TenantError(f"baris kecamatan {obj.kecamatan} tidak boleh diubah dari sesi kecamatan {kode}")


# On every Session, not only Database's: a session opened beside it (Session(bind)) is
# scoped the same way, or refused when it names no kecamatan.
event.listen(Session, "do_orm_execute", _scope)
event.listen(Session, "before_flush", _fill)


__all__ = ["ACROSS_KECAMATAN", "DEFAULT_KECAMATAN", "KECAMATAN_LENGTH", "Tenanted", "TenantError",
           "across_kecamatan", "check_kode", "current"]
