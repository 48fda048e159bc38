# Bot API limits and constants that several parts of the emulator share.
#
# Kept apart so the records, the parsers and the method handlers can use them without
# importing one another.
from __future__ import annotations

from typing import Any, Final

JSONDict = dict[str, Any]


# Limits enforced by the real Bot API that bots commonly trip over.
MAX_TEXT_LENGTH: Final = 4096
MAX_CAPTION_LENGTH: Final = 1024
MAX_CALLBACK_DATA_BYTES: Final = 64
MAX_DOWNLOAD_BYTES: Final = 20 * 1024 * 1024
MAX_UPLOAD_BYTES: Final = 50 * 1024 * 1024


# Update types delivered when a bot never set allowed_updates (Bot API default).
DEFAULT_ALLOWED_UPDATES: Final = frozenset(
    {
        "message",
        "edited_message",
        "channel_post",
        "edited_channel_post",
        "business_connection",
        "business_message",
        "edited_business_message",
        "deleted_business_messages",
        "inline_query",
        "chosen_inline_result",
        "callback_query",
        "shipping_query",
        "pre_checkout_query",
        "purchased_paid_media",
        "poll",
        "poll_answer",
        "my_chat_member",
        "chat_join_request",
        "chat_boost",
        "removed_chat_boost",
    }
)


_MEDIA_KINDS: Final = ("photo", "document", "video", "audio", "voice", "animation", "sticker")
