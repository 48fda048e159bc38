# WhatsApp end to end: signed Meta-shaped webhooks into SIGAP's real ASGI server and pywa,
# the dialogs of bot/dialogs, pywa sending to the Graph API emulator, officers on Telegram.
from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import secrets
import socket
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import aiohttp
import pytest
from sqlalchemy import func, select, update

from bot.channels.whatsapp import MAX_BUTTON_TITLE, MAX_ROW_DESCRIPTION, MAX_ROW_TITLE
from storage import people
from storage.models import Complaint, InboxItem, OutboxItem, Person
from tests.e2e import GROUP, PETUGAS, WARGA, World, register_env, start_world, stop_world
from tests.e2e_whatsapp import JPEG, WA_WARGA, WA_WARGA2, WaWorld, start_wa_world, stop_wa_world

# On SQLite and on PostgreSQL: SIGAP opens the register of tests/conftest.py's `register`.
pytestmark = pytest.mark.usefixtures("register")

TEMPLATE = "sigap_kabar_laporan"


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[WaWorld]:
    w = await start_wa_world(tmp_path)
    try:
        yield w
    finally:
        await stop_wa_world(w)


@pytest.fixture
async def world_with_template(tmp_path: Path) -> AsyncIterator[WaWorld]:
    w = await start_wa_world(tmp_path, env={"SIGAP_WHATSAPP_TEMPLATE_STATUS": TEMPLATE})
    w.wa.approve_template(TEMPLATE, "id", "Kabar dari SIGAP Kecamatan Jelbuk: {{1}}")
    try:
        yield w
    finally:
        await stop_wa_world(w)


def count(w: World, model: type, *where: object) -> int:
    with w.service.db.transaction() as s:
        return int(s.scalar(select(func.count()).select_from(model).where(*where)) or 0)


def complaint(w: WaWorld, ticket: str) -> Complaint:
    with w.service.db.transaction() as s:
        c = s.scalars(select(Complaint).where(Complaint.ticket == ticket)).one()
        c.photos, c.reporter  # noqa: B018 - load before the session closes
        return c


async def file_complaint(w: WaWorld, user: str, *, rahasia: bool, photo: bool = True, address: str | None = None) -> str:
    await w.wa_say(user, "Halo")
    await w.wa_press(user, "📝 Buat laporan")
    await w.wa_press(user, "Pengaduan")
    await w.wa_press(user, "Minuman keras")
    await w.wa_press(user, "Sukowiryo")
    if photo:
        assert await w.wa_post(w.wa.image(user, JPEG, caption="Pesta miras tiap malam di warung ujung desa")) == 200
    else:
        await w.wa_say(user, "Pesta miras tiap malam di warung ujung desa")
    # A typed label counts as pressing it (the router's rule, which WhatsApp users rely on).
    await w.wa_say(user, "Lanjut")
    if address:
        await w.wa_say(user, address)
    else:
        assert await w.wa_post(w.wa.location(user, -8.0712, 113.7301, name="Warung ujung")) == 200
    await w.wa_press(user, "Sertakan identitas")
    await w.wa_press(user, "Rahasia" if rahasia else "Tidak rahasia")
    assert "Periksa laporan Anda" in (w.wa_last(user).text or "")
    await w.wa_press(user, "Kirim")
    text = w.wa_last(user).text or ""
    assert "Nomor tiket" in text, text
    return text.split("Nomor tiket: ")[1].split()[0].strip("*")


