# Settings from the environment (prefix SIGAP_) and an optional .env file.
# Invariants: read once at startup; a bad value fails fast naming its key; secrets never
# appear in repr() or logs.
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from dotenv import dotenv_values

from storage.db import sqlite_url


class SettingsError(ValueError):
    pass


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
    )
