# Nothing lost: the bot process is killed (SIGKILL) in the middle of a batch of updates and
# started again; every update is handled and answered, and none takes effect twice.
from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import func, select

from bot.emulators.telegram import BotApiEmulator
from storage.db import Database, sqlite_url
from storage.models import DialogState, InboxItem

TOKEN = "123456:CRASH-test"
USERS = list(range(5001, 5011))


def start_bot(emu: BotApiEmulator, data_dir: Path) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "SIGAP_TELEGRAM_TOKEN": TOKEN,
        "SIGAP_TELEGRAM_API_URL": emu.url,
        "SIGAP_DATA_DIR": str(data_dir),
        "SIGAP_TELEGRAM_POLL_TIMEOUT": "1",
    }
    env.pop("SIGAP_DATABASE_URL", None)
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


async def test_killed_mid_batch_loses_nothing(tmp_path: Path) -> None:
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

    db = Database(sqlite_url(tmp_path))
    with db.transaction() as s:
        assert s.scalar(select(func.count(InboxItem.id))) == len(USERS)
        assert s.scalar(select(func.count(InboxItem.id)).where(InboxItem.handled_at.is_(None))) == 0
        # Each update took effect once: one dialog state per user, one handling each.
        assert s.scalar(select(func.count()).select_from(DialogState)) == len(USERS)
        assert set(s.scalars(select(InboxItem.attempts))) == {1}
    db.dispose()
    # At most the one reply in flight at the kill may have gone out twice.
    assert sum(menus_for(emu, u) for u in USERS) <= len(USERS) + 1
