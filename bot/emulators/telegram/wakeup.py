# The broadcast wake-up that parked long polls and the control API's waits sleep on.
from __future__ import annotations

import asyncio


class _Signal:
    """Broadcast wake-up: notify() releases everyone waiting at that moment.

    Unlike asyncio.Condition it can be notified from synchronous code without taking a lock,
    which the control API (plain methods) needs.
    """

    def __init__(self) -> None:
        self._event = asyncio.Event()

    def notify(self) -> None:
        event, self._event = self._event, asyncio.Event()
        event.set()

    async def wait(self, seconds: float) -> bool:
        """Wait for the next notify(), at most `seconds`; True when notified."""
        if seconds <= 0:
            return False
        event = self._event
        try:
            await asyncio.wait_for(event.wait(), seconds)
        except TimeoutError:
            return False
        return True
