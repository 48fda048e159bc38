# The SKM survey conversation through router.handle, one transaction per event as the
# channel runs it, on the register (SQLite, and PostgreSQL when configured): what a person
# reads, which buttons they get, and what lands in skm_responses.
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from bot.config.office import load_office
from bot.dialogs import deferred, router
from bot.dialogs.context import Runtime
from bot.dialogs.types import Caller, Event
from bot.texts import to_plain
from kpi.skm_questionnaire import UNSUR
from storage import complaints as reg
from storage import people, skm
from storage.complaints import DeadlinePolicy
from storage.db import Database
from storage.lifecycle import Actor, transition
from storage.models import OutboxItem, Person, SkmResponse

TZ = ZoneInfo("Asia/Jakarta")
WARGA, WARGA2, PETUGAS, PIMPINAN, ORANG_LAIN = 1001, 1002, 2001, 2003, 3001
GROUP = -100555
# 2026-11-30 10:00 WIB: Triwulan IV 2026.
NOW = datetime(2026, 11, 30, 3, 0, tzinfo=UTC)


@dataclass
class Msg:
    text: str
    buttons: list[tuple[str, str | None]]
    kind: str = "text"
    payload: dict[str, Any] = field(default_factory=dict)


class Chats:
    """Drives router.handle the way a channel does and reads back the outbox."""

    def __init__(self, db: Database, tmp_path: Path) -> None:
        self.db = db
        self.rt = Runtime(
            office=load_office(),
            policy=DeadlinePolicy(verify_days=3, followup_days=5, holidays=set(), tz=TZ),
            tz=TZ,
            secret=b"s" * 32,
            bot_username="sigap_test_bot",
            data_dir=tmp_path,
        )
        self.now = NOW
        self.toast: str | None = None
        with db.transaction() as s:
            people.add_officer(s, PETUGAS, "Budi", "petugas", NOW)
            people.add_officer(s, PIMPINAN, "Bu Camat", "pimpinan", NOW)

    def caller(self, user: int, chat: int | None) -> Caller:
        chat = user if chat is None else chat
        return Caller("telegram", str(chat), str(user), "Siti", "private" if chat > 0 else "group")

    def send(self, user: int, event: Event, chat: int | None = None) -> list[Msg]:
        with self.db.transaction() as s:
            last = s.scalar(select(func.max(OutboxItem.id))) or 0
            ctx = router.handle(self.rt, s, self.caller(user, chat), event, self.now)
            self.toast = ctx.toast
            rows = s.scalars(select(OutboxItem).where(OutboxItem.id > last).order_by(OutboxItem.id)).all()
            # A report request (deferred.KIND) as the delivery builds it.
            return [
                Msg(to_plain(p.get("text", "")), [(b[0], b[1]) for b in p.get("buttons", [])], kind, dict(p))
                for r in rows
                for kind, p in deferred.expand(self.rt, s, r.kind, r.payload)
            ]

    def say(self, user: int, text: str, chat: int | None = None) -> list[Msg]:
        if text.startswith("/"):
            head, _, args = text[1:].partition(" ")
            return self.send(user, Event(kind="command", command=head, args=args, text=text), chat)
        return self.send(user, Event(kind="text", text=text), chat)

    def last_buttons(self, user: int, chat: int | None = None) -> list[tuple[str, str | None]]:
        chat_id = str(user if chat is None else chat)
        with self.db.reading() as s:
            rows = s.scalars(select(OutboxItem).where(OutboxItem.chat_id == chat_id).order_by(OutboxItem.id.desc())).all()
            for r in rows:
                if r.payload.get("buttons"):
                    return [(b[0], b[1]) for b in r.payload["buttons"]]
        raise AssertionError("no buttons in chat")

    def press(self, user: int, label: str, chat: int | None = None) -> list[Msg]:
        for text, data in self.last_buttons(user, chat):
            if text == label:
                assert data is not None
                return self.send(user, Event(kind="choice", data=data), chat)
        raise AssertionError(f"no button {label!r} in {self.last_buttons(user, chat)}")

    def state(self, user: int, chat: int | None = None) -> dict[str, Any]:
        chat = user if chat is None else chat
        with self.db.reading() as s:
            return people.load_state(s, "telegram", str(chat), str(user))

    def responses(self) -> list[SkmResponse]:
        # A committing transaction: objects stay readable after it (reading() rolls back,
        # which expires them).
        with self.db.transaction() as s:
            return list(s.scalars(select(SkmResponse).order_by(SkmResponse.id)).all())


