# Golden transcripts: whole conversations driven through the real channel code (PTB against
# the Bot API emulator, pywa against the Graph API emulator), written down the way a person
# reads them, and compared with reviewed files in tests/golden/. A change in any message or
# button shows up as a readable diff of those files.
# Invariants: deterministic (a fixed clock, fixed people and ids; callback data and nonces are
# never written); SIGAP_GOLDEN_UPDATE=1 rewrites the files instead of comparing, for a
# reviewed change of wording.
from __future__ import annotations

import difflib
import os
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bot.emulators.telegram import BotApiEmulator
from bot.emulators.whatsapp import GraphApiEmulator
from storage import people
from tests.e2e import GROUP, KOORDINATOR, Clock, World, make_service, start_emulator

GOLDEN = Path(__file__).parent / "golden"
# Monday 30 November 2026, 09.00 WIB: a working day.
NOW = datetime(2026, 11, 30, 2, 0, tzinfo=UTC)


def check(name: str, lines: list[str]) -> None:
    """Compare a transcript with tests/golden/<name>.txt (or rewrite it on request)."""
    path = GOLDEN / f"{name}.txt"
    text = "\n".join(lines).rstrip() + "\n"
    if os.environ.get("SIGAP_GOLDEN_UPDATE") == "1":
        GOLDEN.mkdir(exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return
    assert path.exists(), f"{path} missing: run with SIGAP_GOLDEN_UPDATE=1, then review it"
    expected = path.read_text(encoding="utf-8")
    if text != expected:
        diff = "".join(
            difflib.unified_diff(expected.splitlines(True), text.splitlines(True), str(path), "now")
        )
        raise AssertionError(
            f"transcript {name} changed (SIGAP_GOLDEN_UPDATE=1 rewrites it after review):\n{diff}"
        )


def _block(who: str, text: str | None, extra: str = "") -> list[str]:
    body = (text or "").splitlines() or [""]
    lines = [f"{who}{extra}: {body[0]}"]
    lines += [f"    {line}" for line in body[1:]]
    return lines


@dataclass
class TelegramTranscript:
    """What each Telegram chat shows, in order: sent, edited, photos, pins, buttons."""

    world: World
    names: dict[int, str]
    lines: list[str] = field(default_factory=list)
    seen: int = 0

    def chat_name(self, chat: int) -> str:
        return self.names.get(chat, str(chat))

    def user_did(self, user: int, what: str, chat: int | None = None) -> None:
        where = "" if chat is None or chat == user else f" (di {self.chat_name(chat)})"
        self.lines.extend(_block(f"> {self.names.get(user, user)}{where}", what))

    def collect(self) -> None:
        # Each chat's messages keep their order; across chats the delivery sends in parallel,
        # so the chats of one step are written in a fixed order (by name) to stay
        # deterministic on both backends.
        new = self.world.emu.sent[self.seen :]
        for o in sorted(new, key=lambda o: self.chat_name(o.chat_id)):
            self.lines.extend(self._outgoing(o))
        self.seen = len(self.world.emu.sent)

    def _outgoing(self, o: Any) -> list[str]:
        to = f"  SIGAP -> {self.chat_name(o.chat_id)}"
        if o.method in ("deleteMessage",):
            return [f"{to} (pesan #{o.message_id} dihapus)"]
        if o.method == "editMessageReplyMarkup" and not (o.reply_markup or {}).get("inline_keyboard"):
            return [f"{to} (tombol pesan #{o.message_id} dihapus)"]
        kind = ""
        if o.method.startswith("edit"):
            kind = f" (pesan #{o.message_id} diubah)"
        elif o.photo:
            kind = " (foto)"
        elif o.location:
            return [f"{to} (lokasi {o.location.get('latitude')}, {o.location.get('longitude')})"]
        elif o.method == "answerCallbackQuery":
            return []
        lines = _block(to, o.text, kind)
        markup = o.reply_markup or {}
        rows = markup.get("inline_keyboard") or []
        if rows:
            lines.append("    [" + "] [".join(" | ".join(b.get("text", "") for b in row) for row in rows) + "]")
        if markup.get("force_reply"):
            lines.append("    (balas pesan ini)")
        return lines

    async def say(self, user: int, text: str, chat: int | None = None) -> None:
        self.user_did(user, text, chat)
        await self.world.say(user, text, chat)
        self.collect()

    async def press(self, user: int, label: str, chat: int | None = None) -> None:
        self.user_did(user, f"[{label}]", chat)
        answered = len(self.world.emu.answered_callbacks)
        await self.world.press(user, label, chat)
        for a in self.world.emu.answered_callbacks[answered:]:
            if a.text:
                self.lines.append(f"  SIGAP (notifikasi): {a.text}")
        self.collect()

    async def photo(self, user: int, data: bytes, caption: str | None) -> None:
        self.user_did(user, f"(foto) {caption or ''}".rstrip())
        self.world.emu.send_photo(user, data, caption=caption)
        await self.world.idle()
        self.collect()

    async def location(self, user: int, lat: float, lon: float) -> None:
        self.user_did(user, f"(lokasi {lat}, {lon})")
        self.world.emu.send_location(user, lat, lon)
        await self.world.idle()
        self.collect()


@dataclass
class WhatsAppTranscript:
    """What one WhatsApp user sees: texts, reply buttons, list rows (the Telegram side of the
    same world, the officers' group, goes to a TelegramTranscript)."""

    wa: GraphApiEmulator
    world: World
    user: str
    name: str
    lines: list[str] = field(default_factory=list)
    seen: int = 0

    def collect(self) -> None:
        sent = self.wa.messages_to(self.user)
        for m in sent[self.seen :]:
            kind = "" if m.type in ("text", "interactive") else f" ({m.type})"
            self.lines.extend(_block(f"  SIGAP -> {self.name}", m.text, kind))
            if m.buttons:
                self.lines.append("    [" + " | ".join(t for t, _ in m.buttons) + "]")
            if m.rows:
                self.lines.append(f"    daftar <{m.list_button}>:")
                self.lines.extend(f"      - {t}" + (f" ({d})" if d else "") for t, _, d in m.rows)
        self.seen = len(sent)

    async def _post(self, what: str, payload: Any) -> None:
        self.lines.extend(_block(f"> {self.name}", what))
        status = await self.wa.post(payload)
        assert status == 200, status
        await self.world.idle()
        self.collect()

    async def say(self, text: str) -> None:
        await self._post(text, self.wa.text(self.user, text))

    async def press(self, label: str) -> None:
        await self._post(f"[{label}]", self.wa.reply_to(self.user, label))

    async def photo(self, data: bytes, caption: str | None) -> None:
        await self._post(f"(foto) {caption or ''}".rstrip(), self.wa.image(self.user, data, caption))

    async def location(self, lat: float, lon: float) -> None:
        await self._post(f"(lokasi {lat}, {lon})", self.wa.location(self.user, lat, lon))


async def start_golden_world(
    tmp_path: Path, *, whatsapp: bool = False, now: datetime = NOW, env: dict[str, str] | None = None
) -> tuple[World, Clock, GraphApiEmulator | None]:
    clock = Clock(now)
    emu: BotApiEmulator = await start_emulator()
    env = dict(env or {})  # SIGAP_OFFICE_DIR for a bot serving several kecamatan, say
    wa = None
    if whatsapp:
        token, app_secret = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
        wa = GraphApiEmulator(token=token, app_secret=app_secret)
        await wa.start()
        env |= {
            "SIGAP_WHATSAPP_TOKEN": token,
            "SIGAP_WHATSAPP_PHONE_ID": wa.phone_id,
            "SIGAP_WHATSAPP_APP_SECRET": app_secret,
            "SIGAP_WHATSAPP_VERIFY_TOKEN": "golden-verify",
            "SIGAP_WEB_PORT": "0",
            "SIGAP_WHATSAPP_API_URL": wa.url,
        }
    service = make_service(emu, tmp_path, clock=clock, env=env)
    with service.db.transaction() as s:
        # A koordinator who is also the admin: decides forwards/duplicates, registers groups.
        people.add_officer(s, KOORDINATOR, "Rina", "admin", now)
    await service.start()
    if wa is not None:
        assert service.web is not None
        wa.connect(service.web.url + service.settings.web.whatsapp_path, "golden-verify")
    return World(emu, service), clock, wa


async def stop_golden_world(world: World, wa: GraphApiEmulator | None) -> None:
    try:
        await world.service.stop()
        await world.emu.stop()
    finally:
        if wa is not None:
            await wa.stop()


__all__ = ["GROUP", "NOW", "TelegramTranscript", "WhatsAppTranscript", "check", "start_golden_world", "stop_golden_world"]
