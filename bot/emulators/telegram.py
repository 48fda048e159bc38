# Emulator of the Telegram Bot API, served over HTTP on loopback.
#
# Telegram is never reachable from the machines SIGAP is developed and benchmarked on, so the
# test suite, the benchmark and `sigap sandbox` run the real python-telegram-bot (PTB) stack
# against this server instead. It speaks the same wire protocol as api.telegram.org (the
# `{"ok": ..., "result": ...}` envelope, JSON / urlencoded / multipart request bodies, HTTP error
# codes that PTB maps onto its exception classes), so no bot code has to know it is emulated.
#
# Invariants (the tests and the bot's at-least-once update handling rely on them):
#   * update_id values are strictly increasing and never reused. An update stays queued until
#     a getUpdates call carries an offset greater than its update_id; only then is it dropped,
#     for good. Returning an update does NOT confirm it, exactly like the real Bot API, so a
#     bot that dies mid-batch gets the unconfirmed rest again on its next poll.
#   * message_id values are unique per chat and shared by both directions of a chat.
#   * Every message the bot sends or edits (and every deletion) is appended to `sent` as an
#     immutable `Outgoing` record, in the order the requests were processed. The stored
#     message state (`messages_in`, `history`) always reflects edits and deletions.
#   * A request answered with an error (injected fault, validation error, blocked chat) sends,
#     edits and deletes nothing; at most a file uploaded with a rejected sendMediaGroup stays
#     stored, unreferenced. drop_next(after_processing=True) is the one deliberate exception:
#     the call takes effect and only its answer is lost.
#   * The server runs in the caller's asyncio loop. Every mutation happens under one lock, and
#     request handlers never await while holding it, so the control API may also be called
#     from another thread (wake-ups are then marshalled into the loop).
#   * Only one getUpdates call is served at a time: a newer call terminates an older waiting
#     one with 409 Conflict, as the real API does when two bot instances poll.
#
# Deliberate simplifications: while a webhook is set, updates are POSTed to it one at a time
# (getUpdates answers 409 meanwhile, as on Telegram) and retried every 0.2 s without backoff;
# photos are not resized (every PhotoSize of a photo downloads as the uploaded bytes); URLs
# given as files are not fetched; inline mode, payments, games and business connections are
# not emulated.
from __future__ import annotations

import asyncio
import contextlib
import copy
import hashlib
import json
import logging
import re
import socket
import struct
import threading
import time
from collections import Counter, deque
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Final

from aiohttp import web

__all__ = [
    "AnsweredCallback",
    "ApiCall",
    "BotApiEmulator",
    "Outgoing",
    "StoredFile",
    "buttons",
    "parse_formatted_text",
]

logger = logging.getLogger(__name__)

JSONDict = dict[str, Any]

# Limits enforced by the real Bot API that bots commonly trip over.
MAX_TEXT_LENGTH: Final = 4096
MAX_CAPTION_LENGTH: Final = 1024
MAX_CALLBACK_DATA_BYTES: Final = 64
MAX_DOWNLOAD_BYTES: Final = 20 * 1024 * 1024
MAX_UPLOAD_BYTES: Final = 50 * 1024 * 1024

# Update types delivered when a bot never set allowed_updates (Bot API default).
DEFAULT_ALLOWED_UPDATES: Final = frozenset(
    {
        "message",
        "edited_message",
        "channel_post",
        "edited_channel_post",
        "business_connection",
        "business_message",
        "edited_business_message",
        "deleted_business_messages",
        "inline_query",
        "chosen_inline_result",
        "callback_query",
        "shipping_query",
        "pre_checkout_query",
        "purchased_paid_media",
        "poll",
        "poll_answer",
        "my_chat_member",
        "chat_join_request",
        "chat_boost",
        "removed_chat_boost",
    }
)

# PTB sends every parameter as a form field: strings verbatim, everything else json.dumps'ed
# (see telegram.request.RequestParameter.json_value). A field is therefore JSON-decoded unless
# the Bot API declares it a string, otherwise a text like "123" or "true" would change type.
_STRING_PARAMS: Final = frozenset(
    {
        "action",
        "address",
        "animation",
        "audio",
        "business_connection_id",
        "callback_query_id",
        "caption",
        "description",
        "document",
        "emoji",
        "file_id",
        "first_name",
        "foursquare_id",
        "foursquare_type",
        "google_place_id",
        "google_place_type",
        "inline_message_id",
        "ip_address",
        "language_code",
        "last_name",
        "message_effect_id",
        "name",
        "parse_mode",
        "phone_number",
        "photo",
        "question",
        "secret_token",
        "short_description",
        "sticker",
        "text",
        "thumbnail",
        "title",
        "url",
        "vcard",
        "video",
        "video_note",
        "voice",
    }
)

_CHAT_ACTIONS: Final = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)

# Message fields that carry content (copied by forwardMessage / copyMessage).
_CONTENT_KEYS: Final = (
    "text",
    "entities",
    "link_preview_options",
    "photo",
    "document",
    "video",
    "audio",
    "voice",
    "animation",
    "sticker",
    "video_note",
    "caption",
    "caption_entities",
    "location",
    "venue",
    "contact",
)

_MEDIA_KINDS: Final = ("photo", "document", "video", "audio", "voice", "animation", "sticker")

# (file_id prefix, directory of file_path, default extension, default MIME type)
_FILE_KINDS: Final[dict[str, tuple[str, str, str, str | None]]] = {
    "photo": ("AgAC", "photos", ".jpg", None),
    "document": ("BQAC", "documents", "", "application/octet-stream"),
    "video": ("BAAC", "videos", ".mp4", "video/mp4"),
    "audio": ("CQAC", "music", ".mp3", "audio/mpeg"),
    "voice": ("AwAC", "voice", ".oga", "audio/ogg"),
    "animation": ("CgAC", "animations", ".mp4", "video/mp4"),
    "sticker": ("CAAC", "stickers", ".webp", None),
    "video_note": ("DQAC", "video_notes", ".mp4", None),
}

_COMMAND_RE: Final = re.compile(r"(?<!\S)/[A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9_]{3,32})?")
_BOT_COMMAND_NAME_RE: Final = re.compile(r"^[a-z0-9_]{1,32}$")


# --------------------------------------------------------------------------------------------
# Records exposed to tests
# --------------------------------------------------------------------------------------------


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


def buttons(reply_markup: Mapping[str, Any] | None) -> list[tuple[str, str | None]]:
    """Flatten a keyboard into (text, callback_data) pairs, row by row.

    Works for inline keyboards (callback_data is None for URL and other non-callback buttons)
    and reply keyboards (callback_data always None).
    """
    if not reply_markup:
        return []
    rows = reply_markup.get("inline_keyboard") or reply_markup.get("keyboard") or []
    flat: list[tuple[str, str | None]] = []
    for row in rows:
        for button in row:
            if isinstance(button, str):
                flat.append((button, None))
            else:
                flat.append((str(button.get("text", "")), button.get("callback_data")))
    return flat


# --------------------------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------------------------


class _ApiError(Exception):
    """A Bot API error answer; `description` is the full text Telegram would send."""

    def __init__(self, status: int, description: str, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.retry_after = retry_after


def _bad_request(detail: str) -> _ApiError:
    return _ApiError(400, f"Bad Request: {detail}")


class _EntityParseError(Exception):
    pass


# --------------------------------------------------------------------------------------------
# Formatted text (parse_mode) - a port of TDLib's parsers, which is what the Bot API runs
# --------------------------------------------------------------------------------------------


def _u16len(text: str) -> int:
    """Length in UTF-16 code units: the unit of Telegram entity offsets."""
    return len(text) + sum(1 for ch in text if ord(ch) > 0xFFFF)


def _byte_offset(text: str, index: int) -> int:
    """UTF-8 byte offset of text[index], which is how Telegram reports parse errors."""
    return len(text[:index].encode("utf-8"))


def parse_formatted_text(
    text: str, parse_mode: str | None, entities: list[JSONDict] | None = None
) -> tuple[str, list[JSONDict]]:
    """Apply a Bot API parse_mode and return (plain text, entities), as Telegram stores them.

    Raises ValueError with Telegram's own message (e.g. `Character '.' is reserved and must be
    escaped with the preceding '\\'`) when Telegram would reject the text. Explicit
    `entities` are used as given when there is no parse_mode. The result is trimmed of
    surrounding whitespace, as Telegram does, with entity offsets adjusted.
    """
    mode = (parse_mode or "").strip().lower()
    try:
        if not mode:
            plain, found = text, [dict(e) for e in entities or []]
        elif mode == "html":
            plain, found = _parse_html(text)
        elif mode == "markdownv2":
            plain, found = _parse_markdown_v2(text)
        elif mode == "markdown":
            plain, found = _parse_markdown(text)
        else:
            raise ValueError("unsupported parse_mode")
    except _EntityParseError as exc:
        raise ValueError(f"can't parse entities: {exc}") from exc
    return _trim(plain, found)


def _trim(text: str, entities: list[JSONDict]) -> tuple[str, list[JSONDict]]:
    stripped_left = text.lstrip()
    shift = _u16len(text) - _u16len(stripped_left)
    result = stripped_left.rstrip()
    end = _u16len(result)
    kept: list[JSONDict] = []
    for entity in entities:
        start = max(int(entity["offset"]) - shift, 0)
        stop = min(int(entity["offset"]) + int(entity["length"]) - shift, end)
        if stop > start:
            kept.append({**entity, "offset": start, "length": stop - start})
    kept.sort(key=lambda e: (e["offset"], -e["length"]))
    return result, kept


def _entity(kind: str, offset: int, length: int, argument: str | None = None) -> JSONDict:
    entity: JSONDict = {"type": kind, "offset": offset, "length": length}
    if kind == "text_link":
        entity["url"] = argument
    elif kind == "pre" and argument:
        entity["language"] = argument
    elif kind == "custom_emoji":
        entity["custom_emoji_id"] = argument
    return entity


_HTML_TAGS: Final = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "span": "spoiler",
    "tg-spoiler": "spoiler",
    "a": "text_link",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
}
_HTML_NAMED_ENTITIES: Final = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_HTML_ENTITY_RE: Final = re.compile(r"&(?:#(\d{1,7})|#[xX]([0-9a-fA-F]{1,6})|([a-zA-Z]+));")


def _decode_html_entity(text: str, pos: int) -> tuple[str, int] | None:
    """Decode the entity at text[pos] ('&'); None when Telegram would keep a literal '&'."""
    match = _HTML_ENTITY_RE.match(text, pos)
    if not match:
        return None
    dec, hexa, name = match.groups()
    if name is not None:
        char = _HTML_NAMED_ENTITIES.get(name)
        return (char, match.end()) if char else None
    code = int(dec) if dec is not None else int(hexa, 16)
    if code == 0 or code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
        return None
    return chr(code), match.end()


