# Failures the `sigap` command reports in one Indonesian line (bot/cli/sigap.py main), defined
# apart from the modules that raise them so that the CLI can catch them without importing
# the whole bot (bot.app.service pulls in PTB, pywa and uvicorn: seconds at every command).
from __future__ import annotations


class TelegramUnreachable(RuntimeError):
    """`sigap jalankan` could not reach Telegram at start; the message says what to check."""


__all__ = ["TelegramUnreachable"]
