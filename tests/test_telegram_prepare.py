"""The fast reading of plain updates (text, button press) straight from their JSON gives what
PTB's reading gives (bot/channels/telegram.py, TelegramChannel._prepare_plain)."""
from __future__ import annotations

import types
from typing import Any

import pytest
from telegram import Bot, Update

from bot.channels.telegram import TelegramChannel

USER = {"id": 5, "is_bot": False, "first_name": "A", "last_name": "B"}
PRIVATE = {"id": 5, "type": "private", "first_name": "A"}
GROUP = {"id": -100, "type": "supergroup", "title": "g"}


def message(chat: dict[str, Any], text: str, user: dict[str, Any] = USER) -> dict[str, Any]:
    return {"message_id": 1, "date": 1, "chat": chat, "from": user, "text": text}


PAYLOADS = [
    {"update_id": 1, "message": message(PRIVATE, "/start x  y ")},
    {"update_id": 2, "message": message(GROUP, "/start@OtherBot")},
    {"update_id": 3, "message": message(GROUP, "/Start@sigapbot a")},
    {"update_id": 4, "message": message(GROUP, "hi", {**USER, "is_bot": True})},
    {"update_id": 5, "message": message(PRIVATE, "halo", {"id": 6, "is_bot": False, "first_name": "Z"})},
    {"update_id": 6, "callback_query": {"id": "77", "chat_instance": "c", "from": USER, "data": "m:1",
                                        "message": {"message_id": 9, "date": 1, "chat": GROUP, "text": "x"}}},
    {"update_id": 7, "callback_query": {"id": "78", "chat_instance": "c", "from": USER, "data": "m:1"}},
    {"update_id": 8, "callback_query": {"id": "79", "chat_instance": "c", "from": USER,
                                        "message": {"message_id": 9, "date": 0, "chat": PRIVATE}}},
]


@pytest.mark.parametrize("payload", PAYLOADS, ids=lambda p: str(p["update_id"]))
async def test_plain_reading_matches_ptb(payload: dict[str, Any]) -> None:
    channel = TelegramChannel.__new__(TelegramChannel)
    channel.rt = types.SimpleNamespace(bot_username="SigapBot")  # type: ignore[assignment]
    channel.bot = Bot("1:x")
    channel.bot_kode = None  # the shared bot
    channel.username = "SigapBot"
    fast = channel._prepare_plain(payload)
    assert fast is not None
    assert fast == await channel.prepare(Update.de_json(payload, channel.bot))


def test_other_updates_go_through_ptb() -> None:
    channel = TelegramChannel.__new__(TelegramChannel)
    photo = {"update_id": 9, "message": {"message_id": 1, "date": 1, "chat": PRIVATE, "from": USER,
                                         "photo": [{"file_id": "f", "file_unique_id": "u", "width": 1, "height": 1}]}}
    assert channel._prepare_plain(photo) is None
    assert channel._prepare_plain({"update_id": 10, "message": {"text": "no chat"}}) is None
