# Officers managed in chat by an admin: list, register, deactivate (and a deactivated
# officer's card press is refused), never the last admin.
from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from storage import people
from tests.e2e import KOORDINATOR, ORANG_LAIN, PETUGAS, World, start_world, stop_world

# On SQLite and on PostgreSQL: SIGAP opens the register of tests/conftest.py's `register`.
pytestmark = pytest.mark.usefixtures("register")

ADMIN = 2009


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    w = await start_world(tmp_path)
    w.emu.user(ADMIN, "Pak Camat", "camat")
    with w.service.db.transaction() as s:
        people.add_officer(s, ADMIN, "Pak Camat", "admin", datetime.now(UTC))
    try:
        yield w
    finally:
        await stop_world(w)


async def test_admin_lists_registers_and_deactivates_officers(world: World) -> None:
    await world.say(ADMIN, "/petugas")
    listing = world.last(ADMIN).text or ""
    assert f"\n{PETUGAS} · petugas · Budi\n" in listing and f"\n{KOORDINATOR} · koordinator · Rina\n" in listing

    await world.say(ADMIN, f"/petugas {ORANG_LAIN} petugas Joko")
    assert "Petugas Joko (petugas) terdaftar" in (world.last(ADMIN).text or "")

    await world.say(ADMIN, f"/petugas nonaktif {PETUGAS}")
    assert "Budi (ID Telegram 2001) dinonaktifkan" in (world.last(ADMIN).text or "")
    with world.service.db.reading() as s:
        assert people.officer_by_telegram(s, PETUGAS) is None
        assert people.officer_by_telegram(s, ORANG_LAIN) is not None

    # Budi is no longer an officer: his commands get the officer-only answer.
    await world.say(PETUGAS, "/catat")
    assert "petugas" in (world.last(PETUGAS).text or "").lower()
    assert "kanal" not in (world.last(PETUGAS).text or "").lower()

    await world.say(ADMIN, f"/petugas nonaktif {ADMIN}")
    assert "admin aktif terakhir" in (world.last(ADMIN).text or "")
    with world.service.db.reading() as s:
        assert people.officer_by_telegram(s, ADMIN) is not None


async def test_only_an_admin_manages_officers(world: World) -> None:
    await world.say(KOORDINATOR, f"/petugas nonaktif {PETUGAS}")
    assert "admin" in (world.last(KOORDINATOR).text or "").lower()
    with world.service.db.reading() as s:
        assert people.officer_by_telegram(s, PETUGAS) is not None
