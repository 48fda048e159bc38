# Two kecamatan in one register (storage/tenancy.py): what one writes, the other never reads,
# updates or deletes, from any storage entry point; tickets are gapless per kecamatan; a
# session without a kecamatan, or a row of another, is refused. On both backends.
from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from storage import digest_claims, iku, people, skm, skm_stats
from storage.complaint_search import CaseQuery, search_complaints
from storage.complaint_stats import resolution_counts
from storage.complaints import (
    ComplaintDraft,
    DeadlinePolicy,
    by_id,
    by_ticket,
    create_complaint,
    get_or_create_person,
    open_complaints,
)
from storage.db import Database
from storage.lifecycle import Actor
from storage.models import Complaint, IkuActivity, Officer, Person, SkmResponse
from storage.skm import ResponseDraft
from storage.tenancy import DEFAULT_KECAMATAN, TenantError, across_kecamatan

JELBUK, ARJASA = DEFAULT_KECAMATAN, "35.09.22"
PREFIX = {JELBUK: "TRB", ARJASA: "ARJ"}
NOW = datetime(2026, 11, 30, 3, 0, tzinfo=UTC)
TZ = ZoneInfo("Asia/Jakarta")
WARGA = Actor("warga", None, None, "warga")
ANSWERS = {f"u{i}": 4 for i in range(1, 10)}


def intake(db: Database, policy: DeadlinePolicy, kode: str, words: str = "Knalpot brong tiap malam") -> Complaint:
    with db.transaction(kode) as s:
        person = get_or_create_person(s, "telegram", "777", None, NOW)
        return create_complaint(
            s, ComplaintDraft(kind="pengaduan", category="keributan", desa="Jelbuk", description=words,
                              channel="telegram", received_at=NOW),
            reporter=person, actor=WARGA, now=NOW, policy=policy, prefix=PREFIX[kode])


def fill_jelbuk(db: Database, policy: DeadlinePolicy) -> Complaint:
    c = intake(db, policy, JELBUK, "Pasar malam berisik")
    with db.transaction(JELBUK) as s:
        people.add_officer(s, 1001, "Bu Jelbuk", "admin", NOW)
        people.set_setting(s, "trantib_group", "-100", NOW)
        skm.record_response(s, ResponseDraft("ktp-kk", "2026-Q4", date(2026, 11, 30), ANSWERS),
                            source="telegram", now=NOW, respondent="kunci-1")
        skm.set_population(s, "2026-Q4", "", 600, "admin", NOW)
        iku.add(s, IkuActivity, {"year": 2026, "name": "Pelatihan UMKM"}, "admin", NOW)
        iku.set_target(s, "IKU-4", 2026, Decimal(90), "admin", NOW)
        assert digest_claims.claim(s, "-100", "2026-W49", "worker", NOW) is not None
    return c


def test_rows_of_one_kecamatan_are_invisible_to_the_other(db: Database, policy: DeadlinePolicy) -> None:
    jelbuk = fill_jelbuk(db, policy)
    today = date(2026, 11, 30)
    with db.reading(ARJASA) as s:
        assert open_complaints(s, today) == []
        assert search_complaints(s, CaseQuery(words=("pasar",)), today) == ([], 0)
        assert by_ticket(s, jelbuk.ticket) is None and by_id(s, jelbuk.id) is None
        assert s.get(Complaint, jelbuk.id) is None
        assert resolution_counts(s, datetime(2026, 1, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC), TZ).received == 0
        assert people.officer_by_telegram(s, 1001) is None and list(people.list_officers(s)) == []
        assert people.find_person(s, "telegram", "777") is None
        assert people.get_setting(s, "trantib_group") is None
        assert skm_stats.unsur_totals(s, date(2026, 10, 1), date(2026, 12, 31)).respondents == 0
        assert not skm.already_answered(s, "kunci-1", "ktp-kk", "2026-Q4")
        assert skm.get_population(s, "2026-Q4") is None
        assert iku.current(s, IkuActivity, 2026) == [] and iku.targets(s, 2026) == {}
        assert digest_claims.get(s, "-100", "2026-W49") is None
        # A subquery of a scoped entity is scoped too.
        assert s.scalar(select(func.count()).select_from(select(Complaint.id).subquery())) == 0
    # The same reads under Jelbuk find them: the test can fail.
    with db.reading(JELBUK) as s:
        assert [c.ticket for c in open_complaints(s, today)] == [jelbuk.ticket]
        assert search_complaints(s, CaseQuery(words=("pasar",)), today)[1] == 1
        assert people.officer_by_telegram(s, 1001) is not None
        assert skm_stats.unsur_totals(s, date(2026, 10, 1), date(2026, 12, 31)).respondents == 1
        assert people.get_setting(s, "trantib_group") == "-100"
        assert resolution_counts(s, datetime(2026, 1, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC), TZ).received == 1