@pytest.fixture
def chats(db: Database, tmp_path: Path) -> Chats:
    return Chats(db, tmp_path)


def labels(msgs: list[Msg]) -> list[str]:
    return [b[0] for b in msgs[-1].buttons]


def answer_all(c: Chats, user: int, score_of: dict[str, int] | None = None) -> None:
    """Answer the nine questions, each with its own message, checking the exact wording."""
    for n, u in enumerate(UNSUR, 1):
        shown = c.state(user)
        assert shown["step"] == u.code
        score = (score_of or {}).get(u.code, 4)
        out = c.press(user, u.jawaban[score - 1])
        if n < 9:
            nxt = UNSUR[n]
            assert f"Pertanyaan {n + 1} dari 9" in out[-1].text and nxt.pertanyaan in out[-1].text
            assert labels(out) == [*nxt.jawaban, "⬅️ Kembali"]


def consent_and_profile(c: Chats, user: int, service_label: str | None = "Surat keterangan") -> None:
    c.press(user, "Setuju")
    if service_label:
        c.press(user, service_label)
    c.say(user, "42")
    c.press(user, "Perempuan")
    c.press(user, "SMA")
    c.press(user, "Wirausaha")


# The whole survey -------------------------------------------------------------------------------
def test_whole_survey_from_the_menu_records_answers_by_unsur_with_consent(chats: Chats) -> None:
    c = chats
    out = c.say(WARGA, "/start")
    assert "⭐ Survei kepuasan" in labels(out)
    out = c.press(WARGA, "⭐ Survei kepuasan")
    consent = out[-1].text
    # What, why, how long, and what is not asked, before anything is asked.
    for part in ("jenis kelamin", "usia", "pendidikan", "pekerjaan", "9 pertanyaan", "kritik/saran",
                 "PermenPANRB Nomor 14 Tahun 2017", "365 hari", "tidak menanyakan nama, NIK, atau nomor telepon"):
        assert part in consent, part
    assert labels(out) == ["Setuju", "Tidak setuju"]
    c.now = NOW + timedelta(minutes=1)
    consented = c.now
    out = c.press(WARGA, "Setuju")
    assert labels(out) == [sv.name for sv in c.rt.office.services] + ["⬅️ Kembali"]
    out = c.press(WARGA, "Surat keterangan")
    # The age first: it decides whether a parent or guardian must agree (UU 27/2022).
    assert "Berapa usia Anda" in out[-1].text and labels(out) == ["⬅️ Kembali"]
    c.now = NOW + timedelta(minutes=2)
    out = c.say(WARGA, "42")  # an adult: no guardian question
    assert labels(out) == ["Laki-laki", "Perempuan", "⬅️ Kembali"]
    out = c.press(WARGA, "Laki-laki")
    assert labels(out) == ["SD", "SMP", "SMA", "D1-D3", "S1", "S2", "S3", "⬅️ Kembali"]
    out = c.say(WARGA, "sma")  # a typed label counts as the press
    assert labels(out) == ["PNS", "TNI", "POLRI", "Swasta", "Wirausaha", "Lainnya", "⬅️ Kembali"]
    out = c.press(WARGA, "Swasta")
    assert "Pertanyaan 1 dari 9" in out[-1].text and UNSUR[0].pertanyaan in out[-1].text
    assert labels(out) == [*UNSUR[0].jawaban, "⬅️ Kembali"]
    answer_all(c, WARGA, {"u1": 3, "u4": 4, "u8": 2, "u9": 1})
    assert c.state(WARGA)["step"] == "saran"
    out = c.say(WARGA, "Ruang tunggu panas, mohon kipas angin.")
    thanks = out[-1].text
    assert "Terima kasih" in thanks and "Surat keterangan" in thanks and "Triwulan IV 2026" in thanks
    assert "setiap triwulan" in thanks and "IKM" in thanks and "nilai terendah" in thanks
    assert c.state(WARGA) == {}
    [row] = c.responses()
    assert (row.source, row.service, row.period, row.tanggal) == ("telegram", "surat-keterangan", "2026-Q4", date(2026, 11, 30))
    assert [getattr(row, f"u{i}") for i in range(1, 10)] == [3, 4, 4, 4, 4, 4, 4, 2, 1]
    assert (row.jenis_kelamin, row.usia, row.pendidikan, row.pekerjaan) == ("L", 42, "SMA", "Swasta")
    assert row.saran == "Ruang tunggu panas, mohon kipas angin."
    assert row.consent_at is not None and row.consent_at.replace(tzinfo=UTC) == consented
    assert row.respondent_key == skm.respondent_key(c.rt.secret, "telegram", str(WARGA))
    assert row.recorded_by is None
    with c.db.reading() as s:
        # The survey never creates or touches a Person: no identity is held for it.
        assert s.scalar(select(func.count(Person.id))) == 0


