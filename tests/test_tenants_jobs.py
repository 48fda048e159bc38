# Scheduled work for every kecamatan of the office folder (bot/jobs/kecamatan_jobs.py): the
# weekly digest of each kecamatan with its own figures in its own chats, never the other's,
# once each; the kabupaten digest to the kabupaten chat only, after them, once; reminders and
# retention per kecamatan with its own office; the pacing of digests to one group. On both
# backends, through the jobs the Service schedules, with a recording Sender.
from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import holidays
from sqlalchemy import select

from bot.app.delivery import Retry
from bot.config.office import DEFAULT_OFFICE_FILE, Office
from bot.config.settings import Settings, load_settings
from bot.dialogs.context import Runtime
from bot.jobs import kecamatan_jobs
from bot.jobs.digest_rounds import DigestRounds
from bot.jobs.kabupaten_digest_job import done_key
from bot.jobs.pacing import GROUP_LIMIT, ChatPacer
from bot.jobs.retention_job import run_retention_all
from bot.texts import to_plain
from storage import digest_claims, outbox, people
from storage.complaints import (
    ComplaintDraft,
    DeadlinePolicy,
    create_complaint,
    get_or_create_person,
)
from storage.db import Database
from storage.lifecycle import Actor, transition
from storage.models import Complaint, OutboxItem

WIB = ZoneInfo("Asia/Jakarta")
JELBUK, ARJASA = "35.09.25", "35.09.22"
MONDAY_0730 = datetime(2026, 11, 30, 7, 30, tzinfo=WIB)
SUNDAY = datetime(2026, 11, 29, 20, 0, tzinfo=WIB)
SYSTEM = Actor("sistem", None, "uji", "admin")
# Each kecamatan's Trantib group (registered in chat, i.e. in its own scope) and Camat; the
# Bupati's chat is a leadership chat of both; the kabupaten chat gets the kabupaten digest.
GROUP = {JELBUK: "-1001", ARJASA: "-2002"}
CAMAT = {JELBUK: "1001", ARJASA: "2001"}
BUPATI, KABUPATEN = "-3003", "-5005"
SHIPPED = DEFAULT_OFFICE_FILE.parent


