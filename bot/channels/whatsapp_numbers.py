# Several WhatsApp numbers in one deployment (issue 14), as bot/channels/telegram_bots.py does
# for Telegram bots: the shared SIGAP_WHATSAPP_PHONE_ID number, plus one number per kecamatan
# whose office file names its phone number id (chat.whatsapp_phone_id).
# Invariants:
# - a number is named by the channel string of the outbox rows it sends: "whatsapp" for the
#   shared number, "whatsapp:<kode wilayah>" for a kecamatan's own (at most 17 characters,
#   within the column's 20), so the delivery picks the number that sends a row by its channel,
#   without a migration. The inbox keeps "whatsapp" for all: one webhook, and Meta's message
#   ids are unique across numbers; each stored payload says in metadata.phone_number_id which
#   number it was sent to;
# - the dialog sees the channel "whatsapp" (Caller.channel) whichever number was used, so
#   residents, complaints and IKU counts do not depend on it; Caller.bot names the kecamatan
#   whose own number it was, and that message belongs to that kecamatan, no picker;
# - a webhook for a phone number id this deployment does not serve is logged and dropped
#   before it is stored: it is not ours to answer, from any number.
from __future__ import annotations

from collections.abc import Mapping

from bot.config.office import Office
from bot.config.settings import SettingsError, WhatsAppSettings
from bot.dialogs.types import Caller

SHARED = "whatsapp"
PREFIX = SHARED + ":"


def channel_of(kode: str | None) -> str:
    """The channel string of kecamatan `kode`'s own number (None: the shared number)."""
    return PREFIX + kode if kode else SHARED


def channel_for(office: Office) -> str:
    """The number a kecamatan speaks from: its own if its office file names one."""
    return channel_of(office.kode_wilayah if office.whatsapp_phone_id else None)


def kode_of(channel: str) -> str | None:
    """The kecamatan whose own number `channel` is; None for the shared one (or not WhatsApp)."""
    return channel[len(PREFIX):] if channel.startswith(PREFIX) else None


def is_whatsapp(channel: str) -> bool:
    return channel == SHARED or channel.startswith(PREFIX)


def phone_ids(offices: Mapping[str, Office]) -> dict[str, str]:
    """{phone number id: kode} of the offices that have a number of their own."""
    return {o.whatsapp_phone_id: kode for kode, o in offices.items() if o.whatsapp_phone_id}


def check_numbers(settings: WhatsAppSettings, offices: Mapping[str, Office]) -> None:
    """At start, before the register is opened: a kecamatan's own number is sent from with
    the deployment's one token (without WhatsApp set up it would go silently unanswered), and
    it is not the shared number (whose messages would then belong to two kecamatan at once)."""
    numbered = {o.whatsapp_phone_id: o.name for o in offices.values() if o.whatsapp_phone_id}
    if numbered and not settings.enabled:
        raise SettingsError(f"Berkas kantor {', '.join(numbered.values())} memakai nomor WhatsApp sendiri "
                            "(chat.whatsapp_phone_id), tetapi WhatsApp belum diatur (SIGAP_WHATSAPP_TOKEN, "
                            "_PHONE_ID, _APP_SECRET).")
    if settings.phone_id in numbered:
        raise SettingsError(f"SIGAP_WHATSAPP_PHONE_ID {settings.phone_id} juga chat.whatsapp_phone_id berkas kantor "
                            f"{numbered[settings.phone_id]}: nomor bersama dan nomor kecamatan harus berbeda.")


def sending_channel(caller: Caller, office: Office, chat_id: str | int) -> str:
    """The outbox channel for a WhatsApp message of a step in kecamatan `office`: the answer
    to a message goes back from the number it was written to (the 24-hour window WhatsApp
    keeps is per number), anything else from that kecamatan's number."""
    if caller.channel == SHARED and str(chat_id) == caller.chat_id:
        return channel_of(caller.bot)
    return channel_for(office)


def link_number(office: Office, shared: str | None) -> str | None:
    """The number a wa.me link for kecamatan `office` opens: its own (chat.whatsapp_number)
    when it has one, the shared SIGAP_WHATSAPP_NUMBER otherwise. None: it has its own number
    but its office file does not say which, or nothing is set (no link is printed then: one
    to the shared number would take its residents where none of their notices come from)."""
    if office.whatsapp_phone_id:
        return office.whatsapp_number
    return shared


__all__ = ["PREFIX", "SHARED", "channel_for", "channel_of", "check_numbers", "is_whatsapp", "kode_of", "link_number", "phone_ids",
           "sending_channel"]
