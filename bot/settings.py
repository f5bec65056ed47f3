"""Every CLINIC_* environment variable in one typed catalogue: type, default and meaning (docs/settings.md).

`settings()` returns the values of os.environ now, `settings(env)` those of a mapping (a child process's
environment). Both are cached per snapshot of the CLINIC_* values, so a changed variable (a test's monkeypatch,
a launcher's env) is seen at the next call and an unchanged one costs a few dict look-ups (docs/settings.md).
A blank value means "unset" (the default applies) except for the rate limits marked `blank_is_value`, where
an empty string switches the limit off. An invalid value raises SettingsError naming the variable; the
programs check at start-up (`startup_check`), so a bad setting stops them at once instead of mid-conversation.
"""
from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

from pydantic import BaseSettings, Field, SecretStr, ValidationError, validator

from bot.paths import BUILD_DIR, PROJECT_ROOT, VAR_DIR

logger = logging.getLogger(__name__)

PREFIX = "CLINIC_"
TRUE_WORDS = {"1", "true", "yes", "on"}
FALSE_WORDS = {"0", "false", "no", "off"}
# read by the test suite only (tests/servers.py, tests/browser/conftest.py), never by the bot
TEST_SUITE_VARIABLES = ("CLINIC_TEST_POSTGRES_URL", "CLINIC_CHROMIUM")
DOCS = "docs/settings.md"

STORAGE, SECURITY, CHANNELS, SERVER, NOTIFY, STAFF, ALERTS, DEV = (
    "Storage", "Security and keys", "Channels", "Rasa server and action calls", "Staff notifications",
    "Website and staff console", "Escalation targets", "Development")


