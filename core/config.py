"""Settings: environment (``BLOCKBOTX_*``, ``DATABASE_URL``) over ``config.toml`` over defaults.

This is the one place that knows the defaults. The TOML file lives in the user config dir
(``blockbotx`` under platformdirs, or ``BLOCKBOTX_CONFIG_DIR``).
"""

from __future__ import annotations

import difflib
import tomllib
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from pydantic import AliasChoices, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from core import paths


class ConfigError(Exception):
    """The configuration file or environment holds a bad value; the message says which."""


LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


def read_config_file(path: Path, known: frozenset[str]) -> dict[str, Any]:
    """The flat TOML file's settings; ConfigError (naming the file, and the key or line) when
    it isn't UTF-8 TOML or holds a key that is no setting: a misspelt key is refused, never
    silently ignored."""
    if not path.is_file():
        return {}
    try:
        data = tomllib.loads(path.read_bytes().decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"{path}: not UTF-8 text (byte 0x{exc.object[exc.start]:02x} at offset {exc.start}); "
            "save it as UTF-8"
        ) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: {exc}") from None
    except OSError as exc:
        raise ConfigError(f"{path}: can't be read ({exc.strerror or exc})") from None
    for key in data:
        if key not in known:
            near = difflib.get_close_matches(key, sorted(known), n=1)
            hint = f" (did you mean {near[0]!r}?)" if near else ""
            raise ConfigError(f"{path}: unknown setting {key!r}{hint}")
    return data


class _TomlSource(PydanticBaseSettingsSource):
    """Reads the ``[blockbotx]``-less flat TOML file; a syntax error names the file and line."""

    def __init__(self, settings_cls: type[BaseSettings], path: Path) -> None:
        super().__init__(settings_cls)
        self._data = read_config_file(path, frozenset(settings_cls.model_fields))

    def get_field_value(self, field, field_name):
        return self._data.get(field_name), field_name, False

    def __call__(self) -> dict[str, Any]:
        return {k: v for k, v in self._data.items() if k in self.settings_cls.model_fields}


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="BLOCKBOTX_", extra="ignore")

    database_url: str | None = Field(
        default=None, validation_alias=AliasChoices("DATABASE_URL", "BLOCKBOTX_DATABASE_URL")
    )
    """Any PostgreSQL >= 14. Unset: the embedded PostgreSQL 16 in the user data dir."""
    listen_url: str | None = None
    """Direct (non-PgBouncer) connection for LISTEN/NOTIFY; defaults to ``database_url``."""
    db_pool_size: int = Field(default=5, ge=1, le=100)
    db_statement_cache: bool = True
    """Switch off behind PgBouncer in transaction mode."""
    log_level: str = "INFO"
    """One of DEBUG, INFO, WARNING, ERROR, CRITICAL (any case)."""
    theme: str | None = None
    keymap: dict[str, str] = Field(default_factory=dict)
    """Dashboard key overrides, binding id -> keys (``[keymap]`` table; see docs/dashboard.md)."""
    # Notification channels (core/notifications). Email is off until smtp_host is set; Telegram
    # until telegram_bot_token is set. The API base URL is configurable for tests and proxies.
    smtp_host: str | None = None
    smtp_port: int = Field(default=587, ge=1, le=65535)
    smtp_security: Literal["starttls", "tls", "none"] = "starttls"
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_from: str = "BlockbotX <blockbotx@localhost>"
    telegram_bot_token: SecretStr | None = None
    telegram_api_url: str = "https://api.telegram.org"
    notification_timeout: float = Field(default=10.0, gt=0, le=120)
    # Payments (core/billing): paid plans and strategies need a Stripe secret key; the API base
    # can point at a proxy or a test stand-in.
    stripe_api_key: SecretStr | None = None
    stripe_api_base: str | None = None

    @field_validator("log_level", mode="before")
    @classmethod
    def _log_level(cls, value: object) -> str:
        level = str(value).strip().upper()
        if level not in LOG_LEVELS:
            raise ValueError(f"must be one of {', '.join(LOG_LEVELS)}, not {value!r}")
        return level

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, _TomlSource(settings_cls, config_file()))


def config_file() -> Path:
    return paths.config_dir() / "config.toml"


def _where(field: str) -> str:
    """Where a bad value came from: the environment wins over the file, as in ``Settings``."""
    import os

    aliases = {"database_url": ("DATABASE_URL", "BLOCKBOTX_DATABASE_URL")}
    for name in aliases.get(field, (f"BLOCKBOTX_{field.upper()}",)):
        if any(key.upper() == name for key in os.environ):
            return f"environment variable {name}"
    return str(config_file())


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    try:
        return Settings()
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            field = ".".join(str(p) for p in err["loc"])
            message = str(err["msg"]).removeprefix("Value error, ")
            problems.append(
                f"{_where(str(err['loc'][0]) if err['loc'] else '')}: {field}: {message}"
            )
        raise ConfigError("; ".join(problems)) from None
