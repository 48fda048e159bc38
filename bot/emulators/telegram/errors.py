# Bot API error answers: the exception a method handler raises, and the HTTP response.
#
# A handler raises _ApiError (usually via _bad_request) with the exact text Telegram sends;
# server.py turns it into the `{"ok": false, ...}` answer PTB maps onto its exceptions.
from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from bot.emulators.telegram.limits import JSONDict


class _ApiError(Exception):
    """A Bot API error answer; `description` is the full text Telegram would send."""

    def __init__(self, status: int, description: str, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.retry_after = retry_after


def _bad_request(detail: str) -> _ApiError:
    return _ApiError(400, f"Bad Request: {detail}")


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def _error_response(status: int, description: str, retry_after: int | None = None) -> web.Response:
    body: JSONDict = {"ok": False, "error_code": status, "description": description}
    if retry_after is not None:
        body["parameters"] = {"retry_after": retry_after}
    return web.json_response(body, status=status, dumps=_dumps)
