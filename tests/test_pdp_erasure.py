# Erasure that erases (UU 27/2022, issue 12): after a reporter's erasure, and at the end of
# retention, nothing in any table or any file under the data directory still carries their
# name, phone, chat id, typed address or a distinctive phrase of the description; the
# IKU 4 counts stay exactly the same. On SQLite and PostgreSQL.
from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import inspect, select, text

from bot.config.office import load_office
from bot.jobs.retention_job import run_retention
from storage import erasure, inbox, outbox, people
from storage.complaint_stats import resolution_counts
from storage.complaints import (
    ComplaintDraft,
    DeadlinePolicy,
    create_complaint,
    erase_identity,
    get_or_create_person,
)
from storage.db import Database
from storage.lifecycle import Actor, transition
from storage.models import Complaint, InboxItem, OutboxItem, Person, Photo, StatusChange
from storage.retention import RetentionPolicy, purge
from tests.pg_pages import compacted_pages, raw_pages

T0 = datetime(2026, 3, 2, 3, 0, tzinfo=UTC)
TZ = ZoneInfo("Asia/Jakarta")
ADMIN = Actor("petugas", 1, "Pak Admin", "admin")
NAME, PHONE, CHAT = "Siti Rahmawati", "081234567890", "987654321"
ADDRESS = "Jl. Kenanga Gang Buntu No. 17"
PHRASE = "gudang Pak Slamet belakang musala"
DESCRIPTION = f"Pesta miras tiap malam di {PHRASE}, berisik sampai subuh."
SECRETS = (NAME, PHONE, CHAT, ADDRESS, PHRASE)


def _dump(db: Database) -> str:
    """Every row of every table the database has (not only those the models know)."""
    with db.reading() as s:
        names = inspect(s.connection()).get_table_names()
        assert "complaints" in names and "pdp_requests" in names
        parts = []
        for name in names:
            for row in s.execute(text(f'SELECT * FROM "{name}"')).all():  # noqa: S608 - names from the catalogue
                parts.append(f"{name}: {tuple(row)!r}")
    return "\n".join(parts)


def _files(data_dir: Path) -> dict[Path, bytes]:
    return {p: p.read_bytes() for p in data_dir.rglob("*") if p.is_file()}


def _found(db: Database, data_dir: Path) -> list[str]:
    dump = _dump(db)
    found = [f"table: {secret}" for secret in SECRETS if secret in dump]
    for path, raw in _files(data_dir).items():
        found += [f"{path.name}: {secret}" for secret in SECRETS if secret.encode() in raw]
    return found


