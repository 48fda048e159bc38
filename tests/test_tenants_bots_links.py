# Links to a kecamatan's own Telegram bot (issue 14): a printed SKM card (`sigap skm qr`) of a
# kecamatan whose office file names its own bot opens that bot (its name from the office file,
# chat.telegram_username: the CLI has no network for getMe), any other the shared bot; a name
# that is not a bot's, or one without a bot of its own, is refused; `sigap run` warns when
# getMe disagrees with the office file; an admin asked to add "the bot" to the Trantib group
# is told the name of the bot that posts its kecamatan's cards.
from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from PIL import Image

from bot.cli.sigap import main
from bot.config.office import OfficeFileError, load_office
from bot.reports.skm_qr import BOX, deep_link, qr_matrix
from storage import people
from tests.e2e import WARGA, World, start_world, stop_world
from tests.test_tenants_bots import ARJASA, ARJASA_TOKEN, VARIABLE, office_dir

SHARED_NAME = "kantor_jelbuk_bot"
ARJASA_NAME = "sigap_arjasa_bot"  # what the emulator's getMe answers for Arjasa's token (tests/e2e.py)


def with_username(folder: Path, line: str) -> Path:
    """`folder` (office_dir's) with `line` added to Arjasa's [chat], after its token variable."""
    path = folder / "arjasa.toml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace(f'telegram_token_env = "{VARIABLE}"\n',
                                 f'telegram_token_env = "{VARIABLE}"\n{line}\n', 1), encoding="utf-8")
    assert line in path.read_text(encoding="utf-8")
    return folder


