# The context a dialog step runs in: the open transaction, who is talking, and the outbox.
# Invariants: a step never talks to a channel directly; everything it says is queued in
# the outbox in the step's own transaction, so it is sent if and only if the step committed.
# Dialog buttons carry the nonce of the prompt that drew them; standalone buttons (officer
# cards, the "is it solved?" question) carry an HMAC so a forged press is refused.
from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.channels import telegram_bots, whatsapp_numbers
from bot.config.office import Office
from bot.dialogs.types import Caller, Choice
from bot.texts import render
from storage import outbox, people
from storage.complaints import DeadlinePolicy
from storage.models import Officer, Person

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

TRANTIB_GROUP_KEY = "trantib_group"


@dataclass
class Runtime:
    """What stays the same from one update to the next."""

    office: Office
    policy: DeadlinePolicy
    tz: tzinfo
    secret: bytes
    bot_username: str
    data_dir: Path
    env_trantib_group: int | None = None
    clock: Callable[[], datetime] | None = None
    # The web dashboard's address for /dasbor links; None when the dashboard is switched off.
    dashboard_url: str | None = None
    dashboard_link_minutes: int = 10
    # Every office this bot serves, by kode wilayah, the default (`office`) first, and the
    # deadline policy of each other one; one office: just `office` (a single-office bot).
    offices: dict[str, Office] = field(default_factory=dict)
    policies: dict[str, DeadlinePolicy] = field(default_factory=dict)
    # The kabupaten chat (SIGAP_KABUPATEN_CHAT: Bagian Organisasi, Inspektorat): the one chat
    # that may read every kecamatan's IKU with /iku kabupaten; None: no chat may.
    kabupaten_chat: int | None = None
    # The @username of each kecamatan's own Telegram bot, by kode (bot/channels/telegram_bots.py).
    bot_usernames: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.offices = {self.office.kode_wilayah: self.office,
                        **{k: o for k, o in self.offices.items() if k != self.office.kode_wilayah}}

    @property
    def several(self) -> bool:
        """Whether residents pick a kecamatan (bot/dialogs/kecamatan.py)."""
        return len(self.offices) > 1

    def office_of(self, kode: str) -> Office:
        # The default through `office`, which a test or a reload may replace.
        return self.office if kode == self.office.kode_wilayah else self.offices[kode]

    def policy_of(self, kode: str) -> DeadlinePolicy:
        if kode == self.office.kode_wilayah:
            return self.policy
        if kode not in self.policies:
            # A Runtime copied for another default (bot/jobs/offices.py runtime_for).
            from bot.config.workcalendar import deadline_policy

            self.policies[kode] = deadline_policy(self.offices[kode])
        return self.policies[kode]

    def tz_of(self, kode: str) -> tzinfo:
        if kode == self.office.kode_wilayah:
            return self.tz
        from zoneinfo import ZoneInfo

        return ZoneInfo(self.offices[kode].timezone)

    def sign(self, text: str) -> str:
        return hmac.new(self.secret, text.encode(), hashlib.sha256).hexdigest()[:10]

    def signed(self, text: str) -> str:
        return f"{text}:{self.sign(text)}"

    def verify(self, data: str) -> str | None:
        """The signed part of `data`, or None if the signature is wrong."""
        body, _, sig = data.rpartition(":")
        if body and hmac.compare_digest(self.sign(body), sig):
            return body
        return None

    def username_of(self, kode: str | None) -> str:
        """The @username of the bot that speaks for kecamatan `kode`: its own bot's if it has
        one (learnt by getMe at start), the shared bot's otherwise."""
        return self.bot_usernames.get(kode or "") or self.bot_username

    def deep_link(self, payload: str, kode: str | None = None) -> str:
        return f"https://t.me/{self.username_of(kode)}?start={payload}"


