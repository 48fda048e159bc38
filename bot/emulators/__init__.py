"""Loopback emulators of the chat platforms SIGAP talks to.

They let the tests, the benchmark and `sigap sandbox` run the real client libraries without
network access to the platforms themselves.
"""

from bot.emulators.telegram import (
    AnsweredCallback,
    ApiCall,
    BotApiEmulator,
    Outgoing,
    StoredFile,
    buttons,
    parse_formatted_text,
)

__all__ = [
    "AnsweredCallback",
    "ApiCall",
    "BotApiEmulator",
    "Outgoing",
    "StoredFile",
    "buttons",
    "parse_formatted_text",
]
