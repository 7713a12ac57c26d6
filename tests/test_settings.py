"""Settings: PRODUCT.md's defaults, read from the environment and `.env`, and one clear line per bad value."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.settings import ConfigError, Settings, load_settings

REPO = Path(__file__).resolve().parent.parent
PRODUCT = REPO.parent / "shared" / "PRODUCT.md"
ENV_EXAMPLE = REPO / ".env.example"

# Every field's environment variable, e.g. "DATABASE_URL".
ALIASES = sorted(field.alias for field in Settings.model_fields.values())

# PRODUCT.md's settings table, for when ../shared/PRODUCT.md is not around.
PRODUCT_VARIABLES = [
    "DATABASE_URL", "TEAMFLOW_ORG_FILE", "TEAMFLOW_FORMS_DIR", "TEAMFLOW_TIMEZONE", "TEAMFLOW_LANGUAGE",
    "TELEGRAM_BOT_TOKEN", "TELEGRAM_API_URL", "TELEGRAM_MODE", "TELEGRAM_WEBHOOK_URL", "TELEGRAM_WEBHOOK_SECRET",
    "SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "SLACK_APP_TOKEN", "SLACK_API_URL",
    "HTTP_HOST", "HTTP_PORT", "REDIS_URL",
]
# Beyond PRODUCT.md's table: the web server's limits, documented in the README and .env.example.
SERVER_LIMITS = ["HTTP_HEADER_TIMEOUT", "HTTP_BODY_TIMEOUT", "HTTP_MAX_CONNECTIONS", "HTTP_MAX_BODY_BYTES"]
# Beyond it too: how durable handling is tuned (README "Settings").
DURABILITY = ["INBOX_LEASE"]


def product_variables() -> list[str]:
    """The variables named in the first column of PRODUCT.md's "Settings" table (or the known 17)."""
    if not PRODUCT.is_file():
        return PRODUCT_VARIABLES
    text = PRODUCT.read_text(encoding="utf-8")
    section = re.search(r"^## Settings\b.*?(?=^## )", text, re.DOTALL | re.MULTILINE)
    assert section, "PRODUCT.md has no '## Settings' section"
    names = []
    for line in section.group(0).splitlines():
        if line.startswith("|"):
            first_cell = line.split("|")[1]
            names += re.findall(r"`([A-Z][A-Z0-9_]*)`", first_cell)
    return names


@pytest.fixture(autouse=True)
def clean_env(monkeypatch, tmp_path):
    """No Teamflow variable from the outside world, and no stray .env: work in tmp_path."""
    for name in ALIASES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)


# --- defaults --------------------------------------------------------------------


def test_product_table_lists_the_17_variables():
    assert sorted(product_variables()) == sorted(PRODUCT_VARIABLES)


def test_every_product_variable_is_a_settings_field():
    assert sorted(product_variables() + SERVER_LIMITS + DURABILITY) == ALIASES


def test_defaults_match_product_md():
    settings = load_settings()
    assert settings.database_url == "sqlite:///teamflow.db"
    assert settings.org_file is None and settings.resolved_org_file() is None
    assert settings.forms_dir is None                    # built-in forms only
    assert (settings.timezone, settings.language) == ("UTC", "en")
    assert settings.telegram_bot_token is None
    assert settings.telegram_api_url is None              # Telegram's own
    assert settings.telegram_mode == "polling"
    assert settings.telegram_webhook_url is None and settings.telegram_webhook_secret is None
    assert settings.slack_bot_token is None and settings.slack_signing_secret is None
    assert settings.slack_app_token is None
    assert settings.slack_api_url is None                 # Slack's own
    assert (settings.http_host, settings.http_port) == ("127.0.0.1", 8080)
    assert (settings.http_header_timeout, settings.http_body_timeout) == (5.0, 10.0)
    assert (settings.http_max_connections, settings.http_max_body_bytes) == (500, 1024 * 1024)
    assert settings.redis_url is None
    assert settings.platforms == []                      # no credentials: the console


def test_org_file_defaults_to_org_yaml_when_present(tmp_path):
    (tmp_path / "org.yaml").write_text("people: []\n", encoding="utf-8")
    settings = load_settings()
    assert settings.org_file is None
    assert settings.resolved_org_file() == Path("org.yaml")


# --- reading every variable --------------------------------------------------------


def reveal(value):
    """A SecretStr's text; anything else as it is."""
    return value.get_secret_value() if hasattr(value, "get_secret_value") else value


