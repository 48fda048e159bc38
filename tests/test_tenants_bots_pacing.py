# Telegram counts its limits per bot (30 messages a second per bot, 20 a minute per group per
# bot), so with kecamatan bots of their own (issue 14) the pacing is per bot too: the digest
# round gives each bot its own ChatPacer (two bots posting to one group do not wait for each
# other, two kecamatan on one bot do), the kabupaten digest shares the shared bot's, and every
# bot's PTB Application has its own AIORateLimiter for what the outbox sends. On both backends.
from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from telegram.ext import AIORateLimiter

from bot.app.service import Service
from bot.config.settings import load_settings
from bot.jobs import kecamatan_jobs
from bot.jobs.pacing import ChatPacer
from storage.db import Database
from tests.e2e import register_env
from tests.test_tenants_jobs import (
    ARJASA,
    BUPATI,
    JELBUK,
    KABUPATEN,
    MONDAY_0730,
    Clock,
    FakeTime,
    Recorder,
    first_office,
    office_dir,
    runtime,
    seed,
    settings,
)

VARIABLE = "SIGAP_TELEGRAM_TOKEN_ARJASA"


def with_own_bot(folder: Path) -> Path:
    """`folder` with Arjasa's office file naming a bot of its own."""
    path = folder / "arjasa.toml"
    text = path.read_text(encoding="utf-8")
    assert "\n[chat]\n" in text
    path.write_text(text.replace("\n[chat]\n", f'\n[chat]\ntelegram_token_env = "{VARIABLE}"\n', 1), encoding="utf-8")
    return folder


class Waits:
    """Every ChatPacer digest_rounds makes, on one fake clock, with the waits each one gave."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.time = FakeTime()
        self.pacers: list[ChatPacer] = []
        self.waits: dict[int, list[tuple[str, float]]] = {}
        monkeypatch.setattr(kecamatan_jobs, "ChatPacer", self.make)

    def make(self) -> ChatPacer:
        pacer = ChatPacer(clock=self.time, sleep=self.time.sleep)
        real, mine = pacer.wait, self.waits.setdefault(len(self.pacers), [])

        async def wait(chat: str) -> float:
            waited = await real(chat)
            mine.append((chat, waited))
            return waited

        pacer.wait = wait  # type: ignore[method-assign]
        self.pacers.append(pacer)
        return pacer

    def of(self, pacer: ChatPacer | None, chat: str) -> list[float]:
        assert pacer is not None
        return [w for c, w in self.waits[self.pacers.index(pacer)] if c == chat]


def test_two_bots_posting_to_one_group_are_paced_each_on_its_own(
    db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seed(db)
    waits = Waits(monkeypatch)
    shared, own = Recorder(), Recorder()
    folder = with_own_bot(office_dir(tmp_path))
    r = kecamatan_jobs.digest_rounds(db, runtime(first_office(folder), tmp_path),
                                     settings(tmp_path, folder=folder, kabupaten=KABUPATEN), shared, Clock(MONDAY_0730),
                                     bot_senders={ARJASA: own})
    jelbuk, arjasa = r.jobs
    assert r.kabupaten is not None
    # One pacer per bot: Jelbuk's and the kabupaten digest on the shared bot, Arjasa's on its own.
    assert (jelbuk.sender, arjasa.sender, r.kabupaten.sender) == (shared, own, shared)
    assert jelbuk.pacer is r.kabupaten.pacer and arjasa.pacer is not jelbuk.pacer and len(waits.pacers) == 2
    asyncio.run(r.run_due())
    # The Bupati's group got both kecamatan's digests (text and chart each), one through each
    # bot; each bot's first pair in that group goes at once: neither waited for the other's.
    assert [kind for chat, kind, _ in shared.sent if chat == BUPATI] == ["text", "photo"]
    assert [kind for chat, kind, _ in own.sent if chat == BUPATI] == ["text", "photo"]
    assert waits.of(jelbuk.pacer, BUPATI) == waits.of(arjasa.pacer, BUPATI) == [0.0, 0.0]
    # Nor did any other kecamatan chat; only the kabupaten digest's own parts, one chat on
    # one bot, are spread out.
    assert {w for mine in waits.waits.values() for chat, w in mine if chat != KABUPATEN} == {0.0}
    assert [chat for chat, _, _ in shared.sent].count(KABUPATEN) > 2 and KABUPATEN not in {c for c, _, _ in own.sent}


def test_two_kecamatan_on_the_shared_bot_share_its_pace_in_one_group(
    db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The contrast: Arjasa without a bot of its own, so both digests go through the shared bot
    # to the Bupati's group, and Telegram counts them together: the second pair waits.
    seed(db)
    waits = Waits(monkeypatch)
    shared = Recorder()
    folder = office_dir(tmp_path)
    r = kecamatan_jobs.digest_rounds(db, runtime(first_office(folder), tmp_path), settings(tmp_path, folder=folder),
                                     shared, Clock(MONDAY_0730), bot_senders={})
    jelbuk, arjasa = r.jobs
    assert jelbuk.pacer is arjasa.pacer and len(waits.pacers) == 1
    asyncio.run(r.run_due())
    bupati = waits.of(jelbuk.pacer, BUPATI)
    assert len(bupati) == 4 and bupati[:2] == [0.0, 0.0] and all(w > 0 for w in bupati[2:])


@pytest.mark.usefixtures("register")
def test_every_bot_has_its_own_rate_limiter(tmp_path: Path) -> None:
    # What the outbox sends goes through the Application of its channel's bot: a limiter per
    # Application is a limiter per bot, as Telegram counts.
    env = {"SIGAP_DATA_DIR": str(tmp_path), "SIGAP_OFFICE_DIR": str(with_own_bot(office_dir(tmp_path))),
           VARIABLE: "654321:ARJASA-token", **register_env()}
    service = Service(load_settings(env=env, env_file=None), token="123456:TEST-token", rate_limit=True)
    try:
        limiters = [service.app.bot.rate_limiter, service.bots[ARJASA].bot.rate_limiter]
        assert all(isinstance(x, AIORateLimiter) for x in limiters)
        assert limiters[0] is not limiters[1]
        assert set(service.bots) == {ARJASA} and JELBUK not in service.bots
    finally:
        service.db.dispose()
