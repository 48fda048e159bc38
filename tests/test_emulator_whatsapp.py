# The Graph API emulator holds WhatsApp's rules (so the e2e tests can trust it), the way SIGAP
# lays choices out within those rules, and the WhatsApp settings.
from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from pywa import utils as pywa_utils

from bot.channels.whatsapp import (
    MAX_BUTTON_TITLE,
    MAX_INTERACTIVE_BODY,
    MAX_ROW_DESCRIPTION,
    MAX_ROW_TITLE,
    build_client,
    plan,
    split_messages,
)
from bot.config.settings import SettingsError, WhatsAppSettings, load_settings
from bot.emulators.whatsapp import GraphApiEmulator

USER = "6281299990001"


@pytest.fixture
async def emu() -> AsyncIterator[GraphApiEmulator]:
    e = GraphApiEmulator(token=secrets.token_urlsafe(16), app_secret=secrets.token_urlsafe(16))
    await e.start()
    e.user(USER, "Dewi")
    try:
        yield e
    finally:
        await e.stop()


async def send(emu: GraphApiEmulator, payload: dict[str, Any], token: str | None = None) -> httpx.Response:
    async with httpx.AsyncClient() as http:
        return await http.post(
            f"{emu.url}/v23.0/{emu.phone_id}/messages",
            json={"messaging_product": "whatsapp", "to": USER, **payload},
            headers={"Authorization": f"Bearer {token or emu.token}"},
        )


def buttons(n: int, title: str = "Ya") -> dict[str, Any]:
    return {
        "type": "interactive",
        "interactive": {
            "type": "button",
            "body": {"text": "Pilih"},
            "action": {"buttons": [{"type": "reply", "reply": {"id": f"b{i}", "title": f"{title}{i}"}} for i in range(n)]},
        },
    }


async def test_window_closed_refuses_free_form_and_accepts_an_approved_template(emu: GraphApiEmulator) -> None:
    r = await send(emu, {"type": "text", "text": {"body": "Halo"}})
    assert r.status_code == 400 and r.json()["error"]["code"] == 131047 and emu.sent == []
    emu.approve_template("kabar", "id", "Kabar: {{1}}")
    template = {"name": "kabar", "language": {"code": "id"}, "components": [{"type": "body", "parameters": [{"type": "text", "text": "TRB-1 diverifikasi"}]}]}
    r = await send(emu, {"type": "template", "template": template})
    assert r.status_code == 200 and emu.last_to(USER).text == "Kabar: TRB-1 diverifikasi"
    # A parameter with a new line, a missing template and a wrong count are refused as by Meta.
    bad = {**template, "components": [{"type": "body", "parameters": [{"type": "text", "text": "a\nb"}]}]}
    assert (await send(emu, {"type": "template", "template": bad})).json()["error"]["code"] == 132018
    assert (await send(emu, {"type": "template", "template": {**template, "name": "lain"}})).json()["error"]["code"] == 132001
    assert (await send(emu, {"type": "template", "template": {**template, "components": []}})).json()["error"]["code"] == 132000


async def test_interactive_limits(emu: GraphApiEmulator) -> None:
    emu.wrote(USER, hours_ago=1)  # inside the window
    assert (await send(emu, buttons(3))).status_code == 200
    assert (await send(emu, buttons(4))).json()["error"]["code"] == 131009
    assert (await send(emu, buttons(1, title="x" * (MAX_BUTTON_TITLE + 1)))).status_code == 400
    rows = [{"id": f"r{i}", "title": f"Baris {i}"} for i in range(11)]
    listing = {"type": "interactive", "interactive": {"type": "list", "body": {"text": "Pilih"}, "action": {"button": "Lihat", "sections": [{"title": "A", "rows": rows}]}}}
    assert (await send(emu, listing)).status_code == 400  # eleven rows
    listing["interactive"]["action"]["sections"][0]["rows"] = rows[:10]  # type: ignore[index]
    assert (await send(emu, listing)).status_code == 200
    assert len(emu.last_to(USER).rows) == 10
    r = await send(emu, buttons(1), token="salah")
    assert r.status_code == 401 and r.json()["error"]["code"] == 190
    assert len(emu.sent) == 2 and len(emu.refused) == 4


