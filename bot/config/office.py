# The office file (TOML): kecamatan, desa, categories, handling times, chats, the SKM
# services and period, the six IKU with their targets, capaian bands, the digest schedule.
# Invariant: a loaded Office is validated whole; a bad file fails at startup with the key
# that is wrong, never halfway through a conversation.
from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, time
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from kpi.capaian import Band
from kpi.ikm import weight_from_setting
from kpi.periods import Kind
from storage.retention import RetentionPolicy
from storage.tenancy import DEFAULT_KECAMATAN, TenantError, check_kode

# One office file per kecamatan in a folder (SIGAP_OFFICE_DIR); the shipped folder holds
# Jelbuk, the default of a single-office deployment, and Arjasa.
OFFICE_DIR = Path(__file__).parent / "kantor"
DEFAULT_OFFICE_FILE = OFFICE_DIR / "jelbuk.toml"
# What every kecamatan bot's token variable is called (chat.telegram_token_env).
TOKEN_VARIABLE_PREFIX = "SIGAP_TELEGRAM_TOKEN_"


class OfficeFileError(ValueError):
    pass


@dataclass(frozen=True)
class Category:
    code: str
    name: str


@dataclass(frozen=True)
class Service:
    """A public service of the kecamatan, as the SKM survey names it."""

    code: str
    name: str


@dataclass(frozen=True)
class DesaPoint:
    """A desa's approximate centroid for the dashboard's map (office file [[peta.desa]])."""

    desa: str
    lat: float
    lon: float


@dataclass(frozen=True)
class IkuDef:
    """One indicator of the Keputusan Camat, with its yearly Perjanjian Kinerja targets."""

    code: str  # "IKU-1" .. "IKU-6"
    sasaran: str
    name: str
    formula: str
    unit: str
    higher_is_better: bool
    kind: str  # "jumlah" | "rasio" | "nilai"
    responsible: str
    source: str
    targets: dict[int, Decimal] = field(default_factory=dict)


