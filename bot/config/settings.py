# Settings from the environment (prefix SIGAP_) and an optional .env file.
# Invariants: read once at startup; a bad value fails fast naming its key; secrets never
# appear in repr() or logs.
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from dotenv import dotenv_values

from bot.config.office import TOKEN_VARIABLE_PREFIX, Office
from storage.db import sqlite_url


class SettingsError(ValueError):
    pass


# The bot's @username when SIGAP_TELEGRAM_BOT_USERNAME is not set; printed QR codes with it
# only work if the office's bot really has this name (`sigap skm qr` warns).
DEFAULT_BOT_USERNAME = "sigap_jelbuk_bot"


@dataclass(frozen=True)
class WhatsAppSettings:
    """The WhatsApp Cloud API; enabled only when the token and the phone number id are set."""

    token: str | None = field(default=None, repr=False)
    phone_id: str | None = None
    app_secret: str | None = field(default=None, repr=False)
    verify_token: str | None = field(default=None, repr=False)
    api_url: str = "https://graph.facebook.com"
    template_status: str | None = None
    template_lang: str = "id"
    # The office's WhatsApp number in international form (62812...), for wa.me links on
    # printed QR cards; the phone number id above is Meta's internal id, not the number.
    number: str | None = None

    @property
    def enabled(self) -> bool:
        return bool(self.token and self.phone_id)


@dataclass(frozen=True)
class WebSettings:
    """The one ASGI server: the WhatsApp webhook, and Telegram's in webhook mode."""

    host: str = "127.0.0.1"
    port: int = 8080
    whatsapp_path: str = "/whatsapp"
    telegram_path: str = "/telegram"
    telegram_mode: str = "polling"
    telegram_webhook_url: str | None = None
    telegram_webhook_secret: str | None = field(default=None, repr=False)


@dataclass(frozen=True)
class DashboardSettings:
    """The web dashboard (/dasbor) and the public report card (/rapor), on the web server."""

    enabled: bool = True
    # The address officers open, as they reach it (behind a proxy: its https:// address);
    # None: the web server's own http://host:port.
    url: str | None = None
    link_minutes: int = 10
    session_hours: int = 8
    public_report: bool = True

    @property
    def secure_cookie(self) -> bool:
        # The browser only sends a Secure cookie over https: on plain http it would never log in.
        return bool(self.url and self.url.startswith("https://"))


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    database_url: str
    office_file: Path | None
    telegram_token: str | None = field(repr=False)
    telegram_api_url: str
    telegram_poll_timeout: int
    trantib_group: int | None
    log_level: str
    web: WebSettings = field(default_factory=WebSettings)
    whatsapp: WhatsAppSettings = field(default_factory=WhatsAppSettings)
    # The bot's @username, for deep links such as the SKM QR codes (t.me/<username>?start=...).
    telegram_bot_username: str = "sigap_jelbuk_bot"
    # `sigap run` without network: how often and how patiently the first Telegram call is
    # retried (the wait doubles each time, up to a minute) before giving up with a message.
    telegram_start_attempts: int = 6
    telegram_start_backoff: float = 2.0
    # Several processes on one PostgreSQL register: how long a reply claimed for sending is
    # one process's (seconds, renewed while it holds it); a killed process's replies are sent
    # by another (or by itself, restarted) after this.
    outbox_lease: float = 30.0
    dashboard: DashboardSettings = field(default_factory=DashboardSettings)
    # The folder of office files, one per kecamatan (bot/config/kantor/ when unset), for what
    # reads every kecamatan (`sigap iku report --kabupaten`).
    office_dir: Path | None = None
    # The kabupaten's chat (Bagian Organisasi, Inspektorat) for the weekly kabupaten digest of
    # every kecamatan of office_dir; None: no kabupaten digest.
    kabupaten_chat: int | None = None
    # The values of every SIGAP_TELEGRAM_TOKEN_* variable, by name: the kecamatan bots'
    # tokens, which office files name (chat.telegram_token_env); see bot_tokens.
    telegram_token_values: dict[str, str] = field(default_factory=dict, repr=False)

    def bot_tokens(self, offices: dict[str, Office]) -> dict[str, str]:
        """{kode: token} of the kecamatan with a bot of their own; a variable an office file
        names but the environment does not fill is refused here, at start, not at the
        first message that kecamatan would send."""
        tokens: dict[str, str] = {}
        seen: dict[str, str] = {}
        for kode, office in offices.items():
            name = office.telegram_token_env
            if not name:
                continue
            if name in seen:
                raise SettingsError(f"{name} dipakai dua kecamatan ({offices[seen[name]].name} dan {office.name}): "
                                    "setiap kecamatan dengan bot sendiri butuh variabel tokennya sendiri.")
            seen[name] = kode
            token = (self.telegram_token_values.get(name) or "").strip()
            if not token:
                raise SettingsError(f"{name} belum diisi: berkas kantor {office.name} meminta bot Telegram "
                                    f"sendiri dengan token di variabel itu. Isi di .env atau environment, atau "
                                    f"hapus chat.telegram_token_env agar kecamatan ini memakai bot bersama "
                                    f"(SIGAP_TELEGRAM_TOKEN).")
            if token in tokens.values() or token == self.telegram_token:
                raise SettingsError(f"{name} berisi token bot yang sudah dipakai: setiap bot butuh tokennya sendiri.")
            tokens[kode] = token
        return tokens

    @property
    def telegram_base_url(self) -> str:
        return self.telegram_api_url.rstrip("/") + "/bot"

    @property
    def telegram_base_file_url(self) -> str:
        return self.telegram_api_url.rstrip("/") + "/file/bot"

    def require_token(self) -> str:
        if not self.telegram_token:
            raise SettingsError(
                "SIGAP_TELEGRAM_TOKEN belum diisi. Minta token dari @BotFather, lalu isi di "
                ".env atau environment. Untuk mencoba tanpa Telegram: sigap sandbox"
            )
        return self.telegram_token


