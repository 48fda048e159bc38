# The office file (TOML): kecamatan, desa, categories, handling times, chats.
# Invariant: a loaded Office is validated whole; a bad file fails at startup with the key
# that is wrong, never halfway through a conversation.
from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DEFAULT_OFFICE_FILE = Path(__file__).parent / "office_jelbuk.toml"


class OfficeFileError(ValueError):
    pass


@dataclass(frozen=True)
class Category:
    code: str
    name: str


@dataclass(frozen=True)
class Office:
    name: str
    kecamatan: str
    kabupaten: str
    timezone: str
    desa: tuple[str, ...]
    ticket_prefix: str
    verify_days: int
    followup_days: int
    reopen_window_days: int
    max_reopens: int
    daily_limit: int
    max_photos: int
    max_photo_bytes: int
    max_description: int
    categories: tuple[Category, ...]
    trantib_group: int
    leadership_chats: tuple[int, ...]

    def category_name(self, code: str) -> str:
        for c in self.categories:
            if c.code == code:
                return c.name
        return code


def _get(data: dict[str, Any], path: str, kind: type) -> Any:
    node: Any = data
    for part in path.split("."):
        if not isinstance(node, dict) or part not in node:
            raise OfficeFileError(f"Berkas kantor: kunci '{path}' tidak ada.")
        node = node[part]
    if kind is int and isinstance(node, bool) or not isinstance(node, kind):
        raise OfficeFileError(f"Berkas kantor: kunci '{path}' harus bertipe {kind.__name__}.")
    return node


def load_office(path: Path | None = None) -> Office:
    path = path or DEFAULT_OFFICE_FILE
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise OfficeFileError(f"Berkas kantor tidak ditemukan: {path}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise OfficeFileError(f"Berkas kantor {path} tidak valid: {exc}") from exc
    cats = _get(data, "pengaduan.kategori", list)
    categories = []
    for i, c in enumerate(cats):
        if not isinstance(c, dict) or not {"kode", "nama"} <= c.keys():
            raise OfficeFileError(f"Berkas kantor: pengaduan.kategori[{i}] perlu kode dan nama.")
        categories.append(Category(str(c["kode"]), str(c["nama"])))
    desa = tuple(str(d) for d in _get(data, "kantor.desa", list))
    if not desa or not categories:
        raise OfficeFileError("Berkas kantor: daftar desa dan kategori tidak boleh kosong.")
    return Office(
        name=_get(data, "kantor.nama", str),
        kecamatan=_get(data, "kantor.kecamatan", str),
        kabupaten=_get(data, "kantor.kabupaten", str),
        timezone=_get(data, "kantor.zona_waktu", str),
        desa=desa,
        ticket_prefix=_get(data, "pengaduan.prefix_tiket", str),
        verify_days=_get(data, "pengaduan.batas_verifikasi_hari_kerja", int),
        followup_days=_get(data, "pengaduan.batas_tindak_lanjut_hari_kerja", int),
        reopen_window_days=_get(data, "pengaduan.jendela_buka_kembali_hari", int),
        max_reopens=_get(data, "pengaduan.batas_buka_kembali", int),
        daily_limit=_get(data, "pengaduan.batas_laporan_per_hari", int),
        max_photos=_get(data, "pengaduan.foto_maks", int),
        max_photo_bytes=_get(data, "pengaduan.ukuran_foto_maks_mb", int) * 1024 * 1024,
        max_description=_get(data, "pengaduan.panjang_uraian_maks", int),
        categories=tuple(categories),
        trantib_group=_get(data, "chat.grup_trantib", int),
        leadership_chats=tuple(int(x) for x in _get(data, "chat.pimpinan", list)),
    )
