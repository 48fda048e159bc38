# The printed SKM card: the link in text under the code, the wa.me link when WhatsApp is
# configured, and `sigap skm qr` warns when the bot username is still the default.
from __future__ import annotations

from pathlib import Path
from xml.etree import ElementTree as ET

import pytest
from PIL import Image

from bot.cli.sigap import main
from bot.config.office import load_office
from bot.config.settings import SettingsError, load_settings
from bot.reports.skm_qr import find_service, link_lines, whatsapp_link, write_qr

LINK = "https://t.me/kantor_jelbuk_bot?start=skm_skck"


def svg_texts(path: Path) -> list[str]:
    return [t.text or "" for t in ET.parse(path).getroot().iter() if t.tag.endswith("text")]


def test_the_card_prints_the_links_under_the_code(tmp_path: Path) -> None:
    office = load_office(None)
    service = find_service(office, "skck")
    plain, wa = tmp_path / "a.svg", tmp_path / "b.svg"
    write_qr(plain, LINK, office, service)
    write_qr(wa, LINK, office, service, whatsapp_number="6281234567890")
    assert svg_texts(plain)[-1] == "Telegram: t.me/kantor_jelbuk_bot?start=skm_skck"
    assert svg_texts(wa)[-2:] == ["Telegram: t.me/kantor_jelbuk_bot?start=skm_skck",
                                  "WhatsApp: wa.me/6281234567890?text=survei"]
    root = ET.parse(wa).getroot()
    ys = [float(t.get("y", 0)) for t in root.iter() if t.tag.endswith("text")]
    assert ys == sorted(ys) and max(ys) < float(root.get("viewBox", "").split()[3])
    # PNG: the WhatsApp line makes the card taller, and the text stays inside it.
    png_plain, png_wa = tmp_path / "a.png", tmp_path / "b.png"
    write_qr(png_plain, LINK, office, service)
    write_qr(png_wa, LINK, office, service, whatsapp_number="6281234567890")
    with Image.open(png_plain) as a, Image.open(png_wa) as b:
        assert a.width == b.width and b.height > a.height
        bottom = b.convert("L").crop((0, a.height - 20, b.width, b.height))
        assert bottom.getextrema()[0] < 64  # dark text in the added strip


def test_whatsapp_link_and_number_setting() -> None:
    assert whatsapp_link("6281234567890") == "https://wa.me/6281234567890?text=survei"
    assert link_lines(LINK, None) == ["Telegram: t.me/kantor_jelbuk_bot?start=skm_skck"]
    base = {"SIGAP_WHATSAPP_TOKEN": "t", "SIGAP_WHATSAPP_PHONE_ID": "1", "SIGAP_WHATSAPP_APP_SECRET": "s",
            "SIGAP_WHATSAPP_VERIFY_TOKEN": "v"}
    assert load_settings(base | {"SIGAP_WHATSAPP_NUMBER": "0812-3456-7890"}, None).whatsapp.number == "6281234567890"
    assert load_settings(base | {"SIGAP_WHATSAPP_NUMBER": "+62 812 3456 7890"}, None).whatsapp.number == "6281234567890"
    with pytest.raises(SettingsError, match="SIGAP_WHATSAPP_NUMBER"):
        load_settings(base | {"SIGAP_WHATSAPP_NUMBER": "kantor"}, None)


@pytest.mark.parametrize("username", [None, "kantor_jelbuk_bot"])
def test_skm_qr_warns_about_the_default_bot_username(
    username: str | None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SIGAP_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("SIGAP_DATABASE_URL", raising=False)
    monkeypatch.delenv("SIGAP_WHATSAPP_TOKEN", raising=False)
    if username:
        monkeypatch.setenv("SIGAP_TELEGRAM_BOT_USERNAME", username)
    else:
        monkeypatch.delenv("SIGAP_TELEGRAM_BOT_USERNAME", raising=False)
    assert main(["skm", "qr", "--layanan", "skck", "--out", str(tmp_path / "k.svg")]) == 0
    err = capsys.readouterr().err
    if username:
        assert err == ""
    else:
        assert err.startswith("Peringatan: SIGAP_TELEGRAM_BOT_USERNAME belum diisi; tautan memakai nama bawaan @sigap_jelbuk_bot.")
