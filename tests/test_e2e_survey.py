# The SKM survey end to end: the real PTB application and Service against the Bot API
# emulator, as a resident and an officer see it on Telegram.
from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from kpi.periods import period_containing
from kpi.skm_questionnaire import UNSUR
from storage import skm
from storage.models import Person, SkmResponse
from tests.e2e import GROUP, ORANG_LAIN, PETUGAS, WARGA, WARGA2, World
from tests.test_e2e_complaint import file_complaint

# On SQLite and on PostgreSQL: SIGAP opens the register of tests/conftest.py's `register`.
pytestmark = pytest.mark.usefixtures("register")

TZ = ZoneInfo("Asia/Jakarta")


def period_label() -> str:
    return period_containing("quarter", datetime.now(UTC), TZ).label()


def responses(w: World) -> list[SkmResponse]:
    with w.service.db.transaction() as s:
        return list(s.scalars(select(SkmResponse).order_by(SkmResponse.id)).all())


def buttons(w: World, chat: int) -> list[str]:
    return [label for label, _ in w.last(chat).buttons]


async def profile(w: World, user: int, paper: bool = False) -> None:
    # A resident is asked the age first (a child's guardian must agree before anything
    # else); a paper form is typed in the form's own order.
    if paper:
        await w.press(user, "Perempuan")
        await w.say(user, "35")
    else:
        await w.say(user, "35")
        await w.press(user, "Perempuan")
    await w.press(user, "SMA")
    await w.press(user, "Swasta")


async def questions(w: World, user: int, score: int = 4, paper: bool = False) -> None:
    for n, u in enumerate(UNSUR, 1):
        shown = w.last(user)
        # One message per question, in the standard form's order, with its exact wording.
        assert f"Pertanyaan {n} dari 9" in (shown.text or "") and u.pertanyaan in (shown.text or "")
        blank = ["Tidak diisi"] if paper else []  # a paper form may leave a question blank
        assert [label for label, _ in shown.buttons] == [*u.jawaban, *blank, "⬅️ Kembali"]
        await w.press(user, u.jawaban[score - 1])


async def test_whole_survey_from_the_deep_link_to_the_thanks(world: World) -> None:
    w = world
    await w.say(WARGA, "/start skm_ktp-kk")
    consent = w.last(WARGA).text or ""
    assert "Rekomendasi KTP/KK" in consent and "PermenPANRB Nomor 14 Tahun 2017" in consent
    assert "365 hari" in consent and "tidak menanyakan nama, NIK, atau nomor telepon" in consent
    assert buttons(w, WARGA) == ["Setuju", "Tidak setuju"]
    before = datetime.now(UTC)
    await w.press(WARGA, "Setuju")
    # The service came with the link: the next question is already the profile, age first.
    assert "Berapa usia Anda" in (w.last(WARGA).text or "") and buttons(w, WARGA) == ["⬅️ Kembali"]
    await profile(w, WARGA)
    await questions(w, WARGA)
    assert "kritik dan saran" in (w.last(WARGA).text or "")
    assert buttons(w, WARGA) == ["Lewati", "⬅️ Kembali"]
    await w.say(WARGA, "Petugasnya ramah, terima kasih.")
    thanks = w.last(WARGA).text or ""
    assert "Terima kasih" in thanks and "Rekomendasi KTP/KK" in thanks and period_label() in thanks
    assert "setiap triwulan" in thanks and "rencana tindak lanjut" in thanks
    [row] = responses(w)
    assert [getattr(row, u.code) for u in UNSUR] == [4] * 9
    assert (row.service, row.source, row.usia, row.jenis_kelamin) == ("ktp-kk", "telegram", 35, "P")
    assert row.saran == "Petugasnya ramah, terima kasih."
    assert row.consent_at is not None and row.consent_at.replace(tzinfo=UTC) >= before.replace(microsecond=0)
    assert row.period == period_containing("quarter", datetime.now(UTC), TZ).code
    # No identity: no such columns, the chat id only as an HMAC, and no Person row made.
    columns = set(SkmResponse.__table__.columns.keys())
    assert not columns & {"name", "nama", "nik", "phone", "telepon", "user_id", "chat_id"}
    assert row.respondent_key == skm.respondent_key(w.service.rt.secret, "telegram", str(WARGA))  # type: ignore[union-attr]
    assert str(WARGA) not in (row.respondent_key or "")
    with w.service.db.transaction() as s:
        assert s.scalar(select(func.count(Person.id))) == 0

    # A second attempt in the same period is refused politely, offering another service.
    await w.say(WARGA, "/start skm_ktp-kk")
    again = w.last(WARGA).text or ""
    assert f"sudah mengisi survei untuk layanan Rekomendasi KTP/KK pada {period_label()}" in again
    assert "Surat keterangan" in buttons(w, WARGA) and "Rekomendasi KTP/KK" not in buttons(w, WARGA)
    await w.press(WARGA, "Tidak, terima kasih")
    assert len(responses(w)) == 1


