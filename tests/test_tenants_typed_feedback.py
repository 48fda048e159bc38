# A typed "ya"/"sudah"/"belum" answering "sudah selesai?" in a bot serving several kecamatan
# (issue 14 leftovers): the question came from an officer's move in the complaint's
# kecamatan, so a resident who switched since with /kecamatan still answers it by typing,
# recorded in the complaint's kecamatan (router._answers_solved,
# resident.awaiting_feedback_anywhere); only the resident's own complaints are ever looked
# at. Through router.handle, on SQLite and PostgreSQL.
from __future__ import annotations

from bot.dialogs.types import Event
from storage.lifecycle import OPEN_STATUSES
from storage.models import Complaint
from tests.test_tenants_bot import (
    ARJASA,
    JELBUK,
    WARGA_A,
    WARGA_J,
    Chats,
    chats,
    text,
)
from tests.test_tenants_feedback import solved

__all__ = ["chats"]  # the fixture, imported for the tests below


def row(c: Chats, kode: str, cid: int) -> Complaint:
    with c.db.reading(kode) as s:
        found = s.get(Complaint, cid)
        assert found is not None
        s.expunge(found)
        return found


def test_typed_answers_reach_the_complaint_of_the_kecamatan_left_behind(chats: Chats) -> None:
    c = chats
    c.say(WARGA_A, "/start kec-350922")
    first, second = solved(c, WARGA_A, ARJASA), solved(c, WARGA_A, ARJASA, minutes=4)
    c.say(WARGA_A, "/kecamatan")
    assert "Kecamatan Anda: Kecamatan Jelbuk" in text(c.say(WARGA_A, "jelbuk"))
    # Someone else in Jelbuk typing "sudah": nothing of WARGA_A's is touched, the menu follows.
    c.say(WARGA_J, "/start kec-350925")
    out = text(c.say(WARGA_J, "sudah"))
    assert "ARJ-" not in out and "Selamat datang di SIGAP Kecamatan Jelbuk" in out
    assert row(c, ARJASA, first.id).feedback is None and row(c, ARJASA, second.id).feedback is None

    out = text(c.say(WARGA_A, "sudah"))  # the one resolved last first
    assert f"Laporan {second.ticket} ditutup" in out, out
    assert row(c, ARJASA, second.id).feedback == "ya" and row(c, ARJASA, first.id).feedback is None
    out = text(c.say(WARGA_A, "belum"))
    assert f"Laporan {first.ticket} dibuka kembali" in out, out
    assert row(c, ARJASA, first.id).status in OPEN_STATUSES
    assert c.remembered(WARGA_A) == JELBUK  # the pick stays
    # Nothing left waiting anywhere: "ya" is just a word again, answered with Jelbuk's menu.
    out = text(c.say(WARGA_A, "ya"))
    assert "Selamat datang di SIGAP Kecamatan Jelbuk" in out and "ARJ-" not in out


def test_the_question_asked_last_is_answered_whichever_kecamatan_asked_it(chats: Chats) -> None:
    c = chats
    c.say(WARGA_A, "/start kec-350925")
    jelbuk = solved(c, WARGA_A, JELBUK, minutes=3)
    c.say(WARGA_A, "/start kec-350922")
    arjasa = solved(c, WARGA_A, ARJASA, minutes=5)  # asked after Jelbuk's
    c.say(WARGA_A, "/start kec-350925")  # back in Jelbuk
    assert f"Laporan {arjasa.ticket} ditutup" in text(c.say(WARGA_A, "ya"))
    assert f"Laporan {jelbuk.ticket} ditutup" in text(c.say(WARGA_A, "ya"))
    assert row(c, JELBUK, jelbuk.id).feedback == "ya" and row(c, ARJASA, arjasa.id).feedback == "ya"


def test_a_resident_known_only_elsewhere_answers_without_a_person_made_here(chats: Chats) -> None:
    # The visit reads Arjasa only; Jelbuk gets no Person from the typed answer itself.
    from storage import people

    c = chats
    c.say(WARGA_A, "/start kec-350922")
    case = solved(c, WARGA_A, ARJASA)
    c.send(WARGA_A, Event(kind="command", command="start", args="kec-350925", text="/start kec-350925"))
    assert f"Laporan {case.ticket} ditutup" in text(c.say(WARGA_A, "sudah"))
    with c.db.reading(JELBUK) as s:
        assert people.find_person(s, "telegram", str(WARGA_A)) is None