async def test_media_round_trip_needs_the_token(emu: GraphApiEmulator) -> None:
    media_id = emu.add_media(b"\xff\xd8abc\xff\xd9")
    async with httpx.AsyncClient(headers={"Authorization": f"Bearer {emu.token}"}) as http:
        info = (await http.get(f"{emu.url}/v23.0/{media_id}")).json()
        assert info["file_size"] == 7 and info["id"] == media_id
        assert (await http.get(info["url"])).content == b"\xff\xd8abc\xff\xd9"
    async with httpx.AsyncClient() as http:
        assert (await http.get(info["url"])).status_code == 401


def test_payloads_are_signed_like_meta_and_carry_the_bsuid() -> None:
    emu = GraphApiEmulator(token="t", app_secret="rahasia-aplikasi")
    emu.user(USER, "Dewi")
    payload = emu.text(USER, "Halo")
    body = b'{"a": 1}'
    # pywa's own validator accepts our signature, and only with the right secret.
    assert pywa_utils.webhook_updates_validator("rahasia-aplikasi", body, emu.sign(body))
    assert not pywa_utils.webhook_updates_validator("lain", body, emu.sign(body))
    value = payload["entry"][0]["changes"][0]["value"]
    assert value["contacts"][0]["user_id"] == emu.bsuid(USER) and value["messages"][0]["from"] == USER


def test_a_batch_is_split_into_one_payload_per_message() -> None:
    emu = GraphApiEmulator(token="t", app_secret="s")
    emu.user(USER, "Dewi")
    emu.user("6281299990002", "Rudi")
    batch = emu.text(USER, "satu")
    other = emu.text("6281299990002", "dua")["entry"][0]["changes"][0]["value"]
    value = batch["entry"][0]["changes"][0]["value"]
    value["messages"].append(other["messages"][0])
    value["contacts"].append(other["contacts"][0])
    value["statuses"] = [{"id": "wamid.x", "status": "delivered"}]
    rows = split_messages(batch)
    assert [r[0] for r in rows] == [m["id"] for m in value["messages"]]
    for (_, one), contact in zip(rows, value["contacts"], strict=True):
        v = one["entry"][0]["changes"][0]["value"]
        assert len(v["messages"]) == 1 and v["contacts"] == [contact] and "statuses" not in v


# Layout ---------------------------------------------------------------------------------------
def choice(label: str, value: str) -> list[Any]:
    return [label, f"d:ab12:{value}", None]


def test_three_short_choices_are_reply_buttons() -> None:
    [m] = plan("<b>Pilih</b> jenis", [choice("Ya", "ya"), choice("Tidak", "tidak")])
    assert m.body == "*Pilih* jenis" and m.buttons == (("Ya", "d:ab12:ya"), ("Tidak", "d:ab12:tidak")) and not m.rows


def test_long_or_many_choices_become_lists_with_the_full_label_kept() -> None:
    long = "Keributan / gangguan ketenteraman masyarakat di malam hari yang sangat panjang sekali"
    [m] = plan("Kategori?", [choice(long, "k"), choice("Judi", "j")])
    assert not m.buttons and m.rows[1] == ("Judi", "d:ab12:j", None)
    title, data, description = m.rows[0]
    assert len(title) <= MAX_ROW_TITLE and title.endswith("…") and data == "d:ab12:k"
    assert description is not None and len(description) <= MAX_ROW_DESCRIPTION and long.startswith(description.rstrip("…"))
    many = plan("Pilih", [choice(f"Pilihan {i}", str(i)) for i in range(13)])
    assert [len(m.rows) for m in many] == [10, 3] and many[0].body == "Pilih" and many[1].body != "Pilih"


