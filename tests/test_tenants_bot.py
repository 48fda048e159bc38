# One bot serving two kecamatan (issue 14, step 2a: bot/dialogs/kecamatan.py), through
# router.handle one transaction per event as the channels run it, on SQLite and PostgreSQL:
# a resident picks a kecamatan once (button, typed name or number, deep link) and it is
# remembered; officers and groups work in the kecamatan they were registered in; every entry
# point that could cross the line (a card button signed for another kecamatan's complaint,
# /status of another's ticket, /kasus, /ikm, /iku, /catat) is refused or sees only its own,
# with no effect; tickets are gapless per kecamatan. With one office file nothing changes.
from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from bot.config.office import load_office, load_offices
from bot.dialogs import deferred, kecamatan, router
from bot.dialogs.context import Runtime
from bot.dialogs.types import Caller, Event
from bot.texts import to_plain
from storage import iku, people, skm, tenant_lookup
from storage.complaints import (
    ComplaintDraft,
    DeadlinePolicy,
    create_complaint,
    get_or_create_person,
)
from storage.db import Database
from storage.lifecycle import Actor
from storage.models import ChatKecamatan, Complaint, IkuActivity, OutboxItem, Person
from storage.skm import ResponseDraft
from storage.tenancy import TenantError

TZ = ZoneInfo("Asia/Jakarta")
JELBUK, ARJASA = "35.09.25", "35.09.22"
NOW = datetime(2026, 12, 2, 3, 0, tzinfo=UTC)  # Wednesday 10:00 WIB
WARGA_J, WARGA_A, WARGA_BARU = 1001, 1002, 1003
ADMIN_J, ADMIN_A, PETUGAS_J, PETUGAS_A, GANDA = 2001, 2002, 2003, 2004, 2005
GROUP_J, GROUP_A = -100111, -100222
ANSWERS = {f"u{i}": 4 for i in range(1, 10)}


class Chats:
    def __init__(self, db: Database, tmp_path: Path, *, several: bool = True) -> None:
        self.db = db
        offices = load_offices() if several else {}
        policy = DeadlinePolicy(3, 5, set(), TZ)
        self.rt = Runtime(office=load_office(), policy=policy, tz=TZ, secret=b"s" * 32,
                          bot_username="sigap_test_bot", data_dir=tmp_path, offices=offices,
                          policies={ARJASA: DeadlinePolicy(3, 5, set(), TZ)} if several else {})
        self.toast: str | None = None

    def send(self, user: int, event: Event, chat: int | None = None) -> list[dict[str, Any]]:
        return self.send_many([(user, event, chat)])

    def send_many(self, events: list[tuple[int, Event, int | None]]) -> list[dict[str, Any]]:
        """Events handled in ONE transaction, as a channel's batch handles them."""
        with self.db.transaction() as s:
            last = s.scalar(select(func.max(OutboxItem.id))) or 0
            for user, event, chat in events:
                where = user if chat is None else chat
                caller = Caller("telegram", str(where), str(user), None, "private" if where > 0 else "group")
                self.toast = router.handle(self.rt, s, caller, event, NOW).toast
            rows = s.scalars(select(OutboxItem).where(OutboxItem.id > last).order_by(OutboxItem.id)).all()
            # A deferred request (/kasus, /ikm, /iku) as the delivery builds it.
            return [dict(p, chat=r.chat_id, kind=k) for r in rows for k, p in deferred.expand(self.rt, s, r.kind, r.payload)]

    def say(self, user: int, line: str, chat: int | None = None) -> list[dict[str, Any]]:
        return self.send(user, event(line), chat)

    def press(self, user: int, label: str, out: list[dict[str, Any]], chat: int | None = None) -> list[dict[str, Any]]:
        for o in reversed(out):
            for b in o.get("buttons") or []:
                if b[0] == label:
                    return self.send(user, Event(kind="choice", data=b[1]), chat)
        raise AssertionError(f"no button {label!r} in {labels(out)}")

    def card_press(self, user: int, cid: int, action: str, chat: int) -> list[dict[str, Any]]:
        return self.send(user, Event(kind="choice", data=self.rt.signed(f"k:{cid}:{action}:1")), chat)

    def remembered(self, user: int) -> str | None:
        with self.db.reading() as s:
            return tenant_lookup.remembered(s, "telegram", str(user))


