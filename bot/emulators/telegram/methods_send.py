# Bot API methods that send new messages: text, media, media groups, locations, contacts,
# chat actions, forwards and copies.
from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Final

from bot.emulators.telegram.errors import _bad_request
from bot.emulators.telegram.files import FilesMixin
from bot.emulators.telegram.limits import (
    _MEDIA_KINDS,
    MAX_CAPTION_LENGTH,
    MAX_TEXT_LENGTH,
    JSONDict,
)
from bot.emulators.telegram.outgoing import OutgoingMixin
from bot.emulators.telegram.params import _decode_param, _Params
from bot.emulators.telegram.records import _Upload

_CHAT_ACTIONS: Final = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)


# Message fields that carry content (copied by forwardMessage / copyMessage).
_CONTENT_KEYS: Final = (
    "text",
    "entities",
    "link_preview_options",
    "photo",
    "document",
    "video",
    "audio",
    "voice",
    "animation",
    "sticker",
    "video_note",
    "caption",
    "caption_entities",
    "location",
    "venue",
    "contact",
)


class SendMethodsMixin(OutgoingMixin, FilesMixin):
    """sendMessage, send<Media>, sendLocation, sendContact, forwardMessage and the like."""

    def _send_message(self, p: _Params) -> JSONDict:
        with self._lock:
            chat = self._chat_for(p)
            text, entities = self._formatted(p, "text", "entities", MAX_TEXT_LENGTH, required=True)
            markup = self._reply_markup(p)
            reply_to = self._reply_to(p, chat)
            content: JSONDict = {"text": text}
            if entities:
                content["entities"] = entities
            preview = p.json_dict("link_preview_options")
            if preview is None and p.flag("disable_web_page_preview"):
                preview = {"is_disabled": True}
            if preview:
                content["link_preview_options"] = preview
            return self._deliver(
                "sendMessage",
                p,
                chat,
                content,
                markup,
                raw_text=p.string("text"),
                reply_to=reply_to,
            )

    def _send_media(self, p: _Params, kind: str, method: str) -> JSONDict:
        with self._lock:
            chat = self._chat_for(p)
            caption: str | None = None
            entities: list[JSONDict] = []
            if kind != "sticker":
                caption, entities = self._formatted(
                    p, "caption", "caption_entities", MAX_CAPTION_LENGTH, required=False
                )
            markup = self._reply_markup(p)
            reply_to = self._reply_to(p, chat)
            content: JSONDict = {kind: self._input_file(p.get(kind), kind, p.get("_uploads", {}))}
            if caption:
                content["caption"] = caption
                if entities:
                    content["caption_entities"] = entities
            if p.flag("has_spoiler"):
                content["has_media_spoiler"] = True
            return self._deliver(
                method, p, chat, content, markup, raw_text=p.string("caption"), reply_to=reply_to
            )

    def _send_media_group(self, p: _Params) -> list[JSONDict]:
        with self._lock:
            chat = self._chat_for(p)
            items = p.json_list("media")
            if not items or not 2 <= len(items) <= 10:
                raise _bad_request("media group must include 2-10 items")
            reply_to = self._reply_to(p, chat)
            uploads: Mapping[str, _Upload] = p.get("_uploads", {})
            prepared: list[tuple[JSONDict, _Params]] = []
            for item in items:
                if not isinstance(item, dict) or item.get("type") not in (
                    "photo",
                    "video",
                    "document",
                    "audio",
                ):
                    raise _bad_request("can't parse InputMedia: unsupported media type")
                item_params = _Params(
                    {k: _decode_param(k, v) for k, v in item.items() if k != "media"}
                )
                caption, entities = self._formatted(
                    item_params, "caption", "caption_entities", MAX_CAPTION_LENGTH, required=False
                )
                content: JSONDict = {
                    item["type"]: self._input_file(item.get("media"), item["type"], uploads)
                }
                if caption:
                    content["caption"] = caption
                    if entities:
                        content["caption_entities"] = entities
                prepared.append((content, item_params))
            self._media_group_seq += 1
            group_id = f"{self.bot_id}{self._media_group_seq:08d}"
            messages = []
            for content, item_params in prepared:
                content["media_group_id"] = group_id
                merged = _Params({**p.values, **item_params.values})
                messages.append(
                    self._deliver(
                        "sendMediaGroup",
                        merged,
                        chat,
                        content,
                        None,
                        raw_text=item_params.string("caption"),
                        reply_to=copy.deepcopy(reply_to),
                    )
                )
            return messages

    def _send_location(self, p: _Params) -> JSONDict:
        with self._lock:
            chat = self._chat_for(p)
            latitude = p.number("latitude")
            longitude = p.number("longitude")
            if latitude is None or not -90 <= latitude <= 90:
                raise _bad_request("wrong latitude")
            if longitude is None or not -180 <= longitude <= 180:
                raise _bad_request("wrong longitude")
            markup = self._reply_markup(p)
            reply_to = self._reply_to(p, chat)
            location: JSONDict = {"latitude": latitude, "longitude": longitude}
            for extra in ("horizontal_accuracy", "live_period", "heading"):
                if p.has(extra):
                    location[extra] = p.number(extra)
            return self._deliver(
                "sendLocation",
                p,
                chat,
                {"location": location},
                markup,
                raw_text=None,
                reply_to=reply_to,
            )

    def _send_contact(self, p: _Params) -> JSONDict:
        with self._lock:
            chat = self._chat_for(p)
            phone = p.string("phone_number")
            first_name = p.string("first_name")
            if not phone or not first_name:
                raise _bad_request("phone_number and first_name are required")
            contact: JSONDict = {"phone_number": phone, "first_name": first_name}
            if p.string("last_name"):
                contact["last_name"] = p.string("last_name")
            markup = self._reply_markup(p)
            return self._deliver(
                "sendContact", p, chat, {"contact": contact}, markup, raw_text=None
            )

    def _send_chat_action(self, p: _Params) -> bool:
        with self._lock:
            chat = self._chat_for(p)
            action = p.string("action")
            if action not in _CHAT_ACTIONS:
                raise _bad_request("wrong parameter action in request")
            self.chat_actions.append((int(chat["id"]), action))
        return True

    def _forward(self, p: _Params, *, copy_only: bool) -> JSONDict:
        with self._lock:
            chat = self._chat_for(p)
            source_chat = self._chat_for(p, "from_chat_id", check_blocked=False)
            message_id = p.required_int("message_id", "message identifier is not specified")
            original = self._messages.get(source_chat["id"], {}).get(message_id)
            if original is None:
                raise _bad_request(
                    "message to copy not found" if copy_only else "message to forward not found"
                )
            content: JSONDict = {
                k: copy.deepcopy(original[k]) for k in _CONTENT_KEYS if k in original
            }
            markup: JSONDict | None = None
            method = "forwardMessage"
            if copy_only:
                method = "copyMessage"
                markup = self._reply_markup(p)
                if p.has("caption") and any(k in content for k in _MEDIA_KINDS):
                    caption, entities = self._formatted(
                        p, "caption", "caption_entities", MAX_CAPTION_LENGTH, required=False
                    )
                    content.pop("caption", None)
                    content.pop("caption_entities", None)
                    if caption:
                        content["caption"] = caption
                        if entities:
                            content["caption_entities"] = entities
            else:
                sender = original.get("from")
                content["forward_origin"] = (
                    {"type": "user", "sender_user": copy.deepcopy(sender), "date": original["date"]}
                    if sender
                    else {
                        "type": "chat",
                        "sender_chat": copy.deepcopy(source_chat),
                        "date": original["date"],
                    }
                )
            message = self._deliver(
                method,
                p,
                chat,
                content,
                markup,
                raw_text=content.get("text", content.get("caption")),
                reply_to=self._reply_to(p, chat) if copy_only else None,
            )
            return {"message_id": message["message_id"]} if copy_only else message