class Recorder:
    """A Sender that keeps what it was asked to send, in order."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str, str]] = []  # (chat, kind, text or caption)
        self.fail: Callable[[str, str], Exception | None] = lambda chat, kind: None

    async def send_text(self, chat_id: str, text: str, buttons: list[list[Any]], force_reply: bool = False) -> int:
        if (exc := self.fail(chat_id, "text")) is not None:
            raise exc
        self.sent.append((chat_id, "text", to_plain(text)))
        return len(self.sent)

    async def send_photo(self, chat_id: str, path: str, caption: str | None) -> int:
        assert Path(path).read_bytes().startswith(b"\x89PNG")
        self.sent.append((chat_id, "photo", caption or ""))
        return len(self.sent)

    async def edit_text(self, *args: Any) -> None:
        raise AssertionError("a digest never edits")

    async def remove_buttons(self, *args: Any) -> None:
        raise AssertionError("a digest never edits")

    async def send_location(self, *args: Any) -> int:
        raise AssertionError("a digest never sends a location")

    def texts(self, chat: str) -> list[str]:
        return [t for c, kind, t in self.sent if c == chat and kind == "text"]

    def photos(self, chat: str) -> list[str]:
        return [t for c, kind, t in self.sent if c == chat and kind == "photo"]


class Clock:
    def __init__(self, at: datetime) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at


def office_dir(tmp_path: Path) -> Path:
    """The shipped Jelbuk and Arjasa office files, each with its Camat and the Bupati as leaders."""
    folder = tmp_path / "kantor"
    folder.mkdir(parents=True)
    for name, kode in (("jelbuk", JELBUK), ("arjasa", ARJASA)):
        text = (SHIPPED / f"{name}.toml").read_text(encoding="utf-8")
        assert "pimpinan = []" in text
        (folder / f"{name}.toml").write_text(
            text.replace("pimpinan = []", f"pimpinan = [{CAMAT[kode]}, {BUPATI}]"), encoding="utf-8")
    return folder


def settings(tmp_path: Path, *, folder: Path | None, kabupaten: str | None = None) -> Settings:
    env = {"SIGAP_DATA_DIR": str(tmp_path)}
    if folder is not None:
        env["SIGAP_OFFICE_DIR"] = str(folder)
    if kabupaten is not None:
        env["SIGAP_KABUPATEN_CHAT"] = kabupaten
    return load_settings(env=env, env_file=None)


def runtime(office: Office, tmp_path: Path) -> Runtime:
    return Runtime(office=office, policy=DeadlinePolicy(3, 5, holidays.country_holidays("ID"), WIB), tz=WIB,
                   secret=b"k" * 32, bot_username="sigap_test_bot", data_dir=tmp_path)


def first_office(folder: Path) -> Office:
    from bot.config.office import load_office

    return load_office(folder / "jelbuk.toml")


def add(db: Database, kode: str, at: datetime, category: str, desa: str, *, resolved: bool = False) -> str:
    prefix = {JELBUK: "TRB", ARJASA: "ARJ"}[kode]
    policy = DeadlinePolicy(3, 5, holidays.country_holidays("ID"), WIB)
    with db.transaction(kode) as s:
        c = create_complaint(s, ComplaintDraft("pengaduan", category, desa, "uraian", "lisan", at),
                             reporter=None, actor=SYSTEM, now=at, policy=policy, prefix=prefix)
        if resolved:
            transition(s, c, "verifikasi", SYSTEM, at + timedelta(hours=1))
            transition(s, c, "tindaklanjuti", SYSTEM, at + timedelta(days=1))
            transition(s, c, "selesaikan", SYSTEM, at + timedelta(days=2), public_note="beres")
        return c.ticket


def seed(db: Database) -> None:
    """Week 2026-W48: Jelbuk 2 received, 1 resolved; Arjasa 3 received, none resolved. Each
    kecamatan's Trantib group registered in chat (its own scope); digests owed since Sunday."""
    add(db, JELBUK, datetime(2026, 11, 23, 9, 0, tzinfo=WIB), "miras", "Jelbuk", resolved=True)
    add(db, JELBUK, datetime(2026, 11, 26, 10, 0, tzinfo=WIB), "judi", "Panduman")
    for day, desa in ((24, "Biting"), (25, "Kamal"), (26, "Kamal")):
        add(db, ARJASA, datetime(2026, 11, day, 9, 0, tzinfo=WIB), "keributan", desa)
    for kode in (JELBUK, ARJASA):
        with db.transaction(kode) as s:
            people.set_setting(s, "trantib_group", GROUP[kode], SUNDAY)
            digest_claims.set_since(s, SUNDAY, SUNDAY)


def rounds(db: Database, tmp_path: Path, clock: Clock, sender: Recorder, *, folder: Path | None,
           kabupaten: str | None = None) -> DigestRounds:
    cfg = settings(tmp_path, folder=folder, kabupaten=kabupaten)
    first = first_office(folder) if folder is not None else first_office(office_dir(tmp_path / "satu"))
    r = kecamatan_jobs.digest_rounds(db, runtime(first, tmp_path), cfg, sender, clock)
    for job in r.jobs:
        job.pacer = None  # pacing has its own test below; here it would only slow the test
    if r.kabupaten is not None:
        r.kabupaten.pacer = None
    return r


def digest_of(sender: Recorder, chat: str, kecamatan: str) -> list[str]:
    return [t for t in sender.texts(chat) if t.startswith(f"📊 Ringkasan mingguan Kecamatan {kecamatan}")]


