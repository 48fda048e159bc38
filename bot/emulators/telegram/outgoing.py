# What every method that sends or edits a bot message shares: resolving the target chat,
# formatted text, reply markup and replies, storing the message and recording it in `sent`.
from __future__ import annotations

import copy
import time

from bot.emulators.telegram.chats import ChatsMixin
from bot.emulators.telegram.entities import _u16len
from bot.emulators.telegram.errors import _ApiError, _bad_request
from bot.emulators.telegram.formatting import parse_formatted_text
from bot.emulators.telegram.limits import _MEDIA_KINDS, JSONDict
from bot.emulators.telegram.markup import _check_inline_button, _markup_kind
from bot.emulators.telegram.params import _Params
from bot.emulators.telegram.records import Outgoing, _Upload
from bot.emulators.telegram.state import _now, _without_reply


class OutgoingMixin(ChatsMixin):
    """Helpers of the sending and editing methods."""

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