def test_period_and_date_are_the_local_ones(chats: Chats) -> None:
    c = chats
    # 31 December 2026 20:00 UTC is already 1 January 2027 in Jelbuk.
    c.now = datetime(2026, 12, 31, 20, 0, tzinfo=UTC)
    c.say(WARGA, "/survei")
    consent_and_profile(c, WARGA)
    answer_all(c, WARGA)
    out = c.press(WARGA, "Lewati")
    assert "Triwulan I 2027" in out[-1].text
    [row] = c.responses()
    assert (row.period, row.tanggal, row.saran) == ("2027-Q1", date(2027, 1, 1), None)


def test_deep_link_preselects_the_service_and_unknown_code_falls_back(chats: Chats) -> None:
    c = chats
    out = c.say(WARGA, "/start skm_ktp-kk")
    assert "Rekomendasi KTP/KK" in out[-1].text and labels(out) == ["Setuju", "Tidak setuju"]
    out = c.press(WARGA, "Setuju")
    assert "Berapa usia Anda" in out[-1].text  # no service question
    c.say(WARGA, "/batal")
    out = c.say(WARGA, "/start skm_tidak-ada")
    assert "Layanan:" not in out[-1].text
    out = c.press(WARGA, "Setuju")
    assert "Rekomendasi KTP/KK" in labels(out)  # the resident picks the service


# Going back, refusing, cancelling -------------------------------------------------------------
def test_going_back_one_step_at_a_time(chats: Chats) -> None:
    c = chats
    c.say(WARGA, "/survei")
    c.press(WARGA, "Setuju")
    out = c.press(WARGA, "⬅️ Kembali")  # from the service back to the consent
    assert labels(out) == ["Setuju", "Tidak setuju"]
    consent_and_profile(c, WARGA)
    c.press(WARGA, UNSUR[0].jawaban[0])
    c.press(WARGA, UNSUR[1].jawaban[1])
    out = c.press(WARGA, "⬅️ Kembali")
    assert "Pertanyaan 2 dari 9" in out[-1].text and UNSUR[1].pertanyaan in out[-1].text
    out = c.say(WARGA, "kembali")  # typed, too
    assert "Pertanyaan 1 dari 9" in out[-1].text
    c.press(WARGA, UNSUR[0].jawaban[2])  # changed from 1 to 3
    for u in UNSUR[1:]:
        c.press(WARGA, u.jawaban[3])
    out = c.press(WARGA, "⬅️ Kembali")  # from saran to question 9
    assert "Pertanyaan 9 dari 9" in out[-1].text
    c.press(WARGA, UNSUR[8].jawaban[1])
    c.press(WARGA, "Lewati")
    [row] = c.responses()
    assert (row.u1, row.u2, row.u9) == (3, 4, 2)


