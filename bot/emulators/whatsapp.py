# Emulator of the WhatsApp Cloud API (Graph API), served over HTTP on loopback, plus the
# Meta side of the webhook: it builds Meta-shaped, signed webhook payloads and POSTs them to
# the bot's webhook, as Meta does.
#
# Meta is never reachable from the machines SIGAP is developed on, so the tests, the benchmark
# and `sigap sandbox` run the real pywa client against this server (SIGAP_WHATSAPP_API_URL).
#
# Invariants (the tests rely on them):
#   * Every message the bot sends and the API accepts is appended to `sent` as an immutable
#     `Sent` record, in the order the requests were processed; a refused request sends nothing
#     and is appended to `refused` with its error code instead.
#   * The limits WhatsApp enforces are enforced here too, with Meta's error envelope and codes:
#     at most 3 reply buttons (title <= 20 characters), at most 10 list rows (title <= 24,
#     description <= 72), interactive body <= 1024 and text body <= 4096 characters, unique ids.
#   * The customer service window: a free-form message to a user whose last message (sent
#     through this emulator) is more than 24 hours old is refused with 131047; only an
#     approved template goes through. The real API mostly reports 131047 asynchronously in a
#     status webhook; refusing synchronously makes a violation visible to the test at once.
#   * Webhook payloads follow the current Cloud API shape (contacts[].user_id, the
#     business-scoped user id, which pywa 4.x requires) and are signed with the app secret in
#     X-Hub-Signature-256 unless a test asks for a bad or missing signature.
#   * The server runs in the caller's asyncio loop; the control API is called from that loop.
#   * Several business numbers (one WABA, one token): `phone_id` and those `add_number` adds.
#     A message sent to /<phone_id>/messages is recorded with the number that sent it
#     (`Sent.phone_id`); an inbound message is addressed to one number (metadata of its
#     webhook), and the 24-hour window is kept per user and number, as WhatsApp keeps it.
#
# Deliberate simplifications: no status webhooks (sent/delivered/read) are pushed; templates
# are approved by `approve_template`, not reviewed; media are kept in memory.
from __future__ import annotations

import asyncio
import copy
import hashlib
import hmac
import itertools
import json
import logging
import re
import secrets
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Final

import aiohttp
from aiohttp import web

__all__ = ["GraphApiEmulator", "Refused", "Sent", "WindowClosed"]

logger = logging.getLogger(__name__)
JSONDict = dict[str, Any]

MAX_TEXT: Final = 4096
MAX_INTERACTIVE_BODY: Final = 1024
MAX_BUTTONS: Final = 3
MAX_BUTTON_TITLE: Final = 20
MAX_BUTTON_ID: Final = 256
MAX_ROWS: Final = 10
MAX_ROW_TITLE: Final = 24
MAX_ROW_DESCRIPTION: Final = 72
MAX_ROW_ID: Final = 200
MAX_LIST_BUTTON: Final = 20
MAX_SECTION_TITLE: Final = 24
WINDOW_SECONDS: Final = 24 * 3600
_VERSION = r"v\d+\.\d+"


class WindowClosed(Exception):
    pass


@dataclass(frozen=True, slots=True)
class Sent:
    """One message the bot sent and the API accepted, as the user would see it."""

    seq: int
    id: str
    user: str  # the user's wa_id (whatever identifier the bot addressed them by)
    type: str  # text, interactive, image, location, template
    text: str | None  # text body, interactive body, caption or the rendered template
    buttons: tuple[tuple[str, str], ...]  # reply buttons: (title, id)
    rows: tuple[tuple[str, str, str | None], ...]  # list rows: (title, id, description)
    list_button: str | None
    template: JSONDict | None
    location: JSONDict | None
    media_id: str | None
    payload: JSONDict
    at: float
    phone_id: str = ""  # the business number (phone number id) that sent it

    @property
    def choices(self) -> list[tuple[str, str]]:
        """(title, id) of every button or list row, in order: what the user can press."""
        return list(self.buttons) or [(title, rid) for title, rid, _ in self.rows]


