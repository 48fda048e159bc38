# `sigap sandbox`: the real bot (same Service, database and scheduler) against the Bot API
# emulator on loopback, with a terminal chat. You type as a resident; `/sebagai petugas`
# makes you an officer in the Trantib group; buttons show as numbered choices.
from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import secrets
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from bot.app.service import Service
from bot.channels import telegram_bots
from bot.config.office import load_office
from bot.config.settings import Settings, WhatsAppSettings
from bot.emulators.telegram import BotApiEmulator, Outgoing
from bot.emulators.whatsapp import GraphApiEmulator, SandboxUser
from bot.jobs.offices import served_offices
from bot.texts import to_plain
from storage import inbox, outbox, people
from storage.db import sqlite_url

TOKEN = "100200300:SANDBOX-token-not-secret"
WARGA = 1001
PETUGAS = 2001
GROUP = -1001234567890
WA_WARGA = "6281234567001"
BOT_SHARED = "bersama"  # the shared bot's name at /bot
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
  /sebagai wa        bicara sebagai warga lewat WhatsApp (webhook sungguhan, API tiruan)
  /pribadi, /grup    petugas: pindah ke chat pribadi / grup
  /bot NAMA          bicara dengan bot lain (bila ada kecamatan dengan bot sendiri:
                     /bot bersama, /bot arjasa, ...)
  1, 2, ...          tekan tombol bernomor pada pesan terakhir yang bertombol
  35 tahun           angka yang bukan nomor tombol (mis. usia di survei): tambahkan satuannya
  /survei            survei kepuasan (SKM); petugas: /skm_kertas input formulir kertas, /ikm
  /foto [keterangan] kirim foto; /lokasi LAT LON kirim lokasi; /stiker kirim stiker
  baris \\          akhiri baris dengan \\ untuk pesan beberapa baris (mis. catatan petugas);
                   \\n di dalam teks juga menjadi baris baru
  /keluar            selesai
