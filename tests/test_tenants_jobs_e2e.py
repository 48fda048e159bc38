"""Every kecamatan's weekly digest and the kabupaten digest end to end: the real Service, its
PTB JobQueue and the Bot API emulator, two office files in SIGAP_OFFICE_DIR and a kabupaten
chat, on SQLite and PostgreSQL (the `register` fixture)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from bot.emulators.telegram import BotApiEmulator
from bot.jobs.pacing import ChatPacer
from storage import digest_claims, people
from tests.e2e import GROUP, PIMPINAN, Clock, make_service, start_emulator
from tests.test_e2e_digest import MONDAY_0700, SUNDAY_EVENING, digest_photos, digest_texts, run_job
from tests.test_tenants_jobs import ARJASA, JELBUK, SHIPPED, FakeTime, add

pytestmark = pytest.mark.usefixtures("register")

ARJASA_GROUP, ARJASA_CAMAT, KABUPATEN = -1002222, 2044, -1005555


def office_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "kantor"
    folder.mkdir()
    for name, leader in (("jelbuk", PIMPINAN), ("arjasa", ARJASA_CAMAT)):
        text = (SHIPPED / f"{name}.toml").read_text(encoding="utf-8")
        (folder / f"{name}.toml").write_text(text.replace("pimpinan = []", f"pimpinan = [{leader}]"), encoding="utf-8")
    return folder


@pytest.fixture
async def emu() -> BotApiEmulator:  # type: ignore[misc]
    e = await start_emulator()
    e.group(ARJASA_GROUP, "Trantib Arjasa")
    e.user(ARJASA_CAMAT, "Camat Arjasa", "camat_arjasa")
    e.group(KABUPATEN, "Bagian Organisasi Jember")
    try:
        yield e
    finally:
        await e.stop()


async def test_every_kecamatan_and_the_kabupaten_get_their_digest_once(emu: BotApiEmulator, tmp_path: Path) -> None:
    folder = office_dir(tmp_path)
    clock = Clock(SUNDAY_EVENING)
    service = make_service(emu, tmp_path, clock=clock, office=None,
                           env={"SIGAP_OFFICE_DIR": str(folder), "SIGAP_OFFICE_FILE": str(folder / "jelbuk.toml"),
                                "SIGAP_KABUPATEN_CHAT": str(KABUPATEN)})
    add(service.db, JELBUK, datetime(2026, 11, 24, 9, 0, tzinfo=clock().tzinfo), "miras", "Jelbuk", resolved=True)
    for day in (24, 25):
        add(service.db, ARJASA, datetime(2026, 11, day, 9, 0, tzinfo=clock().tzinfo), "judi", "Biting")
    with service.db.transaction(ARJASA) as s:
        people.set_setting(s, "trantib_group", str(ARJASA_GROUP), clock())
    await service.start()
    try:
        assert service.app.job_queue is not None and service.digests is not None
        for name in ("digest", "digest-susulan", "pengingat-tenggat"):
            assert len(service.app.job_queue.get_jobs_by_name(name)) == 1, name
        t = FakeTime()  # the pacer's own test covers the waiting; here it must not slow the test
        pacer = ChatPacer(clock=t, sleep=t.sleep)
        for job in [*service.digests.jobs, service.digests.kabupaten]:
            job.pacer = pacer  # type: ignore[union-attr]
        for kode in (JELBUK, ARJASA):
            with service.db.transaction(kode) as s:
                digest_claims.set_since(s, SUNDAY_EVENING, SUNDAY_EVENING)

        clock.set(MONDAY_0700)
        await run_job(service, "digest")
        for chats, name, figures in (((GROUP, PIMPINAN), "Jelbuk", "Masuk 1 · selesai 1"),
                                     ((ARJASA_GROUP, ARJASA_CAMAT), "Arjasa", "Masuk 2 · selesai 0")):
            for chat in chats:
                (text,) = digest_texts(emu, chat)
                body = text.text or ""
                assert f"Ringkasan mingguan Kecamatan {name}" in body and figures in body, (chat, body)
                assert ("Arjasa" if name == "Jelbuk" else "Jelbuk") not in body
                assert len(digest_photos(emu, chat)) == 1
        kabupaten = [o.text or "" for o in emu.sent if o.chat_id == KABUPATEN]
        assert len(kabupaten) == 6 and kabupaten[0].startswith("📊 Ringkasan mingguan Kabupaten Jember")
        iku4 = next(p for p in kabupaten if "IKU-4 " in p)
        assert "1. Jelbuk: 100,00%" in iku4 and "2. Arjasa: 0,00%" in iku4 and "Kabupaten: 33,33%" in iku4
        assert not any("Kabupaten Jember" in (o.text or "") for o in emu.sent if o.chat_id != KABUPATEN)

        before = len(emu.sent)
        await run_job(service, "digest-susulan")
        assert len(emu.sent) == before
    finally:
        await service.stop()