def test_the_same_keys_live_side_by_side(db: Database, policy: DeadlinePolicy) -> None:
    # Officer account, setting key, survey respondent, population, digest chat and period,
    # IKU target: each kecamatan has its own, with the same key.
    fill_jelbuk(db, policy)
    with db.transaction(ARJASA) as s:
        people.add_officer(s, 1001, "Pak Arjasa", "admin", NOW)
        people.set_setting(s, "trantib_group", "-200", NOW)
        skm.record_response(s, ResponseDraft("ktp-kk", "2026-Q4", date(2026, 11, 30), ANSWERS),
                            source="telegram", now=NOW, respondent="kunci-1")
        skm.set_population(s, "2026-Q4", "", 300, "admin", NOW)
        iku.set_target(s, "IKU-4", 2026, Decimal(80), "admin", NOW)
        assert digest_claims.claim(s, "-100", "2026-W49", "worker", NOW) is not None
    for kode, name, group, population, target in ((JELBUK, "Bu Jelbuk", "-100", 600, 90),
                                                  (ARJASA, "Pak Arjasa", "-200", 300, 80)):
        with db.reading(kode) as s:
            officer = people.officer_by_telegram(s, 1001)
            assert officer is not None and officer.name == name
            assert people.get_setting(s, "trantib_group") == group
            assert skm.get_population(s, "2026-Q4") == population
            assert iku.targets(s, 2026)["IKU-4"].value == Decimal(target)
            assert s.scalar(select(func.count(SkmResponse.id))) == 1


def test_an_update_or_delete_of_another_kecamatans_id_changes_nothing(db: Database, policy: DeadlinePolicy) -> None:
    jelbuk = fill_jelbuk(db, policy)
    with db.transaction(ARJASA) as s:
        assert s.execute(update(Complaint).where(Complaint.id == jelbuk.id).values(desa="Arjasa")).rowcount == 0  # type: ignore[attr-defined]
        assert s.execute(update(Officer).values(active=False)).rowcount == 0  # type: ignore[attr-defined]
        assert s.execute(delete(Person)).rowcount == 0  # type: ignore[attr-defined]
        assert people.deactivate_officer(s, 1001) is None
        with pytest.raises(iku.RegisterError):  # Jelbuk's entry 1 is not found from Arjasa
            iku.remove(s, IkuActivity, 1, "admin", NOW)
    with db.reading(JELBUK) as s:
        c = by_id(s, jelbuk.id)
        assert c is not None and c.desa == "Jelbuk" and c.status == "diterima"
        officer = people.officer_by_telegram(s, 1001)
        assert officer is not None and officer.active
        assert s.scalar(select(func.count(Person.id))) == 1
        assert len(iku.current(s, IkuActivity, 2026)) == 1


