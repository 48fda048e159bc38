# What typed text means when a person types instead of pressing (WhatsApp users rarely see
# or use buttons, the terminal has none, and on Telegram people type anyway).
# Invariants: channel-neutral (the router applies it to every channel alike); a typed word
# only ever selects a button that was offered in the prompt on screen, never a value behind
# it, so "ya" can never pick "Anonim" where the question reads the other way; commands
# without a slash are recognised only as whole messages, outside free-text steps.
from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from functools import lru_cache

from bot.dialogs.types import Choice, Event

# Everyday answers and what a button label starting with them means.
SYNONYMS = {
    "iya": "ya", "y": "ya", "yes": "ya", "ok": "ya", "oke": "ya", "sudah": "ya",
    "tdk": "tidak", "gak": "tidak", "nggak": "tidak", "enggak": "tidak", "no": "tidak",
    "blm": "belum", "skip": "lewati", "lanjutkan": "lanjut", "next": "lanjut", "cancel": "batal",
}
KEYWORDS = {"ya", "tidak", "belum", "batal", "lanjut", "lewati", "kirim", "ubah", "kembali", "selesai", "setuju"}

# Bare words that mean a command (WhatsApp users rarely type slashes).
BARE_COMMANDS = {
    "menu": "menu", "start": "menu", "mulai": "menu", "batal": "batal",
    "bantuan": "bantuan", "help": "bantuan", "data saya": "datasaya", "datasaya": "datasaya",
    "status": "status", "cek": "status", "cek status": "status", "lapor": "lapor", "survei": "survei",
}
_TICKET = re.compile(r"[a-z]{2,8}-\d{4}-\d{1,7}")
_STATUS_WITH_TICKET = re.compile(r"(?:cek status|status|cek)\s+#?(\S+)")


def normalise(text: str) -> str:
    """'  📝 Buat  Laporan! ' -> 'buat laporan': case, spacing, emoji, end punctuation and arrows dropped."""
    kept = "".join(ch for ch in text if unicodedata.category(ch)[0] in "LNPZ" or ch == " ")
    # Arrows on page buttons ("Berikutnya ›") are punctuation too: typed "berikutnya" matches.
    return " ".join(kept.split()).casefold().strip(" .!?,;:‹›«»")


def choice_keys(choices: Sequence[Choice], numbered: bool = True) -> dict[str, str]:
    """Every typed form that selects one of these buttons: its label, its number (1, 2, ...)
    and the answer word its label starts with ("Ya, hapus" -> "ya"), if only it starts so."""
    # The same few button sets (the menu, yes/no, categories) are drawn on nearly every
    # update, and normalising their labels was a sixth of a /start's handling time.
    return dict(_choice_keys(tuple(choices), numbered))


@lru_cache(maxsize=512)
def _choice_keys(choices: tuple[Choice, ...], numbered: bool) -> dict[str, str]:
    keys: dict[str, str] = {}
    buttons = [c for c in choices if not c.url]
    first_words: dict[str, list[str]] = {}
    for number, c in enumerate(buttons, 1):
        label = normalise(c.label)
        keys[label] = c.value
        if numbered:
            keys[str(number)] = c.value
        word = re.split(r"[ ,]", label, maxsplit=1)[0]
        if word in KEYWORDS:
            first_words.setdefault(word, []).append(c.value)
    for word, values in first_words.items():
        if len(values) == 1:
            keys.setdefault(word, values[0])
    return keys


def typed_choice(offered: dict[str, str], text: str) -> str | None:
    said = normalise(text)
    if not said:
        return None
    # Old states stored labels only lower-cased: normalise them the same way.
    keys = {normalise(k) if not k.isdigit() else k: v for k, v in offered.items()}
    if said in keys:
        return keys[said]
    word = SYNONYMS.get(said)
    return keys.get(word) if word else None


def answer_word(text: str) -> str | None:
    """'Belum.', 'sudah' -> 'belum', 'ya' (for the "is it solved?" question)."""
    said = normalise(text)
    said = SYNONYMS.get(said, said)
    return said if said in ("ya", "belum", "tidak") else None


def bare_command(event: Event) -> Event | None:
    """A whole message that is a command without its slash, as a command event."""
    if event.kind != "text":
        return None
    said = normalise(event.text)
    if said in BARE_COMMANDS:
        return Event(kind="command", command=BARE_COMMANDS[said], text=event.text)
    match = _STATUS_WITH_TICKET.fullmatch(said)
    if match and _TICKET.fullmatch(match.group(1)):
        return Event(kind="command", command="status", args=match.group(1).upper(), text=event.text)
    if _TICKET.fullmatch(said):
        return Event(kind="command", command="status", args=said.upper(), text=event.text)
    return None
