# Control API that watches the bot: what it sent, the state it left, and waits for both.
from __future__ import annotations

import asyncio
import copy
import time
from collections.abc import Callable

from bot.emulators.telegram.limits import JSONDict
from bot.emulators.telegram.methods_chats import _commands_key
from bot.emulators.telegram.records import AnsweredCallback, Outgoing
from bot.emulators.telegram.state import EmulatorState


class ObservingMixin(EmulatorState):
    """Control API: snapshots of the bot's output and state, and waiting for them."""

    @property
    def sent(self) -> list[Outgoing]:
        """Snapshot of everything the bot sent, edited or deleted, in processing order."""
        with self._lock:
            return list(self._sent)

    @property
    def answered_callbacks(self) -> list[AnsweredCallback]:
        with self._lock:
            return list(self._answered)

    def messages_in(self, chat_id: int) -> list[JSONDict]:
        """Current state (edits applied, deletions removed) of the bot's messages in a chat."""
        with self._lock:
            return [
                copy.deepcopy(m)
                for m in self._messages.get(chat_id, {}).values()
                if m.get("from", {}).get("id") == self.bot_id
            ]

    def history(self, chat_id: int) -> list[JSONDict]:
        """Current state of every message in a chat, from both sides, oldest first."""
        with self._lock:
            return [copy.deepcopy(m) for m in self._messages.get(chat_id, {}).values()]

    def reply_keyboard(self, chat_id: int) -> JSONDict | None:
        """The custom reply keyboard the user currently sees in that chat, if any."""
        with self._lock:
            markup = self._reply_keyboards.get(chat_id)
            return copy.deepcopy(markup) if markup else None

    def commands(self, scope: JSONDict | None = None, language_code: str = "") -> list[JSONDict]:
        """Commands set by setMyCommands for a scope (default scope when None)."""
        with self._lock:
            return copy.deepcopy(self._commands.get(_commands_key(scope, language_code), []))

    def webhook(self) -> JSONDict:
        with self._lock:
            return dict(self._webhook)

    def file_bytes(self, file_id: str) -> bytes:
        """Content of a file, e.g. a photo the bot sent (`Outgoing.photo`)."""
        with self._lock:
            return self._files[file_id].data

    def mark(self) -> int:
        """Position in `sent` to pass as `since=` to wait_for (only look at later records)."""
        with self._lock:
            return len(self._sent)

    async def wait_for(
        self,
        predicate: Callable[[Outgoing], bool] | None = None,
        timeout: float = 5.0,  # noqa: ASYNC109 - a deadline is the point of this helper
        *,
        since: int | None = None,
    ) -> Outgoing:
        """Wait for an outgoing record matching `predicate` (any record when None).

        Returns the earliest matching record (at index >= `since`) that no earlier wait_for
        call returned, so consecutive waits walk through the bot's output without returning
        the same record twice, and records that arrived before the call are not missed.
        """
        check = predicate or (lambda _out: True)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        position = since or 0
        while True:
            with self._lock:
                records = self._sent[position:]
                position = len(self._sent)
            for record in records:
                if record.seq not in self._consumed and check(record):
                    self._consumed.add(record.seq)
                    return record
            if self._closing:
                raise RuntimeError("emulator stopped")
            if not await self._state_signal.wait(deadline - loop.time()):
                with self._lock:
                    recent = self._sent[-5:]
                summary = "; ".join(f"{o.method} chat={o.chat_id} text={o.text!r}" for o in recent)
                raise TimeoutError(
                    f"no matching outgoing message within {timeout}s (last: {summary or 'none'})"
                )

    async def wait_until(
        self,
        condition: Callable[[], bool],
        timeout: float = 5.0,  # noqa: ASYNC109 - a deadline is the point of this helper
    ) -> None:
        """Wait until `condition()` holds; re-checked after every request to the emulator."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not condition():
            if self._closing:
                raise RuntimeError("emulator stopped")
            if not await self._state_signal.wait(deadline - loop.time()) and not condition():
                raise TimeoutError(f"condition not met within {timeout}s")

    async def wait_idle(
        self,
        timeout: float = 5.0,  # noqa: ASYNC109 - a deadline is the point of this helper
        quiet: float = 0.1,
    ) -> None:
        """Wait until every update is confirmed and no request has run for `quiet` seconds.

        A heuristic for "the bot has finished reacting": handlers that think longer than
        `quiet` without calling the API are not detected; prefer wait_for where possible.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            with self._lock:
                busy = bool(self._updates) or self._inflight > self._parked_polls
                idle_for = time.monotonic() - self._last_activity
            if not busy and idle_for >= quiet:
                return
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise TimeoutError(f"bot not idle within {timeout}s")
            wait = remaining if busy else min(remaining, quiet - idle_for)
            await self._state_signal.wait(wait)
