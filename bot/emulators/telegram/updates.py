# The update queue: how updates are queued, filtered by allowed_updates, delivered by
# getUpdates long polling or POSTed to a webhook, and confirmed.
#
# Invariants (see the package docstring): update_id values strictly increase and an update is
# dropped only when a getUpdates offset passes it (or a webhook answers 2xx).
from __future__ import annotations

import asyncio
import copy
import logging

from bot.emulators.telegram.errors import _ApiError, _bad_request
from bot.emulators.telegram.limits import DEFAULT_ALLOWED_UPDATES, JSONDict
from bot.emulators.telegram.params import _Params
from bot.emulators.telegram.state import EmulatorState

# One logger for the whole emulator, named as before the package split.
logger = logging.getLogger(__package__)


class UpdatesMixin(EmulatorState):
    """Queueing updates and the Bot API methods that deliver them."""

    def _queue_update(self, kind: str, payload: JSONDict) -> JSONDict:
        with self._lock:
            update = {"update_id": self._next_update_id, kind: payload}
            self._next_update_id += 1
            if kind in self._allowed_updates:
                self._updates.append(update)
            else:
                # Telegram filters by the allowed_updates in force when the update is created.
                logger.debug(
                    "update %s of type %s not in allowed_updates: dropped",
                    update["update_id"],
                    kind,
                )
        self._wake(self._updates_signal, self._state_signal)
        return copy.deepcopy(update)

    def pending_updates(self) -> int:
        """Updates not yet confirmed by a getUpdates offset (delivered or not)."""
        with self._lock:
            return len(self._updates)

    @property
    def polls_waiting(self) -> int:
        """getUpdates calls currently parked in a long poll (a bot that is listening)."""
        with self._lock:
            return self._parked_polls

    async def _get_updates(self, p: _Params) -> list[JSONDict]:
        offset = p.integer("offset")
        limit = min(max(p.integer("limit", 100) or 100, 1), 100)
        timeout = max(p.number("timeout", 0.0) or 0.0, 0.0)
        allowed = p.json_list("allowed_updates")
        with self._lock:
            if self._webhook.get("url"):
                raise _ApiError(
                    409,
                    "Conflict: can't use getUpdates method while webhook is active; "
                    "use deleteWebhook to delete the webhook first",
                )
            if allowed is not None:
                self._allowed_updates = frozenset(allowed) if allowed else DEFAULT_ALLOWED_UPDATES
            if offset is not None and offset < 0:
                while len(self._updates) > -offset:
                    self._updates.popleft()
            elif offset:
                # The only way an update is ever confirmed (and dropped).
                while self._updates and self._updates[0]["update_id"] < offset:
                    self._updates.popleft()
            self._poll_generation += 1
            generation = self._poll_generation
        # Wake an older waiting poll so it can give way with 409 Conflict.
        self._wake(self._updates_signal, self._state_signal)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            with self._lock:
                if generation != self._poll_generation:
                    raise _ApiError(
                        409,
                        "Conflict: terminated by other getUpdates request; "
                        "make sure that only one bot instance is running",
                    )
                if self._updates or self._closing:
                    return [copy.deepcopy(u) for u in list(self._updates)[:limit]]
                self._parked_polls += 1
            try:
                woken = await self._updates_signal.wait(deadline - loop.time())
            finally:
                with self._lock:
                    self._parked_polls -= 1
            if not woken and loop.time() >= deadline:
                return []

    def _set_webhook(self, p: _Params) -> bool:
        url = p.string("url") or ""
        with self._lock:
            if p.flag("drop_pending_updates"):
                self._updates.clear()
            if not url:
                self._webhook = {}
                return True
            if not url.startswith(("https://", "http://")):
                raise _bad_request("bad webhook: An HTTPS URL must be provided for webhook")
            allowed = p.json_list("allowed_updates")
            if allowed is not None:
                self._allowed_updates = frozenset(allowed) if allowed else DEFAULT_ALLOWED_UPDATES
            self._webhook = {
                "url": url,
                "max_connections": p.integer("max_connections", 40),
                "secret_token": p.string("secret_token"),
                "ip_address": p.string("ip_address"),
            }
        if self._pusher is None or self._pusher.done():
            self._pusher = asyncio.get_running_loop().create_task(self._push_updates())
        return True

    async def _push_updates(self) -> None:
        """While a webhook is set, POST queued updates to it oldest first, one at a time, each
        dropped only after a 2xx answer (Telegram's webhook delivery, minus its backoff)."""
        import aiohttp

        async with aiohttp.ClientSession() as http:
            while not self._closing:
                with self._lock:
                    hook = dict(self._webhook)
                    update = copy.deepcopy(self._updates[0]) if self._updates else None
                if not hook.get("url"):
                    return  # deleteWebhook: getUpdates takes over
                if update is None:
                    await self._updates_signal.wait(1.0)
                    continue
                headers = {}
                if hook.get("secret_token"):
                    headers["X-Telegram-Bot-Api-Secret-Token"] = str(hook["secret_token"])
                try:
                    async with http.post(str(hook["url"]), json=update, headers=headers) as resp:
                        delivered = 200 <= resp.status < 300
                except (aiohttp.ClientError, OSError):
                    delivered = False
                if not delivered:
                    await asyncio.sleep(0.2)
                    continue
                with self._lock:
                    if self._updates and self._updates[0]["update_id"] == update["update_id"]:
                        self._updates.popleft()
                self._wake(self._state_signal)

    def _delete_webhook(self, p: _Params) -> bool:
        with self._lock:
            self._webhook = {}
            if p.flag("drop_pending_updates"):
                self._updates.clear()
        return True

    def _get_webhook_info(self, _p: _Params) -> JSONDict:
        with self._lock:
            info: JSONDict = {
                "url": self._webhook.get("url", ""),
                "has_custom_certificate": False,
                "pending_update_count": len(self._updates),
            }
            if self._webhook.get("url"):
                info["max_connections"] = self._webhook.get("max_connections", 40)
                info["allowed_updates"] = sorted(self._allowed_updates)
                if self._webhook.get("ip_address"):
                    info["ip_address"] = self._webhook["ip_address"]
        return info