def _seed(db: Database, policy: DeadlinePolicy, data_dir: Path) -> tuple[int, Path]:
    photo = data_dir / "photos" / "telegram" / "AgADf00.jpg"
    photo.parent.mkdir(parents=True)
    photo.write_bytes(b"\xff\xd8 jpeg " + ADDRESS.encode())  # what a photo may show
    with db.transaction() as s:
        person = get_or_create_person(s, "telegram", CHAT, None, T0)
        person.name, person.phone = NAME, PHONE
        draft = ComplaintDraft(
            kind="pengaduan", category="miras", desa="Jelbuk", description=DESCRIPTION, channel="telegram",
            received_at=T0, photos=[(str(photo), photo.stat().st_size)], address=ADDRESS,
            latitude=-8.0921234, longitude=113.7654321,
        )
        c = create_complaint(s, draft, reporter=person, actor=Actor("warga", person.id, None, "warga"),
                             now=T0, policy=policy, prefix="TRB")
        transition(s, c, "verifikasi", ADMIN, T0 + timedelta(hours=2), internal_note=f"Pelapor {NAME}, telp {PHONE}")
        transition(s, c, "tindaklanjuti", ADMIN, T0 + timedelta(days=1), public_note=f"Dicek ke {ADDRESS}")
        transition(s, c, "selesaikan", ADMIN, T0 + timedelta(days=2), public_note=f"Miras di {PHRASE} disita")
        # What the bot sent: a card quoting the description to the group, a note to the reporter.
        card = outbox.enqueue(s, "telegram", "-1001234", "card", {"text": DESCRIPTION}, T0, complaint_id=c.id)
        note = outbox.enqueue(s, "telegram", CHAT, "text", {"text": f"Halo {NAME}, laporan diterima"}, T0)
        outbox.mark_sent(s, card.id, T0, None)
        outbox.mark_sent(s, note.id, T0, None)
        # The raw update, handled, and the conversation state of that chat.
        inbox.store(s, "telegram", [("55", {"message": {"from": {"id": int(CHAT), "first_name": NAME},
                                                         "text": DESCRIPTION}})], T0)
        s.scalars(select(InboxItem)).one().handled_at = T0
        people.save_state(s, "telegram", CHAT, CHAT, {"flow": "lapor", "uraian": DESCRIPTION}, T0)
        # Another resident's case, left alone.
        other = get_or_create_person(s, "telegram", "111", None, T0)
        other.name = "Budi"
        create_complaint(
            s, ComplaintDraft(kind="pengaduan", category="miras", desa="Sukowiryo", description="Balap liar",
                              channel="telegram", received_at=T0),
            reporter=other, actor=Actor("warga", other.id, None, "warga"), now=T0, policy=policy, prefix="TRB",
        )
        return c.id, photo


def _iku4(db: Database) -> object:
    with db.reading() as s:
        return resolution_counts(s, T0 - timedelta(days=1), T0 + timedelta(days=90), TZ)


def test_erasure_request_leaves_no_trace_and_iku4_unchanged(db: Database, policy: DeadlinePolicy, tmp_path: Path) -> None:
    cid, photo = _seed(db, policy, tmp_path)
    before = _iku4(db)
    # The test can fail: every secret is there before the erasure.
    assert len({f.split(": ", 1)[1] for f in _found(db, tmp_path)}) == len(SECRETS)

    with db.transaction() as s:
        person = s.scalars(select(Person).where(Person.channel_user_id == CHAT)).one()
        erase_identity(s, person, T0 + timedelta(days=3))  # what "Hapus identitas" calls
    db.reclaim_erased()

    assert _found(db, tmp_path) == []
    assert not photo.exists()
    assert _iku4(db) == before
    with db.reading() as s:
        c = s.get(Complaint, cid)
        assert c is not None
        # What the statistics need stays.
        assert (c.kind, c.category, c.desa, c.status) == ("pengaduan", "miras", "Jelbuk", "selesai")
        assert c.description == erasure.REDACTED_DESCRIPTION
        assert (c.address, c.latitude, c.longitude) == (None, None, None)
        moves = s.scalars(select(StatusChange).where(StatusChange.complaint_id == cid).order_by(StatusChange.id)).all()
        assert [m.to_status for m in moves] == ["diterima", "diverifikasi", "ditindaklanjuti", "selesai"]
        assert s.scalars(select(Photo)).all() == []
        # The group's card record stays (the card is edited in place), without its text.
        assert [o.payload for o in s.scalars(select(OutboxItem))] == [{}]
        assert s.scalars(select(Person.name).where(Person.name.is_not(None))).all() == ["Budi"]
        assert s.scalar(select(Complaint.description).where(Complaint.desa == "Sukowiryo")) == "Balap liar"


