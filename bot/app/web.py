# The one ASGI server of `sigap run`: the WhatsApp webhook, and Telegram's in webhook mode.
# Invariants: a POST is answered 200 only after its content is committed to the inbox (so a
# crash before the answer makes the sender deliver it again, and the inbox's unique key makes
# that harmless); a WhatsApp POST whose X-Hub-Signature-256 is missing or wrong, and a Telegram
# POST without the secret token, are refused before anything is read into the register.
# Served by uvicorn inside the Service's event loop, so the handlers share its database, its
# channels and its delivery loop.
from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
import socket
from collections.abc import Awaitable, Callable, Iterator, Sequence
from typing import Any

import uvicorn
from fastapi import FastAPI, Request, Response

from bot.config.settings import WebSettings

log = logging.getLogger(__name__)
TELEGRAM_SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
TelegramAccept = Callable[[dict[str, Any]], Awaitable[None]]


def build_app(
    web: WebSettings,
    *,
    whatsapp: Any | None = None,
    whatsapp_channel: Any | None = None,
    telegram_accept: Callable[[dict[str, Any]], Awaitable[None]] | None = None,
    dashboard: Callable[[FastAPI], None] | None = None,
    telegram_bots: Sequence[tuple[str, str, TelegramAccept]] = (),
) -> FastAPI:
    """`whatsapp` is the pywa client (handshake and signature), `whatsapp_channel` stores what
    it accepts; `telegram_accept` stores one Telegram update (webhook mode); `telegram_bots`
    are the kecamatan bots' (path, secret, accept), each on its own path with its own secret
    (bot/channels/telegram_bots.py); `dashboard` adds the web dashboard's routes
    (bot.dashboard.routes.mount_dashboard)."""
    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
    if dashboard is not None:
        dashboard(app)

    if whatsapp is not None and whatsapp_channel is not None:
        from bot.channels.whatsapp import BadPayload

        @app.get(web.whatsapp_path)
        async def whatsapp_verify(request: Request) -> Response:
            q = request.query_params
            challenge, status = await whatsapp.webhook_challenge_handler(
                vt=q.get("hub.verify_token"), ch=q.get("hub.challenge")
            )
            return Response(content=challenge or "", status_code=status, media_type="text/plain")

        @app.post(web.whatsapp_path)
        async def whatsapp_update(request: Request) -> Response:
            body = await request.body()
            refused = await whatsapp.webhook_update_validator(body, request.headers.get("X-Hub-Signature-256"))
            if refused:
                text, status = refused
                return Response(content=text, status_code=status, media_type="text/plain")
            try:
                await whatsapp_channel.accept(body)
            except BadPayload as exc:
                log.warning("webhook WhatsApp ditolak: %s", exc)
                return Response(content="Bad Request", status_code=400, media_type="text/plain")
            except Exception:
                # Not stored (the register is down): 500, and Meta delivers it again later.
                log.exception("webhook WhatsApp tidak dapat disimpan")
                return Response(content="Internal Server Error", status_code=500, media_type="text/plain")
            return Response(content="ok", media_type="text/plain")

    if telegram_accept is not None:
        _telegram_route(app, web.telegram_path, web.telegram_webhook_secret or "", telegram_accept)
    for path, secret, accept in telegram_bots:
        _telegram_route(app, path, secret, accept)
    return app


def _telegram_route(app: FastAPI, path: str, secret: str, telegram_accept: TelegramAccept) -> None:
    @app.post(path)
    async def telegram_update(request: Request) -> Response:
        given = request.headers.get(TELEGRAM_SECRET_HEADER, "")
        if not secret or not hmac.compare_digest(given.encode(), secret.encode()):
            return Response(content="Forbidden", status_code=403, media_type="text/plain")
        try:
            update = await request.json()
        except ValueError:
            return Response(content="Bad Request", status_code=400, media_type="text/plain")
        if not isinstance(update, dict) or not isinstance(update.get("update_id"), int):
            return Response(content="Bad Request", status_code=400, media_type="text/plain")
        try:
            await telegram_accept(update)
        except Exception:
            log.exception("webhook Telegram tidak dapat disimpan")  # Telegram retries it
            return Response(content="Internal Server Error", status_code=500, media_type="text/plain")
        return Response(content="ok", media_type="text/plain")


class _Server(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        # The Service owns shutdown (Ctrl-C stops everything through asyncio.run); uvicorn
        # must not take SIGINT/SIGTERM for itself and stop only the web part.
        yield


class WebServer:
    """uvicorn serving `app` on a socket bound here, so port 0 (tests) gives a known port."""

    def __init__(self, app: FastAPI, host: str, port: int) -> None:
        self.app = app
        self.host = host
        self.requested_port = port
        self.port: int | None = None
        self._server: _Server | None = None
        self._task: asyncio.Task[None] | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    async def start(self) -> None:
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, self.requested_port))
        sock.listen(256)
        sock.setblocking(False)
        self.port = int(sock.getsockname()[1])
        config = uvicorn.Config(
            self.app, lifespan="off", log_config=None, access_log=False, timeout_graceful_shutdown=5
        )
        self._server = _Server(config)
        self._task = asyncio.create_task(self._server.serve(sockets=[sock]), name="web")
        while not self._server.started:
            if self._task.done():
                await self._task  # raises what stopped it
                raise RuntimeError("server web berhenti sebelum siap")
            await asyncio.sleep(0.01)
        log.info("server web mendengarkan di %s", self.url)

    async def stop(self) -> None:
        if self._server is None or self._task is None:
            return
        self._server.should_exit = True
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await asyncio.wait_for(self._task, timeout=10)
        self._server = None
        self._task = None
