# Request parameters: decoding what PTB sends (JSON, urlencoded or multipart) into typed
# values, with the validation errors Telegram answers.
from __future__ import annotations

import contextlib
import json
from collections.abc import Callable
from typing import Any, Final

from bot.emulators.telegram.errors import _bad_request
from bot.emulators.telegram.limits import JSONDict

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


# A Bot API method handler: decoded parameters in, the `result` of the answer out (or an
# awaitable of it, for long polls).
_Handler = Callable[[_Params], Any]
