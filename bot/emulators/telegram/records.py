# Records the emulator keeps of what happened: read by tests, the benchmark and the sandbox.
#
# All are plain dataclasses; the frozen ones are snapshots that later requests never change.
from __future__ import annotations

from dataclasses import dataclass

from bot.emulators.telegram.limits import JSONDict
from bot.emulators.telegram.markup import buttons


@dataclass(frozen=True, slots=True)
class Outgoing:
    """One message the bot sent, edited or deleted, as seen by the emulator.

    `text` is what the user would see: the message text or caption after `parse_mode` was
    applied (markup removed, surrounding whitespace trimmed). `raw_text` is what the bot sent.
    `reply_markup` is the markup exactly as sent (inline keyboard, reply keyboard, removal or
    force-reply); the stored message only keeps inline keyboards, as Telegram does.
    """

    seq: int
    method: str
    chat_id: int
    message_id: int
    text: str | None
    raw_text: str | None
    parse_mode: str | None
    reply_markup: JSONDict | None
    photo: str | None
    location: JSONDict | None
    media: JSONDict | None
    media_group_id: str | None
    message: JSONDict
    params: JSONDict
    at: float

    @property
    def is_edit(self) -> bool:
        return self.method.startswith("edit")

    @property
    def buttons(self) -> list[tuple[str, str | None]]:
        return buttons(self.reply_markup)


@dataclass(frozen=True, slots=True)
class AnsweredCallback:
    """An answerCallbackQuery call, joined with the button press it answered."""

    callback_query_id: str
    data: str | None
    chat_id: int | None
    message_id: int | None
    text: str | None
    show_alert: bool
    url: str | None
    cache_time: int
    at: float


@dataclass(frozen=True, slots=True)
class ApiCall:
    """One HTTP call to the Bot API (for benchmarks and debugging)."""

    method: str
    status: int
    started: float
    duration: float


@dataclass(slots=True)
class StoredFile:
    """A file known to the emulator, uploaded by either side."""

    file_id: str
    file_unique_id: str
    kind: str
    data: bytes
    file_path: str
    file_name: str | None = None
    mime_type: str | None = None


@dataclass(frozen=True, slots=True)
class _Upload:
    """A multipart file part of a request."""

    filename: str | None
    content_type: str | None
    data: bytes


@dataclass(frozen=True, slots=True)
class _Fault:
    status: int
    description: str
    retry_after: int | None
    drop: bool = False
    after_processing: bool = False
