# Issue 12 and 10 in the chat survey: a respondent under the office's age limit goes on only
# with a parent's or guardian's consent (UU 27/2022 Pasal 25), and stopping there records
# nothing at all; the "Lainnya" occupation is asked as free text and, since it can name a
# person, leaves with the survey's retention and with a withdrawn consent. On SQLite and
# PostgreSQL, through router.handle as the channels run it (tests/test_survey_dialog.py).
from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import column, select, table

from bot.config.office import DEFAULT_OFFICE_FILE, OfficeFileError, load_office
from bot.jobs.retention_job import describe
from bot.texts import render, to_plain
from kpi.skm_questionnaire import UNSUR
from storage import migrate, people, skm
from storage.db import Database
from storage.models import Base, SkmResponse
from storage.retention import RetentionPolicy, purge
from tests.test_survey_dialog import WARGA, Chats, answer_all, labels

GUARDIAN_BUTTONS = ["Orang tua/wali menyetujui", "Berhenti", "⬅️ Kembali"]


@pytest.fixture
def chats(db: Database, tmp_path: Path) -> Chats:
    return Chats(db, tmp_path)


def to_age(c: Chats, user: int = WARGA) -> None:
    c.say(user, "/survei")
    c.press(user, "Setuju")
    c.press(user, "Surat keterangan")


def rest_of_survey(c: Chats, user: int = WARGA) -> None:
    c.press(user, "Perempuan")
    c.press(user, "SMA")
    c.press(user, "Wirausaha")
    answer_all(c, user)
    c.press(user, "Lewati")


def everything_stored(c: Chats) -> str:
    """Every row of every table, as text: where a respondent key could hide."""
    with c.db.reading() as s:
        return "\n".join(repr(tuple(row)) for table in Base.metadata.sorted_tables
                         for row in s.execute(select(table)).all())


# The guardian's consent -----------------------------------------------------------------------
def test_a_16_year_old_is_asked_for_a_guardian_and_stopping_stores_nothing(chats: Chats) -> None:
    c = chats
    to_age(c)
    out = c.say(WARGA, "16")
    text = out[-1].text
    assert "Untuk responden berusia di bawah 17 tahun, survei ini memerlukan persetujuan orang tua atau wali" in text
    assert "UU Nomor 27 Tahun 2022" in text and "Mohon tunjukkan pesan ini kepada orang tua/wali Anda" in text
    assert "Bila tidak, pilih Berhenti: tidak ada jawaban yang dicatat" in text
    assert labels(out) == GUARDIAN_BUTTONS
    out = c.press(WARGA, "Berhenti")
    assert out[-1].text.startswith("Baik, survei dihentikan. Tidak ada jawaban yang dicatat.")
    assert labels(out) == []
    assert c.state(WARGA) == {} and c.responses() == []
    key = skm.respondent_key(c.rt.secret, "telegram", str(WARGA))
    stored = everything_stored(c)
    assert key not in stored and "consent_at" not in stored


def test_typed_answers_to_the_guardian_question(chats: Chats) -> None:
    c = chats
    to_age(c)
    c.say(WARGA, "15 tahun")
    before = c.state(WARGA)
    out = c.say(WARGA, "mungkin nanti")  # not an answer: the choices again, nothing moves
    assert "Mohon pilih salah satu: Orang tua/wali menyetujui, Berhenti" in out[-1].text
    assert c.state(WARGA) == before
    out = c.say(WARGA, "tidak")
    assert "survei dihentikan" in out[-1].text and c.state(WARGA) == {}
    to_age(c)
    c.say(WARGA, "16")
    out = c.say(WARGA, "orang tua/wali menyetujui")  # the label typed
    assert labels(out) == ["Laki-laki", "Perempuan", "⬅️ Kembali"]
    c.press(WARGA, "⬅️ Kembali")  # back to the age, not to the guardian question
    assert c.state(WARGA)["step"] == "usia"
    c.say(WARGA, "16")
    c.say(WARGA, "ya")
    assert c.state(WARGA)["step"] == "jk"