Selain itu, apa pun yang Anda ketik dikirim ke bot (mulai dengan /start)."""


def sandbox_settings(settings: Settings) -> Settings:
    """Keep sandbox data apart from a real register in the same data directory."""
    data_dir = settings.data_dir / "sandbox"
    default_db = sqlite_url(settings.data_dir)
    db_url = settings.database_url if settings.database_url != default_db else sqlite_url(data_dir)
    return dataclasses.replace(
        settings,
        data_dir=data_dir,
        database_url=db_url,
        telegram_poll_timeout=10,
        # The sandbox's own web server, on a free loopback port, for the WhatsApp webhook.
        web=dataclasses.replace(settings.web, host="127.0.0.1", port=0, telegram_mode="polling"),
    )


def with_whatsapp(settings: Settings, emu: GraphApiEmulator, verify_token: str) -> Settings:
    wa = WhatsAppSettings(
        token=emu.token,
        phone_id=emu.phone_id,
        app_secret=emu.app_secret,
        verify_token=verify_token,
        api_url=emu.url,
    )
    return dataclasses.replace(settings, whatsapp=wa)


class Terminal:
    def __init__(self, emu: BotApiEmulator, out=None, bots: dict[str, tuple[BotApiEmulator, int]] | None = None) -> None:  # type: ignore[no-untyped-def]
        self.emu = emu
        # sys.stdout as it is now, not as it was at import (tests capture and close it).
        self.out = out if out is not None else sys.stdout
        # Every bot you can talk to, by name, with its Trantib group: the shared one, and
        # each kecamatan's own (bot/channels/telegram_bots.py); `emu` is the one you talk to.
        self.bots: dict[str, tuple[BotApiEmulator, int]] = {BOT_SHARED: (emu, GROUP), **(bots or {})}
        self.bot = BOT_SHARED
        self.group = GROUP
        self.shown_by: dict[str, int] = {}
        self.role = "warga"
        self.chat = WARGA
        self.buttons_by_bot: dict[str, dict[int, tuple[int, list[tuple[str, str | None]]]]] = {
            name: {} for name in self.bots}
        self.last_buttons = self.buttons_by_bot[BOT_SHARED]
        self.wa: SandboxUser | None = None
        self.pending: list[asyncio.Task[str | None]] = []
        # Lines ended with "\\" so far: one message of several lines (an officer's note).
        self.continued: list[str] = []

    def print(self, text: str) -> None:
        print(text, file=self.out, flush=True)

    def chat_name(self, chat_id: int) -> str:
        names = {WARGA: "Warga", PETUGAS: "Petugas (pribadi)", **{g: "Grup Trantib" for _, g in self.bots.values()}}
        return names.get(chat_id, str(chat_id))

    def show_new(self) -> None:
        for name, (emu, _group) in self.bots.items():
            sent = emu.sent
            for o in sent[self.shown_by.get(name, 0):]:
                self.show(o, name)
            self.shown_by[name] = len(sent)
        if self.wa is not None:
            for line in self.wa.new_lines(lambda text: text):
                self.print(line)

    def show(self, o: Outgoing, bot: str = BOT_SHARED) -> None:
        if o.method in ("deleteMessage",):
            return
        last_buttons = self.buttons_by_bot[bot]
        if o.method == "editMessageReplyMarkup" and not o.buttons:
            # Spent buttons taken off (the note preview): nothing new to read, nothing to press.
            last = last_buttons.get(o.chat_id)
            if last is not None and last[0] == o.message_id:
                del last_buttons[o.chat_id]
            return
        where = self.chat_name(o.chat_id)
        if len(self.bots) > 1:
            where += f", bot {bot}"
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
            last_buttons[o.chat_id] = (o.message_id, choices)
            for i, (label, data) in enumerate(choices, 1):
                self.print(f"   [{i}] {label}" + ("" if data else "  (tautan)"))

    def prompt(self) -> str:
        if self.role == "wa":
            return "WhatsApp > "
        return f"{self.chat_name(self.chat)}{f' (bot {self.bot})' if len(self.bots) > 1 else ''} > "

    def user(self) -> int:
        return WARGA if self.role == "warga" else PETUGAS

    def handle(self, line: str) -> bool:
        """Returns False when the user wants to leave."""
        raw = line.rstrip()
        if raw.endswith("\\"):
            self.continued.append(raw[:-1])
            return True
        if self.continued:
            self._send_text("\n".join([*self.continued, raw]).strip())
            self.continued = []
            return True
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
                self.role, self.chat = "petugas", self.group
            elif who in ("wa", "whatsapp") and self.wa is not None:
                self.role = "wa"
                self.print("Sekarang Anda warga di WhatsApp. Ketik apa saja (mis. Halo).")
                return True
            else:
                self.print("Pilihan: /sebagai warga, /sebagai petugas atau /sebagai wa")
                return True
            self.print(f"Sekarang Anda {self.role}, di {self.chat_name(self.chat)}.")
        elif line.startswith("/bot"):
            name = line[len("/bot"):].strip().lower()
            if name not in self.bots:
                self.print("Pilihan: " + ", ".join(f"/bot {n}" for n in self.bots))
                return True
            self.bot = name
            self.emu, self.group = self.bots[name]
            self.last_buttons = self.buttons_by_bot[name]
            if self.chat < 0:
                self.chat = self.group
            if self.role == "wa":
                self.role = "warga"
            self.print(f"Sekarang Anda bicara dengan bot {name}, di {self.chat_name(self.chat)}.")
        elif self.role == "wa" and self.wa is not None:
            self.pending.append(asyncio.ensure_future(self.wa.act(line)))
        elif line == "/pribadi" and self.role == "petugas":
            self.chat = PETUGAS
            self.print("Pindah ke chat pribadi petugas dengan bot.")
        elif line == "/grup" and self.role == "petugas":
            self.chat = self.group
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
            self._send_text(line.replace("\\n", "\n"))
        return True

    def _send_text(self, text: str) -> None:
        if self.role == "wa" and self.wa is not None:
            self.pending.append(asyncio.ensure_future(self.wa.act(text)))
        else:
            self.emu.send_text(self.user(), text, chat=self.chat)


def seed(service: Service, groups: dict[str, int] | None = None) -> None:
    """The sandbox officer and Trantib group; `groups`: each kecamatan bot's own group, in
    its kecamatan (one group of two kecamatan would be refused as ambiguous)."""
    now = datetime.now(UTC)
    every: dict[str | None, int] = {None: GROUP}
    every.update(groups or {})
    for kode, group in every.items():
        with service.db.transaction(kode) as s:
            if people.officer_by_telegram(s, PETUGAS) is None:
                people.add_officer(s, PETUGAS, "Petugas Sandbox", "admin", now)
            people.set_setting(s, "trantib_group", str(group), now)


def add_kecamatan_bots(emu: BotApiEmulator, settings: Settings) -> tuple[Settings, dict[str, tuple[BotApiEmulator, int]],
                                                                         dict[str, int]]:
    """Each kecamatan whose office file names a token variable gets its own emulated bot on
    the same emulator, with a made-up token put in that variable: the sandbox needs no real
    token, for any bot. Returns the settings with the tokens, the Terminal's bots by name and
    each kecamatan's group."""
    offices = served_offices(settings, load_office(settings.office_file))
    values = dict(settings.telegram_token_values)
    bots: dict[str, tuple[BotApiEmulator, int]] = {}
    groups: dict[str, int] = {}
    for i, (kode, variable) in enumerate(telegram_bots.token_variables(offices).items(), 1):
        token = f"{100200300 + i}:SANDBOX-{kode.replace('.', '')}-not-secret"
        name = offices[kode].kecamatan.lower().replace(" ", "_")
        bot = emu.add_bot(token, f"sigap_sandbox_{name}_bot")
        bot.user(WARGA, "Siti", "siti_warga")
        bot.user(PETUGAS, "Budi", "budi_trantib")
        group = GROUP - i
        bot.group(group, f"Trantib {offices[kode].kecamatan}")
        values[variable] = token
        bots[name] = (bot, group)
        groups[kode] = group
    return dataclasses.replace(settings, telegram_token_values=values), bots, groups