async def test_whole_complaint_with_photo_and_location_reaches_the_trantib_group(world: WaWorld) -> None:
    w = world
    ticket = await file_complaint(w, WA_WARGA, rahasia=False)
    assert ticket.startswith("TRB-") and ticket.endswith("-00001")

    # The register row: channel whatsapp, the photo fetched through the media endpoint and
    # stored under photos/whatsapp, the location, the reporter's WhatsApp identity and name.
    c = complaint(w, ticket)
    assert (c.channel, c.status, c.category, c.desa) == ("whatsapp", "diterima", "miras", "Sukowiryo")
    assert c.description == "Pesta miras tiap malam di warung ujung desa"
    assert (c.latitude, c.longitude) == (pytest.approx(-8.0712), pytest.approx(113.7301))
    assert len(c.photos) == 1
    stored = Path(c.photos[0].path)
    assert stored.parent == w.service.settings.data_dir / "photos" / "whatsapp"
    assert stored.read_bytes() == JPEG
    assert c.reporter is not None and c.reporter.channel == "whatsapp"
    assert c.reporter.channel_user_id == w.wa.bsuid(WA_WARGA) and c.reporter.name == "Sari Wulandari"

    # Officers stay on Telegram: the group card says the complaint came by WhatsApp, and the
    # photo and the pin follow it (a non-rahasia complaint), without the reporter's identity.
    card = next(o for o in w.in_chat(GROUP) if ticket in (o.text or ""))
    assert "Kanal: WhatsApp" in (card.text or "")
    assert any(o.photo for o in w.in_chat(GROUP)) and any(o.location for o in w.in_chat(GROUP))
    assert not any("Sari" in (o.text or "") for o in w.in_chat(GROUP))

    # Every WhatsApp message respected WhatsApp's limits (the emulator refuses the others).
    assert w.wa.refused == []
    # Every inbound message was committed, and handled once.
    assert count(w, InboxItem, InboxItem.source == "whatsapp") == count(
        w, InboxItem, InboxItem.source == "whatsapp", InboxItem.handled_at.is_not(None), InboxItem.error.is_(None)
    ) == 11  # eleven messages from "Halo" to "Kirim"


async def test_choices_become_buttons_or_lists_within_whatsapp_limits(world: WaWorld) -> None:
    w = world
    await w.wa_say(WA_WARGA, "Halo")
    menu = w.wa_last(WA_WARGA)
    # More than three choices: a list message, each row carrying the dialog nonce.
    assert menu.type == "interactive" and menu.rows and not menu.buttons
    assert "📝 Buat laporan" in [t for t, _, _ in menu.rows]
    assert all(rid.startswith("d:") and rid.count(":") >= 2 for _, rid, _ in menu.rows)
    await w.wa_press(WA_WARGA, "📝 Buat laporan")
    kinds = w.wa_last(WA_WARGA)
    # Three short choices: reply buttons.
    assert [t for t, _ in kinds.buttons] == ["Pengaduan", "Aspirasi", "Permintaan informasi"]
    assert all(len(t) <= MAX_BUTTON_TITLE for t, _ in kinds.buttons)
    await w.wa_press(WA_WARGA, "Pengaduan")
    categories = w.wa_last(WA_WARGA)
    # A label longer than a row title is cut, and the full label is in the description.
    long_label = "Keributan / gangguan ketenteraman"
    row = next(r for r in categories.rows if r[2] == long_label)
    assert len(row[0]) <= MAX_ROW_TITLE and row[0] != long_label and long_label.startswith(row[0].rstrip("…"))
    assert all(len(t) <= MAX_ROW_TITLE and (d is None or len(d) <= MAX_ROW_DESCRIPTION) for t, _, d in categories.rows)
    # Pressing the cut row is the full choice.
    await w.wa_press(WA_WARGA, long_label)
    assert "Sukowiryo" in [t for t, _, _ in w.wa_last(WA_WARGA).rows]
    assert w.wa.refused == []


async def test_a_stale_press_is_refused_in_the_chat(world: WaWorld) -> None:
    w = world
    await w.wa_say(WA_WARGA, "Halo")
    old_menu = w.wa_last(WA_WARGA)
    await w.wa_press(WA_WARGA, "📝 Buat laporan")
    # A press on the old menu: its nonce is stale, so it is refused in the chat (WhatsApp has
    # no toast) and the intake does not move.
    lapor = next(rid for t, rid, _ in old_menu.rows if t == "📝 Buat laporan")
    before = w.wa.mark()
    assert await w.wa_post(w.wa.list_reply(WA_WARGA, lapor, "📝 Buat laporan", context_id=old_menu.id)) == 200
    assert [s.text for s in w.wa.sent[before:]] == ["Tombol ini sudah tidak berlaku."]
    with w.service.db.transaction() as s:
        bsuid = w.wa.bsuid(WA_WARGA)
        state = people.load_state(s, "whatsapp", bsuid, bsuid)
    assert (state.get("flow"), state.get("step")) == ("lapor", "jenis")
    # The buttons of the current prompt still work after the refused press.
    await w.wa_press(WA_WARGA, "Pengaduan")
    assert "kategori" in (w.wa_last(WA_WARGA).text or "").lower()