def test_guardian_agrees_and_the_answer_says_so(chats: Chats) -> None:
    c = chats
    to_age(c)
    c.say(WARGA, "16")
    out = c.press(WARGA, "Orang tua/wali menyetujui")
    assert labels(out) == ["Laki-laki", "Perempuan", "⬅️ Kembali"]
    rest_of_survey(c)
    [row] = c.responses()
    assert (row.usia, row.persetujuan_wali, row.jenis_kelamin) == (16, True, "P")
    assert row.respondent_key == skm.respondent_key(c.rt.secret, "telegram", str(WARGA))


def test_17_is_not_asked_and_a_corrected_age_drops_the_question(chats: Chats) -> None:
    c = chats
    to_age(c)
    out = c.say(WARGA, "17")
    assert labels(out) == ["Laki-laki", "Perempuan", "⬅️ Kembali"]
    assert "orang tua" not in out[-1].text
    c.press(WARGA, "⬅️ Kembali")
    out = c.say(WARGA, "16")  # a typing mistake the other way: now the guardian is asked
    assert labels(out) == GUARDIAN_BUTTONS
    out = c.press(WARGA, "⬅️ Kembali")
    assert "Berapa usia Anda" in out[-1].text
    c.say(WARGA, "61")
    assert c.state(WARGA)["step"] == "jk"
    rest_of_survey(c)
    [row] = c.responses()
    assert (row.usia, row.persetujuan_wali) == (61, False)


def test_the_office_setting_moves_the_limit(chats: Chats) -> None:
    c = chats
    c.rt.office = dataclasses.replace(c.rt.office, skm_guardian_age=18)
    to_age(c)
    out = c.say(WARGA, "17")
    assert "di bawah 18 tahun" in out[-1].text and labels(out) == GUARDIAN_BUTTONS
    c.say(WARGA, "/batal")
    to_age(c)
    assert labels(c.say(WARGA, "18")) == ["Laki-laki", "Perempuan", "⬅️ Kembali"]


def test_below_the_survey_minimum_is_still_refused(chats: Chats) -> None:
    c = chats
    to_age(c)
    before = c.state(WARGA)
    out = c.say(WARGA, "14")
    assert "angka dari 15 sampai 100 tahun" in out[-1].text and c.state(WARGA) == before


def test_a_paper_form_keeps_its_order_and_has_no_guardian_question(chats: Chats) -> None:
    c = chats
    from tests.test_survey_dialog import PETUGAS

    c.say(PETUGAS, "/skm_kertas")
    c.press(PETUGAS, "Hari ini")
    out = c.press(PETUGAS, "Surat keterangan")
    assert labels(out) == ["Laki-laki", "Perempuan", "Tidak diisi", "⬅️ Kembali"]  # the form's order
    c.press(PETUGAS, "Laki-laki")
    out = c.say(PETUGAS, "16")
    assert labels(out)[:2] == ["SD", "SMP"]  # consent on paper is the counter's business
    c.press(PETUGAS, "SMP")
    c.press(PETUGAS, "Lainnya")
    c.press(PETUGAS, "Tidak diisi")  # the occupation line left blank
    for u in UNSUR:
        c.press(PETUGAS, u.jawaban[3])
    out = c.press(PETUGAS, "Lewati")
    assert "Formulir tersimpan" in out[-1].text
    [row] = c.responses()
    assert (row.usia, row.persetujuan_wali, row.pekerjaan, row.pekerjaan_lainnya) == (16, False, "Lainnya", None)


