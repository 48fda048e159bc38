# Nothing lost: the bot process is killed (SIGKILL) in the middle of a batch of updates and
# started again; every update is handled and answered, and none takes effect twice. A batch
# of updates shares one transaction: an update that fails rolls back alone (and is retried,
# then given up), and the updates and replies of one chat keep their order.
from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.app.service import Service
from bot.channels.telegram import MAX_HANDLE_ATTEMPTS
from bot.config.settings import load_settings
from bot.dialogs import router
from bot.emulators.telegram import BotApiEmulator
from storage.db import Database
from storage.models import DialogState, InboxItem
from tests.conftest import Register
from tests.e2e import World

# On SQLite and on PostgreSQL: SIGAP opens the register of tests/conftest.py's `register`.
pytestmark = pytest.mark.usefixtures("register")

TOKEN = "123456:CRASH-test"
USERS = list(range(5001, 5011))


def start_bot(emu: BotApiEmulator, data_dir: Path) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "SIGAP_TELEGRAM_TOKEN": TOKEN,
        "SIGAP_TELEGRAM_API_URL": emu.url,
        "SIGAP_DATA_DIR": str(data_dir),
        "SIGAP_TELEGRAM_POLL_TIMEOUT": "1",
        # PostgreSQL: the replies the killed process held are taken over after this.
        "SIGAP_OUTBOX_LEASE": "2",
    }
    return subprocess.Popen([sys.executable, "-m", "bot.cli", "run"], env=env, cwd=data_dir)


def menus_for(emu: BotApiEmulator, user: int) -> int:
    return sum(1 for o in emu.sent if o.chat_id == user and "Selamat datang" in (o.text or ""))


async def wait_until(predicate, timeout: float) -> bool:  # type: ignore[no-untyped-def]
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while loop.time() < end:
        if predicate():
            return True
        await asyncio.sleep(0.05)
    return predicate()


async def test_killed_mid_batch_loses_nothing(register: Register, tmp_path: Path) -> None:
    async with BotApiEmulator(token=TOKEN, bot_username="crash_bot") as emu:
        for u in USERS:
            emu.user(u, f"Warga {u}")
            emu.send_text(u, "/start")
        # Slow replies so that the kill lands in the middle of the batch.
        emu.set_delay(0.25, "sendMessage", serial=True)
        proc = start_bot(emu, tmp_path)
        try:
            assert await wait_until(lambda: sum(menus_for(emu, u) > 0 for u in USERS) >= 3, 60)
            proc.kill()
            proc.wait(timeout=10)
        finally:
            if proc.poll() is None:
                proc.kill()
        answered_before = sum(menus_for(emu, u) > 0 for u in USERS)
        assert answered_before < len(USERS), "the kill came too late to prove anything"

        emu.set_delay(0.0, "sendMessage", serial=False)
        proc = start_bot(emu, tmp_path)
        try:
            assert await wait_until(lambda: all(menus_for(emu, u) >= 1 for u in USERS), 60)
            await emu.wait_idle(timeout=10, quiet=0.5)
        finally:
            proc.terminate()
            proc.wait(timeout=20)

    db = Database(register.url(tmp_path))
    with db.transaction() as s:
        assert s.scalar(select(func.count(InboxItem.id))) == len(USERS)
        assert s.scalar(select(func.count(InboxItem.id)).where(InboxItem.handled_at.is_(None))) == 0
        # Each update took effect once: one dialog state per user, one handling each.
        assert s.scalar(select(func.count()).select_from(DialogState)) == len(USERS)
        assert set(s.scalars(select(InboxItem.attempts))) == {1}
    db.dispose()
    # At most the one reply in flight at the kill may have gone out twice.
    assert sum(menus_for(emu, u) for u in USERS) <= len(USERS) + 1


# ---- One transaction per batch: a failing update rolls back alone; a chat keeps its order ----

ONCE, ALWAYS, STEADY, LATER = 6001, 6002, 6003, 6004


def replies(emu: BotApiEmulator, user: int) -> list[str]:
    return [o.text or "" for o in emu.sent if o.chat_id == user and o.method == "sendMessage"]


