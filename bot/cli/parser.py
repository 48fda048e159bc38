# The argument parser of the `sigap` command, in Indonesian.
#
# Invariants:
# - Every parser of the CLI is a `SigapParser`: `parser()` in bot/cli/sigap.py builds the top level
#   with it, and argparse gives every `add_subparsers()`/`add_parser()` below it the class of
#   its parent, so subcommands added by any module (cli_skm, cli_iku, cli_pdp, ...) are
#   Indonesian without doing anything.
# - argparse's own texts ("usage: ", "the following arguments are required", ...) come from
#   `gettext`. The Indonesian catalogue below is swapped in only while a SigapParser builds,
#   parses or prints, so other users of argparse in the same process are untouched.
# - Subcommands registered under an English name (by any module) also answer to their
#   Indonesian name (_INDONESIAN: `sigap skm laporan` = `sigap skm report`), shown first in
#   help; the namespace always gets the name the module registered, so its dispatch on
#   `args.action == "report"` keeps working whichever name was typed.
# - Options registered under an English name (_INDONESIAN_OPTIONS: `--period`) get their
#   Indonesian name (`--periode`) as the primary one: first in usage, the only one in help
#   and in error messages. The English spelling still works (scripts written before) but is
#   not shown; the namespace keeps the module's dest (`args.period`).
# - A usage error prints the usage and one Indonesian line to stderr and exits 2, as argparse
#   does; no traceback.
from __future__ import annotations

import argparse
import contextlib
import copy
import sys
from collections.abc import Iterator, Sequence
from typing import Any, NoReturn

_CATALOGUE: dict[str, str] = {
    "usage: ": "penggunaan: ",
    "positional arguments": "argumen posisi",
    "options": "opsi",
    "optional arguments": "opsi",
    "show this help message and exit": "tampilkan bantuan ini lalu keluar",
    "subcommands": "subperintah",
    "argument %(argument_name)s: %(message)s": "argumen %(argument_name)s: %(message)s",
    "unrecognized arguments: %s": "argumen tidak dikenal: %s",
    "not allowed with argument %s": "tidak boleh bersama argumen %s",
    "ignored explicit argument %r": "argumen eksplisit %r diabaikan",
    "the following arguments are required: %s": "argumen berikut wajib diisi: %s",
    "one of the arguments %s is required": "salah satu argumen %s wajib diisi",
    "expected one argument": "perlu satu nilai",
    "expected at most one argument": "paling banyak satu nilai",
    "expected at least one argument": "perlu paling sedikit satu nilai",
    "ambiguous option: %(option)s could match %(matches)s": "opsi ambigu: %(option)s bisa berarti %(matches)s",
    "unexpected option string: %s": "opsi tidak terduga: %s",
    "invalid %(type)s value: %(value)r": "nilai %(type)s tidak sah: %(value)r",
    "invalid choice: %(value)r (choose from %(choices)s)": "pilihan tidak sah: %(value)r (pilih dari %(choices)s)",
    "unknown parser %(parser_name)r (choices: %(choices)s)": "subperintah tidak dikenal %(parser_name)r (pilihan: %(choices)s)",
    "%(prog)s: error: %(message)s\n": "%(prog)s: kesalahan: %(message)s\n",
    "can't open '%(filename)s': %(error)s": "tidak dapat membuka '%(filename)s': %(error)s",
}

_PLURALS: dict[str, tuple[str, str]] = {
    "expected %s argument": ("perlu %s nilai", "perlu %s nilai"),
}


# English subcommand name -> Indonesian name, added as an alias wherever the English is used.
_INDONESIAN: dict[str, str] = {
    "report": "laporan",
    "import": "impor",
    "export": "ekspor",
    "list": "daftar",
    "add": "tambah",
    "remove": "hapus",
    "set": "tetapkan",
    "correct": "koreksi",
    "facilitate": "fasilitasi",
    "history": "riwayat",
    "deactivate": "nonaktifkan",
    "upgrade": "mutakhirkan",
    "run": "jalankan",
}


# English option -> Indonesian option, the primary name wherever the English one is used.
_INDONESIAN_OPTIONS: dict[str, str] = {
    "--year": "--tahun",
    "--period": "--periode",
    "--week": "--minggu",
    "--chart": "--grafik",
    "--dry-run": "--coba",
    "--send": "--kirim",
    "--out": "--keluaran",
    "--output": "--keluaran",
    "--skip-invalid": "--lewati-salah",
    "--script": "--skrip",
    "--telegram-id": "--id-telegram",
    "--role": "--peran",
    "--name": "--nama",
}
_HIDDEN = "_sigap_hidden"  # the action's option strings that work but are not shown


def _hidden(action: argparse.Action) -> set[str]:
    return getattr(action, _HIDDEN, set())