def test_the_across_mark_never_lets_a_kecamatans_rows_be_changed(db: Database, policy: DeadlinePolicy) -> None:
    # across_kecamatan is for reads and for the shared plumbing's upkeep only: an UPDATE or
    # DELETE of a kecamatan's own rows that carries it is refused, and nothing changes.
    jelbuk = fill_jelbuk(db, policy)
    for statement in (update(Complaint).where(Complaint.id == jelbuk.id).values(desa="Arjasa"), delete(Person)):
        with pytest.raises(TenantError), db.transaction(ARJASA) as s:
            s.execute(across_kecamatan(statement))
    with db.reading(JELBUK) as s:
        c = by_id(s, jelbuk.id)
        assert c is not None and c.desa == "Jelbuk"
        assert s.scalar(select(func.count(Person.id))) == 1
    with db.reading(ARJASA) as s:  # a marked read does see every kecamatan
        assert s.scalar(across_kecamatan(select(func.count(Complaint.id)))) == 1
        assert s.scalar(select(func.count(Complaint.id))) == 0


def test_a_complaint_loaded_in_one_kecamatan_cannot_be_moved_from_the_other(db: Database, policy: DeadlinePolicy) -> None:
    jelbuk = intake(db, policy, JELBUK)
    with pytest.raises(TenantError), db.transaction(ARJASA) as s:
        carried = s.merge(jelbuk)  # a Jelbuk object carried into an Arjasa session
        carried.status = "diverifikasi"
        s.flush()
    with db.reading(JELBUK) as s:
        assert by_ticket(s, jelbuk.ticket).status == "diterima"  # type: ignore[union-attr]


def test_tickets_are_gapless_per_kecamatan(db: Database, policy: DeadlinePolicy) -> None:
    order = [JELBUK, ARJASA, ARJASA, JELBUK, ARJASA, JELBUK, JELBUK]
    tickets = [intake(db, policy, kode).ticket for kode in order]
    assert [t for t, k in zip(tickets, order, strict=True) if k == JELBUK] == [
        "TRB-2026-00001", "TRB-2026-00002", "TRB-2026-00003", "TRB-2026-00004"]
    assert [t for t, k in zip(tickets, order, strict=True) if k == ARJASA] == [
        "ARJ-2026-00001", "ARJ-2026-00002", "ARJ-2026-00003"]
    # A rolled-back intake in Arjasa gives its number back and takes none of Jelbuk's.
    with pytest.raises(RuntimeError), db.transaction(ARJASA) as s:
        create_complaint(s, ComplaintDraft(kind="pengaduan", category="keributan", desa="Arjasa",
                                           description="x", channel="telegram", received_at=NOW),
                         reporter=None, actor=WARGA, now=NOW, policy=policy, prefix="ARJ")
        raise RuntimeError("batal")
    assert intake(db, policy, ARJASA).ticket == "ARJ-2026-00004"
    assert intake(db, policy, JELBUK).ticket == "TRB-2026-00005"


def test_a_row_of_another_kecamatan_is_refused_at_flush(db: Database) -> None:
    with pytest.raises(TenantError), db.transaction(ARJASA) as s:
        s.add(Officer(kecamatan=JELBUK, telegram_id=5, name="Menyusup", role="admin", active=True, created_at=NOW))
    with db.reading(JELBUK) as s:
        assert people.officer_by_telegram(s, 5) is None


def test_a_session_without_a_kecamatan_reads_nothing(db: Database, policy: DeadlinePolicy) -> None:
    # A session opened beside Database, naming no kecamatan, would see every kecamatan: it
    # is refused, not served; the same session naming one sees that one's rows.
    intake(db, policy, JELBUK)
    with Session(db.engine) as session, pytest.raises(TenantError):
        session.scalars(select(Complaint)).all()
    with Session(db.engine, info={"kecamatan": ARJASA}) as session:
        assert session.scalars(select(Complaint)).all() == []
    with Session(db.engine, info={"kecamatan": JELBUK}) as session:
        assert len(session.scalars(select(Complaint)).all()) == 1


def test_a_bad_kode_is_refused(db: Database) -> None:
    with pytest.raises(TenantError), db.transaction("Jelbuk"):
        pass
    # The write lock was given back: the next transaction runs.
    with db.transaction() as s:
        assert s.info["kecamatan"] == JELBUK