async def test_failing_update_rolls_back_alone_and_its_chat_waits(
    register: Register, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_handle = router.handle
    failures: Counter[str] = Counter()
    once_update: list[str] = []

    def handle(rt, session, caller, event, now):  # type: ignore[no-untyped-def]
        ctx = real_handle(rt, session, caller, event, now)  # its reply is queued, then...
        user = int(caller.user_id)
        if event.command == "start" and user in (ONCE, ALWAYS):
            # ONCE fails until one failed attempt is on record (a passing fault); ALWAYS fails.
            done = session.scalar(select(InboxItem.attempts).where(InboxItem.external_id == once_update[0]))
            if user == ALWAYS or not done:
                failures[caller.user_id] += 1
                raise RuntimeError("rusak di tengah langkah")
        return ctx

    monkeypatch.setattr(router, "handle", handle)
    async with BotApiEmulator(token=TOKEN, bot_username="crash_bot") as emu:
        for u in (ONCE, ALWAYS, STEADY, LATER):
            emu.user(u, f"Warga {u}")
        # Queued before the bot starts, so that its first getUpdates takes them as one batch.
        for u, text in ((ONCE, "/start"), (ALWAYS, "/start"), (STEADY, "/start"), (ONCE, "/bantuan"),
                        (ALWAYS, "/bantuan"), (LATER, "/start")):
            update = emu.send_text(u, text)
            if u == ONCE and not once_update:
                once_update.append(str(update["update_id"]))
        settings = load_settings(env={"SIGAP_DATA_DIR": str(tmp_path), **register.env()}, env_file=None)
        service = Service(settings, token=TOKEN, base_url=emu.base_url, base_file_url=emu.base_file_url,
                          rate_limit=False)
        await service.start()
        try:
            await World(emu, service).idle()
        finally:
            await service.stop()

    # The failed attempt's reply was rolled back with it: one menu each, then the help, in order.
    for u in (ONCE, STEADY, LATER):
        assert sum("Selamat datang" in t for t in replies(emu, u)) == 1, replies(emu, u)
    assert [("Selamat datang" in t, "Bantuan SIGAP" in t) for t in replies(emu, ONCE)] == [(True, False), (False, True)]
    # Given up after three attempts: the resident is told, and only then is the next update handled.
    always = replies(emu, ALWAYS)
    assert failures[str(ALWAYS)] >= MAX_HANDLE_ATTEMPTS
    assert [t.startswith("Maaf, terjadi gangguan") for t in always] == [True, False] and "Bantuan SIGAP" in always[1]

    db = Database(register.url(tmp_path))
    with db.transaction() as s:
        items = {(i.payload["message"]["chat"]["id"], i.payload["message"]["text"]): i
                 for i in s.scalars(select(InboxItem))}
        assert all(i.handled_at is not None for i in items.values())
        assert {k: i.attempts for k, i in items.items()} == {
            (ONCE, "/start"): 2, (ALWAYS, "/start"): 3, (STEADY, "/start"): 1,
            (ONCE, "/bantuan"): 1, (ALWAYS, "/bantuan"): 1, (LATER, "/start"): 1,
        }
        assert "RuntimeError" in (items[(ALWAYS, "/start")].error or "")
        # They did share one transaction: the updates that did not fail were handled together.
        assert items[(STEADY, "/start")].handled_at == items[(LATER, "/start")].handled_at
    db.dispose()


async def test_reply_waits_behind_an_earlier_reply_being_retried(register: Register, tmp_path: Path) -> None:
    async with BotApiEmulator(token=TOKEN, bot_username="crash_bot") as emu:
        emu.user(STEADY, "Warga")
        settings = load_settings(env={"SIGAP_DATA_DIR": str(tmp_path), **register.env()}, env_file=None)
        service = Service(settings, token=TOKEN, base_url=emu.base_url, base_file_url=emu.base_file_url,
                          rate_limit=False)
        await service.start()
        try:
            world = World(emu, service)
            emu.fail_next("sendMessage", 429, retry_after=1)  # the menu waits a second...
            emu.send_text(STEADY, "/start")
            await emu.wait_until(lambda: emu.calls["sendMessage"] >= 1, timeout=10)
            emu.send_text(STEADY, "/bantuan")  # ...and the help, queued meanwhile, behind it
            await world.idle()
        finally:
            await service.stop()
    texts = replies(emu, STEADY)
    assert [("Selamat datang" in t, "Bantuan SIGAP" in t) for t in texts] == [(True, False), (False, True)]


async def test_replies_behind_a_retried_reply_follow_it_at_once(register: Register, tmp_path: Path) -> None:
    """The help queued behind the menu goes out right after the menu's retry: on PostgreSQL it
    was leased with the menu and is given back, not left until its lease (30 s) runs out."""
    async with BotApiEmulator(token=TOKEN, bot_username="crash_bot") as emu:
        emu.user(STEADY, "Warga")
        emu.send_text(STEADY, "/start")  # both in the first batch: one chat queue, two jobs
        emu.send_text(STEADY, "/bantuan")
        emu.fail_next("sendMessage", 429, retry_after=1)
        settings = load_settings(env={"SIGAP_DATA_DIR": str(tmp_path), **register.env()}, env_file=None)
        service = Service(settings, token=TOKEN, base_url=emu.base_url, base_file_url=emu.base_file_url,
                          rate_limit=False)
        await service.start()
        try:
            # The menu waits its second; the help must not wait for a lease on top.
            assert await wait_until(lambda: len(replies(emu, STEADY)) >= 2, 10), replies(emu, STEADY)
            await World(emu, service).idle()
        finally:
            await service.stop()
    texts = replies(emu, STEADY)
    assert [("Selamat datang" in t, "Bantuan SIGAP" in t) for t in texts] == [(True, False), (False, True)]
