# Control API that plays the users: what they write, send, edit and tap, and raw updates.
#
# Each action stores the user's message like Telegram would and queues the matching update.
from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from bot.emulators.telegram.chats import ChatsMixin
from bot.emulators.telegram.entities import _command_entities
from bot.emulators.telegram.files import FilesMixin
from bot.emulators.telegram.limits import JSONDict
from bot.emulators.telegram.markup import buttons
from bot.emulators.telegram.state import _now, _without_reply
from bot.emulators.telegram.updates import UpdatesMixin


class UserActionsMixin(ChatsMixin, FilesMixin, UpdatesMixin):
    """Control API: users send messages, edit them, press buttons; raw updates."""

    def send_text(
        self,
        user: JSONDict | int,
        text: str,
        chat: JSONDict | int | None = None,
        *,
        reply_to: int | None = None,
        entities: list[JSONDict] | None = None,
    ) -> JSONDict:
        """A user writes `text`. /commands get bot_command entities like on Telegram."""
        found = entities if entities is not None else _command_entities(text)
        content: JSONDict = {"text": text}
        if found:
            content["entities"] = found
        return self._user_message(user, chat, content, reply_to=reply_to)

    def send_photo(
        self,
        user: JSONDict | int,
        data: bytes,
        caption: str | None = None,
        chat: JSONDict | int | None = None,
    ) -> JSONDict:
        with self._lock:
            sizes = self._store_photo(data)
        content: JSONDict = {"photo": sizes}
        if caption:
            content["caption"] = caption
        return self._user_message(user, chat, content)

    def send_location(
        self,
        user: JSONDict | int,
        latitude: float,
        longitude: float,
        chat: JSONDict | int | None = None,
    ) -> JSONDict:
        return self._user_message(
            user, chat, {"location": {"latitude": float(latitude), "longitude": float(longitude)}}
        )

    def send_contact(
        self,
        user: JSONDict | int,
        phone_number: str,
        chat: JSONDict | int | None = None,
        *,
        own: bool = True,
    ) -> JSONDict:
        """A shared contact; `own` makes it the sender's own (what request_contact sends)."""
        sender = self._resolve_user(user)
        contact: JSONDict = {"phone_number": phone_number, "first_name": sender["first_name"]}
        if own:
            contact["user_id"] = sender["id"]
        return self._user_message(sender, chat, {"contact": contact})

    def send_sticker(
        self, user: JSONDict | int, chat: JSONDict | int | None = None, *, emoji: str = "👍"
    ) -> JSONDict:
        with self._lock:
            stored = self._store_file("sticker", None)
        sticker = self._media_object(stored)
        sticker.update(
            type="regular", width=512, height=512, is_animated=False, is_video=False, emoji=emoji
        )
        return self._user_message(user, chat, {"sticker": sticker})

    def send_voice(
        self, user: JSONDict | int, chat: JSONDict | int | None = None, *, duration: int = 3
    ) -> JSONDict:
        with self._lock:
            stored = self._store_file("voice", None)
        voice = self._media_object(stored)
        voice["duration"] = duration
        return self._user_message(user, chat, {"voice": voice})

    def send_video(
        self,
        user: JSONDict | int,
        chat: JSONDict | int | None = None,
        *,
        duration: int = 5,
        caption: str | None = None,
    ) -> JSONDict:
        with self._lock:
            stored = self._store_file("video", None)
        video = self._media_object(stored)
        video.update(width=640, height=360, duration=duration)
        content: JSONDict = {"video": video}
        if caption:
            content["caption"] = caption
        return self._user_message(user, chat, content)

    def send_document(
        self,
        user: JSONDict | int,
        data: bytes,
        file_name: str,
        chat: JSONDict | int | None = None,
        *,
        mime_type: str | None = None,
        caption: str | None = None,
    ) -> JSONDict:
        with self._lock:
            stored = self._store_file("document", data, file_name=file_name, mime_type=mime_type)
        content: JSONDict = {"document": self._media_object(stored)}
        if caption:
            content["caption"] = caption
        return self._user_message(user, chat, content)

    def edit_text(
        self,
        user: JSONDict | int,
        message_id: int,
        text: str,
        chat: JSONDict | int | None = None,
    ) -> JSONDict:
        """The user edits one of their text messages: an edited_message update."""
        sender = self._resolve_user(user)
        with self._lock:
            target = self._resolve_chat(sender, chat)
            message = self._messages.get(target["id"], {}).get(message_id)
            if message is None or message.get("from", {}).get("id") != sender["id"]:
                raise ValueError(f"user {sender['id']} has no message {message_id} in that chat")
            message["text"] = text
            message.pop("entities", None)
            found = _command_entities(text)
            if found:
                message["entities"] = found
            message["edit_date"] = _now()
            return self._queue_update("edited_message", copy.deepcopy(message))

    def press(
        self,
        user: JSONDict | int,
        message: JSONDict | int,
        data: str,
        chat: JSONDict | int | None = None,
        *,
        strict: bool = True,
    ) -> JSONDict:
        """The user taps an inline button with callback_data `data` under a bot message.

        `message` is a Message dict (e.g. `Outgoing.message`) or a message_id in `chat`
        (default: the user's private chat). The callback carries the message as it is now.
        With `strict`, pressing a button the message does not currently show is a ValueError:
        real users cannot do that either.
        """
        sender = self._resolve_user(user)
        with self._lock:
            if isinstance(message, Mapping):
                message_id = int(message["message_id"])
                chat_id = int(message["chat"]["id"]) if chat is None else self._chat_id_of(chat)
            else:
                message_id = int(message)
                chat_id = self._resolve_chat(sender, chat)["id"]
            current = self._messages.get(chat_id, {}).get(message_id)
            if current is None:
                raise ValueError(f"no message {message_id} in chat {chat_id} (deleted?)")
            if strict:
                available = [cb for _text, cb in buttons(current.get("reply_markup"))]
                if data not in available:
                    raise ValueError(
                        f"message {message_id} in chat {chat_id} has no button with callback_data "
                        f"{data!r}; it shows {buttons(current.get('reply_markup'))!r}"
                    )
            self._callback_seq += 1
            query_id = f"{self.bot_id}{self._callback_seq:010d}"
            query: JSONDict = {
                "id": query_id,
                "from": copy.deepcopy(sender),
                "message": copy.deepcopy(current),
                "chat_instance": str(abs(hash((self.bot_id, chat_id)))),
                "data": data,
            }
            self._callbacks[query_id] = {
                "data": data,
                "chat_id": chat_id,
                "message_id": message_id,
                "answered": False,
            }
            return self._queue_update("callback_query", query)

    def inject(self, update: Mapping[str, Any]) -> JSONDict:
        """Queue a raw update; update_id is assigned when missing and must keep increasing.

        A new message in it (message / channel_post) is stored too, with its chat and sender,
        so the bot can reply to it, forward it or delete it like any other message.
        """
        payload = copy.deepcopy(dict(update))
        with self._lock:
            update_id = payload.pop("update_id", None)
            if update_id is not None:
                if int(update_id) < self._next_update_id:
                    raise ValueError(
                        f"update_id {update_id} would go backwards (next is {self._next_update_id})"
                    )
                self._next_update_id = int(update_id)
            kinds = list(payload)
            if len(kinds) != 1:
                raise ValueError("an update has exactly one field besides update_id")
            kind = kinds[0]
            if kind in ("message", "channel_post"):
                self._adopt_message(payload[kind])
            return self._queue_update(kind, payload[kind])

    def _user_message(
        self,
        user: JSONDict | int,
        chat: JSONDict | int | None,
        content: JSONDict,
        *,
        reply_to: int | None = None,
    ) -> JSONDict:
        sender = self._resolve_user(user)
        with self._lock:
            target = self._resolve_chat(sender, chat)
            message: JSONDict = {
                "message_id": self._new_message_id(target["id"]),
                "from": copy.deepcopy(sender),
                "chat": copy.deepcopy(target),
                "date": _now(),
                **copy.deepcopy(content),
            }
            if reply_to is not None:
                replied = self._messages.get(target["id"], {}).get(reply_to)
                if replied is None:
                    raise ValueError(f"no message {reply_to} to reply to in chat {target['id']}")
                message["reply_to_message"] = _without_reply(replied)
            self._messages.setdefault(target["id"], {})[message["message_id"]] = message
            # Typing into a one-time keyboard hides it, as the Telegram clients do.
            keyboard = self._reply_keyboards.get(target["id"])
            if keyboard and keyboard.get("one_time_keyboard"):
                del self._reply_keyboards[target["id"]]
            return self._queue_update("message", copy.deepcopy(message))

    def _adopt_message(self, message: Any) -> None:
        """Store a message that arrived in a raw update, registering its chat and sender."""
        if not isinstance(message, dict):
            return
        chat = message.get("chat")
        message_id = message.get("message_id")
        if not isinstance(chat, dict) or "id" not in chat or not isinstance(message_id, int):
            return
        chat_id = int(chat["id"])
        self._chats.setdefault(chat_id, copy.deepcopy(chat))
        sender = message.get("from")
        if isinstance(sender, dict) and "id" in sender and not sender.get("is_bot"):
            self._users.setdefault(int(sender["id"]), copy.deepcopy(sender))
        self._messages.setdefault(chat_id, {})[message_id] = copy.deepcopy(message)
        self._next_message_id[chat_id] = max(self._next_message_id.get(chat_id, 1), message_id + 1)
