# Users and chats: registered through the control API (or adopted from raw updates), and
# resolved when the control API acts on behalf of a user.
from __future__ import annotations

import copy
from collections.abc import Mapping

from bot.emulators.telegram.limits import JSONDict
from bot.emulators.telegram.state import EmulatorState


class ChatsMixin(EmulatorState):
    """Control API: the users and chats the bot can talk to."""

    def user(
        self,
        user_id: int,
        first_name: str,
        username: str | None = None,
        *,
        last_name: str | None = None,
        language_code: str | None = "id",
    ) -> JSONDict:
        """Register (or update) a user and their private chat; returns the User dict."""
        if user_id <= 0:
            raise ValueError("user ids are positive")
        user: JSONDict = {"id": user_id, "is_bot": False, "first_name": first_name}
        if last_name:
            user["last_name"] = last_name
        if username:
            user["username"] = username
        if language_code:
            user["language_code"] = language_code
        chat: JSONDict = {"id": user_id, "type": "private", "first_name": first_name}
        if last_name:
            chat["last_name"] = last_name
        if username:
            chat["username"] = username
        with self._lock:
            self._users[user_id] = user
            self._chats[user_id] = chat
        return copy.deepcopy(user)

    def group(
        self, chat_id: int, title: str, *, chat_type: str | None = None, username: str | None = None
    ) -> JSONDict:
        """Register a group; ids starting with -100 are supergroups unless chat_type says."""
        if chat_id >= 0:
            raise ValueError("group chat ids are negative")
        kind = chat_type or ("supergroup" if str(chat_id).startswith("-100") else "group")
        chat: JSONDict = {"id": chat_id, "type": kind, "title": title}
        if username:
            chat["username"] = username
        with self._lock:
            self._chats[chat_id] = chat
        return copy.deepcopy(chat)

    def block(self, chat_id: int) -> None:
        """The user blocked the bot (or the bot was kicked from the group): sends answer 403."""
        with self._lock:
            self._blocked.add(chat_id)

    def unblock(self, chat_id: int) -> None:
        with self._lock:
            self._blocked.discard(chat_id)

    def set_member_status(self, chat_id: int, user_id: int, status: str) -> None:
        """What getChatMember answers for that user: member, administrator, creator, left, kicked."""
        if status not in ("member", "administrator", "creator", "left", "kicked"):
            raise ValueError(f"unsupported chat member status {status!r}")
        with self._lock:
            self._members[(chat_id, user_id)] = status

    def _resolve_user(self, user: JSONDict | int) -> JSONDict:
        with self._lock:
            if isinstance(user, Mapping):
                user_id = int(user["id"])
                if user_id not in self._users:
                    self.user(
                        user_id,
                        str(user.get("first_name", f"User {user_id}")),
                        user.get("username"),
                        last_name=user.get("last_name"),
                        language_code=user.get("language_code"),
                    )
                return self._users[user_id]
            if int(user) not in self._users:
                raise ValueError(f"unknown user {user}; register it with user() first")
            return self._users[int(user)]

    def _chat_id_of(self, chat: JSONDict | int) -> int:
        return int(chat["id"]) if isinstance(chat, Mapping) else int(chat)

    def _resolve_chat(self, user: JSONDict, chat: JSONDict | int | None) -> JSONDict:
        if chat is None:
            return self._chats[int(user["id"])]
        chat_id = self._chat_id_of(chat)
        if chat_id not in self._chats:
            if isinstance(chat, Mapping):
                self._chats[chat_id] = copy.deepcopy(dict(chat))
            else:
                raise ValueError(f"unknown chat {chat_id}; register it with group() first")
        return self._chats[chat_id]