def test_each_kecamatan_gets_its_own_digest_in_its_own_chats_once(db: Database, tmp_path: Path) -> None:
    seed(db)
    sender, clock = Recorder(), Clock(MONDAY_0730)
    r = rounds(db, tmp_path, clock, sender, folder=office_dir(tmp_path))
    assert [j.office.kecamatan for j in r.jobs] == ["Jelbuk", "Arjasa"]
    outcomes = asyncio.run(r.run_due())
    assert sorted((o.chat_id, o.result) for o in outcomes) == sorted(
        [(GROUP[JELBUK], "terkirim"), (CAMAT[JELBUK], "terkirim"), (BUPATI, "terkirim"),
         (GROUP[ARJASA], "terkirim"), (CAMAT[ARJASA], "terkirim"), (BUPATI, "terkirim")])

    for kode, name, other, figures, desa in (
        (JELBUK, "Jelbuk", "Arjasa", "Masuk 2 · selesai 1", "Desa: Jelbuk 1, Panduman 1"),
        (ARJASA, "Arjasa", "Jelbuk", "Masuk 3 · selesai 0", "Desa: Kamal 2, Biting 1"),
    ):
        for chat in (GROUP[kode], CAMAT[kode]):
            (text,) = sender.texts(chat)  # one digest, and only its own kecamatan's
            assert text.startswith(f"📊 Ringkasan mingguan Kecamatan {name}\nMinggu ke-48 2026")
            assert figures in text and desa in text
            assert other not in text
            assert len(sender.photos(chat)) == 1
        # The Bupati leads both: one digest of each kecamatan, with its own figures.
        (mine,) = digest_of(sender, BUPATI, name)
        assert figures in mine and other not in mine
    assert len(sender.photos(BUPATI)) == 2
    # Ticket lists never cross: Arjasa's digest names no Jelbuk ticket and the other way round.
    assert not any("TRB-" in t for t in sender.texts(GROUP[ARJASA]))
    assert not any("ARJ-" in t for t in sender.texts(GROUP[JELBUK]))

    # Claims are per kecamatan: each scope holds its own three, the shared chat in both.
    for kode in (JELBUK, ARJASA):
        with db.transaction(kode) as s:
            got = {c.chat_id: c.sent_at is not None for c in digest_claims.for_period(s, "2026-W48")}
        assert got == {GROUP[kode]: True, CAMAT[kode]: True, BUPATI: True}

    # The hourly catch-up, and a restarted process: nothing goes out again.
    before = list(sender.sent)
    asyncio.run(r.run_due())
    asyncio.run(rounds(db, tmp_path, clock, sender, folder=office_dir(tmp_path / "lagi")).run_due())
    assert sender.sent == before


def test_one_office_file_runs_only_that_kecamatan(db: Database, tmp_path: Path) -> None:
    # SIGAP_OFFICE_DIR unset: the shipped folder holds Arjasa too, but a Jelbuk deployment
    # never configured it, so only Jelbuk's digest goes out (in the register's own scope).
    seed(db)
    sender = Recorder()
    r = rounds(db, tmp_path, Clock(MONDAY_0730), sender, folder=None)
    assert [(j.kecamatan, j.office.kecamatan) for j in r.jobs] == [(None, "Jelbuk")] and r.kabupaten is None
    asyncio.run(r.run_due())
    assert {c for c, _, _ in sender.sent} == {GROUP[JELBUK], CAMAT[JELBUK], BUPATI}
    assert not any("Arjasa" in t for _, _, t in sender.sent)


def test_a_failing_kecamatan_does_not_stop_the_others(db: Database, tmp_path: Path) -> None:
    seed(db)
    sender = Recorder()
    sender.fail = lambda chat, kind: Retry(60, "502 Bad Gateway") if chat == GROUP[JELBUK] else None
    r = rounds(db, tmp_path, Clock(MONDAY_0730), sender, folder=office_dir(tmp_path))
    outcomes = asyncio.run(r.run_due())
    assert ("-1001", "dicoba lagi") in {(o.chat_id, o.result) for o in outcomes}
    assert len(sender.texts(GROUP[ARJASA])) == 1 and sender.texts(GROUP[JELBUK]) == []
    with db.transaction(JELBUK) as s:
        claim = digest_claims.get(s, GROUP[JELBUK], "2026-W48")
        assert claim is not None and claim.sent_at is None and "Bad Gateway" in (claim.error or "")