def test_back_from_profile_returns_to_the_service(chats: Chats) -> None:
    c = chats
    c.say(WARGA, "/survei")
    c.press(WARGA, "Setuju")
    c.press(WARGA, "Pengantar SKCK")
    c.press(WARGA, "⬅️ Kembali")
    c.press(WARGA, "Dispensasi nikah")
    assert c.state(WARGA)["data"]["layanan"] == "dispensasi-nikah"


def test_refusing_consent_records_nothing(chats: Chats) -> None:
    c = chats
    c.say(WARGA, "/start skm")
    out = c.press(WARGA, "Tidak setuju")
    assert "Tidak ada jawaban yang dicatat" in out[-1].text
    assert c.state(WARGA) == {} and c.responses() == []
    with c.db.reading() as s:
        assert s.scalar(select(func.count(Person.id))) == 0


def test_batal_cancels_the_survey(chats: Chats) -> None:
    c = chats
    c.say(WARGA, "/survei")
    consent_and_profile(c, WARGA)
    out = c.say(WARGA, "/batal")
    assert "Dibatalkan" in out[-1].text
    assert c.state(WARGA) == {} and c.responses() == []


# Input the step cannot use --------------------------------------------------------------------
def test_typed_text_where_a_button_is_expected_repeats_the_choices_and_changes_nothing(chats: Chats) -> None:
    c = chats
    c.say(WARGA, "/survei")
    c.press(WARGA, "Setuju")
    before = c.state(WARGA)
    out = c.say(WARGA, "saya tadi urus surat")
    assert "Mohon pilih salah satu: Rekomendasi KTP/KK, Surat keterangan" in out[-1].text
    assert labels(out)[:2] == ["Rekomendasi KTP/KK", "Surat keterangan"]
    assert c.state(WARGA) == before  # same step, same data, same nonce
    # The buttons drawn before the reply still work.
    data = next(d for label, d in before_buttons(c, before) if label == "Pengantar SKCK")
    c.send(WARGA, Event(kind="choice", data=data))
    assert c.state(WARGA)["data"]["layanan"] == "skck"


def before_buttons(c: Chats, state: dict[str, Any]) -> list[tuple[str, str]]:
    return [(sv.name, f"d:{state['nonce']}:{sv.code}") for sv in c.rt.office.services]


def test_stickers_photos_and_voice_are_answered_and_change_nothing(chats: Chats) -> None:
    c = chats
    c.say(WARGA, "/survei")
    consent_and_profile(c, WARGA)
    before = c.state(WARGA)
    out = c.send(WARGA, Event(kind="unsupported", unsupported="sticker"))
    assert "stiker tidak bisa diproses" in out[-1].text and "Tidak sesuai" in out[-1].text
    out = c.send(WARGA, Event(kind="photo", photo_path="/tmp/x.jpg", photo_size=10))
    assert "foto tidak bisa diproses" in out[-1].text
    out = c.send(WARGA, Event(kind="unsupported", unsupported="voice"))
    assert "pesan suara" in out[-1].text
    out = c.send(WARGA, Event(kind="location", latitude=-8.0, longitude=113.7))
    assert "lokasi" in out[-1].text
    assert c.state(WARGA) == before


