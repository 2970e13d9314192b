from __future__ import annotations

import re
from pathlib import Path

import pytest

from osintel.errors import ConfigError
from osintel.settings import DEFAULTS_FILE, Settings, load_settings


def test_defaults_load_from_the_bundled_toml() -> None:
    settings = load_settings(env={})
    assert settings.index.backend == "tantivy"
    assert settings.crawl.obey_robots is True
    assert settings.sources_file.name == "sources.yaml" and settings.sources_file.is_absolute()


def test_precedence_is_defaults_then_file_then_env_then_cli(tmp_path: Path) -> None:
    cfg = tmp_path / "my.toml"
    cfg.write_text('data_dir = "/from/file"\n[crawl]\nmax_pages = 7\ndownload_timeout = 9\n')
    env = {"OSINTEL_DATA_DIR": "/from/env", "OSINTEL_CRAWL_MAX_PAGES": "11"}
    settings = load_settings(config_file=cfg, env=env, overrides={"data_dir": "/from/cli", "api.port": None})
    assert settings.data_dir == Path("/from/cli")
    assert settings.crawl.max_pages == 11  # env beats file
    assert settings.crawl.download_timeout == 9  # file beats defaults
    assert settings.api.port == 8000  # a None override does not mask lower layers
    assert load_settings(config_file=cfg, env=env).data_dir == Path("/from/env")


def test_config_file_from_environment(tmp_path: Path) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text("[api]\nport = 9001\n")
    assert load_settings(env={"OSINTEL_CONFIG": str(cfg)}).api.port == 9001


@pytest.mark.parametrize(
    "content, message",
    [
        ("bogus = 1\n", "unknown setting 'bogus'"),
        ("[crawl]\nmax_pagez = 1\n", "unknown setting 'max_pagez'"),
        ("[crawl]\nmax_pages = 'many'\n", "crawl.max_pages"),
        ("data_dir = [\n", "not valid TOML"),
    ],
)
def test_bad_config_is_a_clear_error(tmp_path: Path, content: str, message: str) -> None:
    cfg = tmp_path / "bad.toml"
    cfg.write_text(content)
    with pytest.raises(ConfigError, match=re.escape(message)):
        load_settings(config_file=cfg, env={})


def test_bad_environment_value_names_the_setting() -> None:
    with pytest.raises(ConfigError, match="api.port"):
        load_settings(env={"OSINTEL_API_PORT": "eighty"})


def test_missing_config_file_is_reported(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_settings(config_file=tmp_path / "nope.toml", env={})


def test_every_setting_is_documented_in_the_defaults_file() -> None:
    """Each key in osintel.toml has a comment line directly above it, and every model field is there."""
    lines = DEFAULTS_FILE.read_text(encoding="utf-8").splitlines()
    section = ""
    documented: set[str] = set()
    for i, line in enumerate(lines):
        if m := re.match(r"^\[(\w+)\]$", line):
            section = m[1]
        elif m := re.match(r"^(\w+)\s*=", line):
            assert i > 0 and lines[i - 1].startswith("#"), f"setting {section}.{m[1]} has no comment"
            documented.add(f"{section}.{m[1]}" if section else m[1])
    fields = set()
    for name, field in Settings.model_fields.items():
        sub = getattr(field.annotation, "model_fields", None)
        fields |= {f"{name}.{k}" for k in sub} if sub else {name}
    assert fields == documented


def test_with_overrides_validates_and_rejects_unknown_keys() -> None:
    settings = load_settings(env={})
    assert settings.with_overrides(**{"crawl.max_pages": 3}).crawl.max_pages == 3
    with pytest.raises(ConfigError, match="unknown setting"):
        settings.with_overrides(**{"crawl.nope": 3})


def test_the_store_is_the_embedded_sqlite_file_unless_a_postgresql_url_is_set() -> None:
    assert load_settings(env={}).store.url == ""
    url = "postgresql://osintel@db.example:5432/osintel"
    assert load_settings(env={"OSINTEL_STORE_URL": url}).store.url == url
    failover = "postgresql://osintel@db1.example:5433,db2.example/osintel?target_session_attrs=read-write"
    assert load_settings(env={"OSINTEL_STORE_URL": failover}).store.url == failover  # libpq's multi-host form


@pytest.mark.parametrize(("url", "problem"), [
    ("mysql://osintel:s3cret@db.example/osintel", "unknown scheme 'mysql'"),
    ("postgresql://osintel:s3cret@db.example:notaport/osintel", "malformed"),
    ("postgresql://osintel:s3cret@db.example:5432/", "names no database"),
    ("/var/lib/osintel.sqlite3", "unknown scheme ''"),
])
def test_a_bad_store_url_stops_start_up_naming_it_without_its_password(url: str, problem: str) -> None:
    with pytest.raises(ConfigError, match=problem) as caught:
        load_settings(env={"OSINTEL_STORE_URL": url})
    assert "s3cret" not in str(caught.value)
    if "@" in url:
        assert "osintel:***@db.example" in str(caught.value)