def test_a_long_text_goes_first_then_the_choices() -> None:
    text = "Uraian: " + "x" * (MAX_INTERACTIVE_BODY + 50)
    first, second = plan(text, [choice("Kirim", "kirim")])
    assert first.body == text and not first.buttons
    assert second.buttons == (("Kirim", "d:ab12:kirim"),) and len(second.body) <= MAX_INTERACTIVE_BODY


def test_link_buttons_are_written_into_the_text() -> None:
    [m] = plan("Buka kasus", [["Buka", None, "https://t.me/bot?start=x"]])
    assert "Buka: https://t.me/bot?start=x" in m.body and not m.buttons and not m.rows


# Settings --------------------------------------------------------------------------------------
BASE = {"SIGAP_WHATSAPP_TOKEN": "tok", "SIGAP_WHATSAPP_PHONE_ID": "123", "SIGAP_WHATSAPP_APP_SECRET": "app", "SIGAP_WHATSAPP_VERIFY_TOKEN": "vt"}


def test_whatsapp_is_off_without_settings_and_secrets_stay_out_of_repr() -> None:
    assert not load_settings(env={}, env_file=None).whatsapp.enabled
    s = load_settings(env={**BASE, "SIGAP_TELEGRAM_MODE": "webhook", "SIGAP_TELEGRAM_WEBHOOK_URL": "https://x.id/telegram", "SIGAP_TELEGRAM_WEBHOOK_SECRET": "rahasia-tg"}, env_file=None)
    assert s.whatsapp.enabled and s.whatsapp.template_lang == "id" and s.web.port == 8080
    shown = repr(s)
    assert not any(secret in shown for secret in ("'tok'", "'app'", "'vt'", "rahasia-tg"))


@pytest.mark.parametrize(
    ("env", "key"),
    [
        ({"SIGAP_WHATSAPP_TOKEN": "tok"}, "SIGAP_WHATSAPP_PHONE_ID"),
        ({**BASE, "SIGAP_WHATSAPP_APP_SECRET": ""}, "SIGAP_WHATSAPP_APP_SECRET"),
        ({**BASE, "SIGAP_WHATSAPP_VERIFY_TOKEN": ""}, "SIGAP_WHATSAPP_VERIFY_TOKEN"),
        ({"SIGAP_TELEGRAM_MODE": "webhook"}, "SIGAP_TELEGRAM_WEBHOOK_URL"),
        ({"SIGAP_TELEGRAM_MODE": "webhook", "SIGAP_TELEGRAM_WEBHOOK_URL": "https://x.id/t"}, "SIGAP_TELEGRAM_WEBHOOK_SECRET"),
        ({"SIGAP_TELEGRAM_MODE": "kirim"}, "SIGAP_TELEGRAM_MODE"),
        ({"SIGAP_WEB_PORT": "70000"}, "SIGAP_WEB_PORT"),
        ({"SIGAP_WHATSAPP_WEBHOOK_PATH": "whatsapp"}, "SIGAP_WHATSAPP_WEBHOOK_PATH"),
    ],
)
def test_bad_settings_fail_naming_the_key(env: dict[str, str], key: str) -> None:
    with pytest.raises(SettingsError, match=key):
        load_settings(env=env, env_file=None)


async def test_the_client_is_pointed_at_the_configured_api() -> None:
    wa, session = build_client(WhatsAppSettings(token="t", phone_id="1", app_secret="a", verify_token="v", api_url="http://127.0.0.1:9/"))
    try:
        assert str(session.base_url).startswith("http://127.0.0.1:9/v") and wa.phone_id == "1"
    finally:
        await session.aclose()
    with pytest.raises(SettingsError, match="TEMPLATE_LANG"):
        build_client(WhatsAppSettings(token="t", phone_id="1", app_secret="a", verify_token="v", template_lang="xx"))