def _localise_options(parser: argparse.ArgumentParser) -> None:
    """Give this parser's and its subcommands' English options their Indonesian names
    (idempotent: it runs before every parse and help)."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in set(action.choices.values()):
                _localise_options(sub)
            continue
        for english, indonesian in _INDONESIAN_OPTIONS.items():
            if english not in action.option_strings or english in _hidden(action):
                continue
            owner = parser._option_string_actions.get(indonesian)
            if owner is not None and owner is not action:
                continue  # the Indonesian name means something else here: leave both alone
            rest = [o for o in action.option_strings if o not in (english, indonesian)]
            action.option_strings = [indonesian, *rest, english]
            parser._option_string_actions[indonesian] = action
            setattr(action, _HIDDEN, _hidden(action) | {english})
            if action.metavar is None and action.nargs != 0:
                action.metavar = indonesian.lstrip("-").replace("-", "_").upper()


def _shown(action: argparse.Action) -> argparse.Action:
    """The action as help and errors present it: without its hidden English names."""
    hidden = _hidden(action)
    if not hidden:
        return action
    shown = copy.copy(action)
    shown.option_strings = [o for o in action.option_strings if o not in hidden]
    return shown


class _Formatter(argparse.HelpFormatter):
    def _format_action_invocation(self, action: argparse.Action) -> str:
        return super()._format_action_invocation(_shown(action))


def _action_name(argument: argparse.Action | None) -> str | None:
    return _argparse_action_name(None if argument is None else _shown(argument))


_argparse_action_name: Any = argparse._get_action_name  # type: ignore[attr-defined]


class _SubCommands(argparse._SubParsersAction):  # type: ignore[type-arg]
    """Subcommands that also answer to their Indonesian name (see _INDONESIAN)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._canonical: dict[str, str] = {}
        self._automatic: set[str] = set()  # Indonesian names added here, not by the module

    def add_parser(self, name: str, **kwargs: Any) -> Any:
        aliases = list(kwargs.pop("aliases", ()))
        for own in (name, *aliases):
            # A module registering a name we added automatically takes it over.
            if own in self._automatic:
                self._automatic.discard(own)
                self._canonical.pop(own, None)
                self._name_parser_map.pop(own, None)
        indonesian = _INDONESIAN.get(name)
        if indonesian and indonesian not in aliases and indonesian not in self._name_parser_map:
            aliases.insert(0, indonesian)
        else:
            indonesian = None
        if indonesian:
            # Usage lines name the command as it is shown: `sigap skm laporan`, not `report`.
            kwargs.setdefault("prog", f"{self._prog_prefix} {indonesian}")
        parser = super().add_parser(name, aliases=aliases, **kwargs)
        for alias in aliases:
            self._canonical[alias] = name
        if indonesian:
            self._automatic.add(indonesian)
        if indonesian and self._choices_actions and self._choices_actions[-1].dest == name:
            others = [name, *aliases[1:]]
            self._choices_actions[-1].metavar = f"{indonesian} ({', '.join(others)})"
        return parser

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace,
                 values: Any, option_string: str | None = None) -> None:
        if values:
            values = [self._canonical.get(values[0], values[0]), *values[1:]]
        super().__call__(parser, namespace, values, option_string)


def _gettext(message: str) -> str:
    return _CATALOGUE.get(message, message)


def _ngettext(singular: str, plural: str, n: int) -> str:
    if singular in _PLURALS:
        one, many = _PLURALS[singular]
        return one if n == 1 else many
    return singular if n == 1 else plural


@contextlib.contextmanager
def _indonesian() -> Iterator[None]:
    mod: Any = argparse
    saved = (mod._, mod.ngettext, mod._get_action_name)
    mod._, mod.ngettext, mod._get_action_name = _gettext, _ngettext, _action_name
    try:
        yield
    finally:
        mod._, mod.ngettext, mod._get_action_name = saved


def quiet_stdout() -> None:
    """After a closed pipe (`sigap ... | head`), Python would complain once more when it
    flushes stdout at exit: point stdout at /dev/null so that it does not."""
    import os

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        pass


def translate(message: str) -> str:
    """argparse's English text in Indonesian (for tests and for messages built outside)."""
    return _gettext(message)


class SigapParser(argparse.ArgumentParser):
    """An ArgumentParser whose usage, help and errors are Indonesian."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", _Formatter)
        with _indonesian():
            super().__init__(*args, **kwargs)
        self.register("action", "parsers", _SubCommands)

    def add_subparsers(self, **kwargs: Any) -> Any:
        kwargs.setdefault("title", "subperintah")
        kwargs.setdefault("metavar", "PERINTAH")
        with _indonesian():
            return super().add_subparsers(**kwargs)

    def parse_known_args(  # type: ignore[override]
        self, args: Sequence[str] | None = None, namespace: argparse.Namespace | None = None
    ) -> tuple[argparse.Namespace, list[str]]:
        _localise_options(self)
        with _indonesian():
            return super().parse_known_args(args, namespace)

    def parse_args(  # type: ignore[override]
        self, args: Sequence[str] | None = None, namespace: argparse.Namespace | None = None
    ) -> argparse.Namespace:
        with _indonesian():
            return super().parse_args(args, namespace)

    def format_usage(self) -> str:
        _localise_options(self)
        with _indonesian():
            return super().format_usage()

    def format_help(self) -> str:
        _localise_options(self)
        with _indonesian():
            return super().format_help()

    def _print_message(self, message: str, file: Any = None) -> None:
        # `sigap --help | head -1`: a closed pipe is not an error worth a traceback.
        if not message:
            return
        file = file or sys.stderr
        try:
            file.write(message)
            file.flush()
        except BrokenPipeError:
            quiet_stdout()
            raise SystemExit(1) from None
        except (AttributeError, OSError):  # as argparse does: no stream, nothing to say
            pass

    def error(self, message: str) -> NoReturn:
        with _indonesian():
            self.print_usage(sys.stderr)
            self.exit(2, _gettext("%(prog)s: error: %(message)s\n") % {"prog": self.prog, "message": message})


__all__ = ["SigapParser", "quiet_stdout", "translate"]