def _int(env: dict[str, str], key: str, default: int | None) -> int | None:
    raw = env.get(key)
    if raw is None or raw.strip() == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise SettingsError(f"{key} harus berupa bilangan bulat, bukan {raw!r}.") from exc


def _float(env: dict[str, str], key: str, default: float) -> float:
    raw = env.get(key)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = float(raw.replace(",", "."))
    except ValueError as exc:
        raise SettingsError(f"{key} harus berupa angka, bukan {raw!r}.") from exc
    if value < 0:
        raise SettingsError(f"{key} tidak boleh negatif: {raw!r}.")
    return value


def _path(env: dict[str, str], key: str, default: str) -> str:
    value = (env.get(key) or "").strip() or default
    if not value.startswith("/"):
        raise SettingsError(f"{key} harus diawali '/', bukan {value!r}.")
    return value


def _web_settings(env: dict[str, str]) -> WebSettings:
    port = _int(env, "SIGAP_WEB_PORT", 8080)
    if port is None or not 0 <= port <= 65535:
        raise SettingsError(f"SIGAP_WEB_PORT di luar 0..65535: {port}.")
    mode = (env.get("SIGAP_TELEGRAM_MODE") or "polling").strip().lower()
    if mode not in ("polling", "webhook"):
        raise SettingsError(f"SIGAP_TELEGRAM_MODE harus polling atau webhook, bukan {mode!r}.")
    url = (env.get("SIGAP_TELEGRAM_WEBHOOK_URL") or "").strip() or None
    secret = (env.get("SIGAP_TELEGRAM_WEBHOOK_SECRET") or "").strip() or None
    if mode == "webhook":
        if not url or not url.startswith(("https://", "http://")):
            raise SettingsError("SIGAP_TELEGRAM_WEBHOOK_URL (alamat publik https://...) wajib untuk mode webhook.")
        # Telegram allows 1-256 characters A-Z, a-z, 0-9, _ and - in the secret token.
        if not secret or len(secret) > 256 or not all(c.isascii() and (c.isalnum() or c in "_-") for c in secret):
            raise SettingsError(
                "SIGAP_TELEGRAM_WEBHOOK_SECRET wajib untuk mode webhook: 1-256 karakter A-Z, a-z, 0-9, _ atau -."
            )
    return WebSettings(
        host=(env.get("SIGAP_WEB_HOST") or "").strip() or "127.0.0.1",
        port=port,
        whatsapp_path=_path(env, "SIGAP_WHATSAPP_WEBHOOK_PATH", "/whatsapp"),
        telegram_path=_path(env, "SIGAP_TELEGRAM_WEBHOOK_PATH", "/telegram"),
        telegram_mode=mode,
        telegram_webhook_url=url,
        telegram_webhook_secret=secret,
    )


def _switch(env: dict[str, str], key: str, default: bool) -> bool:
    raw = (env.get(key) or "").strip().lower()
    if raw == "":
        return default
    if raw in ("1", "true", "ya", "aktif", "on"):
        return True
    if raw in ("0", "false", "tidak", "mati", "off"):
        return False
    raise SettingsError(f"{key} harus aktif atau mati, bukan {raw!r}.")


def _dashboard_settings(env: dict[str, str]) -> DashboardSettings:
    url = (env.get("SIGAP_DASHBOARD_URL") or "").strip().rstrip("/") or None
    if url is not None and not url.startswith(("https://", "http://")):
        raise SettingsError(f"SIGAP_DASHBOARD_URL harus diawali http:// atau https://, bukan {url!r}.")
    minutes = _int(env, "SIGAP_DASHBOARD_LINK_MINUTES", 10) or 0
    hours = _int(env, "SIGAP_DASHBOARD_SESSION_HOURS", 8) or 0
    if not 1 <= minutes <= 60:
        raise SettingsError(f"SIGAP_DASHBOARD_LINK_MINUTES harus 1..60 menit, bukan {minutes}.")
    if not 1 <= hours <= 72:
        raise SettingsError(f"SIGAP_DASHBOARD_SESSION_HOURS harus 1..72 jam, bukan {hours}.")
    return DashboardSettings(
        enabled=_switch(env, "SIGAP_DASHBOARD", True),
        url=url,
        link_minutes=minutes,
        session_hours=hours,
        public_report=_switch(env, "SIGAP_PUBLIC_REPORT", True),
    )


