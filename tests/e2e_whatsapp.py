# A running SIGAP with WhatsApp on: the Telegram World of tests/e2e.py (officers stay on
# Telegram) plus the Graph API emulator, whose webhook side POSTs signed Meta-shaped payloads
# to SIGAP's real ASGI server and whose API side receives what pywa sends.
from __future__ import annotations

import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.emulators.whatsapp import GraphApiEmulator, Sent
from tests.e2e import World, start_world, stop_world

WA_WARGA = "6281234500001"
WA_WARGA2 = "6281234500002"
JPEG = b"\xff\xd8\xff\xe0" + b"1" * 700 + b"\xff\xd9"


@dataclass
class WaWorld(World):
    wa: GraphApiEmulator
    verify_token: str

    async def wa_post(self, payload: dict[str, Any] | bytes, **kw: Any) -> int:
        status = await self.wa.post(payload, **kw)
        await self.idle()
        return status

    async def wa_say(self, user: str, text: str) -> None:
        assert await self.wa_post(self.wa.text(user, text)) == 200

    async def wa_press(self, user: str, label: str) -> None:
        assert await self.wa_post(self.wa.reply_to(user, label)) == 200

    def wa_last(self, user: str) -> Sent:
        return self.wa.last_to(user)

    def wa_texts(self, user: str) -> list[str]:
        return [s.text or "" for s in self.wa.messages_to(user)]


async def start_wa_world(tmp_path: Path, env: dict[str, str] | None = None) -> WaWorld:
    # Fresh secrets per test: nothing secret is committed, and a test cannot pass by accident
    # with another test's signature.
    token, app_secret, verify = (secrets.token_urlsafe(24) for _ in range(3))
    wa = GraphApiEmulator(token=token, app_secret=app_secret)
    await wa.start()
    wa.user(WA_WARGA, "Sari Wulandari")
    wa.user(WA_WARGA2, "Hasan")
    settings = {
        "SIGAP_WHATSAPP_TOKEN": token,
        "SIGAP_WHATSAPP_PHONE_ID": wa.phone_id,
        "SIGAP_WHATSAPP_APP_SECRET": app_secret,
        "SIGAP_WHATSAPP_VERIFY_TOKEN": verify,
        "SIGAP_WHATSAPP_API_URL": wa.url,
        "SIGAP_WEB_PORT": "0",
        **(env or {}),
    }
    try:
        world = await start_world(tmp_path, env=settings)
    except BaseException:
        await wa.stop()
        raise
    assert world.service.web is not None
    wa.connect(world.service.web.url + world.service.settings.web.whatsapp_path, verify)
    return WaWorld(world.emu, world.service, wa, verify)


async def stop_wa_world(world: WaWorld) -> None:
    try:
        await stop_world(world)
    finally:
        await world.wa.stop()
