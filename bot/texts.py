# Every text a person reads comes from a Jinja2 template in bot/templates, in Indonesian.
# Invariants: StrictUndefined (a missing value is a bug, not an empty string); autoescape
# on, because templates produce Telegram's HTML subset (<b>, <i>, <code>, <a>) and user
# text must never be read as markup; dates and numbers go through Babel with locale "id".
from __future__ import annotations

import html
import re
from datetime import date, datetime, tzinfo
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_datetime
from babel.numbers import format_decimal
from jinja2 import Environment, FileSystemLoader, StrictUndefined

from storage.lifecycle import STATUS_LABELS

LOCALE = "id_ID"
TEMPLATES = Path(__file__).parent / "templates"
_TZ: tzinfo = ZoneInfo("Asia/Jakarta")


def set_timezone(tz: tzinfo) -> None:
    global _TZ
    _TZ = tz


def tanggal(value: date | datetime) -> str:
    """'Senin, 30 November 2026'."""
    if isinstance(value, datetime):
        value = value.astimezone(_TZ).date()
    return format_date(value, "EEEE, d MMMM y", locale=LOCALE)


def tanggal_pendek(value: date | datetime) -> str:
    """'30 Nov 2026'."""
    if isinstance(value, datetime):
        value = value.astimezone(_TZ).date()
    return format_date(value, "d MMM y", locale=LOCALE)


def tanggal_sumbu(value: date) -> str:
    """'9 Nov': a chart tick, where the year is in the title."""
    return format_date(value, "d MMM", locale=LOCALE)


def waktu(value: datetime) -> str:
    """'30 Nov 2026 14.05 WIB'."""
    local = value.astimezone(_TZ)
    return format_datetime(local, "d MMM y HH.mm", tzinfo=_TZ, locale=LOCALE) + " " + (
        local.tzname() or ""
    )


def pukul(value: datetime) -> str:
    """'14.05 WIB, 30 November 2026', on the value's own clock (a dashboard page's office, which
    may be another zone than the bot's default)."""
    return (format_datetime(value, "HH.mm", tzinfo=value.tzinfo, locale=LOCALE) + " " + (value.tzname() or "")
            + ", " + format_date(value.date(), "d MMMM y", locale=LOCALE))


def angka(value: Decimal | float | int, places: int = 2) -> str:
    """'88,31'."""
    pattern = "#,##0" + ("." + "0" * places if places else "")
    return format_decimal(value, format=pattern, locale=LOCALE)


def desimal(value: Decimal | int) -> str:
    """A number as it was entered, with the Indonesian decimal comma: '95,5', '72', '1.234,25'
    (as many decimals as the value carries, none added or rounded away)."""
    places = max(0, -int(value.as_tuple().exponent)) if isinstance(value, Decimal) else 0
    return angka(value, places)


def status_label(status: str) -> str:
    return STATUS_LABELS.get(status, status)


@lru_cache(maxsize=1)
def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
        # The templates ship with the package and do not change while it runs: no stat()
        # of the template file on every message.
        auto_reload=False,
    )
    env.filters.update(
        tanggal=tanggal, tanggal_pendek=tanggal_pendek, waktu=waktu, angka=angka, status=status_label,
        desimal=desimal, pukul=pukul,
    )
    return env


def render(name: str, **context: Any) -> str:
    return environment().get_template(f"{name}.j2").render(**context).strip()


_TAG = re.compile(r"<[^>]+>")


def to_plain(markup: str) -> str:
    """For the terminal sandbox and logs: tags dropped, entities decoded."""
    return html.unescape(_TAG.sub("", markup))


def to_whatsapp(markup: str) -> str:
    """WhatsApp has its own markup: *bold*, _italic_, ```mono```."""
    text = re.sub(r"</?b>", "*", markup)
    text = re.sub(r"</?i>", "_", text)
    text = re.sub(r"</?code>", "```", text)
    return to_plain(text)
