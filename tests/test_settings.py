"""Settings: one typed class, every field documented in .env.example."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from bot.settings import Settings
from rules.policy import PolicyError, load_policy, parse_policy

ROOT = Path(__file__).resolve().parent.parent


def test_env_example_lists_every_setting() -> None:
    lines = (ROOT / ".env.example").read_text().splitlines()
    documented = {
        line.split("=", 1)[0].removeprefix("ARREARS_").lower()
        for line in lines
        if line.startswith("ARREARS_")
    }
    assert documented == set(Settings.model_fields)


def test_env_example_shows_the_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    defaults = Settings(_env_file=None)  # type: ignore[call-arg]
    for line in (ROOT / ".env.example").read_text().splitlines():
        if line.startswith("ARREARS_"):
            name, value = line.split("=", 1)
            if value:
                monkeypatch.setenv(name, value)
    assert Settings(_env_file=None) == defaults  # type: ignore[call-arg]


def test_defaults_run_embedded_without_the_sandbox() -> None:
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.database_url.startswith("sqlite+aiosqlite:///")
    assert not settings.sandbox  # a development tool: on only when asked for


@pytest.mark.parametrize(
    "real",
    [
        {"twilio_account_sid": "AC" + "0" * 32, "twilio_auth_token": "x" * 32},
        {"telegram_bot_token": "123:abc"},
        {"smtp_host": "smtp.example.nl"},
        {"public_base_url": "https://huur.example.nl"},
    ],
)
def test_the_sandbox_is_refused_in_a_real_installation(real: dict[str, str]) -> None:
    Settings(_env_file=None, **real)  # type: ignore[call-arg]
    with pytest.raises(ValidationError, match="development only"):
        Settings(_env_file=None, sandbox=True, **real)  # type: ignore[call-arg]


def test_environment_and_dotenv(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("ARREARS_PORT=9999\nARREARS_SANDBOX=false\n")
    monkeypatch.setenv("ARREARS_DATABASE_URL", "postgresql+asyncpg://x@127.0.0.1/y")
    settings = Settings(_env_file=tmp_path / ".env")  # type: ignore[call-arg]
    assert (settings.port, settings.sandbox) == (9999, False)
    assert settings.database_url.startswith("postgresql+asyncpg")


def test_shipped_policy_is_valid() -> None:
    policy = load_policy()
    assert [stage.name for stage in policy.stages] == ["friendly", "plan_offer", "written"]
    assert policy.stages[-1].written and policy.stages[-1].channels[0] == "email"


def test_a_policy_file_overrides(tmp_path: Path) -> None:
    path = tmp_path / "policy.toml"
    path.write_text(
        '[[stages]]\nname = "only"\nafter_days = 1\ntemplate = "reminder_friendly"\n'
        'channels = ["sms"]\n'
    )
    policy = load_policy(path)
    assert [stage.name for stage in policy.stages] == ["only"]
    assert policy.sending.max_messages_per_7_days == 3


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("stages = []", "stages"),
        (
            'timezone = "Mars/Base"\n[[stages]]\nname="a"\nafter_days=1\ntemplate="t"\n'
            'channels=["sms"]',
            "time zone",
        ),
        (
            '[sending]\nwindow_start = "20:00"\nwindow_end = "09:00"\n[[stages]]\nname="a"\n'
            'after_days=1\ntemplate="t"\nchannels=["sms"]',
            "window_start",
        ),
        ('[[stages]]\nname="a"\nafter_days=1\ntemplate="t"\nchannels=["pigeon"]', "channels"),
        ("this is not toml", "policy"),
    ],
)
def test_bad_policies_say_why(text: str, problem: str) -> None:
    with pytest.raises(PolicyError, match=problem):
        parse_policy(text)