def event(line: str) -> Event:
    if line.startswith("/"):
        head, _, args = line[1:].partition(" ")
        return Event(kind="command", command=head, args=args, text=line)
    return Event(kind="text", text=line)


def text(out: list[dict[str, Any]]) -> str:
    return "\n".join(to_plain(o.get("text", "")) for o in out)


def labels(out: list[dict[str, Any]]) -> list[str]:
    return [b[0] for o in out for b in o.get("buttons") or []]


@pytest.fixture
def chats(db: Database, tmp_path: Path) -> Chats:
    c = Chats(db, tmp_path)
    for kode, staff in ((JELBUK, ((ADMIN_J, "admin"), (PETUGAS_J, "petugas"), (GANDA, "petugas"))),
                        (ARJASA, ((ADMIN_A, "admin"), (PETUGAS_A, "petugas"), (GANDA, "petugas")))):
        with db.transaction(kode) as s:
            for tid, role in staff:
                people.add_officer(s, tid, f"Petugas {tid}", role, NOW)
    return c


def file_complaint(c: Chats, user: int, kode: str, words: str = "Pesta miras tiap malam di warung") -> Complaint:
    """A complaint filed straight in the register (faster than the whole intake)."""
    prefix = c.rt.office_of(kode).ticket_prefix
    with c.db.transaction(kode) as s:
        person = get_or_create_person(s, "telegram", str(user), "Siti", NOW)
        return create_complaint(
            s, ComplaintDraft(kind="pengaduan", category="miras", desa=c.rt.office_of(kode).desa[0],
                              description=words, channel="telegram", received_at=NOW),
            reporter=person, actor=Actor("warga", None, None, "warga"), now=NOW,
            policy=c.rt.policy_of(kode), prefix=prefix)


def typed_intake(c: Chats, user: int) -> str:
    """The whole resident intake typed, as in tests/test_typed_answers.py; the ticket."""
    c.say(user, "/lapor")
    c.say(user, "pengaduan")
    c.say(user, "Minuman Keras")
    c.say(user, "1")  # the first desa of the resident's kecamatan
    c.say(user, "Pesta miras tiap malam di warung ujung desa")
    c.say(user, "lanjut")
    c.say(user, "lewati")
    c.say(user, "Sertakan identitas")
    c.say(user, "tidak")
    out = text(c.say(user, "kirim"))
    assert "Nomor tiket" in out, out
    return out


# ------------------------------------------------------------------------- the pick itself

def test_the_pick_is_kept_in_a_shared_table(db: Database) -> None:
    with db.transaction(JELBUK) as s:
        tenant_lookup.remember(s, "whatsapp", "6281234567890", ARJASA, NOW)
    with db.reading(ARJASA) as s:  # shared: the same row from any kecamatan's session
        assert tenant_lookup.remembered(s, "whatsapp", "6281234567890") == ARJASA
    with db.transaction(ARJASA) as s:
        tenant_lookup.remember(s, "whatsapp", "6281234567890", JELBUK, NOW)
    with db.reading(JELBUK) as s:
        assert tenant_lookup.remembered(s, "whatsapp", "6281234567890") == JELBUK
        assert s.scalar(select(func.count()).select_from(ChatKecamatan)) == 1
        with pytest.raises(TenantError):
            tenant_lookup.remember(s, "whatsapp", "1", "35-09-22", NOW)


def test_with_one_office_file_nothing_is_asked(db: Database, tmp_path: Path) -> None:
    c = Chats(db, tmp_path, several=False)
    out = c.say(WARGA_BARU, "/start")
    assert "Selamat datang di SIGAP Kecamatan Jelbuk" in text(out) and "Pilih kecamatan" not in text(out)
    assert "📝 Buat laporan" in labels(out)
    out = c.say(WARGA_BARU, "/kecamatan")  # not a command of a single-office bot
    assert "Pilih kecamatan" not in text(out)
    with db.reading() as s:
        assert s.scalar(select(func.count()).select_from(ChatKecamatan)) == 0


