"""The `sigap` command: one module per command group."""

from bot.cli.sigap import main

__all__ = ["main"]