def _wa_number(raw: str | None) -> str | None:
    if raw is None:
        return None
    digits = "".join(ch for ch in raw if ch.isdigit())
    if digits.startswith("0"):  # 0812... as written in Indonesia: wa.me needs 62812...
        digits = "62" + digits[1:]
    if not 8 <= len(digits) <= 15 or any(ch not in "0123456789 +-()" for ch in raw):
        raise SettingsError(f"SIGAP_WHATSAPP_NUMBER harus nomor telepon seperti 6281234567890, bukan {raw!r}.")
    return digits


def _whatsapp_settings(env: dict[str, str]) -> WhatsAppSettings:
    def get(key: str) -> str | None:
        return (env.get(key) or "").strip() or None

    wa = WhatsAppSettings(
        token=get("SIGAP_WHATSAPP_TOKEN"),
        phone_id=get("SIGAP_WHATSAPP_PHONE_ID"),
        app_secret=get("SIGAP_WHATSAPP_APP_SECRET"),
        verify_token=get("SIGAP_WHATSAPP_VERIFY_TOKEN"),
        api_url=get("SIGAP_WHATSAPP_API_URL") or "https://graph.facebook.com",
        template_status=get("SIGAP_WHATSAPP_TEMPLATE_STATUS"),
        template_lang=get("SIGAP_WHATSAPP_TEMPLATE_LANG") or "id",
        number=_wa_number(get("SIGAP_WHATSAPP_NUMBER")),
    )
    if bool(wa.token) != bool(wa.phone_id):
        missing = "SIGAP_WHATSAPP_PHONE_ID" if wa.token else "SIGAP_WHATSAPP_TOKEN"
        raise SettingsError(f"{missing} belum diisi: WhatsApp butuh token dan ID nomor telepon sekaligus.")
    if wa.enabled:
        # Without them the webhook could neither be verified by Meta nor check signatures.
        for key, value in (("SIGAP_WHATSAPP_APP_SECRET", wa.app_secret), ("SIGAP_WHATSAPP_VERIFY_TOKEN", wa.verify_token)):
            if not value:
                raise SettingsError(f"{key} wajib diisi bila WhatsApp diaktifkan.")
    return wa


def load_settings(env: dict[str, str] | None = None, env_file: Path | None = Path(".env")) -> Settings:
    values: dict[str, str] = {}
    if env_file is not None and env_file.exists():
        values.update({k: v for k, v in dotenv_values(env_file).items() if v is not None})
    values.update(env if env is not None else dict(os.environ))
    data_dir = Path(values.get("SIGAP_DATA_DIR") or "data")
    office = values.get("SIGAP_OFFICE_FILE")
    level = (values.get("SIGAP_LOG_LEVEL") or "INFO").upper()
    if level not in ("DEBUG", "INFO", "WARNING", "ERROR"):
        raise SettingsError(f"SIGAP_LOG_LEVEL tidak dikenal: {level}.")
    return Settings(
        data_dir=data_dir,
        database_url=values.get("SIGAP_DATABASE_URL") or sqlite_url(data_dir),
        office_file=Path(office) if office else None,
        telegram_token=values.get("SIGAP_TELEGRAM_TOKEN") or None,
        telegram_api_url=values.get("SIGAP_TELEGRAM_API_URL") or "https://api.telegram.org",
        telegram_poll_timeout=_int(values, "SIGAP_TELEGRAM_POLL_TIMEOUT", 30) or 30,
        trantib_group=_int(values, "SIGAP_TRANTIB_CHAT_ID", None),
        log_level=level,
        web=_web_settings(values),
        whatsapp=_whatsapp_settings(values),
        telegram_bot_username=(values.get("SIGAP_TELEGRAM_BOT_USERNAME") or "").strip().lstrip("@")
        or DEFAULT_BOT_USERNAME,
        telegram_start_attempts=max(1, _int(values, "SIGAP_TELEGRAM_START_ATTEMPTS", 6) or 1),
        telegram_start_backoff=_float(values, "SIGAP_TELEGRAM_START_BACKOFF", 2.0),
        outbox_lease=max(1.0, _float(values, "SIGAP_OUTBOX_LEASE", 30.0)),
        dashboard=_dashboard_settings(values),
        office_dir=Path(values["SIGAP_OFFICE_DIR"]) if values.get("SIGAP_OFFICE_DIR") else None,
        kabupaten_chat=_int(values, "SIGAP_KABUPATEN_CHAT", None),
        telegram_token_values={k: v for k, v in values.items() if k.startswith(TOKEN_VARIABLE_PREFIX)},
    )