def test_a_new_resident_picks_first_then_goes_on_where_they_were_going(chats: Chats) -> None:
    c = chats
    out = c.say(WARGA_BARU, "/lapor")
    assert text(out) == ("Layanan ini melayani beberapa kecamatan. Pilih kecamatan tempat kejadian atau kantor"
                         " yang Anda tuju:\n(ketik nama atau nomornya pun bisa; ganti kapan saja dengan /kecamatan)")
    assert labels(out) == ["Kecamatan Jelbuk", "Kecamatan Arjasa"]  # the default office first
    assert c.remembered(WARGA_BARU) is None
    out = c.press(WARGA_BARU, "Kecamatan Arjasa", out)
    assert "Kecamatan Anda: Kecamatan Arjasa" in text(out)
    assert "Pengaduan" in " ".join(labels(out))  # the intake's first question, where /lapor led
    assert c.remembered(WARGA_BARU) == ARJASA
    out = c.say(WARGA_BARU, "/batal")
    out = c.say(WARGA_BARU, "/start")  # remembered: not asked again
    assert "Selamat datang di SIGAP Kecamatan Arjasa" in text(out) and "Pilih kecamatan" not in text(out)


@pytest.mark.parametrize(("typed", "kode", "name"), [("2", ARJASA, "Arjasa"), ("jelbuk", JELBUK, "Jelbuk"),
                                                     ("Kecamatan Arjasa", ARJASA, "Arjasa")])
def test_the_kecamatan_can_be_typed_by_name_or_number(chats: Chats, typed: str, kode: str, name: str) -> None:
    c = chats
    assert "Pilih kecamatan" in text(c.say(WARGA_BARU, "halo"))
    out = c.say(WARGA_BARU, typed)
    assert f"Kecamatan Anda: Kecamatan {name}" in text(out)
    assert f"Selamat datang di SIGAP Kecamatan {name}" in text(out)  # "halo" leads to the menu
    assert c.remembered(WARGA_BARU) == kode


def test_something_else_than_a_kecamatan_is_asked_again(chats: Chats) -> None:
    c = chats
    c.say(WARGA_BARU, "/start")
    out = c.say(WARGA_BARU, "Bondowoso")
    assert "Pilih kecamatan" in text(out) and c.remembered(WARGA_BARU) is None
    stale = c.send(WARGA_BARU, Event(kind="choice", data=f"d:0000:{ARJASA}"))
    assert c.toast == "Tombol ini sudah tidak berlaku." and stale == [] and c.remembered(WARGA_BARU) is None


def test_a_deep_link_sets_it_and_kecamatan_changes_it(chats: Chats) -> None:
    c = chats
    assert kecamatan.deep_link_payload(c.rt.office_of(ARJASA)) == "kec-350922"
    out = c.say(WARGA_BARU, "/start kec-350922")
    assert "Selamat datang di SIGAP Kecamatan Arjasa" in text(out) and "Pilih kecamatan" not in text(out)
    assert c.remembered(WARGA_BARU) == ARJASA
    out = c.say(WARGA_BARU, "/kecamatan")
    assert "Kecamatan Anda saat ini: Kecamatan Arjasa" in text(out)
    out = c.press(WARGA_BARU, "Kecamatan Jelbuk", out)
    assert "Kecamatan Anda: Kecamatan Jelbuk" in text(out) and c.remembered(WARGA_BARU) == JELBUK
    # Asked to change and went on with something else: the kecamatan stays as it was.
    c.say(WARGA_BARU, "/kecamatan")
    out = c.say(WARGA_BARU, "/start")
    assert "Selamat datang di SIGAP Kecamatan Jelbuk" in text(out) and c.remembered(WARGA_BARU) == JELBUK


def test_a_resident_of_the_register_before_it_served_two_is_not_asked(chats: Chats) -> None:
    c = chats
    file_complaint(c, WARGA_J, JELBUK)  # a Person of Jelbuk, no pick recorded
    out = c.say(WARGA_J, "/start")
    assert "Selamat datang di SIGAP Kecamatan Jelbuk" in text(out) and "Pilih kecamatan" not in text(out)
    assert c.remembered(WARGA_J) == JELBUK