async def test_complaint_with_a_typed_address(world: WaWorld) -> None:
    w = world
    ticket = await file_complaint(w, WA_WARGA2, rahasia=True, photo=False, address="Depan balai desa Sukowiryo, RT 02")
    c = complaint(w, ticket)
    assert c.address == "Depan balai desa Sukowiryo, RT 02" and c.latitude is None and c.photos == []
    # A rahasia complaint: the group card says only that one arrived.
    card = next(o for o in w.in_chat(GROUP) if ticket in (o.text or ""))
    assert "Depan balai" not in (card.text or "")


async def test_status_notification_inside_the_window_is_free_form(world: WaWorld) -> None:
    w = world
    ticket = await file_complaint(w, WA_WARGA, rahasia=False, photo=False)
    before = w.wa.mark()
    await w.press(PETUGAS, "Verifikasi", GROUP)
    sent = w.wa.sent[before:]
    assert len(sent) == 1 and sent[0].type == "text"
    assert ticket in (sent[0].text or "") and "Diverifikasi" in (sent[0].text or "")
    assert w.wa.refused == []


async def _close_window(w: WaWorld, user: str) -> None:
    """The reporter's last message was 25 hours ago, in SIGAP's record and at WhatsApp."""
    bsuid = w.wa.bsuid(user)
    with w.service.db.transaction() as s:
        last = s.scalar(select(Person.last_inbound_at).where(Person.channel_user_id == bsuid))
        assert last is not None  # inbound WhatsApp messages keep it current
        s.execute(update(Person).where(Person.channel_user_id == bsuid).values(last_inbound_at=last - timedelta(hours=25)))
    w.wa.close_window(user, hours_ago=25)


async def test_status_notification_outside_the_window_goes_as_the_template(world_with_template: WaWorld) -> None:
    w = world_with_template
    ticket = await file_complaint(w, WA_WARGA, rahasia=False, photo=False)
    await _close_window(w, WA_WARGA)
    before = w.wa.mark()
    await w.press(PETUGAS, "Verifikasi", GROUP)
    sent = w.wa.sent[before:]
    assert [s.type for s in sent] == ["template"]
    assert sent[0].template is not None and sent[0].template["name"] == TEMPLATE and sent[0].template["language"] == "id"
    assert ticket in (sent[0].text or "") and "Diverifikasi" in (sent[0].text or "")
    # SIGAP chose the template itself: it never tried a free-form message WhatsApp refuses.
    assert [r.code for r in w.wa.refused] == []
    assert count(w, OutboxItem, OutboxItem.channel == "whatsapp", OutboxItem.failed_at.is_not(None)) == 0


async def test_outside_the_window_without_a_template_is_recorded_undelivered(world: WaWorld) -> None:
    w = world
    ticket = await file_complaint(w, WA_WARGA, rahasia=False, photo=False)
    await _close_window(w, WA_WARGA)
    before = w.wa.mark()
    await w.press(PETUGAS, "Verifikasi", GROUP)
    assert w.wa.sent[before:] == [] and w.wa.refused == []
    with w.service.db.transaction() as s:
        failed = s.scalars(
            select(OutboxItem).where(OutboxItem.channel == "whatsapp", OutboxItem.failed_at.is_not(None))
        ).all()
    assert len(failed) == 1 and "24 jam" in (failed[0].error or "")
    assert failed[0].complaint_id == complaint(w, ticket).id
    # The officers see it on the complaint's card, as for a Telegram reporter who blocked the bot.
    await w.say(PETUGAS, f"/kasus {ticket}")
    assert any("tidak terkirim" in t for t in w.texts(PETUGAS))
    assert not any("memblokir" in t for t in w.texts(PETUGAS))  # nobody blocked anything


async def test_a_bad_or_missing_signature_is_refused_and_nothing_recorded(world: WaWorld) -> None:
    w = world
    payload = w.wa.text(WA_WARGA, "Halo")
    body = json.dumps(payload).encode()
    forged = "sha256=" + "0" * 64
    assert await w.wa.post(body, signature=forged) == 403
    assert await w.wa.post(body, signature=False) == 401
    # Signed with another app's secret.
    other = "sha256=" + hmac.new(b"another-app-secret", body, hashlib.sha256).hexdigest()
    assert await w.wa.post(body, signature=other) == 403
    # The same body with a valid signature but one byte changed.
    assert await w.wa.post(body.replace(b"Halo", b"Hola"), signature=w.wa.sign(body)) == 403
    await asyncio.sleep(0.2)
    assert count(w, InboxItem, InboxItem.source == "whatsapp") == 0
    assert w.wa.sent == []
    # The genuine one goes through.
    assert await w.wa_post(body) == 200
    assert count(w, InboxItem, InboxItem.source == "whatsapp") == 1 and len(w.wa.sent) == 1


