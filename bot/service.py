# Wires one running SIGAP: database, runtime, the PTB application, the Telegram channel and
# the outbox delivery. Used by `sigap run`, `sigap sandbox`, the tests and the benchmarks,
# so all of them run the same code.
from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import Callable
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import holidays

from bot.channels.telegram import TelegramChannel, TelegramSender, build_application
from bot.delivery import Delivery
from bot.dialogs.context import Runtime
from bot.office import Office, load_office
from bot.settings import Settings
from bot.texts import set_timezone
from storage import migrate, people
from storage.complaints import DeadlinePolicy
from storage.db import Database

log = logging.getLogger(__name__)
SECRET_KEY = "button_secret"


def utcnow() -> datetime:
    return datetime.now(UTC)


def open_database(settings: Settings) -> Database:
    db = Database(settings.database_url)
    migrate.upgrade(db)
    return db


def button_secret(db: Database) -> bytes:
    """Signs card buttons; made once per register and shared by every instance using it."""
    with db.transaction() as s:
        value = people.get_setting(s, SECRET_KEY)
        if value is None:
            value = secrets.token_hex(32)
            people.set_setting(s, SECRET_KEY, value, utcnow())
    return bytes.fromhex(value)


def make_runtime(settings: Settings, office: Office, db: Database, bot_username: str) -> Runtime:
    tz = ZoneInfo(office.timezone)
    set_timezone(tz)
    policy = DeadlinePolicy(
        verify_days=office.verify_days,
        followup_days=office.followup_days,
        holidays=holidays.country_holidays("ID"),
        tz=tz,
    )
    return Runtime(
        office=office,
        policy=policy,
        tz=tz,
        secret=button_secret(db),
        bot_username=bot_username,
        data_dir=settings.data_dir,
        env_trantib_group=settings.trantib_group,
    )


class Service:
    def __init__(
        self,
        settings: Settings,
        *,
        token: str,
        base_url: str | None = None,
        base_file_url: str | None = None,
        rate_limit: bool = True,
        clock: Callable[[], datetime] = utcnow,
        office: Office | None = None,
    ) -> None:
        self.settings = settings
        self.office = office or load_office(settings.office_file)
        self.db = open_database(settings)
        self.app = build_application(
            token,
            base_url or settings.telegram_base_url,
            base_file_url or settings.telegram_base_file_url,
            rate_limit=rate_limit,
        )
        self.clock = clock
        self._tasks: list[asyncio.Task[None]] = []
        self.rt: Runtime | None = None
        self.channel: TelegramChannel | None = None
        self.delivery: Delivery | None = None

    async def start(self) -> None:
        await self.app.initialize()
        me = await self.app.bot.get_me()
        self.rt = make_runtime(self.settings, self.office, self.db, me.username or "sigap_bot")
        self.delivery = Delivery(self.db, self.rt, {"telegram": TelegramSender(self.app.bot)}, self.clock)
        self.channel = TelegramChannel(
            self.app, self.db, self.rt, self.delivery, poll_timeout=self.settings.telegram_poll_timeout, clock=self.clock
        )
        await self.app.start()
        # A periodic nudge through PTB's JobQueue, in case a wake-up was missed.
        assert self.app.job_queue is not None
        self.app.job_queue.run_repeating(self._sweep, interval=30, first=30, name="sweep")
        self._tasks = [
            asyncio.create_task(self.channel.handle_loop(), name="handle"),
            asyncio.create_task(self.delivery.run(), name="delivery"),
            asyncio.create_task(self.channel.fetch_loop(), name="fetch"),
        ]
        log.info("SIGAP berjalan sebagai @%s", me.username)

    async def _sweep(self, _context: object) -> None:
        if self.delivery:
            self.delivery.wake()
        if self.channel:
            self.channel._work.set()

    async def stop(self) -> None:
        for t in self._tasks:
            t.cancel()
        for t in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await t
        self._tasks = []
        if self.app.running:
            await self.app.stop()
        await self.app.shutdown()
        self.db.dispose()

    async def run_forever(self) -> None:
        await self.start()
        try:
            await asyncio.gather(*self._tasks)
        finally:
            await self.stop()