# ------------------------------------------------------------------------------- tickets

def test_tickets_are_gapless_per_kecamatan_through_the_dialog(chats: Chats) -> None:
    c = chats
    c.say(WARGA_J, "/start kec-350925")
    c.say(WARGA_A, "/start kec-350922")
    assert "TRB-2026-00001" in typed_intake(c, WARGA_J)
    assert "ARJ-2026-00001" in typed_intake(c, WARGA_A)
    assert "TRB-2026-00002" in typed_intake(c, WARGA_J)
    with c.db.reading(ARJASA) as s:
        made = s.scalars(select(Complaint)).one()
        assert (made.ticket, made.kecamatan, made.desa) == ("ARJ-2026-00001", ARJASA, "Arjasa")
    with c.db.reading(JELBUK) as s:
        assert sorted(s.scalars(select(Complaint.ticket)).all()) == ["TRB-2026-00001", "TRB-2026-00002"]


def test_steps_of_two_kecamatan_in_one_batch_each_write_their_own(chats: Chats) -> None:
    c = chats
    c.say(WARGA_J, "/start kec-350925")
    c.say(WARGA_A, "/start kec-350922")
    jelbuk = file_complaint(c, WARGA_J, JELBUK)
    arjasa = file_complaint(c, WARGA_A, ARJASA)
    # One transaction, alternating kecamatan, as a channel's batch handles a busy minute.
    out = c.send_many([(WARGA_J, event(f"/status {jelbuk.ticket}"), None),
                       (WARGA_A, event(f"/status {arjasa.ticket}"), None),
                       (WARGA_J, event("/datasaya"), None),
                       (WARGA_A, event(f"/status {jelbuk.ticket}"), None),
                       (PETUGAS_A, event("/kasus"), None),
                       (PETUGAS_J, event(f"/kasus {jelbuk.ticket}"), None),
                       (PETUGAS_A, Event(kind="choice", data=c.rt.signed(f"k:{jelbuk.id}:verifikasi:1")), None)])
    assert c.toast == "Tombol tidak dikenal."  # the Jelbuk row loaded just before stays Jelbuk's
    by_chat = {chat: text([o for o in out if o["chat"] == chat]) for chat in {o["chat"] for o in out}}
    assert "Riwayat" in by_chat[str(WARGA_J)] and jelbuk.ticket in by_chat[str(WARGA_J)]
    assert arjasa.ticket not in by_chat[str(WARGA_J)]
    assert arjasa.ticket in by_chat[str(WARGA_A)]
    assert f"Tiket {jelbuk.ticket} tidak ditemukan" in by_chat[str(WARGA_A)]
    assert arjasa.ticket in by_chat[str(PETUGAS_A)] and jelbuk.ticket not in by_chat[str(PETUGAS_A)]
    with c.db.reading(ARJASA) as s:  # no Person of WARGA_J was made in Arjasa, nor the reverse
        assert people.find_person(s, "telegram", str(WARGA_J)) is None
    with c.db.reading(JELBUK) as s:
        assert people.find_person(s, "telegram", str(WARGA_A)) is None
        assert s.get(Complaint, jelbuk.id).status == "diterima"  # type: ignore[union-attr]


def test_a_scoped_step_never_gets_the_other_kecamatans_loaded_rows(chats: Chats) -> None:
    c = chats
    jelbuk = file_complaint(c, WARGA_J, JELBUK)
    with c.db.transaction(JELBUK) as s:
        loaded = s.get(Complaint, jelbuk.id)
        assert loaded is not None
        with kecamatan.scoped(s, ARJASA):
            # session.get answers from the identity map without a query: emptied at the switch.
            assert s.get(Complaint, jelbuk.id) is None
            person = get_or_create_person(s, "telegram", "555", None, NOW)
        assert s.info["kecamatan"] == JELBUK and person.kecamatan == ARJASA
        assert s.get(Complaint, jelbuk.id) is not None
    with c.db.reading(ARJASA) as s:  # written in Arjasa, flushed before the switch back
        assert people.find_person(s, "telegram", "555") is not None