class SettingsError(ValueError):
    """One or more CLINIC_* variables hold a value the bot cannot use; `problems` names each."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("; ".join(problems) + f" (see {DOCS})")


class ClinicSettings(BaseSettings):
    """The clinic bot's settings; each field is the variable CLINIC_<FIELD NAME IN CAPITALS>."""

    database_url: str = Field(default_factory=lambda: f"sqlite:///{VAR_DIR / 'clinic.db'}", area=STORAGE,
                              description="the clinic database: conversation log (tracker store), escalations, "
                                          "staff tables; e.g. postgresql://user:pass@host:5432/clinic")
    kb_database_url: str = Field(default_factory=lambda: f"sqlite:///{BUILD_DIR / 'knowledge.db'}", area=STORAGE,
                                 description="the knowledge base built from knowledge/sources and cards (`make kb`)")
    redis_url: str | None = Field(None, area=STORAGE,
                                  description="Redis shared by several servers: Rasa's lock store, the channel, "
                                              "REST and staff-login rate-limit counters (unset: in memory)")
    profile: Path = Field(PROJECT_ROOT / "clinic.yml", area=STORAGE,
                          description="the clinic profile: name, phone, opening hours, emergency number")

    env: str = Field("", area=SECURITY, description="`production` (or `prod`) turns on every production check; "
                                                    "anything else is development")
    require_rest_token: bool = Field(False, area=SECURITY,
                                     description="the REST token is required even on loopback")
    rest_token: SecretStr | None = Field(None, area=SECURITY,
                                         description="bearer token for /webhooks/rest/ (at least 32 characters); "
                                                     "required beyond loopback and in production")
    allowed_origins: tuple[str, ...] = Field((), area=SECURITY, kind="comma-separated list",
                                             description="origins allowed cross-origin, HTTP and socket.io "
                                                         "(scheme://host[:port]; `bot run` sets the demo page's; "
                                                         "unset and no --cors: none)")
    max_body_bytes: int = Field(64 * 1024, area=SECURITY, unit="bytes", at_least=1024,
                                too_small="{name}={value} is too small for any channel (use >= 1024)",
                                description="largest request body on any Rasa server route (413 above it)")
    rest_address_rate_limit: str | None = Field(None, area=SECURITY, kind="rate limit",
                                                description="REST requests per client address, `;` for several, "
                                                            "`off` for none (unset: 60/minute when REST is "
                                                            "protected, off on open loopback REST)")
    log_debug: bool = Field(False, area=SECURITY,
                            description="lets DEBUG log records through on a developer's machine "
                                        "(ignored in production)")
    log_pseudonym_key: SecretStr | None = Field(None, area=SECURITY,
                                                description="keys the phone pseudonyms in logs (unset: derived "
                                                            "from the secret key, else random per process)")
    secret_key: SecretStr | None = Field(None, area=SECURITY,
                                         description="signs staff session cookies, CSRF tokens and widget session "
                                                     "ids; the same on every server (unset: the key file)")
    secret_key_file: Path = Field(VAR_DIR / "secret_key", area=SECURITY,
                                  description="without CLINIC_SECRET_KEY, a key generated once into this file")
    data_key: SecretStr | None = Field(None, area=SECURITY, kind="secret, comma-separated",
                                       description="contact-detail encryption key(s), newest first: the first "
                                                   "encrypts, all decrypt (Fernet key or passphrase)")
    data_key_file: Path = Field(VAR_DIR / "data_key", area=SECURITY,
                                description="without CLINIC_DATA_KEY, a Fernet key generated once into this file")
    handoff_token: SecretStr | None = Field(None, area=SECURITY,
                                            description="the web app's token for the Rasa server's handoff "
                                                        "routes (unset: var/handoff_token, generated once)")

    whatsapp_graph_version: str = Field("v23.0", area=CHANNELS,
                                        description="Meta Graph API version for outgoing WhatsApp Cloud messages")
    sender_rate_limit: str = Field("20/minute;200/hour", area=CHANNELS, kind="rate limit", blank_is_value=True,
                                   description="messages one sender may send on Telegram, WhatsApp and the widget "
                                               "(empty: off)")
    rest_rate_limit: str = Field("", area=CHANNELS, kind="rate limit", blank_is_value=True,
                                 description="the same for REST senders (REST is for tests and trusted "
                                             "integrations; empty: off)")
    socket_session_rate_limit: str = Field("30/minute", area=CHANNELS, kind="rate limit", blank_is_value=True,
                                           description="new widget sessions one network address may open "
                                                       "(empty: off)")
    webhook_max_bytes: int = Field(65536, area=CHANNELS, at_least=1024,
                                   description="largest webhook body accepted (413 above it)")
    max_message_chars: int = Field(4096, area=CHANNELS, at_least=200,
                                   description="longest message the bot reads, on every channel (a clear reply "
                                               "with the emergency numbers above it)")
    webhook_dedup_days: float = Field(8, area=CHANNELS, at_least=0.01,
                                      description="how long a platform's message id is remembered (Meta "
                                                  "re-delivers for up to 7 days)")
    send_attempts: int = Field(4, area=CHANNELS, at_least=1,
                               description="tries per outgoing platform call on 429, 5xx or a connection error")
    send_max_wait: float = Field(30, area=CHANNELS, at_least=0,
                                 description="longest wait in seconds before a retry (a longer Telegram "
                                             "retry_after gives up)")

    action_timeout: float = Field(5.0, area=SERVER, unit="seconds",
                                  description="seconds the Rasa server waits for one action server call before "
                                              "it apologises instead")
    action_retry_after: float = Field(5.0, area=SERVER, unit="seconds",
                                      description="seconds the Rasa server answers at once with the apology after "
                                                  "a timeout or refused connection, before it tries again")
    rasa_url: str = Field("http://localhost:5005", area=SERVER,
                          description="the Rasa server as the web app reaches it (`bot run` sets it)")
    public_rasa_url: str | None = Field(None, area=SERVER,
                                        description="the Rasa server as website visitors reach it, e.g. "
                                                    "https://chat.clinic.example (unset: CLINIC_RASA_URL)")

    notify_timeout: float = Field(5.0, area=NOTIFY, unit="seconds",
                                  description="seconds each staff notifier (email, webhook) may take")
    smtp_host: str | None = Field(None, area=NOTIFY,
                                  description="mail server for escalation emails (with CLINIC_STAFF_EMAIL)")
    smtp_port: int = Field(587, area=NOTIFY, description="the mail server's port")
    smtp_from: str | None = Field(None, area=NOTIFY, description="the emails' sender address")
    smtp_user: str | None = Field(None, area=NOTIFY, description="login name at the mail server")
    smtp_password: SecretStr | None = Field(None, area=NOTIFY, description="password at the mail server")
    smtp_starttls: bool = Field(True, area=NOTIFY, description="STARTTLS to the mail server (0/false/no/off: "
                                                               "plain)")
    staff_email: str | None = Field(None, area=NOTIFY, description="where escalation emails go")
    staff_webhook_url: str | None = Field(None, area=NOTIFY,
                                          description="escalations are POSTed here as JSON (Slack/Teams relay, "
                                                      "pager); never the patient's words")
    staff_webhook_token: SecretStr | None = Field(None, area=NOTIFY,
                                                  description="bearer token sent to the staff webhook")

    secure_cookies: bool = Field(False, area=STAFF, description="behind HTTPS: the console's cookies get `Secure`")
    cookie_samesite: str = Field("Lax", area=STAFF, description="`Lax` or `Strict` (anything else: Lax)")
    staff_session_hours: float = Field(8, area=STAFF, unit="hours", description="how long a staff login lasts")
    staff_login_limit: str = Field("10 per minute;50 per hour", area=STAFF, kind="rate limit",
                                   description="failed logins one address may make before 429")
    staff_max_failed_logins: int = Field(5, area=STAFF, unit="failed logins", at_least=1,
                                         description="failures in a row that lock an account")
    staff_lockout_minutes: float = Field(15, area=STAFF, unit="minutes", description="how long the lock lasts")
    proxy_hops: int = Field(0, area=STAFF, unit="proxies (0, 1, 2)", at_least=0,
                            description="reverse proxies in front of the web app whose X-Forwarded-For is "
                                        "trusted (0: the connecting address)")
    low_confidence: float = Field(0.6, area=STAFF,
                                  description="answers below this intent confidence are listed for a staff look")
    retention_days: int = Field(365, area=STAFF, unit="days", at_least=1,
                                description="conversations idle longer than this are erased")

    target_emergency_minutes: int = Field(5, area=ALERTS, unit="minutes", at_least=1,
                                          description="response target for an emergency escalation")
    target_same_day_minutes: int = Field(30, area=ALERTS, unit="minutes", at_least=1,
                                         description="response target for a same-day escalation")
    target_soon_minutes: int | None = Field(None, area=ALERTS, unit="minutes", at_least=1,
                                            description="response target for a `soon` escalation (unset: the end "
                                                        "of the clinic's next opening day)")
    renotify_interval_s: float = Field(60, area=ALERTS, unit="seconds",
                                       description="how often the web app re-notifies escalations past target")

    pg_bin: Path | None = Field(None, area=DEV, description="PostgreSQL's bin folder for the throwaway test "
                                                            "servers (unset: the newest /usr/lib/postgresql/*/bin)")

    class Config:
        env_prefix = PREFIX
        extra = "forbid"
        allow_mutation = False

        @classmethod
        def customise_sources(cls, init_settings: Any, env_settings: Any, file_secret_settings: Any) -> tuple:
            return (init_settings,)  # __init__ reads the environment itself: blank values and mappings

    def __init__(self, _environ: Mapping[str, str] | None = None, **values: Any) -> None:
        """The values of `_environ` (default os.environ), overridden by keyword values (field names)."""
        super().__init__(**{**environ_values(os.environ if _environ is None else _environ), **values})

    @property
    def production(self) -> bool:
        return self.env.strip().lower() in {"production", "prod"}

    @validator("action_timeout", "action_retry_after", "notify_timeout", "renotify_interval_s", pre=True)
    def _seconds(cls, value: Any, field: Any) -> float:  # noqa: N805 - pydantic validator
        raw, name = str(value).strip(), variable(field.name)
        try:
            seconds = float(raw)
        except ValueError:
            raise ValueError(f"{name}={raw!r}: expected a number of seconds, e.g. {field.default:g}") from None
        if not seconds > 0:
            raise ValueError(f"{name}={raw!r}: must be more than 0 seconds")
        return seconds

    @validator("webhook_max_bytes", "max_message_chars", "webhook_dedup_days", "send_attempts", "send_max_wait",
               pre=True)
    def _channel_number(cls, value: Any, field: Any) -> float:  # noqa: N805 - pydantic validator
        raw, name, minimum = str(value).strip(), variable(field.name), field.field_info.extra["at_least"]
        try:
            number = float(raw)
        except ValueError:
            raise ValueError(f"{name}={raw!r}: expected a number") from None
        if number < minimum:
            raise ValueError(f"{name}={raw!r}: must be at least {minimum:g}")
        return number

    @validator("max_body_bytes", "staff_max_failed_logins", "proxy_hops", "retention_days",
               "target_emergency_minutes", "target_same_day_minutes", "target_soon_minutes", pre=True)
    def _whole(cls, value: Any, field: Any) -> int | None:  # noqa: N805 - pydantic validator
        if value is None:
            return None
        raw, name, extra = str(value).strip(), variable(field.name), field.field_info.extra
        if not raw.isdigit():
            raise ValueError(f"{name} must be a whole number of {extra['unit']}, not {raw!r}")
        number = int(raw)
        if number < extra["at_least"]:
            raise ValueError(extra.get("too_small", "{name} must be at least {minimum}").format(
                name=name, value=number, minimum=extra["at_least"]))
        return number

    @validator("staff_session_hours", "staff_lockout_minutes", pre=True)
    def _duration(cls, value: Any, field: Any) -> float:  # noqa: N805 - pydantic validator
        raw, name, unit = str(value).strip(), variable(field.name), field.field_info.extra["unit"]
        try:
            number = float(raw)
        except ValueError:
            raise ValueError(f"{name}={raw!r}: expected a number of {unit}") from None
        if number < 0:
            raise ValueError(f"{name}={raw!r}: must not be negative")
        return number

    @validator("low_confidence", pre=True)
    def _confidence(cls, value: Any) -> float:  # noqa: N805 - pydantic validator
        try:
            number = float(value)
        except ValueError:
            number = -1.0
        if not 0 <= number <= 1:
            raise ValueError(f"CLINIC_LOW_CONFIDENCE={value!r} is not a number between 0 and 1")
        return number

    @validator("require_rest_token", "log_debug", "secure_cookies", pre=True)
    def _flag_on(cls, value: Any) -> bool:  # noqa: N805 - pydantic validator
        return value if isinstance(value, bool) else str(value).strip().lower() in TRUE_WORDS

    @validator("smtp_starttls", pre=True)
    def _flag_off(cls, value: Any) -> bool:  # noqa: N805 - pydantic validator
        return value if isinstance(value, bool) else str(value).strip().lower() not in FALSE_WORDS

    @validator("sender_rate_limit", "rest_rate_limit", "socket_session_rate_limit", pre=True)
    def _channel_rate(cls, value: Any, field: Any) -> str:  # noqa: N805 - pydantic validator
        spec = str(value).strip()
        if spec and not _is_rate(spec):
            raise ValueError(f"{variable(field.name)}={spec!r} is not a rate limit such as '20/minute;200/hour' "
                             "(empty: off)")
        return spec

    @validator("rest_address_rate_limit", pre=True)
    def _address_rate(cls, value: Any) -> str | None:  # noqa: N805 - pydantic validator
        spec = None if value is None else str(value).strip()
        if spec and spec.lower() not in {"off", "none", "0"} and not _is_rate(spec):
            raise ValueError(f"CLINIC_REST_ADDRESS_RATE_LIMIT={spec!r} is not a rate limit such as '60/minute' or "
                             "'60/minute;600/hour'")
        return spec

    @validator("staff_login_limit", pre=True)
    def _login_rate(cls, value: Any) -> str:  # noqa: N805 - pydantic validator
        if not _is_rate(value):
            raise ValueError(f"CLINIC_STAFF_LOGIN_LIMIT={value!r} is not a rate such as '10 per minute'")
        return value

    @validator("env", "redis_url", "rest_token", "handoff_token", pre=True)
    def _stripped(cls, value: Any) -> Any:  # noqa: N805 - pydantic validator
        return value.strip() if isinstance(value, str) else value

    @validator("whatsapp_graph_version", pre=True)
    def _graph_version(cls, value: Any) -> str:  # noqa: N805 - pydantic validator
        version = str(value).strip()
        return version if version.startswith("v") else f"v{version}"

    @validator("cookie_samesite", pre=True)
    def _samesite(cls, value: Any) -> str:  # noqa: N805 - pydantic validator
        samesite = str(value).strip().capitalize()
        return samesite if samesite in ("Lax", "Strict") else "Lax"

    @validator("allowed_origins", pre=True)
    def _origins(cls, value: Any) -> tuple[str, ...]:  # noqa: N805 - pydantic validator
        items = value.split(",") if isinstance(value, str) else value
        return tuple(o.strip().rstrip("/") for o in items if o.strip())