SKM_PERIOD_KINDS: dict[str, Kind] = {"triwulan": "quarter", "semester": "semester", "tahun": "year"}
WEEKDAYS = ("senin", "selasa", "rabu", "kamis", "jumat", "sabtu", "minggu")


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
    # Kemendagri kode wilayah, the kecamatan's key in the register (storage/tenancy.py); an
    # office file from before there were tenants is the register's one office, Jelbuk's.
    kode_wilayah: str = DEFAULT_KECAMATAN
    # SKM
    skm_period: Kind = "quarter"
    skm_weight: str = "1/9"
    skm_population_default: int = 0
    skm_retention_days: int = 365
    # A respondent younger than this needs a parent's or guardian's consent (UU 27/2022
    # Pasal 25); 0 switches the question off.
    skm_guardian_age: int = 17
    services: tuple[Service, ...] = ()
    # IKU
    bands: tuple[Band, ...] = ()
    iku6_threshold: Decimal = Decimal(100)
    attention_threshold: Decimal = Decimal(76)
    iku: tuple[IkuDef, ...] = ()
    # IKU 4 definition and carry-over rule (storage.complaint_stats.DEFINITIONS /
    # CARRY_OVER_RULES; README "The IKU 4 definition in use"); lower-is-better capaian floored at 0.
    iku4_definition: str = "bawaan"
    iku4_carry_over: str = "tahun_masuk"
    capaian_floor_zero: bool = True
    # Weekly digest
    digest_weekday: int = 0  # Monday
    digest_time: time = time(7, 0)
    digest_max_late_hours: int = 48
    # The deadline clock (bot/config/workcalendar.py; README "Deadlines and working days"):
    # holidays-package categories that are days off ("public" = libur nasional, "government"
    # = cuti bersama), single extra days off and cancelled ones, the resolution standard.
    holiday_categories: tuple[str, ...] = ("public", "government")
    extra_holidays: tuple[date, ...] = ()
    cancelled_holidays: tuple[date, ...] = ()
    resolve_days: int = 60
    resolve_working_days: bool = False
    resolve_tiers: tuple[tuple[str, int], ...] = ()  # (category code or kind, days)
    # Deadline reminders (bot/jobs/reminders_job.py): office hours on working days, and how
    # many working days after a deadline passed the pimpinan chats are told.
    reminders_on: bool = True
    reminder_from: time = time(8, 0)
    reminder_until: time = time(15, 0)
    escalation_days: int = 2
    retention: RetentionPolicy = field(default_factory=RetentionPolicy)
    # The dashboard's map of desa (optional; README "Dasbor"): one point per desa at most.
    desa_map: tuple[DesaPoint, ...] = ()
    # chat.telegram_token_env: the NAME of the environment variable holding this kecamatan's
    # own bot token (bot/channels/telegram_bots.py), never the token itself: a file is copied
    # and shared, a token must not be. None: the shared SIGAP_TELEGRAM_TOKEN bot serves it.
    telegram_token_env: str | None = None
    # chat.telegram_username: that bot's @username (without @), for the t.me links printed on
    # paper (`sigap skm qr`), which are made without network and so cannot ask Telegram's
    # getMe; `sigap run` warns when getMe says otherwise. Only with telegram_token_env.
    telegram_username: str | None = None
    # chat.whatsapp_phone_id: Meta's phone_number_id of this kecamatan's own WhatsApp number
    # (bot/channels/whatsapp_numbers.py): webhooks to it belong to this kecamatan, and what
    # SIGAP says to its residents goes out from it. None: the shared SIGAP_WHATSAPP_PHONE_ID.
    # Not a secret (the token is the deployment's one SIGAP_WHATSAPP_TOKEN), so it is here.
    whatsapp_phone_id: str | None = None
    # chat.whatsapp_number: that number as residents dial it, in international form
    # (6281234567890), for the wa.me links printed on paper; only with whatsapp_phone_id.
    whatsapp_number: str | None = None

    def category_name(self, code: str) -> str:
        for c in self.categories:
            if c.code == code:
                return c.name
        return code

    def service_name(self, code: str) -> str:
        for sv in self.services:
            if sv.code == code:
                return sv.name
        return code

    def iku_def(self, code: str) -> IkuDef | None:
        for d in self.iku:
            if d.code == code:
                return d
        return None


def _get(data: dict[str, Any], path: str, kind: type) -> Any:
    node: Any = data
    for part in path.split("."):
        if not isinstance(node, dict) or part not in node:
            raise OfficeFileError(f"Berkas kantor: kunci '{path}' tidak ada.")
        node = node[part]
    if kind is int and isinstance(node, bool) or not isinstance(node, kind):
        raise OfficeFileError(f"Berkas kantor: kunci '{path}' harus bertipe {kind.__name__}.")
    return node


def _fits_the_register(desa: tuple[str, ...], categories: list[Category], services: tuple[Service, ...]) -> None:
    # These codes and names are stored in String(n) columns: too long, and PostgreSQL would
    # refuse every complaint or survey that uses them (SQLite would not), so refuse the file.
    from storage.lengths import limit
    from storage.models import Complaint, SkmResponse

    checks = [("kantor.desa", d, limit(Complaint.desa)) for d in desa]
    checks += [("pengaduan.kategori.kode", c.code, limit(Complaint.category)) for c in categories]
    checks += [("skm.layanan.kode", sv.code, limit(SkmResponse.service)) for sv in services]
    for where, value, longest in checks:
        if longest is not None and len(value) > longest:
            raise OfficeFileError(f"Berkas kantor: {where} '{value[:20]}...' paling banyak {longest} karakter.")


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
    skm = _skm(data)
    iku = _iku(data)
    _fits_the_register(desa, categories, skm.get("services", ()))
    digest = _digest(data)
    retention = _retention(data, skm.get("skm_retention_days", 365))
    return Office(
        **skm,
        **iku,
        **digest,
        **_deadline_clock(data),
        retention=retention,
        desa_map=_desa_map(data, desa),
        name=_get(data, "kantor.nama", str),
        kode_wilayah=_kode_wilayah(data),
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
        telegram_token_env=_token_env(data),
        telegram_username=_telegram_username(data),
        **_whatsapp(data),
    )