def _parse_html(text: str) -> tuple[str, list[JSONDict]]:
    out: list[str] = []
    u16 = 0
    # stack entries: (tag name, utf-16 offset where the entity starts, argument)
    stack: list[tuple[str, int, str | None]] = []
    entities: list[JSONDict] = []
    n = len(text)
    i = 0
    while i < n:
        ch = text[i]
        if ch == "&":
            decoded = _decode_html_entity(text, i)
            if decoded is not None:
                out.append(decoded[0])
                u16 += _u16len(decoded[0])
                i = decoded[1]
                continue
        if ch != "<":
            out.append(ch)
            u16 += _u16len(ch)
            i += 1
            continue
        begin = i
        i += 1
        if i < n and text[i] == "/":
            if not stack:
                raise _EntityParseError(
                    f"Unexpected end tag at byte offset {_byte_offset(text, begin)}"
                )
            j = i + 1
            while j < n and not text[j].isspace() and text[j] != ">":
                j += 1
            end_name = text[i + 1 : j].lower()
            while j < n and text[j].isspace():
                j += 1
            if j >= n or text[j] != ">":
                raise _EntityParseError(
                    f"Unclosed end tag at byte offset {_byte_offset(text, begin)}"
                )
            tag, start, argument = stack.pop()
            if end_name and end_name != tag:
                raise _EntityParseError(
                    f"Unmatched end tag at byte offset {_byte_offset(text, begin)}, "
                    f'expected "</{tag}>", found "</{end_name}>"'
                )
            i = j + 1
            if u16 > start:
                _close_html_entity(entities, tag, start, u16 - start, argument, out, text)
            continue
        j = i
        while j < n and not text[j].isspace() and text[j] != ">":
            j += 1
        if j >= n:
            raise _EntityParseError(
                f"Unclosed start tag at byte offset {_byte_offset(text, begin)}"
            )
        tag = text[i:j].lower()
        if tag not in _HTML_TAGS:
            raise _EntityParseError(
                f'Unsupported start tag "{tag}" at byte offset {_byte_offset(text, begin)}'
            )
        argument, i = _parse_html_attributes(text, j, tag, begin)
        if tag == "span" and argument != "spoiler":
            raise _EntityParseError(
                f'Tag "span" must have class "tg-spoiler" at byte offset {_byte_offset(text, begin)}'
            )
        stack.append((tag, u16, argument))
    if stack:
        raise _EntityParseError(f'Can\'t find end tag corresponding to start tag "{stack[-1][0]}"')
    for entity in entities:
        # a <code class="language-x"> outside <pre> carries no language on Telegram
        entity.pop("_language", None)
    return "".join(out), entities


def _parse_html_attributes(text: str, i: int, tag: str, begin: int) -> tuple[str | None, int]:
    """Parse attributes from text[i] up to '>'; return (entity argument, index after '>')."""
    n = len(text)
    argument: str | None = None
    where = _byte_offset(text, begin)
    while True:
        while i < n and text[i].isspace():
            i += 1
        if i >= n:
            raise _EntityParseError(f'Unclosed start tag "{tag}" at byte offset {where}')
        if text[i] == ">":
            return argument, i + 1
        name_start = i
        while i < n and not text[i].isspace() and text[i] not in "=>":
            i += 1
        name = text[name_start:i].lower()
        if not name:
            raise _EntityParseError(
                f'Empty attribute name in the tag "{tag}" at byte offset {where}'
            )
        while i < n and text[i].isspace():
            i += 1
        if i >= n or text[i] != "=":
            if tag == "blockquote" and name == "expandable":
                argument = "expandable"
                continue
            raise _EntityParseError(
                f'Expected equal sign in declaration of an attribute of the tag "{tag}" '
                f"at byte offset {where}"
            )
        i += 1
        while i < n and text[i].isspace():
            i += 1
        if i >= n:
            raise _EntityParseError(f'Unclosed start tag "{tag}" at byte offset {where}')
        value_chars: list[str] = []
        if text[i] in "'\"":
            quote = text[i]
            i += 1
            while i < n and text[i] != quote:
                decoded = _decode_html_entity(text, i) if text[i] == "&" else None
                if decoded is not None:
                    value_chars.append(decoded[0])
                    i = decoded[1]
                else:
                    value_chars.append(text[i])
                    i += 1
            if i < n:
                i += 1
            value = "".join(value_chars)
        else:
            token_start = i
            while i < n and (text[i].isalnum() or text[i] in ".-"):
                i += 1
            value = text[token_start:i].lower()
            if i < n and not text[i].isspace() and text[i] != ">":
                raise _EntityParseError(
                    f"Unexpected end of name token at byte offset {_byte_offset(text, token_start)}"
                )
        if tag == "a" and name == "href":
            argument = value
        elif tag == "code" and name == "class" and value.startswith("language-"):
            argument = value[len("language-") :]
        elif tag == "span" and name == "class" and value.startswith("tg-"):
            argument = value[len("tg-") :]
        elif tag == "tg-emoji" and name == "emoji-id":
            argument = value


def _close_html_entity(
    entities: list[JSONDict],
    tag: str,
    offset: int,
    length: int,
    argument: str | None,
    out: list[str],
    source: str,
) -> None:
    kind = _HTML_TAGS[tag]
    last = entities[-1] if entities else None
    same_range = last is not None and last["offset"] == offset and last["length"] == length
    if kind == "text_link":
        url = argument or _tail_of(out, length)
        if url:
            entities.append(_entity("text_link", offset, length, url))
    elif kind == "pre":
        # <pre><code class="language-x"> is one pre entity with a language
        if last is not None and same_range and last["type"] == "code":
            language = last.pop("_language", None)
            last["type"] = "pre"
            if language:
                last["language"] = language
        else:
            entities.append(_entity("pre", offset, length))
    elif kind == "code":
        if last is not None and same_range and last["type"] == "pre":
            if argument:
                last["language"] = argument
        else:
            entity = _entity("code", offset, length)
            if argument:
                entity["_language"] = argument
            entities.append(entity)
    elif kind == "blockquote":
        kind = "expandable_blockquote" if argument == "expandable" else "blockquote"
        entities.append(_entity(kind, offset, length))
    elif kind == "custom_emoji":
        if argument:
            entities.append(_entity("custom_emoji", offset, length, argument))
    else:
        entities.append(_entity(kind, offset, length))


def _tail_of(out: list[str], u16_length: int) -> str:
    """The last `u16_length` UTF-16 units of the text produced so far."""
    text = "".join(out)
    taken = 0
    index = len(text)
    while index > 0 and taken < u16_length:
        index -= 1
        taken += _u16len(text[index])
    return text[index:]


_MDV2_RESERVED: Final = "_*[]()~`>#+-=|{}.!"
_MD_TYPE_NAMES: Final = {
    "bold": "Bold",
    "italic": "Italic",
    "underline": "Underline",
    "strikethrough": "Strikethrough",
    "spoiler": "Spoiler",
    "code": "Code",
    "pre": "Pre",
    "text_link": "TextUrl",
    "custom_emoji": "CustomEmoji",
}


@dataclass(slots=True)
class _MdFrame:
    kind: str
    argument: str | None
    u16_offset: int
    source_index: int
    out_index: int


def _parse_markdown_v2(text: str) -> tuple[str, list[JSONDict]]:
    out: list[str] = []
    u16 = 0
    stack: list[_MdFrame] = []
    entities: list[JSONDict] = []
    quote_start: int | None = None
    n = len(text)

    def at(k: int) -> str:
        return text[k] if k < n else "\0"

    def reserved_error(k: int) -> _EntityParseError:
        return _EntityParseError(
            f"Character '{text[k]}' is reserved and must be escaped with the preceding '\\'"
        )

    i = 0
    while i < n:
        ch = text[i]
        in_code = bool(stack) and stack[-1].kind in ("code", "pre")
        at_line_start = i == 0 or text[i - 1] == "\n"
        if at_line_start and not in_code:
            if ch == ">":
                if quote_start is None:
                    quote_start = u16
                i += 1
                continue
            if quote_start is not None:
                # the quote ended with the previous line; its newline is not part of it
                if u16 - 1 > quote_start:
                    entities.append(_entity("blockquote", quote_start, u16 - 1 - quote_start))
                quote_start = None
        if ch == "\\" and 0 < ord(at(i + 1)) <= 126:
            out.append(text[i + 1])
            u16 += 1
            i += 2
            continue
        reserved = "`" if in_code else _MDV2_RESERVED
        if ch not in reserved:
            out.append(ch)
            u16 += _u16len(ch)
            i += 1
            continue
        is_end = False
        if stack:
            kind = stack[-1].kind
            is_end = (
                (kind == "bold" and ch == "*")
                or (kind == "italic" and ch == "_" and at(i + 1) != "_")
                or (kind == "code" and ch == "`")
                or (kind == "pre" and ch == "`" and at(i + 1) == "`" and at(i + 2) == "`")
                or (kind in ("text_link", "custom_emoji") and ch == "]")
                or (kind == "underline" and ch == "_" and at(i + 1) == "_")
                or (kind == "strikethrough" and ch == "~")
                or (kind == "spoiler" and ch == "|" and at(i + 1) == "|")
            )
        if not is_end:
            begin = i
            argument: str | None = None
            if ch == "_":
                if at(i + 1) == "_":
                    kind, i = "underline", i + 1
                else:
                    kind = "italic"
            elif ch == "*":
                kind = "bold"
            elif ch == "~":
                kind = "strikethrough"
            elif ch == "|":
                if at(i + 1) != "|":
                    raise reserved_error(i)
                kind, i = "spoiler", i + 1
            elif ch == "[":
                kind = "text_link"
            elif ch == "`":
                if at(i + 1) == "`" and at(i + 2) == "`":
                    kind, i = "pre", i + 3
                    language_end = i
                    while (
                        language_end < n
                        and not text[language_end].isspace()
                        and text[language_end] != "`"
                    ):
                        language_end += 1
                    if i != language_end and language_end < n and text[language_end] != "`":
                        argument, i = text[i:language_end], language_end
                    if at(i) in "\r\n":
                        i += 2 if at(i + 1) in "\r\n" and at(i) != at(i + 1) else 1
                    i -= 1
                else:
                    kind = "code"
            elif ch == "!":
                if at(i + 1) != "[":
                    raise reserved_error(i)
                kind, i = "custom_emoji", i + 1
            else:
                raise reserved_error(i)
            stack.append(_MdFrame(kind, argument, u16, begin, len(out)))
            i += 1
            continue
        frame = stack.pop()
        argument = frame.argument
        if frame.kind in ("underline", "spoiler"):
            i += 1
        elif frame.kind == "pre":
            i += 2
        elif frame.kind in ("text_link", "custom_emoji"):
            if at(i + 1) != "(":
                argument = "".join(out[frame.out_index :])
            else:
                i += 2
                url_begin = i
                url_chars: list[str] = []
                while i < n and text[i] != ")":
                    if text[i] == "\\" and 0 < ord(at(i + 1)) <= 126:
                        url_chars.append(text[i + 1])
                        i += 2
                        continue
                    url_chars.append(text[i])
                    i += 1
                if at(i) != ")":
                    raise _EntityParseError(
                        f"Can't find end of a URL at byte offset {_byte_offset(text, url_begin)}"
                    )
                argument = "".join(url_chars)
            if frame.kind == "custom_emoji":
                argument = argument.removeprefix("tg://emoji?id=")
        if u16 > frame.u16_offset:
            entities.append(_entity(frame.kind, frame.u16_offset, u16 - frame.u16_offset, argument))
        i += 1
    if stack:
        frame = stack[-1]
        raise _EntityParseError(
            f"Can't find end of {_MD_TYPE_NAMES[frame.kind]} entity at byte offset "
            f"{_byte_offset(text, frame.source_index)}"
        )
    if quote_start is not None and u16 > quote_start:
        entities.append(_entity("blockquote", quote_start, u16 - quote_start))
    return "".join(out), entities


