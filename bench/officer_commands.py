"""Officer commands on a large register, and what a resident waits meanwhile, in one run.

For each backend (SQLite, PostgreSQL) and each register size N (default 0, 100k): a fresh
register filled with N complaints of 2026 with their status history and N SKM responses
(bench/register.py, as bench/digest.py and bench/reports.py: executemany on SQLite, COPY on
PostgreSQL; ANALYZE after),
one officer (petugas) registered. Then:

1. each officer command as the bot runs it, in this process: the dialog STEP (what runs in
   the write batch that handles every chat, bot/channels/batch.py) and the BUILD (what the
   delivery does afterwards from a read transaction, bot/dialogs/deferred.py and /digest);
   median of --repeat, and peak Python memory (tracemalloc) of one step + build;
2. the full bot in a process of its own against the Bot API emulator (as
   bench/telegram_throughput.py runs it): the /start burst rate and round-trip latency on
   that register; then, per heavy command, the command and a resident's /start injected
   together, --pairs times: the resident's reply latency and the officer's reply latency
   (medians). A resident's latency near the plain round trip means the report did not hold
   them up.

    python bench/officer_commands.py [--sizes 0,100000,1000000] [--backends sqlite,postgresql]
                                     [--repeat 3] [--pairs 5] [--burst 300] [--rounds 50]

PostgreSQL: SIGAP_TEST_POSTGRES_URL (default postgresql+psycopg://postgres@127.0.0.1:5432/test),
in a schema of its own dropped at the end.
"""
from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from measure import peak_memory, timed  # noqa: E402
from register import fill as fill_register  # noqa: E402  bench/register.py: the register
from register import postgres_schema  # noqa: E402
from sqlalchemy import delete  # noqa: E402
from telegram_throughput import (  # noqa: E402
    TOKEN,
    USERS,
    WARMUP,
    burst,
    is_reply_to,
    round_trips,
)

from bot.app.service import make_runtime  # noqa: E402
from bot.config.office import load_office  # noqa: E402
from bot.config.settings import load_settings  # noqa: E402
from bot.dialogs import deferred, router  # noqa: E402
from bot.dialogs.types import Caller, Event  # noqa: E402
from bot.emulators.telegram import BotApiEmulator  # noqa: E402
from storage import migrate, people  # noqa: E402
from storage.db import Database  # noqa: E402
from storage.models import OutboxItem  # noqa: E402

PG_DEFAULT = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
OFFICER = 9001
RESIDENT = 10_000  # the first of the emulator's users
COMMANDS = ("/kasus", "/kasus terlambat", "/ikm", "/iku", "/digest")


# ------------------------------------------------------------------------------- the register


def fill(db: Database, size: int) -> str:
    filled = fill_register(db, size)  # with the open complaints' current_due, for /kasus
    with db.transaction() as s:
        people.add_officer(s, OFFICER, "Petugas Bench", "petugas", datetime.now(UTC))
    return f"{size:,} complaints + {size:,} responses loaded in {filled.seconds:.1f} s"


# ---------------------------------------------------------------- 1. step and build, in-process


def in_process(db: Database, data_dir: Path, repeat: int, commands: list[str]) -> Iterator[str]:
    settings = load_settings(env={"SIGAP_DATA_DIR": str(data_dir)}, env_file=None)
    rt = make_runtime(settings, load_office(), db, "bench_bot")
    caller = Caller("telegram", str(OFFICER), str(OFFICER), "Petugas", "private")
    for command in commands:
        name, _, args = command[1:].partition(" ")
        event = Event(kind="command", command=name, args=args, text=command)
        queued: list[tuple[str, dict[str, Any]]] = []

        def step(event: Event = event, queued: list[tuple[str, dict[str, Any]]] = queued) -> None:
            from sqlalchemy import func, select

            with db.transaction() as s:
                last = s.scalar(select(func.max(OutboxItem.id))) or 0
                router.handle(rt, s, caller, event, datetime.now(UTC))
                rows = s.scalars(select(OutboxItem).where(OutboxItem.id > last).order_by(OutboxItem.id))
                queued[:] = [(r.kind, dict(r.payload)) for r in rows]

        def build(queued: list[tuple[str, dict[str, Any]]] = queued) -> int:
            from bot.reports.digest import draw_digest

            n = 0
            with db.reading() as s:
                for kind, payload in queued:
                    if kind == deferred.KIND:
                        n += len(deferred.build(rt, s, payload))
                    elif kind == "digest":
                        draw_digest(s, rt.office, payload["week"], datetime.now(UTC), rt.data_dir, rt.policy.holidays)
                        n += 2
                    else:
                        n += 1
            return n

        step()
        build()  # warm-up: imports, matplotlib's font cache, connections
        t_step, _ = timed(step, repeat)
        t_build, n = timed(build, repeat)
        memory = peak_memory(lambda step=step, build=build: (step(), build()))
        kinds = ",".join(k for k, _ in queued)
        yield (f"  {command:<18} step (write batch) {t_step * 1000:8.1f} ms   build (outside) "
               f"{t_build * 1000:8.1f} ms   peak {memory / 1e6:6.1f} MB   queued {kinds} -> {n} msg")