def _token_env(data: dict[str, Any]) -> str | None:
    if "telegram_token_env" not in data.get("chat", {}):
        return None
    name = _get(data, "chat.telegram_token_env", str).strip()
    # A variable's name, not a token: a token (digits, ':' and its secret) pasted here by
    # mistake is refused without being repeated in the message.
    # The prefix lets the settings collect these variables without reading office files
    # (bot/config/settings.py TOKEN_VARIABLE_PREFIX).
    rest = name.removeprefix(TOKEN_VARIABLE_PREFIX)
    if rest == name or not rest or not all(c.isascii() and (c.isupper() or c.isdigit() or c == "_") for c in rest):
        raise OfficeFileError(f"Berkas kantor: chat.telegram_token_env harus NAMA variabel environment "
                              f"{TOKEN_VARIABLE_PREFIX}... (huruf besar, angka dan _, misalnya "
                              f"{TOKEN_VARIABLE_PREFIX}ARJASA), bukan tokennya.")
    return name


# Telegram: a bot's username is 5-32 characters of a-z, 0-9 and _, starts with a letter and
# ends in "bot".
_BOT_USERNAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{1,28}[Bb][Oo][Tt]")


def _telegram_username(data: dict[str, Any]) -> str | None:
    if "telegram_username" not in data.get("chat", {}):
        return None
    name = _get(data, "chat.telegram_username", str).strip().removeprefix("@")
    if "telegram_token_env" not in data["chat"]:
        # Links to a bot SIGAP does not run for this kecamatan would lead residents nowhere.
        raise OfficeFileError("Berkas kantor: chat.telegram_username hanya untuk kecamatan dengan bot sendiri "
                              "(chat.telegram_token_env); bot bersama memakai SIGAP_TELEGRAM_BOT_USERNAME.")
    if not _BOT_USERNAME.fullmatch(name):
        # The value is not repeated: a token pasted here by mistake must not reach a log.
        raise OfficeFileError("Berkas kantor: chat.telegram_username bukan nama bot Telegram: 5-32 huruf, "
                              "angka dan _, diawali huruf dan diakhiri 'bot', tanpa @ (misalnya sigap_arjasa_bot).")
    return name


# Meta's phone_number_id: a long decimal id (15-16 digits today); 5-20 leaves room for change.
_PHONE_ID = re.compile(r"[0-9]{5,20}")
# E.164 without +: country code first, at most 15 digits; wa.me takes exactly this.
_WA_NUMBER = re.compile(r"[1-9][0-9]{7,14}")


def _whatsapp(data: dict[str, Any]) -> dict[str, Any]:
    """chat.whatsapp_phone_id and chat.whatsapp_number, both optional; a string each, since a
    TOML integer would silently lose nothing today but a leading zero or a '+' tomorrow."""
    chat = data.get("chat", {})
    out: dict[str, Any] = {}
    if "whatsapp_phone_id" in chat:
        phone_id = _get(data, "chat.whatsapp_phone_id", str).strip()
        if not _PHONE_ID.fullmatch(phone_id):
            raise OfficeFileError("Berkas kantor: chat.whatsapp_phone_id harus ID nomor telepon WhatsApp (phone "
                                  "number ID dari Meta, hanya angka, misalnya \"106540352242922\"), bukan nomor "
                                  "teleponnya atau token.")
        out["whatsapp_phone_id"] = phone_id
    if "whatsapp_number" in chat:
        if "whatsapp_phone_id" not in chat:
            # A wa.me link to a number SIGAP does not answer for this kecamatan leads nowhere.
            raise OfficeFileError("Berkas kantor: chat.whatsapp_number hanya untuk kecamatan dengan nomor WhatsApp "
                                  "sendiri (chat.whatsapp_phone_id); nomor bersama memakai SIGAP_WHATSAPP_NUMBER.")
        number = _get(data, "chat.whatsapp_number", str).strip()
        if not _WA_NUMBER.fullmatch(number):
            raise OfficeFileError("Berkas kantor: chat.whatsapp_number harus nomor WhatsApp dalam bentuk "
                                  "internasional, hanya angka, tanpa + dan tanpa 0 di depan (misalnya "
                                  "\"6281234567890\").")
        out["whatsapp_number"] = number
    return out


