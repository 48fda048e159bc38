# Texts that tell a resident what to type name the command as it works on their channel:
# "/status TRB-..." on Telegram and in the terminal, the bare "status TRB-..." on WhatsApp
# (bot/templates/perintah.j2; bare commands: bot/dialogs/typed.py).
from __future__ import annotations

import re
from datetime import date

import pytest

from bot.dialogs import typed
from bot.texts import render, to_whatsapp

THURSDAY = date(2026, 12, 3)


def _slash_commands(text: str) -> list[str]:
    return re.findall(r"(?<![\w/])/[a-z_]+", text)


@pytest.mark.parametrize("channel", ["telegram", "sandbox"])
def test_telegram_and_the_terminal_keep_the_slash(channel: str) -> None:
    text = render("lapor_terkirim", kanal_pembaca=channel, tiket="TRB-2026-00001", batas_verifikasi=THURSDAY)
    assert "<code>/status TRB-2026-00001</code>" in text
    assert "/status" in render("bantuan", kanal_pembaca=channel, prefix="TRB")


def test_whatsapp_says_the_bare_word() -> None:
    text = to_whatsapp(render("lapor_terkirim", kanal_pembaca="whatsapp", tiket="TRB-2026-00001",
                              batas_verifikasi=THURSDAY))
    assert "```status TRB-2026-00001```" in text and "/status" not in text
    help_text = to_whatsapp(render("bantuan", kanal_pembaca="whatsapp", prefix="TRB"))
    assert "ketik status lalu nomor tiket, misalnya ```status TRB-2026-00017```" in help_text
    assert "(ketik survei)" in help_text and "• batal membatalkan" in help_text
    assert "ketik menu lalu pilih" in render("teks_bebas", kanal_pembaca="whatsapp").casefold()
    for name, values in (("lapor_terkirim", {"tiket": "TRB-2026-00001", "batas_verifikasi": THURSDAY}),
                         ("bantuan", {"prefix": "TRB"}), ("teks_bebas", {}), ("lapor_batal", {}),
                         ("pilih_tombol", {}), ("foto_di_luar_langkah", {}), ("lokasi_di_luar_langkah", {}),
                         ("status_daftar", {"laporan": []})):
        shown = to_whatsapp(render(name, kanal_pembaca="whatsapp", **values))
        assert _slash_commands(shown) == [], (name, shown)


def test_every_word_whatsapp_is_told_to_type_is_a_bare_command() -> None:
    # The words the templates say on WhatsApp are ones the router understands there.
    told = {"menu", "status", "batal", "bantuan", "survei", "data saya"}
    assert told <= set(typed.BARE_COMMANDS)
    assert typed.BARE_COMMANDS["menu"] == "menu" and typed.BARE_COMMANDS["data saya"] == "datasaya"


def test_a_template_rendered_outside_a_chat_gets_the_slash() -> None:
    # No channel given (a CLI, a test): the Telegram form, never an undefined-variable error.
    assert "/status TRB-2026-00001" in render("lapor_terkirim", tiket="TRB-2026-00001", batas_verifikasi=THURSDAY)
