# Respondent profile values as offices write them, mapped to the standard form's classes
# (kpi.skm_questionnaire: JENIS_KELAMIN, PENDIDIKAN, PEKERJAAN). Pure: no I/O.
# Invariants:
# - Matching ignores case, spaces, dots, hyphens and slashes around a single class
#   ("S-1", "s1", "S 1", "D-III", "DIII", "Diploma III" are all recognised).
# - D4 / D-IV / Sarjana Terapan map to S1: a Sarjana Terapan is at the same level as a
#   Sarjana (UU 12/2012 on higher education, art. 18; KKNI level 6, Perpres 8/2012), and the
#   standard form has no separate class for it. D1, D2 and D3 are the form's "D1-D3".
# - Pekerjaan: the five named classes by their usual spellings; anything else written is
#   "Lainnya" with the text kept (Petani, Pelajar, Ibu rumah tangga ...), so no occupation
#   is lost or refused. "Lainnya: Petani" / "Lainnya (Petani)" keep "Petani".
# - A value that matches nothing returns None: the caller reports it (line and column).
from __future__ import annotations

import re

from kpi.skm_questionnaire import PEKERJAAN, PENDIDIKAN

PEKERJAAN_LAINNYA_LIMIT = 100
_SQUEEZE = re.compile(r"[\s.\-_/()]+")


def _squeeze(text: str) -> str:
    return _SQUEEZE.sub("", text.casefold())


_PENDIDIKAN_WORDS: dict[str, tuple[str, ...]] = {
    "SD": ("sd", "mi", "sdmi", "sekolahdasar", "sdsederajat", "madrasahibtidaiyah"),
    "SMP": ("smp", "sltp", "mts", "smpmts", "smpsederajat", "sltpsederajat", "madrasahtsanawiyah",
            "sekolahmenengahpertama"),
    "SMA": ("sma", "slta", "smk", "ma", "smu", "stm", "smea", "smasmk", "smama", "smasmkma",
            "smasederajat", "sltasederajat", "madrasahaliyah", "sekolahmenengahatas"),
    "D1-D3": ("d1", "d2", "d3", "di", "dii", "diii", "d1d3", "diploma", "diplomai", "diplomaii",
              "diplomaiii", "diploma1", "diploma2", "diploma3", "akademi"),
    "S1": ("s1", "sarjana", "d4", "div", "diplomaiv", "diploma4", "sarjanaterapan", "s1d4", "d4s1"),
    "S2": ("s2", "magister", "master", "pascasarjana"),
    "S3": ("s3", "doktor", "doktoral"),
}
PENDIDIKAN_WORDS: dict[str, str] = {
    word: cls for cls, words in _PENDIDIKAN_WORDS.items() for word in words
}
assert set(_PENDIDIKAN_WORDS) == set(PENDIDIKAN)

_PEKERJAAN_WORDS: dict[str, tuple[str, ...]] = {
    "PNS": ("pns", "asn", "pegawainegeri", "pegawainegerisipil", "pnsasn", "asnpns"),
    "TNI": ("tni", "tentara"),
    "POLRI": ("polri", "polisi", "kepolisian"),
    "Swasta": ("swasta", "pegawaiswasta", "karyawanswasta", "karyawan"),
    "Wirausaha": ("wirausaha", "wiraswasta", "usahasendiri"),
    "Lainnya": ("lainnya", "lain", "lainlain"),
}
PEKERJAAN_WORDS: dict[str, str] = {
    word: cls for cls, words in _PEKERJAAN_WORDS.items() for word in words
}
assert set(_PEKERJAAN_WORDS) == set(PEKERJAAN)

JENIS_KELAMIN_WORDS: dict[str, str] = {
    "l": "L", "lk": "L", "lakilaki": "L", "laki": "L", "pria": "L",
    "p": "P", "pr": "P", "perempuan": "P", "wanita": "P",
}

_LAINNYA_PREFIX = re.compile(r"^\s*lain(?:nya|-lain)?\s*[:(\-,]\s*(.*?)\s*\)?\s*$", re.IGNORECASE)


def pendidikan_class(text: str) -> str | None:
    return PENDIDIKAN_WORDS.get(_squeeze(text))


def jenis_kelamin_class(text: str) -> str | None:
    return JENIS_KELAMIN_WORDS.get(_squeeze(text))


def pekerjaan_class(text: str) -> tuple[str, str | None] | None:
    """(class, free text kept for "Lainnya") of what was written; None only for a free text
    longer than PEKERJAAN_LAINNYA_LIMIT."""
    written = " ".join(text.split())
    match = _LAINNYA_PREFIX.match(written)
    if match:
        written = match.group(1)
        if not written:
            return "Lainnya", None
    cls = PEKERJAAN_WORDS.get(_squeeze(written))
    if cls is not None:
        return cls, None
    if len(written) > PEKERJAAN_LAINNYA_LIMIT:
        return None
    return "Lainnya", written


__all__ = ["JENIS_KELAMIN_WORDS", "PEKERJAAN_LAINNYA_LIMIT", "PEKERJAAN_WORDS", "PENDIDIKAN_WORDS",
           "jenis_kelamin_class", "pekerjaan_class", "pendidikan_class"]
