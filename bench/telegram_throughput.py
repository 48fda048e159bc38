"""Full SIGAP bot beside a bare PTB echo bot, against the same Bot API emulator, in one run.

Workload, the same for every bot: 50 users; a burst of N text messages ("/start", which the
echo bot echoes and SIGAP answers with its menu) injected at once, timed until every one has
its reply (updates per second); then sequential round trips, one message at a time, each
timed from injection to its reply (latency median and p99). Also printed: the CPU time the
bot's process spent per update during the burst, a figure that load from outside the run
disturbs less than the rates do. Before measuring, each bot gets
a warm-up burst (imports, connections, caches), so start-up is not counted.

Each bot runs in a process of its own, the emulator and this driver in another, so the
emulator never shares an event loop (or the GIL) with the bot it measures: the same for
both bots. Both bots run without PTB's rate limiter (the emulator imposes no Telegram
limits; the limiter would pace both to 30/s). The echo bot is the idiomatic one: a PTB
Application with its own polling Updater and a MessageHandler replying to the text.

SIGAP is measured on SQLite (the default) and, when SIGAP_TEST_POSTGRES_URL (default
postgresql+psycopg://postgres@127.0.0.1:5432/test) is reachable, on PostgreSQL too, in a
fresh schema dropped afterwards.

    python bench/telegram_throughput.py [--burst 500] [--rounds 200] [--repeat 1] [--no-postgres]
                                        [--size 0]

--size N fills SIGAP's register first with N complaints (and their history) and N SKM
answers (bench/register.py, the register of bench/reports.py), on each backend.
"""
from __future__ import annotations

import argparse
import asyncio
import gc
import os
import shlex
import signal
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from telegram import Update
from telegram.ext import ApplicationBuilder, ContextTypes, MessageHandler, filters

from bot.emulators.telegram import BotApiEmulator, Outgoing

sys.path.insert(0, str(Path(__file__).resolve().parent))  # bench/register.py, also when imported
from register import postgres_schema  # noqa: E402

TOKEN = "999:BENCH"
USERS = 50
WARMUP = 100
PG_DEFAULT = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


# ------------------------------------------------------------------------- the bots (children)