async def test_a_repeated_message_id_is_handled_once(world: WaWorld) -> None:
    w = world
    payload = w.wa.text(WA_WARGA, "Halo")
    assert await w.wa_post(payload) == 200
    assert await w.wa_post(payload) == 200  # Meta delivers it again
    # And again inside a batch with a new message of another user.
    batch = json.loads(json.dumps(payload))
    other = w.wa.text(WA_WARGA2, "Halo juga")["entry"][0]["changes"][0]["value"]
    value = batch["entry"][0]["changes"][0]["value"]
    value["messages"].append(other["messages"][0])
    value["contacts"].append(other["contacts"][0])
    assert await w.wa_post(batch) == 200
    assert count(w, InboxItem, InboxItem.source == "whatsapp") == 2
    assert len(w.wa.messages_to(WA_WARGA)) == 1  # one menu, not three
    assert len(w.wa.messages_to(WA_WARGA2)) == 1


async def test_the_get_handshake(world: WaWorld) -> None:
    w = world
    assert await w.wa.verify(w.verify_token, "1158201444") == (200, "1158201444")
    status, _ = await w.wa.verify("salah", "1158201444")
    assert status == 403


async def test_a_payload_pywa_drops_is_logged(world: WaWorld, caplog: pytest.LogCaptureFixture) -> None:
    w = world
    payload = w.wa.text(WA_WARGA, "Halo")
    del payload["entry"][0]["changes"][0]["value"]["contacts"][0]["user_id"]  # the old shape
    with caplog.at_level(logging.WARNING, logger="bot.channels.whatsapp"):
        assert await w.wa_post(payload) == 200
    assert any("diabaikan pywa" in r.getMessage() for r in caplog.records)
    with w.service.db.transaction() as s:
        item = s.scalars(select(InboxItem).where(InboxItem.source == "whatsapp")).one()
        assert item.handled_at is not None and "diabaikan" in (item.error or "")
    assert w.wa.sent == []


async def test_unsupported_and_oversized_photo(world: WaWorld) -> None:
    w = world
    assert await w.wa_post(w.wa.sticker(WA_WARGA)) == 200
    assert "tidak bisa diproses" in (w.wa_last(WA_WARGA).text or "")
    await w.wa_say(WA_WARGA, "Halo")
    await w.wa_press(WA_WARGA, "📝 Buat laporan")
    await w.wa_press(WA_WARGA, "Pengaduan")
    await w.wa_press(WA_WARGA, "Perjudian")
    await w.wa_press(WA_WARGA, "Jelbuk")
    await w.wa_say(WA_WARGA, "Judi sabung ayam di belakang pasar")
    big = b"\xff\xd8" + b"2" * (w.service.office.max_photo_bytes + 10) + b"\xff\xd9"
    assert await w.wa_post(w.wa.image(WA_WARGA, big)) == 200
    assert "terlalu besar" in (w.wa_last(WA_WARGA).text or "")
    assert not list((w.service.settings.data_dir / "photos" / "whatsapp").glob("*"))


async def test_status_and_data_saya(world: WaWorld) -> None:
    w = world
    ticket = await file_complaint(w, WA_WARGA, rahasia=True, photo=False)
    await w.wa_say(WA_WARGA, f"/status {ticket}")
    assert ticket in (w.wa_last(WA_WARGA).text or "")
    await w.wa_say(WA_WARGA, "Halo")
    await w.wa_press(WA_WARGA, "👤 Data saya")
    shown = w.wa_last(WA_WARGA).text or ""
    assert "Sari Wulandari" in shown and ticket in shown
    await w.wa_press(WA_WARGA, "Hapus identitas saya")
    await w.wa_press(WA_WARGA, "Ya, hapus")
    with w.service.db.transaction() as s:
        reporter = s.scalars(select(Person).join(Complaint, Complaint.reporter_id == Person.id)).one()
        assert reporter.name is None and reporter.channel_user_id is None and reporter.erased_at is not None


