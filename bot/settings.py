"""Every setting the service reads, in one typed class (environment prefix ``ARREARS_``)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


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
        default=True,
        description="Deliver every channel without credentials to the local sandbox.",
    )
    tick_seconds: float = Field(default=60.0, gt=0)
    dispatch_seconds: float = Field(default=5.0, gt=0)
    batch_size: int = Field(default=200, gt=0, le=5000)
    send_lease_seconds: int = Field(
        default=300, gt=0, description="After this a message stuck in 'sending' is retried."
    )
    corporation_name: str = "Woningcorporatie"
    corporation_phone: str = "088 123 45 67"
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
    twilio_sms_per_second: float = Field(default=1.0, gt=0)
    twilio_whatsapp_per_second: float = Field(default=20.0, gt=0)
    twilio_api_base_url: str | None = Field(
        default=None, description="Only for tests against a fake Twilio."
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
    demo_day_seconds: float = Field(
        default=10.0, gt=0, description="Real seconds per simulated day in `arrears-bot demo`."
    )
