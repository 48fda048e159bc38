# Message entities: the UTF-16 arithmetic of their offsets and the helpers that build them.
#
# Shared by the parse_mode parsers and by the control API (bot_command entities of what a
# user types).
from __future__ import annotations

import re
from typing import Final

from bot.emulators.telegram.limits import JSONDict

_COMMAND_RE: Final = re.compile(r"(?<!\S)/[A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9_]{3,32})?")


class _EntityParseError(Exception):
    pass


def _u16len(text: str) -> int:
    """Length in UTF-16 code units: the unit of Telegram entity offsets."""
    return len(text) + sum(1 for ch in text if ord(ch) > 0xFFFF)


def _byte_offset(text: str, index: int) -> int:
    """UTF-8 byte offset of text[index], which is how Telegram reports parse errors."""
    return len(text[:index].encode("utf-8"))


def _entity(kind: str, offset: int, length: int, argument: str | None = None) -> JSONDict:
    entity: JSONDict = {"type": kind, "offset": offset, "length": length}
    if kind == "text_link":
        entity["url"] = argument
    elif kind == "pre" and argument:
        entity["language"] = argument
    elif kind == "custom_emoji":
        entity["custom_emoji_id"] = argument
    return entity


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