def test_kabupaten_digest_lists_every_kecamatan_with_its_figures_only_in_its_chat(
    db: Database, tmp_path: Path
) -> None:
    seed(db)
    sender, clock = Recorder(), Clock(SUNDAY)
    r = rounds(db, tmp_path, clock, sender, folder=office_dir(tmp_path), kabupaten=KABUPATEN)
    asyncio.run(r.run_due())  # Sunday evening: nothing is due yet, not even the kabupaten's
    assert sender.sent == []

    clock.at = MONDAY_0730
    asyncio.run(r.run_due())
    parts = sender.texts(KABUPATEN)
    # After the kecamatan digests of the same round.
    first = next(i for i, (c, _, _) in enumerate(sender.sent) if c == KABUPATEN)
    assert all(c != KABUPATEN for c, _, _ in sender.sent[:first]) and first >= 12
    assert all(c == KABUPATEN for c, _, _ in sender.sent[first:])
    assert parts[0].startswith("📊 Ringkasan mingguan Kabupaten Jember\nMinggu ke-48 2026 (23 Nov 2026 – 29 Nov 2026)"
                               " · 2 kecamatan")
    assert len(parts) == 6  # one message per IKU, each on its own under the table's heading
    assert all("IKU kecamatan se-Jember tahun 2026\nper Minggu, 29 November 2026" in p for p in parts)
    iku4 = next(p for p in parts if "IKU-4 " in p)
    # Jelbuk resolved 1 of 2, Arjasa 0 of 3: the kabupaten 1 of 5 (not the mean, 25%).
    assert "Kabupaten: 20,00%" in iku4
    assert "1. Jelbuk: 50,00%" in iku4 and "2. Arjasa: 0,00%" in iku4
    for p in parts:
        assert "Jelbuk" in p and "Arjasa" in p
    # Only the kabupaten chat gets it; no kecamatan chat does.
    assert not any("Kabupaten Jember" in t or "IKU kecamatan se-" in t
                   for c, _, t in sender.sent if c != KABUPATEN)
    assert all(len(t) <= 4096 for t in parts)

    # Once: the catch-up and a restarted process send nothing more.
    before = list(sender.sent)
    asyncio.run(r.run_due())
    asyncio.run(rounds(db, tmp_path, clock, sender, folder=office_dir(tmp_path / "lagi"), kabupaten=KABUPATEN)
                .run_due())
    assert sender.sent == before
    with db.transaction(JELBUK) as s:
        done = digest_claims.get(s, done_key(KABUPATEN), "2026-W48")
        assert done is not None and done.sent_at is not None


def test_kabupaten_digest_resumes_after_a_failed_part(db: Database, tmp_path: Path) -> None:
    seed(db)
    sender, clock = Recorder(), Clock(MONDAY_0730)
    calls = {"n": 0}

    def third_fails(chat: str, kind: str) -> Exception | None:
        if chat != KABUPATEN:
            return None
        calls["n"] += 1
        return Retry(1, "429 retry after 1s") if calls["n"] == 3 else None

    sender.fail = third_fails
    r = rounds(db, tmp_path, clock, sender, folder=office_dir(tmp_path), kabupaten=KABUPATEN)
    asyncio.run(r.run_due())
    assert len(sender.texts(KABUPATEN)) == 2
    asyncio.run(r.run_due())  # within the backoff: nothing
    assert len(sender.texts(KABUPATEN)) == 2
    clock.at += timedelta(minutes=2)
    asyncio.run(r.run_due())
    parts = sender.texts(KABUPATEN)
    assert len(parts) == 6 and len(set(parts)) == 6  # the rest, each part once
    assert parts[0].startswith("📊 Ringkasan mingguan Kabupaten Jember")


def test_kabupaten_digest_too_late_is_abandoned(db: Database, tmp_path: Path) -> None:
    seed(db)
    sender = Recorder()
    r = rounds(db, tmp_path, Clock(MONDAY_0730 + timedelta(hours=49)), sender, folder=office_dir(tmp_path),
               kabupaten=KABUPATEN)
    outcomes = asyncio.run(r.run_due())
    assert sender.sent == []
    assert (KABUPATEN, "ditinggalkan") in {(o.chat_id, o.result) for o in outcomes}


