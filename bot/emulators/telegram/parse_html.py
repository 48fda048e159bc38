# parse_mode=HTML, ported from TDLib: tags to entities, HTML character references decoded,
# and Telegram's own error messages for malformed markup.
from __future__ import annotations

import re
from typing import Final

from bot.emulators.telegram.entities import _byte_offset, _entity, _EntityParseError, _u16len
from bot.emulators.telegram.limits import JSONDict

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
