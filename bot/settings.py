"""Every setting the service reads, in one typed class (environment prefix ``ARREARS_``)."""

from __future__ import annotations

import ipaddress
import re
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError


class SetupError(ValueError):
    """The settings together cannot run the service; the message says what to set."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="ARREARS_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    database_url: str = Field(
        default="sqlite+aiosqlite:///arrears-bot.db",
        description="SQLAlchemy async URL; postgresql+asyncpg://… in production.",
    )
    policy_file: Path | None = Field(
        default=None, description="TOML policy overriding the shipped default policy."
    )
    host: str = "127.0.0.1"
    port: int = 8080
    sandbox: bool = Field(
        default=False,
        description="Development only: deliver every channel to the local /sandbox page. "
        "Refused while any real provider or a public URL is set.",
    )
    tick_seconds: float = Field(default=60.0, gt=0)
    dispatch_seconds: float = Field(default=5.0, gt=0)
    batch_size: int = Field(default=1000, gt=0, le=5000)
    send_lease_seconds: int = Field(
        default=300,
        ge=3,
        description="A claimed message is held this long; a live worker renews the claim "
        "every third of it, so only a dead worker's messages are taken over.",
    )
    send_concurrency: int = Field(
        default=16,
        ge=1,
        le=200,
        description="Messages one worker may have in flight at once (each until its outcome "
        "is committed). Provider rate limits hold per sender whatever this is.",
    )
    send_timeout_seconds: float = Field(
        default=15.0,
        gt=0,
        description="A provider call that takes longer is retried later. Keep it below the "
        "shutdown grace, so a stop lets every call in flight finish or time out.",
    )
    shutdown_grace_seconds: float = Field(
        default=20.0,
        ge=0,
        description="On SIGTERM, how long a worker waits for the sends in flight to finish.",
    )
    inbox_seconds: float = Field(
        default=1.0, gt=0, description="How often a worker looks for tenants' messages."
    )
    inbox_concurrency: int = Field(
        default=2, ge=1, le=50, description="Tenants' messages one worker handles at once."
    )
    db_pool_size: int = Field(default=10, ge=1, description="Connections kept open (PostgreSQL).")
    db_max_overflow: int = Field(
        default=5, ge=0, description="Extra connections allowed at peaks (PostgreSQL)."
    )
    webhook_max_wait_seconds: float = Field(
        default=5.0,
        gt=0,
        description="A webhook that cannot store its message this fast is answered 503 "
        "(retryable) instead of waiting for a connection any longer.",
    )
    metrics_token: SecretStr | None = Field(
        default=None,
        description="Bearer token for /metrics. Empty: /metrics answers only direct "
        "requests from this machine that came through no proxy.",
    )
    corporation_name: str = "Woningcorporatie"
    corporation_phone: str = "088 123 45 67"
    payment_iban: str | None = Field(
        default=None, description="Where tenants pay the rent; told only to verified addresses."
    )
    log_level: str = "INFO"
    public_base_url: str | None = Field(
        default=None,
        description="The service's public https URL (behind any proxy); webhooks are "
        "verified against it and status callbacks point to it.",
    )
    twilio_account_sid: str | None = None
    twilio_auth_token: SecretStr | None = None
    twilio_sms_from: str | None = Field(
        default=None, description="E.164 sender number or Messaging Service SID (MG…)."
    )
    twilio_whatsapp_from: str | None = Field(
        default=None, description="E.164 number of the approved WhatsApp sender."
    )
    # Rate limits hold for all workers together (the budget is kept in the database).
    twilio_sms_per_second: float = Field(default=1.0, gt=0)
    twilio_whatsapp_per_second: float = Field(default=20.0, gt=0)
    telegram_per_second: float = Field(
        default=25.0, gt=0, description="Telegram's limit for one bot, all chats together."
    )
    twilio_api_base_url: str | None = Field(
        default=None, description="Only for tests against a fake Twilio."
    )
    telegram_bot_token: SecretStr | None = Field(default=None, description="Empty: Telegram off.")
    telegram_bot_username: str | None = Field(
        default=None, description="The bot's @name without @, for the t.me deep links."
    )
    telegram_mode: Literal["webhook", "polling"] = "webhook"
    telegram_webhook_secret: SecretStr | None = Field(
        default=None,
        description="Checked on every Telegram webhook (X-Telegram-Bot-Api-Secret-Token).",
    )
    telegram_link_days: int = Field(default=14, ge=1, le=90)
    telegram_api_base_url: str | None = Field(
        default=None, description="Only for tests against a fake Bot API server."
    )
    smtp_host: str | None = Field(default=None, description="Empty: email is off.")
    smtp_port: int = 587
    smtp_security: Literal["starttls", "tls", "none"] = "starttls"
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_from: str = "Huurbetaling <huur@example.nl>"
    whatsapp_content_sids: dict[str, str] = Field(
        default_factory=dict,
        description='Approved WhatsApp templates: {"reminder_friendly:nl": "HX…", …}.',
    )
    secret_key: SecretStr | None = Field(
        default=None,
        description="Signs consultants' session cookies; at least 32 characters. Empty: a "
        "random key per start, so every restart logs everyone out.",
    )
    session_hours: float = Field(
        default=10.0, gt=0, description="A consultant's login lasts this long."
    )
    trusted_proxies: str = Field(
        default="",
        description="Comma-separated addresses or networks of your reverse proxies, e.g. "
        "127.0.0.1,10.0.0.0/24. Only their X-Forwarded-For is believed, to count failed "
        "logins per client; empty: every connection's own address counts.",
    )
    # Failed logins are counted per client address: the connection's own, or the one a
    # trusted proxy forwarded for.
    login_max_failures: int = Field(
        default=5,
        ge=1,
        description="Failed logins for one name from one address (within the window) before "
        "that address is held off that name; other addresses are not.",
    )
    login_client_max_failures: int = Field(
        default=20,
        ge=1,
        description="Failed logins from one address, whatever the names (within the window), "
        "before that address is held off every login.",
    )
    login_window_minutes: int = Field(
        default=15, ge=1, description="Failed logins older than this are forgotten."
    )
    lockout_minutes: int = Field(
        default=15, ge=1, description="How long an address is held off a name, or every login."
    )
    demo_day_seconds: float = Field(
        default=10.0, gt=0, description="Real seconds per simulated day in `arrears-bot demo`."
    )

    @field_validator("secret_key")
    @classmethod
    def _secret_key_length(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value()) < 32:
            raise ValueError("use at least 32 random characters (openssl rand -hex 32)")
        return value

    @field_validator("database_url")
    @classmethod
    def _a_database_we_speak(cls, value: str) -> str:
        # Said without the value: the URL carries the database password.
        try:
            driver = make_url(value).drivername
        except ArgumentError:
            driver = ""
        if driver not in ("sqlite+aiosqlite", "postgresql+asyncpg"):
            raise ValueError(
                "use sqlite+aiosqlite:///FILE or postgresql+asyncpg://USER:PASSWORD@HOST/NAME"
            )
        return value

    @field_validator("trusted_proxies")
    @classmethod
    def _proxies_are_networks(cls, value: str) -> str:
        for part in filter(None, (p.strip() for p in value.split(","))):
            try:
                ipaddress.ip_network(part, strict=False)
            except ValueError:
                raise ValueError(f"{part!r} is not an address or network") from None
        return value

    def trusted_networks(self) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
        return tuple(
            ipaddress.ip_network(part, strict=False)
            for part in (p.strip() for p in self.trusted_proxies.split(","))
            if part
        )

    @field_validator("telegram_webhook_secret")
    @classmethod
    def _telegram_secret_shape(cls, value: SecretStr | None) -> SecretStr | None:
        # Telegram accepts 1-256 characters of A-Z a-z 0-9 _ -; we ask for at least 16.
        if value is not None and not re.fullmatch(
            r"[A-Za-z0-9_-]{16,256}", value.get_secret_value()
        ):
            raise ValueError("use 16 to 256 characters of A-Z, a-z, 0-9, _ and -")
        return value

    @model_validator(mode="after")
    def _sandbox_only_in_development(self) -> Settings:
        # A sandbox next to a real provider would swallow the channels it does not serve
        # (reminders marked sent that reach no one), and a public URL means a proxy in front,
        # through which the sandbox's "only this machine" check sees every visitor as local.
        if self.sandbox:
            real = [name for name, on in self.real_parts().items() if on]
            if real:
                raise ValueError(
                    "ARREARS_SANDBOX=true is for development only and cannot be combined with "
                    + ", ".join(real)
                    + "; set ARREARS_SANDBOX=false"
                )
        return self

    def real_parts(self) -> dict[str, bool]:
        """What makes this a real installation rather than a developer's machine."""
        return {
            "Twilio": bool(self.twilio_account_sid or self.twilio_auth_token),
            "Telegram": self.telegram_bot_token is not None,
            "SMTP": bool(self.smtp_host),
            "ARREARS_PUBLIC_BASE_URL": bool(self.public_base_url),
        }
