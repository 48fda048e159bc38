"""CPU of the Telegram handling batch, in process: one resident's /start per batch, through
BatchHandler.handle with the Telegram step (store, claim, dialog states, the dialog step, the
outbox item, the handled mark, the chat's undelivered items), on an empty register.

    python bench/batch_cpu.py [--backends sqlite,postgresql] [--batches 600] [--calls]

Prints the median CPU and wall time per batch after 100 warm-up batches and, with --calls,
the Python function calls per batch (cProfile's count over the same batches): unlike the
times, the count does not move with the machine's load, so two trees compare exactly
(`PYTHONPATH=<other checkout> python bench/batch_cpu.py`).

PostgreSQL: SIGAP_TEST_POSTGRES_URL (default postgresql+psycopg://postgres@127.0.0.1:5432/test),
in a schema of its own dropped at the end.
"""
from __future__ import annotations

import argparse
import cProfile
import pstats
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from register import postgres_schema  # noqa: E402

from bot.app.service import make_runtime  # noqa: E402
from bot.channels.batch import BatchHandler  # noqa: E402
from bot.channels.telegram import TelegramChannel  # noqa: E402
from bot.config.office import load_office  # noqa: E402
from bot.config.settings import load_settings  # noqa: E402
from storage import migrate  # noqa: E402
from storage.db import Database  # noqa: E402

WARMUP = 100
USERS = 50


def update(i: int) -> dict[str, Any]:
    uid = 1000 + i % USERS
    return {"update_id": i, "message": {"message_id": i, "date": 0, "text": "/start",
                                        "chat": {"id": uid, "type": "private"},
                                        "from": {"id": uid, "is_bot": False, "first_name": "Warga"}}}


def run(name: str, url: str, batches: int, calls: bool) -> None:
    settings = load_settings({"SIGAP_DATABASE_URL": url})
    office = load_office(settings.office_file)
    db = Database(url, kecamatan=office.kode_wilayah)
    migrate.upgrade(db)
    rt = make_runtime(settings, office, db, "sigap_bot")
    # The channel's translation and step without its Application: no network, no polling.
    channel = TelegramChannel.__new__(TelegramChannel)
    channel.bot_kode, channel.username, channel.rt, channel.source = None, "sigap_bot", rt, "telegram"
    handler = BatchHandler(db, "telegram", channel._step, lambda _p: None, lambda: datetime.now(UTC), 5)
    cpu: list[float] = []
    wall: list[float] = []

    def one(i: int) -> None:
        u = update(i)
        prepared = channel._prepare_plain(u)
        assert prepared is not None
        c0, w0 = time.process_time(), time.perf_counter()
        handler.handle([(str(i), u)], {str(i): prepared})
        cpu.append(time.process_time() - c0)
        wall.append(time.perf_counter() - w0)

    for i in range(WARMUP):
        one(i)
    cpu.clear()
    wall.clear()
    for i in range(WARMUP, WARMUP + batches):
        one(i)
    line = (f"{name:<11} CPU per batch median {statistics.median(cpu) * 1000:6.2f} ms   "
            f"wall {statistics.median(wall) * 1000:6.2f} ms")
    if calls:
        profile = cProfile.Profile()
        profile.enable()
        for i in range(WARMUP + batches, WARMUP + 2 * batches):
            one(i)
        profile.disable()
        total = pstats.Stats(profile).total_calls  # type: ignore[attr-defined]
        line += f"   Python calls per batch {total / batches:7.0f}"
    print(line, flush=True)
    db.dispose()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--backends", default="sqlite,postgresql")
    ap.add_argument("--batches", type=int, default=600)
    ap.add_argument("--calls", action="store_true")
    a = ap.parse_args()
    for backend in a.backends.split(","):
        if backend == "sqlite":
            with tempfile.TemporaryDirectory() as tmp:
                run("SQLite", f"sqlite:///{tmp}/batch.db", a.batches, a.calls)
        else:
            with postgres_schema() as url:
                if url is None:
                    print("PostgreSQL not reachable: skipped")
                    continue
                run("PostgreSQL", url, a.batches, a.calls)


if __name__ == "__main__":
    main()