class Ctx:
    def __init__(self, rt: Runtime, session: Session, caller: Caller, now: datetime,
                 office: Office | None = None) -> None:
        self.rt = rt
        # The one kecamatan this step works in (the session is scoped to it: router.handle).
        self.office = office or rt.office
        self.kecamatan = self.office.kode_wilayah
        self.policy = rt.policy_of(self.kecamatan)
        self.tz = rt.tz_of(self.kecamatan)
        self.session = session
        self.caller = caller
        self.now = now
        self.nonce = secrets.token_hex(2)
        self.toast: str | None = None
        self._person: Person | None = None
        self._officer: Officer | None | bool = False
        # Typed forms (label, number, answer word) of the dialog buttons offered in this
        # step, so typing counts as pressing (bot/dialogs/typed.py).
        self.offered: dict[str, str] = {}
        # Whether typing a button's position (1, 2, ...) presses it; a dialog whose digits
        # mean something else (survey scores, an age) turns it off.
        self.number_buttons = True

    # Who is talking -------------------------------------------------------------------
    @property
    def person(self) -> Person:
        if self._person is None:
            from storage.complaints import get_or_create_person

            self._person = get_or_create_person(
                self.session, self.caller.channel, self.caller.user_id, None, self.now
            )
        return self._person

    @property
    def officer(self) -> Officer | None:
        """Officers are Telegram users registered with a role."""
        if self._officer is False:
            self._officer = None
            if self.caller.channel in ("telegram", "sandbox") and self.caller.user_id.lstrip("-").isdigit():
                self._officer = people.officer_by_telegram(self.session, int(self.caller.user_id))
        return self._officer  # type: ignore[return-value]

    def trantib_group(self) -> str | None:
        stored = people.get_setting(self.session, TRANTIB_GROUP_KEY)
        if stored:
            return stored
        if self.rt.env_trantib_group and self.office is self.rt.office:
            return str(self.rt.env_trantib_group)  # the environment names the default office's
        if self.office.trantib_group:
            return str(self.office.trantib_group)
        return None

    @property
    def today(self):  # type: ignore[no-untyped-def]
        return self.now.astimezone(self.tz).date()

    # Saying things ----------------------------------------------------------------------
    def telegram_bot(self, chat_id: str | int) -> str:
        """The outbox channel of the bot that sends to `chat_id`: the answer to an update goes
        back through the bot it came through, anything else through this kecamatan's bot
        (bot/channels/telegram_bots.py)."""
        if self.caller.channel == telegram_bots.SHARED and str(chat_id) == self.caller.chat_id:
            return telegram_bots.channel_of(self.caller.bot)
        return telegram_bots.channel_for(self.office)

    def buttons_for(self, choices: Sequence[Choice]) -> list[list[Any]]:
        from bot.dialogs.typed import choice_keys

        self.offered.update(choice_keys(choices, numbered=self.number_buttons))
        return [
            [c.label, None if c.url else f"d:{self.nonce}:{c.value}", c.url] for c in choices
        ]

    def say(
        self,
        template: str,
        choices: Sequence[Choice] = (),
        *,
        buttons: Sequence[tuple[str, str | None, str | None]] = (),
        force_reply: bool = False,
        **values: Any,
    ) -> None:
        """Queue a message to the chat the event came from."""
        rows = self.buttons_for(choices) + [list(b) for b in buttons]
        self.send_to(
            self.caller.channel,
            self.caller.chat_id,
            # The reader's channel, for texts that name a command (bot/templates/perintah.j2).
            render(template, **{"kanal_pembaca": self.caller.channel, **values}),
            rows,
            force_reply=force_reply,
        )

    def send_to(
        self,
        channel: str,
        chat_id: str | int,
        text: str,
        buttons: Sequence[Sequence[Any]] = (),
        *,
        force_reply: bool = False,
        complaint_id: int | None = None,
        kind: str = "text",
    ) -> None:
        payload: dict[str, Any] = {"text": text, "buttons": [list(b) for b in buttons]}
        if force_reply:
            payload["force_reply"] = True
        self.queue(channel, chat_id, kind, payload, complaint_id)

    def queue(self, channel: str, chat_id: str | int, kind: str, payload: dict[str, Any], complaint_id: int | None = None) -> None:
        if channel == telegram_bots.SHARED:
            channel = self.telegram_bot(chat_id)
        elif channel == whatsapp_numbers.SHARED:
            # Likewise the WhatsApp number (bot/channels/whatsapp_numbers.py).
            channel = whatsapp_numbers.sending_channel(self.caller, self.office, chat_id)
        if self.rt.several and kind != "text":
            # What the delivery draws later (cards, digests, deferred views) is read in
            # this step's kecamatan, not in the register's default one.
            payload = {**payload, "kecamatan": self.kecamatan}
        outbox.enqueue(self.session, channel, chat_id, kind, payload, self.now, complaint_id)
