"""Full SIGAP bot beside a bare PTB echo bot, against the same Bot API emulator, in one run.

Prints updates per second for a burst of N updates, and the per-update latency (median, p99)
of sequential round trips, for both bots, and the ratio full/echo. Both run without PTB's
rate limiter (the emulator imposes no Telegram limits; the limiter would pace both to 30/s).

    python bench/telegram_throughput.py [--burst 500] [--rounds 200]
"""
from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from telegram import Update
from telegram.ext import ApplicationBuilder, ContextTypes, MessageHandler, filters

from bot.emulators.telegram import BotApiEmulator
from bot.service import Service
from bot.settings import load_settings

TOKEN = "999:BENCH"


async def echo(update: Update, _ctx: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.message is not None
    await update.message.reply_text(update.message.text or "")


async def measure(emu: BotApiEmulator, users: list[int], burst: int, rounds: int) -> tuple[float, list[float]]:
    # Burst: every update injected at once, time until every one has its reply.
    start_seq = len(emu.sent)
    t0 = time.perf_counter()
    for i in range(burst):
        emu.send_text(users[i % len(users)], "/start")
    while sum(1 for o in emu.sent[start_seq:] if o.method == "sendMessage") < burst:  # noqa: ASYNC110 - polling a counter is the measurement
        await asyncio.sleep(0.005)
    rate = burst / (time.perf_counter() - t0)
    # Sequential round trips: latency of one update with nothing else going on.
    latencies = []
    for i in range(rounds):
        user = users[i % len(users)]
        n = len(emu.sent)
        t = time.perf_counter()
        emu.send_text(user, "/start")
        await emu.wait_for(lambda o, u=user: o.chat_id == u and o.method == "sendMessage", timeout=10, since=n)
        latencies.append((time.perf_counter() - t) * 1000)
    return rate, latencies


async def run_echo(burst: int, rounds: int) -> tuple[float, list[float]]:
    async with BotApiEmulator(token=TOKEN) as emu:
        users = [emu.user(10_000 + i, f"U{i}")["id"] for i in range(50)]
        app = ApplicationBuilder().token(TOKEN).base_url(emu.base_url).base_file_url(emu.base_file_url).build()
        app.add_handler(MessageHandler(filters.TEXT, echo))
        await app.initialize()
        await app.start()
        assert app.updater is not None
        await app.updater.start_polling(poll_interval=0.0, timeout=1)
        try:
            return await measure(emu, users, burst, rounds)
        finally:
            await app.updater.stop()
            await app.stop()
            await app.shutdown()


async def run_full(burst: int, rounds: int, data_dir: Path) -> tuple[float, list[float]]:
    async with BotApiEmulator(token=TOKEN) as emu:
        users = [emu.user(10_000 + i, f"U{i}")["id"] for i in range(50)]
        settings = load_settings(env={"SIGAP_DATA_DIR": str(data_dir), "SIGAP_TELEGRAM_POLL_TIMEOUT": "1"}, env_file=None)
        service = Service(settings, token=TOKEN, base_url=emu.base_url, base_file_url=emu.base_file_url, rate_limit=False)
        await service.start()
        try:
            return await measure(emu, users, burst, rounds)
        finally:
            await service.stop()


def summary(name: str, rate: float, lat: list[float]) -> tuple[float, float, float]:
    med = statistics.median(lat)
    p99 = statistics.quantiles(lat, n=100, method="inclusive")[98]
    print(f"{name:<10} {rate:10.1f} upd/s   latency median {med:7.2f} ms   p99 {p99:7.2f} ms")
    return rate, med, p99


async def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--burst", type=int, default=500)
    p.add_argument("--rounds", type=int, default=200)
    a = p.parse_args()
    echo_rate, echo_lat = await run_echo(a.burst, a.rounds)
    with tempfile.TemporaryDirectory() as tmp:
        full_rate, full_lat = await run_full(a.burst, a.rounds, Path(tmp))
    print(f"burst {a.burst} updates, {a.rounds} sequential round trips, SQLite register")
    e = summary("echo PTB", echo_rate, echo_lat)
    f = summary("SIGAP", full_rate, full_lat)
    print(f"ratio SIGAP/echo: throughput {f[0] / e[0]:.2f} (target >= 0.50), "
          f"median latency {f[1] / e[1]:.2f}x, p99 latency {f[2] / e[2]:.2f}x")


Run = Callable[[], Awaitable[None]]

if __name__ == "__main__":
    asyncio.run(main())