# (variable, raw text, field, parsed value); paths are made in tmp_path (the working directory).
GOOD_VALUES = [
    ("DATABASE_URL", "sqlite:///other.db", "database_url", "sqlite:///other.db"),
    ("TEAMFLOW_ORG_FILE", "team.yaml", "org_file", Path("team.yaml")),
    ("TEAMFLOW_FORMS_DIR", "forms", "forms_dir", Path("forms")),
    ("TEAMFLOW_TIMEZONE", "Europe/Moscow", "timezone", "Europe/Moscow"),
    ("TEAMFLOW_LANGUAGE", "ru", "language", "ru"),
    ("TELEGRAM_BOT_TOKEN", "123456:ABC", "telegram_bot_token", "123456:ABC"),
    ("TELEGRAM_API_URL", "http://127.0.0.1:8081/", "telegram_api_url", "http://127.0.0.1:8081"),
    ("TELEGRAM_MODE", "webhook", "telegram_mode", "webhook"),
    ("TELEGRAM_WEBHOOK_URL", "https://bot.example.com/telegram/webhook", "telegram_webhook_url",
     "https://bot.example.com/telegram/webhook"),
    ("TELEGRAM_WEBHOOK_SECRET", "s3cret", "telegram_webhook_secret", "s3cret"),
    ("SLACK_BOT_TOKEN", "xoxb-1", "slack_bot_token", "xoxb-1"),
    ("SLACK_SIGNING_SECRET", "signing", "slack_signing_secret", "signing"),
    ("SLACK_APP_TOKEN", "xapp-1", "slack_app_token", "xapp-1"),
    ("SLACK_API_URL", "http://127.0.0.1:9000/api", "slack_api_url", "http://127.0.0.1:9000/api"),
    ("HTTP_HOST", "0.0.0.0", "http_host", "0.0.0.0"),
    ("HTTP_PORT", "9090", "http_port", 9090),
    ("REDIS_URL", "redis://127.0.0.1:6379/0", "redis_url", "redis://127.0.0.1:6379/0"),
    ("HTTP_HEADER_TIMEOUT", "2.5", "http_header_timeout", 2.5),
    ("HTTP_BODY_TIMEOUT", "30", "http_body_timeout", 30.0),
    ("HTTP_MAX_CONNECTIONS", "64", "http_max_connections", 64),
    ("HTTP_MAX_BODY_BYTES", "65536", "http_max_body_bytes", 65536),
    ("INBOX_LEASE", "5", "inbox_lease", 5.0),
]


def test_the_good_values_cover_every_variable():
    assert sorted(variable for variable, *_ in GOOD_VALUES) == ALIASES


@pytest.fixture
def paths(tmp_path):
    """The org file and forms directory the good values point at."""
    (tmp_path / "team.yaml").write_text("people: []\n", encoding="utf-8")
    (tmp_path / "forms").mkdir()


@pytest.mark.parametrize(("variable", "raw", "field", "expected"), GOOD_VALUES, ids=[v[0] for v in GOOD_VALUES])
def test_read_from_environment(monkeypatch, paths, variable, raw, field, expected):
    monkeypatch.setenv(variable, raw)
    assert reveal(getattr(load_settings(), field)) == expected


@pytest.mark.parametrize(("variable", "raw", "field", "expected"), GOOD_VALUES, ids=[v[0] for v in GOOD_VALUES])
def test_read_from_dotenv(tmp_path, paths, variable, raw, field, expected):
    (tmp_path / ".env").write_text(f"# a comment\n{variable}={raw}\n", encoding="utf-8")
    assert reveal(getattr(load_settings(), field)) == expected


def test_environment_wins_over_dotenv(tmp_path, monkeypatch):
    (tmp_path / ".env").write_text("HTTP_PORT=9000\nHTTP_HOST=0.0.0.0\n", encoding="utf-8")
    monkeypatch.setenv("HTTP_PORT", "9100")
    settings = load_settings()
    assert (settings.http_host, settings.http_port) == ("0.0.0.0", 9100)


def test_language_is_case_insensitive(monkeypatch):
    monkeypatch.setenv("TEAMFLOW_LANGUAGE", "RU")
    assert load_settings().language == "ru"