def test_a_command_that_does_not_move_the_dialog_keeps_the_buttons_valid(chats: Chats) -> None:
    c = chats
    c.say(WARGA, "/survei")
    consent_and_profile(c, WARGA)
    before = c.state(WARGA)
    out = c.say(WARGA, "/bantuan")
    assert "Survei kepuasan" in out[-1].text and c.state(WARGA) == before
    c.say(WARGA, "/entahlah")
    assert c.state(WARGA) == before
    # The first question's buttons, drawn before both commands, still answer it.
    c.send(WARGA, Event(kind="choice", data=f"d:{before['nonce']}:2"))
    assert c.state(WARGA)["step"] == "u2" and c.state(WARGA)["data"]["u1"] == 2


def test_age_is_validated(chats: Chats) -> None:
    c = chats
    c.say(WARGA, "/survei")
    c.press(WARGA, "Setuju")
    c.press(WARGA, "Surat keterangan")
    before = c.state(WARGA)
    for bad in ("empat puluh", "14", "101", "-5", "3.5", "35 kg", "1000"):
        out = c.say(WARGA, bad)
        assert "angka dari 15 sampai 100 tahun" in out[-1].text, bad
        assert c.state(WARGA) == before
    c.say(WARGA, "15 tahun")  # how the sandbox, which takes bare digits for buttons, sends it
    # 15 is under the guardian age of the office file (17): the guardian question comes next.
    assert c.state(WARGA)["step"] == "wali" and c.state(WARGA)["data"]["usia"] == 15


def test_typed_digits_answer_questions_but_not_other_steps(chats: Chats) -> None:
    c = chats
    c.say(WARGA, "/survei")
    c.press(WARGA, "Setuju")
    before = c.state(WARGA)
    c.say(WARGA, "2")  # the service step takes no digits: a service is not a score
    assert c.state(WARGA) == before
    c.press(WARGA, "Surat keterangan")
    c.say(WARGA, "30")
    c.press(WARGA, "Perempuan")
    c.press(WARGA, "S1")
    c.press(WARGA, "PNS")
    for digit in "12341234":
        c.say(WARGA, f" {digit} ")
    before = c.state(WARGA)
    out = c.say(WARGA, "5")  # not one of the four answers
    assert "atau ketik angkanya, 1 sampai 4" in out[-1].text and c.state(WARGA) == before
    c.say(WARGA, "1")
    c.say(WARGA, "Pelayanannya cepat")
    [row] = c.responses()
    assert [getattr(row, f"u{i}") for i in range(1, 10)] == [1, 2, 3, 4, 1, 2, 3, 4, 1]
    assert row.saran == "Pelayanannya cepat"


def test_saran_is_limited_to_1000_characters(chats: Chats) -> None:
    c = chats
    c.say(WARGA, "/survei")
    consent_and_profile(c, WARGA)
    answer_all(c, WARGA)
    before = c.state(WARGA)
    out = c.say(WARGA, "x" * 1001)
    assert "terlalu panjang (1001 karakter)" in out[-1].text and c.state(WARGA) == before
    c.say(WARGA, "y" * 1000)
    assert c.responses()[0].saran == "y" * 1000


# One response per respondent per service per period ---------------------------------------------
def test_second_attempt_in_the_same_period_is_refused_politely(chats: Chats) -> None:
    c = chats
    c.say(WARGA, "/start skm_ktp-kk")
    consent_and_profile(c, WARGA, None)
    answer_all(c, WARGA)
    c.press(WARGA, "Lewati")
    c.now = NOW + timedelta(days=3)
    out = c.say(WARGA, "/start skm_ktp-kk")
    text = out[-1].text
    assert "sudah mengisi survei untuk layanan Rekomendasi KTP/KK pada Triwulan IV 2026" in text
    assert "Setuju" not in labels(out)  # no consent asked only to refuse afterwards
    assert "Rekomendasi KTP/KK" not in labels(out) and "Surat keterangan" in labels(out)
    # Choosing the service again through the list is refused at the service step too.
    c.say(WARGA, "/survei")
    c.press(WARGA, "Setuju")
    out = c.press(WARGA, "Rekomendasi KTP/KK")
    assert "sudah mengisi" in out[0].text and "layanan lain" in out[0].text
    assert c.state(WARGA)["step"] == "layanan"
    c.press(WARGA, "Surat keterangan")
    assert c.state(WARGA)["step"] == "usia"
    # Another person, and the same person next period, may answer.
    c.say(WARGA2, "/start skm_ktp-kk")
    assert "Berapa usia Anda" in c.say(WARGA2, "setuju")[-1].text
    c.now = datetime(2027, 1, 2, 3, 0, tzinfo=UTC)
    out = c.say(WARGA, "/start skm_ktp-kk")
    assert labels(out) == ["Setuju", "Tidak setuju"]
    assert len(c.responses()) == 1


