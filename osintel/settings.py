"""Settings: one loader, one documented set of defaults, explicit precedence.

Precedence, lowest first: ``osintel/config/osintel.toml`` (the documented defaults) < a user config
file (``--config`` or ``OSINTEL_CONFIG``) < environment variables < command-line overrides.

Environment variables are named ``OSINTEL_<KEY>`` for top-level keys (``OSINTEL_DATA_DIR``) and
``OSINTEL_<SECTION>_<KEY>`` for the others (``OSINTEL_CRAWL_USER_AGENT``). This module is the only
place in osintel that reads ``os.environ``.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from osintel.db import url as store_url
from osintel.errors import ConfigError

#: The directory holding the bundled configuration (defaults, sources, taxonomy): package data of
#: ``osintel`` (``osintel/config/``), found the same way from a checkout, an editable install and a
#: wheel. Installs are unpacked, so it is a real directory the path settings can point into.
CONFIG_DIR = Path(str(resources.files("osintel") / "config")).resolve()
DEFAULTS_FILE = CONFIG_DIR / "osintel.toml"


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CrawlSettings(_Section):
    user_agent: str
    obey_robots: bool
    concurrent_requests_per_domain: int
    download_delay: float
    autothrottle: bool
    autothrottle_target_concurrency: float
    max_response_bytes: int
    download_timeout: int
    process_timeout: int
    max_pages: int
    max_links_per_page: int = Field(ge=1)
    retry_times: int


class NLPSettings(_Section):
    spacy_model_en: str
    spacy_model_fr: str
    spacy_model_de: str
    spacy_model_es: str
    spacy_model_nl: str
    spacy_model_pt: str
    spacy_model_it: str
    spacy_model_fallback: str
    embedding_batch_size: int
    batch_size: int
    langdetect_seed: int
    phone_default_region: str
    max_text_chars: int


class IndexSettings(_Section):
    backend: str
    writer_heap_bytes: int
    max_page_size: int


class ElasticsearchSettings(_Section):
    """The cluster used when ``index.backend = "elasticsearch"``."""

    urls: list[str]
    distribution: Literal["elasticsearch", "opensearch"]
    api_key: str
    username: str
    password: str
    ca_file: str
    request_timeout: float
    search_timeout: float
    index_prefix: str
    bulk_chunk_size: int
    bulk_max_retries: int

    @field_validator("urls", mode="before")
    @classmethod
    def _split_urls(cls, value: Any) -> Any:
        # From the environment the list arrives as one string: "http://a:9200,http://b:9200".
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value


class APISettings(_Section):
    host: str
    port: int
    workers: int = Field(ge=1)
    rate_limit_per_second: float
    rate_limit_burst: int
    session_ttl_seconds: int
    cookie_secure: bool
    max_aggregation_hits: int
    cooccurrence_hits: int


class RetentionSettings(_Section):
    default_days: int


class DemoSettings(_Section):
    site_port: int
    seed: int


class ScheduleSettings(_Section):
    misfire_policy: Literal["run-once", "skip"]
    misfire_grace_seconds: int
    max_concurrent_crawls: int
    shutdown_grace_seconds: float


class WorkerSettings(_Section):
    poll_seconds: float
    error_backoff_seconds: float
    max_backoff_seconds: float
    processes: int = Field(ge=0)
    commit_documents: int = Field(ge=1)
    commit_seconds: float = Field(gt=0)


class StoreSettings(_Section):
    """Where the control store lives: "" is the SQLite file in ``data_dir``; a ``postgresql://``
    URL is a shared PostgreSQL database (several machines on one state)."""

    url: str

    @field_validator("url")
    @classmethod
    def _known_engine(cls, value: str) -> str:
        # A typo'd scheme must stop start-up, never fall back to the embedded file.
        return store_url.check(value.strip())


class HealthSettings(_Section):
    history_runs: int
    empty_runs: int
    drift_min_articles: int
    drift_failed_share: float
    drift_baseline_share: float
    stale_intervals: float
    authorisation_warning_days: int


class AlertSettings(_Section):
    enabled: bool
    watchlists_file: str
    sweep_batch: int
    overlap_seconds: float
    dispatch_poll_seconds: float
    max_attempts: int
    retry_backoff_seconds: float
    rate_limit_per_hour: int
    flood_threshold: int
    webhook_secret: str
    webhook_timeout_seconds: float
    webhook_allowed_hosts: str
    smtp_host: str
    smtp_port: int
    smtp_user: str
    smtp_password: str
    smtp_from: str
    smtp_starttls: bool
    smtp_timeout_seconds: float
    emerging_interval_seconds: float
    emerging_recent_days: int
    emerging_baseline_days: int
    emerging_min_count: int
    emerging_min_ratio: float
    emerging_min_score: float
    phrase_min_stories: int
    phrase_max_per_run: int


class ExportSettings(_Section):
    producer_name: str
    max_documents: int
    max_text_chars: int
    page_size: int
    taxii_default_limit: int
    taxii_max_limit: int


class Settings(_Section):
    """All settings, validated. Build with :func:`load_settings`."""

    data_dir: Path
    sources_file: Path
    methods_file: Path
    crimetypes_file: Path
    log_level: str
    store: StoreSettings
    crawl: CrawlSettings
    nlp: NLPSettings
    index: IndexSettings
    elasticsearch: ElasticsearchSettings
    api: APISettings
    demo: DemoSettings
    schedule: ScheduleSettings
    worker: WorkerSettings
    health: HealthSettings
    alerts: AlertSettings
    retention: RetentionSettings
    export: ExportSettings

    def with_overrides(self, **overrides: Any) -> Settings:
        """A copy with dotted-key overrides applied (``{"crawl.max_pages": 10}``)."""
        data = self.model_dump()
        for key, value in overrides.items():
            _set_dotted(data, key, value)
        return _validate(data)

    @property
    def store_path(self) -> Path:
        return self.data_dir / "osintel.sqlite3"

    @property
    def index_dir(self) -> Path:
        return self.data_dir / "index"

    @property
    def warc_dir(self) -> Path:
        return self.data_dir / "warc"


def _set_dotted(data: dict[str, Any], key: str, value: Any) -> None:
    parts = key.split(".")
    node = data
    for part in parts[:-1]:
        if not isinstance(node.get(part), dict):
            raise ConfigError(f"unknown setting {key!r}")
        node = node[part]
    if parts[-1] not in node:
        raise ConfigError(f"unknown setting {key!r}")
    node[parts[-1]] = value


def _merge(base: dict[str, Any], update: Mapping[str, Any], origin: str) -> None:
    for key, value in update.items():
        if key not in base:
            raise ConfigError(f"{origin}: unknown setting {key!r}")
        if isinstance(base[key], dict):
            if not isinstance(value, Mapping):
                raise ConfigError(f"{origin}: [{key}] must be a table")
            _merge(base[key], value, f"{origin} [{key}]")
        else:
            base[key] = value


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise ConfigError(f"config file {path} does not exist") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config file {path} is not valid TOML: {exc}") from None


#: Documented short names, used only when the canonical ``OSINTEL_<SECTION>_<KEY>`` is not set.
ENV_ALIASES: dict[str, tuple[str, str]] = {
    "OSINTEL_INDEX": ("index", "backend"),
    "OSINTEL_ES_URL": ("elasticsearch", "urls"),
}


def _env_layer(env: Mapping[str, str], defaults: dict[str, Any]) -> dict[str, Any]:
    layer: dict[str, Any] = {}
    for alias, (section, key) in ENV_ALIASES.items():
        if alias in env:
            layer.setdefault(section, {})[key] = env[alias]
    for key, value in defaults.items():
        if isinstance(value, dict):
            for sub in value:
                name = f"OSINTEL_{key}_{sub}".upper()
                if name in env:
                    layer.setdefault(key, {})[sub] = env[name]
        else:
            name = f"OSINTEL_{key}".upper()
            if name in env:
                layer[key] = env[name]
    return layer


def _validate(data: dict[str, Any]) -> Settings:
    try:
        return Settings.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()
        )
        raise ConfigError(f"invalid settings: {problems}") from None


def load_settings(
    *,
    config_file: str | Path | None = None,
    env: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> Settings:
    """Load settings with precedence defaults < config file < environment < ``overrides``.

    ``overrides`` uses dotted keys (``"data_dir"``, ``"api.port"``); ``None`` values are ignored
    so that unset command-line options do not mask lower layers.
    """
    env = os.environ if env is None else env
    cwd = Path.cwd()
    data = _read_toml(DEFAULTS_FILE)
    defaults_snapshot = {k: (dict(v) if isinstance(v, dict) else v) for k, v in data.items()}
    _resolve_paths(data, CONFIG_DIR, data_base=cwd)  # the documented "./data" is the caller's ./data
    config_file = config_file or env.get("OSINTEL_CONFIG")
    if config_file:
        config_path = (cwd / Path(config_file).expanduser()).resolve()
        layer = _read_toml(config_path)
        _resolve_paths(layer, config_path.parent)
        _merge(data, layer, str(config_file))
    layer = _env_layer(env, defaults_snapshot)
    _resolve_paths(layer, cwd)
    _merge(data, layer, "environment")
    for key, value in (overrides or {}).items():
        if value is not None:
            if tuple(key.split(".")) in PATH_SETTINGS:
                value = _absolute(value, cwd)
            _set_dotted(data, key, value)
    return _validate(data)


#: Settings that name a file or directory. A relative path is resolved once, when the settings are
#: loaded, against the directory of the layer that set it: the bundled config directory for the
#: defaults (except ``data_dir``), the config file's directory for a ``--config`` file, and the
#: caller's working directory for the environment and the command line. Nothing later depends on
#: the process's working directory (the crawl child, for one, runs elsewhere).
PATH_SETTINGS: frozenset[tuple[str, ...]] = frozenset({
    ("data_dir",), ("sources_file",), ("methods_file",), ("crimetypes_file",),
    ("alerts", "watchlists_file"), ("elasticsearch", "ca_file"),
})


def _absolute(value: Any, base: Path) -> Any:
    if not isinstance(value, str | Path) or str(value) == "":  # "" means "none" (ca_file, watchlists_file)
        return value
    path = Path(value).expanduser()
    return str(path if path.is_absolute() else (base / path).resolve())


def _resolve_paths(layer: dict[str, Any], base: Path, *, data_base: Path | None = None) -> None:
    for keys in PATH_SETTINGS:
        node: Any = layer
        for part in keys[:-1]:
            node = node.get(part) if isinstance(node, dict) else None
        if isinstance(node, dict) and keys[-1] in node:
            node[keys[-1]] = _absolute(node[keys[-1]], data_base if keys == ("data_dir",) and data_base else base)