# -------------------------------------------------------------------- 2. the bot, end to end


async def live(data_dir: str, database_url: str | None, burst_n: int, rounds: int, pairs: int,
               commands: list[str]) -> None:
    async with BotApiEmulator(token=TOKEN) as emu:
        users = [emu.user(RESIDENT + i, f"U{i}")["id"] for i in range(USERS)]
        emu.user(OFFICER, "Petugas")
        cmd = [sys.executable, str(Path(__file__).resolve().parent / "telegram_throughput.py"), "--serve", "sigap",
               "--data", data_dir, "--api-url", emu.url]
        if database_url:
            cmd += ["--database-url", database_url]
        proc = await asyncio.create_subprocess_exec(*cmd)
        try:
            await emu.wait_until(lambda: emu.polls_waiting > 0, timeout=120)
            await burst(emu, users, WARMUP)
            await emu.wait_idle(timeout=30, quiet=0.3)
            seconds = await burst(emu, users, burst_n)
            await emu.wait_idle(timeout=60, quiet=0.3)
            lat = await round_trips(emu, users, rounds)
            print(f"  bot: /start burst {burst_n / seconds:7.1f} upd/s; round trip median "
                  f"{statistics.median(lat):6.1f} ms, p99 {statistics.quantiles(lat, n=100)[98]:6.1f} ms", flush=True)
            for command in commands:
                officer_ms, resident_ms = [], []
                for i in range(pairs + 1):  # the first pair warms up
                    resident = users[i % len(users)]
                    since = emu.mark()
                    t = time.perf_counter()
                    emu.send_text(OFFICER, command)
                    emu.send_text(resident, "/start")
                    r = await emu.wait_for(partial(is_reply_to, resident), timeout=300, since=since)
                    o = await emu.wait_for(partial(is_reply_to, OFFICER), timeout=300, since=since)
                    if i:
                        resident_ms.append((r.at - t0_mono(t)) * 1000)
                        officer_ms.append((o.at - t0_mono(t)) * 1000)
                    await emu.wait_idle(timeout=300, quiet=0.3)
                print(f"  bot: {command:<18} with a resident's /start: resident "
                      f"{statistics.median(resident_ms):7.1f} ms, officer {statistics.median(officer_ms):8.1f} ms "
                      f"(medians of {pairs})", flush=True)
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(proc.wait(), 60)
            except TimeoutError:
                proc.kill()
                await proc.wait()


_OFFSET = time.monotonic() - time.perf_counter()


def t0_mono(perf: float) -> float:
    """A perf_counter reading on the emulator's clock (it stamps with time.monotonic)."""
    return perf + _OFFSET


# --------------------------------------------------------------------------------------- main


@contextlib.contextmanager
def register(backend: str, pg_url: str) -> Iterator[tuple[Database, str, str | None]]:
    with tempfile.TemporaryDirectory() as tmp:
        if backend == "sqlite":
            url = f"sqlite:///{tmp}/sigap.db"  # where the bot looks in SIGAP_DATA_DIR
            db = Database(url)
            try:
                migrate.upgrade(db)
                yield db, tmp, None
            finally:
                db.dispose()
            return
        with postgres_schema(pg_url) as url_pg:
            if url_pg is None:
                raise SystemExit("PostgreSQL not reachable")
            db = Database(url_pg)
            try:
                migrate.upgrade(db)
                yield db, tmp, url_pg
            finally:
                db.dispose()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", default="0,100000")
    ap.add_argument("--backends", default="sqlite,postgresql")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--pairs", type=int, default=5)
    ap.add_argument("--burst", type=int, default=300)
    ap.add_argument("--rounds", type=int, default=50)
    ap.add_argument("--no-live", action="store_true", help="only the in-process step/build timings")
    ap.add_argument("--commands", default=",".join(COMMANDS), help="comma-separated, e.g. /kasus,/ikm")
    a = ap.parse_args()
    pg_url = os.environ.get("SIGAP_TEST_POSTGRES_URL", PG_DEFAULT)
    commands = a.commands.split(",")
    print(f"bench/officer_commands.py: sizes {a.sizes}, backends {a.backends}, repeat {a.repeat}, "
          f"pairs {a.pairs}; cpus {os.cpu_count()}", flush=True)
    for backend in a.backends.split(","):
        for size in (int(x) for x in a.sizes.split(",")):
            with register(backend, pg_url) as (db, data_dir, url):
                print(f"\n[{backend}, {size:,}] {fill(db, size)}", flush=True)
                for line in in_process(db, Path(data_dir), a.repeat, commands):
                    print(line, flush=True)
                with db.transaction() as s:
                    # What the in-process steps queued is never sent: the bot must not start
                    # by building those reports (the officer's chat would wait behind them).
                    s.execute(delete(OutboxItem))
                if not a.no_live:
                    asyncio.run(live(data_dir, url, a.burst, a.rounds, a.pairs, commands))
    return 0


if __name__ == "__main__":
    sys.exit(main())