def _desa_map(data: dict[str, Any], desa: tuple[str, ...]) -> tuple[DesaPoint, ...]:
    """[[peta.desa]] nama, lintang, bujur: optional; each nama one of kantor.desa, once."""
    if "peta" not in data:
        return ()
    points: list[DesaPoint] = []
    for i, p in enumerate(_get(data, "peta.desa", list)):
        where = f"peta.desa[{i}]"
        if not isinstance(p, dict) or not {"nama", "lintang", "bujur"} <= p.keys():
            raise OfficeFileError(f"Berkas kantor: {where} perlu nama, lintang dan bujur.")
        name = str(p["nama"])
        if name not in desa or any(q.desa == name for q in points):
            raise OfficeFileError(f"Berkas kantor: {where}.nama {name!r} bukan desa kantor.desa, atau ganda.")
        lat, lon = (float(_decimal(p[k], f"{where}.{k}")) for k in ("lintang", "bujur"))
        if not (-90 <= lat <= 90 and -180 <= lon <= 180):
            raise OfficeFileError(f"Berkas kantor: {where}: lintang -90..90, bujur -180..180.")
        points.append(DesaPoint(name, lat, lon))
    return tuple(points)


def _kode_wilayah(data: dict[str, Any]) -> str:
    if "kode_wilayah" not in data.get("kantor", {}):
        return DEFAULT_KECAMATAN
    try:
        return check_kode(_get(data, "kantor.kode_wilayah", str))
    except TenantError as exc:
        raise OfficeFileError(f"Berkas kantor: kantor.kode_wilayah: {exc}.") from exc


def load_offices(folder: Path | None = None) -> dict[str, Office]:
    """Every office file (*.toml) of a folder, by kode wilayah in kode order. Two files with
    one kode, one ticket prefix or one WhatsApp number are refused: a kecamatan's rows, a
    ticket, and a message to a number, must name one office."""
    folder = folder or OFFICE_DIR
    files = sorted(folder.glob("*.toml")) if folder.is_dir() else []
    if not files:
        raise OfficeFileError(f"Folder berkas kantor tanpa berkas .toml: {folder}")
    offices: dict[str, Office] = {}
    prefixes: dict[str, Path] = {}
    for path in files:
        office = load_office(path)
        if office.kode_wilayah in offices:
            raise OfficeFileError(f"Berkas kantor {path.name}: kode_wilayah {office.kode_wilayah} sudah dipakai "
                                  f"{offices[office.kode_wilayah].name}.")
        prefix = office.ticket_prefix.upper()
        if prefix in prefixes:
            raise OfficeFileError(f"Berkas kantor {path.name}: prefix_tiket {prefix} sudah dipakai {prefixes[prefix].name}.")
        _one_number_each(path, office, offices.values())
        offices[office.kode_wilayah] = office
        prefixes[prefix] = path
    return dict(sorted(offices.items()))


def _one_number_each(path: Path, office: Office, others: Iterable[Office]) -> None:
    for other in others:
        if office.whatsapp_phone_id and office.whatsapp_phone_id == other.whatsapp_phone_id:
            raise OfficeFileError(f"Berkas kantor {path.name}: chat.whatsapp_phone_id {office.whatsapp_phone_id} "
                                  f"sudah dipakai {other.name}; satu nomor WhatsApp hanya untuk satu kecamatan.")
        if office.whatsapp_number and office.whatsapp_number == other.whatsapp_number:
            raise OfficeFileError(f"Berkas kantor {path.name}: chat.whatsapp_number {office.whatsapp_number} "
                                  f"sudah dipakai {other.name}; satu nomor WhatsApp hanya untuk satu kecamatan.")


