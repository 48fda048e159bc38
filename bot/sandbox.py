# `sigap sandbox`: the real bot (same Service, database and scheduler) against the Bot API
# emulator on loopback, with a terminal chat. You type as a resident; `/sebagai petugas`
# makes you an officer in the Trantib group; buttons show as numbered choices.
from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import sys
from datetime import UTC, datetime
from pathlib import Path

from bot.emulators.telegram import BotApiEmulator, Outgoing
from bot.service import Service
from bot.settings import Settings
from bot.texts import to_plain
from storage import people
from storage.db import sqlite_url

TOKEN = "100200300:SANDBOX-token-not-secret"
WARGA = 1001
PETUGAS = 2001
GROUP = -1001234567890
# A tiny valid JPEG, so a "photo" in the sandbox is a real file.
PHOTO = bytes.fromhex(
    "ffd8ffe000104a46494600010100000100010000ffdb004300080606070605080707070909080a0c140d0c0b0b0c1912"
    "130f141d1a1f1e1d1a1c1c20242e2720222c231c1c2837292c30313434341f27393d38323c2e333432ffc0000b0800"
    "01000101011100ffc4001400010000000000000000000000000000000affc40014100100000000000000000000000000"
    "000000ffda0008010100003f00d2cf20ffd9"
)

HELP = """Perintah sandbox:
  /sebagai warga     bicara sebagai warga (chat pribadi dengan bot)
  /sebagai petugas   bicara sebagai petugas di grup Trantib
  /pribadi, /grup    petugas: pindah ke chat pribadi / grup
  1, 2, ...          tekan tombol bernomor pada pesan terakhir yang bertombol
  /foto [keterangan] kirim foto; /lokasi LAT LON kirim lokasi; /stiker kirim stiker
  /keluar            selesai
Selain itu, apa pun yang Anda ketik dikirim ke bot (mulai dengan /start)."""


def sandbox_settings(settings: Settings) -> Settings:
    """Keep sandbox data apart from a real register in the same data directory."""
    data_dir = settings.data_dir / "sandbox"
    default_db = sqlite_url(settings.data_dir)
    db_url = settings.database_url if settings.database_url != default_db else sqlite_url(data_dir)
    return dataclasses.replace(settings, data_dir=data_dir, database_url=db_url, telegram_poll_timeout=10)