async def test_back_refusal_and_bad_input(world: World) -> None:
    w = world
    # Refusing consent records nothing.
    await w.say(WARGA2, "/survei")
    await w.press(WARGA2, "Tidak setuju")
    assert "Tidak ada jawaban yang dicatat" in (w.last(WARGA2).text or "")

    await w.say(WARGA, "/start")
    await w.press(WARGA, "⭐ Survei kepuasan")
    await w.press(WARGA, "Setuju")
    # Typed text where a button is expected: a clear reply repeating the choices.
    await w.say(WARGA, "saya urus KTP")
    reply = w.last(WARGA).text or ""
    assert "Mohon pilih salah satu: Rekomendasi KTP/KK, Surat keterangan" in reply
    # ... and nothing moved: the buttons drawn before still work.
    first = w.in_chat(WARGA)[-2]
    data = next(d for label, d in first.buttons if label == "Surat keterangan")
    w.emu.press(WARGA, first.message_id, data or "")
    await w.idle()
    assert "Berapa usia Anda" in (w.last(WARGA).text or "")
    await profile(w, WARGA)
    w.emu.send_sticker(WARGA)
    await w.idle()
    assert "stiker tidak bisa diproses" in (w.last(WARGA).text or "")
    assert "Pertanyaan 1 dari 9" in (w.in_chat(WARGA)[-2].text or "")
    await w.press(WARGA, UNSUR[0].jawaban[0])
    await w.say(WARGA, "3")  # a typed digit is the answer
    assert "Pertanyaan 3 dari 9" in (w.last(WARGA).text or "")
    # Going back one step.
    await w.press(WARGA, "⬅️ Kembali")
    assert "Pertanyaan 2 dari 9" in (w.last(WARGA).text or "")
    await w.press(WARGA, UNSUR[1].jawaban[1])
    for u in UNSUR[2:]:
        await w.press(WARGA, u.jawaban[3])
    await w.press(WARGA, "Lewati")
    [row] = responses(w)
    assert (row.service, row.u1, row.u2, row.u3, row.saran) == ("surat-keterangan", 1, 2, 4, None)


async def test_offer_after_the_complaint_is_resolved(world: World) -> None:
    w = world
    await file_complaint(w, WARGA, rahasia=False, photo=False)
    await w.press(PETUGAS, "Verifikasi", GROUP)
    await w.press(PETUGAS, "Tindak lanjuti", GROUP)
    await w.press(PETUGAS, "Selesai", GROUP)
    await w.say(PETUGAS, "Warung ditertibkan.", GROUP)
    await w.say(PETUGAS, "-", GROUP)
    await w.press(PETUGAS, "Kirim", GROUP)
    assert "survei" not in (w.last(WARGA).text or "")  # not before the reporter answered
    await w.press(WARGA, "Ya, sudah")
    offer = w.last(WARGA)
    # One message: the answer to their press, with the invitation and its button under it.
    assert "ditutup" in (offer.text or "") and "survei kepuasan" in (offer.text or "")
    assert buttons(w, WARGA) == ["⭐ Isi survei"]
    await w.press(WARGA, "⭐ Isi survei")
    assert "Layanan: Pengaduan" in (w.last(WARGA).text or "")
    await w.press(WARGA, "Setuju")
    await profile(w, WARGA)
    await questions(w, WARGA, score=3)
    await w.press(WARGA, "Lewati")
    [row] = responses(w)
    assert row.service == "pengaduan" and row.u9 == 3


