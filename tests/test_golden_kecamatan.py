# Golden transcript of the kecamatan picker (issue 14): a bot serving two kecamatan
# (SIGAP_OFFICE_DIR), through PTB against the Bot API emulator, written down as a person reads
# it and compared with tests/golden/telegram_pilih_kecamatan.txt (tests/golden.py).
from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.config.office import OFFICE_DIR
from tests.e2e import WARGA, WARGA2
from tests.golden import TelegramTranscript, check, start_golden_world, stop_golden_world

pytestmark = pytest.mark.usefixtures("register")


def readable(lines: list[str]) -> None:
    """What a person reads: no template syntax, markup, Python repr or English left over,
    no two sentences glued together without a space."""
    said = "\n".join(line for line in lines if not line.startswith(">"))
    for leftover in ("{{", "{%", "<b>", "</", "None", "True", "False", "Office(", "kode_wilayah",
                     "Choose", "Select", "Welcome", "Please"):
        assert leftover not in said, leftover
    assert not re.search(r"[a-z][.:;)][A-Z]", said), re.search(r".{20}[a-z][.:;)][A-Z].{20}", said)


async def test_telegram_resident_picks_a_kecamatan_by_typing_then_changes_it(tmp_path: Path) -> None:
    w, _clock, wa = await start_golden_world(tmp_path, env={"SIGAP_OFFICE_DIR": str(OFFICE_DIR)})
    try:
        w.emu.user(WARGA2, "Ahmad", "ahmad")
        t = TelegramTranscript(w, {WARGA: "Siti", WARGA2: "Ahmad"})
        await t.say(WARGA, "/start")
        await t.say(WARGA, "Sumbersari")  # not a kecamatan this bot serves
        await t.say(WARGA, "arjasa")  # typed instead of pressed, in lower case
        await t.say(WARGA, "/kecamatan")
        await t.say(WARGA, "Kecamatan Jelbuk")
        t.lines.append("")
        await t.say(WARGA2, "/start kec-350922")  # the deep link of Arjasa's QR code
        readable(t.lines)
        check("telegram_pilih_kecamatan", t.lines)
    finally:
        await stop_golden_world(w, wa)