def _decimal(raw: Any, path: str) -> Decimal:
    if isinstance(raw, bool) or not isinstance(raw, int | float | str):
        raise OfficeFileError(f"Berkas kantor: '{path}' harus berupa angka.")
    try:
        # Through str so that 82.5 in TOML is exactly 82.5, not its binary approximation.
        return Decimal(str(raw))
    except InvalidOperation as exc:
        raise OfficeFileError(f"Berkas kantor: '{path}' harus berupa angka, bukan {raw!r}.") from exc


def _skm(data: dict[str, Any]) -> dict[str, Any]:
    if "skm" not in data:
        return {}
    period = _get(data, "skm.periode", str)
    if period not in SKM_PERIOD_KINDS:
        raise OfficeFileError("Berkas kantor: skm.periode harus triwulan, semester atau tahun.")
    weight = _get(data, "skm.bobot", str)
    try:
        weight_from_setting(weight)
    except ValueError as exc:
        raise OfficeFileError(f"Berkas kantor: skm.bobot tidak dikenal: {weight!r}.") from exc
    services = []
    for i, sv in enumerate(_get(data, "skm.layanan", list)):
        if not isinstance(sv, dict) or not {"kode", "nama"} <= sv.keys():
            raise OfficeFileError(f"Berkas kantor: skm.layanan[{i}] perlu kode dan nama.")
        services.append(Service(str(sv["kode"]), str(sv["nama"])))
    if not services:
        raise OfficeFileError("Berkas kantor: skm.layanan tidak boleh kosong.")
    return {
        "skm_period": SKM_PERIOD_KINDS[period],
        "skm_weight": weight,
        "skm_population_default": _get(data, "skm.populasi_bawaan", int),
        "skm_retention_days": _get(data, "skm.retensi_hari", int),
        **_guardian_age(data["skm"]),
        "services": tuple(services),
    }


def _guardian_age(section: dict[str, Any]) -> dict[str, Any]:
    """skm.usia_minimum_tanpa_wali: added later (issue 12), so optional; without it the
    Office default applies and an older office file keeps working."""
    if "usia_minimum_tanpa_wali" not in section:
        return {}
    age = _get({"skm": section}, "skm.usia_minimum_tanpa_wali", int)
    if not 0 <= age <= 100:
        raise OfficeFileError("Berkas kantor: skm.usia_minimum_tanpa_wali harus 0 sampai 100 (0 = tidak ditanyakan).")
    return {"skm_guardian_age": age}


def _iku(data: dict[str, Any]) -> dict[str, Any]:
    if "iku" not in data:
        return {}
    bands = []
    for i, b in enumerate(_get(data, "iku.pita_capaian", list)):
        if not isinstance(b, dict) or not {"minimum", "label"} <= b.keys():
            raise OfficeFileError(f"Berkas kantor: iku.pita_capaian[{i}] perlu minimum dan label.")
        bands.append(Band(_decimal(b["minimum"], f"iku.pita_capaian[{i}].minimum"), str(b["label"])))
    if not bands:
        raise OfficeFileError("Berkas kantor: iku.pita_capaian tidak boleh kosong.")
    defs = []
    for i, d in enumerate(_get(data, "iku.indikator", list)):
        where = f"iku.indikator[{i}]"
        if not isinstance(d, dict):
            raise OfficeFileError(f"Berkas kantor: {where} harus berupa tabel.")
        need = ("kode", "sasaran", "nama", "formula", "satuan", "arah", "jenis", "penanggung_jawab", "sumber")
        missing = [k for k in need if k not in d]
        if missing:
            raise OfficeFileError(f"Berkas kantor: {where} tidak punya {', '.join(missing)}.")
        if d["arah"] not in ("naik", "turun"):
            raise OfficeFileError(f"Berkas kantor: {where}.arah harus naik atau turun.")
        if d["jenis"] not in ("jumlah", "rasio", "nilai"):
            raise OfficeFileError(f"Berkas kantor: {where}.jenis harus jumlah, rasio atau nilai.")
        targets: dict[int, Decimal] = {}
        for year, value in (d.get("target") or {}).items():
            if not str(year).isdigit():
                raise OfficeFileError(f"Berkas kantor: {where}.target: tahun {year!r} tidak sah.")
            targets[int(year)] = _decimal(value, f"{where}.target.{year}")
        defs.append(
            IkuDef(
                code=str(d["kode"]),
                sasaran=str(d["sasaran"]),
                name=str(d["nama"]),
                formula=str(d["formula"]),
                unit=str(d["satuan"]),
                higher_is_better=d["arah"] == "naik",
                kind=str(d["jenis"]),
                responsible=str(d["penanggung_jawab"]),
                source=str(d["sumber"]),
                targets=targets,
            )
        )
    codes = [d.code for d in defs]
    if len(set(codes)) != len(codes):
        raise OfficeFileError("Berkas kantor: kode IKU ganda di iku.indikator.")
    return {
        "bands": tuple(bands),
        "iku6_threshold": _decimal(_get(data, "iku.ambang_program_tercapai", int), "iku.ambang_program_tercapai"),
        "attention_threshold": _decimal(_get(data, "iku.ambang_perhatian", int), "iku.ambang_perhatian"),
        "iku": tuple(defs),
        **_iku_rules(data["iku"]),
    }


