"""Full SIGAP beside a bare pywa echo bot, behind the same kind of webhook, in one run.

Each measured message is a signed, Meta-shaped webhook POST ("Halo" from a WhatsApp user)
and counts as done when the bot's answer is accepted by the Graph API emulator: for SIGAP
the menu (a list message) after the inbox commit, the dialog step and the outbox; for the
echo bot the text echoed from pywa's own FastAPI route. Prints messages per second for a
burst of N concurrent POSTs, the per-message latency (median, p99) of sequential round
trips, for both bots, and the ratio SIGAP/echo.

    python bench/whatsapp_throughput.py [--burst 300] [--rounds 150] [--users 50]
"""
from __future__ import annotations

import argparse
import asyncio
import logging
import secrets
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI
from pywa_async import WhatsApp
from pywa_async import types as wa_types

from bot.app.service import Service
from bot.app.web import WebServer
from bot.config.settings import load_settings
from bot.emulators.telegram import BotApiEmulator
from bot.emulators.whatsapp import GraphApiEmulator

TG_TOKEN = "999:BENCH"


def users_of(emu: GraphApiEmulator, n: int) -> list[str]:
    wa_ids = [f"62812000{i:05d}" for i in range(n)]
    for i, wa_id in enumerate(wa_ids):
        emu.user(wa_id, f"Warga {i}")
    return wa_ids


async def measure(emu: GraphApiEmulator, users: list[str], burst: int, rounds: int) -> tuple[float, list[float]]:
    # Burst: every POST at once (as many connections as Meta may open), time until every
    # answer has been accepted by the API.
    start = emu.mark()
    payloads = [emu.text(users[i % len(users)], "Halo") for i in range(burst)]
    gate = asyncio.Semaphore(32)

    async def post(p: dict[str, Any]) -> None:
        async with gate:
            assert await emu.post(p) == 200

    t0 = time.perf_counter()
    await asyncio.gather(*(post(p) for p in payloads))
    while len(emu.sent) - start < burst:  # noqa: ASYNC110 - polling a counter is the measurement
        await asyncio.sleep(0.002)
    rate = burst / (time.perf_counter() - t0)
    # Sequential round trips: one message with nothing else going on.
    latencies = []
    for i in range(rounds):
        user = users[i % len(users)]
        n = emu.mark()
        t = time.perf_counter()
        assert await emu.post(emu.text(user, "Halo")) == 200
        await emu.wait_for(lambda s, u=user: s.user == u, timeout=10, since=n)
        latencies.append((time.perf_counter() - t) * 1000)
    if emu.refused:
        raise SystemExit(f"the API refused {len(emu.refused)} messages: {emu.refused[0]}")
    return rate, latencies


async def run_echo(burst: int, rounds: int, n_users: int) -> tuple[float, list[float]]:
    token, app_secret, verify = (secrets.token_urlsafe(16) for _ in range(3))
    async with GraphApiEmulator(token=token, app_secret=app_secret) as emu:
        users = users_of(emu, n_users)
        app = FastAPI()
        session = httpx.AsyncClient(limits=httpx.Limits(max_connections=32))
        wa = WhatsApp(
            phone_id=emu.phone_id, token=token, session=session, server=app,
            webhook_endpoint="/whatsapp", verify_token=verify, app_secret=app_secret,
        )
        session.base_url = emu.url + session.base_url.path.rstrip("/")  # as bot/channels/whatsapp.py does

        @wa.on_message()
        async def echo(_: WhatsApp, msg: wa_types.Message) -> None:
            await msg.reply_text(msg.text or "?", quote=False)

        server = WebServer(app, "127.0.0.1", 0)
        await server.start()
        emu.connect(f"{server.url}/whatsapp")
        try:
            return await measure(emu, users, burst, rounds)
        finally:
            await server.stop()
            await session.aclose()


async def run_sigap(burst: int, rounds: int, n_users: int) -> tuple[float, list[float]]:
    token, app_secret, verify = (secrets.token_urlsafe(16) for _ in range(3))
    async with GraphApiEmulator(token=token, app_secret=app_secret) as emu, BotApiEmulator(token=TG_TOKEN) as tg:
        users = users_of(emu, n_users)
        with tempfile.TemporaryDirectory() as tmp:
            env = {
                "SIGAP_DATA_DIR": str(Path(tmp)),
                "SIGAP_WHATSAPP_TOKEN": token,
                "SIGAP_WHATSAPP_PHONE_ID": emu.phone_id,
                "SIGAP_WHATSAPP_APP_SECRET": app_secret,
                "SIGAP_WHATSAPP_VERIFY_TOKEN": verify,
                "SIGAP_WHATSAPP_API_URL": emu.url,
                "SIGAP_WEB_PORT": "0",
            }
            service = Service(load_settings(env=env, env_file=None), token=TG_TOKEN, base_url=tg.base_url,
                              base_file_url=tg.base_file_url, rate_limit=False)
            await service.start()
            assert service.web is not None
            emu.connect(service.web.url + "/whatsapp", verify)
            try:
                return await measure(emu, users, burst, rounds)
            finally:
                await service.stop()


def summary(name: str, rate: float, lat: list[float]) -> str:
    p99 = statistics.quantiles(lat, n=100)[98] if len(lat) >= 2 else lat[0]
    return f"{name:<10} {rate:8.1f} msg/s   latency median {statistics.median(lat):6.1f} ms   p99 {p99:6.1f} ms"


async def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--burst", type=int, default=300)
    ap.add_argument("--rounds", type=int, default=150)
    ap.add_argument("--users", type=int, default=50)
    args = ap.parse_args()
    logging.basicConfig(level=logging.ERROR)
    # pywa logs every update at INFO; both bots run with it quiet.
    logging.getLogger("pywa").setLevel(logging.ERROR)
    echo_rate, echo_lat = await run_echo(args.burst, args.rounds, args.users)
    sigap_rate, sigap_lat = await run_sigap(args.burst, args.rounds, args.users)
    print(f"burst {args.burst} webhook POSTs from {args.users} users, {args.rounds} sequential round trips")
    print(summary("pywa echo", echo_rate, echo_lat))
    print(summary("SIGAP", sigap_rate, sigap_lat))
    print(f"ratio SIGAP/echo: throughput {sigap_rate / echo_rate:.2f}, "
          f"median latency {statistics.median(sigap_lat) / statistics.median(echo_lat):.2f}x")


if __name__ == "__main__":
    asyncio.run(main())
