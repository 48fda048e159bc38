# Several Telegram bots in one deployment (issue 14): the shared SIGAP_TELEGRAM_TOKEN bot,
# plus one bot per kecamatan whose office file names a token variable (chat.telegram_token_env).
# Invariants:
# - a bot is named by the channel string its inbox rows (`source`) and outbox rows (`channel`)
#   carry: "telegram" for the shared bot, "telegram:<kode wilayah>" for a kecamatan's own bot
#   (at most 17 characters, within the columns' 20). So the inbox records which bot an update
#   came through, each bot's update ids (its own counter) never collide in the inbox's unique
#   key, and the delivery picks the bot that sends an outbox row by its channel, all without a
#   migration;
# - the dialog itself still sees the channel "telegram" (Caller.channel): residents, officers,
#   complaints and IKU counts do not depend on which bot was used; Caller.bot says which;
# - everything a kecamatan with its own bot says goes out through that bot, except the
#   direct reply to an update, which goes back through the bot it came through (an officer
#   of that kecamatan writing to the shared bot is answered there);
# - each bot is its own PTB Application with its own rate limiter, so Telegram's limits per
#   bot (30/s) and per group (20/min) are paced per bot, as they are counted by Telegram.
from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping

from bot.config.office import Office

SHARED = "telegram"
PREFIX = SHARED + ":"


def channel_of(kode: str | None) -> str:
    """The channel string of the bot of kecamatan `kode` (None: the shared bot)."""
    return PREFIX + kode if kode else SHARED


def channel_for(office: Office) -> str:
    """The bot a kecamatan sends through: its own if its office file names one."""
    return channel_of(office.kode_wilayah if office.telegram_token_env else None)


def kode_of(channel: str) -> str | None:
    """The kecamatan whose own bot `channel` is; None for the shared bot (or not Telegram)."""
    return channel[len(PREFIX):] if channel.startswith(PREFIX) else None


def is_telegram(channel: str) -> bool:
    return channel == SHARED or channel.startswith(PREFIX)


def link_username(office: Office, shared: str) -> str | None:
    """The @username a t.me link for kecamatan `office` names: its own bot's (office file
    chat.telegram_username) when it has one, the shared bot's (`shared`) otherwise. None: it
    has its own bot but its office file does not name it (a link to the shared bot would take
    its residents to a bot that sends them none of their notices)."""
    if office.telegram_token_env:
        return office.telegram_username
    return shared


def token_variables(offices: Mapping[str, Office]) -> dict[str, str]:
    """{kode: name of its token variable} of the offices that have a bot of their own."""
    return {kode: o.telegram_token_env for kode, o in offices.items() if o.telegram_token_env}


def webhook_path(base: str, kode: str) -> str:
    """A kecamatan bot's webhook path: the shared one's plus the kode without dots."""
    return base.rstrip("/") + "/" + kode.replace(".", "")


def webhook_secret(secret: str, kode: str) -> str:
    """A kecamatan bot's own webhook secret, derived from SIGAP_TELEGRAM_WEBHOOK_SECRET: one
    setting to keep, yet a post to one bot's path cannot pass as another bot's. Hex only,
    within Telegram's 1-256 characters of A-Z, a-z, 0-9, _ and -."""
    return hmac.new(secret.encode(), kode.encode(), hashlib.sha256).hexdigest()


__all__ = ["SHARED", "channel_for", "channel_of", "is_telegram", "kode_of", "link_username", "token_variables",
           "webhook_path", "webhook_secret"]