def modules_from_png(png: Path, size: int) -> list[list[bool]]:
    """Read the code back from the picture: the colour at the centre of every module."""
    with Image.open(png) as img:
        grey = img.convert("L")
        return [[grey.getpixel((x * BOX + BOX // 2, y * BOX + BOX // 2)) < 128  # type: ignore[operator]
                 for x in range(size)] for y in range(size)]


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """`sigap skm qr` with Jelbuk and Arjasa served; the shared bot named in the settings."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SIGAP_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("SIGAP_TELEGRAM_BOT_USERNAME", SHARED_NAME)
    for key in ("SIGAP_OFFICE_FILE", "SIGAP_DATABASE_URL", "SIGAP_WHATSAPP_TOKEN"):
        monkeypatch.delenv(key, raising=False)
    yield tmp_path


def qr(capsys: pytest.CaptureFixture[str], out: Path, *kecamatan: str) -> tuple[int, str, str]:
    code = main(["skm", "qr", "--layanan", "ktp-kk", "--out", str(out), *kecamatan])
    stdout, err = capsys.readouterr()
    return code, stdout, err


def test_a_card_of_a_kecamatan_with_its_own_bot_opens_that_bot(
    cli: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SIGAP_OFFICE_DIR", str(with_username(office_dir(cli), f'telegram_username = "@{ARJASA_NAME}"')))
    own, shared = deep_link(ARJASA_NAME, "ktp-kk"), deep_link(SHARED_NAME, "ktp-kk")
    code, stdout, err = qr(capsys, cli / "arjasa.png", "--kecamatan", ARJASA)
    assert (code, err) == (0, "") and f"(membuka {own})" in stdout
    expected = qr_matrix(own)
    assert modules_from_png(cli / "arjasa.png", len(expected)) == expected
    assert modules_from_png(cli / "arjasa.png", len(expected)) != qr_matrix(shared)
    # Jelbuk, on the shared bot: the shared bot's link, as before.
    code, stdout, err = qr(capsys, cli / "jelbuk.png")
    assert (code, err) == (0, "") and f"(membuka {shared})" in stdout
    assert modules_from_png(cli / "jelbuk.png", len(qr_matrix(shared))) == qr_matrix(shared)


def test_a_kecamatan_on_the_shared_bot_gets_the_shared_bots_link(
    cli: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from bot.config.office import OFFICE_DIR

    monkeypatch.setenv("SIGAP_OFFICE_DIR", str(OFFICE_DIR))  # the shipped Arjasa: no bot of its own
    code, stdout, _ = qr(capsys, cli / "arjasa.svg", "--kecamatan", ARJASA)
    assert code == 0 and f"(membuka {deep_link(SHARED_NAME, 'ktp-kk')})" in stdout


def test_a_kecamatan_bot_without_its_name_prints_no_card(
    cli: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SIGAP_OFFICE_DIR", str(office_dir(cli)))
    code, stdout, err = qr(capsys, cli / "arjasa.png", "--kecamatan", ARJASA)
    assert code == 1 and stdout == "" and not (cli / "arjasa.png").exists()
    assert err.startswith(f"Kecamatan Arjasa memakai bot Telegram sendiri ({VARIABLE}), tetapi nama botnya")
    assert "chat.telegram_username" in err
    # A kode nobody serves is named with the ones there are.
    code, _, err = qr(capsys, cli / "x.png", "--kecamatan", "35.09.99")
    assert code == 1 and err.startswith("Kecamatan 35.09.99 tidak dilayani; yang ada: 35.09.25 (Jelbuk)")


@pytest.mark.parametrize("name", ["arjasa", "sigap-arjasa-bot", "1sigap_bot", "bot", "s" * 30 + "bot", ARJASA_TOKEN])
def test_an_office_file_names_a_bot_by_its_telegram_username(tmp_path: Path, name: str) -> None:
    folder = with_username(office_dir(tmp_path), f'telegram_username = "{name}"')
    with pytest.raises(OfficeFileError) as refused:
        load_office(folder / "arjasa.toml")
    assert "bukan nama bot Telegram" in str(refused.value) and ARJASA_TOKEN not in str(refused.value)


def test_a_bot_name_needs_a_bot_of_its_own(tmp_path: Path) -> None:
    folder = with_username(office_dir(tmp_path), f'telegram_username = "{ARJASA_NAME}"')
    assert load_office(folder / "arjasa.toml").telegram_username == ARJASA_NAME
    path = folder / "arjasa.toml"
    path.write_text(path.read_text(encoding="utf-8").replace(f'telegram_token_env = "{VARIABLE}"\n', ""),
                    encoding="utf-8")
    with pytest.raises(OfficeFileError, match="hanya untuk kecamatan dengan bot sendiri"):
        load_office(path)


@pytest.mark.usefixtures("register")
async def test_start_warns_when_the_office_file_names_another_bot(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    folder = with_username(office_dir(tmp_path), 'telegram_username = "sigap_lain_bot"')
    with caplog.at_level(logging.WARNING, logger="bot.app.service"):
        w = await start_world(tmp_path, env={"SIGAP_OFFICE_DIR": str(folder), VARIABLE: ARJASA_TOKEN})
        await stop_world(w)
    [warning] = [r.getMessage() for r in caplog.records if "telegram_username" in r.getMessage()]
    assert warning.startswith(f"Berkas kantor Kecamatan Arjasa: chat.telegram_username @sigap_lain_bot, tetapi token "
                              f"{VARIABLE} milik @{ARJASA_NAME}")


@pytest.mark.usefixtures("register")
async def test_start_is_quiet_when_the_office_file_names_the_right_bot(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    folder = with_username(office_dir(tmp_path), f'telegram_username = "{ARJASA_NAME.upper()}"')
    with caplog.at_level(logging.WARNING, logger="bot.app.service"):
        w = await start_world(tmp_path, env={"SIGAP_OFFICE_DIR": str(folder), VARIABLE: ARJASA_TOKEN})
        try:
            # Links the dialogs make for a kecamatan name its bot, the shared bot's otherwise.
            assert w.service.rt.deep_link("x", ARJASA) == f"https://t.me/{ARJASA_NAME}?start=x"
            assert w.service.rt.deep_link("x") == "https://t.me/sigap_test_bot?start=x"
        finally:
            await stop_world(w)
    assert not [r for r in caplog.records if "telegram_username" in r.getMessage()]


@pytest.mark.usefixtures("register")
async def test_an_admin_is_told_to_add_the_bot_that_posts_the_kecamatans_cards(tmp_path: Path) -> None:
    w = await start_world(tmp_path, env={"SIGAP_OFFICE_DIR": str(office_dir(tmp_path)), VARIABLE: ARJASA_TOKEN})
    try:
        (emu_a,) = w.emu.other_bots
        arjasa = World(emu_a, w.service)
        with w.service.db.transaction(ARJASA) as s:
            people.add_officer(s, WARGA, "Siti", "admin", datetime.now(UTC))
        await arjasa.say(WARGA, "/daftarkan_grup")
        text = arjasa.last(WARGA).text or ""
        assert "harus dikirim di grup Trantib" in text and f"tambahkan @{ARJASA_NAME} ke grup itu" in text
    finally:
        await stop_world(w)