def test_reminders_go_to_each_kecamatans_own_group(db: Database, tmp_path: Path) -> None:
    # Received Tue 1 December 2026: verification due Fri 4; on Thu 3 the "besok" reminder goes
    # to each kecamatan's own Trantib group, with its own ticket.
    received = datetime(2026, 12, 1, 9, 0, tzinfo=WIB)
    tickets = {kode: add(db, kode, received, "keributan", desa) for kode, desa in ((JELBUK, "Jelbuk"), (ARJASA, "Kamal"))}
    for kode in (JELBUK, ARJASA):
        with db.transaction(kode) as s:
            people.set_setting(s, "trantib_group", GROUP[kode], received)
    folder = office_dir(tmp_path)
    now = datetime(2026, 12, 3, 10, 0, tzinfo=WIB)

    class Queue:
        def __init__(self) -> None:
            self.jobs: list[tuple[str, Any]] = []

        def run_repeating(self, fn: Any, *, interval: float, first: float, name: str) -> None:
            self.jobs.append((name, fn))

    queue = Queue()
    jobs = kecamatan_jobs.schedule_reminders(queue, db, runtime(first_office(folder), tmp_path),
                                             settings(tmp_path, folder=folder), lambda: now)
    assert [name for name, _ in queue.jobs] == ["pengingat-tenggat"]  # one job for all kecamatan
    assert [j.office.kecamatan for j in jobs] == ["Jelbuk", "Arjasa"]
    asyncio.run(queue.jobs[0][1](None))
    asyncio.run(queue.jobs[0][1](None))  # again: each reminder once
    with db.transaction() as s:
        rows = [(r.chat_id, to_plain(r.payload["text"])) for r in s.scalars(select(OutboxItem).order_by(OutboxItem.id))]
    assert [chat for chat, _ in rows] == [GROUP[JELBUK], GROUP[ARJASA]]
    assert tickets[JELBUK] in rows[0][1] and tickets[ARJASA] not in rows[0][1]
    assert tickets[ARJASA] in rows[1][1] and tickets[JELBUK] not in rows[1][1]


def test_retention_runs_for_each_kecamatan_with_its_own_periods(db: Database, tmp_path: Path) -> None:
    # Both closed 100 days ago; Arjasa keeps descriptions 30 days, Jelbuk 730.
    closed = datetime(2026, 8, 20, 9, 0, tzinfo=WIB)
    add(db, JELBUK, closed - timedelta(days=2), "miras", "Jelbuk", resolved=True)
    add(db, ARJASA, closed - timedelta(days=2), "miras", "Kamal", resolved=True)
    folder = office_dir(tmp_path)
    scopes = kecamatan_jobs.scopes(db, settings(tmp_path, folder=folder), first_office(folder))
    assert list(scopes) == [None, ARJASA]
    arjasa = scopes[ARJASA]
    scopes[ARJASA] = dataclasses.replace(arjasa, retention=dataclasses.replace(arjasa.retention, description_days=30))
    reports = run_retention_all(db, scopes, closed + timedelta(days=100), tmp_path)
    assert reports[None].descriptions_erased == 0 and reports[ARJASA].descriptions_erased == 1
    for kode, erased in ((JELBUK, False), (ARJASA, True)):
        with db.transaction(kode) as s:
            (c,) = s.scalars(select(Complaint)).all()
            assert (c.description_erased_at is not None) is erased, kode


def test_retention_of_one_kecamatan_keeps_another_kecamatans_sent_messages(db: Database, tmp_path: Path) -> None:
    now = datetime(2026, 12, 1, 9, 0, tzinfo=WIB)
    with db.transaction(JELBUK) as s:
        get_or_create_person(s, "telegram", "777", "Siti", now)
        outbox.enqueue(s, "telegram", "777", "text", {"text": "halo", "buttons": []}, now, None)
    with db.transaction() as s:
        for item in s.scalars(select(OutboxItem)):
            item.sent_at = now
    folder = office_dir(tmp_path)
    scopes = kecamatan_jobs.scopes(db, settings(tmp_path, folder=folder), first_office(folder))
    run_retention_all(db, {ARJASA: scopes[ARJASA]}, now + timedelta(hours=1), tmp_path)
    with db.transaction() as s:
        assert len(s.scalars(select(OutboxItem)).all()) == 1  # sent an hour ago: kept 30 days