async def run_sandbox(settings: Settings, script: Path | None = None) -> int:
    settings = sandbox_settings(settings)
    # The register in data/sandbox outlives the emulator, and update ids already in its inbox
    # would be taken for repeats: start from the clock in milliseconds, which no earlier
    # session's ids (at most one per keystroke) can have reached.
    first_update_id = int(time.time() * 1000)
    async with BotApiEmulator(token=TOKEN, bot_username="sigap_sandbox_bot", first_update_id=first_update_id) as emu:
        emu.user(WARGA, "Siti", "siti_warga")
        emu.user(PETUGAS, "Budi", "budi_trantib")
        emu.group(GROUP, "Trantib Jelbuk")
        settings, bots, groups = add_kecamatan_bots(emu, settings)
        wa_emu = GraphApiEmulator(token=secrets.token_urlsafe(24), app_secret=secrets.token_urlsafe(24))
        await wa_emu.start()
        wa_emu.user(WA_WARGA, "Sari")
        verify = secrets.token_urlsafe(16)
        settings = with_whatsapp(settings, wa_emu, verify)
        service = Service(settings, token=TOKEN, base_url=emu.base_url, base_file_url=emu.base_file_url)
        seed(service, groups)
        await service.start()
        assert service.web is not None
        wa_emu.connect(service.web.url + settings.web.whatsapp_path, verify)
        term = Terminal(emu, bots=bots)
        term.wa = SandboxUser(wa_emu, WA_WARGA, PHOTO)
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
                for notice in await asyncio.gather(*term.pending):
                    if notice:
                        term.print(notice)
                term.pending.clear()
                for bot in (emu, *emu.other_bots):
                    with contextlib.suppress(TimeoutError):
                        await bot.wait_idle(timeout=5.0, quiet=0.3)
                await _settle(service)
                term.show_new()
        finally:
            term.show_new()
            await service.stop()
            await wa_emu.stop()
    return 0


async def _settle(service: Service, timeout: float = 15.0) -> None:
    """Until the WhatsApp messages received are handled and their answers sent."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    # The state lives in the register, not in an event this loop could wait on.
    while loop.time() < deadline and await asyncio.to_thread(_busy, service):  # noqa: ASYNC110
        await asyncio.sleep(0.05)


def _busy(service: Service) -> bool:
    now = datetime.now(UTC)
    with service.db.reading() as s:
        return bool(inbox.pending(s, "whatsapp", limit=1) or outbox.due(s, "whatsapp", now, limit=1))


async def _keep_showing(term: Terminal) -> None:
    while True:
        await asyncio.sleep(0.3)
        term.show_new()


def _read_line(prompt: str) -> str | None:
    try:
        return input(prompt)
    except EOFError:
        return None
