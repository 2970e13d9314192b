from __future__ import annotations

import re
from pathlib import Path

import pytest

from osintel.errors import ConfigError
from osintel.settings import CONFIG_DIR
from osintel.sources import load_sources, parse_sources


def _src(**kw: object) -> dict[str, object]:
    return {"id": "s1", "kind": "feed", "urls": ["https://example.com/feed.xml"], **kw}


def test_bundled_sources_file_is_valid() -> None:
    config = load_sources(CONFIG_DIR / "sources.yaml")
    assert len(config.sources) >= 5
    assert all(s.purpose and s.legal_basis for s in config.sources)


@pytest.mark.parametrize(
    "source, message",
    [
        (_src(id="Bad Id"), "sources.0.id"),
        (_src(kind="gopher"), "sources.0.kind"),
        (_src(urls=["ftp://example.com/x"]), "not an http(s) URL"),
        (_src(urls=[]), "sources.0.urls"),
        (_src(grading="9ZZ"), "3x5x2"),
        (_src(schedule="hourly-ish"), "neither an interval"),
        (_src(surprise=1), "sources.0.surprise"),
    ],
)
def test_invalid_sources_are_rejected_with_the_field_named(source: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(message)):
        parse_sources({"sources": [source]})


def test_duplicate_ids_and_unknown_selection_are_errors() -> None:
    with pytest.raises(ConfigError, match="appears twice"):
        parse_sources({"sources": [_src(), _src()]})
    config = parse_sources({"sources": [_src(), _src(id="s2", enabled=False)]})
    assert [s.id for s in config.select(None)] == ["s1"]  # disabled sources are not crawled by --all
    with pytest.raises(ConfigError, match="unknown source 'nope'.*s1, s2"):
        config.select(["nope"])


def test_schedules_accept_intervals_and_cron() -> None:
    config = parse_sources({"sources": [_src(schedule="every 15m"), _src(id="s2", schedule="*/10 6-22 * * mon-fri")]})
    assert [s.schedule for s in config.sources] == ["every 15m", "*/10 6-22 * * mon-fri"]


def test_unreadable_sources_files_are_config_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_sources(tmp_path / "missing.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("sources: [\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_sources(bad)
