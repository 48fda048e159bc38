# What every channel translates to and from: events in, replies out.
# Invariant: nothing here knows about Telegram, WhatsApp or the terminal.
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

EventKind = Literal["text", "command", "choice", "photo", "location", "unsupported"]


@dataclass(frozen=True)
class Event:
    kind: EventKind
    text: str = ""
    command: str = ""  # without the slash, lower case
    args: str = ""
    data: str = ""  # raw choice data, as the channel received it
    photo_path: str | None = None
    photo_size: int = 0
    photo_too_large: bool = False
    latitude: float | None = None
    longitude: float | None = None
    unsupported: str = ""  # sticker, voice, video, document, ...


@dataclass(frozen=True)
class Choice:
    label: str
    value: str = ""
    url: str | None = None  # a link button instead of a choice


@dataclass
class Caller:
    channel: str
    chat_id: str
    user_id: str
    display_name: str | None
    chat_type: str  # "private" or "group"
    # Data of the pressed button's message, when the event is a choice (to edit it in place).
    message_id: int | None = None
    extra: dict[str, str] = field(default_factory=dict)
    # The kecamatan whose own Telegram bot the update came through; None: the shared bot
    # (bot/channels/telegram_bots.py). Such an update belongs to that kecamatan, no picker.
    bot: str | None = None

    @property
    def private(self) -> bool:
        return self.chat_type == "private"

    @property
    def state_channel(self) -> str:
        """The channel a dialog state is kept under: per bot, since one Telegram user has
        the same chat id with every bot, and a dialog with one bot is not one with another."""
        return f"{self.channel}:{self.bot}" if self.bot else self.channel


_KIND_NAMES = {
    "sticker": "stiker",
    "voice": "pesan suara",
    "video": "video",
    "video_note": "video",
    "audio": "audio",
    "document": "dokumen",
    "animation": "animasi",
    "contact": "kontak",
    "photo": "foto",
    "location": "lokasi",
    "text": "teks",
    "choice": "tombol",
}


def kind_name(kind: str, unknown: str = "jenis pesan ini") -> str:
    """A kind of message as a resident would call it, for "this step does not take ..."."""
    return _KIND_NAMES.get(kind, unknown)
