# Bot API methods about the bot itself and its chats: getMe, getChat, getChatMember, the
# command menu (setMyCommands ...), the bot's name and descriptions, and the menu button.
from __future__ import annotations

import copy
import json
import re
from typing import Final

from bot.emulators.telegram.errors import _bad_request
from bot.emulators.telegram.limits import JSONDict
from bot.emulators.telegram.outgoing import OutgoingMixin
from bot.emulators.telegram.params import _Params

_BOT_COMMAND_NAME_RE: Final = re.compile(r"^[a-z0-9_]{1,32}$")


def _commands_key(scope: JSONDict | None, language_code: str) -> tuple[str, str]:
    return json.dumps(scope or {"type": "default"}, sort_keys=True), language_code


class ChatMethodsMixin(OutgoingMixin):
    """getMe, getChat, getChatMember, bot commands, bot texts and the menu button."""

    def _get_me(self) -> JSONDict:
        return {
            **self.bot_user,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    def _get_chat(self, p: _Params) -> JSONDict:
        with self._lock:
            chat = self._chat_for(p, check_blocked=False)
            info = copy.deepcopy(chat)
            info.update(
                accent_color_id=0,
                max_reaction_count=11,
                accepted_gift_types={
                    "unlimited_gifts": False,
                    "limited_gifts": False,
                    "unique_gifts": False,
                    "premium_subscription": False,
                    "gifts_from_channels": False,
                },
            )
            return info

    def _get_chat_member(self, p: _Params) -> JSONDict:
        with self._lock:
            chat = self._chat_for(p, check_blocked=False)
            user_id = p.required_int("user_id", "user not found")
            if user_id == self.bot_id:
                user = copy.deepcopy(self.bot_user)
            elif user_id in self._users:
                user = copy.deepcopy(self._users[user_id])
            else:
                raise _bad_request("user not found")
            status = self._members.get((chat["id"], user_id), "member")
            if chat["id"] in self._blocked and user_id == self.bot_id:
                status = "kicked"
            member: JSONDict = {"status": status, "user": user}
            if status == "creator":
                member["is_anonymous"] = False
            elif status == "administrator":
                member.update(
                    can_be_edited=False,
                    is_anonymous=False,
                    can_manage_chat=True,
                    can_delete_messages=True,
                    can_manage_video_chats=True,
                    can_restrict_members=True,
                    can_promote_members=False,
                    can_change_info=True,
                    can_invite_users=True,
                    can_post_stories=False,
                    can_edit_stories=False,
                    can_delete_stories=False,
                )
            elif status == "kicked":
                member["until_date"] = 0
            return member

    def _set_my_commands(self, p: _Params) -> bool:
        commands = p.json_list("commands")
        if commands is None:
            raise _bad_request('parameter "commands" is required')
        if len(commands) > 100:
            raise _bad_request("BOT_COMMANDS_TOO_MUCH")
        cleaned: list[JSONDict] = []
        for command in commands:
            if not isinstance(command, dict):
                raise _bad_request("can't parse BotCommand")
            name = str(command.get("command", "")).removeprefix("/")
            description = str(command.get("description", ""))
            if not _BOT_COMMAND_NAME_RE.match(name):
                raise _bad_request("BOT_COMMAND_INVALID")
            if not 1 <= len(description) <= 256:
                raise _bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
            cleaned.append({"command": name, "description": description})
        key = _commands_key(p.json_dict("scope"), p.string("language_code") or "")
        with self._lock:
            self._commands[key] = cleaned
        return True

    def _get_my_commands(self, p: _Params) -> list[JSONDict]:
        key = _commands_key(p.json_dict("scope"), p.string("language_code") or "")
        with self._lock:
            return copy.deepcopy(self._commands.get(key, []))

    def _delete_my_commands(self, p: _Params) -> bool:
        key = _commands_key(p.json_dict("scope"), p.string("language_code") or "")
        with self._lock:
            self._commands.pop(key, None)
        return True

    def _set_bot_text(self, p: _Params, field_name: str) -> bool:
        with self._lock:
            self._bot_texts[f"{field_name}:{p.string('language_code') or ''}"] = (
                p.string(field_name) or ""
            )
        return True

    def _get_bot_text(self, p: _Params, field_name: str) -> JSONDict:
        with self._lock:
            key = f"{field_name}:{p.string('language_code') or ''}"
            default = self.bot_user["first_name"] if field_name == "name" else ""
            return {field_name: self._bot_texts.get(key, default)}

    def _set_chat_menu_button(self, p: _Params) -> bool:
        with self._lock:
            self._menu_buttons[p.integer("chat_id")] = p.json_dict("menu_button") or {
                "type": "default"
            }
        return True

    def _get_chat_menu_button(self, p: _Params) -> JSONDict:
        with self._lock:
            chat_id = p.integer("chat_id")
            button = self._menu_buttons.get(chat_id) or self._menu_buttons.get(None)
            return copy.deepcopy(button or {"type": "default"})