def _parse_markdown(text: str) -> tuple[str, list[JSONDict]]:
    """Legacy `Markdown` parse mode: *bold*, _italic_, `code`, ```pre```, [text](url)."""
    out: list[str] = []
    u16 = 0
    entities: list[JSONDict] = []
    n = len(text)

    def at(k: int) -> str:
        return text[k] if k < n else "\0"

    i = 0
    while i < n:
        ch = text[i]
        if ch == "\\" and at(i + 1) in "_*`[":
            out.append(text[i + 1])
            u16 += 1
            i += 2
            continue
        if ch not in "_*`[":
            out.append(ch)
            u16 += _u16len(ch)
            i += 1
            continue
        begin = i
        end_char = "]" if ch == "[" else ch
        is_pre = False
        language: str | None = None
        i += 1
        if ch == "`" and at(i) == "`" and at(i + 1) == "`":
            i += 2
            is_pre = True
            language_end = i
            while (
                language_end < n and not text[language_end].isspace() and text[language_end] != "`"
            ):
                language_end += 1
            if i != language_end and language_end < n and text[language_end] != "`":
                language, i = text[i:language_end], language_end
            if at(i) in "\r\n":
                i += 2 if at(i + 1) in "\r\n" and at(i) != at(i + 1) else 1
        start = u16
        while i < n and (
            text[i] != end_char or (is_pre and not (at(i + 1) == "`" and at(i + 2) == "`"))
        ):
            out.append(text[i])
            u16 += _u16len(text[i])
            i += 1
        if i >= n:
            raise _EntityParseError(
                f"Can't find end of the entity starting at byte offset {_byte_offset(text, begin)}"
            )
        if u16 > start:
            length = u16 - start
            if ch == "_":
                entities.append(_entity("italic", start, length))
            elif ch == "*":
                entities.append(_entity("bold", start, length))
            elif ch == "[":
                if at(i + 1) != "(":
                    url = text[begin + 1 : i]
                else:
                    i += 2
                    url_chars: list[str] = []
                    while i < n and text[i] != ")":
                        url_chars.append(text[i])
                        i += 1
                    url = "".join(url_chars)
                if url:
                    entities.append(_entity("text_link", start, length, url))
            elif is_pre:
                entities.append(_entity("pre", start, length, language))
            else:
                entities.append(_entity("code", start, length))
        if is_pre:
            i += 2
        i += 1
    return "".join(out), entities


# --------------------------------------------------------------------------------------------
# Request parameters
# --------------------------------------------------------------------------------------------


class _Params:
    """Decoded parameters of one Bot API call, with Telegram-style validation errors."""

    __slots__ = ("values",)

    def __init__(self, values: dict[str, Any]) -> None:
        self.values = values

    def get(self, name: str, default: Any = None) -> Any:
        value = self.values.get(name)
        return default if value is None else value

    def has(self, name: str) -> bool:
        return self.values.get(name) is not None

    def integer(self, name: str, default: int | None = None) -> int | None:
        value = self.values.get(name)
        if value is None or value == "":
            return default
        if isinstance(value, bool):
            raise _bad_request(f"invalid {name} specified")
        if isinstance(value, int):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if isinstance(value, str):
            with contextlib.suppress(ValueError):
                return int(value.strip())
        raise _bad_request(f"invalid {name} specified")

    def required_int(self, name: str, missing: str | None = None) -> int:
        value = self.integer(name)
        if value is None:
            raise _bad_request(missing or f"{name} is empty")
        return value

    def number(self, name: str, default: float | None = None) -> float | None:
        value = self.values.get(name)
        if value is None or value == "":
            return default
        if isinstance(value, bool):
            raise _bad_request(f"invalid {name} specified")
        if isinstance(value, int | float):
            return float(value)
        if isinstance(value, str):
            with contextlib.suppress(ValueError):
                return float(value.strip())
        raise _bad_request(f"invalid {name} specified")

    def string(self, name: str) -> str | None:
        value = self.values.get(name)
        if value is None:
            return None
        if isinstance(value, str):
            return value
        if isinstance(value, int | float) and not isinstance(value, bool):
            return str(value)
        raise _bad_request(f"invalid {name} specified")

    def flag(self, name: str) -> bool:
        value = self.values.get(name)
        if isinstance(value, str):
            return value.strip().lower() in ("true", "1")
        return bool(value)

    def json_dict(self, name: str) -> JSONDict | None:
        value = self.values.get(name)
        if value is None or value == "":
            return None
        if not isinstance(value, dict):
            raise _bad_request(f"can't parse {name} JSON object")
        return value

    def json_list(self, name: str) -> list[Any] | None:
        value = self.values.get(name)
        if value is None or value == "":
            return None
        if not isinstance(value, list):
            raise _bad_request(f"can't parse {name} JSON array")
        return value


def _decode_param(name: str, value: Any) -> Any:
    if isinstance(value, str) and name not in _STRING_PARAMS:
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


# --------------------------------------------------------------------------------------------
# Small helpers
# --------------------------------------------------------------------------------------------


class _Signal:
    """Broadcast wake-up: notify() releases everyone waiting at that moment.

    Unlike asyncio.Condition it can be notified from synchronous code without taking a lock,
    which the control API (plain methods) needs.
    """

    def __init__(self) -> None:
        self._event = asyncio.Event()

    def notify(self) -> None:
        event, self._event = self._event, asyncio.Event()
        event.set()

    async def wait(self, seconds: float) -> bool:
        """Wait for the next notify(), at most `seconds`; True when notified."""
        if seconds <= 0:
            return False
        event = self._event
        try:
            await asyncio.wait_for(event.wait(), seconds)
        except TimeoutError:
            return False
        return True


def _image_size(data: bytes) -> tuple[int, int] | None:
    """(width, height) of a PNG or JPEG image, read from its header; None if unknown."""
    if data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) >= 24:
        width, height = struct.unpack(">II", data[16:24])
        return int(width), int(height)
    if data[:2] != b"\xff\xd8":
        return None
    i = 2
    while i + 9 < len(data):
        if data[i] != 0xFF:
            return None
        marker = data[i + 1]
        if marker == 0xFF:
            i += 1
            continue
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:
            i += 2
            continue
        (segment_length,) = struct.unpack(">H", data[i + 2 : i + 4])
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            height, width = struct.unpack(">HH", data[i + 5 : i + 9])
            return int(width), int(height)
        i += 2 + segment_length
    return None


def _now() -> int:
    return int(time.time())


def _markup_kind(markup: Mapping[str, Any] | None) -> str | None:
    if not markup:
        return None
    for kind in ("inline_keyboard", "keyboard", "remove_keyboard", "force_reply"):
        if kind in markup:
            return kind
    return "unknown"


# --------------------------------------------------------------------------------------------
# The emulator
# --------------------------------------------------------------------------------------------

_Handler = Callable[[_Params], Any]