IKU4_DEFINITIONS = ("bawaan", "keputusan", "ditolak_ditangani")
IKU4_CARRY_OVER = ("tahun_masuk", "bawa_sisa")


def _iku_rules(section: dict[str, Any]) -> dict[str, Any]:
    """Optional keys of [iku]: definisi_iku4, lintas_tahun, capaian_minimum_nol."""
    definition = section.get("definisi_iku4", "bawaan")
    if definition not in IKU4_DEFINITIONS:
        raise OfficeFileError(f"Berkas kantor: iku.definisi_iku4 harus salah satu dari {', '.join(IKU4_DEFINITIONS)}.")
    carry = section.get("lintas_tahun", "tahun_masuk")
    if carry not in IKU4_CARRY_OVER:
        raise OfficeFileError(f"Berkas kantor: iku.lintas_tahun harus salah satu dari {', '.join(IKU4_CARRY_OVER)}.")
    floor = section.get("capaian_minimum_nol", True)
    if not isinstance(floor, bool):
        raise OfficeFileError("Berkas kantor: iku.capaian_minimum_nol harus true atau false.")
    return {"iku4_definition": definition, "iku4_carry_over": carry, "capaian_floor_zero": floor}


def _dates(raw: Any, path: str) -> tuple[date, ...]:
    if not isinstance(raw, list):
        raise OfficeFileError(f"Berkas kantor: '{path}' harus berupa daftar tanggal.")
    out = []
    for item in raw:
        if isinstance(item, date):  # TOML local date: 2026-10-05
            out.append(item)
            continue
        try:
            out.append(date.fromisoformat(str(item)))
        except ValueError as exc:
            raise OfficeFileError(f"Berkas kantor: '{path}': {item!r} bukan tanggal TTTT-BB-HH.") from exc
    return tuple(out)


def _clock_time(raw: Any, path: str) -> time:
    try:
        return time.fromisoformat(str(raw))
    except ValueError as exc:
        raise OfficeFileError(f"Berkas kantor: {path} harus berbentuk JJ:MM, bukan {raw!r}.") from exc