async def test_paper_form_and_ikm_for_officers(world: World) -> None:
    w = world
    await w.say(ORANG_LAIN, "/skm_kertas")
    assert "hanya untuk petugas" in (w.last(ORANG_LAIN).text or "")
    await w.say(PETUGAS, "/skm_kertas")
    assert buttons(w, PETUGAS) == ["Hari ini"]  # no consent step: it is on the paper
    await w.press(PETUGAS, "Hari ini")
    await w.press(PETUGAS, "Surat keterangan")
    await profile(w, PETUGAS, paper=True)
    await questions(w, PETUGAS, paper=True)
    await w.say(PETUGAS, "Parkir sempit")
    assert "Formulir tersimpan" in (w.last(PETUGAS).text or "")
    assert buttons(w, PETUGAS) == ["Isi formulir lain", "Selesai"]
    await w.press(PETUGAS, "Selesai")
    [row] = responses(w)
    assert (row.source, row.respondent_key, row.recorded_by, row.consent_at) == ("kertas", None, "Budi", None)
    assert row.tanggal == datetime.now(UTC).astimezone(TZ).date()

    # /ikm is computed from the stored responses: all answers 4 -> 100,00 and A.
    await w.say(PETUGAS, "/ikm")
    shown = [o for o in w.in_chat(PETUGAS)][-2:]
    text = shown[0].text or ""
    assert period_label() in text and "Responden: 1 dari sampel minimal" in text
    assert "IKM: 100,00" in text and "Mutu pelayanan: A" in text and "Kinerja: Sangat baik" in text
    assert "Surat keterangan: 1 responden, IKM 100,00 (A)" in text
    # The NRR chart arrives as a photo, a real PNG.
    assert shown[1].photo is not None
    assert w.emu.file_bytes(shown[1].photo)[:8] == b"\x89PNG\r\n\x1a\n"
    await w.say(WARGA, "/ikm")
    assert "hanya untuk petugas" in (w.last(WARGA).text or "")


async def test_a_minor_needs_a_guardian_and_lainnya_is_written_out(world: World) -> None:
    w = world
    await w.say(WARGA, "/start skm_ktp-kk")
    await w.press(WARGA, "Setuju")
    await w.say(WARGA, "16 tahun")
    asked = w.last(WARGA).text or ""
    assert "di bawah 17 tahun, survei ini memerlukan persetujuan orang tua atau wali" in asked
    assert buttons(w, WARGA) == ["Orang tua/wali menyetujui", "Berhenti", "⬅️ Kembali"]
    await w.press(WARGA, "Berhenti")
    assert "Tidak ada jawaban yang dicatat" in (w.last(WARGA).text or "")
    assert responses(w) == []

    await w.say(WARGA, "/start skm_ktp-kk")
    await w.press(WARGA, "Setuju")
    await w.say(WARGA, "16 tahun")
    await w.press(WARGA, "Orang tua/wali menyetujui")
    await w.press(WARGA, "Laki-laki")
    await w.press(WARGA, "SMP")
    await w.press(WARGA, "Lainnya")
    assert (w.last(WARGA).text or "").startswith("Pekerjaan Anda?")
    await w.say(WARGA, "😀")
    assert "dengan huruf" in (w.last(WARGA).text or "")
    await w.say(WARGA, "Pelajar")
    await questions(w, WARGA)
    await w.press(WARGA, "Lewati")
    [row] = responses(w)
    assert (row.usia, row.persetujuan_wali, row.pekerjaan, row.pekerjaan_lainnya) == (16, True, "Lainnya", "Pelajar")
