# Many workers, one register: two `sigap run` processes in webhook mode on one PostgreSQL
# schema, behind a round-robin load balancer, take a burst of updates; one is killed (SIGKILL)
# midway. Every update is handled exactly once, each chat's replies come in the order of its
# updates, and no reply is lost (at most the few in flight at the kill go out twice). On
# SQLite (one process by design) the same burst runs through one process, killed and
# restarted.
from __future__ import annotations

import asyncio
import os
import secrets
import socket
import subprocess
import sys
from pathlib import Path

import aiohttp
from aiohttp import web
from sqlalchemy import func, select

from bot.emulators.telegram import BotApiEmulator
from storage.db import Database
from storage.models import DialogState, InboxItem, OutboxItem
from tests.conftest import Register
from tests.test_e2e_crash import wait_until

TOKEN = "123456:WORKERS-test"
USERS = list(range(7001, 7012))  # odd: round robin sends a chat's updates to both workers
SAYS = ["/start", "/bantuan", "/start", "/bantuan"]  # per user, in this order
SECRET = secrets.token_urlsafe(16)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _start_worker(emu: BotApiEmulator, data_dir: Path, port: int, hook_url: str) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "SIGAP_TELEGRAM_TOKEN": TOKEN,
        "SIGAP_TELEGRAM_API_URL": emu.url,
        "SIGAP_DATA_DIR": str(data_dir),
        "SIGAP_TELEGRAM_MODE": "webhook",
        "SIGAP_TELEGRAM_WEBHOOK_URL": hook_url,
        "SIGAP_TELEGRAM_WEBHOOK_SECRET": SECRET,
        "SIGAP_WEB_PORT": str(port),
        "SIGAP_OUTBOX_LEASE": "2",  # a killed worker's replies are taken over after 2 s
    }
    return subprocess.Popen([sys.executable, "-m", "bot.cli", "run"], env=env, cwd=data_dir)


async def _listening(port: int) -> bool:
    try:
        _, writer = await asyncio.open_connection("127.0.0.1", port)
    except OSError:
        return False
    writer.close()
    return True


class Balancer:
    """Round robin over the workers' ports; a worker that does not answer is passed over
    (a load balancer's health check), and with none answering Telegram is told 502."""

    def __init__(self, ports: list[int]) -> None:
        self.ports = ports
        self.turn = 0
        self.by_port: dict[int, int] = {}

    async def forward(self, request: web.Request) -> web.Response:
        body = await request.read()
        headers = {k: v for k, v in request.headers.items() if k.lower().startswith("x-telegram")}
        async with aiohttp.ClientSession() as http:
            for i in range(len(self.ports)):
                port = self.ports[(self.turn + i) % len(self.ports)]
                try:
                    async with http.post(f"http://127.0.0.1:{port}{request.path}", data=body,
                                         headers={**headers, "Content-Type": "application/json"}) as resp:
                        if resp.status < 500:
                            self.turn += 1
                            self.by_port[port] = self.by_port.get(port, 0) + 1
                            return web.Response(status=resp.status, text=await resp.text())
                except (aiohttp.ClientError, OSError):
                    continue
        return web.Response(status=502, text="no worker")


def _replies(emu: BotApiEmulator, user: int) -> list[str]:
    out = []
    for o in emu.sent:
        if o.chat_id == user and o.method == "sendMessage":
            text = o.text or ""
            out.append("menu" if "Selamat datang" in text else "bantuan" if "Bantuan SIGAP" in text else text)
    return out


async def test_two_workers_one_killed_nothing_lost_or_doubled(register: Register, tmp_path: Path) -> None:
    many = register.backend == "postgresql"
    ports = [_free_port(), _free_port()] if many else [_free_port()]
    balancer = Balancer(ports)
    app = web.Application()
    app.router.add_post("/telegram", balancer.forward)
    runner = web.AppRunner(app)
    await runner.setup()
    lb_port = _free_port()
    await web.TCPSite(runner, "127.0.0.1", lb_port).start()
    hook = f"http://127.0.0.1:{lb_port}/telegram"
    procs: list[subprocess.Popen[bytes]] = []
    try:
        async with BotApiEmulator(token=TOKEN, bot_username="workers_bot") as emu:
            for u in USERS:
                emu.user(u, f"Warga {u}")
            for port in ports:  # one after the other: the first migrates the empty schema
                procs.append(_start_worker(emu, tmp_path, port, hook))
                assert await _wait_port(port)
            # Slow replies, so that the kill lands in the middle of the burst.
            emu.set_delay(0.1, "sendMessage", serial=True)
            for text in SAYS:
                for u in USERS:
                    emu.send_text(u, text)
            total = len(USERS) * len(SAYS)
            assert await wait_until(lambda: len([o for o in emu.sent if o.method == "sendMessage"]) >= total // 4, 60)
            procs[0].kill()
            procs[0].wait(timeout=10)
            assert len([o for o in emu.sent if o.method == "sendMessage"]) < total, "the kill came too late"
            emu.set_delay(0.0, "sendMessage", serial=False)
            if not many:  # SQLite: the one process is started again
                procs.append(_start_worker(emu, tmp_path, ports[0], hook))
            assert await wait_until(lambda: all(len(_replies(emu, u)) >= len(SAYS) for u in USERS), 90), {
                u: _replies(emu, u) for u in USERS}
            await emu.wait_idle(timeout=10, quiet=1.0)
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.terminate()
                proc.wait(timeout=20)
        await runner.cleanup()

    if many:
        assert all(balancer.by_port.get(p) for p in ports), balancer.by_port  # both took updates
    doubled = 0
    for u in USERS:
        got = _replies(emu, u)
        # In order per chat; a reply in flight at the kill may come twice, back to back.
        collapsed = [t for i, t in enumerate(got) if i == 0 or t != got[i - 1]]
        assert collapsed == ["menu", "bantuan", "menu", "bantuan"], (u, got)
        doubled += len(got) - len(SAYS)
    assert doubled <= 2, doubled
    db = Database(register.url(tmp_path))
    with db.transaction() as s:
        assert s.scalar(select(func.count(InboxItem.id))) == len(USERS) * len(SAYS)
        # Each update handled once: handled, at the first attempt, one dialog state per user.
        assert s.scalar(select(func.count(InboxItem.id)).where(InboxItem.handled_at.is_(None))) == 0
        assert set(s.scalars(select(InboxItem.attempts))) == {1}
        assert s.scalar(select(func.count()).select_from(DialogState)) == len(USERS)
        # Every reply queued once and marked sent.
        assert s.scalar(select(func.count(OutboxItem.id))) == len(USERS) * len(SAYS)
        assert s.scalar(select(func.count(OutboxItem.id)).where(OutboxItem.sent_at.is_(None))) == 0
    db.dispose()


async def _wait_port(port: int) -> bool:
    for _ in range(600):
        if await _listening(port):
            return True
        await asyncio.sleep(0.1)
    return False
