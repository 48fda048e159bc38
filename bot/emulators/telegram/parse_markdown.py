# parse_mode=MarkdownV2 and the legacy parse_mode=Markdown, ported from TDLib, with
# Telegram's own error messages (reserved characters, unclosed entities).
from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from bot.emulators.telegram.entities import _byte_offset, _entity, _EntityParseError, _u16len
from bot.emulators.telegram.limits import JSONDict

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