def test_already_answered_offers_other_services(chats: Chats) -> None:
    c = chats
    c.say(WARGA, "/start skm_skck")
    consent_and_profile(c, WARGA, None)
    answer_all(c, WARGA)
    c.press(WARGA, "Lewati")
    c.say(WARGA, "/start skm_skck")
    out = c.press(WARGA, "Dispensasi nikah")
    assert "Dispensasi nikah" in out[-1].text and labels(out) == ["Setuju", "Tidak setuju"]
    c.say(WARGA, "/start skm_skck")
    out = c.press(WARGA, "Tidak, terima kasih")
    assert "terima kasih" in out[-1].text.lower() and c.state(WARGA) == {}


def test_a_race_between_two_devices_is_caught_at_the_write(chats: Chats) -> None:
    c = chats
    c.say(WARGA, "/start skm_ktp-kk")
    consent_and_profile(c, WARGA, None)
    answer_all(c, WARGA)
    # Meanwhile the same account finished the same survey on another device.
    key = skm.respondent_key(c.rt.secret, "telegram", str(WARGA))
    with c.db.transaction() as s:
        draft = skm.ResponseDraft("ktp-kk", "2026-Q4", date(2026, 11, 30), dict.fromkeys(("u1", "u2"), 2))
        skm.record_response(s, draft, source="telegram", now=NOW, respondent=key, consent_at=NOW)
    out = c.press(WARGA, "Lewati")
    assert "sudah mengisi survei untuk layanan Rekomendasi KTP/KK pada Triwulan IV 2026" in out[-1].text
    assert "Surat keterangan" in labels(out)
    rows = c.responses()
    assert len(rows) == 1 and rows[0].u3 is None  # the other device's answer stands
    # The dialog carried on in the same transaction: another service, consent kept.
    c.press(WARGA, "Surat keterangan")
    assert c.state(WARGA)["step"] == "usia"


# After a complaint is resolved ----------------------------------------------------------------
def resolved_complaint(c: Chats, user: int) -> int:
    with c.db.transaction() as s:
        person = reg.get_or_create_person(s, "telegram", str(user), None, NOW)
        draft = reg.ComplaintDraft("pengaduan", "miras", "Jelbuk", "Pesta miras di warung", "telegram", NOW)
        comp = reg.create_complaint(s, draft, reporter=person, actor=Actor("warga", person.id, None, "warga"),
                                    now=NOW, policy=c.rt.policy, prefix="TRB")
        officer = Actor("petugas", 1, "Budi", "petugas")
        transition(s, comp, "verifikasi", officer, NOW)
        transition(s, comp, "tindaklanjuti", officer, NOW)
        transition(s, comp, "selesaikan", officer, NOW, public_note="Sudah ditertibkan.")
        return comp.id


