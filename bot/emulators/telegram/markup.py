# Keyboards: flattening them for tests (buttons) and checking reply_markup like Telegram.
from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from bot.emulators.telegram.errors import _bad_request
from bot.emulators.telegram.limits import MAX_CALLBACK_DATA_BYTES


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


def _markup_kind(markup: Mapping[str, Any] | None) -> str | None:
    if not markup:
        return None
    for kind in ("inline_keyboard", "keyboard", "remove_keyboard", "force_reply"):
        if kind in markup:
            return kind
    return "unknown"


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
