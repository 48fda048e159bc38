"""The weekly digest end to end: the real PTB application and JobQueue against the Bot API
emulator, a register seeded around week 2026-W48 (23-29 November), and a clock the test sets."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import holidays
import pytest
from sqlalchemy import select

from bot.app.service import Service
from bot.cli import sigap as cli
from bot.config.office import DEFAULT_OFFICE_FILE, Office, load_office
from bot.emulators.telegram import BotApiEmulator, Outgoing
from storage import digest_claims, migrate, people
from storage.complaints import ComplaintDraft, DeadlinePolicy, create_complaint
from storage.db import Database
from storage.lifecycle import Actor, transition
from storage.models import DigestClaim, OutboxItem
from tests.conftest import Register
from tests.e2e import (
    GROUP,
    PETUGAS,
    PIMPINAN,
    TOKEN,
    WARGA,
    Clock,
    World,
    make_service,
    start_emulator,
    start_world,
    stop_world,
)

# On SQLite and on PostgreSQL: SIGAP opens the register of tests/conftest.py's `register`.
pytestmark = pytest.mark.usefixtures("register")

WIB = ZoneInfo("Asia/Jakarta")
SUNDAY_EVENING = datetime(2026, 11, 29, 20, 0, tzinfo=WIB)
MONDAY_0700 = datetime(2026, 11, 30, 7, 0, tzinfo=WIB)
SYSTEM = Actor("sistem", None, "uji", "admin")
CHATS = (GROUP, PIMPINAN)


def office_file(tmp_path: Path) -> Path:
    """The shipped office file with the Camat's chat as a leadership chat."""
    text = DEFAULT_OFFICE_FILE.read_text(encoding="utf-8")
    assert "pimpinan = []" in text
    path = tmp_path / "kantor.toml"
    path.write_text(text.replace("pimpinan = []", f"pimpinan = [{PIMPINAN}]"), encoding="utf-8")
    return path


def office(tmp_path: Path) -> Office:
    return load_office(office_file(tmp_path))


def seed(db: Database) -> dict[str, str]:
    """W48: one resolved (miras, Jelbuk) and one open (judi, Panduman); and from W45 one
    never touched, overdue by Monday."""
    policy = DeadlinePolicy(3, 5, holidays.country_holidays("ID"), WIB)

    def add(at: datetime, category: str, desa: str) -> str:
        draft = ComplaintDraft("pengaduan", category, desa, "uraian", "lisan", at)
        c = create_complaint(s, draft, reporter=None, actor=SYSTEM, now=at, policy=policy, prefix="TRB")
        if category == "miras":
            transition(s, c, "verifikasi", SYSTEM, at + timedelta(hours=1))
            transition(s, c, "tindaklanjuti", SYSTEM, at + timedelta(days=1))
            transition(s, c, "selesaikan", SYSTEM, at + timedelta(days=2), public_note="beres")
        return c.ticket

    with db.transaction() as s:
        return {
            "selesai": add(datetime(2026, 11, 23, 9, 0, tzinfo=WIB), "miras", "Jelbuk"),
            "terbuka": add(datetime(2026, 11, 26, 10, 0, tzinfo=WIB), "judi", "Panduman"),
            "terlambat": add(datetime(2026, 11, 2, 9, 0, tzinfo=WIB), "keributan", "Sukowiryo"),
        }


def digest_texts(emu: BotApiEmulator, chat: int) -> list[Outgoing]:
    return [o for o in emu.sent if o.chat_id == chat and o.method == "sendMessage" and "Ringkasan mingguan" in (o.text or "")]


def digest_photos(emu: BotApiEmulator, chat: int) -> list[Outgoing]:
    return [o for o in emu.sent if o.chat_id == chat and o.method == "sendPhoto"]


def claims(db: Database, period: str = "2026-W48") -> dict[str, DigestClaim]:
    # A committed transaction, not reading(): its rollback would expire the rows we return.
    with db.transaction() as s:
        return {c.chat_id: c for c in digest_claims.for_period(s, period)}


