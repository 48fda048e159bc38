# BotApiEmulator: the Telegram Bot API server, assembled from one mixin per concern.
#
# This module holds what is about serving HTTP: starting and stopping on loopback, the routes,
# decoding a request, latency and fault handling around a call, and the table from Bot API
# method names to their handlers (which live in the methods_*.py, updates.py and files.py).
from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import threading
import time
from collections.abc import Awaitable
from types import TracebackType
from typing import Any

from aiohttp import web

from bot.emulators.telegram.errors import _ApiError, _bad_request, _dumps, _error_response
from bot.emulators.telegram.faults import FaultsMixin
from bot.emulators.telegram.limits import MAX_UPLOAD_BYTES
from bot.emulators.telegram.methods_chats import ChatMethodsMixin
from bot.emulators.telegram.methods_edit import EditMethodsMixin
from bot.emulators.telegram.methods_send import SendMethodsMixin
from bot.emulators.telegram.observing import ObservingMixin
from bot.emulators.telegram.params import _decode_param, _Handler, _Params
from bot.emulators.telegram.records import ApiCall, _Upload
from bot.emulators.telegram.user_actions import UserActionsMixin
from bot.emulators.telegram.wakeup import _Signal

# One logger for the whole emulator, named as before the package split.
logger = logging.getLogger(__package__)