class Terminal:
    def __init__(self, emu: BotApiEmulator, out=sys.stdout) -> None:  # type: ignore[no-untyped-def]
        self.emu = emu
        self.out = out
        self.shown = 0
        self.role = "warga"
        self.chat = WARGA
        self.last_buttons: dict[int, tuple[int, list[tuple[str, str | None]]]] = {}

    def print(self, text: str) -> None:
        print(text, file=self.out, flush=True)

    def chat_name(self, chat_id: int) -> str:
        return {WARGA: "Warga", PETUGAS: "Petugas (pribadi)", GROUP: "Grup Trantib"}.get(chat_id, str(chat_id))

    def show_new(self) -> None:
        sent = self.emu.sent
        for o in sent[self.shown :]:
            self.show(o)
        self.shown = len(sent)

    def show(self, o: Outgoing) -> None:
        if o.method in ("deleteMessage",):
            return
        where = self.chat_name(o.chat_id)
        tag = "diperbarui" if o.is_edit else "bot"
        if o.location:
            body = f"📍 lokasi {o.location.get('latitude')}, {o.location.get('longitude')}"
        elif o.photo:
            body = f"🖼  foto{': ' + o.text if o.text else ''}"
        else:
            body = to_plain(o.text or "")
        self.print(f"\n[{where}] {tag}:\n{body}")
        choices = [b for b in o.buttons]
        if choices:
            self.last_buttons[o.chat_id] = (o.message_id, choices)
            for i, (label, data) in enumerate(choices, 1):
                self.print(f"   [{i}] {label}" + ("" if data else "  (tautan)"))

    def prompt(self) -> str:
        return f"{self.chat_name(self.chat)} > "

    def user(self) -> int:
        return WARGA if self.role == "warga" else PETUGAS

    def handle(self, line: str) -> bool:
        """Returns False when the user wants to leave."""
        line = line.strip()
        if not line:
            return True
        if line in ("/keluar", "/exit", "/quit"):
            return False
        if line in ("/bantuan_sandbox", "/?"):
            self.print(HELP)
        elif line.startswith("/sebagai"):
            who = line.split(maxsplit=1)[1].strip().lower() if " " in line else ""
            if who == "warga":
                self.role, self.chat = "warga", WARGA
            elif who == "petugas":
                self.role, self.chat = "petugas", GROUP
            else:
                self.print("Pilihan: /sebagai warga atau /sebagai petugas")
                return True
            self.print(f"Sekarang Anda {self.role}, di {self.chat_name(self.chat)}.")
        elif line == "/pribadi" and self.role == "petugas":
            self.chat = PETUGAS
            self.print("Pindah ke chat pribadi petugas dengan bot.")
        elif line == "/grup" and self.role == "petugas":
            self.chat = GROUP
            self.print("Pindah ke grup Trantib.")
        elif line.isdigit():
            found = self.last_buttons.get(self.chat)
            index = int(line) - 1
            if found is None or not 0 <= index < len(found[1]):
                self.print("Tidak ada tombol dengan nomor itu di chat ini.")
            elif found[1][index][1] is None:
                self.print("Itu tombol tautan; di sandbox, ketik perintahnya langsung.")
            else:
                self.emu.press(self.user(), found[0], found[1][index][1] or "", chat=self.chat)
        elif line.startswith("/foto"):
            caption = line[len("/foto") :].strip() or None
            self.emu.send_photo(self.user(), PHOTO, caption=caption, chat=self.chat)
        elif line.startswith("/lokasi"):
            parts = line.split()
            try:
                lat, lon = float(parts[1]), float(parts[2])
            except (IndexError, ValueError):
                lat, lon = -8.0667, 113.7167  # Jelbuk
            self.emu.send_location(self.user(), lat, lon, chat=self.chat)
        elif line == "/stiker":
            self.emu.send_sticker(self.user(), chat=self.chat)
        else:
            self.emu.send_text(self.user(), line, chat=self.chat)
        return True


def seed(service: Service) -> None:
    now = datetime.now(UTC)
    with service.db.transaction() as s:
        if people.officer_by_telegram(s, PETUGAS) is None:
            people.add_officer(s, PETUGAS, "Petugas Sandbox", "admin", now)
        people.set_setting(s, "trantib_group", str(GROUP), now)


async def run_sandbox(settings: Settings, script: Path | None = None) -> int:
    settings = sandbox_settings(settings)
    async with BotApiEmulator(token=TOKEN, bot_username="sigap_sandbox_bot") as emu:
        emu.user(WARGA, "Siti", "siti_warga")
        emu.user(PETUGAS, "Budi", "budi_trantib")
        emu.group(GROUP, "Trantib Jelbuk")
        service = Service(settings, token=TOKEN, base_url=emu.base_url, base_file_url=emu.base_file_url)
        seed(service)
        await service.start()
        term = Terminal(emu)
        term.print(f"SIGAP sandbox, {service.office.name}. Data: {settings.data_dir}")
        term.print(HELP)
        lines = script.read_text(encoding="utf-8").splitlines() if script else None
        try:
            while True:
                if lines is not None:
                    if not lines:
                        break
                    line = lines.pop(0)
                    term.print(f"\n{term.prompt()}{line}")
                else:
                    printer = asyncio.create_task(_keep_showing(term))
                    try:
                        read = await asyncio.to_thread(_read_line, term.prompt())
                    finally:
                        printer.cancel()
                    if read is None:
                        break
                    line = read
                if not term.handle(line):
                    break
                with contextlib.suppress(TimeoutError):
                    await emu.wait_idle(timeout=5.0, quiet=0.3)
                term.show_new()
        finally:
            term.show_new()
            await service.stop()
    return 0


async def _keep_showing(term: Terminal) -> None:
    while True:
        await asyncio.sleep(0.3)
        term.show_new()


def _read_line(prompt: str) -> str | None:
    try:
        return input(prompt)
    except EOFError:
        return None
