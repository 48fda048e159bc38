# Spacing of the scheduled posts (weekly digests, the kabupaten digest) per chat, so that the
# digests of 31 kecamatan to one leadership group go out spread over minutes instead of in
# one burst at 07:00.
# Telegram's limits (Bot API FAQ): about 30 messages a second per bot, at most 20 a minute in
# one group, and about one a second in one private chat. PTB's AIORateLimiter
# (bot/channels/telegram.py) enforces these for everything the process sends, but as a
# bucket that lets 20 group messages through at once and only then waits, and it is shared
# with the cards and replies of that group: a burst of digests would use the group's whole
# minute and hold its cards behind them. This pacer sits in front of it, for the digests only.
# Invariant: a token bucket per chat with a capacity of 2 (one digest: its text and its
# chart go out together, so one office's digest is never delayed) refilled at
# (limit - capacity) per period, so in ANY window of a period a chat receives at most
# capacity + (limit - capacity) = limit digest messages: 20 per minute in a group, 1 per
# second (after the first pair) in a private chat. Posts go out one at a time (the digest
# round is sequential), so the per-bot 30 per second is never approached by the digests.
# The limits are Telegram's per bot: with kecamatan bots of their own (bot/channels/
# telegram_bots.py) each bot gets its own pacer (bot/jobs/kecamatan_jobs.py digest_rounds).
from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

BURST = 2  # one digest: the text and its chart
GROUP_LIMIT, GROUP_PERIOD = 20, 60.0  # Telegram: at most 20 messages a minute in one group
PRIVATE_LIMIT, PRIVATE_PERIOD = 2, 1.0  # Telegram: about one message a second in one chat


def is_group(chat_id: str) -> bool:
    # Telegram groups and channels have negative ids (supergroups -100...); users positive.
    return chat_id.startswith("-")


@dataclass
class _Bucket:
    tokens: float
    at: float


class ChatPacer:
    def __init__(
        self,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.clock = clock
        self.sleep = sleep
        self._buckets: dict[str, _Bucket] = {}
        self._lock = asyncio.Lock()

    @staticmethod
    def rate(chat_id: str) -> float:
        """Tokens per second refilled for this chat."""
        if is_group(chat_id):
            return (GROUP_LIMIT - BURST) / GROUP_PERIOD
        return max(PRIVATE_LIMIT - BURST, 1) / PRIVATE_PERIOD

    def delay(self, chat_id: str) -> float:
        """Seconds to wait before the next digest message to this chat may go (0: now)."""
        bucket = self._buckets.get(chat_id)
        if bucket is None:
            return 0.0
        tokens = min(BURST, bucket.tokens + (self.clock() - bucket.at) * self.rate(chat_id))
        return 0.0 if tokens >= 1 else (1 - tokens) / self.rate(chat_id)

    async def wait(self, chat_id: str) -> float:
        """Wait for this chat's turn and take it; returns the seconds waited."""
        async with self._lock:  # one post at a time, so two waiters never share a token
            waited = self.delay(chat_id)
            if waited > 0:
                await self.sleep(waited)
            now = self.clock()
            bucket = self._buckets.get(chat_id)
            if bucket is None:
                bucket = self._buckets[chat_id] = _Bucket(BURST, now)
            bucket.tokens = min(BURST, bucket.tokens + (now - bucket.at) * self.rate(chat_id)) - 1
            bucket.at = now
            return waited


__all__ = ["ChatPacer", "is_group"]
