# Retention of personal data: each kind is erased after its own period, statistics stay,
# and nothing an open case or an undelivered message still needs is touched.
from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select

from storage import inbox, outbox, people, skm
from storage.complaints import (
    ComplaintDraft,
    DeadlinePolicy,
    create_complaint,
    get_or_create_person,
)
from storage.db import Database
from storage.lifecycle import Actor, transition
from storage.models import Complaint, DialogState, InboxItem, OutboxItem, Person, Photo, SkmResponse
from storage.retention import RetentionPolicy, delete_files, purge

T0 = datetime(2024, 1, 8, 3, 0, tzinfo=UTC)
ADMIN = Actor("petugas", 1, "Pak Admin", "admin")
POLICY = RetentionPolicy(
    reporter_identity_days=730, photo_days=365, inbox_days=30, outbox_days=30, dialog_days=30, survey_link_days=365
)


def _file(tmp_path: Path, name: str) -> str:
    path = tmp_path / name
    path.write_bytes(b"jpeg")
    return str(path)


def _complaint(s, policy: DeadlinePolicy, user: str, at: datetime, photo: str | None = None) -> Complaint:  # type: ignore[no-untyped-def]
    person = get_or_create_person(s, "telegram", user, None, at)
    person.name = f"Warga {user}"
    draft = ComplaintDraft(
        kind="pengaduan", category="miras", desa="Jelbuk", description="Pesta miras tiap malam",
        channel="telegram", received_at=at, photos=[(photo, 4)] if photo else [],
    )
    return create_complaint(s, draft, reporter=person, actor=Actor("warga", person.id, None, "warga"),
                            now=at, policy=policy, prefix="TRB")


def _resolve(s, c: Complaint, at: datetime) -> None:  # type: ignore[no-untyped-def]
    transition(s, c, "verifikasi", ADMIN, at)
    transition(s, c, "tindaklanjuti", ADMIN, at, public_note="Dicek")
    transition(s, c, "selesaikan", ADMIN, at, public_note="Sudah ditertibkan")


def test_old_closed_cases_lose_identity_and_photos_open_ones_keep_them(
    db: Database, policy: DeadlinePolicy, tmp_path: Path
) -> None:
    old_photo, open_photo = _file(tmp_path, "old.jpg"), _file(tmp_path, "open.jpg")
    with db.transaction() as s:
        closed = _complaint(s, policy, "1001", T0, old_photo)
        _resolve(s, closed, T0 + timedelta(days=3))
        _complaint(s, policy, "1002", T0, open_photo)  # still open years later
    now = T0 + timedelta(days=800)
    with db.transaction() as s:
        report = purge(s, POLICY, now, tmp_path)
    assert report.identities_erased == 1
    assert report.photos_removed == 1
    assert report.files_to_delete == [Path(old_photo)]
    assert delete_files(report.files_to_delete) == 1
    assert not Path(old_photo).exists() and Path(open_photo).exists()
    with db.reading() as s:
        erased = s.scalars(select(Person).where(Person.erased_at.is_not(None))).one()
        assert (erased.name, erased.channel_user_id) == (None, None)
        kept = s.scalars(select(Person).where(Person.erased_at.is_(None))).one()
        assert (kept.name, kept.channel_user_id) == ("Warga 1002", "1002")
        # The complaints stay for statistics, with their status.
        assert s.scalar(select(func.count()).select_from(Complaint)) == 2
        assert s.scalar(select(func.count()).select_from(Photo)) == 1


def test_recently_closed_or_recently_active_reporters_are_kept(db: Database, policy: DeadlinePolicy, tmp_path: Path) -> None:
    with db.transaction() as s:
        c = _complaint(s, policy, "1001", T0)
        _resolve(s, c, T0 + timedelta(days=400))  # closed 400 days after filing
    with db.transaction() as s:
        assert purge(s, POLICY, T0 + timedelta(days=800), tmp_path).identities_erased == 0
    with db.transaction() as s:
        assert purge(s, POLICY, T0 + timedelta(days=1200), tmp_path).identities_erased == 1
    # A person who wrote recently keeps their identity even with every case long closed.
    with db.transaction() as s:
        c = _complaint(s, policy, "1002", T0)
        _resolve(s, c, T0)
        get_or_create_person(s, "telegram", "1002", None, T0 + timedelta(days=1000))
    with db.transaction() as s:
        assert purge(s, POLICY, T0 + timedelta(days=1200), tmp_path).identities_erased == 0