# Telegram through the same ASGI server (webhook mode) ------------------------------------------
def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_telegram_webhook_mode_stores_then_answers(tmp_path: Path) -> None:
    port = _free_port()
    secret = secrets.token_urlsafe(24)
    url = f"http://127.0.0.1:{port}/telegram"
    env = {
        "SIGAP_TELEGRAM_MODE": "webhook",
        "SIGAP_TELEGRAM_WEBHOOK_URL": url,
        "SIGAP_TELEGRAM_WEBHOOK_SECRET": secret,
        "SIGAP_WEB_PORT": str(port),
    }
    w = await start_world(tmp_path, env=env)
    try:
        # setWebhook at startup, with the secret Telegram will send back in every POST.
        assert w.emu.webhook()["url"] == url and w.emu.webhook()["secret_token"] == secret
        assert w.service.whatsapp is None  # no WhatsApp settings: no WhatsApp
        await w.say(WARGA, "/start")
        assert "Selamat datang" in (w.last(WARGA).text or "")
        assert w.emu.calls["getUpdates"] == 0  # nothing polled: the update came by webhook
        assert count(w, InboxItem, InboxItem.source == "telegram", InboxItem.handled_at.is_not(None)) == 1
        # A POST without the secret is refused and stores nothing.
        update_json = {"update_id": 999_999, "message": {"message_id": 1, "date": 0, "chat": {"id": WARGA, "type": "private"}, "text": "/start"}}
        async with aiohttp.ClientSession() as http:
            for headers in ({}, {"X-Telegram-Bot-Api-Secret-Token": "salah"}):
                async with http.post(url, json=update_json, headers=headers) as resp:
                    assert resp.status == 403
        assert count(w, InboxItem, InboxItem.source == "telegram") == 1
    finally:
        await stop_world(w)


async def test_without_whatsapp_or_webhook_settings_nothing_is_served(tmp_path: Path) -> None:
    # The dashboard and the public report card are on by default (bot/dashboard): off here.
    w = await start_world(tmp_path, {"SIGAP_DASHBOARD": "mati", "SIGAP_PUBLIC_REPORT": "mati"})
    try:
        assert w.service.whatsapp is None and w.service.web is None
        await w.say(WARGA, "/start")
        assert w.emu.calls["getUpdates"] >= 1 and "Selamat datang" in (w.last(WARGA).text or "")
    finally:
        await stop_world(w)


async def test_any_message_of_a_reporter_reopens_the_window(world: WaWorld) -> None:
    w = world
    ticket = await file_complaint(w, WA_WARGA, rahasia=False, photo=False)
    await _close_window(w, WA_WARGA)
    # "Halo" only draws the menu (no dialog step reads the person), yet it reopens the window.
    await w.wa_say(WA_WARGA, "Halo")
    before = w.wa.mark()
    await w.press(PETUGAS, "Verifikasi", GROUP)
    sent = w.wa.sent[before:]
    assert [s.type for s in sent] == ["text"] and ticket in (sent[0].text or "")
    assert w.wa.refused == []


async def test_survey_over_whatsapp(world: WaWorld) -> None:
    from kpi.skm_questionnaire import UNSUR
    from storage.models import SkmResponse

    w = world
    await w.wa_say(WA_WARGA, "Halo")
    await w.wa_press(WA_WARGA, "⭐ Survei kepuasan")
    assert "PermenPANRB Nomor 14 Tahun 2017" in (w.wa_last(WA_WARGA).text or "")
    await w.wa_press(WA_WARGA, "Setuju")
    await w.wa_press(WA_WARGA, "Rekomendasi KTP/KK")
    await w.wa_say(WA_WARGA, "35")  # the age first (a child's guardian is asked before the rest)
    await w.wa_press(WA_WARGA, "Perempuan")
    await w.wa_press(WA_WARGA, "SMA")
    await w.wa_press(WA_WARGA, "Swasta")
    for n, u in enumerate(UNSUR, 1):
        shown = w.wa_last(WA_WARGA)
        assert f"Pertanyaan {n} dari 9" in (shown.text or "")
        # Four answers and "back" do not fit in three buttons: a list, every answer readable
        # in full (a long one cut in the title is whole in the description).
        assert [d or t for t, _, d in shown.rows] == [*u.jawaban, "⬅️ Kembali"]
        await w.wa_press(WA_WARGA, u.jawaban[n % 4])
    await w.wa_say(WA_WARGA, "Pelayanan cepat.")
    assert "Terima kasih" in (w.wa_last(WA_WARGA).text or "")
    with w.service.db.transaction() as s:
        [row] = s.scalars(select(SkmResponse)).all()
        assert (row.source, row.service, row.usia, row.jenis_kelamin) == ("whatsapp", "ktp-kk", 35, "P")
        assert [getattr(row, u.code) for u in UNSUR] == [n % 4 + 1 for n in range(1, 10)]
        # The survey keeps no identity: no person was made for this WhatsApp user.
        assert s.scalar(select(func.count(Person.id))) == 0
    assert w.wa.refused == []