def test_what_the_enclosing_kecamatan_left_pending_is_written_in_its_own(chats: Chats) -> None:
    c = chats
    with c.db.transaction(JELBUK) as s:
        s.add(Person(channel="telegram", channel_user_id="666", created_at=NOW))  # not flushed yet
        with kecamatan.scoped(s, ARJASA):
            assert people.find_person(s, "telegram", "666") is None  # Jelbuk's, not Arjasa's
    with c.db.reading(JELBUK) as s:
        made = people.find_person(s, "telegram", "666")
        assert made is not None and made.kecamatan == JELBUK


# ------------------------------------------------------------------------ crossing the line

def _register_groups(c: Chats) -> None:
    assert "terdaftar" in text(c.say(ADMIN_J, "/daftarkan_grup", GROUP_J))
    assert "terdaftar" in text(c.say(ADMIN_A, "/daftarkan_grup", GROUP_A))
    with c.db.reading(JELBUK) as s:
        assert people.get_setting(s, "trantib_group") == str(GROUP_J)
    with c.db.reading(ARJASA) as s:
        assert people.get_setting(s, "trantib_group") == str(GROUP_A)


def _outbox_count(c: Chats) -> int:
    with c.db.reading() as s:
        return s.scalar(select(func.count(OutboxItem.id))) or 0


@pytest.mark.parametrize("where", ["private", "own group", "other group"])
@pytest.mark.parametrize("action", ["verifikasi", "tugaskan", "tolak"])
def test_a_card_button_for_another_kecamatans_complaint_is_refused(chats: Chats, where: str, action: str) -> None:
    c = chats
    _register_groups(c)
    jelbuk = file_complaint(c, WARGA_J, JELBUK)
    before = _outbox_count(c)
    chat = {"private": PETUGAS_A, "own group": GROUP_A, "other group": GROUP_J}[where]
    out = c.card_press(PETUGAS_A, jelbuk.id, action, chat)
    assert out == [] and _outbox_count(c) == before  # nothing to anyone, the reporter least
    assert c.toast in ("Tombol tidak dikenal.", "Maaf, tindakan ini hanya untuk petugas yang terdaftar.", None)
    with c.db.reading(JELBUK) as s:
        again = s.get(Complaint, jelbuk.id)
        assert again is not None
        assert (again.status, again.version, again.assigned_to) == ("diterima", 1, None)
    # The same press by Jelbuk's officer works: the refusal above was the kecamatan, not the button.
    if action == "verifikasi":
        c.card_press(PETUGAS_J, jelbuk.id, action, GROUP_J)
        with c.db.reading(JELBUK) as s:
            assert s.get(Complaint, jelbuk.id).status == "diverifikasi"  # type: ignore[union-attr]


def test_status_of_another_kecamatans_ticket_reads_like_a_missing_one(chats: Chats) -> None:
    c = chats
    jelbuk = file_complaint(c, WARGA_J, JELBUK)
    c.say(WARGA_A, "/start kec-350922")
    missing = text(c.say(WARGA_A, "/status TRB-2026-00099"))
    someone_elses = text(c.say(WARGA_A, f"/status {jelbuk.ticket}"))
    assert someone_elses == missing.replace("TRB-2026-00099", jelbuk.ticket)
    assert "tidak ditemukan" in someone_elses and "Riwayat" not in someone_elses
    # An officer of Arjasa is no better placed.
    assert "tidak ditemukan" in text(c.say(PETUGAS_A, f"/status {jelbuk.ticket}"))
    # The reporter, now with Arjasa picked, still reads their own Jelbuk complaint.
    c.say(WARGA_J, "/start kec-350922")
    own = text(c.say(WARGA_J, f"/status {jelbuk.ticket}"))
    assert jelbuk.ticket in own and "Riwayat" in own and "Minuman keras" in own
    with c.db.reading(ARJASA) as s:
        assert people.find_person(s, "telegram", str(WARGA_J)) is None  # looked, made nothing


