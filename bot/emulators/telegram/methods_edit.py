# Bot API methods that change what the user already sees: edits, deletions, and answers to
# button presses.
from __future__ import annotations

import copy
import time

from bot.emulators.telegram.errors import _bad_request
from bot.emulators.telegram.limits import (
    _MEDIA_KINDS,
    MAX_CAPTION_LENGTH,
    MAX_TEXT_LENGTH,
    JSONDict,
)
from bot.emulators.telegram.outgoing import OutgoingMixin
from bot.emulators.telegram.params import _Params
from bot.emulators.telegram.records import AnsweredCallback
from bot.emulators.telegram.state import _now


class EditMethodsMixin(OutgoingMixin):
    """editMessageText / Caption / ReplyMarkup, deleteMessage(s), answerCallbackQuery."""

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