async def test_no_200_before_the_inbox_commit(world: WaWorld, monkeypatch: pytest.MonkeyPatch) -> None:
    w = world
    channel = w.service.whatsapp.channel  # type: ignore[union-attr]
    assert channel is not None
    real_store = channel._store

    def register_down(rows: list[tuple[str, dict[str, object]]]) -> int:
        raise OSError("disk I/O error")

    monkeypatch.setattr(channel, "_store", register_down)
    payload = w.wa.text(WA_WARGA, "Halo")
    assert await w.wa.post(payload) == 500  # Meta keeps it and delivers it again later
    assert w.wa.sent == []
    monkeypatch.setattr(channel, "_store", real_store)
    assert await w.wa_post(payload) == 200
    assert len(w.wa.messages_to(WA_WARGA)) == 1


async def test_sandbox_acts_as_a_whatsapp_user(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from bot.app.sandbox import run_sandbox
    from bot.config.settings import load_settings

    script = tmp_path / "naskah.txt"
    script.write_text("/sebagai wa\nHalo\n1\n/stiker\n/keluar\n", encoding="utf-8")
    env = {"SIGAP_DATA_DIR": str(tmp_path), **register_env()}
    assert await run_sandbox(load_settings(env=env, env_file=None), script) == 0
    out = capsys.readouterr().out
    # Through the real webhook: the menu as a numbered list, "1" pressed its first row.
    assert "[WhatsApp] bot:" in out and "   [1] 📝 Buat laporan" in out
    assert "langkah 1" in out and "   [1] Pengaduan" in out
    assert "stiker tidak bisa diproses" in out


async def test_a_failing_message_rolls_back_alone_and_its_chat_waits(
    world: WaWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Three messages in one webhook POST, handled as one batch: the first user's first
    message always fails. The other user is answered; the failing one is given up after
    three attempts with the apology, and only then is that user's next message handled."""
    from bot.channels.whatsapp import MAX_HANDLE_ATTEMPTS
    from bot.dialogs import router

    w = world
    real_handle = router.handle
    failures = 0

    def handle(rt, session, caller, event, now):  # type: ignore[no-untyped-def]
        nonlocal failures
        ctx = real_handle(rt, session, caller, event, now)  # its reply is queued, then...
        if event.text == "Halo":  # only the first user sends exactly this
            failures += 1
            raise RuntimeError("rusak di tengah langkah")
        return ctx

    monkeypatch.setattr(router, "handle", handle)
    batch = w.wa.text(WA_WARGA, "Halo")
    value = batch["entry"][0]["changes"][0]["value"]
    for user, text in ((WA_WARGA2, "Halo juga"), (WA_WARGA, "/bantuan")):
        more = w.wa.text(user, text)["entry"][0]["changes"][0]["value"]
        value["messages"].append(more["messages"][0])
        value["contacts"].append(more["contacts"][0])
    assert await w.wa_post(batch) == 200
    await w.idle(timeout=30)

    assert failures >= MAX_HANDLE_ATTEMPTS
    first = w.wa_texts(WA_WARGA)
    # The failed attempts' replies were rolled back: the apology, then the help, in order.
    assert len(first) == 2 and first[0].startswith("Maaf, terjadi gangguan") and "Bantuan" in first[1]
    assert len(w.wa.messages_to(WA_WARGA2)) == 1
    with w.service.db.transaction() as s:
        items = s.scalars(select(InboxItem).where(InboxItem.source == "whatsapp")).all()
        assert len(items) == 3 and all(i.handled_at is not None for i in items)
        assert sorted(i.attempts for i in items) == [1, 1, MAX_HANDLE_ATTEMPTS]
