# Formatted text (parse_mode) - a port of TDLib's parsers, which is what the Bot API runs.
#
# parse_formatted_text is the entry point; the HTML parser lives in parse_html.py and the
# MarkdownV2 / legacy Markdown parsers in parse_markdown.py.
from __future__ import annotations

from bot.emulators.telegram.entities import _EntityParseError, _u16len
from bot.emulators.telegram.limits import JSONDict
from bot.emulators.telegram.parse_html import _parse_html
from bot.emulators.telegram.parse_markdown import _parse_markdown, _parse_markdown_v2


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