@dataclass(frozen=True, slots=True)
class Refused:
    user: str | None
    code: int
    message: str
    payload: JSONDict


@dataclass
class _User:
    wa_id: str
    bsuid: str
    name: str
    # When the user last wrote to each business number, by phone number id.
    last_inbound: dict[str, float] = field(default_factory=dict)


class _ApiError(Exception):
    def __init__(self, status: int, code: int, message: str, details: str | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.details = status, code, message, details

    def body(self) -> JSONDict:
        error: JSONDict = {
            "message": self.message,
            "type": "OAuthException",
            "code": self.code,
            "fbtrace_id": secrets.token_urlsafe(9),
        }
        if self.details:
            error["error_data"] = {"messaging_product": "whatsapp", "details": self.details}
        return {"error": error}


def _invalid(details: str) -> _ApiError:
    return _ApiError(400, 131009, "(#131009) Parameter value is not valid", details)


@dataclass
class _Fault:
    status: int
    code: int
    message: str


@dataclass
class GraphApiEmulator:
    """Graph API on loopback; `url` is what SIGAP_WHATSAPP_API_URL points at."""

    token: str
    app_secret: str
    phone_id: str = "106540352242922"
    waba_id: str = "102290129340398"
    display_phone: str = "6281100001111"
    host: str = "127.0.0.1"
    port_requested: int = 0
    sent: list[Sent] = field(default_factory=list)
    refused: list[Refused] = field(default_factory=list)
    webhook_url: str | None = None
    verify_token: str | None = None
    # The other business numbers of the WABA: {phone number id: display number}.
    numbers: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._runner: web.AppRunner | None = None
        self._port: int | None = None
        self._users: dict[str, _User] = {}
        self._by_bsuid: dict[str, _User] = {}
        self._templates: dict[tuple[str, str], str] = {}
        self._media: dict[str, tuple[bytes, str]] = {}
        self._faults: list[_Fault] = []
        self._seq = itertools.count(1)
        self._changed = asyncio.Event()
        self._http: aiohttp.ClientSession | None = None
        self.requests = 0

    # ------------------------------------------------------------------ lifecycle
    async def start(self) -> None:
        app = web.Application(client_max_size=100 * 1024 * 1024)
        app.router.add_post(r"/{version:" + _VERSION + r"}/{phone_id}/messages", self._messages)
        app.router.add_post(r"/{version:" + _VERSION + r"}/{phone_id}/media", self._upload)
        app.router.add_get(r"/{version:" + _VERSION + r"}/{media_id}", self._media_info)
        app.router.add_get("/media/{media_id}", self._media_bytes)
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await runner.setup()
        sock = socket.socket(socket.AF_INET)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, self.port_requested))
        sock.listen(128)
        sock.setblocking(False)
        await web.SockSite(runner, sock).start()
        self._port = int(sock.getsockname()[1])
        self._runner = runner
        # Meta posts webhooks over many connections at once; so may the tests.
        self._http = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=64))

    async def stop(self) -> None:
        if self._http is not None:
            await self._http.close()
            self._http = None
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()

    async def __aenter__(self) -> GraphApiEmulator:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()

    @property
    def url(self) -> str:
        if self._port is None:
            raise RuntimeError("emulator is not running")
        return f"http://{self.host}:{self._port}"

    def connect(self, webhook_url: str, verify_token: str | None = None) -> None:
        """Where Meta posts this app's webhooks (the App Dashboard's callback URL)."""
        self.webhook_url = webhook_url
        self.verify_token = verify_token

    # ------------------------------------------------------------------ numbers, users, templates, faults
    def add_number(self, phone_id: str, display_phone: str) -> None:
        """Another business number of the same account, answered by the same token."""
        self.numbers[phone_id] = display_phone

    def phones(self) -> dict[str, str]:
        """{phone number id: display number} of every business number, the first one first."""
        return {self.phone_id: self.display_phone, **self.numbers}

    def user(self, wa_id: str, name: str) -> JSONDict:
        """Register a WhatsApp user; returns its contacts[] entry as in webhooks."""
        digits = str(int(hashlib.sha256(wa_id.encode()).hexdigest()[:15], 16))
        user = _User(wa_id=wa_id, bsuid=f"ID.{digits}", name=name)
        self._users[wa_id] = user
        self._by_bsuid[user.bsuid] = user
        return self._contact(user)

    def bsuid(self, wa_id: str) -> str:
        return self._users[wa_id].bsuid

    def wrote(self, wa_id: str, hours_ago: float = 0.0, phone_id: str | None = None) -> None:
        """Pretend the user last wrote `hours_ago` hours ago (the window runs from then), to
        business number `phone_id` (None: to every number)."""
        at = time.time() - hours_ago * 3600
        for pid in [phone_id] if phone_id else self.phones():
            self._users[wa_id].last_inbound[pid] = at

    def close_window(self, wa_id: str, hours_ago: float = 25.0, phone_id: str | None = None) -> None:
        self.wrote(wa_id, hours_ago, phone_id)

    def approve_template(self, name: str, language: str, body: str) -> None:
        """An approved template; `body` uses positional parameters {{1}}, {{2}}, ..."""
        self._templates[(name, language)] = body

    def fail_next(self, status: int = 500, code: int = 131000, message: str = "Something went wrong", times: int = 1) -> None:
        self._faults.extend(_Fault(status, code, message) for _ in range(times))

    def add_media(self, data: bytes, mime_type: str = "image/jpeg") -> str:
        media_id = str(next(self._seq) + 700_000_000_000_000)
        self._media[media_id] = (data, mime_type)
        return media_id

    def media_bytes(self, media_id: str) -> bytes:
        return self._media[media_id][0]

    # ------------------------------------------------------------------ observing
    def messages_to(self, wa_id: str, phone_id: str | None = None) -> list[Sent]:
        """What was sent to the user (from business number `phone_id` only, if given)."""
        return [s for s in self.sent if s.user == wa_id and (phone_id is None or s.phone_id == phone_id)]

    def last_to(self, wa_id: str, phone_id: str | None = None) -> Sent:
        found = self.messages_to(wa_id, phone_id)
        if not found:
            raise AssertionError(f"nothing sent to {wa_id}")
        return found[-1]

    def mark(self) -> int:
        return len(self.sent)

    async def wait_for(
        self, predicate: Callable[[Sent], bool], timeout: float = 10.0, *, since: int = 0
    ) -> Sent:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            for s in self.sent[since:]:
                if predicate(s):
                    return s
            remaining = deadline - loop.time()
            if remaining <= 0:
                last = "; ".join(f"{s.type} to {s.user}: {s.text!r}" for s in self.sent[-3:])
                raise TimeoutError(f"no matching message within {timeout}s (last: {last or 'none'})")
            self._changed.clear()
            try:
                await asyncio.wait_for(self._changed.wait(), remaining)
            except TimeoutError:
                pass

    # ------------------------------------------------------------------ the webhook side
    def sign(self, body: bytes) -> str:
        return "sha256=" + hmac.new(self.app_secret.encode(), body, hashlib.sha256).hexdigest()

    def _contact(self, user: _User) -> JSONDict:
        return {"profile": {"name": user.name}, "wa_id": user.wa_id, "user_id": user.bsuid}

    def envelope(self, wa_id: str, message: JSONDict, *, contact: JSONDict | None = None,
                 phone_id: str | None = None) -> JSONDict:
        """A whole webhook body for one user message, shaped like Meta's documented examples,
        to business number `phone_id` (None: the first; an unknown id is sent as it is, with
        no display number, as a misrouted webhook would come)."""
        user = self._users[wa_id]
        to = phone_id or self.phone_id
        return {
            "object": "whatsapp_business_account",
            "entry": [
                {
                    "id": self.waba_id,
                    "changes": [
                        {
                            "value": {
                                "messaging_product": "whatsapp",
                                "metadata": {
                                    "display_phone_number": self.phones().get(to, ""),
                                    "phone_number_id": to,
                                },
                                "contacts": [contact if contact is not None else self._contact(user)],
                                "messages": [message],
                            },
                            "field": "messages",
                        }
                    ],
                }
            ],
        }

    def message(self, wa_id: str, kind: str, content: JSONDict, *, context_id: str | None = None,
                phone_id: str | None = None) -> JSONDict:
        user = self._users[wa_id]
        msg: JSONDict = {
            "from": user.wa_id,
            "from_user_id": user.bsuid,
            "id": "wamid." + secrets.token_urlsafe(36),
            "timestamp": str(int(time.time())),
            "type": kind,
            kind: content,
        }
        if context_id:
            msg["context"] = {"from": self.phones().get(phone_id or self.phone_id, ""), "id": context_id}
        return msg

    def text(self, wa_id: str, body: str, phone_id: str | None = None) -> JSONDict:
        """A text from the user to business number `phone_id` (None: the first)."""
        return self.envelope(wa_id, self.message(wa_id, "text", {"body": body}), phone_id=phone_id)

    def image(self, wa_id: str, data: bytes, caption: str | None = None, mime_type: str = "image/jpeg",
              phone_id: str | None = None) -> JSONDict:
        media_id = self.add_media(data, mime_type)
        content: JSONDict = {"mime_type": mime_type, "sha256": hashlib.sha256(data).hexdigest(), "id": media_id}
        if caption:
            content["caption"] = caption
        return self.envelope(wa_id, self.message(wa_id, "image", content), phone_id=phone_id)

    def location(self, wa_id: str, latitude: float, longitude: float, name: str | None = None, address: str | None = None,
                 phone_id: str | None = None) -> JSONDict:
        content: JSONDict = {"latitude": latitude, "longitude": longitude}
        if name:
            content["name"] = name
        if address:
            content["address"] = address
        return self.envelope(wa_id, self.message(wa_id, "location", content), phone_id=phone_id)

    def sticker(self, wa_id: str, phone_id: str | None = None) -> JSONDict:
        media_id = self.add_media(b"RIFF\x00\x00\x00\x00WEBP", "image/webp")
        content = {"mime_type": "image/webp", "sha256": "0" * 64, "id": media_id, "animated": False}
        return self.envelope(wa_id, self.message(wa_id, "sticker", content), phone_id=phone_id)

    def button_reply(self, wa_id: str, reply_id: str, title: str, context_id: str | None = None,
                     phone_id: str | None = None) -> JSONDict:
        content = {"type": "button_reply", "button_reply": {"id": reply_id, "title": title}}
        return self.envelope(wa_id, self.message(wa_id, "interactive", content, context_id=context_id,
                                                 phone_id=phone_id), phone_id=phone_id)

    def list_reply(self, wa_id: str, row_id: str, title: str, description: str | None = None, context_id: str | None = None,
                   phone_id: str | None = None) -> JSONDict:
        row: JSONDict = {"id": row_id, "title": title}
        if description:
            row["description"] = description
        content = {"type": "list_reply", "list_reply": row}
        return self.envelope(wa_id, self.message(wa_id, "interactive", content, context_id=context_id,
                                                 phone_id=phone_id), phone_id=phone_id)

    def reply_to(self, wa_id: str, label: str, phone_id: str | None = None) -> JSONDict:
        """Press the button or list row titled `label` (or numbered `label`, from 1) on the
        latest message to the user that has choices (from business number `phone_id`, if
        given). The press goes to the number that message came from, as in the app."""
        for s in reversed(self.messages_to(wa_id, phone_id)):
            if not s.choices:
                continue
            if label.isdigit() and 1 <= int(label) <= len(s.choices):
                title, rid = s.choices[int(label) - 1]
            else:
                found = [c for c in s.choices if c[0] == label] or [
                    (t, r) for t, r, d in s.rows if d == label
                ]
                if not found:
                    raise AssertionError(f"no choice {label!r} on the last message with choices: {s.choices}")
                title, rid = found[0]
            if s.buttons:
                return self.button_reply(wa_id, rid, title, context_id=s.id, phone_id=s.phone_id or None)
            description = next((d for t, r, d in s.rows if r == rid), None)
            return self.list_reply(wa_id, rid, title, description, context_id=s.id, phone_id=s.phone_id or None)
        raise AssertionError(f"no message with choices was sent to {wa_id}")

    async def post(self, payload: JSONDict | bytes, *, signature: str | None | bool = True) -> int:
        """POST a webhook body to the bot as Meta does. `signature`: True signs it with the
        app secret, False sends none, a string is sent as the header as it is."""
        if self.webhook_url is None or self._http is None:
            raise RuntimeError("no webhook connected (call connect) or emulator not started")
        body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        headers = {"Content-Type": "application/json"}
        if signature is True:
            headers["X-Hub-Signature-256"] = self.sign(body)
        elif isinstance(signature, str):
            headers["X-Hub-Signature-256"] = signature
        # The user wrote to WhatsApp before Meta posts the webhook: the window is open before
        # the bot can answer, whatever the bot's server then says.
        self._note_inbound(json.loads(body) if isinstance(payload, bytes) else payload)
        async with self._http.post(self.webhook_url, data=body, headers=headers) as resp:
            await resp.read()
            return resp.status

    def _note_inbound(self, payload: Any) -> None:
        if not isinstance(payload, dict):
            return
        for entry in payload.get("entry", []):
            for change in entry.get("changes", []):
                value = change.get("value", {})
                to = str((value.get("metadata") or {}).get("phone_number_id") or self.phone_id)
                for msg in value.get("messages", []):
                    user = self._users.get(str(msg.get("from"))) or self._by_bsuid.get(str(msg.get("from_user_id")))
                    if user is not None:
                        user.last_inbound[to] = float(msg.get("timestamp") or time.time())

    async def verify(self, verify_token: str, challenge: str) -> tuple[int, str]:
        """The GET handshake Meta makes when the callback URL is saved."""
        if self.webhook_url is None or self._http is None:
            raise RuntimeError("no webhook connected")
        params = {"hub.mode": "subscribe", "hub.verify_token": verify_token, "hub.challenge": challenge}
        async with self._http.get(self.webhook_url, params=params) as resp:
            return resp.status, await resp.text()

    # ------------------------------------------------------------------ the Graph API side
    def _check_auth(self, request: web.Request) -> None:
        if request.headers.get("Authorization") != f"Bearer {self.token}":
            raise _ApiError(401, 190, "Error validating access token: invalid token")

    def _check_phone(self, request: web.Request) -> str:
        """The business number a request is made for, which must be one of this account's."""
        phone_id = request.match_info["phone_id"]
        if phone_id not in self.phones():
            raise _ApiError(400, 100, f"Unsupported post request. Object with ID '{phone_id}' does not exist")
        return phone_id

    async def _answer(self, request: web.Request, work: Callable[[], Any]) -> web.Response:
        self.requests += 1
        try:
            self._check_auth(request)
            result = await work()
        except _ApiError as exc:
            return web.json_response(exc.body(), status=exc.status)
        return web.json_response(result)

    async def _messages(self, request: web.Request) -> web.Response:
        self.requests += 1
        payload: JSONDict = {}
        try:
            self._check_auth(request)
            phone_id = self._check_phone(request)
            try:
                payload = await request.json()
            except json.JSONDecodeError as exc:
                raise _invalid("body is not JSON") from exc
            if self._faults:
                fault = self._faults.pop(0)
                raise _ApiError(fault.status, fault.code, fault.message)
            result = self._accept_message(payload, phone_id)
        except _ApiError as exc:
            who = payload.get("to") or payload.get("recipient")
            detail = f"{exc.message}: {exc.details}" if exc.details else exc.message
            self.refused.append(Refused(None if who is None else str(who), exc.code, detail, payload))
            return web.json_response(exc.body(), status=exc.status)
        return web.json_response(result)

    def _resolve(self, payload: JSONDict) -> _User:
        if payload.get("messaging_product") != "whatsapp":
            raise _invalid("messaging_product must be whatsapp")
        to, recipient = payload.get("to"), payload.get("recipient")
        user = self._users.get(str(to)) if to else self._by_bsuid.get(str(recipient)) if recipient else None
        if user is None:
            raise _ApiError(400, 131026, "Message Undeliverable", f"unknown recipient {to or recipient}")
        return user

    def _accept_message(self, payload: JSONDict, phone_id: str) -> JSONDict:
        user = self._resolve(payload)
        kind = payload.get("type", "text")
        content = payload.get(kind)
        if not isinstance(content, dict):
            raise _invalid(f"missing {kind} object")
        text: str | None = None
        buttons: tuple[tuple[str, str], ...] = ()
        rows: tuple[tuple[str, str, str | None], ...] = ()
        list_button = None
        template = None
        location = None
        media_id = None
        if kind != "template":
            last = user.last_inbound.get(phone_id)  # the window is per business number
            window_open = last is not None and time.time() - last <= WINDOW_SECONDS
            if not window_open:
                raise _ApiError(
                    400, 131047, "Re-engagement message",
                    "Message failed to send because more than 24 hours have passed since the customer last replied to this number.",
                )
        if kind == "text":
            text = str(content.get("body", ""))
            if not text or len(text) > MAX_TEXT:
                raise _invalid(f"text.body must have 1..{MAX_TEXT} characters")
        elif kind == "interactive":
            text, buttons, rows, list_button = _interactive(content)
        elif kind == "image":
            media_id = str(content.get("id") or "")
            if media_id not in self._media:
                raise _ApiError(400, 131053, "Media upload error", f"unknown media id {media_id}")
            text = content.get("caption")
        elif kind == "location":
            try:
                location = {"latitude": float(content["latitude"]), "longitude": float(content["longitude"])}
            except (KeyError, TypeError, ValueError) as exc:
                raise _invalid("location needs latitude and longitude") from exc
        elif kind == "template":
            template, text = self._template(content)
        else:
            raise _ApiError(400, 131051, "Unsupported message type", kind)
        message_id = "wamid." + secrets.token_urlsafe(36)
        self.sent.append(
            Sent(
                seq=next(self._seq), id=message_id, user=user.wa_id, type=kind, text=text,
                buttons=buttons, rows=rows, list_button=list_button, template=template,
                location=location, media_id=media_id, payload=copy.deepcopy(payload), at=time.time(),
                phone_id=phone_id,
            )
        )
        self._changed.set()
        return {
            "messaging_product": "whatsapp",
            "contacts": [{"input": payload.get("to") or payload.get("recipient"), "wa_id": user.wa_id, "user_id": user.bsuid}],
            "messages": [{"id": message_id, "message_status": "accepted"}],
        }

    def _template(self, content: JSONDict) -> tuple[JSONDict, str]:
        name = content.get("name")
        language = (content.get("language") or {}).get("code")
        body = self._templates.get((str(name), str(language)))
        if body is None:
            raise _ApiError(400, 132001, "Template name does not exist in the translation", f"template {name} ({language})")
        params: list[str] = []
        for component in content.get("components") or []:
            if component.get("type") == "body":
                for p in component.get("parameters") or []:
                    if p.get("type") != "text":
                        raise _invalid("only text parameters are emulated")
                    value = str(p.get("text", ""))
                    # Meta refuses parameters with new lines, tabs or more than 4 spaces in a row.
                    if "\n" in value or "\t" in value or "     " in value or not value.strip():
                        raise _ApiError(400, 132018, "There was an issue with the parameters in your template", value[:80])
                    params.append(value)
        wanted = len(set(re.findall(r"\{\{(\d+)\}\}", body)))
        if wanted != len(params):
            raise _ApiError(400, 132000, "Number of parameters does not match the expected number of params", f"{wanted} != {len(params)}")
        rendered = re.sub(r"\{\{(\d+)\}\}", lambda m: params[int(m.group(1)) - 1], body)
        if len(rendered) > MAX_INTERACTIVE_BODY:
            raise _ApiError(400, 132005, "Translated text too long", str(len(rendered)))
        return {"name": name, "language": language, "params": params}, rendered

    async def _upload(self, request: web.Request) -> web.Response:
        async def work() -> JSONDict:
            self._check_phone(request)
            data, mime = b"", "application/octet-stream"
            reader = await request.multipart()
            async for part in reader:
                if isinstance(part, aiohttp.BodyPartReader) and part.name == "file":
                    data = bytes(await part.read())
                    mime = part.headers.get("Content-Type", mime)
            if not data:
                raise _invalid("file is required")
            return {"id": self.add_media(data, mime)}

        return await self._answer(request, work)

    async def _media_info(self, request: web.Request) -> web.Response:
        async def work() -> JSONDict:
            media_id = request.match_info["media_id"]
            if media_id not in self._media:
                raise _ApiError(404, 100, f"Unsupported get request. Object with ID '{media_id}' does not exist")
            data, mime = self._media[media_id]
            return {
                "messaging_product": "whatsapp",
                "url": f"{self.url}/media/{media_id}?ext={secrets.token_hex(4)}",
                "mime_type": mime,
                "sha256": hashlib.sha256(data).hexdigest(),
                "file_size": len(data),
                "id": media_id,
            }

        return await self._answer(request, work)

    async def _media_bytes(self, request: web.Request) -> web.Response:
        # The lookaside URL also needs the bearer token, as on Meta's servers.
        if request.headers.get("Authorization") != f"Bearer {self.token}":
            return web.Response(status=401)
        found = self._media.get(request.match_info["media_id"])
        if found is None:
            return web.Response(status=404)
        return web.Response(body=found[0], content_type=found[1].split(";")[0])


