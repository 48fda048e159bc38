# The office's working-day calendar (bot/config/workcalendar.py) over the weeks that matter: Lebaran
# and Christmas 2026, with cuti bersama counted (the default: civil servants do not work) and
# not counted. Every expected date is worked by hand in the comment above it.
from __future__ import annotations

import dataclasses
from datetime import date
from pathlib import Path

import pytest

from bot.config.office import Office, OfficeFileError, load_office
from bot.config.workcalendar import (
    JOINT_LEAVE,
    NATIONAL,
    OfficeDaysOff,
    deadline_policy,
    office_days_off,
)
from kpi.workdays import add_working_days, working_days_between

WITH_CUTI = OfficeDaysOff((NATIONAL, JOINT_LEAVE))
NATIONAL_ONLY = OfficeDaysOff((NATIONAL,))

# SKB 3 Menteri 2026 on cuti bersama: Imlek, Nyepi, Idul Fitri (3 days), Kenaikan Isa Almasih,
# Idul Adha, Natal.
CUTI_BERSAMA_2026 = [
    date(2026, 2, 16), date(2026, 3, 18), date(2026, 3, 20), date(2026, 3, 23),
    date(2026, 3, 24), date(2026, 5, 15), date(2026, 5, 28), date(2026, 12, 24),
]


def test_the_holidays_package_matches_the_skb_2026() -> None:
    # A guard on the pinned `holidays` version (pyproject.toml): 17 national holidays and the
    # 8 cuti bersama days of the SKB. A package update that changes them fails here.
    national = OfficeDaysOff((NATIONAL,)).in_year(2026)
    joint = OfficeDaysOff((JOINT_LEAVE,)).in_year(2026)
    assert len(national) == 17
    assert joint == CUTI_BERSAMA_2026
    assert date(2026, 3, 21) in national and date(2026, 3, 22) in national  # Idul Fitri
    assert date(2026, 12, 25) in national
    assert len(WITH_CUTI.in_year(2026)) == 25


def test_the_default_office_counts_cuti_bersama() -> None:
    office = load_office()
    assert office.holiday_categories == (NATIONAL, JOINT_LEAVE)
    days_off = office_days_off(office)
    assert date(2026, 3, 20) in days_off
    assert "cuti bersama" in (days_off.name(date(2026, 3, 20)) or "")
    assert "libur nasional" in (days_off.name(date(2026, 3, 19)) or "")


# Lebaran 2026. Days off Wed 18 (cuti Nyepi), Thu 19 (Nyepi), Fri 20 (cuti), Sat 21 + Sun 22
# (Idul Fitri), Mon 23 + Tue 24 (cuti). Received Tue 17 March:
# - with cuti bersama: Wed 25 (1), Thu 26 (2), Fri 27 (3) -> verify by 27 March;
#   Mon 30 (4), Tue 31 (5) -> follow-up by 31 March.
# - national holidays only: Wed 18 (1), Fri 20 (2), Mon 23 (3) -> 23 March; Tue 24 (4),
#   Wed 25 (5) -> 25 March.
@pytest.mark.parametrize(
    ("days_off", "verify", "followup"),
    [(WITH_CUTI, date(2026, 3, 27), date(2026, 3, 31)),
     (NATIONAL_ONLY, date(2026, 3, 23), date(2026, 3, 25))],
    ids=["dengan-cuti-bersama", "tanpa-cuti-bersama"],
)
def test_lebaran_2026(days_off: OfficeDaysOff, verify: date, followup: date) -> None:
    received = date(2026, 3, 17)
    assert add_working_days(received, 3, days_off) == verify
    assert add_working_days(received, 5, days_off) == followup
    assert working_days_between(received, followup, days_off) == 5


def test_working_days_in_march_2026() -> None:
    # 22 weekdays in March 2026 (Mon 2 .. Tue 31); off on weekdays: 18, 19, 20, 23, 24 with
    # cuti bersama (17 left), only Thu 19 without (21 left).
    assert working_days_between(date(2026, 2, 28), date(2026, 3, 31), WITH_CUTI) == 17
    assert working_days_between(date(2026, 2, 28), date(2026, 3, 31), NATIONAL_ONLY) == 21