class BotApiEmulator(
    UserActionsMixin,
    ObservingMixin,
    FaultsMixin,
    SendMethodsMixin,
    EditMethodsMixin,
    ChatMethodsMixin,
):
    """A Telegram Bot API server for one bot, plus a control API to play the users.

    Typical use::

        async with BotApiEmulator() as emu:
            app = (ApplicationBuilder().token(emu.token).base_url(emu.base_url)
                   .base_file_url(emu.base_file_url).build())
            ...
            alice = emu.user(1001, "Alice")
            emu.send_text(alice, "/start")
            reply = await emu.wait_for(lambda out: out.chat_id == 1001)
    """

    async def start(self) -> None:
        if self._runner is not None:
            raise RuntimeError("emulator already started")
        self._loop = asyncio.get_running_loop()
        self._loop_thread = threading.get_ident()
        self._closing = False
        # Events must belong to the serving loop; recreate them in case of a restart.
        self._updates_signal = _Signal()
        self._state_signal = _Signal()
        self._serial_locks.clear()
        app = web.Application(client_max_size=MAX_UPLOAD_BYTES + 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._route_api)
        app.router.add_get("/file/bot{token}/{path:.+}", self._route_file)
        # handler_cancellation: a long poll whose client went away (a killed bot) must not
        # linger and later swallow updates meant for its successor.
        runner = web.AppRunner(
            app, access_log=None, handler_cancellation=True, shutdown_timeout=1.0
        )
        await runner.setup()
        sock = socket.socket(socket.AF_INET6 if ":" in self.host else socket.AF_INET)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((self.host, self._requested_port))
            sock.listen(128)
            sock.setblocking(False)
            site = web.SockSite(runner, sock)
            await site.start()
        except BaseException:
            sock.close()
            await runner.cleanup()
            raise
        self._port = int(sock.getsockname()[1])
        self._runner = runner
        for other in self.other_bots:
            other._attach(self)
        logger.info("Telegram Bot API emulator listening on %s", self.url)

    # Several bots on one server, as on api.telegram.org: the token in the path picks the bot.
    def add_bot(self, token: str, bot_username: str, *, bot_first_name: str = "SIGAP") -> BotApiEmulator:
        """Another bot served at this server's address under its own token: an emulator of
        its own (its own users, chats, updates and `sent`; register users in it too), sharing
        only the server, so a deployment of several bots talks to one API URL."""
        if token == self.token or token in self._other_bots:
            raise ValueError("token already served")
        other = BotApiEmulator(token=token, bot_username=bot_username, host=self.host,
                               bot_first_name=bot_first_name, auto_create_chats=self.auto_create_chats)
        self._other_bots[token] = other
        other._served_by = self
        if self._runner is not None:
            other._attach(self)
        return other

    @property
    def server(self) -> BotApiEmulator:
        """The emulator whose HTTP server serves this bot: itself, or the one add_bot made it."""
        return self._served_by if isinstance(self._served_by, BotApiEmulator) else self

    @property
    def other_bots(self) -> list[BotApiEmulator]:
        return [b for b in self._other_bots.values() if isinstance(b, BotApiEmulator)]

    def _attach(self, server: BotApiEmulator) -> None:
        """Served by `server`: its loop (for wake-ups) and its port (for URLs)."""
        self._loop = server._loop
        self._loop_thread = server._loop_thread
        self._closing = False
        self._updates_signal = _Signal()
        self._state_signal = _Signal()
        self._serial_locks.clear()
        self._port = server._port

    async def _detach(self) -> None:
        self._closing = True
        self._updates_signal.notify()
        self._state_signal.notify()
        pusher, self._pusher = self._pusher, None
        if pusher is not None:
            pusher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await pusher
        self._port = None

    async def _route_api(self, request: web.Request) -> web.StreamResponse:
        other = self._other_bots.get(request.match_info["token"])
        if isinstance(other, BotApiEmulator):
            return await other._handle_api(request)
        return await self._handle_api(request)

    async def _route_file(self, request: web.Request) -> web.StreamResponse:
        other = self._other_bots.get(request.match_info["token"])
        if isinstance(other, BotApiEmulator):
            return await other._handle_file(request)
        return await self._handle_file(request)

    async def stop(self) -> None:
        runner, self._runner = self._runner, None
        if runner is None:
            return
        # Release parked long polls first (this bot's and the others' on the same server),
        # so the server can shut down without waiting.
        await self._detach()
        for other in self.other_bots:
            await other._detach()
        await runner.cleanup()

    async def __aenter__(self) -> BotApiEmulator:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("emulator is not running; call start() first")
        return self._port

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def base_url(self) -> str:
        """For ApplicationBuilder().base_url() / Bot(base_url=...): PTB appends the token."""
        return f"{self.url}/bot"

    @property
    def base_file_url(self) -> str:
        return f"{self.url}/file/bot"

    async def _read_params(self, request: web.Request) -> tuple[_Params, dict[str, _Upload]]:
        raw: dict[str, Any] = dict(request.query)
        uploads: dict[str, _Upload] = {}
        if request.can_read_body:
            if request.content_type == "application/json":
                try:
                    body = await request.json()
                except ValueError as exc:
                    raise _bad_request("can't parse JSON request body") from exc
                if not isinstance(body, dict):
                    raise _bad_request("JSON request body must be an object")
                raw.update(body)
            else:
                form = await request.post()
                for name, value in form.items():
                    if isinstance(value, web.FileField):
                        upload = _Upload(value.filename, value.content_type, value.file.read())
                        uploads[name] = upload
                        raw[name] = upload
                    else:
                        raw[name] = value
        values = {name: _decode_param(name, value) for name, value in raw.items()}
        return _Params(values), uploads

    async def _handle_api(self, request: web.Request) -> web.StreamResponse:
        started = time.monotonic()
        requested = request.match_info["method"]
        entry = self._handlers.get(requested.lower())
        method = entry[0] if entry else requested
        with self._lock:
            self.calls[method] += 1
            self._inflight += 1
            self._last_activity = started
        status = 200
        try:
            if request.match_info["token"] != self.token:
                status = 401
                return _error_response(401, "Unauthorized")
            if entry is None:
                status = 404
                return _error_response(404, "Not Found: method not found")
            delay = self._method_delays.get(method, self._delay)
            if method not in self._serial_methods:
                if delay:
                    await asyncio.sleep(delay)
                status, response = await self._serve(request, method, entry[1])
                return response
            lock = self._serial_locks.setdefault(method, asyncio.Lock())
            async with lock:
                if delay:
                    await asyncio.sleep(delay)
                status, response = await self._serve(request, method, entry[1])
                return response
        except asyncio.CancelledError:
            status = 499  # the client went away first (nginx's "client closed request")
            raise
        finally:
            finished = time.monotonic()
            with self._lock:
                self._inflight -= 1
                self._last_activity = finished
                self.call_log.append(ApiCall(method, status, started, finished - started))
            self._wake(self._state_signal)

    async def _serve(
        self, request: web.Request, method: str, handler: _Handler
    ) -> tuple[int, web.StreamResponse]:
        """Run one call (after latency): fault injection, then the method; (status, answer)."""
        fault = self._take_fault(method)
        if fault is not None and not (fault.drop and fault.after_processing):
            if fault.drop:
                return fault.status, self._drop(request)
            return fault.status, _error_response(fault.status, fault.description, fault.retry_after)
        try:
            params, uploads = await self._read_params(request)
            if uploads:
                params.values["_uploads"] = uploads
            result = handler(params)
            if isinstance(result, Awaitable):
                result = await result
        except _ApiError as exc:
            return exc.status, _error_response(exc.status, exc.description, exc.retry_after)
        if fault is not None:
            return 0, self._drop(request)
        return 200, web.json_response({"ok": True, "result": result}, dumps=_dumps)

    def _drop(self, request: web.Request) -> web.StreamResponse:
        """Close the connection without an answer (the client sees a network error)."""
        transport = request.transport
        if transport is not None:
            transport.abort()
        return web.Response(status=500)

    def _handler_table(self) -> dict[str, _Handler]:
        def constant(value: Any) -> _Handler:
            return lambda _params: value

        return {
            "getMe": lambda _p: self._get_me(),
            "logOut": constant(True),
            "close": constant(True),
            "getUpdates": self._get_updates,
            "setWebhook": self._set_webhook,
            "deleteWebhook": self._delete_webhook,
            "getWebhookInfo": self._get_webhook_info,
            "setMyCommands": self._set_my_commands,
            "getMyCommands": self._get_my_commands,
            "deleteMyCommands": self._delete_my_commands,
            "setMyName": lambda p: self._set_bot_text(p, "name"),
            "getMyName": lambda p: self._get_bot_text(p, "name"),
            "setMyDescription": lambda p: self._set_bot_text(p, "description"),
            "getMyDescription": lambda p: self._get_bot_text(p, "description"),
            "setMyShortDescription": lambda p: self._set_bot_text(p, "short_description"),
            "getMyShortDescription": lambda p: self._get_bot_text(p, "short_description"),
            "setChatMenuButton": self._set_chat_menu_button,
            "getChatMenuButton": self._get_chat_menu_button,
            "sendMessage": self._send_message,
            "sendPhoto": lambda p: self._send_media(p, "photo", "sendPhoto"),
            "sendDocument": lambda p: self._send_media(p, "document", "sendDocument"),
            "sendVideo": lambda p: self._send_media(p, "video", "sendVideo"),
            "sendAudio": lambda p: self._send_media(p, "audio", "sendAudio"),
            "sendVoice": lambda p: self._send_media(p, "voice", "sendVoice"),
            "sendAnimation": lambda p: self._send_media(p, "animation", "sendAnimation"),
            "sendSticker": lambda p: self._send_media(p, "sticker", "sendSticker"),
            "sendMediaGroup": self._send_media_group,
            "sendLocation": self._send_location,
            "sendContact": self._send_contact,
            "sendChatAction": self._send_chat_action,
            "forwardMessage": lambda p: self._forward(p, copy_only=False),
            "copyMessage": lambda p: self._forward(p, copy_only=True),
            "editMessageText": self._edit_message_text,
            "editMessageCaption": self._edit_message_caption,
            "editMessageReplyMarkup": self._edit_message_reply_markup,
            "deleteMessage": self._delete_message,
            "deleteMessages": self._delete_messages,
            "answerCallbackQuery": self._answer_callback_query,
            "getFile": self._get_file,
            "getChat": self._get_chat,
            "getChatMember": self._get_chat_member,
        }
