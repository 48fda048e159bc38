# A running SIGAP against the Bot API emulator, for end-to-end tests: the real PTB
# Application, the real Service, and the register of the test's backend: SQLite in a
# temporary folder, or the PostgreSQL schema that tests/conftest.py's `register` fixture put
# in SIGAP_DATABASE_URL (a test module runs on both with
# `pytestmark = pytest.mark.usefixtures("register")`).
from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from bot.app.service import Service
from bot.config.office import TOKEN_VARIABLE_PREFIX
from bot.config.settings import load_settings
from bot.emulators.telegram import BotApiEmulator, Outgoing
from storage import people
from storage.models import InboxItem, OutboxItem

TOKEN = "123456:TEST-token"
WARGA = 1001
WARGA2 = 1002
PETUGAS = 2001
KOORDINATOR = 2002
ORANG_LAIN = 3001
GROUP = -1009876543210


@dataclass
class World:
    emu: BotApiEmulator
    service: Service

    async def idle(self, timeout: float = 15.0) -> None:
        """Until the emulator is quiet AND the register has nothing left to handle or send."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            # World(bot, service) with a bot of add_bot plays the users of a kecamatan bot.
            root = self.emu.server
            for emu in (root, *root.other_bots):  # every bot of the deployment
                await emu.wait_idle(timeout=timeout, quiet=0.1)
            if await asyncio.to_thread(self._settled):
                return
            if loop.time() > deadline:
                raise TimeoutError("SIGAP did not settle")
            await asyncio.sleep(0.05)

    def _settled(self) -> bool:
        now = datetime.now(UTC)
        with self.service.db.transaction() as s:
            pending = s.scalar(select(func.count(InboxItem.id)).where(InboxItem.handled_at.is_(None)))
            due = s.scalar(
                select(func.count(OutboxItem.id)).where(
                    OutboxItem.sent_at.is_(None),
                    OutboxItem.failed_at.is_(None),
                    OutboxItem.next_attempt_at <= now,
                )
            )
        # A reply leased for sending (PostgreSQL) is not due, but not settled either.
        delivery = self.service.delivery
        return not pending and not due and (delivery is None or delivery.holds_nothing())

    async def say(self, user: int, text: str, chat: int | None = None) -> None:
        self.emu.send_text(user, text, chat=chat)
        await self.idle()

    def in_chat(self, chat: int) -> list[Outgoing]:
        return [o for o in self.emu.sent if o.chat_id == chat]

    def last(self, chat: int) -> Outgoing:
        return self.in_chat(chat)[-1]

    def texts(self, chat: int) -> list[str]:
        return [o.text or "" for o in self.in_chat(chat)]

    def message_with_button(self, chat: int, label: str) -> dict[str, Any]:
        for m in reversed(self.emu.messages_in(chat)):
            rows = (m.get("reply_markup") or {}).get("inline_keyboard") or []
            for row in rows:
                for b in row:
                    if b.get("text") == label:
                        return {"message_id": m["message_id"], "data": b.get("callback_data")}
        raise AssertionError(f"no button {label!r} in chat {chat}: {self.texts(chat)[-3:]}")

    async def press(self, user: int, label: str, chat: int | None = None) -> None:
        chat = chat if chat is not None else user
        found = self.message_with_button(chat, label)
        self.emu.press(user, found["message_id"], found["data"], chat=chat)
        await self.idle()


def register_env() -> dict[str, str]:
    """SIGAP_DATABASE_URL when the `register` fixture set one (PostgreSQL), else nothing."""
    url = os.environ.get("SIGAP_DATABASE_URL")
    return {"SIGAP_DATABASE_URL": url} if url else {}


async def start_world(tmp_path: Path, env: dict[str, str] | None = None) -> World:
    emu = BotApiEmulator(token=TOKEN, bot_username="sigap_test_bot")
    await emu.start()
    emu.user(WARGA, "Siti", "siti")
    emu.user(WARGA2, "Ahmad", "ahmad")
    emu.user(PETUGAS, "Budi", "budi")
    emu.user(KOORDINATOR, "Rina", "rina")
    emu.user(ORANG_LAIN, "Joko", "joko")
    emu.group(GROUP, "Trantib Jelbuk")
    # A kecamatan bot's token in env (SIGAP_TELEGRAM_TOKEN_ARJASA=...): served by the same
    # emulator, as @sigap_arjasa_bot, with the same people (each bot has its own chats).
    for name, token in (env or {}).items():
        if name.startswith(TOKEN_VARIABLE_PREFIX) and token:
            other = emu.add_bot(token, f"sigap_{name.removeprefix(TOKEN_VARIABLE_PREFIX).lower()}_bot")
            for uid, first, username in ((WARGA, "Siti", "siti"), (WARGA2, "Ahmad", "ahmad"),
                                         (PETUGAS, "Budi", "budi"), (KOORDINATOR, "Rina", "rina"),
                                         (ORANG_LAIN, "Joko", "joko")):
                other.user(uid, first, username)
    settings = load_settings(env={"SIGAP_DATA_DIR": str(tmp_path), **register_env(), **(env or {})}, env_file=None)
    service = Service(settings, token=TOKEN, base_url=emu.base_url, base_file_url=emu.base_file_url, rate_limit=False)
    now = datetime.now(UTC)
    with service.db.transaction() as s:
        people.add_officer(s, PETUGAS, "Budi", "petugas", now)
        people.add_officer(s, KOORDINATOR, "Rina", "koordinator", now)
        people.set_setting(s, "trantib_group", str(GROUP), now)
    await service.start()
    return World(emu, service)


async def stop_world(world: World) -> None:
    await world.service.stop()
    await world.emu.stop()


# --- Helpers for scheduled work (the weekly digest): a settable clock, and Services started
# one after another (or side by side) against one emulator and one register. -------------

PIMPINAN = 2003


class Clock:
    """A clock a test sets by hand, for Service(clock=...)."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def set(self, now: datetime) -> None:
        self.now = now


async def start_emulator() -> BotApiEmulator:
    """The emulator with start_world's people and group, plus a leader (PIMPINAN)."""
    emu = BotApiEmulator(token=TOKEN, bot_username="sigap_test_bot")
    await emu.start()
    for uid, name in ((WARGA, "Siti"), (PETUGAS, "Budi"), (KOORDINATOR, "Rina"), (PIMPINAN, "Camat")):
        emu.user(uid, name, name.lower())
    emu.group(GROUP, "Trantib Jelbuk")
    return emu


def make_service(
    emu: BotApiEmulator, data_dir: Path, *, clock: Any, office: Any = None, env: dict[str, str] | None = None
) -> Service:
    """A Service on `data_dir` (SQLite there unless the `register` fixture or env sets
    SIGAP_DATABASE_URL), with the officers and the Trantib group registered; not started."""
    settings = load_settings(env={"SIGAP_DATA_DIR": str(data_dir), **register_env(), **(env or {})}, env_file=None)
    service = Service(
        settings, token=TOKEN, base_url=emu.base_url, base_file_url=emu.base_file_url,
        rate_limit=False, clock=clock, office=office,
    )
    now = clock()
    with service.db.transaction() as s:
        people.add_officer(s, PETUGAS, "Budi", "petugas", now)
        people.add_officer(s, PIMPINAN, "Camat", "pimpinan", now)
        people.set_setting(s, "trantib_group", str(GROUP), now)
    return service
