# The kecamatan picker's answers to a typed name no office has (bot/dialogs/kecamatan.py): a
# hint in Indonesian, asked again, and the message that led to the question is still the one
# handled once the resident picked. Through router.handle, on SQLite and PostgreSQL.
from __future__ import annotations

from tests.test_tenants_bot import ARJASA, WARGA_BARU, Chats, chats, labels, text

__all__ = ["chats"]  # the fixture, imported for the tests below


def test_a_wrong_name_gets_a_hint_and_the_first_message_still_leads(chats: Chats) -> None:
    c = chats
    assert "Layanan ini melayani beberapa kecamatan" in text(c.say(WARGA_BARU, "/lapor"))
    out = c.say(WARGA_BARU, "Sumbersari")
    assert text(out).startswith("Maaf, kecamatan itu tidak dilayani di sini (atau namanya salah ketik).")
    assert "ketik namanya (misalnya Jelbuk) atau nomornya (1 sampai 2)" in text(out)
    assert labels(out) == ["Kecamatan Jelbuk", "Kecamatan Arjasa"] and c.remembered(WARGA_BARU) is None
    out = c.say(WARGA_BARU, "arjasa")
    assert "Kecamatan Anda: Kecamatan Arjasa" in text(out) and c.remembered(WARGA_BARU) == ARJASA
    assert "Pengaduan" in labels(out)  # /lapor's first question, not the menu "Sumbersari" led to


def test_a_deep_link_says_which_kecamatan_only_when_it_changes(chats: Chats) -> None:
    c = chats
    out = text(c.say(WARGA_BARU, "/start kec-350922"))
    assert "Kecamatan Anda: Kecamatan Arjasa. Ganti kapan saja dengan /kecamatan." in out
    assert "Selamat datang di SIGAP Kecamatan Arjasa" in out
    again = text(c.say(WARGA_BARU, "/start kec-350922"))  # the same QR code scanned again
    assert "Kecamatan Anda:" not in again and "Selamat datang di SIGAP Kecamatan Arjasa" in again
    assert "Kecamatan Anda: Kecamatan Jelbuk" in text(c.say(WARGA_BARU, "/start kec-350925"))
