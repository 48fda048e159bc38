# The SKM questionnaire of PermenPANRB 14/2017 as data.
# Invariants: UNSUR is in the order of the STANDARD FORM (u8 = sarana dan prasarana,
# u9 = penanganan pengaduan; the body of the regulation lists those two the other way
# round), so answers are stored by unsur code, never by position on some other list;
# answer labels are indexed by score 1..4 (a=1 .. d=4); texts are verbatim from the form.

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

SCORES: tuple[int, ...] = (1, 2, 3, 4)


@dataclass(frozen=True)
class Unsur:
    code: str
    nama: str
    pertanyaan: str
    jawaban: tuple[str, str, str, str]  # labels for scores 1, 2, 3, 4

    def label(self, score: int) -> str:
        if score not in SCORES:
            raise ValueError(f"Nilai jawaban harus 1-4, bukan {score!r}")
        return self.jawaban[score - 1]


UNSUR: tuple[Unsur, ...] = (
    Unsur(
        "u1",
        "Persyaratan",
        "Bagaimana pendapat Saudara tentang kesesuaian persyaratan pelayanan dengan jenis pelayanannya?",
        ("Tidak sesuai", "Kurang sesuai", "Sesuai", "Sangat sesuai"),
    ),
    Unsur(
        "u2",
        "Sistem, mekanisme, dan prosedur",
        "Bagaimana pemahaman Saudara tentang kemudahan prosedur pelayanan di unit ini?",
        ("Tidak mudah", "Kurang mudah", "Mudah", "Sangat mudah"),
    ),
    Unsur(
        "u3",
        "Waktu penyelesaian",
        "Bagaimana pendapat Saudara tentang kecepatan waktu dalam memberikan pelayanan?",
        ("Tidak cepat", "Kurang cepat", "Cepat", "Sangat cepat"),
    ),
    Unsur(
        "u4",
        "Biaya/tarif",
        "Bagaimana pendapat Saudara tentang kewajaran biaya/tarif dalam pelayanan?",
        ("Sangat mahal", "Cukup mahal", "Murah", "Gratis"),
    ),
    Unsur(
        "u5",
        "Produk spesifikasi jenis pelayanan",
        "Bagaimana pendapat Saudara tentang kesesuaian produk pelayanan antara yang tercantum "
        "dalam standar pelayanan dengan hasil yang diberikan?",
        ("Tidak sesuai", "Kurang sesuai", "Sesuai", "Sangat sesuai"),
    ),
    Unsur(
        "u6",
        "Kompetensi pelaksana",
        "Bagaimana pendapat Saudara tentang kompetensi/kemampuan petugas dalam pelayanan?",
        ("Tidak kompeten", "Kurang kompeten", "Kompeten", "Sangat kompeten"),
    ),
    Unsur(
        "u7",
        "Perilaku pelaksana",
        "Bagaimana pendapat Saudara tentang perilaku petugas dalam pelayanan terkait "
        "kesopanan dan keramahan?",
        (
            "Tidak sopan dan ramah",
            "Kurang sopan dan ramah",
            "Sopan dan ramah",
            "Sangat sopan dan ramah",
        ),
    ),
    Unsur(
        "u8",
        "Sarana dan prasarana",
        "Bagaimana pendapat Saudara tentang kualitas sarana dan prasarana?",
        ("Buruk", "Cukup", "Baik", "Sangat baik"),
    ),
    Unsur(
        "u9",
        "Penanganan pengaduan, saran dan masukan",
        "Bagaimana pendapat Saudara tentang penanganan pengaduan pengguna layanan?",
        (
            "Tidak ada",
            "Ada tetapi tidak berfungsi",
            "Berfungsi kurang maksimal",
            "Dikelola dengan baik",
        ),
    ),
)

UNSUR_CODES: tuple[str, ...] = tuple(u.code for u in UNSUR)
UNSUR_BY_CODE: Mapping[str, Unsur] = MappingProxyType({u.code: u for u in UNSUR})

# Respondent profile options of the standard form. Name, NIK and phone are deliberately absent.
JENIS_KELAMIN: tuple[str, ...] = ("L", "P")
PENDIDIKAN: tuple[str, ...] = ("SD", "SMP", "SMA", "D1-D3", "S1", "S2", "S3")
PEKERJAAN: tuple[str, ...] = ("PNS", "TNI", "POLRI", "Swasta", "Wirausaha", "Lainnya")

# Bands for the profile table only; the exact age is what the form records.
AGE_BANDS: tuple[str, ...] = ("<=20", "21-30", "31-40", "41-50", "51-60", ">60")
_AGE_BAND_UPPER: tuple[int, ...] = (20, 30, 40, 50, 60)


def age_band(age: int) -> str:
    if age < 0:
        raise ValueError(f"Usia tidak boleh negatif: {age}")
    for upper, band in zip(_AGE_BAND_UPPER, AGE_BANDS, strict=False):
        if age <= upper:
            return band
    return AGE_BANDS[-1]
