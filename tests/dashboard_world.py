# A register, the web app with the dashboard mounted (bot.app.web.build_app, as `sigap run`
# builds it) and a settable clock, for tests/test_dashboard_*.py.
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from bot.app.web import build_app
from bot.config.office import Office, load_office
from bot.config.settings import DashboardSettings, WebSettings
from bot.dashboard.routes import Dashboard, mount_dashboard
from bot.dialogs.context import Runtime
from bot.dialogs.router import handle
from bot.dialogs.types import Caller, Event
from bot.texts import to_plain
from storage import people
from storage.complaints import (
    ComplaintDraft,
    DeadlinePolicy,
    create_complaint,
    get_or_create_person,
)
from storage.db import Database
from storage.lifecycle import Actor, transition
from storage.models import OutboxItem

JAKARTA = ZoneInfo("Asia/Jakarta")
NOW = datetime(2026, 5, 15, 3, 0, tzinfo=UTC)  # Friday 15 May 2026, 10:00 WIB
ADMIN, KOORDINATOR, PIMPINAN, PETUGAS, WARGA = 11, 12, 13, 14, 99
BASE = "http://dasbor.test"
POLICY = DeadlinePolicy(verify_days=3, followup_days=5, holidays=set(), tz=JAKARTA)
OFFICER = Actor("petugas", 1, "Bu Admin", "admin")
RESIDENT = Actor("warga", None, None, "warga")


@dataclass
class Clock:
    now: datetime = NOW

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Site:
    db: Database
    office: Office
    clock: Clock
    client: TestClient
    rt: Runtime
    settings: DashboardSettings = field(default_factory=DashboardSettings)
    base: str = BASE
    # The mounted dashboard (its figure cache: bench/dashboard.py empties it and waits for it).
    dashboard: Dashboard | None = None

    def chat(self, user: int, text: str, *, group: bool = False) -> str:
        """`text` sent to the bot by `user` (router.handle, every channel's entry point); the
        plain text of the replies."""
        name, _, args = text.lstrip("/").partition(" ")
        chat = -100123 if group else user
        caller = Caller("telegram", str(chat), str(user), None, "group" if group else "private")
        with self.db.transaction() as s:
            last = s.scalar(select(func.max(OutboxItem.id))) or 0
            handle(self.rt, s, caller, Event(kind="command", command=name, args=args, text=text), self.clock())
            items = s.scalars(select(OutboxItem).where(OutboxItem.id > last).order_by(OutboxItem.id)).all()
            return "\n".join(to_plain(i.payload["text"]) for i in items)

    def link(self, user: int = PIMPINAN) -> str:
        """A login link as /dasbor sends it in chat."""
        reply = self.chat(user, "/dasbor")
        found = re.search(re.escape(self.base) + r"/dasbor/masuk\?t=([A-Za-z0-9_-]+)", reply)
        assert found, reply
        return found.group(1)

    def login(self, user: int = PIMPINAN) -> str:
        token = self.link(user)
        response = self.client.post("/dasbor/masuk", data={"t": token}, follow_redirects=False)
        assert response.status_code == 303, response.text
        return response.cookies["sigap_dasbor"]

    def later(self, **delta: float) -> None:
        self.clock.now = self.clock.now + timedelta(**delta)


def make_site(db: Database, settings: DashboardSettings | None = None, base: str = BASE,
              offices: dict[str, Office] | None = None) -> Site:
    """`offices`: every office the bot serves (SIGAP_OFFICE_DIR), the Jelbuk default among them."""
    office = load_office()
    clock = Clock()
    settings = settings or DashboardSettings(url=base)
    offices = offices or {}
    dashboard = Dashboard(db, office, settings, clock, offices=offices)
    app = build_app(WebSettings(), dashboard=lambda a: mount_dashboard(a, dashboard))
    rt = Runtime(office=office, policy=POLICY, tz=JAKARTA, secret=b"k" * 32, bot_username="sigap_test_bot",
                 data_dir=None,  # type: ignore[arg-type]
                 dashboard_url=base if settings.enabled else None, dashboard_link_minutes=settings.link_minutes,
                 offices=offices)
    with db.transaction() as s:
        people.add_officer(s, ADMIN, "Bu Admin", "admin", NOW)
        people.add_officer(s, KOORDINATOR, "Rina", "koordinator", NOW)
        people.add_officer(s, PIMPINAN, "Pak Camat", "pimpinan", NOW)
        people.add_officer(s, PETUGAS, "Budi", "petugas", NOW)
    return Site(db, office, clock, TestClient(app, base_url=base), rt, settings, base, dashboard)


def wib(*args: int) -> datetime:
    return datetime(*args, tzinfo=JAKARTA)  # type: ignore[misc]


def complaint(db: Database, received: datetime, outcome: str | None = None, *, desa: str = "Jelbuk",
              category: str = "keributan", reporter: tuple[str, str] | None = None,
              description: str = "Ribut tengah malam", kecamatan: str | None = None, prefix: str = "TRB") -> str:
    """One complaint received at `received`; `outcome` selesai/duplikat/verifikasi moves it an
    hour later. `reporter` (name, phone) files it as that resident. `kecamatan`: in that
    kecamatan's register (default the register's own)."""
    with db.transaction(kecamatan) as s:
        person = None
        if reporter is not None:
            person = get_or_create_person(s, "telegram", str(WARGA), reporter[0], received)
            person.name, person.phone = reporter
        draft = ComplaintDraft(kind="pengaduan", category=category, desa=desa, description=description,
                               channel="telegram" if person else "lisan", received_at=received)
        c = create_complaint(s, draft, reporter=person, actor=RESIDENT, now=received, policy=POLICY, prefix=prefix)
        t = received + timedelta(hours=1)
        if outcome in ("selesai", "verifikasi"):
            transition(s, c, "verifikasi", OFFICER, t)
        if outcome == "selesai":
            transition(s, c, "tindaklanjuti", OFFICER, t)
            transition(s, c, "selesaikan", OFFICER, t, public_note="Beres")
        elif outcome == "duplikat":
            transition(s, c, "duplikat", OFFICER, t, duplicate_of="TRB-2026-00001")
        return c.ticket