def _is_rate(spec: str) -> bool:
    from limits import parse_many

    try:
        parse_many(spec)
    except ValueError:
        return False
    return True


def variable(field_name: str) -> str:
    """The environment variable of a field: database_url -> CLINIC_DATABASE_URL."""
    return PREFIX + field_name.upper()


FIELDS = ClinicSettings.__fields__
VARIABLES = tuple(variable(name) for name in FIELDS)
_KEEPS_BLANK = frozenset(name for name, f in FIELDS.items() if f.field_info.extra.get("blank_is_value"))


def environ_values(env: Mapping[str, str]) -> dict[str, str]:
    """The field values a mapping sets: its CLINIC_* items by field name, blank ones left out (unset)."""
    values = {}
    for name in FIELDS:
        raw = env.get(variable(name))
        if raw is not None and (name in _KEEPS_BLANK or raw.strip()):
            values[name] = raw
    return values


def settings(env: Mapping[str, str] | None = None) -> ClinicSettings:
    """The settings of os.environ (or of `env`) as they are now; SettingsError if a value is invalid."""
    source = os.environ if env is None else env
    return _settings_for(tuple(map(source.get, VARIABLES)))


@lru_cache(maxsize=32)
def _settings_for(snapshot: tuple[str | None, ...]) -> ClinicSettings:
    environ = {name: value for name, value in zip(VARIABLES, snapshot, strict=True) if value is not None}
    try:
        return ClinicSettings(environ)
    except ValidationError as error:
        raise SettingsError([_problem(item, environ) for item in error.errors()]) from None


