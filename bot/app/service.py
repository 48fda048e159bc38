# Wires one running SIGAP: database, runtime, the PTB application, the Telegram channel and
# the outbox delivery. Used by `sigap run`, `sigap sandbox`, the tests and the benchmarks,
# so all of them run the same code.
from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import secrets
from collections.abc import Callable
from datetime import UTC, datetime, time, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from bot.app.delivery import Delivery, Sender
from bot.app.failures import TelegramUnreachable
from bot.app.web import WebServer, build_app
from bot.channels import telegram_bots, whatsapp_numbers
from bot.channels.telegram import TelegramChannel, TelegramSender, build_application
from bot.channels.whatsapp import WhatsAppService
from bot.config.office import Office, load_office, load_offices
from bot.config.settings import Settings
from bot.config.workcalendar import deadline_policy
from bot.dialogs.context import Runtime
from bot.jobs import kecamatan_jobs
from bot.jobs.digest_job import DigestJob
from bot.jobs.digest_rounds import DigestRounds
from bot.jobs.offices import served_offices
from bot.texts import set_timezone
from storage import job_locks, migrate, people
from storage.db import Database

if TYPE_CHECKING:
    from telegram.ext import Application

log = logging.getLogger(__name__)
SECRET_KEY = "button_secret"


def utcnow() -> datetime:
    return datetime.now(UTC)