def test_handled_updates_sent_messages_and_stale_dialogs_expire(db: Database, tmp_path: Path) -> None:
    with db.transaction() as s:
        inbox.store(
            s, "telegram", [("1", {"message": {"text": "Nama saya Budi"}}), ("2", {"message": {"text": "belum"}})], T0
        )
        item = s.scalars(select(InboxItem).where(InboxItem.external_id == "1")).one()
        item.handled_at = T0
        sent = outbox.enqueue(s, "telegram", "1001", "text", {"text": "Halo Budi"}, T0)
        outbox.enqueue(s, "telegram", "1002", "text", {"text": "belum terkirim"}, T0)
        outbox.mark_sent(s, sent.id, T0, None)
        people.save_state(s, "telegram", "1001", "1001", {"flow": "lapor"}, T0)
        people.save_state(s, "telegram", "1003", "1003", {"flow": "lapor"}, T0 + timedelta(days=40))
    with db.transaction() as s:
        report = purge(s, POLICY, T0 + timedelta(days=45), tmp_path)
    assert (report.inbox_cleared, report.outbox_cleared, report.dialogs_dropped) == (1, 1, 1)
    with db.reading() as s:
        assert [i.external_id for i in s.scalars(select(InboxItem))] == ["2"]  # unhandled stays
        assert [o.chat_id for o in s.scalars(select(OutboxItem))] == ["1002"]  # unsent stays
        assert [d.chat_id for d in s.scalars(select(DialogState))] == ["1003"]


def test_survey_answers_stay_but_lose_their_link_to_the_chat(db: Database, tmp_path: Path) -> None:
    draft = skm.ResponseDraft("ktp-kk", "2024-Q1", date(2024, 1, 8), {f"u{i}": 4 for i in range(1, 10)})
    with db.transaction() as s:
        skm.record_response(s, draft, source="telegram", now=T0, respondent="k" * 64, consent_at=T0)
    with db.transaction() as s:
        assert purge(s, POLICY, T0 + timedelta(days=300), tmp_path).survey_links_dropped == 0
    with db.transaction() as s:
        assert purge(s, POLICY, T0 + timedelta(days=366), tmp_path).survey_links_dropped == 1
    with db.reading() as s:
        row = s.scalars(select(SkmResponse)).one()
        assert row.respondent_key is None and row.u1 == 4


def test_survey_suggestions_go_after_their_own_period_and_the_ikm_stays(db: Database, tmp_path: Path) -> None:
    policy = RetentionPolicy(survey_link_days=365, survey_suggestion_days=730)
    answers = {f"u{i}": 3 for i in range(1, 10)}
    with db.transaction() as s:
        skm.record_response(
            s, skm.ResponseDraft("ktp-kk", "2024-Q1", date(2024, 1, 8), answers, saran="Pak Darto lambat melayani"),
            source="telegram", now=T0, respondent="s" * 64, consent_at=T0,
        )
        skm.record_response(
            s, skm.ResponseDraft("ktp-kk", "2025-Q4", date(2025, 12, 1), answers, saran="Antrian rapi"),
            source="kertas", now=T0 + timedelta(days=693),
        )
    # Past the chat link, within the suggestion period: the text is still there for the report.
    with db.transaction() as s:
        assert purge(s, policy, T0 + timedelta(days=400), tmp_path).survey_suggestions_erased == 0
    with db.transaction() as s:
        report = purge(s, policy, T0 + timedelta(days=731), tmp_path)
    assert report.survey_suggestions_erased == 1
    with db.reading() as s:
        rows = {r.period: (r.saran, r.u1) for r in s.scalars(select(SkmResponse))}
    assert rows["2024-Q1"] == (None, 3)  # the text goes, the scores stay
    assert rows["2025-Q4"] == ("Antrian rapi", 3)  # younger than its period