@pytest.mark.parametrize(
    ("variables", "platforms"),
    [
        ({}, []),
        ({"TELEGRAM_BOT_TOKEN": "", "SLACK_BOT_TOKEN": ""}, []),   # empty means unset
        ({"TELEGRAM_BOT_TOKEN": "123:abc"}, ["telegram"]),
        ({"SLACK_BOT_TOKEN": "xoxb-1"}, ["slack"]),
        ({"TELEGRAM_BOT_TOKEN": "123:abc", "SLACK_BOT_TOKEN": "xoxb-1"}, ["telegram", "slack"]),
    ],
)
def test_platforms_are_the_ones_with_tokens(monkeypatch, variables, platforms):
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    assert load_settings().platforms == platforms


# --- database URLs ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("postgresql://u:p@db:5432/teamflow", "postgresql+psycopg://u:p@db:5432/teamflow"),
        ("postgresql+psycopg://u:p@db:5432/teamflow", "postgresql+psycopg://u:p@db:5432/teamflow"),
        ("sqlite:///data/teamflow.db", "sqlite:///data/teamflow.db"),
    ],
)
def test_database_url_is_normalised(monkeypatch, raw, expected):
    monkeypatch.setenv("DATABASE_URL", raw)
    assert load_settings().database_url == expected


# --- wrong values ---------------------------------------------------------------------


# (variable, wrong value, words that say why)
BAD_VALUES = [
    ("DATABASE_URL", "mysql://x", "must start with sqlite://"),
    ("TEAMFLOW_LANGUAGE", "de", "must be one of en, ru"),
    ("TEAMFLOW_TIMEZONE", "Mars/Base", "unknown time zone 'Mars/Base'"),
    ("TEAMFLOW_ORG_FILE", "missing.yaml", "no such file: missing.yaml"),
    ("TEAMFLOW_FORMS_DIR", "nope", "no such directory: nope"),
    ("TELEGRAM_MODE", "push", "'polling' or 'webhook'"),
    ("TELEGRAM_API_URL", "ftp://x", "must be an http(s) URL"),
    ("HTTP_PORT", "70000", "less than or equal to 65535"),
    ("REDIS_URL", "http://x", "must be a redis:// URL"),
    ("HTTP_HEADER_TIMEOUT", "0", "greater than 0"),
    ("HTTP_MAX_CONNECTIONS", "0", "greater than or equal to 1"),
    ("INBOX_LEASE", "0", "greater than 0.5"),
]


@pytest.mark.parametrize(("variable", "raw", "why"), BAD_VALUES, ids=[v[0] for v in BAD_VALUES])
def test_wrong_value_names_the_variable_and_why(monkeypatch, variable, raw, why):
    monkeypatch.setenv(variable, raw)
    with pytest.raises(ConfigError) as caught:
        load_settings()
    message = str(caught.value)
    assert message.startswith(f"{variable}: ")
    assert why in message
    assert len(message.splitlines()) == 1


@pytest.mark.parametrize(("variable", "raw", "why"), BAD_VALUES, ids=[v[0] for v in BAD_VALUES])
def test_wrong_value_in_dotenv_is_reported_the_same(tmp_path, variable, raw, why):
    (tmp_path / ".env").write_text(f"{variable}={raw}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=rf"^{variable}: .*{re.escape(why)}"):
        load_settings()


def test_every_wrong_value_gets_its_own_line(monkeypatch):
    for variable, raw, _ in BAD_VALUES:
        monkeypatch.setenv(variable, raw)
    with pytest.raises(ConfigError) as caught:
        load_settings()
    lines = str(caught.value).splitlines()
    assert sorted(line.split(":", 1)[0] for line in lines) == sorted(variable for variable, *_ in BAD_VALUES)


def test_non_numeric_port_is_refused(monkeypatch):
    monkeypatch.setenv("HTTP_PORT", "eighty")
    with pytest.raises(ConfigError, match=r"^HTTP_PORT: .*integer"):
        load_settings()


# --- .env.example ----------------------------------------------------------------------


def example_variables() -> set[str]:
    """Every NAME=… in .env.example, commented out or not."""
    text = ENV_EXAMPLE.read_text(encoding="utf-8")
    return set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]*)=", text, re.MULTILINE))


def test_env_example_names_every_product_variable():
    assert set(product_variables()) - example_variables() == set()


def test_env_example_names_every_settings_field():
    assert set(ALIASES) - example_variables() == set()


def test_env_example_as_dotenv_gives_the_defaults(tmp_path):
    defaults = load_settings().model_dump()
    (tmp_path / ".env").write_text(ENV_EXAMPLE.read_text(encoding="utf-8"), encoding="utf-8")
    assert load_settings().model_dump() == defaults