def test_a_survey_begun_before_the_age_came_first_still_asks_it(chats: Chats) -> None:
    # A dialog state saved by the previous release (jk, usia, ... with no guardian decision),
    # finished after the upgrade: the age is asked again rather than a child's answer stored.
    c = chats
    answers = {u.code: 4 for u in UNSUR}
    old = {"flow": "skm", "mode": "warga", "step": "saran", "nonce": "ab12", "offered": {"lewati": "lewati"},
           "data": {"layanan": "ktp-kk", "consent_at": c.now.isoformat(), "jk": "P", "usia": 16,
                    "pendidikan": "SMA", "pekerjaan": "Swasta", **answers}}
    with c.db.transaction() as s:
        people.save_state(s, "telegram", str(WARGA), str(WARGA), old, c.now)
    out = c.say(WARGA, "lewati")
    assert "Berapa usia Anda" in out[-1].text and c.responses() == []
    out = c.say(WARGA, "16")
    assert labels(out) == GUARDIAN_BUTTONS


def test_the_office_file_setting(tmp_path: Path) -> None:
    assert load_office().skm_guardian_age == 17  # the shipped file says so
    text = DEFAULT_OFFICE_FILE.read_text(encoding="utf-8")
    assert "usia_minimum_tanpa_wali = 17" in text
    path = tmp_path / "kantor.toml"
    path.write_text(text.replace("usia_minimum_tanpa_wali = 17", "usia_minimum_tanpa_wali = 18"), encoding="utf-8")
    assert load_office(path).skm_guardian_age == 18
    path.write_text(text.replace("usia_minimum_tanpa_wali = 17\n", ""), encoding="utf-8")
    assert load_office(path).skm_guardian_age == 17  # an older office file: the default
    path.write_text(text.replace("usia_minimum_tanpa_wali = 17", "usia_minimum_tanpa_wali = -1"), encoding="utf-8")
    with pytest.raises(OfficeFileError, match="usia_minimum_tanpa_wali harus 0 sampai 100"):
        load_office(path)


# "Lainnya": the occupation in the resident's words ------------------------------------------
def test_lainnya_asks_the_occupation_as_free_text(chats: Chats) -> None:
    c = chats
    to_age(c)
    c.say(WARGA, "40")
    c.press(WARGA, "Laki-laki")
    c.press(WARGA, "SD")
    out = c.press(WARGA, "Lainnya")
    assert out[-1].text.startswith("Pekerjaan Anda? Ketik singkat, misalnya Petani atau Pelajar")
    assert labels(out) == ["⬅️ Kembali"]
    before = c.state(WARGA)
    for bad in ("🌾🌾", "   ", "123", "-"):
        out = c.say(WARGA, bad)
        assert "Mohon tulis pekerjaan Anda dengan huruf, misalnya Petani" in out[-1].text, bad
        assert c.state(WARGA) == before
    out = c.say(WARGA, "P" * 101)
    assert "Terlalu panjang (101 karakter). Mohon ringkas menjadi paling banyak 100 karakter" in out[-1].text
    assert c.state(WARGA) == before
    out = c.say(WARGA, "  Petani   kopi ")
    assert "Pertanyaan 1 dari 9" in out[-1].text
    out = c.press(WARGA, "⬅️ Kembali")  # from question 1 back to the free text
    assert out[-1].text.startswith("Pekerjaan Anda?")
    c.say(WARGA, "Petani kopi 🌾")
    answer_all(c, WARGA)
    c.press(WARGA, "Lewati")
    [row] = c.responses()
    assert (row.pekerjaan, row.pekerjaan_lainnya) == ("Lainnya", "Petani kopi 🌾")


def test_choosing_another_occupation_drops_the_free_text(chats: Chats) -> None:
    c = chats
    to_age(c)
    c.say(WARGA, "40")
    c.press(WARGA, "Laki-laki")
    c.press(WARGA, "SD")
    c.press(WARGA, "Lainnya")
    c.say(WARGA, "Petani")
    c.press(WARGA, "⬅️ Kembali")
    out = c.press(WARGA, "⬅️ Kembali")  # back to the occupation buttons
    assert "Wirausaha" in labels(out)
    out = c.press(WARGA, "Wirausaha")
    assert "Pertanyaan 1 dari 9" in out[-1].text  # no free text for a listed occupation
    answer_all(c, WARGA)
    c.press(WARGA, "Lewati")
    [row] = c.responses()
    assert (row.pekerjaan, row.pekerjaan_lainnya) == ("Wirausaha", None)