def test_open_case_keeps_its_content_until_closed_then_retention_erases_it(
    db: Database, policy: DeadlinePolicy, tmp_path: Path
) -> None:
    with db.transaction() as s:
        person = get_or_create_person(s, "telegram", CHAT, None, T0)
        person.name = NAME
        c = create_complaint(
            s, ComplaintDraft(kind="pengaduan", category="miras", desa="Jelbuk", description=DESCRIPTION,
                              channel="telegram", received_at=T0, address=ADDRESS),
            reporter=person, actor=Actor("warga", person.id, None, "warga"), now=T0, policy=policy, prefix="TRB",
        )
        cid = c.id
        erase_identity(s, person, T0 + timedelta(hours=1))
    with db.reading() as s:
        kept = s.get(Complaint, cid)
        assert kept is not None and kept.description == DESCRIPTION  # the case still needs it
    with db.transaction() as s:
        c2 = s.get(Complaint, cid)
        assert c2 is not None
        transition(s, c2, "tolak", ADMIN, T0 + timedelta(days=1), public_note=f"Bukan wewenang; {PHRASE}")
        report = purge(s, RetentionPolicy(), T0 + timedelta(days=2), tmp_path)
    assert report.erased_reporters_cases == 1
    db.reclaim_erased()  # as run_retention does
    assert _found(db, tmp_path) == []


def test_approved_redaction_replaces_the_description(db: Database, policy: DeadlinePolicy, tmp_path: Path) -> None:
    cid, _ = _seed(db, policy, tmp_path)
    with db.transaction() as s:
        c = s.get(Complaint, cid)
        assert c is not None
        erasure.approve_redaction(s, c, "Pesta miras di sebuah gudang di Jelbuk.", "Pak Admin", T0 + timedelta(days=3))
        person = s.scalars(select(Person).where(Person.channel_user_id == CHAT)).one()
        erase_identity(s, person, T0 + timedelta(days=4))
    with db.reading() as s:
        c = s.get(Complaint, cid)
        assert c is not None
        assert c.description == "Pesta miras di sebuah gudang di Jelbuk."
        assert (c.redaction_approved_by, c.description_erased_at) == ("Pak Admin", T0 + timedelta(days=4))


def test_each_kind_has_its_own_period_and_the_dry_run_lists_it(db: Database, policy: DeadlinePolicy, tmp_path: Path) -> None:
    cid, photo = _seed(db, policy, tmp_path)
    rules = RetentionPolicy(reporter_identity_days=3000, photo_days=100, description_days=400, location_days=200,
                            note_days=300)
    closed = T0 + timedelta(days=2)
    with db.transaction() as s:
        r = purge(s, rules, closed + timedelta(days=150), tmp_path)
        assert (r.photos_removed, r.locations_erased, r.notes_erased, r.descriptions_erased) == (1, 0, 0, 0)
        assert r.tickets["foto"] == ["TRB-2026-00001"]
    with db.transaction() as s:
        r = purge(s, rules, closed + timedelta(days=250), tmp_path)
        assert (r.photos_removed, r.locations_erased, r.notes_erased, r.descriptions_erased) == (0, 1, 0, 0)
        c = s.get(Complaint, cid)
        assert c is not None and c.address is None and c.description == DESCRIPTION
    with db.transaction() as s:
        r = purge(s, rules, closed + timedelta(days=350), tmp_path)
        assert (r.locations_erased, r.notes_erased, r.descriptions_erased) == (0, 1, 0)
    with db.transaction() as s:
        r = purge(s, rules, closed + timedelta(days=450), tmp_path)
        assert (r.locations_erased, r.notes_erased, r.descriptions_erased) == (0, 0, 1)
        assert r.tickets["uraian"] == ["TRB-2026-00001"]


def test_end_of_retention_leaves_no_trace(db: Database, policy: DeadlinePolicy, tmp_path: Path) -> None:
    _seed(db, policy, tmp_path)
    before = _iku4(db)
    office = load_office()
    # The nightly job, far past every period of the office file.
    run_retention(db, office, T0 + timedelta(days=3 * 365), tmp_path)
    assert _found(db, tmp_path) == []
    assert _iku4(db) == before