def _interactive(content: JSONDict) -> tuple[str, tuple[tuple[str, str], ...], tuple[tuple[str, str, str | None], ...], str | None]:
    kind = content.get("type")
    body = str((content.get("body") or {}).get("text", ""))
    if not body or len(body) > MAX_INTERACTIVE_BODY:
        raise _invalid(f"interactive body must have 1..{MAX_INTERACTIVE_BODY} characters, has {len(body)}")
    action = content.get("action") or {}
    if kind == "button":
        raw = action.get("buttons") or []
        if not 1 <= len(raw) <= MAX_BUTTONS:
            raise _invalid(f"between 1 and {MAX_BUTTONS} buttons, not {len(raw)}")
        buttons = []
        for b in raw:
            reply = b.get("reply") or {}
            title, rid = str(reply.get("title", "")), str(reply.get("id", ""))
            if b.get("type") != "reply" or not title or len(title) > MAX_BUTTON_TITLE:
                raise _invalid(f"button title must have 1..{MAX_BUTTON_TITLE} characters: {title!r}")
            if not rid or len(rid) > MAX_BUTTON_ID:
                raise _invalid(f"button id must have 1..{MAX_BUTTON_ID} characters")
            buttons.append((title, rid))
        if len({t for t, _ in buttons}) != len(buttons) or len({r for _, r in buttons}) != len(buttons):
            raise _invalid("button titles and ids must be unique")
        return body, tuple(buttons), (), None
    if kind == "list":
        label = str(action.get("button", ""))
        if not label or len(label) > MAX_LIST_BUTTON:
            raise _invalid(f"list button must have 1..{MAX_LIST_BUTTON} characters")
        sections = action.get("sections") or []
        rows = []
        for section in sections:
            title = section.get("title")
            if len(sections) > 1 and not title:
                raise _invalid("sections need a title when there are several")
            if title and len(str(title)) > MAX_SECTION_TITLE:
                raise _invalid(f"section title over {MAX_SECTION_TITLE} characters")
            for r in section.get("rows") or []:
                rt, rid, rd = str(r.get("title", "")), str(r.get("id", "")), r.get("description")
                if not rt or len(rt) > MAX_ROW_TITLE:
                    raise _invalid(f"row title must have 1..{MAX_ROW_TITLE} characters: {rt!r}")
                if not rid or len(rid) > MAX_ROW_ID:
                    raise _invalid(f"row id must have 1..{MAX_ROW_ID} characters")
                if rd is not None and len(str(rd)) > MAX_ROW_DESCRIPTION:
                    raise _invalid(f"row description over {MAX_ROW_DESCRIPTION} characters: {rd!r}")
                rows.append((rt, rid, None if rd is None else str(rd)))
        if not 1 <= len(rows) <= MAX_ROWS:
            raise _invalid(f"between 1 and {MAX_ROWS} rows, not {len(rows)}")
        if len({r for _, r, _ in rows}) != len(rows):
            raise _invalid("row ids must be unique")
        return body, (), tuple(rows), label
    raise _invalid(f"interactive type {kind!r} is not emulated")


