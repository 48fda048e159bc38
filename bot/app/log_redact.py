# Logs without personal data or secrets (UU 27/2022; issue 12): every line the bot logs,
# tracebacks included, passes through RedactingFormatter before it is written.
# Invariants: a bot token, an access token, a phone number, a chat or user id and a
# WhatsApp message id (which encodes the phone) never appear in clear. Ids and numbers are
# replaced by a short keyed hash (#1a2b3c4d), the same within one run so that the lines of
# one chat can still be followed, but not reversible from the log (a plain hash of a phone
# number could be found by trying every number, hence the per-run key). Tokens are omitted.
from __future__ import annotations

import hashlib
import hmac
import logging
import re
import secrets
import sys

_TOKENS = (
    # Telegram bot token, also inside https://api.telegram.org/bot<token>/...
    re.compile(r"\d{5,12}:[A-Za-z0-9_-]{30,}"),
    # Meta (WhatsApp Cloud API) access tokens.
    re.compile(r"\bEA[A-Za-z0-9]{30,}"),
    # Bearer headers and token-like query parameters.
    re.compile(r"(?i)(?<=bearer )[A-Za-z0-9._~+/-]{16,}=*"),
)
_PARAM = re.compile(r"(?i)\b(\w*(?:token|secret|signature))=[^&\s'\"]+")
# wamid.<base64 of the phone and message>
_WAMID = re.compile(r"wamid\.[A-Za-z0-9+/=_-]+")
# A phone number written with separators (+62 812-3456-7890, 0812 3456 7890), and any run of
# 7 or more digits (6281234567890, chat ids, group ids like -1001234567890, user ids,
# WhatsApp ids). Shorter numbers (counts, outbox ids, dates, times) stay readable.
_PHONE = re.compile(r"(?<![\w.#])(?:\+?62|0)[ -]?8\d{1,3}(?:[ -]\d{2,5}){1,3}(?!\w)")
_NUMBER = re.compile(r"(?<![\w.#])[+-]?\d{7,}(?!\w)")


class Redactor:
    def __init__(self, key: bytes | None = None) -> None:
        self.key = key or secrets.token_bytes(16)

    def tag(self, value: str) -> str:
        digits = re.sub(r"[^0-9A-Za-z]", "", value)
        if digits.startswith("08"):  # 0812... and +62 812... are one number, one tag
            digits = "62" + digits[1:]
        return "#" + hmac.new(self.key, digits.encode(), hashlib.sha256).hexdigest()[:8]

    def __call__(self, text: str) -> str:
        for pattern in _TOKENS:
            text = pattern.sub("[token]", text)
        text = _PARAM.sub(r"\1=[token]", text)
        text = _WAMID.sub(lambda m: "wamid." + self.tag(m.group(0))[1:], text)
        text = _PHONE.sub(lambda m: self.tag(m.group(0)), text)
        return _NUMBER.sub(lambda m: self.tag(m.group(0)), text)


class RedactingFormatter(logging.Formatter):
    def __init__(self, fmt: str | None = None, datefmt: str | None = None, redactor: Redactor | None = None) -> None:
        super().__init__(fmt, datefmt)
        self.redact = redactor or Redactor()

    def format(self, record: logging.LogRecord) -> str:
        return self.redact(super().format(record))


LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def configure_logging(level: str | int) -> None:
    """The bot's logging: one stderr handler on the root logger that writes redacted lines
    only (added once; other handlers, such as a test runner's, are left alone)."""
    root = logging.getLogger()
    root.setLevel(level)
    if not any(isinstance(h.formatter, RedactingFormatter) for h in root.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(RedactingFormatter(LOG_FORMAT))
        root.addHandler(handler)