async def until(condition: Callable[[], bool], timeout: float = 20.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not await asyncio.to_thread(condition):
        if loop.time() > deadline:
            raise TimeoutError("condition not met")
        await asyncio.sleep(0.05)


def since_recorded(db: Database) -> bool:
    with db.reading() as s:
        return people.get_setting(s, digest_claims.SINCE_KEY) is not None


def all_sent(db: Database) -> bool:
    got = claims(db)
    return all(str(c) in got and got[str(c)].sent_at is not None for c in CHATS)


async def run_job(service: Service, name: str) -> None:
    """Run one of the Service's JobQueue jobs now, as PTB does when its time comes."""
    assert service.app.job_queue is not None
    (job,) = service.app.job_queue.get_jobs_by_name(name)
    await job.run(service.app)


def assert_once_each(emu: BotApiEmulator) -> None:
    for chat in CHATS:
        assert len(digest_texts(emu, chat)) == 1, (chat, [o.text for o in emu.sent if o.chat_id == chat])
        assert len(digest_photos(emu, chat)) == 1, chat


@pytest.fixture
async def emu() -> BotApiEmulator:  # type: ignore[misc]
    e = await start_emulator()
    try:
        yield e
    finally:
        await e.stop()


async def test_posted_monday_0700_wib_to_group_and_leaders_with_chart(emu: BotApiEmulator, tmp_path: Path) -> None:
    clock = Clock(SUNDAY_EVENING)
    service = make_service(emu, tmp_path, clock=clock, office=office(tmp_path))
    tickets = seed(service.db)
    await service.start()
    try:
        await until(lambda: since_recorded(service.db))  # the startup catch-up ran: nothing owed yet
        assert service.app.job_queue is not None
        (daily,) = service.app.job_queue.get_jobs_by_name("digest")
        nxt = daily.next_t.astimezone(WIB)
        assert (nxt.weekday(), nxt.hour, nxt.minute) == (0, 7, 0)  # Monday 07:00 WIB
        await run_job(service, "digest")  # Sunday evening: not due
        assert not any(digest_texts(emu, c) for c in CHATS)

        clock.set(MONDAY_0700)
        await run_job(service, "digest")
        for chat in CHATS:
            (text,) = digest_texts(emu, chat)
            (photo,) = digest_photos(emu, chat)
            assert text.seq < photo.seq and photo.photo
            body = text.text or ""
            assert "Minggu ke-48 2026" in body
            assert "Masuk 2 · selesai 1" in body
            assert "Masih terbuka 2 · terlambat 1" in body
            assert "Kategori: Minuman keras 1, Perjudian 1" in body
            assert "Desa: Jelbuk 1, Panduman 1" in body
            assert "33,33% · target 90%" in body  # 1 of 3 received this year
            assert f"melewati batas waktu: {tickets['terlambat']}" in body
            assert "90% · 33,33% · 37,04% Sangat kurang" in body
            assert "<b>" in (text.raw_text or "") and "Kecamatan Jelbuk" in body
            png = emu.file_bytes(photo.message["photo"][-1]["file_id"])
            assert png.startswith(b"\x89PNG")
        got = claims(service.db)
        assert {k: (v.sent_at is not None, v.message_id) for k, v in got.items()} == {
            str(c): (True, digest_texts(emu, c)[0].message_id) for c in CHATS
        }
        # Run again, and the hourly catch-up: nothing new.
        await run_job(service, "digest")
        await run_job(service, "digest-susulan")
        assert_once_each(emu)
    finally:
        await service.stop()


async def test_bot_down_over_monday_0700_sends_once_after_restart(emu: BotApiEmulator, tmp_path: Path) -> None:
    clock = Clock(SUNDAY_EVENING)
    kantor = office(tmp_path)
    first = make_service(emu, tmp_path, clock=clock, office=kantor)
    seed(first.db)
    await first.start()
    await until(lambda: since_recorded(first.db))
    await first.stop()

    clock.set(datetime(2026, 11, 30, 9, 30, tzinfo=WIB))  # back up at 09:30
    second = make_service(emu, tmp_path, clock=clock, office=kantor)
    await second.start()
    try:
        await until(lambda: all_sent(second.db))  # the startup catch-up, nobody ran anything
        await run_job(second, "digest-susulan")
    finally:
        await second.stop()
    third = make_service(emu, tmp_path, clock=clock, office=kantor)
    await third.start()
    try:
        await asyncio.sleep(2)  # its startup catch-up has run (first=1 s)
        await run_job(third, "digest-susulan")
    finally:
        await third.stop()
    assert_once_each(emu)


async def test_two_instances_on_one_register_send_once_per_chat(
    register: Register, emu: BotApiEmulator, tmp_path: Path
) -> None:
    # Two instances on one PostgreSQL (an office's failover), or two on one SQLite file.
    db = Database(register.url(tmp_path))
    migrate.upgrade(db)
    try:
        seed(db)
        with db.transaction() as s:
            digest_claims.set_since(s, SUNDAY_EVENING, SUNDAY_EVENING)
        clock = Clock(datetime(2026, 11, 30, 9, 0, tzinfo=WIB))
        env = {"SIGAP_DATABASE_URL": register.url(tmp_path)}
        kantor = office(tmp_path)
        # Slow sends keep both instances in the middle of a send at the same time.
        emu.set_delay(0.3, "sendMessage")
        a = make_service(emu, tmp_path / "a", clock=clock, office=kantor, env=env)
        b = make_service(emu, tmp_path / "b", clock=clock, office=kantor, env=env)
        await asyncio.gather(a.start(), b.start())
        try:
            await asyncio.gather(*(run_job(x, name) for x in (a, b) for name in ("digest", "digest-susulan")))
            await until(lambda: all_sent(db))
            await asyncio.sleep(1.5)  # both startup catch-ups have run too
        finally:
            await asyncio.gather(a.stop(), b.stop())
        assert_once_each(emu)
        owners = {c.claimed_by for c in claims(db).values()}
        assert owners <= {a.digest.owner, b.digest.owner}  # type: ignore[union-attr]
    finally:
        db.dispose()


async def test_failed_send_is_retried_then_sent_once(emu: BotApiEmulator, tmp_path: Path) -> None:
    clock = Clock(MONDAY_0700 + timedelta(seconds=30))
    service = make_service(emu, tmp_path, clock=clock, office=office(tmp_path))
    seed(service.db)
    with service.db.transaction() as s:
        digest_claims.set_since(s, SUNDAY_EVENING, SUNDAY_EVENING)
    emu.fail_next("sendMessage", status=502)  # the first digest text (the group's) fails
    await service.start()
    try:
        def group_failed() -> bool:
            c = claims(service.db).get(str(GROUP))
            return c is not None and c.error is not None and c.sent_at is None

        await until(group_failed)
        await until(lambda: str(PIMPINAN) in claims(service.db) and claims(service.db)[str(PIMPINAN)].sent_at is not None)
        assert digest_texts(emu, GROUP) == []
        await run_job(service, "digest-susulan")  # within the backoff: not yet
        assert digest_texts(emu, GROUP) == []
        clock.set(clock() + timedelta(minutes=2))
        await run_job(service, "digest-susulan")
        assert_once_each(emu)
        group = claims(service.db)[str(GROUP)]
        assert group.sent_at is not None and group.attempts == 2 and "Bad Gateway" in (group.error or "")
    finally:
        await service.stop()


async def test_failed_chart_resends_only_the_chart(emu: BotApiEmulator, tmp_path: Path) -> None:
    clock = Clock(MONDAY_0700 + timedelta(seconds=30))
    service = make_service(emu, tmp_path, clock=clock, office=office(tmp_path))
    with service.db.transaction() as s:
        digest_claims.set_since(s, SUNDAY_EVENING, SUNDAY_EVENING)
    emu.fail_next("sendPhoto", status=500)
    await service.start()
    try:
        await until(lambda: claims(service.db).get(str(GROUP)) is not None and claims(service.db)[str(GROUP)].error is not None)
        assert len(digest_texts(emu, GROUP)) == 1 and digest_photos(emu, GROUP) == []
        clock.set(clock() + timedelta(minutes=2))
        await run_job(service, "digest-susulan")
        assert_once_each(emu)
    finally:
        await service.stop()


async def test_too_late_is_abandoned_and_logged(emu: BotApiEmulator, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="bot.jobs.digest_job")
    clock = Clock(MONDAY_0700 + timedelta(hours=48, minutes=1))  # the office allows 48 hours
    service = make_service(emu, tmp_path, clock=clock, office=office(tmp_path))
    with service.db.transaction() as s:
        digest_claims.set_since(s, SUNDAY_EVENING, SUNDAY_EVENING)
    await service.start()
    try:
        await until(lambda: len(claims(service.db)) == 2 and all(c.abandoned_at is not None for c in claims(service.db).values()))
        await run_job(service, "digest-susulan")
    finally:
        await service.stop()
    assert not any(digest_texts(emu, c) or digest_photos(emu, c) for c in CHATS)
    assert all(c.sent_at is None and "terlambat" in (c.error or "") for c in claims(service.db).values())
    assert sum("ditinggalkan" in r.getMessage() for r in caplog.records) == 2  # once per chat


async def test_sigap_digest_send_goes_through_the_claims(
    emu: BotApiEmulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    setup = make_service(emu, tmp_path, clock=Clock(SUNDAY_EVENING))
    seed(setup.db)
    setup.db.dispose()
    monkeypatch.setenv("SIGAP_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("SIGAP_OFFICE_FILE", str(office_file(tmp_path)))
    monkeypatch.setenv("SIGAP_TELEGRAM_TOKEN", TOKEN)
    monkeypatch.setenv("SIGAP_TELEGRAM_API_URL", emu.url)
    # The CLI runs its own event loop: in a thread, while the emulator serves in this one.
    assert await asyncio.to_thread(cli.main, ["digest", "--send", "--week", "2026-W48"]) == 0
    assert "terkirim" in capsys.readouterr().out
    assert await asyncio.to_thread(cli.main, ["digest", "--send", "--week", "2026-W48"]) == 0
    assert "sudah terkirim" in capsys.readouterr().out
    assert_once_each(emu)


def test_sigap_digest_dry_run_prints_indonesian_text(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SIGAP_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("SIGAP_OFFICE_FILE", raising=False)
    from bot.app.service import open_database
    from bot.config.settings import load_settings

    db = open_database(load_settings(env_file=None))
    tickets = seed(db)
    db.dispose()
    chart = tmp_path / "grafik.png"
    assert cli.main(["digest", "--dry-run", "--week", "2026-W48", "--chart", str(chart)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("📊 Ringkasan mingguan Kecamatan Jelbuk\nMinggu ke-48 2026")
    assert "Masuk 2 · selesai 1" in out and "Penyelesaian 2026 (IKU 4)" in out and "Perlu perhatian" in out
    assert tickets["terlambat"] in out
    assert "<b>" not in out
    assert chart.read_bytes().startswith(b"\x89PNG")
    assert cli.main(["digest", "--dry-run", "--week", "2026-Q4"]) == 2
    # Nothing was claimed by a dry run.
    db = open_database(load_settings(env_file=None))
    assert claims(db) == {}
    db.dispose()


def test_sigap_digest_dry_run_of_another_kecamatan(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # --kecamatan: the digest of another office of SIGAP_OFFICE_DIR, from its own rows only.
    monkeypatch.setenv("SIGAP_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("SIGAP_OFFICE_FILE", raising=False)
    monkeypatch.delenv("SIGAP_OFFICE_DIR", raising=False)
    from bot.app.service import open_database
    from bot.config.office import OFFICE_DIR
    from bot.config.settings import load_settings

    db = open_database(load_settings(env_file=None))
    tickets = seed(db)  # Jelbuk's
    db.dispose()
    assert cli.main(["digest", "--coba", "--minggu", "2026-W48", "--kecamatan", "35.09.22"]) == 2
    assert "SIGAP_OFFICE_DIR belum diatur" in capsys.readouterr().err
    monkeypatch.setenv("SIGAP_OFFICE_DIR", str(OFFICE_DIR))
    assert cli.main(["digest", "--coba", "--minggu", "2026-W48", "--kecamatan", "35.09.22"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("📊 Ringkasan mingguan Kecamatan Arjasa\nMinggu ke-48 2026")
    assert "Masuk 0" in out and tickets["terlambat"] not in out
    assert cli.main(["digest", "--coba", "--kecamatan", "35.09.99"]) == 2
    assert "Kecamatan 35.09.99 tidak dilayani; yang ada: 35.09.25 (Jelbuk), 35.09.22 (Arjasa)" in capsys.readouterr().err


def test_digest_shows_personal_data_requests_only_while_one_is_open(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from bot.app.service import open_database
    from bot.config.settings import load_settings
    from storage import pdp

    monkeypatch.setenv("SIGAP_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("SIGAP_OFFICE_FILE", raising=False)
    db = open_database(load_settings(env_file=None))
    seed(db)
    db.dispose()
    assert cli.main(["digest", "--dry-run", "--week", "2026-W48"]) == 0
    assert "Permintaan data pribadi" not in capsys.readouterr().out

    db = open_database(load_settings(env_file=None))
    now = datetime.now(WIB)
    with db.transaction() as s:
        pdp.record_request(s, kind="hapus", via="surat", requester="Ibu Sumarni", detail=None,
                           received_at=now - timedelta(hours=80), recorded_by="uji", now=now)
        pdp.record_request(s, kind="akses", via="langsung", requester="Pak Slamet", detail=None,
                           received_at=now - timedelta(hours=1), recorded_by="uji", now=now)
    db.dispose()
    assert cli.main(["digest", "--dry-run", "--week", "2026-W48"]) == 0
    out = capsys.readouterr().out
    section = out[out.index("🔒 Permintaan data pribadi"):].splitlines()
    assert section[:2] == ["🔒 Permintaan data pribadi (batas 3 x 24 jam)", "Belum dijawab 2 · terlambat 1"]
    assert section[2].startswith("Batas terdekat: ") and section[2].endswith(" WIB")
    assert section[3] == "Rinciannya: /pdp (koordinator, admin)"
    assert "Sumarni" not in out  # the digest goes to the group and leaders: counts, no names


@pytest.fixture
async def world(tmp_path: Path) -> World:  # type: ignore[misc]
    w = await start_world(tmp_path)
    try:
        yield w
    finally:
        await stop_world(w)


async def test_digest_command_answers_officers_and_refuses_residents(world: World) -> None:
    w = world
    with w.service.db.transaction() as s:
        people.add_officer(s, PIMPINAN, "Camat", "pimpinan", datetime.now(WIB))
    w.emu.user(PIMPINAN, "Camat", "camat")
    for who, chat in ((PETUGAS, PETUGAS), (PIMPINAN, PIMPINAN), (PETUGAS, GROUP)):
        mark = len(w.emu.sent)
        await w.say(who, "/digest", chat if chat != who else None)
        answer = [o for o in w.emu.sent[mark:] if o.chat_id == chat]
        assert [o.method for o in answer] == ["sendMessage", "sendPhoto"], (who, chat)
        assert "Ringkasan mingguan Kecamatan Jelbuk" in (answer[0].text or "")
    # The dialog step only queued a request; the delivery built it from a read transaction.
    with w.service.db.reading() as s:
        kinds = s.scalars(select(OutboxItem.kind).where(OutboxItem.chat_id == str(PETUGAS))).all()
    assert "digest" in kinds and "photo" not in kinds
    await w.say(WARGA, "/digest")
    assert "hanya untuk petugas" in (w.last(WARGA).text or "")
    assert not any(o.method == "sendPhoto" for o in w.in_chat(WARGA))
    # A look, not the weekly post: nothing claimed.
    assert claims(w.service.db, "") == {} and all(
        not claims(w.service.db, p) for p in ("2026-W47", "2026-W48")
    )