def test_offer_after_a_resolved_complaint_once_per_period(chats: Chats) -> None:
    c = chats
    first = resolved_complaint(c, WARGA)
    out = c.send(WARGA, Event(kind="choice", data=c.rt.signed(f"f:{first}:ya")))
    assert len(out) == 1 and "ditutup" in out[0].text and "survei kepuasan" in out[0].text
    assert labels(out) == ["⭐ Isi survei"]
    out = c.press(WARGA, "⭐ Isi survei")
    assert "Layanan: Pengaduan" in out[-1].text
    consent_and_profile(c, WARGA, None)
    answer_all(c, WARGA)
    c.press(WARGA, "Lewati")
    assert c.responses()[0].service == "pengaduan"
    second = resolved_complaint(c, WARGA)
    out = c.send(WARGA, Event(kind="choice", data=c.rt.signed(f"f:{second}:belum")))
    assert "dibuka kembali" in out[0].text
    assert not any("survei kepuasan" in m.text for m in out)  # answered for pengaduan already
    # A forged survey button is refused.
    c.send(WARGA, Event(kind="choice", data="s:pengaduan:0000000000"))
    assert c.toast == "Tombol tidak sah."


# Paper forms ----------------------------------------------------------------------------------
def test_officer_types_in_a_paper_form(chats: Chats) -> None:
    c = chats
    out = c.say(ORANG_LAIN, "/skm_kertas")
    assert "hanya untuk petugas" in out[-1].text and c.state(ORANG_LAIN) == {}
    out = c.say(PETUGAS, "/skm_kertas", GROUP)
    assert "chat pribadi" in out[-1].text
    out = c.say(PETUGAS, "/skm_kertas")
    assert "Tanggal pengisian formulir" in out[-1].text and labels(out) == ["Hari ini"]  # no consent step
    out = c.say(PETUGAS, "01-12-2026")  # tomorrow in Jelbuk: a paper form cannot be from the future
    assert "Tanggal tidak dikenali" in out[-1].text
    c.say(PETUGAS, "30-09-2026")
    out = c.press(PETUGAS, "Rekomendasi perizinan")
    assert labels(out) == ["Laki-laki", "Perempuan", "Tidak diisi", "⬅️ Kembali"]
    c.press(PETUGAS, "Perempuan")
    c.press(PETUGAS, "Tidak diisi")  # the age was left blank on the paper
    c.press(PETUGAS, "D1-D3")
    out = c.press(PETUGAS, "Lainnya")
    assert "Pekerjaan yang ditulis pada formulir?" in out[-1].text
    assert labels(out) == ["Tidak diisi", "⬅️ Kembali"]
    c.say(PETUGAS, "Guru ngaji")
    for u in UNSUR[:8]:
        c.press(PETUGAS, u.jawaban[2])
    c.press(PETUGAS, "Tidak diisi")
    out = c.say(PETUGAS, "Antrean terlalu lama")
    assert "Formulir tersimpan" in out[-1].text and "Triwulan III 2026" in out[-1].text
    assert labels(out) == ["Isi formulir lain", "Selesai"]
    [row] = c.responses()
    assert (row.source, row.respondent_key, row.recorded_by, row.consent_at) == ("kertas", None, "Budi", None)
    assert (row.service, row.period, row.tanggal) == ("perizinan", "2026-Q3", date(2026, 9, 30))
    assert (row.jenis_kelamin, row.usia, row.pendidikan, row.pekerjaan) == ("P", None, "D1-D3", "Lainnya")
    assert (row.pekerjaan_lainnya, row.persetujuan_wali) == ("Guru ngaji", False)
    assert [getattr(row, f"u{i}") for i in range(1, 10)] == [3] * 8 + [None]
    out = c.press(PETUGAS, "Isi formulir lain")
    assert labels(out) == ["Hari ini", "Sama: 30-09-2026"]
    c.press(PETUGAS, "Sama: 30-09-2026")
    c.press(PETUGAS, "Rekomendasi perizinan")
    c.press(PETUGAS, "Laki-laki")
    c.say(PETUGAS, "50")
    c.press(PETUGAS, "SD")
    c.press(PETUGAS, "Swasta")
    for u in UNSUR:
        c.press(PETUGAS, u.jawaban[1])
    c.press(PETUGAS, "Lewati")
    out = c.press(PETUGAS, "Selesai")
    assert c.state(PETUGAS) == {}
    # Paper forms have no respondent key, so two identical forms are two responses.
    assert len(c.responses()) == 2