def _fill_jelbuk_reports(c: Chats) -> None:
    with c.db.transaction(JELBUK) as s:
        period = "2026-Q4"
        for i in range(3):
            skm.record_response(s, ResponseDraft("ktp-kk", period, date(2026, 12, 1), ANSWERS),
                                source="telegram", now=NOW, respondent=f"kunci-{i}")
        iku.add(s, IkuActivity, {"year": 2026, "name": "Pelatihan UMKM Jelbuk"}, "admin", NOW)
        iku.set_target(s, "IKU-4", 2026, Decimal(91), "admin", NOW)


@pytest.mark.parametrize("who", ["private", "group"])
def test_kasus_ikm_and_iku_show_only_the_officers_own_kecamatan(chats: Chats, who: str) -> None:
    c = chats
    _register_groups(c)
    jelbuk = file_complaint(c, WARGA_J, JELBUK, "Pasar malam Jelbuk berisik")
    arjasa = file_complaint(c, WARGA_A, ARJASA, "Balap liar Arjasa tiap malam")
    _fill_jelbuk_reports(c)
    for officer, chat, own, other, name in ((PETUGAS_J, GROUP_J, jelbuk, arjasa, "Jelbuk"),
                                            (PETUGAS_A, GROUP_A, arjasa, jelbuk, "Arjasa")):
        at = officer if who == "private" else chat
        kasus = text(c.say(officer, "/kasus", at))
        assert own.ticket in kasus and other.ticket not in kasus, kasus
        assert "tidak ditemukan" in text(c.say(officer, f"/kasus {other.ticket}", at))
        card = c.say(officer, f"/kasus {own.ticket}", at)  # a card, drawn by the delivery
        assert [(o["kind"], o["complaint_id"], o["kecamatan"]) for o in card] == [("card", own.id, own.kecamatan)]
        ikm = text(c.say(officer, "/ikm", at))
        assert f"IKM Kecamatan {name}" in ikm
        assert ("Responden: 3" in ikm) == (name == "Jelbuk"), ikm
        targets = text(c.say(officer, "/iku_target", at))
        assert ("91" in targets) == (name == "Jelbuk"), targets
        activities = text(c.say(officer, "/iku_kegiatan", at))
        assert ("Pelatihan UMKM Jelbuk" in activities) == (name == "Jelbuk"), activities


def test_catat_by_an_officer_of_arjasa_files_in_arjasa(chats: Chats) -> None:
    c = chats
    file_complaint(c, WARGA_J, JELBUK)
    out = c.say(PETUGAS_A, "/catat")
    out = c.press(PETUGAS_A, "Surat", out)
    out = c.press(PETUGAS_A, "Hari ini", out)
    out = c.press(PETUGAS_A, "Pengaduan", out)
    out = c.press(PETUGAS_A, "Minuman keras", out)
    assert "Jelbuk" not in labels(out) and "Biting" in labels(out)  # Arjasa's desa
    out = c.press(PETUGAS_A, "Biting", out)
    out = c.say(PETUGAS_A, "Warung menjual miras dekat sekolah")
    out = c.press(PETUGAS_A, "Lewati", out)
    out = c.press(PETUGAS_A, "Tidak rahasia", out)
    done = text(c.press(PETUGAS_A, "Kirim", out))
    assert "ARJ-2026-00001" in done
    with c.db.reading(ARJASA) as s:
        made = s.scalars(select(Complaint)).one()
        assert (made.ticket, made.desa, made.kecamatan) == ("ARJ-2026-00001", "Biting", ARJASA)
    with c.db.reading(JELBUK) as s:
        assert s.scalars(select(Complaint.ticket)).all() == ["TRB-2026-00001"]


def test_an_officer_registered_in_two_kecamatan_is_refused(chats: Chats) -> None:
    c = chats
    jelbuk = file_complaint(c, WARGA_J, JELBUK)
    out = c.say(GANDA, "/kasus")
    assert "terdaftar sebagai petugas di lebih dari satu kecamatan" in text(out)
    assert "Kecamatan Jelbuk" in text(out) and "Kecamatan Arjasa" in text(out)
    assert jelbuk.ticket not in text(out)
    before = _outbox_count(c)
    c.card_press(GANDA, jelbuk.id, "verifikasi", GANDA)
    with c.db.reading(JELBUK) as s:
        assert s.get(Complaint, jelbuk.id).status == "diterima"  # type: ignore[union-attr]
    assert _outbox_count(c) == before + 1  # only the refusal, to the officer
    assert c.remembered(GANDA) is None


