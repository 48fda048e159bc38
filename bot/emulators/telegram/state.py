# The state every part of the emulator shares, created in one place.
#
# BotApiEmulator (server.py) is assembled from mixins, one per concern; they all inherit this
# class, so each sees the same attributes (and mypy checks them). Every mutation happens under
# `_lock`; the helpers here (wake-ups, message ids, dates) are the ones all concerns use.
from __future__ import annotations

import asyncio
import copy
import threading
import time
from collections import Counter, deque

from aiohttp import web

from bot.emulators.telegram.limits import DEFAULT_ALLOWED_UPDATES, JSONDict
from bot.emulators.telegram.params import _Handler
from bot.emulators.telegram.records import AnsweredCallback, ApiCall, Outgoing, StoredFile, _Fault
from bot.emulators.telegram.wakeup import _Signal


class EmulatorState:
    """Attributes of one emulated bot and its users; see BotApiEmulator for the API."""

    def __init__(
        self,
        token: str = "123456:TEST",
        bot_username: str = "sigap_bot",
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        bot_first_name: str = "SIGAP",
        auto_create_chats: bool = False,
        first_update_id: int = 1,
    ) -> None:
        bot_id, sep, _secret = token.partition(":")
        if not sep or not bot_id.isdigit():
            raise ValueError("token must look like '<bot id>:<secret>'")
        self.token = token
        self.host = host
        self.bot_user: JSONDict = {
            "id": int(bot_id),
            "is_bot": True,
            "first_name": bot_first_name,
            "username": bot_username,
        }
        # Sending to a chat nobody registered answers "chat not found" (as Telegram does for
        # chats the bot has never seen) unless this is set.
        self.auto_create_chats = auto_create_chats
        self._requested_port = port
        self._port: int | None = None
        self._runner: web.AppRunner | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._loop_thread: int | None = None
        self._closing = False
        self._lock = threading.RLock()
        self._updates_signal = _Signal()
        self._state_signal = _Signal()

        # users and chats
        self._users: dict[int, JSONDict] = {}
        self._chats: dict[int, JSONDict] = {}
        self._blocked: set[int] = set()
        self._members: dict[tuple[int, int], str] = {}
        # messages: chat id -> message id -> current message dict (insertion = id order)
        self._messages: dict[int, dict[int, JSONDict]] = {}
        self._next_message_id: dict[int, int] = {}
        self._reply_keyboards: dict[int, JSONDict] = {}
        # updates
        self._updates: deque[JSONDict] = deque()
        # A bot whose register outlives the emulator (the sandbox) needs ids it has not seen.
        self._next_update_id = first_update_id
        self._allowed_updates: frozenset[str] = DEFAULT_ALLOWED_UPDATES
        self._poll_generation = 0
        self._callback_seq = 0
        self._callbacks: dict[str, JSONDict] = {}
        self._media_group_seq = 0
        # files
        self._files: dict[str, StoredFile] = {}
        self._files_by_path: dict[str, StoredFile] = {}
        self._photo_sets: dict[str, list[JSONDict]] = {}
        self._file_seq = 0
        # bot settings
        self._commands: dict[tuple[str, str], list[JSONDict]] = {}
        self._webhook: JSONDict = {}
        self._bot_texts: dict[str, str] = {}
        self._menu_buttons: dict[int | None, JSONDict] = {}
        self._pusher: asyncio.Task[None] | None = None
        # observation
        self._sent: list[Outgoing] = []
        self._consumed: set[int] = set()
        self._answered: list[AnsweredCallback] = []
        self.chat_actions: list[tuple[int, str]] = []
        self.calls: Counter[str] = Counter()
        self.call_log: list[ApiCall] = []
        self._inflight = 0
        self._parked_polls = 0
        self._last_activity = time.monotonic()
        # fault injection
        self._faults: dict[str, deque[_Fault]] = {}
        self._delay = 0.0
        self._method_delays: dict[str, float] = {}
        self._serial_methods: set[str] = set()
        self._serial_locks: dict[str, asyncio.Lock] = {}

        # Further bots served by this one's server, by token (BotApiEmulator.add_bot).
        self._other_bots: dict[str, EmulatorState] = {}
        self._served_by: EmulatorState | None = None

        self._handlers: dict[str, tuple[str, _Handler]] = {}
        for name, handler in self._handler_table().items():
            self._handlers[name.lower()] = (name, handler)

    @property
    def bot_id(self) -> int:
        return int(self.bot_user["id"])

    def _handler_table(self) -> dict[str, _Handler]:
        """Bot API method name -> handler; BotApiEmulator (server.py) provides the table."""
        raise NotImplementedError

    def _wake(self, *signals: _Signal) -> None:
        """Notify from any thread; asyncio primitives may only be touched in their loop."""
        loop = self._loop
        if loop is None or loop.is_closed() or threading.get_ident() == self._loop_thread:
            for signal in signals:
                signal.notify()
        else:
            for signal in signals:
                loop.call_soon_threadsafe(signal.notify)

    def _new_message_id(self, chat_id: int) -> int:
        message_id = self._next_message_id.get(chat_id, 1)
        self._next_message_id[chat_id] = message_id + 1
        return message_id


def _now() -> int:
    return int(time.time())


def _without_reply(message: JSONDict) -> JSONDict:
    """A message as embedded in reply_to_message: Telegram does not nest replies further."""
    embedded = copy.deepcopy(message)
    embedded.pop("reply_to_message", None)
    return embedded