def open_database(settings: Settings) -> Database:
    # The register works for the office file's kecamatan (storage/tenancy.py), and an
    # existing single-office register moves into it on its first upgrade (0012).
    db = Database(settings.database_url, kecamatan=load_office(settings.office_file).kode_wilayah)
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
    policy = deadline_policy(office)
    # SIGAP_OFFICE_DIR: one bot for every kecamatan of the folder (bot/dialogs/kecamatan.py);
    # the office file's stays the default. Without it, one office as before.
    offices = load_offices(settings.office_dir) if settings.office_dir else {}
    return Runtime(
        offices=offices,
        policies={k: deadline_policy(o) for k, o in offices.items() if k != office.kode_wilayah},
        office=office,
        policy=policy,
        tz=tz,
        secret=button_secret(db),
        bot_username=bot_username,
        data_dir=settings.data_dir,
        env_trantib_group=settings.trantib_group,
        kabupaten_chat=settings.kabupaten_chat,
        # Until the web server has its port (0 in the sandbox: any free one), the configured one.
        dashboard_url=(settings.dashboard.url or f"http://{settings.web.host}:{settings.web.port}")
        if settings.dashboard.enabled else None,
        dashboard_link_minutes=settings.dashboard.link_minutes,
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
        # The kecamatan bots (bot/channels/telegram_bots.py): a token variable an office file
        # names but nobody filled stops the start here, before the register is opened.
        served = served_offices(settings, self.office)
        bot_tokens = settings.bot_tokens(served)
        # The kecamatan's own WhatsApp numbers (bot/channels/whatsapp_numbers.py): likewise.
        whatsapp_numbers.check_numbers(settings.whatsapp, served)
        self.db = open_database(settings)
        self.app = build_application(
            token,
            base_url or settings.telegram_base_url,
            base_file_url or settings.telegram_base_file_url,
            rate_limit=rate_limit,
        )
        # One Application per kecamatan bot, each with its own rate limiter: Telegram's limits
        # (30 messages a second, 20 a minute per group) are counted per bot.
        self.bots: dict[str, Application] = {
            kode: build_application(bot_token, base_url or settings.telegram_base_url,
                                    base_file_url or settings.telegram_base_file_url, rate_limit=rate_limit)
            for kode, bot_token in bot_tokens.items()
        }
        self.bot_channels: dict[str, TelegramChannel] = {}
        self.clock = clock
        self._tasks: list[asyncio.Task[None]] = []
        self.rt: Runtime | None = None
        self.channel: TelegramChannel | None = None
        self.delivery: Delivery | None = None
        self.digest: DigestJob | None = None  # the first office's (the digest round's first job)
        self.digests: DigestRounds | None = None
        # WhatsApp only when its token and phone id are set; the web server only when it has
        # something to serve (WhatsApp, or Telegram in webhook mode).
        self.whatsapp = WhatsAppService(settings.whatsapp, self.db, clock, served) if settings.whatsapp.enabled else None
        self.web: WebServer | None = None

    async def _connect_telegram(self, app: Application | None = None, variable: str = "SIGAP_TELEGRAM_TOKEN") -> None:
        """The first call to Telegram, retried with a doubling wait: a bot started while the
        network is still coming up (boot, a router restart) waits instead of dying."""
        from telegram.error import InvalidToken, NetworkError

        app = app or self.app
        attempts = max(1, self.settings.telegram_start_attempts)
        wait = self.settings.telegram_start_backoff
        for attempt in range(1, attempts + 1):
            try:
                await app.initialize()
                return
            except InvalidToken as exc:
                raise TelegramUnreachable(
                    f"Token Telegram ditolak; periksa {variable} (dari @BotFather)."
                ) from exc
            except NetworkError as exc:
                if attempt == attempts:
                    raise TelegramUnreachable(
                        f"Telegram tidak dapat dihubungi setelah {attempts} percobaan ({exc}). "
                        "Periksa jaringan dan SIGAP_TELEGRAM_API_URL, lalu jalankan lagi."
                    ) from exc
                log.warning(
                    "Telegram belum dapat dihubungi (%s); mencoba lagi dalam %s detik (percobaan %d dari %d).",
                    exc,
                    f"{wait:g}".replace(".", ","),
                    attempt,
                    attempts,
                )
                await asyncio.sleep(wait)
                wait = min(wait * 2, 60.0)

    async def start(self) -> None:
        await self._connect_telegram()
        me = await self.app.bot.get_me()
        self.rt = make_runtime(self.settings, self.office, self.db, me.username or "sigap_bot")
        served = served_offices(self.settings, self.office)
        for kode, app in self.bots.items():
            await self._connect_telegram(app, served[kode].telegram_token_env or kode)
            self.rt.bot_usernames[kode] = (await app.bot.get_me()).username or ""
            named = served[kode].telegram_username
            if named and named.lower() != self.rt.bot_usernames[kode].lower():
                # Printed QR cards (`sigap skm qr`) take the name from the office file: they
                # would open another bot than the one this token runs.
                log.warning("Berkas kantor %s: chat.telegram_username @%s, tetapi token %s milik @%s; "
                            "kartu QR yang dicetak membuka bot yang salah. Perbaiki berkas kantornya.",
                            served[kode].name, named, served[kode].telegram_token_env, self.rt.bot_usernames[kode])
        # The outbox's channel names the bot that sends (bot/channels/telegram_bots.py).
        senders: dict[str, Sender] = {telegram_bots.SHARED: TelegramSender(self.app.bot)}
        senders.update({telegram_bots.channel_of(kode): TelegramSender(app.bot) for kode, app in self.bots.items()})
        if self.whatsapp is not None:  # the shared number, and each kecamatan's own
            senders.update(self.whatsapp.senders)
        self.delivery = Delivery(
            self.db, self.rt, senders, self.clock, lease=timedelta(seconds=self.settings.outbox_lease)
        )
        self.channel = TelegramChannel(
            self.app, self.db, self.rt, self.delivery, poll_timeout=self.settings.telegram_poll_timeout, clock=self.clock
        )
        self.bot_channels = {
            kode: TelegramChannel(app, self.db, self.rt, self.delivery, poll_timeout=self.settings.telegram_poll_timeout,
                                  clock=self.clock, bot_kode=kode, username=self.rt.bot_usernames[kode])
            for kode, app in self.bots.items()
        }
        await self.app.start()
        for app in self.bots.values():
            await app.start()
        # A periodic nudge through PTB's JobQueue, in case a wake-up was missed.
        assert self.app.job_queue is not None
        self.app.job_queue.run_repeating(self._sweep, interval=30, first=30, name="sweep")
        # Personal data past its retention period, once a night (and once soon after start,
        # so an instance that is never up at night still purges).
        self.app.job_queue.run_daily(self._retention, time=time(2, 0, tzinfo=self.rt.tz), name="retensi")
        self.app.job_queue.run_once(self._retention, when=300, name="retensi-awal")
        # The weekly digest of every kecamatan, then the kabupaten's: its weekly slot, plus a
        # catch-up at startup and every hour (bot/jobs/digest_rounds.py).
        self.digests = kecamatan_jobs.digest_rounds(
            self.db, self.rt, self.settings, TelegramSender(self.app.bot), self.clock,
            bot_senders={kode: senders[telegram_bots.channel_of(kode)] for kode in self.bots})
        self.digest = self.digests.jobs[0]
        self.digests.schedule(self.app.job_queue)
        # Deadline reminders of every kecamatan: every 15 minutes, sending only in office hours
        # on working days.
        kecamatan_jobs.schedule_reminders(self.app.job_queue, self.db, self.rt, self.settings, self.clock)
        self._tasks = [
            asyncio.create_task(self.channel.handle_loop(), name="handle"),
            asyncio.create_task(self.delivery.run(), name="delivery"),
            *(asyncio.create_task(c.handle_loop(), name=f"handle-{kode}") for kode, c in self.bot_channels.items()),
        ]
        await self._start_web()
        log.info("SIGAP berjalan sebagai @%s", me.username)

    async def _start_web(self) -> None:
        assert self.channel is not None and self.delivery is not None and self.rt is not None
        web = self.settings.web
        webhook = web.telegram_mode == "webhook"
        if self.whatsapp is not None:
            self._tasks.append(
                asyncio.create_task(self.whatsapp.attach(self.rt, self.delivery).handle_loop(), name="wa-handle")
            )
        if not webhook:
            # A webhook left from an earlier run would make every getUpdates fail with 409.
            await self.app.bot.delete_webhook(drop_pending_updates=False)
            self._tasks.append(asyncio.create_task(self.channel.fetch_loop(), name="fetch"))
            for kode, channel in self.bot_channels.items():  # each bot polls for itself
                await channel.bot.delete_webhook(drop_pending_updates=False)
                self._tasks.append(asyncio.create_task(channel.fetch_loop(), name=f"fetch-{kode}"))
        secret = web.telegram_webhook_secret or ""
        # Each kecamatan bot on its own path, with its own secret derived from the one set.
        hooks = {kode: (telegram_bots.webhook_path(web.telegram_path, kode), telegram_bots.webhook_secret(secret, kode))
                 for kode in self.bot_channels} if webhook else {}
        dash = self.settings.dashboard
        pages_on = dash.enabled or dash.public_report
        if self.whatsapp is None and not webhook and not pages_on:
            return
        app = build_app(
            web,
            whatsapp=self.whatsapp.wa if self.whatsapp else None,
            whatsapp_channel=self.whatsapp.channel if self.whatsapp else None,
            telegram_accept=self.channel.accept if webhook else None,
            dashboard=self._mount_dashboard if pages_on else None,
            telegram_bots=[(path, hook_secret, self.bot_channels[kode].accept)
                           for kode, (path, hook_secret) in hooks.items()],
        )
        self.web = WebServer(app, web.host, web.port)
        try:
            await self.web.start()
        except OSError as exc:
            if self.whatsapp is not None or webhook:
                raise  # updates arrive there: without it nothing would be received
            # Only the dashboard would be served: the bot itself still works, so it runs on.
            log.warning("Dasbor web tidak dapat dibuka di %s:%s (%s); bot tetap berjalan tanpa dasbor. "
                        "Atur SIGAP_WEB_PORT, atau SIGAP_DASHBOARD=mati.", web.host, web.port, exc)
            self.web = None
            self.rt.dashboard_url = None
            return
        if dash.enabled and not dash.url:
            self.rt.dashboard_url = self.web.url
        if webhook:
            # Only now can Telegram reach us; it then posts what it kept while we were away.
            await self.app.bot.set_webhook(
                url=web.telegram_webhook_url or "",
                secret_token=web.telegram_webhook_secret,
                allowed_updates=["message", "callback_query"],
            )
            for kode, (_path, hook_secret) in hooks.items():
                await self.bot_channels[kode].bot.set_webhook(
                    url=telegram_bots.webhook_path(web.telegram_webhook_url or "", kode),
                    secret_token=hook_secret,
                    allowed_updates=["message", "callback_query"],
                )

    def _mount_dashboard(self, app: object) -> None:
        from bot.dashboard.routes import Dashboard, mount_dashboard

        # Every served office (SIGAP_OFFICE_DIR): each officer's link opens their kecamatan's.
        mount_dashboard(app, Dashboard(self.db, self.office, self.settings.dashboard, self.clock,  # type: ignore[arg-type]
                                       offices=dict(self.rt.offices) if self.rt else {}))

    async def _retention(self, _context: object) -> None:
        from bot.jobs.retention_job import run_retention_all

        try:
            await asyncio.to_thread(self._retention_once, run_retention_all)
        except Exception:  # a failed purge is retried tomorrow; it must not stop the bot
            log.exception("Retensi data gagal")

    def _retention_once(self, run_retention_all: Callable[..., object]) -> None:
        # Every process of a register schedules it; one runs it (storage/job_locks.py), for
        # every kecamatan in turn.
        with job_locks.exclusive(self.db, "retensi") as mine:
            if mine:
                scopes = kecamatan_jobs.scopes(self.db, self.settings, self.office)
                run_retention_all(self.db, scopes, self.clock(), self.settings.data_dir)
            else:
                log.info("Retensi dilewati: proses lain sedang menjalankannya")

    async def _sweep(self, _context: object) -> None:
        if self.delivery:
            self.delivery.wake()
        for channel in (self.channel, *self.bot_channels.values()):
            if channel:
                channel._work.set()
        if self.whatsapp and self.whatsapp.channel:
            self.whatsapp.channel.wake()

    async def stop(self) -> None:
        if self.web is not None:  # first, so nothing new is accepted while the rest stops
            await self.web.stop()
            self.web = None
        for t in self._tasks:
            t.cancel()
        for t in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await t
        self._tasks = []
        if self.delivery is not None:
            await self.delivery.close()  # writes the sent marks still waiting
        for app in (self.app, *self.bots.values()):
            if app.running:
                await app.stop()
            await app.shutdown()
        if self.whatsapp is not None:
            await self.whatsapp.close()
        self.db.dispose()

    async def run_forever(self) -> None:
        await self.start()
        # What start-up built (modules, settings, templates) lives as long as the process:
        # out of the cyclic collector's sight, every collection scans only what handling
        # creates (measured with bench/telegram_throughput.py: about 5% less CPU per update).
        # Only here, for the process that runs one Service for its whole life: tests start
        # many Services in one process and must get their memory back.
        gc.freeze()
        try:
            await asyncio.gather(*self._tasks)
        finally:
            await self.stop()