async def echo(update: Update, _ctx: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.message is not None
    await update.message.reply_text(update.message.text or "")


async def serve_echo(api_url: str) -> None:
    app = ApplicationBuilder().token(TOKEN).base_url(f"{api_url}/bot").base_file_url(f"{api_url}/file/bot").build()
    app.add_handler(MessageHandler(filters.TEXT, echo))
    async with app:
        await app.start()
        assert app.updater is not None
        await app.updater.start_polling(poll_interval=0.0, timeout=1)
        await until_terminated()
        await app.updater.stop()
        await app.stop()


async def serve_sigap(api_url: str, data_dir: str, database_url: str | None) -> None:
    from bot.app.service import Service
    from bot.config.settings import load_settings

    env = {"SIGAP_DATA_DIR": data_dir, "SIGAP_TELEGRAM_POLL_TIMEOUT": "1", "SIGAP_LOG_LEVEL": "WARNING"}
    if database_url:
        env["SIGAP_DATABASE_URL"] = database_url
    settings = load_settings(env=env, env_file=None)
    service = Service(
        settings, token=TOKEN, base_url=f"{api_url}/bot", base_file_url=f"{api_url}/file/bot", rate_limit=False
    )
    await service.start()
    gc.freeze()  # as Service.run_forever does for `sigap run`
    try:
        await until_terminated()
    finally:
        await service.stop()


async def until_terminated() -> None:
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    await stop.wait()


# ------------------------------------------------------------------------- the driver (parent)


@dataclass
class Result:
    name: str
    rate: float
    median: float
    p99: float
    cpu_ms: float | None  # CPU time of the bot's process per update of the burst


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of a process so far (Linux), all its threads included."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def burst(emu: BotApiEmulator, users: list[int], n: int) -> float:
    """Inject n messages at once; seconds until the bot has sent n replies."""
    start = emu.mark()
    t0 = time.perf_counter()
    for i in range(n):
        emu.send_text(users[i % len(users)], "/start")
    await emu.wait_until(lambda: emu.mark() - start >= n, timeout=300)
    return time.perf_counter() - t0


def is_reply_to(user: int, out: Outgoing) -> bool:
    return out.chat_id == user and out.method == "sendMessage"


async def round_trips(emu: BotApiEmulator, users: list[int], rounds: int) -> list[float]:
    latencies = []
    for i in range(rounds):
        user = users[i % len(users)]
        since = emu.mark()
        t = time.perf_counter()
        emu.send_text(user, "/start")
        await emu.wait_for(partial(is_reply_to, user), timeout=30, since=since)
        latencies.append((time.perf_counter() - t) * 1000)
    return latencies


async def measure(name: str, child_args: list[str], burst_n: int, rounds: int) -> Result:
    async with BotApiEmulator(token=TOKEN) as emu:
        users = [emu.user(10_000 + i, f"U{i}")["id"] for i in range(USERS)]
        cmd = [sys.executable, str(Path(__file__).resolve()), "--serve", *child_args, "--api-url", emu.url]
        # e.g. BENCH_CHILD_PREFIX="py-spy record -o prof.txt -f raw --" to profile the bots
        proc = await asyncio.create_subprocess_exec(*shlex.split(os.environ.get("BENCH_CHILD_PREFIX", "")), *cmd)
        try:
            await emu.wait_until(lambda: emu.polls_waiting > 0, timeout=60)
            await burst(emu, users, WARMUP)
            await emu.wait_idle(timeout=30, quiet=0.3)
            cpu0 = cpu_seconds(proc.pid)
            seconds = await burst(emu, users, burst_n)
            cpu1 = cpu_seconds(proc.pid)
            await emu.wait_idle(timeout=30, quiet=0.3)
            lat = await round_trips(emu, users, rounds)
        finally:
            # The bot's last getUpdates (it confirms its offset on the way out) needs this
            # loop to answer, so the wait must not block it.
            proc.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(proc.wait(), 30)
            except TimeoutError:
                proc.kill()
                await proc.wait()
    cpu_ms = (cpu1 - cpu0) * 1000 / burst_n if cpu0 is not None and cpu1 is not None else None
    return Result(
        name,
        burst_n / seconds,
        statistics.median(lat),
        statistics.quantiles(lat, n=100, method="inclusive")[98],
        cpu_ms,
    )


def line(r: Result) -> str:
    cpu = f"{r.cpu_ms:6.2f} ms" if r.cpu_ms is not None else "   n/a"
    return (f"{r.name:<18} {r.rate:8.1f} upd/s   latency median {r.median:7.2f} ms   p99 {r.p99:7.2f} ms"
            f"   bot CPU/update {cpu}")


def seed(url: str, size: int) -> None:
    """A register of `size` complaints and SKM answers before the bot starts (bench/register.py),
    so the full bot is measured on a large register; nothing for size 0."""
    if not size:
        return
    from register import fill  # bench/register.py (the script's own folder)

    from storage import migrate
    from storage.db import Database

    db = Database(url)
    try:
        migrate.upgrade(db)
        filled = fill(db, size)
        print(f"  register of {size:,} complaints + {size:,} answers filled in {filled.seconds:.0f} s", flush=True)
    finally:
        db.dispose()


async def one_round(a: argparse.Namespace, pg_url: str | None) -> list[Result]:
    results = [await measure("echo PTB", ["echo"], a.burst, a.rounds)]
    with tempfile.TemporaryDirectory() as tmp:
        seed(f"sqlite:///{tmp}/sigap.db", a.size)  # where the bot looks in SIGAP_DATA_DIR
        results.append(await measure("SIGAP SQLite", ["sigap", "--data", tmp], a.burst, a.rounds))
    if pg_url is not None:
        with postgres_schema(pg_url) as pg, tempfile.TemporaryDirectory() as tmp:
            if pg is not None:
                seed(pg, a.size)
                results.append(
                    await measure("SIGAP PostgreSQL", ["sigap", "--data", tmp, "--database-url", pg], a.burst, a.rounds)
                )
    return results


def report(results: list[Result]) -> None:
    echo_r = results[0]
    for r in results:
        print(line(r))
    for r in results[1:]:
        cpu = f", CPU/update {r.cpu_ms / echo_r.cpu_ms:.2f}x" if r.cpu_ms and echo_r.cpu_ms else ""
        print(f"ratio {r.name}/echo: throughput {r.rate / echo_r.rate:.2f} (target >= 0.80, issue 11), "
              f"median latency {r.median / echo_r.median:.2f}x, p99 latency {r.p99 / echo_r.p99:.2f}x "
              f"(target <= 2x){cpu}")


async def main(a: argparse.Namespace) -> None:
    pg_url = None if a.no_postgres else os.environ.get("SIGAP_TEST_POSTGRES_URL", PG_DEFAULT)
    rounds = []
    # Rounds alternate the bots, so that load from outside the benchmark falls on both.
    for _ in range(a.repeat):
        rounds.append(await one_round(a, pg_url))
    print(f"burst {a.burst} updates from {USERS} users, {a.rounds} sequential round trips; "
          f"SIGAP's register: {a.size:,} complaints + {a.size:,} SKM answers; "
          "each bot in its own process, the emulator in this one")
    for i, results in enumerate(rounds, 1):
        if a.repeat > 1:
            print(f"-- round {i}")
        report(results)
    if a.repeat > 1:
        print("-- median of the rounds")
        report([
            Result(
                r.name,
                statistics.median(x[k].rate for x in rounds),
                statistics.median(x[k].median for x in rounds),
                statistics.median(x[k].p99 for x in rounds),
                None if r.cpu_ms is None else statistics.median(x[k].cpu_ms or 0.0 for x in rounds),
            )
            for k, r in enumerate(rounds[0])
        ])


def cli() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--burst", type=int, default=500)
    p.add_argument("--rounds", type=int, default=200)
    p.add_argument("--no-postgres", action="store_true")
    p.add_argument("--repeat", type=int, default=1, help="rounds of all bots, alternating")
    p.add_argument("--size", type=int, default=0,
                   help="complaints and SKM answers in SIGAP's register (bench/register.py), e.g. 1000000")
    # Child mode: run one bot against the emulator at --api-url until SIGTERM.
    p.add_argument("--serve", choices=["echo", "sigap"])
    p.add_argument("--api-url")
    p.add_argument("--data")
    p.add_argument("--database-url")
    a = p.parse_args()
    if a.serve == "echo":
        asyncio.run(serve_echo(a.api_url))
    elif a.serve == "sigap":
        asyncio.run(serve_sigap(a.api_url, a.data, a.database_url))
    else:
        asyncio.run(main(a))


if __name__ == "__main__":
    cli()