def _deadline_clock(data: dict[str, Any]) -> dict[str, Any]:
    """[hari_kerja], [pengaduan] batas_penyelesaian_* and [pengingat]; all optional, with the
    defaults of the Office dataclass, so an older office file keeps working."""
    out: dict[str, Any] = {}
    days_off = data.get("hari_kerja", {})
    if "kategori_libur" in days_off:
        cats = days_off["kategori_libur"]
        if not isinstance(cats, list) or not all(isinstance(c, str) for c in cats):
            raise OfficeFileError("Berkas kantor: hari_kerja.kategori_libur harus daftar teks.")
        from bot.config.workcalendar import check_categories

        out["holiday_categories"] = check_categories(tuple(cats))
    if "libur_tambahan" in days_off:
        out["extra_holidays"] = _dates(days_off["libur_tambahan"], "hari_kerja.libur_tambahan")
    if "bukan_libur" in days_off:
        out["cancelled_holidays"] = _dates(days_off["bukan_libur"], "hari_kerja.bukan_libur")
    complaints = data.get("pengaduan", {})
    if "batas_penyelesaian_hari" in complaints:
        out["resolve_days"] = _get(data, "pengaduan.batas_penyelesaian_hari", int)
        if out["resolve_days"] < 1:
            raise OfficeFileError("Berkas kantor: pengaduan.batas_penyelesaian_hari harus paling sedikit 1.")
    if "penyelesaian_hari_kerja" in complaints:
        out["resolve_working_days"] = _get(data, "pengaduan.penyelesaian_hari_kerja", bool)
    if "batas_penyelesaian_per_kategori" in complaints:
        tiers = _get(data, "pengaduan.batas_penyelesaian_per_kategori", dict)
        for key, value in tiers.items():
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise OfficeFileError(
                    f"Berkas kantor: pengaduan.batas_penyelesaian_per_kategori.{key} harus bilangan >= 1."
                )
        out["resolve_tiers"] = tuple((str(k), int(v)) for k, v in tiers.items())
    if "pengingat" in data:
        section = data["pengingat"]
        if "aktif" in section:
            out["reminders_on"] = _get(data, "pengingat.aktif", bool)
        if "jam_mulai" in section:
            out["reminder_from"] = _clock_time(section["jam_mulai"], "pengingat.jam_mulai")
        if "jam_selesai" in section:
            out["reminder_until"] = _clock_time(section["jam_selesai"], "pengingat.jam_selesai")
        if "eskalasi_hari_kerja" in section:
            out["escalation_days"] = _get(data, "pengingat.eskalasi_hari_kerja", int)
            if out["escalation_days"] < 1:
                raise OfficeFileError("Berkas kantor: pengingat.eskalasi_hari_kerja harus paling sedikit 1.")
    return out


def _digest(data: dict[str, Any]) -> dict[str, Any]:
    if "digest" not in data:
        return {}
    day = _get(data, "digest.hari", str).strip().lower()
    if day not in WEEKDAYS:
        raise OfficeFileError(f"Berkas kantor: digest.hari harus salah satu dari {', '.join(WEEKDAYS)}.")
    raw = _get(data, "digest.jam", str)
    try:
        at = time.fromisoformat(raw)
    except ValueError as exc:
        raise OfficeFileError(f"Berkas kantor: digest.jam harus berbentuk JJ:MM, bukan {raw!r}.") from exc
    return {
        "digest_weekday": WEEKDAYS.index(day),
        "digest_time": at,
        "digest_max_late_hours": _get(data, "digest.terlambat_maks_jam", int),
    }


def _retention(data: dict[str, Any], survey_days: int) -> RetentionPolicy:
    defaults = RetentionPolicy()
    if "retensi" not in data:
        return RetentionPolicy(survey_link_days=survey_days)
    days = {
        key: _get(data, f"retensi.{key}", int)
        for key in ("identitas_pelapor_hari", "foto_hari", "pesan_masuk_hari", "pesan_keluar_hari", "percakapan_hari")
    }
    # Added later (issue 12): optional, so an older office file keeps working with the defaults.
    for key, default in (("uraian_hari", defaults.description_days), ("lokasi_hari", defaults.location_days),
                         ("catatan_hari", defaults.note_days),
                         ("saran_survei_hari", defaults.survey_suggestion_days)):
        days[key] = _get(data, f"retensi.{key}", int) if key in data["retensi"] else default
    for key, value in days.items():
        if value < 1:
            raise OfficeFileError(f"Berkas kantor: retensi.{key} harus paling sedikit 1 hari.")
    return RetentionPolicy(
        reporter_identity_days=days["identitas_pelapor_hari"],
        photo_days=days["foto_hari"],
        description_days=days["uraian_hari"],
        location_days=days["lokasi_hari"],
        note_days=days["catatan_hari"],
        inbox_days=days["pesan_masuk_hari"],
        outbox_days=days["pesan_keluar_hari"],
        dialog_days=days["percakapan_hari"],
        survey_link_days=survey_days,
        survey_suggestion_days=days["saran_survei_hari"],
    )