def test_office_file_sets_a_period_per_kind(tmp_path: Path) -> None:
    from bot.config.office import DEFAULT_OFFICE_FILE, OfficeFileError

    shipped = load_office().retention
    assert (shipped.description_days, shipped.location_days, shipped.note_days, shipped.photo_days) == (730, 365, 730, 365)
    text_ = DEFAULT_OFFICE_FILE.read_text(encoding="utf-8")
    edited = tmp_path / "kantor.toml"
    edited.write_text(text_.replace("lokasi_hari = 365", "lokasi_hari = 90"), encoding="utf-8")
    assert load_office(edited).retention.location_days == 90
    assert shipped.survey_suggestion_days == 730
    edited.write_text(text_.replace("saran_survei_hari = 730", "saran_survei_hari = 400"), encoding="utf-8")
    assert load_office(edited).retention.survey_suggestion_days == 400
    # An older office file without the new keys keeps working, with the defaults.
    edited.write_text(text_.replace("uraian_hari = 730\n", ""), encoding="utf-8")
    assert load_office(edited).retention.description_days == RetentionPolicy().description_days
    edited.write_text(text_.replace("catatan_hari = 730", "catatan_hari = 0"), encoding="utf-8")
    with pytest.raises(OfficeFileError, match="retensi.catatan_hari harus paling sedikit 1 hari"):
        load_office(edited)


def test_compacting_leaves_no_dead_row_version_of_erased_text(
    db: Database, policy: DeadlinePolicy, tmp_path: Path
) -> None:
    """`sigap retensi --padatkan` / `sigap pdp hapus --padatkan`: on PostgreSQL the row
    versions an erasure replaced stay in the table pages (dead tuples) until VACUUM FULL
    rewrites the table; on SQLite secure_delete and the WAL truncation already see to it."""
    _seed(db, policy, tmp_path)
    with db.transaction() as s:
        person = s.scalars(select(Person).where(Person.channel_user_id == CHAT)).one()
        erase_identity(s, person, T0 + timedelta(days=3))
    if db.is_sqlite:
        db.reclaim_erased(compact=True)
        assert _found(db, tmp_path) == []  # the database file and its WAL are under tmp_path
        return
    assert _found(db, tmp_path) == []  # no query returns them any more ...
    assert NAME.encode() in raw_pages(db)  # ... yet the old row version is in the page
    raw = compacted_pages(db, tuple(s.encode() for s in SECRETS), lambda: db.reclaim_erased(compact=True))
    assert [secret for secret in SECRETS if secret.encode() in raw] == []


@pytest.mark.parametrize("shared", ["telegram", "whatsapp"])
def test_chat_traces_under_each_kecamatan_number_are_erased(db: Database, shared: str) -> None:
    # A resident who wrote to a kecamatan's own bot or WhatsApp number ("telegram:<kode>",
    # "whatsapp:<kode>") left messages and a dialog there too; another chat's stay.
    from storage import dialog_states
    from storage.models import DialogState

    own = f"{shared}:35.09.22"
    with db.transaction() as s:
        for channel, chat in ((shared, CHAT), (own, CHAT), (own, "555"), ("telegram" if shared == "whatsapp"
                                                                         else "whatsapp", CHAT)):
            item = outbox.enqueue(s, channel, chat, "text", {"text": f"Halo {NAME}", "buttons": []}, T0)
            outbox.mark_sent(s, item.id, T0, 1)
            dialog_states.save(s, channel, chat, chat, {"nama": NAME}, T0)
    with db.transaction() as s:
        assert erasure.erase_chat_traces(s, shared, CHAT) == 2
    other = "telegram" if shared == "whatsapp" else "whatsapp"
    with db.reading() as s:
        assert sorted((o.channel, o.chat_id) for o in s.scalars(select(OutboxItem))) == sorted(
            [(own, "555"), (other, CHAT)])
        assert sorted((d.channel, d.chat_id) for d in s.scalars(select(DialogState))) == sorted(
            [(own, "555"), (other, CHAT)])
