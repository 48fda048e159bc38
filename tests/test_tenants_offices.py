# The folder of office files (bot/config/kantor/): one per kecamatan, keyed by kode wilayah;
# the default deployment is still the one Jelbuk file, with its ticket prefix.
from __future__ import annotations

from pathlib import Path

import pytest

from bot.config.office import (
    DEFAULT_OFFICE_FILE,
    OFFICE_DIR,
    OfficeFileError,
    load_office,
    load_offices,
)


def test_the_shipped_folder_holds_jelbuk_and_arjasa() -> None:
    offices = load_offices()
    assert list(offices) == ["35.09.22", "35.09.25"]
    arjasa, jelbuk = offices["35.09.22"], offices["35.09.25"]
    assert (arjasa.kecamatan, arjasa.ticket_prefix) == ("Arjasa", "ARJ")
    assert arjasa.desa == ("Arjasa", "Biting", "Candijati", "Darsono", "Kamal", "Kemuninglor")
    assert (jelbuk.kecamatan, jelbuk.ticket_prefix) == ("Jelbuk", "TRB")
    assert len(arjasa.iku) == len(jelbuk.iku) == 6


def test_the_default_is_the_one_jelbuk_file() -> None:
    office = load_office()
    assert DEFAULT_OFFICE_FILE.parent == OFFICE_DIR
    assert (office.name, office.kode_wilayah, office.ticket_prefix) == ("Kecamatan Jelbuk", "35.09.25", "TRB")
    assert office.desa[0] == "Jelbuk"


def _copy(tmp_path: Path, name: str, **replace: str) -> Path:
    text = DEFAULT_OFFICE_FILE.read_text(encoding="utf-8")
    for old, new in replace.items():
        assert old in text
        text = text.replace(old, new)
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_an_office_file_without_a_kode_is_the_old_single_office(tmp_path: Path) -> None:
    path = _copy(tmp_path, "lama.toml", **{'kode_wilayah = "35.09.25"\n': ""})
    assert load_office(path).kode_wilayah == "35.09.25"


def test_a_bad_kode_is_refused(tmp_path: Path) -> None:
    path = _copy(tmp_path, "salah.toml", **{'kode_wilayah = "35.09.25"': 'kode_wilayah = "3509"'})
    with pytest.raises(OfficeFileError, match="kode_wilayah"):
        load_office(path)


def test_two_files_may_not_share_a_kode_or_a_prefix(tmp_path: Path) -> None:
    _copy(tmp_path, "a.toml")
    _copy(tmp_path, "b.toml", **{'prefix_tiket = "TRB"': 'prefix_tiket = "ARJ"'})
    with pytest.raises(OfficeFileError, match="kode_wilayah 35.09.25 sudah dipakai"):
        load_offices(tmp_path)
    (tmp_path / "b.toml").unlink()
    _copy(tmp_path, "b.toml", **{'kode_wilayah = "35.09.25"': 'kode_wilayah = "35.09.22"'})
    with pytest.raises(OfficeFileError, match="prefix_tiket TRB sudah dipakai"):
        load_offices(tmp_path)


def test_an_empty_folder_is_refused(tmp_path: Path) -> None:
    with pytest.raises(OfficeFileError, match="tanpa berkas"):
        load_offices(tmp_path)
