"""Settings from the environment and `.env` (pydantic-settings).

A wrong value stops start-up with one line per problem naming the variable
and why: `load_settings` turns pydantic's ValidationError into ConfigError.
"""
from __future__ import annotations

from pathlib import Path
from typing import Literal, Optional
from urllib.parse import urlparse

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from core.domain.clock import is_valid_zone
from core.presentation.i18n import LANGUAGES


class ConfigError(Exception):
    """Start-up refused: the message says which variable and why."""


def _http_url(value: Optional[str]) -> Optional[str]:
    if value in (None, ""):
        return None
    parsed = urlparse(value)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise ValueError(f"must be an http(s) URL, got {value!r}")
    return value.rstrip("/")


class Settings(BaseSettings):
    """Every variable of PRODUCT.md; `.env.example` lists them with comments."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore", env_ignore_empty=True,
                                      populate_by_name=True)

    database_url: str = Field("sqlite:///teamflow.db", alias="DATABASE_URL")
    org_file: Optional[Path] = Field(None, alias="TEAMFLOW_ORG_FILE")
    forms_dir: Optional[Path] = Field(None, alias="TEAMFLOW_FORMS_DIR")
    timezone: str = Field("UTC", alias="TEAMFLOW_TIMEZONE")
    language: str = Field("en", alias="TEAMFLOW_LANGUAGE")
    telegram_bot_token: Optional[SecretStr] = Field(None, alias="TELEGRAM_BOT_TOKEN")
    telegram_api_url: Optional[str] = Field(None, alias="TELEGRAM_API_URL")
    telegram_mode: Literal["polling", "webhook"] = Field("polling", alias="TELEGRAM_MODE")
    telegram_webhook_url: Optional[str] = Field(None, alias="TELEGRAM_WEBHOOK_URL")
    telegram_webhook_secret: Optional[SecretStr] = Field(None, alias="TELEGRAM_WEBHOOK_SECRET")
    slack_bot_token: Optional[SecretStr] = Field(None, alias="SLACK_BOT_TOKEN")
    slack_signing_secret: Optional[SecretStr] = Field(None, alias="SLACK_SIGNING_SECRET")
    slack_app_token: Optional[SecretStr] = Field(None, alias="SLACK_APP_TOKEN")
    slack_api_url: Optional[str] = Field(None, alias="SLACK_API_URL")
    http_host: str = Field("127.0.0.1", alias="HTTP_HOST")
    http_port: int = Field(8080, alias="HTTP_PORT", ge=1, le=65535)
    # The web server's limits against slow and greedy clients (bot/http_limits.py).
    http_header_timeout: float = Field(5.0, alias="HTTP_HEADER_TIMEOUT", gt=0, le=3600)
    http_body_timeout: float = Field(10.0, alias="HTTP_BODY_TIMEOUT", gt=0, le=3600)
    http_max_connections: int = Field(500, alias="HTTP_MAX_CONNECTIONS", ge=1, le=100_000)
    http_max_body_bytes: int = Field(1024 * 1024, alias="HTTP_MAX_BODY_BYTES", ge=1024, le=100 * 1024 * 1024)
    redis_url: Optional[str] = Field(None, alias="REDIS_URL")
    # How long a recorded update may go without its worker's heartbeat before another worker
    # handles it again (core/infra/inbox.py): about the time a killed worker's updates wait.
    inbox_lease: float = Field(15.0, alias="INBOX_LEASE", gt=0.5, le=3600)

    @field_validator("database_url")
    @classmethod
    def _database(cls, value: str) -> str:
        if not value.startswith(("sqlite://", "postgresql://", "postgresql+psycopg://")):
            raise ValueError(f"must start with sqlite:// or postgresql+psycopg://, got {value!r}")
        if value.startswith("postgresql://"):
            value = "postgresql+psycopg://" + value.removeprefix("postgresql://")
        return value

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        if not is_valid_zone(value):
            raise ValueError(f"unknown time zone {value!r} (use a name like Europe/Moscow)")
        return value

    @field_validator("language")
    @classmethod
    def _language(cls, value: str) -> str:
        if value.lower() not in LANGUAGES:
            raise ValueError(f"must be one of {', '.join(LANGUAGES)}, got {value!r}")
        return value.lower()

    @field_validator("org_file")
    @classmethod
    def _org_file(cls, value: Optional[Path]) -> Optional[Path]:
        if value is not None and not value.is_file():
            raise ValueError(f"no such file: {value}")
        return value

    @field_validator("forms_dir")
    @classmethod
    def _forms_dir(cls, value: Optional[Path]) -> Optional[Path]:
        if value is not None and not value.is_dir():
            raise ValueError(f"no such directory: {value}")
        return value

    @field_validator("telegram_api_url", "telegram_webhook_url", "slack_api_url")
    @classmethod
    def _url(cls, value: Optional[str]) -> Optional[str]:
        return _http_url(value)

    @field_validator("redis_url")
    @classmethod
    def _redis(cls, value: Optional[str]) -> Optional[str]:
        if value and urlparse(value).scheme not in ("redis", "rediss", "unix"):
            raise ValueError(f"must be a redis:// URL, got {value!r}")
        return value or None

    @model_validator(mode="after")
    def _webhook_needs_url_and_secret(self) -> "Settings":
        if self.telegram_bot_token and self.telegram_mode == "webhook":
            for variable, value in (("TELEGRAM_WEBHOOK_URL", self.telegram_webhook_url),
                                    ("TELEGRAM_WEBHOOK_SECRET", self.telegram_webhook_secret)):
                if not value:
                    raise ValueError(f"{variable}: required when TELEGRAM_MODE=webhook")
        return self

    @property
    def platforms(self) -> list[str]:
        """The chat platforms with credentials; none means the console."""
        found = []
        if self.telegram_bot_token:
            found.append("telegram")
        if self.slack_bot_token:
            found.append("slack")
        return found

    def resolved_org_file(self) -> Optional[Path]:
        """TEAMFLOW_ORG_FILE, else ./org.yaml when present."""
        if self.org_file is not None:
            return self.org_file
        default = Path("org.yaml")
        return default if default.is_file() else None


def load_settings(**overrides) -> Settings:
    """Read settings; any bad value becomes a ConfigError naming the variable."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        lines = []
        for error in exc.errors():
            message = error["msg"].removeprefix("Value error, ")
            # Model-level checks name their variable in the message itself.
            lines.append(f"{error['loc'][0]}: {message}" if error["loc"] else message)
        raise ConfigError("\n".join(lines)) from None