# Christmas 2026: Thu 24 (cuti), Fri 25 (Natal). Received Tue 22 December:
# - with cuti bersama: Wed 23 (1), Mon 28 (2), Tue 29 (3) -> 29 Dec; Wed 30 (4), Thu 31 (5).
# - national only: Wed 23 (1), Thu 24 (2), Mon 28 (3) -> 28 Dec; Tue 29 (4), Wed 30 (5).
@pytest.mark.parametrize(
    ("days_off", "verify", "followup"),
    [(WITH_CUTI, date(2026, 12, 29), date(2026, 12, 31)),
     (NATIONAL_ONLY, date(2026, 12, 28), date(2026, 12, 30))],
    ids=["dengan-cuti-bersama", "tanpa-cuti-bersama"],
)
def test_christmas_2026(days_off: OfficeDaysOff, verify: date, followup: date) -> None:
    received = date(2026, 12, 22)
    assert add_working_days(received, 3, days_off) == verify
    assert add_working_days(received, 5, days_off) == followup


def test_single_days_from_the_office_file() -> None:
    # The office works the Christmas cuti bersama (bukan_libur) and closes on Wed 23 December
    # for a local event (libur_tambahan). Received Tue 22: Thu 24 (1), Mon 28 (2), Tue 29 (3).
    days_off = OfficeDaysOff((NATIONAL, JOINT_LEAVE), extra=[date(2026, 12, 23)],
                             cancelled=[date(2026, 12, 24)])
    assert date(2026, 12, 24) not in days_off
    assert date(2026, 12, 23) in days_off
    assert date(2026, 12, 25) in days_off
    assert add_working_days(date(2026, 12, 22), 3, days_off) == date(2026, 12, 29)


def _office_file(tmp_path: Path, **lines: str) -> Path:
    """The shipped office file with some [hari_kerja] lines replaced."""
    text = (Path(__file__).parent.parent / "bot" / "config" / "kantor" / "jelbuk.toml").read_text(encoding="utf-8")
    for key, value in lines.items():
        start = text.index(f"\n{key} = ") + 1
        end = text.index("\n", start)
        text = text[:start] + f"{key} = {value}" + text[end:]
    path = tmp_path / "kantor.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_office_file_chooses_the_categories(tmp_path: Path) -> None:
    office = load_office(_office_file(tmp_path, kategori_libur='["public"]',
                                      libur_tambahan='["2026-12-23"]', bukan_libur="[2026-12-24]"))
    assert office.holiday_categories == (NATIONAL,)
    assert office.extra_holidays == (date(2026, 12, 23),)
    assert office.cancelled_holidays == (date(2026, 12, 24),)
    policy = deadline_policy(office)
    assert date(2026, 3, 20) not in policy.holidays  # cuti bersama not counted
    assert date(2026, 3, 19) in policy.holidays
    assert date(2026, 12, 23) in policy.holidays
    with pytest.raises(OfficeFileError, match="kategori_libur"):
        load_office(_office_file(tmp_path, kategori_libur='["cuti"]'))
    with pytest.raises(OfficeFileError, match="libur_tambahan"):
        load_office(_office_file(tmp_path, libur_tambahan='["23-12-2026"]'))


def test_resolution_standard_and_tiers() -> None:
    office = dataclasses.replace(load_office(), resolve_tiers=(("keributan", 14), ("aspirasi", 30)))
    policy = deadline_policy(office)
    start = date(2026, 3, 17)
    # Calendar days by default: 17 March + 60 = 16 May (14 left in March, 30 in April, 16).
    assert policy.resolve_due(start, "lainnya", "pengaduan") == date(2026, 5, 16)
    assert policy.resolve_due(start, "keributan", "aspirasi") == date(2026, 3, 31)  # category first
    assert policy.resolve_due(start, "lainnya", "aspirasi") == date(2026, 4, 16)
    working = deadline_policy(dataclasses.replace(office, resolve_working_days=True, resolve_tiers=()))
    # 14 working days from Tue 17 March with Lebaran off: Wed 25 .. Fri 27 (3), 30, 31 (5),
    # 1, 2 April (7), Good Friday 3 April off, 6-10 April (12), 13, 14 April (14).
    working = dataclasses.replace(working, resolve_days=14)
    assert working.resolve_due(start) == date(2026, 4, 14)


def test_an_office_without_the_new_sections_keeps_the_defaults(tmp_path: Path) -> None:
    text = (Path(__file__).parent.parent / "bot" / "config" / "kantor" / "jelbuk.toml").read_text(encoding="utf-8")
    start = text.index("[hari_kerja]")
    end = text.index("[chat]")
    path = tmp_path / "lama.toml"
    path.write_text(text[:start] + text[end:], encoding="utf-8")
    office = load_office(path)
    defaults = Office.__dataclass_fields__
    assert office.holiday_categories == defaults["holiday_categories"].default
    assert office.escalation_days == 2