# --- Pacing ----------------------------------------------------------------------------------


class FakeTime:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += seconds


def test_pacer_keeps_any_minute_of_a_group_within_telegrams_limit() -> None:
    t = FakeTime()
    pacer = ChatPacer(clock=t, sleep=t.sleep)

    async def send(chat: str, n: int) -> list[float]:
        at = []
        for _ in range(n):
            await pacer.wait(chat)
            at.append(t.now)
        return at

    # 31 kecamatan, text and chart each, to one leadership group.
    times = asyncio.run(send("-100777", 62))
    assert times[0] == times[1] == 1000.0  # one digest goes out at once
    for i, start in enumerate(times):
        in_minute = [x for x in times[i:] if x < start + 60]
        assert len(in_minute) <= GROUP_LIMIT, (i, len(in_minute))
    assert times[-1] - times[0] < 4 * 60  # spread over minutes, not hours
    # Another chat is not held back by the first one's history.
    other = asyncio.run(send("-100888", 2))
    assert other == [times[-1], times[-1]]
    # A private chat: about one a second after the first pair.
    private = asyncio.run(send("4242", 4))
    assert [round(x - private[0], 6) for x in private] == [0, 0, 1, 2]


def test_the_round_paces_digests_to_a_shared_group(db: Database, tmp_path: Path) -> None:
    seed(db)
    sender = Recorder()
    r = rounds(db, tmp_path, Clock(MONDAY_0730), sender, folder=office_dir(tmp_path))
    waits: list[tuple[str, float]] = []
    t = FakeTime()
    pacer = ChatPacer(clock=t, sleep=t.sleep)
    real_wait = pacer.wait

    async def wait(chat: str) -> float:
        waited = await real_wait(chat)
        waits.append((chat, waited))
        return waited

    pacer.wait = wait  # type: ignore[method-assign]
    for job in r.jobs:
        job.pacer = pacer
    asyncio.run(r.run_due())
    # Every digest message went through the pacer; the Bupati's group got two digests (four
    # messages): the second waited for its turn.
    assert len(waits) == len(sender.sent) == 12
    bupati = [w for chat, w in waits if chat == BUPATI]
    assert bupati[:2] == [0.0, 0.0] and all(w > 0 for w in bupati[2:])



def test_each_digest_slot_wakes_the_round(db: Database, tmp_path: Path) -> None:
    # Arjasa posts on Tuesday 08:00: a second daily job, and the hourly catch-up once.
    folder = office_dir(tmp_path)
    text = (folder / "arjasa.toml").read_text(encoding="utf-8")
    assert 'hari = "senin"' in text and 'jam = "07:00"' in text
    (folder / "arjasa.toml").write_text(text.replace('hari = "senin"', 'hari = "selasa"').replace(
        'jam = "07:00"', 'jam = "08:00"'), encoding="utf-8")
    r = rounds(db, tmp_path, Clock(MONDAY_0730), Recorder(), folder=folder)

    class Queue:
        def __init__(self) -> None:
            self.daily: list[tuple[str, Any, tuple[int, ...]]] = []
            self.repeating: list[str] = []

        def run_daily(self, fn: Any, *, time: Any, days: tuple[int, ...], name: str) -> None:
            self.daily.append((name, time, days))

        def run_repeating(self, fn: Any, *, interval: float, first: float, name: str) -> None:
            self.repeating.append(name)

    q = Queue()
    r.schedule(q)
    assert [(n, t.hour, d) for n, t, d in q.daily] == [("digest", 7, (1,)), ("digest-2", 8, (2,))]
    assert q.repeating == ["digest-susulan"]
