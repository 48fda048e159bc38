# `sigap digest --kirim --kecamatan KODE` of a kecamatan with a bot of its own (issue 14) posts
# through that bot, as `sigap run` does: its Trantib group has that bot, not the shared one.
# On the Bot API emulator (one server, two tokens), on SQLite and PostgreSQL.
from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.cli import sigap as cli
from bot.emulators.telegram import BotApiEmulator
from storage import people
from tests.e2e import TOKEN, make_service
from tests.test_tenants_bots import ARJASA, ARJASA_TOKEN, GROUP_ARJASA, VARIABLE, office_dir

pytestmark = pytest.mark.usefixtures("register")


async def test_a_kecamatans_digest_sent_by_hand_goes_through_its_own_bot(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = office_dir(tmp_path)
    async with BotApiEmulator(token=TOKEN, bot_username="sigap_test_bot") as emu:
        own = emu.add_bot(ARJASA_TOKEN, "sigap_arjasa_bot")
        own.group(GROUP_ARJASA, "Trantib Arjasa")
        emu.group(GROUP_ARJASA, "Trantib Arjasa")  # the shared bot could post there too: it must not
        env = {"SIGAP_OFFICE_DIR": str(folder), VARIABLE: ARJASA_TOKEN}
        setup = make_service(emu, tmp_path, clock=lambda: datetime.now(UTC), env=env)
        with setup.db.transaction(ARJASA) as s:
            people.set_setting(s, "trantib_group", str(GROUP_ARJASA), datetime.now(UTC))
        setup.db.dispose()
        for name, value in {"SIGAP_DATA_DIR": str(tmp_path), "SIGAP_TELEGRAM_TOKEN": TOKEN,
                            "SIGAP_TELEGRAM_API_URL": emu.url, **env}.items():
            monkeypatch.setenv(name, value)
        monkeypatch.delenv("SIGAP_OFFICE_FILE", raising=False)
        # The CLI runs its own event loop: in a thread, while the emulator serves in this one.
        argv = ["digest", "--send", "--week", "2026-W48", "--kecamatan", ARJASA]
        assert await asyncio.to_thread(cli.main, argv) == 0
        assert f"2026-W48 ke chat {GROUP_ARJASA}: terkirim." in capsys.readouterr().out
        texts = [m["text"] for m in own.messages_in(GROUP_ARJASA) if "text" in m]
        assert any(t.startswith("📊 Ringkasan mingguan Kecamatan Arjasa") for t in texts)
        assert emu.messages_in(GROUP_ARJASA) == []
        # Its token variable left empty: refused in Indonesian, nothing sent through the shared bot.
        monkeypatch.setenv(VARIABLE, "")
        assert await asyncio.to_thread(cli.main, ["digest", "--send", "--week", "2026-W47", "--kecamatan", ARJASA]) != 0
        assert f"{VARIABLE} belum diisi" in capsys.readouterr().err
        assert emu.messages_in(GROUP_ARJASA) == []