class SandboxUser:
    """A WhatsApp user typing in the terminal of `sigap sandbox`: lines become signed webhook
    posts; what the bot sent is shown with its buttons or list rows numbered."""

    def __init__(self, emu: GraphApiEmulator, wa_id: str, photo: bytes) -> None:
        self.emu = emu
        self.wa_id = wa_id
        self.photo = photo
        self.shown = 0

    async def act(self, line: str) -> str | None:
        """Send what the line means; returns a notice for the terminal, if any."""
        if line.isdigit():
            try:
                payload = self.emu.reply_to(self.wa_id, line)
            except AssertionError:
                return "Tidak ada pilihan dengan nomor itu."
        elif line.startswith("/foto"):
            payload = self.emu.image(self.wa_id, self.photo, caption=line[len("/foto") :].strip() or None)
        elif line.startswith("/lokasi"):
            parts = line.split()
            try:
                lat, lon = float(parts[1]), float(parts[2])
            except (IndexError, ValueError):
                lat, lon = -8.0667, 113.7167  # Jelbuk
            payload = self.emu.location(self.wa_id, lat, lon)
        elif line == "/stiker":
            payload = self.emu.sticker(self.wa_id)
        else:
            payload = self.emu.text(self.wa_id, line)
        status = await self.emu.post(payload)
        return None if status == 200 else f"Webhook menjawab {status}."

    def new_lines(self, to_text: Callable[[str], str]) -> list[str]:
        """What arrived since the last call, as the user would read it."""
        lines: list[str] = []
        for s in self.emu.messages_to(self.wa_id)[self.shown :]:
            if s.location:
                body = f"📍 lokasi {s.location['latitude']}, {s.location['longitude']}"
            elif s.type == "image":
                body = "🖼  foto" + (f": {s.text}" if s.text else "")
            else:
                body = to_text(s.text or "")
            tag = "bot (templat)" if s.type == "template" else "bot"
            lines.append(f"\n[WhatsApp] {tag}:\n{body}")
            if s.list_button:
                lines.append(f"   ({s.list_button})")
            for i, (title, _rid, description) in enumerate(s.rows or [(t, r, None) for t, r in s.buttons], 1):
                lines.append(f"   [{i}] {title}" + (f" — {description}" if description else ""))
        self.shown = len(self.emu.messages_to(self.wa_id))
        return lines
