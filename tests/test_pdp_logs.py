# Logs and exports never carry a token, a phone number or a chat id in clear (issue 12).
from __future__ import annotations

import io
import logging
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from bot.app.log_redact import RedactingFormatter, Redactor, configure_logging
from storage import csv_io
from storage.complaints import (
    ComplaintDraft,
    DeadlinePolicy,
    create_complaint,
    get_or_create_person,
)
from storage.db import Database
from storage.lifecycle import Actor
from storage.models import Person

TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw_"
WA_TOKEN = "EAAGm0PX4ZCpsBAKZCtokenWhatsAppCloud1234567890"
PHONE, PHONE_SPACED, CHAT, GROUP = "6281234567890", "0812 3456 7890", "987654321", "-1001234567890"
SECRETS = (TOKEN, WA_TOKEN, PHONE, "81234567890", "3456 7890", CHAT, GROUP, "HBgNNjI4MTIz")


@pytest.fixture
def root_to_stderr():  # type: ignore[no-untyped-def]
    root = logging.getLogger()
    saved, level = root.handlers[:], root.level
    root.handlers = []
    try:
        yield
    finally:
        root.handlers, root.level = saved, level


def test_bot_log_lines_are_redacted(root_to_stderr: None) -> None:
    configure_logging("INFO")  # what `sigap run` installs
    buf = io.StringIO()
    (handler,) = [h for h in logging.getLogger().handlers if isinstance(h.formatter, RedactingFormatter)]
    assert isinstance(handler, logging.StreamHandler)
    handler.setStream(buf)
    log = logging.getLogger("bot.app.delivery")
    log.warning("outbox %s to %s: retry in %.1fs (%s)", 12, CHAT, 2.0, "Timed out")
    log.warning("pengiriman ke %s:%s gagal", "whatsapp", PHONE)
    log.info("GET https://api.telegram.org/bot%s/getUpdates?offset=5", TOKEN)
    log.info("POST graph.facebook.com access_token=%s; Authorization: Bearer %s", WA_TOKEN, WA_TOKEN)
    log.warning("WhatsApp melaporkan pesan %s gagal terkirim", "wamid.HBgNNjI4MTIzNDU2Nzg5MBUCABIYFjNFQjBB")
    log.info("warga menulis nomor %s", PHONE_SPACED)
    try:
        raise RuntimeError(f"Chat not found: {GROUP}")
    except RuntimeError:
        log.exception("ringkasan ke chat %s gagal", GROUP)
    err = buf.getvalue()
    assert err.count("\n") >= 8
    for secret in SECRETS:
        assert secret not in err
    # Still useful: the same chat gets the same tag, small numbers and dates stay.
    tags = Redactor(b"k")
    assert tags(f"x {CHAT} y {CHAT}").split()[1] == tags(f"x {CHAT} y {CHAT}").split()[3]
    assert tags("+62 812-3456-7890") == tags(PHONE) == tags(PHONE_SPACED)
    assert "outbox 12 to #" in err and "retry in 2.0s" in err
    assert "2026-12-02 07:00" in tags("2026-12-02 07:00 outbox 12")


def test_complaints_export_has_no_identity(db: Database, policy: DeadlinePolicy) -> None:
    at = datetime(2026, 3, 2, 3, 0, tzinfo=UTC)
    with db.transaction() as s:
        person = get_or_create_person(s, "whatsapp", PHONE, None, at)
        person.name, person.phone = "Siti Rahmawati", PHONE
        create_complaint(
            s, ComplaintDraft(kind="pengaduan", category="miras", desa="Jelbuk", description="Pesta miras",
                              channel="whatsapp", received_at=at),
            reporter=person, actor=Actor("warga", person.id, None, "warga"), now=at, policy=policy, prefix="TRB",
        )
    out = io.StringIO()
    with db.reading() as s:
        assert s.scalars(select(Person.phone)).one() == PHONE
        assert csv_io.export_complaints(s, out, policy=policy) == 1
    text = out.getvalue()
    assert "TRB-" in text
    assert PHONE not in text and "Siti" not in text