def test_an_officer_cannot_switch_kecamatan(chats: Chats) -> None:
    c = chats
    out = c.say(PETUGAS_A, "/kecamatan")
    assert "petugas Kecamatan Arjasa" in text(out) and labels(out) == []


def test_digest_of_another_kecamatan_is_queued_for_that_kecamatan(chats: Chats) -> None:
    # The delivery draws it in the kecamatan the item names (tests/test_tenants_bot_e2e.py
    # reads the drawn digest): never from the default one.
    c = chats
    for officer, kode in ((PETUGAS_A, ARJASA), (PETUGAS_J, JELBUK)):
        out = c.say(officer, "/digest")
        assert [(o["kind"], o["kecamatan"]) for o in out] == [("digest", kode)]


def test_an_admin_cannot_register_another_kecamatans_officer(chats: Chats) -> None:
    c = chats
    out = c.say(ADMIN_A, f"/petugas {PETUGAS_J} petugas Budi Jelbuk")
    assert f"ID Telegram {PETUGAS_J} sudah terdaftar sebagai petugas aktif Kecamatan Jelbuk" in text(out)
    with c.db.reading(ARJASA) as s:
        assert people.officer_by_telegram(s, PETUGAS_J) is None
    assert "terdaftar dengan ID Telegram 2999" in text(c.say(ADMIN_A, "/petugas 2999 petugas Baru Arjasa"))


def test_erasing_ones_identity_forgets_the_pick_too(chats: Chats) -> None:
    c = chats
    c.say(WARGA_A, "/start kec-350922")
    file_complaint(c, WARGA_A, ARJASA)
    out = c.say(WARGA_A, "/datasaya")
    out = c.press(WARGA_A, "Hapus identitas saya", out)
    out = c.press(WARGA_A, "Ya, hapus", out)
    assert c.remembered(WARGA_A) is None
    assert "Pilih kecamatan" in text(c.say(WARGA_A, "/start"))