# Retention and withdrawal -------------------------------------------------------------------
T0 = datetime(2024, 1, 8, 3, 0, tzinfo=UTC)


def record(db: Database, key: str | None, text: str | None) -> None:
    draft = skm.ResponseDraft("ktp-kk", "2024-Q1", date(2024, 1, 8), {u.code: 4 for u in UNSUR},
                              pekerjaan="Lainnya", pekerjaan_lainnya=text)
    with db.transaction() as s:
        source = "telegram" if key else "kertas"
        skm.record_response(s, draft, source=source, now=T0, respondent=key, consent_at=T0 if key else None)


def test_retention_clears_the_occupation_text_with_the_link(db: Database, tmp_path: Path) -> None:
    record(db, "k" * 64, "Kepala Dusun Krajan")
    record(db, None, "Guru ngaji")  # a paper form: no link, but the text can name a person too
    policy = RetentionPolicy(survey_link_days=365)
    with db.transaction() as s:
        report = purge(s, policy, T0 + timedelta(days=300), tmp_path)
    assert report.survey_occupations_erased == 0
    with db.transaction() as s:
        report = purge(s, policy, T0 + timedelta(days=366), tmp_path)
        s.rollback()  # what `sigap retensi --dry-run` does
    assert report.survey_occupations_erased == 2
    assert "pekerjaan lain (survei): 2" in describe(report, dry_run=True)
    with db.reading() as s:
        assert sorted(filter(None, s.scalars(select(SkmResponse.pekerjaan_lainnya)))) == ["Guru ngaji", "Kepala Dusun Krajan"]
    with db.transaction() as s:
        report = purge(s, policy, T0 + timedelta(days=366), tmp_path)
    assert (report.survey_occupations_erased, report.survey_links_dropped) == (2, 1)
    with db.reading() as s:
        rows = s.scalars(select(SkmResponse)).all()
        # The answers stay for the statistics, "Lainnya" with them; the words are gone.
        assert [(r.pekerjaan, r.pekerjaan_lainnya, r.u1) for r in rows] == [("Lainnya", None, 4)] * 2
    with db.transaction() as s:
        assert purge(s, policy, T0 + timedelta(days=400), tmp_path).survey_occupations_erased == 0


def test_withdrawing_consent_takes_the_occupation_text_with_the_answer(db: Database) -> None:
    record(db, "k" * 64, "Kepala Dusun Krajan")
    record(db, "j" * 64, "Guru ngaji")
    with db.transaction() as s:
        assert skm.withdraw_consent(s, "k" * 64) == 1
    with db.reading() as s:
        assert list(s.scalars(select(SkmResponse.pekerjaan_lainnya))) == ["Guru ngaji"]


def test_the_0010_migration_keeps_old_answers_as_given_by_the_respondent(db: Database) -> None:
    migrate.downgrade(db, "0009")
    # The table as 0009 left it: no persetujuan_wali (the model's default must not be sent).
    before = table("skm_responses", *(column(n) for n in (
        "source", "service", "period", "tanggal", "answered_at", "created_at")))
    with db.engine.begin() as conn:
        conn.execute(before.insert().values(source="telegram", service="ktp-kk", period="2024-Q1",
                                            tanggal=date(2024, 1, 8), answered_at=T0, created_at=T0))
    migrate.upgrade(db)
    with db.reading() as s:
        assert s.scalars(select(SkmResponse.persetujuan_wali)).all() == [False]
    migrate.downgrade(db, "0009")
    migrate.upgrade(db)


def test_the_rendered_guardian_text_is_short() -> None:
    # Residents read on cheap phones: the question fits one screen.
    text = to_plain(render("skm_wali", batas=17))
    assert len(text) < 400, len(text)
