# /kasus: what an officer types (a search) to a storage query, and one page of the result
# to the text and buttons they read.
# Invariants: the search, the count and the page are SQL (storage/complaint_search.py); the
# page buttons carry only "hal:<n>" behind the prompt's nonce, the query itself stays in the
# dialog state, so a button is short and cannot be forged into another search.
# A list is built by the delivery, outside the write batch (bot/dialogs/deferred.py, view
# "kasus"): the step saves the state and the typed forms of every button the page may get,
# so a typed "berikutnya" on the last page asks for a page past it, shown as the last one.
from __future__ import annotations

import math
import re
from datetime import date
from typing import Any

from bot.config.office import Office
from bot.dialogs.types import Choice
from bot.texts import render
from storage.complaint_search import CaseQuery
from storage.lifecycle import STATUS_LABELS
from storage.models import Complaint

PAGE_SIZE = 10
QUERY_MAX = 100  # characters of the search kept in the dialog state
MAX_PAGE = 10**9  # a page number from a button: its offset still fits a 64-bit integer
_TICKET = re.compile(r"[A-Za-z]{2,8}-\d{4}-\d{1,7}")
# Words that are not worth a description filter ("kasus di Jelbuk").
_FILLER = {"di", "dan", "yang", "status", "desa", "kategori"}


def parse_query(office: Office, text: str, officer_id: int | None = None) -> CaseQuery:
    """'terlambat Sukowiryo miras', 'ditunda', 'saya', 'TRB-2026-00017', 'pasar malam':
    a ticket, a desa, a category (code or name), a status (code or label), `terlambat`,
    `saya` (assigned to me) or `semua` (closed ones too); other words must be in the
    description."""
    rest = " " + " ".join(text.casefold().split()) + " "
    found: dict[str, Any] = {}
    # Multi-word names first (category names, "diteruskan ke instansi lain"), longest first.
    names: list[tuple[str, str, str]] = []
    names += [(d.casefold(), "desa", d) for d in office.desa]
    names += [(c.name.casefold(), "category", c.code) for c in office.categories]
    names += [(c.code.casefold(), "category", c.code) for c in office.categories]
    names += [(label.casefold(), "status", code) for code, label in STATUS_LABELS.items()]
    names += [(code, "status", code) for code in STATUS_LABELS]
    for name, field, value in sorted(names, key=lambda n: -len(n[0])):
        needle = f" {name} "
        if needle in rest:
            rest = rest.replace(needle, " ", 1)
            if field == "status":
                found.setdefault("statuses", ())
                found["statuses"] += (value,)
            else:
                found.setdefault(field, value)
    words: list[str] = []
    for word in rest.split():
        if _TICKET.fullmatch(word):
            found["ticket"] = word.upper()
        elif word in ("terlambat", "telat"):
            found["overdue"] = True
        elif word == "saya" and officer_id is not None:
            found["assigned_to"] = officer_id
        elif word == "semua":
            found["statuses"] = tuple(STATUS_LABELS)
        elif word not in _FILLER:
            words.append(word)
    if "ticket" in found and "statuses" not in found:
        found["statuses"] = tuple(STATUS_LABELS)  # a ticket is found whatever its status
    return CaseQuery(words=tuple(words), **found)


def is_ticket(text: str) -> bool:
    return bool(_TICKET.fullmatch(text.strip()))


def pages(total: int, page_size: int = PAGE_SIZE) -> int:
    return max(1, math.ceil(total / page_size))


def render_page(
    query_text: str, rows: list[Complaint], total: int, page: int, today: date, page_size: int = PAGE_SIZE
) -> tuple[str, list[Choice]]:
    """The text of one page of /kasus and its page buttons (values 'hal:<n>')."""
    from storage.complaints import is_overdue

    last = pages(total, page_size)
    text = render(
        "kasus_daftar",
        laporan=[(c, is_overdue(c, today)) for c in rows],
        jumlah=total,
        halaman=page,
        halaman_terakhir=last,
        cari=query_text.strip(),
    )
    return text, page_buttons(page, last)


def page_buttons(page: int, last: int | None) -> list[Choice]:
    """The page buttons under page `page` of `last`. With `last` unknown (None: the page is
    built later, by the delivery), every button the page may get: the step saves their typed
    forms in the dialog state before the count is known."""
    choices = []
    if page > 1:
        choices.append(Choice("‹ Sebelumnya", f"hal:{page - 1}"))
    if last is None or page < last:
        choices.append(Choice("Berikutnya ›", f"hal:{page + 1}"))
    return choices