class BotApiEmulator:
    """A Telegram Bot API server for one bot, plus a control API to play the users.

    Typical use::

        async with BotApiEmulator() as emu:
            app = (ApplicationBuilder().token(emu.token).base_url(emu.base_url)
                   .base_file_url(emu.base_file_url).build())
            ...
            alice = emu.user(1001, "Alice")
            emu.send_text(alice, "/start")
            reply = await emu.wait_for(lambda out: out.chat_id == 1001)
    """

    def __init__(
        self,
        token: str = "123456:TEST",
        bot_username: str = "sigap_bot",
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        bot_first_name: str = "SIGAP",
        auto_create_chats: bool = False,
        first_update_id: int = 1,
    ) -> None:
        bot_id, sep, _secret = token.partition(":")
        if not sep or not bot_id.isdigit():
            raise ValueError("token must look like '<bot id>:<secret>'")
        self.token = token
        self.host = host
        self.bot_user: JSONDict = {
            "id": int(bot_id),
            "is_bot": True,
            "first_name": bot_first_name,
            "username": bot_username,
        }
        # Sending to a chat nobody registered answers "chat not found" (as Telegram does for
        # chats the bot has never seen) unless this is set.
        self.auto_create_chats = auto_create_chats
        self._requested_port = port
        self._port: int | None = None
        self._runner: web.AppRunner | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._loop_thread: int | None = None
        self._closing = False
        self._lock = threading.RLock()
        self._updates_signal = _Signal()
        self._state_signal = _Signal()

        # users and chats
        self._users: dict[int, JSONDict] = {}
        self._chats: dict[int, JSONDict] = {}
        self._blocked: set[int] = set()
        self._members: dict[tuple[int, int], str] = {}
        # messages: chat id -> message id -> current message dict (insertion = id order)
        self._messages: dict[int, dict[int, JSONDict]] = {}
        self._next_message_id: dict[int, int] = {}
        self._reply_keyboards: dict[int, JSONDict] = {}
        # updates
        self._updates: deque[JSONDict] = deque()
        # A bot whose register outlives the emulator (the sandbox) needs ids it has not seen.
        self._next_update_id = first_update_id
        self._allowed_updates: frozenset[str] = DEFAULT_ALLOWED_UPDATES
        self._poll_generation = 0
        self._callback_seq = 0
        self._callbacks: dict[str, JSONDict] = {}
        self._media_group_seq = 0
        # files
        self._files: dict[str, StoredFile] = {}
        self._files_by_path: dict[str, StoredFile] = {}
        self._photo_sets: dict[str, list[JSONDict]] = {}
        self._file_seq = 0
        # bot settings
        self._commands: dict[tuple[str, str], list[JSONDict]] = {}
        self._webhook: JSONDict = {}
        self._bot_texts: dict[str, str] = {}
        self._menu_buttons: dict[int | None, JSONDict] = {}
        self._pusher: asyncio.Task[None] | None = None
        # observation
        self._sent: list[Outgoing] = []
        self._consumed: set[int] = set()
        self._answered: list[AnsweredCallback] = []
        self.chat_actions: list[tuple[int, str]] = []
        self.calls: Counter[str] = Counter()
        self.call_log: list[ApiCall] = []
        self._inflight = 0
        self._parked_polls = 0
        self._last_activity = time.monotonic()
        # fault injection
        self._faults: dict[str, deque[_Fault]] = {}
        self._delay = 0.0
        self._method_delays: dict[str, float] = {}
        self._serial_methods: set[str] = set()
        self._serial_locks: dict[str, asyncio.Lock] = {}

        self._handlers: dict[str, tuple[str, _Handler]] = {}
        for name, handler in self._handler_table().items():
            self._handlers[name.lower()] = (name, handler)

    # ---------------------------------------------------------------- lifecycle and URLs

    async def start(self) -> None:
        if self._runner is not None:
            raise RuntimeError("emulator already started")
        self._loop = asyncio.get_running_loop()
        self._loop_thread = threading.get_ident()
        self._closing = False
        # Events must belong to the serving loop; recreate them in case of a restart.
        self._updates_signal = _Signal()
        self._state_signal = _Signal()
        self._serial_locks.clear()
        app = web.Application(client_max_size=MAX_UPLOAD_BYTES + 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle_api)
        app.router.add_get("/file/bot{token}/{path:.+}", self._handle_file)
        # handler_cancellation: a long poll whose client went away (a killed bot) must not
        # linger and later swallow updates meant for its successor.
        runner = web.AppRunner(
            app, access_log=None, handler_cancellation=True, shutdown_timeout=1.0
        )
        await runner.setup()
        sock = socket.socket(socket.AF_INET6 if ":" in self.host else socket.AF_INET)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((self.host, self._requested_port))
            sock.listen(128)
            sock.setblocking(False)
            site = web.SockSite(runner, sock)
            await site.start()
        except BaseException:
            sock.close()
            await runner.cleanup()
            raise
        self._port = int(sock.getsockname()[1])
        self._runner = runner
        logger.info("Telegram Bot API emulator listening on %s", self.url)

    async def stop(self) -> None:
        runner, self._runner = self._runner, None
        if runner is None:
            return
        # Release parked long polls first so the server can shut down without waiting.
        self._closing = True
        self._updates_signal.notify()
        self._state_signal.notify()
        pusher, self._pusher = self._pusher, None
        if pusher is not None:
            pusher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await pusher
        await runner.cleanup()
        self._port = None

    async def __aenter__(self) -> BotApiEmulator:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("emulator is not running; call start() first")
        return self._port

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def base_url(self) -> str:
        """For ApplicationBuilder().base_url() / Bot(base_url=...): PTB appends the token."""
        return f"{self.url}/bot"

    @property
    def base_file_url(self) -> str:
        return f"{self.url}/file/bot"

    @property
    def bot_id(self) -> int:
        return int(self.bot_user["id"])

    # ---------------------------------------------------------------- users and chats

    def user(
        self,
        user_id: int,
        first_name: str,
        username: str | None = None,
        *,
        last_name: str | None = None,
        language_code: str | None = "id",
    ) -> JSONDict:
        """Register (or update) a user and their private chat; returns the User dict."""
        if user_id <= 0:
            raise ValueError("user ids are positive")
        user: JSONDict = {"id": user_id, "is_bot": False, "first_name": first_name}
        if last_name:
            user["last_name"] = last_name
        if username:
            user["username"] = username
        if language_code:
            user["language_code"] = language_code
        chat: JSONDict = {"id": user_id, "type": "private", "first_name": first_name}
        if last_name:
            chat["last_name"] = last_name
        if username:
            chat["username"] = username
        with self._lock:
            self._users[user_id] = user
            self._chats[user_id] = chat
        return copy.deepcopy(user)

    def group(
        self, chat_id: int, title: str, *, chat_type: str | None = None, username: str | None = None
    ) -> JSONDict:
        """Register a group; ids starting with -100 are supergroups unless chat_type says."""
        if chat_id >= 0:
            raise ValueError("group chat ids are negative")
        kind = chat_type or ("supergroup" if str(chat_id).startswith("-100") else "group")
        chat: JSONDict = {"id": chat_id, "type": kind, "title": title}
        if username:
            chat["username"] = username
        with self._lock:
            self._chats[chat_id] = chat
        return copy.deepcopy(chat)

    def block(self, chat_id: int) -> None:
        """The user blocked the bot (or the bot was kicked from the group): sends answer 403."""
        with self._lock:
            self._blocked.add(chat_id)

    def unblock(self, chat_id: int) -> None:
        with self._lock:
            self._blocked.discard(chat_id)

    def set_member_status(self, chat_id: int, user_id: int, status: str) -> None:
        """What getChatMember answers for that user: member, administrator, creator, left, kicked."""
        if status not in ("member", "administrator", "creator", "left", "kicked"):
            raise ValueError(f"unsupported chat member status {status!r}")
        with self._lock:
            self._members[(chat_id, user_id)] = status

    # ---------------------------------------------------------------- injecting updates

    def send_text(
        self,
        user: JSONDict | int,
        text: str,
        chat: JSONDict | int | None = None,
        *,
        reply_to: int | None = None,
        entities: list[JSONDict] | None = None,
    ) -> JSONDict:
        """A user writes `text`. /commands get bot_command entities like on Telegram."""
        found = entities if entities is not None else _command_entities(text)
        content: JSONDict = {"text": text}
        if found:
            content["entities"] = found
        return self._user_message(user, chat, content, reply_to=reply_to)

    def send_photo(
        self,
        user: JSONDict | int,
        data: bytes,
        caption: str | None = None,
        chat: JSONDict | int | None = None,
    ) -> JSONDict:
        with self._lock:
            sizes = self._store_photo(data)
        content: JSONDict = {"photo": sizes}
        if caption:
            content["caption"] = caption
        return self._user_message(user, chat, content)

    def send_location(
        self,
        user: JSONDict | int,
        latitude: float,
        longitude: float,
        chat: JSONDict | int | None = None,
    ) -> JSONDict:
        return self._user_message(
            user, chat, {"location": {"latitude": float(latitude), "longitude": float(longitude)}}
        )

    def send_contact(
        self,
        user: JSONDict | int,
        phone_number: str,
        chat: JSONDict | int | None = None,
        *,
        own: bool = True,
    ) -> JSONDict:
        """A shared contact; `own` makes it the sender's own (what request_contact sends)."""
        sender = self._resolve_user(user)
        contact: JSONDict = {"phone_number": phone_number, "first_name": sender["first_name"]}
        if own:
            contact["user_id"] = sender["id"]
        return self._user_message(sender, chat, {"contact": contact})

    def send_sticker(
        self, user: JSONDict | int, chat: JSONDict | int | None = None, *, emoji: str = "👍"
    ) -> JSONDict:
        with self._lock:
            stored = self._store_file("sticker", None)
        sticker = self._media_object(stored)
        sticker.update(
            type="regular", width=512, height=512, is_animated=False, is_video=False, emoji=emoji
        )
        return self._user_message(user, chat, {"sticker": sticker})

    def send_voice(
        self, user: JSONDict | int, chat: JSONDict | int | None = None, *, duration: int = 3
    ) -> JSONDict:
        with self._lock:
            stored = self._store_file("voice", None)
        voice = self._media_object(stored)
        voice["duration"] = duration
        return self._user_message(user, chat, {"voice": voice})

    def send_video(
        self,
        user: JSONDict | int,
        chat: JSONDict | int | None = None,
        *,
        duration: int = 5,
        caption: str | None = None,
    ) -> JSONDict:
        with self._lock:
            stored = self._store_file("video", None)
        video = self._media_object(stored)
        video.update(width=640, height=360, duration=duration)
        content: JSONDict = {"video": video}
        if caption:
            content["caption"] = caption
        return self._user_message(user, chat, content)

    def send_document(
        self,
        user: JSONDict | int,
        data: bytes,
        file_name: str,
        chat: JSONDict | int | None = None,
        *,
        mime_type: str | None = None,
        caption: str | None = None,
    ) -> JSONDict:
        with self._lock:
            stored = self._store_file("document", data, file_name=file_name, mime_type=mime_type)
        content: JSONDict = {"document": self._media_object(stored)}
        if caption:
            content["caption"] = caption
        return self._user_message(user, chat, content)

    def edit_text(
        self,
        user: JSONDict | int,
        message_id: int,
        text: str,
        chat: JSONDict | int | None = None,
    ) -> JSONDict:
        """The user edits one of their text messages: an edited_message update."""
        sender = self._resolve_user(user)
        with self._lock:
            target = self._resolve_chat(sender, chat)
            message = self._messages.get(target["id"], {}).get(message_id)
            if message is None or message.get("from", {}).get("id") != sender["id"]:
                raise ValueError(f"user {sender['id']} has no message {message_id} in that chat")
            message["text"] = text
            message.pop("entities", None)
            found = _command_entities(text)
            if found:
                message["entities"] = found
            message["edit_date"] = _now()
            return self._queue_update("edited_message", copy.deepcopy(message))

    def press(
        self,
        user: JSONDict | int,
        message: JSONDict | int,
        data: str,
        chat: JSONDict | int | None = None,
        *,
        strict: bool = True,
    ) -> JSONDict:
        """The user taps an inline button with callback_data `data` under a bot message.

        `message` is a Message dict (e.g. `Outgoing.message`) or a message_id in `chat`
        (default: the user's private chat). The callback carries the message as it is now.
        With `strict`, pressing a button the message does not currently show is a ValueError:
        real users cannot do that either.
        """
        sender = self._resolve_user(user)
        with self._lock:
            if isinstance(message, Mapping):
                message_id = int(message["message_id"])
                chat_id = int(message["chat"]["id"]) if chat is None else self._chat_id_of(chat)
            else:
                message_id = int(message)
                chat_id = self._resolve_chat(sender, chat)["id"]
            current = self._messages.get(chat_id, {}).get(message_id)
            if current is None:
                raise ValueError(f"no message {message_id} in chat {chat_id} (deleted?)")
            if strict:
                available = [cb for _text, cb in buttons(current.get("reply_markup"))]
                if data not in available:
                    raise ValueError(
                        f"message {message_id} in chat {chat_id} has no button with callback_data "
                        f"{data!r}; it shows {buttons(current.get('reply_markup'))!r}"
                    )
            self._callback_seq += 1
            query_id = f"{self.bot_id}{self._callback_seq:010d}"
            query: JSONDict = {
                "id": query_id,
                "from": copy.deepcopy(sender),
                "message": copy.deepcopy(current),
                "chat_instance": str(abs(hash((self.bot_id, chat_id)))),
                "data": data,
            }
            self._callbacks[query_id] = {
                "data": data,
                "chat_id": chat_id,
                "message_id": message_id,
                "answered": False,
            }
            return self._queue_update("callback_query", query)

    def inject(self, update: Mapping[str, Any]) -> JSONDict:
        """Queue a raw update; update_id is assigned when missing and must keep increasing.

        A new message in it (message / channel_post) is stored too, with its chat and sender,
        so the bot can reply to it, forward it or delete it like any other message.
        """
        payload = copy.deepcopy(dict(update))
        with self._lock:
            update_id = payload.pop("update_id", None)
            if update_id is not None:
                if int(update_id) < self._next_update_id:
                    raise ValueError(
                        f"update_id {update_id} would go backwards (next is {self._next_update_id})"
                    )
                self._next_update_id = int(update_id)
            kinds = list(payload)
            if len(kinds) != 1:
                raise ValueError("an update has exactly one field besides update_id")
            kind = kinds[0]
            if kind in ("message", "channel_post"):
                self._adopt_message(payload[kind])
            return self._queue_update(kind, payload[kind])

    def pending_updates(self) -> int:
        """Updates not yet confirmed by a getUpdates offset (delivered or not)."""
        with self._lock:
            return len(self._updates)

    @property
    def polls_waiting(self) -> int:
        """getUpdates calls currently parked in a long poll (a bot that is listening)."""
        with self._lock:
            return self._parked_polls

    # ---------------------------------------------------------------- observing the bot

    @property
    def sent(self) -> list[Outgoing]:
        """Snapshot of everything the bot sent, edited or deleted, in processing order."""
        with self._lock:
            return list(self._sent)

    @property
    def answered_callbacks(self) -> list[AnsweredCallback]:
        with self._lock:
            return list(self._answered)

    def messages_in(self, chat_id: int) -> list[JSONDict]:
        """Current state (edits applied, deletions removed) of the bot's messages in a chat."""
        with self._lock:
            return [
                copy.deepcopy(m)
                for m in self._messages.get(chat_id, {}).values()
                if m.get("from", {}).get("id") == self.bot_id
            ]

    def history(self, chat_id: int) -> list[JSONDict]:
        """Current state of every message in a chat, from both sides, oldest first."""
        with self._lock:
            return [copy.deepcopy(m) for m in self._messages.get(chat_id, {}).values()]

    def reply_keyboard(self, chat_id: int) -> JSONDict | None:
        """The custom reply keyboard the user currently sees in that chat, if any."""
        with self._lock:
            markup = self._reply_keyboards.get(chat_id)
            return copy.deepcopy(markup) if markup else None

    def commands(self, scope: JSONDict | None = None, language_code: str = "") -> list[JSONDict]:
        """Commands set by setMyCommands for a scope (default scope when None)."""
        with self._lock:
            return copy.deepcopy(self._commands.get(_commands_key(scope, language_code), []))

    def webhook(self) -> JSONDict:
        with self._lock:
            return dict(self._webhook)

    def file_bytes(self, file_id: str) -> bytes:
        """Content of a file, e.g. a photo the bot sent (`Outgoing.photo`)."""
        with self._lock:
            return self._files[file_id].data

    def mark(self) -> int:
        """Position in `sent` to pass as `since=` to wait_for (only look at later records)."""
        with self._lock:
            return len(self._sent)

    async def wait_for(
        self,
        predicate: Callable[[Outgoing], bool] | None = None,
        timeout: float = 5.0,  # noqa: ASYNC109 - a deadline is the point of this helper
        *,
        since: int | None = None,
    ) -> Outgoing:
        """Wait for an outgoing record matching `predicate` (any record when None).

        Returns the earliest matching record (at index >= `since`) that no earlier wait_for
        call returned, so consecutive waits walk through the bot's output without returning
        the same record twice, and records that arrived before the call are not missed.
        """
        check = predicate or (lambda _out: True)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        position = since or 0
        while True:
            with self._lock:
                records = self._sent[position:]
                position = len(self._sent)
            for record in records:
                if record.seq not in self._consumed and check(record):
                    self._consumed.add(record.seq)
                    return record
            if self._closing:
                raise RuntimeError("emulator stopped")
            if not await self._state_signal.wait(deadline - loop.time()):
                with self._lock:
                    recent = self._sent[-5:]
                summary = "; ".join(f"{o.method} chat={o.chat_id} text={o.text!r}" for o in recent)
                raise TimeoutError(
                    f"no matching outgoing message within {timeout}s (last: {summary or 'none'})"
                )

    async def wait_until(
        self,
        condition: Callable[[], bool],
        timeout: float = 5.0,  # noqa: ASYNC109 - a deadline is the point of this helper
    ) -> None:
        """Wait until `condition()` holds; re-checked after every request to the emulator."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not condition():
            if self._closing:
                raise RuntimeError("emulator stopped")
            if not await self._state_signal.wait(deadline - loop.time()) and not condition():
                raise TimeoutError(f"condition not met within {timeout}s")

    async def wait_idle(
        self,
        timeout: float = 5.0,  # noqa: ASYNC109 - a deadline is the point of this helper
        quiet: float = 0.1,
    ) -> None:
        """Wait until every update is confirmed and no request has run for `quiet` seconds.

        A heuristic for "the bot has finished reacting": handlers that think longer than
        `quiet` without calling the API are not detected; prefer wait_for where possible.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            with self._lock:
                busy = bool(self._updates) or self._inflight > self._parked_polls
                idle_for = time.monotonic() - self._last_activity
            if not busy and idle_for >= quiet:
                return
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise TimeoutError(f"bot not idle within {timeout}s")
            wait = remaining if busy else min(remaining, quiet - idle_for)
            await self._state_signal.wait(wait)

    # ---------------------------------------------------------------- fault injection

    def fail_next(
        self,
        method: str,
        status: int = 429,
        retry_after: int | None = 1,
        description: str | None = None,
        *,
        times: int = 1,
    ) -> None:
        """The next `times` calls of `method` ("*" = any method) fail without effect.

        429 carries parameters.retry_after (PTB raises RetryAfter) unless retry_after is None.
        """
        if description is None:
            description = {
                429: f"Too Many Requests: retry after {retry_after}",
                400: "Bad Request",
                403: "Forbidden",
                409: "Conflict",
                500: "Internal Server Error",
                502: "Bad Gateway",
            }.get(status, "Error")
        fault = _Fault(status, description, retry_after if status == 429 else None)
        self._add_fault(method, fault, times)

    def drop_next(self, method: str, *, times: int = 1, after_processing: bool = False) -> None:
        """The next `times` calls of `method` lose their connection (PTB: NetworkError).

        With `after_processing` the call takes effect first and only the answer is lost, which
        is how a client ends up retrying something that already happened.
        """
        fault = _Fault(0, "connection dropped", None, drop=True, after_processing=after_processing)
        self._add_fault(method, fault, times)

    def set_delay(self, seconds: float, method: str | None = None, *, serial: bool = False) -> None:
        """Artificial latency before every call (or only calls of `method`).

        Concurrent calls wait out their latency side by side, so ten parallel sends still
        finish together after one delay. With `serial` (needs `method`) calls of that method
        are served one at a time instead, each taking `seconds`: a slow single lane, which
        makes "kill the bot while its replies trickle out" reproducible. A call whose client
        disconnects while queued or delayed is cancelled and has no effect.
        """
        if serial and method is None:
            raise ValueError("serial latency needs a method")
        with self._lock:
            if method is None:
                self._delay = max(0.0, seconds)
                return
            name = self._canonical(method)
            if serial and name == "getUpdates":
                raise ValueError("getUpdates cannot be serial: a long poll would hold the lane")
            self._method_delays[name] = max(0.0, seconds)
            if serial:
                self._serial_methods.add(name)
            else:
                self._serial_methods.discard(name)

    def reset_counters(self) -> None:
        with self._lock:
            self.calls.clear()
            self.call_log.clear()

    # ================================================================ internals: control side

    def _wake(self, *signals: _Signal) -> None:
        """Notify from any thread; asyncio primitives may only be touched in their loop."""
        loop = self._loop
        if loop is None or loop.is_closed() or threading.get_ident() == self._loop_thread:
            for signal in signals:
                signal.notify()
        else:
            for signal in signals:
                loop.call_soon_threadsafe(signal.notify)

    def _canonical(self, method: str) -> str:
        if method == "*":
            return method
        entry = self._handlers.get(method.lower())
        return entry[0] if entry else method

    def _add_fault(self, method: str, fault: _Fault, times: int) -> None:
        with self._lock:
            queue = self._faults.setdefault(self._canonical(method), deque())
            queue.extend([fault] * max(1, times))

    def _take_fault(self, method: str) -> _Fault | None:
        with self._lock:
            for key in (method, "*"):
                queue = self._faults.get(key)
                if queue:
                    return queue.popleft()
        return None

    def _resolve_user(self, user: JSONDict | int) -> JSONDict:
        with self._lock:
            if isinstance(user, Mapping):
                user_id = int(user["id"])
                if user_id not in self._users:
                    self.user(
                        user_id,
                        str(user.get("first_name", f"User {user_id}")),
                        user.get("username"),
                        last_name=user.get("last_name"),
                        language_code=user.get("language_code"),
                    )
                return self._users[user_id]
            if int(user) not in self._users:
                raise ValueError(f"unknown user {user}; register it with user() first")
            return self._users[int(user)]

    def _chat_id_of(self, chat: JSONDict | int) -> int:
        return int(chat["id"]) if isinstance(chat, Mapping) else int(chat)

    def _resolve_chat(self, user: JSONDict, chat: JSONDict | int | None) -> JSONDict:
        if chat is None:
            return self._chats[int(user["id"])]
        chat_id = self._chat_id_of(chat)
        if chat_id not in self._chats:
            if isinstance(chat, Mapping):
                self._chats[chat_id] = copy.deepcopy(dict(chat))
            else:
                raise ValueError(f"unknown chat {chat_id}; register it with group() first")
        return self._chats[chat_id]

    def _new_message_id(self, chat_id: int) -> int:
        message_id = self._next_message_id.get(chat_id, 1)
        self._next_message_id[chat_id] = message_id + 1
        return message_id

    def _user_message(
        self,
        user: JSONDict | int,
        chat: JSONDict | int | None,
        content: JSONDict,
        *,
        reply_to: int | None = None,
    ) -> JSONDict:
        sender = self._resolve_user(user)
        with self._lock:
            target = self._resolve_chat(sender, chat)
            message: JSONDict = {
                "message_id": self._new_message_id(target["id"]),
                "from": copy.deepcopy(sender),
                "chat": copy.deepcopy(target),
                "date": _now(),
                **copy.deepcopy(content),
            }
            if reply_to is not None:
                replied = self._messages.get(target["id"], {}).get(reply_to)
                if replied is None:
                    raise ValueError(f"no message {reply_to} to reply to in chat {target['id']}")
                message["reply_to_message"] = _without_reply(replied)
            self._messages.setdefault(target["id"], {})[message["message_id"]] = message
            # Typing into a one-time keyboard hides it, as the Telegram clients do.
            keyboard = self._reply_keyboards.get(target["id"])
            if keyboard and keyboard.get("one_time_keyboard"):
                del self._reply_keyboards[target["id"]]
            return self._queue_update("message", copy.deepcopy(message))

    def _adopt_message(self, message: Any) -> None:
        """Store a message that arrived in a raw update, registering its chat and sender."""
        if not isinstance(message, dict):
            return
        chat = message.get("chat")
        message_id = message.get("message_id")
        if not isinstance(chat, dict) or "id" not in chat or not isinstance(message_id, int):
            return
        chat_id = int(chat["id"])
        self._chats.setdefault(chat_id, copy.deepcopy(chat))
        sender = message.get("from")
        if isinstance(sender, dict) and "id" in sender and not sender.get("is_bot"):
            self._users.setdefault(int(sender["id"]), copy.deepcopy(sender))
        self._messages.setdefault(chat_id, {})[message_id] = copy.deepcopy(message)
        self._next_message_id[chat_id] = max(self._next_message_id.get(chat_id, 1), message_id + 1)

    def _queue_update(self, kind: str, payload: JSONDict) -> JSONDict:
        with self._lock:
            update = {"update_id": self._next_update_id, kind: payload}
            self._next_update_id += 1
            if kind in self._allowed_updates:
                self._updates.append(update)
            else:
                # Telegram filters by the allowed_updates in force when the update is created.
                logger.debug(
                    "update %s of type %s not in allowed_updates: dropped",
                    update["update_id"],
                    kind,
                )
        self._wake(self._updates_signal, self._state_signal)
        return copy.deepcopy(update)

    # ================================================================ internals: files

    def _store_file(
        self,
        kind: str,
        data: bytes | None,
        *,
        file_name: str | None = None,
        mime_type: str | None = None,
        unique_id: str | None = None,
    ) -> StoredFile:
        prefix, directory, extension, default_mime = _FILE_KINDS[kind]
        self._file_seq += 1
        number = self._file_seq
        if data is None:
            # Placeholder content, distinct per file so file_unique_id stays unique.
            data = f"{kind} #{number} from the Telegram emulator".encode()
        if file_name and "." in file_name:
            extension = "." + file_name.rsplit(".", 1)[1]
        digest = hashlib.sha256(kind.encode() + b"\0" + data).hexdigest()
        stored = StoredFile(
            file_id=f"{prefix}{self.bot_id}_{number:07d}",
            file_unique_id=unique_id or f"AgAD{digest[:16]}",
            kind=kind,
            data=data,
            file_path=f"{directory}/file_{number}{extension}",
            file_name=file_name,
            mime_type=mime_type or default_mime,
        )
        self._files[stored.file_id] = stored
        self._files_by_path[stored.file_path] = stored
        return stored

    def _store_photo(self, data: bytes) -> list[JSONDict]:
        """Several PhotoSize entries like Telegram makes; all download as the original bytes."""
        width, height = _image_size(data) or (1280, 960)
        longest = max(width, height, 1)
        targets = [t for t in (90, 320, 800) if t < longest] + [min(longest, 2560)]
        digest = hashlib.sha256(data).hexdigest()[:14]
        sizes: list[JSONDict] = []
        for index, target in enumerate(targets):
            stored = self._store_file("photo", data, unique_id=f"AQAD{digest}{index:02d}")
            scale = target / longest
            sizes.append(
                {
                    "file_id": stored.file_id,
                    "file_unique_id": stored.file_unique_id,
                    "width": max(1, round(width * scale)),
                    "height": max(1, round(height * scale)),
                    "file_size": len(data),
                }
            )
        for size in sizes:
            self._photo_sets[size["file_id"]] = sizes
        return copy.deepcopy(sizes)

    def _media_object(self, stored: StoredFile) -> JSONDict:
        media: JSONDict = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": len(stored.data),
        }
        if stored.kind in ("document", "video", "audio", "voice", "animation") and stored.mime_type:
            media["mime_type"] = stored.mime_type
        if stored.file_name and stored.kind in ("document", "video", "audio", "animation"):
            media["file_name"] = stored.file_name
        if stored.kind in ("video", "animation"):
            media.update(width=640, height=360, duration=5)
        elif stored.kind in ("audio", "voice"):
            media["duration"] = 3
        elif stored.kind == "sticker":
            media.update(type="regular", width=512, height=512, is_animated=False, is_video=False)
        return media

    def _input_file(
        self, value: Any, kind: str, uploads: Mapping[str, _Upload]
    ) -> JSONDict | list[JSONDict]:
        """Resolve a file parameter (upload, attach:// reference, file_id or URL) to the
        content field of a message: a PhotoSize list for photos, a media object otherwise."""
        if isinstance(value, str) and value.startswith("attach://"):
            upload = uploads.get(value[len("attach://") :])
            if upload is None:
                raise _bad_request(f"file {value} not found in the request")
            value = upload
        if isinstance(value, _Upload):
            if not value.data:
                raise _bad_request("file must be non-empty")
            if kind == "photo":
                return self._store_photo(value.data)
            stored = self._store_file(
                kind, value.data, file_name=value.filename, mime_type=value.content_type
            )
            return self._media_object(stored)
        if isinstance(value, str) and value:
            if value.startswith(("http://", "https://")):
                # Not fetched (no network); a placeholder stands in for the remote file.
                if kind == "photo":
                    return self._store_photo(b"")
                return self._media_object(
                    self._store_file(kind, None, file_name=value.rsplit("/", 1)[-1])
                )
            existing = self._files.get(value)
            if existing is None:
                raise _bad_request("wrong file identifier/HTTP URL specified")
            if existing.kind != kind:
                raise _bad_request(
                    f"can't use file of type {existing.kind.capitalize()} as {kind.capitalize()}"
                )
            if kind == "photo":
                return copy.deepcopy(self._photo_sets.get(value) or [])
            return self._media_object(existing)
        raise _bad_request(f"there is no {kind} in the request")

    # ================================================================ internals: HTTP side

    async def _read_params(self, request: web.Request) -> tuple[_Params, dict[str, _Upload]]:
        raw: dict[str, Any] = dict(request.query)
        uploads: dict[str, _Upload] = {}
        if request.can_read_body:
            if request.content_type == "application/json":
                try:
                    body = await request.json()
                except ValueError as exc:
                    raise _bad_request("can't parse JSON request body") from exc
                if not isinstance(body, dict):
                    raise _bad_request("JSON request body must be an object")
                raw.update(body)
            else:
                form = await request.post()
                for name, value in form.items():
                    if isinstance(value, web.FileField):
                        upload = _Upload(value.filename, value.content_type, value.file.read())
                        uploads[name] = upload
                        raw[name] = upload
                    else:
                        raw[name] = value
        values = {name: _decode_param(name, value) for name, value in raw.items()}
        return _Params(values), uploads

    async def _handle_api(self, request: web.Request) -> web.StreamResponse:
        started = time.monotonic()
        requested = request.match_info["method"]
        entry = self._handlers.get(requested.lower())
        method = entry[0] if entry else requested
        with self._lock:
            self.calls[method] += 1
            self._inflight += 1
            self._last_activity = started
        status = 200
        try:
            if request.match_info["token"] != self.token:
                status = 401
                return _error_response(401, "Unauthorized")
            if entry is None:
                status = 404
                return _error_response(404, "Not Found: method not found")
            delay = self._method_delays.get(method, self._delay)
            if method not in self._serial_methods:
                if delay:
                    await asyncio.sleep(delay)
                status, response = await self._serve(request, method, entry[1])
                return response
            lock = self._serial_locks.setdefault(method, asyncio.Lock())
            async with lock:
                if delay:
                    await asyncio.sleep(delay)
                status, response = await self._serve(request, method, entry[1])
                return response
        except asyncio.CancelledError:
            status = 499  # the client went away first (nginx's "client closed request")
            raise
        finally:
            finished = time.monotonic()
            with self._lock:
                self._inflight -= 1
                self._last_activity = finished
                self.call_log.append(ApiCall(method, status, started, finished - started))
            self._wake(self._state_signal)

    async def _serve(
        self, request: web.Request, method: str, handler: _Handler
    ) -> tuple[int, web.StreamResponse]:
        """Run one call (after latency): fault injection, then the method; (status, answer)."""
        fault = self._take_fault(method)
        if fault is not None and not (fault.drop and fault.after_processing):
            if fault.drop:
                return fault.status, self._drop(request)
            return fault.status, _error_response(fault.status, fault.description, fault.retry_after)
        try:
            params, uploads = await self._read_params(request)
            if uploads:
                params.values["_uploads"] = uploads
            result = handler(params)
            if isinstance(result, Awaitable):
                result = await result
        except _ApiError as exc:
            return exc.status, _error_response(exc.status, exc.description, exc.retry_after)
        if fault is not None:
            return 0, self._drop(request)
        return 200, web.json_response({"ok": True, "result": result}, dumps=_dumps)

    def _drop(self, request: web.Request) -> web.StreamResponse:
        """Close the connection without an answer (the client sees a network error)."""
        transport = request.transport
        if transport is not None:
            transport.abort()
        return web.Response(status=500)

    async def _handle_file(self, request: web.Request) -> web.StreamResponse:
        if request.match_info["token"] != self.token:
            return _error_response(401, "Unauthorized")
        with self._lock:
            stored = self._files_by_path.get(request.match_info["path"])
        if stored is None:
            return _error_response(404, "Not Found")
        return web.Response(
            body=stored.data, content_type=stored.mime_type or "application/octet-stream"
        )

    def _handler_table(self) -> dict[str, _Handler]:
        def constant(value: Any) -> _Handler:
            return lambda _params: value

        return {
            "getMe": lambda _p: self._get_me(),
            "logOut": constant(True),
            "close": constant(True),
            "getUpdates": self._get_updates,
            "setWebhook": self._set_webhook,
            "deleteWebhook": self._delete_webhook,
            "getWebhookInfo": self._get_webhook_info,
            "setMyCommands": self._set_my_commands,
            "getMyCommands": self._get_my_commands,
            "deleteMyCommands": self._delete_my_commands,
            "setMyName": lambda p: self._set_bot_text(p, "name"),
            "getMyName": lambda p: self._get_bot_text(p, "name"),
            "setMyDescription": lambda p: self._set_bot_text(p, "description"),
            "getMyDescription": lambda p: self._get_bot_text(p, "description"),
            "setMyShortDescription": lambda p: self._set_bot_text(p, "short_description"),
            "getMyShortDescription": lambda p: self._get_bot_text(p, "short_description"),
            "setChatMenuButton": self._set_chat_menu_button,
            "getChatMenuButton": self._get_chat_menu_button,
            "sendMessage": self._send_message,
            "sendPhoto": lambda p: self._send_media(p, "photo", "sendPhoto"),
            "sendDocument": lambda p: self._send_media(p, "document", "sendDocument"),
            "sendVideo": lambda p: self._send_media(p, "video", "sendVideo"),
            "sendAudio": lambda p: self._send_media(p, "audio", "sendAudio"),
            "sendVoice": lambda p: self._send_media(p, "voice", "sendVoice"),
            "sendAnimation": lambda p: self._send_media(p, "animation", "sendAnimation"),
            "sendSticker": lambda p: self._send_media(p, "sticker", "sendSticker"),
            "sendMediaGroup": self._send_media_group,
            "sendLocation": self._send_location,
            "sendContact": self._send_contact,
            "sendChatAction": self._send_chat_action,
            "forwardMessage": lambda p: self._forward(p, copy_only=False),
            "copyMessage": lambda p: self._forward(p, copy_only=True),
            "editMessageText": self._edit_message_text,
            "editMessageCaption": self._edit_message_caption,
            "editMessageReplyMarkup": self._edit_message_reply_markup,
            "deleteMessage": self._delete_message,
            "deleteMessages": self._delete_messages,
            "answerCallbackQuery": self._answer_callback_query,
            "getFile": self._get_file,
            "getChat": self._get_chat,
            "getChatMember": self._get_chat_member,
        }

    # ================================================================ Bot API methods

    def _get_me(self) -> JSONDict:
        return {
            **self.bot_user,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    async def _get_updates(self, p: _Params) -> list[JSONDict]:
        offset = p.integer("offset")
        limit = min(max(p.integer("limit", 100) or 100, 1), 100)
        timeout = max(p.number("timeout", 0.0) or 0.0, 0.0)
        allowed = p.json_list("allowed_updates")
        with self._lock:
            if self._webhook.get("url"):
                raise _ApiError(
                    409,
                    "Conflict: can't use getUpdates method while webhook is active; "
                    "use deleteWebhook to delete the webhook first",
                )
            if allowed is not None:
                self._allowed_updates = frozenset(allowed) if allowed else DEFAULT_ALLOWED_UPDATES
            if offset is not None and offset < 0:
                while len(self._updates) > -offset:
                    self._updates.popleft()
            elif offset:
                # The only way an update is ever confirmed (and dropped).
                while self._updates and self._updates[0]["update_id"] < offset:
                    self._updates.popleft()
            self._poll_generation += 1
            generation = self._poll_generation
        # Wake an older waiting poll so it can give way with 409 Conflict.
        self._wake(self._updates_signal, self._state_signal)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            with self._lock:
                if generation != self._poll_generation:
                    raise _ApiError(
                        409,
                        "Conflict: terminated by other getUpdates request; "
                        "make sure that only one bot instance is running",
                    )
                if self._updates or self._closing:
                    return [copy.deepcopy(u) for u in list(self._updates)[:limit]]
                self._parked_polls += 1
            try:
                woken = await self._updates_signal.wait(deadline - loop.time())
            finally:
                with self._lock:
                    self._parked_polls -= 1
            if not woken and loop.time() >= deadline:
                return []

    def _set_webhook(self, p: _Params) -> bool:
        url = p.string("url") or ""
        with self._lock:
            if p.flag("drop_pending_updates"):
                self._updates.clear()
            if not url:
                self._webhook = {}
                return True
            if not url.startswith(("https://", "http://")):
                raise _bad_request("bad webhook: An HTTPS URL must be provided for webhook")
            allowed = p.json_list("allowed_updates")
            if allowed is not None:
                self._allowed_updates = frozenset(allowed) if allowed else DEFAULT_ALLOWED_UPDATES
            self._webhook = {
                "url": url,
                "max_connections": p.integer("max_connections", 40),
                "secret_token": p.string("secret_token"),
                "ip_address": p.string("ip_address"),
            }
        if self._pusher is None or self._pusher.done():
            self._pusher = asyncio.get_running_loop().create_task(self._push_updates())
        return True

    async def _push_updates(self) -> None:
        """While a webhook is set, POST queued updates to it oldest first, one at a time, each
        dropped only after a 2xx answer (Telegram's webhook delivery, minus its backoff)."""
        import aiohttp

        async with aiohttp.ClientSession() as http:
            while not self._closing:
                with self._lock:
                    hook = dict(self._webhook)
                    update = copy.deepcopy(self._updates[0]) if self._updates else None
                if not hook.get("url"):
                    return  # deleteWebhook: getUpdates takes over
                if update is None:
                    await self._updates_signal.wait(1.0)
                    continue
                headers = {}
                if hook.get("secret_token"):
                    headers["X-Telegram-Bot-Api-Secret-Token"] = str(hook["secret_token"])
                try:
                    async with http.post(str(hook["url"]), json=update, headers=headers) as resp:
                        delivered = 200 <= resp.status < 300
                except (aiohttp.ClientError, OSError):
                    delivered = False
                if not delivered:
                    await asyncio.sleep(0.2)
                    continue
                with self._lock:
                    if self._updates and self._updates[0]["update_id"] == update["update_id"]:
                        self._updates.popleft()
                self._wake(self._state_signal)

    def _delete_webhook(self, p: _Params) -> bool:
        with self._lock:
            self._webhook = {}
            if p.flag("drop_pending_updates"):
                self._updates.clear()
        return True

    def _get_webhook_info(self, _p: _Params) -> JSONDict:
        with self._lock:
            info: JSONDict = {
                "url": self._webhook.get("url", ""),
                "has_custom_certificate": False,
                "pending_update_count": len(self._updates),
            }
            if self._webhook.get("url"):
                info["max_connections"] = self._webhook.get("max_connections", 40)
                info["allowed_updates"] = sorted(self._allowed_updates)
                if self._webhook.get("ip_address"):
                    info["ip_address"] = self._webhook["ip_address"]
        return info

    def _set_my_commands(self, p: _Params) -> bool:
        commands = p.json_list("commands")
        if commands is None:
            raise _bad_request('parameter "commands" is required')
        if len(commands) > 100:
            raise _bad_request("BOT_COMMANDS_TOO_MUCH")
        cleaned: list[JSONDict] = []
        for command in commands:
            if not isinstance(command, dict):
                raise _bad_request("can't parse BotCommand")
            name = str(command.get("command", "")).removeprefix("/")
            description = str(command.get("description", ""))
            if not _BOT_COMMAND_NAME_RE.match(name):
                raise _bad_request("BOT_COMMAND_INVALID")
            if not 1 <= len(description) <= 256:
                raise _bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
            cleaned.append({"command": name, "description": description})
        key = _commands_key(p.json_dict("scope"), p.string("language_code") or "")
        with self._lock:
            self._commands[key] = cleaned
        return True

    def _get_my_commands(self, p: _Params) -> list[JSONDict]:
        key = _commands_key(p.json_dict("scope"), p.string("language_code") or "")
        with self._lock:
            return copy.deepcopy(self._commands.get(key, []))

    def _delete_my_commands(self, p: _Params) -> bool:
        key = _commands_key(p.json_dict("scope"), p.string("language_code") or "")
        with self._lock:
            self._commands.pop(key, None)
        return True

    def _set_bot_text(self, p: _Params, field_name: str) -> bool:
        with self._lock:
            self._bot_texts[f"{field_name}:{p.string('language_code') or ''}"] = (
                p.string(field_name) or ""
            )
        return True

    def _get_bot_text(self, p: _Params, field_name: str) -> JSONDict:
        with self._lock:
            key = f"{field_name}:{p.string('language_code') or ''}"
            default = self.bot_user["first_name"] if field_name == "name" else ""
            return {field_name: self._bot_texts.get(key, default)}

    def _set_chat_menu_button(self, p: _Params) -> bool:
        with self._lock:
            self._menu_buttons[p.integer("chat_id")] = p.json_dict("menu_button") or {
                "type": "default"
            }
        return True

    def _get_chat_menu_button(self, p: _Params) -> JSONDict:
        with self._lock:
            chat_id = p.integer("chat_id")
            button = self._menu_buttons.get(chat_id) or self._menu_buttons.get(None)
            return copy.deepcopy(button or {"type": "default"})

    # ---------------------------------------------------------------- sending

    def _chat_for(
        self, p: _Params, name: str = "chat_id", *, check_blocked: bool = True
    ) -> JSONDict:
        raw = p.get(name)
        if raw is None or raw == "":
            raise _bad_request(f"{name} is empty")
        chat: JSONDict | None = None
        if isinstance(raw, str) and raw.startswith("@"):
            wanted = raw[1:].lower()
            chat = next(
                (c for c in self._chats.values() if str(c.get("username", "")).lower() == wanted),
                None,
            )
        else:
            chat_id = p.integer(name)
            assert chat_id is not None
            chat = self._chats.get(chat_id)
            if chat is None and self.auto_create_chats:
                chat = (
                    self.group(chat_id, f"Group {chat_id}")
                    if chat_id < 0
                    else self._chats.get(self.user(chat_id, f"User {chat_id}")["id"])
                )
        if chat is None:
            raise _bad_request("chat not found")
        if check_blocked and chat["id"] in self._blocked:
            if chat["type"] == "private":
                raise _ApiError(403, "Forbidden: bot was blocked by the user")
            raise _ApiError(403, f"Forbidden: bot was kicked from the {chat['type']} chat")
        return chat

    def _formatted(
        self, p: _Params, name: str, entities_name: str, limit: int, *, required: bool
    ) -> tuple[str | None, list[JSONDict]]:
        raw = p.string(name)
        if raw is None or (not required and raw == ""):
            if required:
                raise _bad_request("message text is empty")
            return None, []
        try:
            text, entities = parse_formatted_text(
                raw, p.string("parse_mode"), p.json_list(entities_name)
            )
        except ValueError as exc:
            raise _bad_request(str(exc)) from exc
        if not text and required:
            raise _bad_request("message text is empty")
        if _u16len(text) > limit:
            raise _bad_request(
                "message is too long" if name == "text" else "message caption is too long"
            )
        return text, entities

    def _reply_markup(self, p: _Params, *, inline_only: bool = False) -> JSONDict | None:
        markup = p.json_dict("reply_markup")
        kind = _markup_kind(markup)
        if markup is None:
            return None
        if kind == "unknown":
            raise _bad_request("can't parse reply keyboard markup JSON object")
        if inline_only and kind != "inline_keyboard":
            raise _bad_request("inline keyboard expected")
        if kind == "inline_keyboard":
            rows = markup["inline_keyboard"]
            if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
                raise _bad_request(
                    'can\'t parse inline keyboard button: field "inline_keyboard" must be an Array of Arrays'
                )
            for row in rows:
                for button in row:
                    _check_inline_button(button)
        return markup

    def _reply_to(self, p: _Params, chat: JSONDict) -> JSONDict | None:
        reply = p.json_dict("reply_parameters")
        if reply is None and p.has("reply_to_message_id"):
            reply = {
                "message_id": p.integer("reply_to_message_id"),
                "allow_sending_without_reply": p.flag("allow_sending_without_reply"),
            }
        if reply is None:
            return None
        chat_id = chat["id"]
        if reply.get("chat_id") is not None:
            chat_id = _Params({"chat_id": reply["chat_id"]}).required_int("chat_id")
        replied = self._messages.get(chat_id, {}).get(int(reply.get("message_id") or 0))
        if replied is None:
            if reply.get("allow_sending_without_reply"):
                return None
            raise _bad_request("message to be replied not found")
        return _without_reply(replied)

    def _deliver(
        self,
        method: str,
        p: _Params,
        chat: JSONDict,
        content: JSONDict,
        markup: JSONDict | None,
        *,
        raw_text: str | None,
        reply_to: JSONDict | None = None,
    ) -> JSONDict:
        """Store a new bot message, update keyboard state, record it; returns a copy."""
        message: JSONDict = {
            "message_id": self._new_message_id(chat["id"]),
            "from": copy.deepcopy(self.bot_user),
            "chat": copy.deepcopy(chat),
            "date": _now(),
        }
        if reply_to is not None:
            message["reply_to_message"] = reply_to
        message.update(content)
        kind = _markup_kind(markup)
        if kind == "inline_keyboard":
            # Only inline keyboards belong to a message; reply keyboards belong to the chat.
            message["reply_markup"] = markup
        elif kind == "keyboard" and markup is not None:
            self._reply_keyboards[chat["id"]] = markup
        elif kind == "remove_keyboard":
            self._reply_keyboards.pop(chat["id"], None)
        self._messages.setdefault(chat["id"], {})[message["message_id"]] = message
        self._record(method, p, message, raw_text=raw_text, markup=markup)
        return copy.deepcopy(message)

    def _record(
        self,
        method: str,
        p: _Params,
        message: JSONDict,
        *,
        raw_text: str | None,
        markup: JSONDict | None,
    ) -> None:
        photo = message.get("photo")
        media = next((message[k] for k in _MEDIA_KINDS if k != "photo" and k in message), None)
        params = {
            k: v for k, v in p.values.items() if k != "_uploads" and not isinstance(v, _Upload)
        }
        record = Outgoing(
            seq=len(self._sent),
            method=method,
            chat_id=int(message["chat"]["id"]),
            message_id=int(message["message_id"]),
            text=message.get("text", message.get("caption")),
            raw_text=raw_text,
            parse_mode=p.string("parse_mode"),
            reply_markup=copy.deepcopy(markup),
            photo=photo[-1]["file_id"] if photo else None,
            location=copy.deepcopy(message.get("location")),
            media=copy.deepcopy(media),
            media_group_id=message.get("media_group_id"),
            message=copy.deepcopy(message),
            params=copy.deepcopy(params),
            at=time.monotonic(),
        )
        self._sent.append(record)

    def _send_message(self, p: _Params) -> JSONDict:
        with self._lock:
            chat = self._chat_for(p)
            text, entities = self._formatted(p, "text", "entities", MAX_TEXT_LENGTH, required=True)
            markup = self._reply_markup(p)
            reply_to = self._reply_to(p, chat)
            content: JSONDict = {"text": text}
            if entities:
                content["entities"] = entities
            preview = p.json_dict("link_preview_options")
            if preview is None and p.flag("disable_web_page_preview"):
                preview = {"is_disabled": True}
            if preview:
                content["link_preview_options"] = preview
            return self._deliver(
                "sendMessage",
                p,
                chat,
                content,
                markup,
                raw_text=p.string("text"),
                reply_to=reply_to,
            )

    def _send_media(self, p: _Params, kind: str, method: str) -> JSONDict:
        with self._lock:
            chat = self._chat_for(p)
            caption: str | None = None
            entities: list[JSONDict] = []
            if kind != "sticker":
                caption, entities = self._formatted(
                    p, "caption", "caption_entities", MAX_CAPTION_LENGTH, required=False
                )
            markup = self._reply_markup(p)
            reply_to = self._reply_to(p, chat)
            content: JSONDict = {kind: self._input_file(p.get(kind), kind, p.get("_uploads", {}))}
            if caption:
                content["caption"] = caption
                if entities:
                    content["caption_entities"] = entities
            if p.flag("has_spoiler"):
                content["has_media_spoiler"] = True
            return self._deliver(
                method, p, chat, content, markup, raw_text=p.string("caption"), reply_to=reply_to
            )

    def _send_media_group(self, p: _Params) -> list[JSONDict]:
        with self._lock:
            chat = self._chat_for(p)
            items = p.json_list("media")
            if not items or not 2 <= len(items) <= 10:
                raise _bad_request("media group must include 2-10 items")
            reply_to = self._reply_to(p, chat)
            uploads: Mapping[str, _Upload] = p.get("_uploads", {})
            prepared: list[tuple[JSONDict, _Params]] = []
            for item in items:
                if not isinstance(item, dict) or item.get("type") not in (
                    "photo",
                    "video",
                    "document",
                    "audio",
                ):
                    raise _bad_request("can't parse InputMedia: unsupported media type")
                item_params = _Params(
                    {k: _decode_param(k, v) for k, v in item.items() if k != "media"}
                )
                caption, entities = self._formatted(
                    item_params, "caption", "caption_entities", MAX_CAPTION_LENGTH, required=False
                )
                content: JSONDict = {
                    item["type"]: self._input_file(item.get("media"), item["type"], uploads)
                }
                if caption:
                    content["caption"] = caption
                    if entities:
                        content["caption_entities"] = entities
                prepared.append((content, item_params))
            self._media_group_seq += 1
            group_id = f"{self.bot_id}{self._media_group_seq:08d}"
            messages = []
            for content, item_params in prepared:
                content["media_group_id"] = group_id
                merged = _Params({**p.values, **item_params.values})
                messages.append(
                    self._deliver(
                        "sendMediaGroup",
                        merged,
                        chat,
                        content,
                        None,
                        raw_text=item_params.string("caption"),
                        reply_to=copy.deepcopy(reply_to),
                    )
                )
            return messages

    def _send_location(self, p: _Params) -> JSONDict:
        with self._lock:
            chat = self._chat_for(p)
            latitude = p.number("latitude")
            longitude = p.number("longitude")
            if latitude is None or not -90 <= latitude <= 90:
                raise _bad_request("wrong latitude")
            if longitude is None or not -180 <= longitude <= 180:
                raise _bad_request("wrong longitude")
            markup = self._reply_markup(p)
            reply_to = self._reply_to(p, chat)
            location: JSONDict = {"latitude": latitude, "longitude": longitude}
            for extra in ("horizontal_accuracy", "live_period", "heading"):
                if p.has(extra):
                    location[extra] = p.number(extra)
            return self._deliver(
                "sendLocation",
                p,
                chat,
                {"location": location},
                markup,
                raw_text=None,
                reply_to=reply_to,
            )

    def _send_contact(self, p: _Params) -> JSONDict:
        with self._lock:
            chat = self._chat_for(p)
            phone = p.string("phone_number")
            first_name = p.string("first_name")
            if not phone or not first_name:
                raise _bad_request("phone_number and first_name are required")
            contact: JSONDict = {"phone_number": phone, "first_name": first_name}
            if p.string("last_name"):
                contact["last_name"] = p.string("last_name")
            markup = self._reply_markup(p)
            return self._deliver(
                "sendContact", p, chat, {"contact": contact}, markup, raw_text=None
            )

    def _send_chat_action(self, p: _Params) -> bool:
        with self._lock:
            chat = self._chat_for(p)
            action = p.string("action")
            if action not in _CHAT_ACTIONS:
                raise _bad_request("wrong parameter action in request")
            self.chat_actions.append((int(chat["id"]), action))
        return True

    def _forward(self, p: _Params, *, copy_only: bool) -> JSONDict:
        with self._lock:
            chat = self._chat_for(p)
            source_chat = self._chat_for(p, "from_chat_id", check_blocked=False)
            message_id = p.required_int("message_id", "message identifier is not specified")
            original = self._messages.get(source_chat["id"], {}).get(message_id)
            if original is None:
                raise _bad_request(
                    "message to copy not found" if copy_only else "message to forward not found"
                )
            content: JSONDict = {
                k: copy.deepcopy(original[k]) for k in _CONTENT_KEYS if k in original
            }
            markup: JSONDict | None = None
            method = "forwardMessage"
            if copy_only:
                method = "copyMessage"
                markup = self._reply_markup(p)
                if p.has("caption") and any(k in content for k in _MEDIA_KINDS):
                    caption, entities = self._formatted(
                        p, "caption", "caption_entities", MAX_CAPTION_LENGTH, required=False
                    )
                    content.pop("caption", None)
                    content.pop("caption_entities", None)
                    if caption:
                        content["caption"] = caption
                        if entities:
                            content["caption_entities"] = entities
            else:
                sender = original.get("from")
                content["forward_origin"] = (
                    {"type": "user", "sender_user": copy.deepcopy(sender), "date": original["date"]}
                    if sender
                    else {
                        "type": "chat",
                        "sender_chat": copy.deepcopy(source_chat),
                        "date": original["date"],
                    }
                )
            message = self._deliver(
                method,
                p,
                chat,
                content,
                markup,
                raw_text=content.get("text", content.get("caption")),
                reply_to=self._reply_to(p, chat) if copy_only else None,
            )
            return {"message_id": message["message_id"]} if copy_only else message

    # ---------------------------------------------------------------- editing

    def _editable(self, p: _Params) -> JSONDict:
        if p.has("inline_message_id"):
            # Inline mode is not emulated, so no inline message can exist.
            raise _bad_request("message to edit not found")
        chat = self._chat_for(p)
        message_id = p.required_int("message_id", "message identifier is not specified")
        message = self._messages.get(chat["id"], {}).get(message_id)
        if message is None:
            raise _bad_request("message to edit not found")
        if message.get("from", {}).get("id") != self.bot_id:
            raise _bad_request("message can't be edited")
        return message

    def _apply_edit(
        self, method: str, p: _Params, message: JSONDict, changes: JSONDict, *, raw_text: str | None
    ) -> JSONDict:
        """Apply `changes` (value None = remove the field) unless nothing would change."""
        if all(message.get(k) == v for k, v in changes.items()):
            raise _bad_request(
                "message is not modified: specified new message content and reply markup are "
                "exactly the same as a current content and reply markup of the message"
            )
        for key, value in changes.items():
            if value is None:
                message.pop(key, None)
            else:
                message[key] = value
        message["edit_date"] = _now()
        self._record(method, p, message, raw_text=raw_text, markup=changes.get("reply_markup"))
        return copy.deepcopy(message)

    def _edit_message_text(self, p: _Params) -> JSONDict:
        with self._lock:
            message = self._editable(p)
            if "text" not in message:
                raise _bad_request("there is no text in the message to edit")
            text, entities = self._formatted(p, "text", "entities", MAX_TEXT_LENGTH, required=True)
            # Like Telegram: an edit without reply_markup removes the inline keyboard.
            changes: JSONDict = {
                "text": text,
                "entities": entities or None,
                "reply_markup": self._reply_markup(p, inline_only=True),
            }
            if p.has("link_preview_options"):
                changes["link_preview_options"] = p.json_dict("link_preview_options")
            return self._apply_edit(
                "editMessageText", p, message, changes, raw_text=p.string("text")
            )

    def _edit_message_caption(self, p: _Params) -> JSONDict:
        with self._lock:
            message = self._editable(p)
            if not any(k in message for k in _MEDIA_KINDS if k != "sticker"):
                raise _bad_request("there is no caption in the message to edit")
            caption, entities = self._formatted(
                p, "caption", "caption_entities", MAX_CAPTION_LENGTH, required=False
            )
            changes: JSONDict = {
                "caption": caption or None,
                "caption_entities": entities or None,
                "reply_markup": self._reply_markup(p, inline_only=True),
            }
            return self._apply_edit(
                "editMessageCaption", p, message, changes, raw_text=p.string("caption")
            )

    def _edit_message_reply_markup(self, p: _Params) -> JSONDict:
        with self._lock:
            message = self._editable(p)
            changes: JSONDict = {"reply_markup": self._reply_markup(p, inline_only=True)}
            return self._apply_edit(
                "editMessageReplyMarkup",
                p,
                message,
                changes,
                raw_text=message.get("text", message.get("caption")),
            )

    def _delete_one(self, p: _Params, chat: JSONDict, message_id: int) -> bool:
        message = self._messages.get(chat["id"], {}).pop(message_id, None)
        if message is None:
            return False
        self._record("deleteMessage", p, message, raw_text=None, markup=None)
        return True

    def _delete_message(self, p: _Params) -> bool:
        with self._lock:
            chat = self._chat_for(p)
            message_id = p.required_int("message_id", "message identifier is not specified")
            if not self._delete_one(p, chat, message_id):
                raise _bad_request("message to delete not found")
        return True

    def _delete_messages(self, p: _Params) -> bool:
        with self._lock:
            chat = self._chat_for(p)
            ids = p.json_list("message_ids") or []
            if not 1 <= len(ids) <= 100:
                raise _bad_request("message_ids must contain 1-100 identifiers")
            for message_id in ids:
                self._delete_one(p, chat, int(message_id))
        return True

    def _answer_callback_query(self, p: _Params) -> bool:
        with self._lock:
            query_id = p.string("callback_query_id") or ""
            query = self._callbacks.get(query_id)
            if query is None or query["answered"]:
                raise _bad_request(
                    "query is too old and response timeout expired or query ID is invalid"
                )
            query["answered"] = True
            self._answered.append(
                AnsweredCallback(
                    callback_query_id=query_id,
                    data=query["data"],
                    chat_id=query["chat_id"],
                    message_id=query["message_id"],
                    text=p.string("text"),
                    show_alert=p.flag("show_alert"),
                    url=p.string("url"),
                    cache_time=p.integer("cache_time", 0) or 0,
                    at=time.monotonic(),
                )
            )
        return True

    # ---------------------------------------------------------------- files and chats

    def _get_file(self, p: _Params) -> JSONDict:
        with self._lock:
            stored = self._files.get(p.string("file_id") or "")
            if stored is None:
                raise _bad_request("invalid file_id")
            if len(stored.data) > MAX_DOWNLOAD_BYTES:
                raise _bad_request("file is too big")
            return {
                "file_id": stored.file_id,
                "file_unique_id": stored.file_unique_id,
                "file_size": len(stored.data),
                "file_path": stored.file_path,
            }

    def _get_chat(self, p: _Params) -> JSONDict:
        with self._lock:
            chat = self._chat_for(p, check_blocked=False)
            info = copy.deepcopy(chat)
            info.update(
                accent_color_id=0,
                max_reaction_count=11,
                accepted_gift_types={
                    "unlimited_gifts": False,
                    "limited_gifts": False,
                    "unique_gifts": False,
                    "premium_subscription": False,
                    "gifts_from_channels": False,
                },
            )
            return info

    def _get_chat_member(self, p: _Params) -> JSONDict:
        with self._lock:
            chat = self._chat_for(p, check_blocked=False)
            user_id = p.required_int("user_id", "user not found")
            if user_id == self.bot_id:
                user = copy.deepcopy(self.bot_user)
            elif user_id in self._users:
                user = copy.deepcopy(self._users[user_id])
            else:
                raise _bad_request("user not found")
            status = self._members.get((chat["id"], user_id), "member")
            if chat["id"] in self._blocked and user_id == self.bot_id:
                status = "kicked"
            member: JSONDict = {"status": status, "user": user}
            if status == "creator":
                member["is_anonymous"] = False
            elif status == "administrator":
                member.update(
                    can_be_edited=False,
                    is_anonymous=False,
                    can_manage_chat=True,
                    can_delete_messages=True,
                    can_manage_video_chats=True,
                    can_restrict_members=True,
                    can_promote_members=False,
                    can_change_info=True,
                    can_invite_users=True,
                    can_post_stories=False,
                    can_edit_stories=False,
                    can_delete_stories=False,
                )
            elif status == "kicked":
                member["until_date"] = 0
            return member


# --------------------------------------------------------------------------------------------
# Module helpers used by the emulator
# --------------------------------------------------------------------------------------------


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def _error_response(status: int, description: str, retry_after: int | None = None) -> web.Response:
    body: JSONDict = {"ok": False, "error_code": status, "description": description}
    if retry_after is not None:
        body["parameters"] = {"retry_after": retry_after}
    return web.json_response(body, status=status, dumps=_dumps)


def _command_entities(text: str) -> list[JSONDict]:
    """bot_command entities for every /command, as Telegram clients attach them."""
    entities = []
    for match in _COMMAND_RE.finditer(text):
        entities.append(
            {
                "type": "bot_command",
                "offset": _u16len(text[: match.start()]),
                "length": _u16len(match.group()),
            }
        )
    return entities


def _without_reply(message: JSONDict) -> JSONDict:
    """A message as embedded in reply_to_message: Telegram does not nest replies further."""
    embedded = copy.deepcopy(message)
    embedded.pop("reply_to_message", None)
    return embedded


def _commands_key(scope: JSONDict | None, language_code: str) -> tuple[str, str]:
    return json.dumps(scope or {"type": "default"}, sort_keys=True), language_code


def _check_inline_button(button: Any) -> None:
    if not isinstance(button, dict) or not str(button.get("text", "")):
        raise _bad_request(
            "can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard"
        )
    actions = [
        k
        for k in (
            "url",
            "callback_data",
            "web_app",
            "login_url",
            "switch_inline_query",
            "switch_inline_query_current_chat",
            "switch_inline_query_chosen_chat",
            "copy_text",
            "callback_game",
            "pay",
        )
        if k in button
    ]
    if not actions:
        raise _bad_request(
            "can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard"
        )
    data = button.get("callback_data")
    if data is not None and not 1 <= len(str(data).encode("utf-8")) <= MAX_CALLBACK_DATA_BYTES:
        raise _bad_request("BUTTON_DATA_INVALID")
    url = button.get("url")
    if url is not None and not re.match(r"^(https?|tg)://\S+$", str(url)):
        raise _bad_request("BUTTON_URL_INVALID")