def _problem(item: dict, environ: Mapping[str, str]) -> str:
    name = variable(str(item["loc"][0]))
    message = item["msg"]
    return message if message.startswith(name) else f"{name}={environ.get(name)!r}: {message}"


def unknown_variables(env: Mapping[str, str] | None = None) -> list[str]:
    """CLINIC_* names in the environment that no setting reads (a typo is otherwise silently ignored)."""
    known = set(VARIABLES) | set(TEST_SUITE_VARIABLES)
    return sorted(name for name in (os.environ if env is None else env) if name.startswith(PREFIX)
                  and name not in known)


def startup_check(program: str, env: Mapping[str, str] | None = None) -> ClinicSettings:
    """Validate every setting before `program` starts: SystemExit naming each bad variable; unknown
    CLINIC_* names are warned about."""
    try:
        values = settings(env)
    except SettingsError as error:
        problems = "\n".join(f"  {problem}" for problem in error.problems)
        raise SystemExit(f"clinic bot: refusing to start {program}: invalid settings\n{problems}\n"
                         f"Fix them in the environment (the variables are listed in {DOCS}).") from None
    for name in unknown_variables(env):
        logger.warning("%s is set but no setting reads it (a typo? the variables are listed in %s)", name, DOCS)
    return values


def database_url() -> str:
    """The clinic's database: conversation log (Rasa tracker store), escalations, staff tables."""
    return settings().database_url


def knowledge_database_url() -> str:
    """The knowledge base built from knowledge/sources and knowledge/cards (rebuilt by `make kb`)."""
    return settings().kb_database_url


def redis_url() -> str | None:
    """A Redis URL shared by several servers: Rasa's lock store and the rate-limit counters (optional)."""
    return settings().redis_url


def action_timeout() -> float:
    """Seconds the Rasa server waits for one action server call before it apologises instead
    (bot/server/action_timeout.py)."""
    return settings().action_timeout


def action_retry_after() -> float:
    """Seconds the Rasa server stops calling an action server that timed out or refused the connection."""
    return settings().action_retry_after


def secret(value: SecretStr | None) -> str | None:
    """The text of a secret setting, or None when unset."""
    return None if value is None else value.get_secret_value()