def test_a_batch_mixing_kecamatan_commits_each_and_rolls_back_a_failing_one_alone(
        chats: Chats, monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.channels.batch import BatchHandler, Prepared
    from bot.dialogs import resident

    c = chats
    menu = resident.menu

    def failing_in_arjasa(ctx: Any) -> dict[str, Any]:
        if ctx.kecamatan == ARJASA and ctx.caller.user_id == str(WARGA_BARU):
            get_or_create_person(ctx.session, "telegram", "rolled-back", None, NOW)  # written, then lost
            raise RuntimeError("a bug in Arjasa's step")
        return menu(ctx)

    monkeypatch.setattr(resident, "menu", failing_in_arjasa)
    lines = [(WARGA_J, "/start kec-350925"), (WARGA_A, "/start kec-350922"), (WARGA_BARU, "/start kec-350922"),
             (WARGA_J, "/datasaya")]
    rows = [(str(i), {"chat": str(user)}) for i, (user, _) in enumerate(lines)]
    prepared = {str(i): Prepared(order_key=str(user), private_chat=user,
                                 translated=(Caller("telegram", str(user), str(user), None, "private"), event(line)))
                for i, (user, line) in enumerate(lines)}

    def step(s: Any, p: Prepared, now: datetime) -> str | None:
        assert p.translated is not None
        return router.handle(c.rt, s, *p.translated, now).toast

    handler = BatchHandler(c.db, "telegram", step, lambda payload: payload["chat"], lambda: NOW, 3)
    batch = handler.handle(rows, prepared)
    assert (batch.handled, batch.failed) == (3, 1)
    menus = {job.chat_id: job.payload["text"] for job in batch.jobs if "Selamat datang" in job.payload["text"]}
    assert "Kecamatan Jelbuk" in menus[str(WARGA_J)] and "Kecamatan Arjasa" in menus[str(WARGA_A)]
    assert str(WARGA_BARU) not in {job.chat_id for job in batch.jobs}
    assert (c.remembered(WARGA_J), c.remembered(WARGA_A), c.remembered(WARGA_BARU)) == (JELBUK, ARJASA, None)
    with c.db.reading(ARJASA) as s:
        assert people.find_person(s, "telegram", "rolled-back") is None


def test_a_signed_button_still_works_while_the_pick_is_on_screen(chats: Chats) -> None:
    c = chats
    c.say(WARGA_A, "/start kec-350922")
    arjasa = file_complaint(c, WARGA_A, ARJASA)
    c.say(WARGA_A, "/kecamatan")
    c.send(WARGA_A, Event(kind="choice", data=c.rt.signed(f"f:{arjasa.id}:ya")))
    # Read in Arjasa and found the resident's own complaint (not yet selesai: nothing to answer).
    assert c.toast == "Jawaban untuk laporan ini sudah tercatat."
    with c.db.reading(ARJASA) as s:
        assert s.get(Complaint, arjasa.id).feedback is None  # type: ignore[union-attr]


def test_the_runtime_knows_every_office_the_default_first(tmp_path: Path) -> None:
    import dataclasses

    policy = DeadlinePolicy(3, 5, set(), TZ)
    rt = Runtime(office=load_office(), policy=policy, tz=TZ, secret=b"s" * 32, bot_username="b",
                 data_dir=tmp_path, offices=load_offices())
    assert list(rt.offices) == [JELBUK, ARJASA] and rt.several  # load_offices sorts Arjasa first
    assert rt.policy_of(JELBUK) is policy and str(rt.policy_of(ARJASA).tz) == "Asia/Jakarta"
    # A copy for another default (the jobs do so) still knows the first one's policy.
    other = dataclasses.replace(rt, office=rt.offices[ARJASA])
    assert list(other.offices) == [ARJASA, JELBUK] and str(other.policy_of(JELBUK).tz) == "Asia/Jakarta"
    single = Runtime(office=load_office(), policy=policy, tz=TZ, secret=b"s" * 32, bot_username="b", data_dir=tmp_path)
    assert list(single.offices) == [JELBUK] and not single.several


def test_whatsapps_window_is_the_users_whichever_kecamatan_keeps_them(db: Database) -> None:
    # Read from the default kecamatan's scope (the delivery's), an Arjasa resident's last
    # message still counts: the 24-hour window is WhatsApp's, per user.
    at = datetime(2026, 11, 30, 2, 0, tzinfo=UTC)
    with db.reading() as s:
        assert tenant_lookup.last_inbound(s, "whatsapp", "6281234") == (False, None)
    with db.transaction(ARJASA) as s:
        get_or_create_person(s, "whatsapp", "6281234", "Siti", at).last_inbound_at = at
    with db.reading() as s:
        known, last = tenant_lookup.last_inbound(s, "whatsapp", "6281234")
        assert known and last == at
        assert people.find_person(s, "whatsapp", "6281234") is None  # the scoped read sees none


def test_dasbor_gives_each_kecamatans_officer_a_link_to_their_own(chats: Chats) -> None:
    # The web dashboard serves every kecamatan (bot/dashboard/routes.py): an Arjasa admin's
    # link belongs to Arjasa, a Jelbuk admin's to Jelbuk (tests/test_dashboard_kecamatan.py).
    from storage import dashboard_access

    c = chats
    c.rt.dashboard_url = "http://dasbor.test"
    links = {}
    for who in (ADMIN_A, ADMIN_J):
        said = text(c.say(who, "/dasbor"))
        assert "http://dasbor.test/dasbor/masuk?t=" in said, said
        links[who] = said.split("/dasbor/masuk?t=")[1].split()[0]
    with c.db.reading() as s:
        assert dashboard_access.link_kecamatan(s, links[ADMIN_A], NOW) == ARJASA
        assert dashboard_access.link_kecamatan(s, links[ADMIN_J], NOW) == JELBUK