# /ikm ----------------------------------------------------------------------------------------
def add_response(c: Chats, user: int, service: str, scores: list[int]) -> None:
    key = skm.respondent_key(c.rt.secret, "telegram", str(user))
    answers = {u.code: s for u, s in zip(UNSUR, scores, strict=True)}
    with c.db.transaction() as s:
        skm.record_response(s, skm.ResponseDraft(service, "2026-Q4", date(2026, 11, 1), answers),
                            source="telegram", now=NOW, respondent=key, consent_at=NOW)


def test_ikm_all_answers_4_is_100_and_A(chats: Chats) -> None:
    c = chats
    for user in range(5000, 5006):
        add_response(c, user, "ktp-kk", [4] * 9)
    out = c.say(PETUGAS, "/ikm")
    text = out[0].text
    assert "Triwulan IV 2026" in text and "IKM: 100,00" in text
    assert "Mutu pelayanan: A" in text and "Kinerja: Sangat baik" in text
    assert "Responden: 6 dari sampel minimal" in text and "belum memadai" in text
    assert "Rekomendasi KTP/KK: 6 responden, IKM 100,00 (A)" in text
    assert "Surat keterangan: 0 responden" in text
    # The NRR chart follows as a photo, queued by the path of a PNG written for it.
    assert [m.kind for m in out] == ["text", "photo"]
    assert Path(out[1].payload["path"]).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "Triwulan IV 2026" in out[1].payload["caption"]


def test_ikm_marks_lowest_and_highest_and_is_for_officers_only(chats: Chats) -> None:
    c = chats
    add_response(c, 5000, "ktp-kk", [3, 3, 2, 4, 3, 3, 3, 3, 3])
    add_response(c, 5001, "skck", [3, 3, 2, 4, 3, 3, 3, 3, 1])
    out = c.say(PIMPINAN, "/ikm")  # leadership reads it too
    text = out[0].text
    # NRR: u3 = 2,000 (lowest), u4 = 4,000 (highest); IKM = 25 * (3*6 + 2 + 4 + 2)/9 = 72,22.
    assert "U3 Waktu penyelesaian: 2,000 ⬇️ terendah" in text
    assert "U4 Biaya/tarif: 4,000 ⬆️ tertinggi" in text
    assert "IKM: 72,22" in text and "Mutu pelayanan: C" in text
    out = c.say(WARGA, "/ikm")
    assert "hanya untuk petugas" in out[-1].text and "IKM" not in out[-1].text


def test_ikm_without_answers(chats: Chats) -> None:
    out = chats.say(PETUGAS, "/ikm")
    assert "Belum ada jawaban survei pada periode ini" in out[0].text
    assert len(out) == 1  # no chart without figures


def test_withdrawing_survey_consent_in_data_saya_deletes_the_linked_answers(chats: Chats) -> None:
    c = chats
    c.say(WARGA, "/survei")
    consent_and_profile(c, WARGA)
    answer_all(c, WARGA)
    c.press(WARGA, "Lewati")
    c.say(WARGA2, "/survei")
    consent_and_profile(c, WARGA2)
    answer_all(c, WARGA2)
    c.press(WARGA2, "Lewati")
    assert len(c.responses()) == 2
    out = c.say(WARGA, "/datasaya")
    assert "Jawaban survei kepuasan yang masih terhubung ke akun ini: 1" in out[-1].text
    out = c.press(WARGA, "Tarik persetujuan survei")
    assert labels(out) == ["Ya, hapus jawaban", "Tidak"]
    out = c.press(WARGA, "Ya, hapus jawaban")
    assert "1 jawaban dihapus" in out[-1].text
    # Only this respondent's answer is gone.
    [left] = c.responses()
    assert left.respondent_key == skm.respondent_key(c.rt.secret, "telegram", str(WARGA2))
    out = c.say(WARGA, "/datasaya")
    assert "Tarik persetujuan survei" not in labels(out)
