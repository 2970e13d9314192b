"""``osintel search`` through the real CLI: one line per story with its copies counted
(``--all-copies`` lists each), sorts by best match or relevance score, and untitled posts shown by
their first words rather than a blank."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from indexer.tantivy_index import TantivyIndex
from osintel.records import Document, SourceRef
from osintel.settings import load_settings

START = datetime(2025, 4, 1, 9, tzinfo=timezone.utc)
WIRE = SourceRef(id="wire", name="Wire", kind="feed")
PAPER = SourceRef(id="paper", name="Paper", kind="feed")
SOCIAL = SourceRef(id="bluesky-uk", name="Bluesky", kind="social", platform="bluesky")
POST = "Saw two vans unloading firearms behind the garage on Mill Lane again last night, police were nowhere."


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data directory whose index holds five firearms items telling three stories."""
    data = tmp_path_factory.mktemp("search-cli") / "data"
    settings = load_settings(env={}, overrides={"data_dir": str(data)})
    original = Document(url="https://wire.example/guns", source=WIRE, title="Converted firearms seized in Leeds",
                        text="Police seized converted firearms and ammunition in Leeds.", published_at=START,
                        language="en", relevance=0.7)
    original = original.model_copy(update={"cluster_id": original.id})
    docs = [
        original,
        *(Document(url=f"https://{name}.example/guns", source=source, title="Converted firearms seized in Leeds",
                   text=f"Police seized converted firearms and ammunition in Leeds. ({name})",
                   published_at=START + timedelta(hours=n + 1), language="en", relevance=0.7,
                   ).model_copy(update={"cluster_id": original.id, "duplicate_of": original.id})
          for n, (name, source) in enumerate((("paper", PAPER), ("wire2", WIRE)))),
        Document(url="https://bsky.example/post/1", source=SOCIAL, title="", text=POST,
                 published_at=START + timedelta(days=1), language="en", relevance=0.9),
        Document(url="https://paper.example/amnesty", source=PAPER, title="Firearms amnesty ends",
                 text="The firearms amnesty ended with 300 weapons handed in.", published_at=START - timedelta(days=3),
                 language="en", relevance=0.2),
    ]
    with TantivyIndex(settings.index_dir, writer_heap_bytes=20_000_000) as index:
        index.upsert(docs)
    return data


def _search(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "osintel", "search", *args, "--data-dir", str(data_dir)],
                          capture_output=True, text=True, env=dict(os.environ), timeout=120)


def _json(data_dir: Path, *args: str) -> dict[str, Any]:
    out = _search(data_dir, *args, "--json")
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def test_search_prints_one_line_per_story_with_its_copies(data_dir: Path) -> None:
    out = _search(data_dir, "firearms", "--sort", "newest")
    assert out.returncode == 0, out.stderr
    header, *lines = out.stdout.splitlines()
    assert header == "5 matches, 3 stories (copies collapsed: --all-copies lists each)"
    assert len(lines) == 3
    story = _json(data_dir, "firearms", "--all-copies")["hits"]
    cluster = next(h["cluster_id"] for h in story if h["cluster_id"])
    assert [line for line in lines if "[3 copies" in line] == [
        next(line for line in lines if "Converted firearms seized in Leeds" in line)]
    assert f"cluster:{cluster}]" in lines[1]

    every = _search(data_dir, "firearms", "--all-copies")
    assert every.returncode == 0, every.stderr
    header, *lines = every.stdout.splitlines()
    assert header == "5 matches" and len(lines) == 5 and "copies" not in every.stdout
    listed = _json(data_dir, f"cluster:{cluster}", "--all-copies")
    assert {h["source"]["id"] for h in listed["hits"]} == {"wire", "paper"} and listed["total"] == 3


def test_search_json_counts_matches_stories_and_copies(data_dir: Path) -> None:
    result = _json(data_dir, "firearms")
    assert (result["total"], result["stories"], result["stories_exact"]) == (5, 3, True)
    assert sorted(h["copies"] for h in result["hits"]) == [1, 1, 3]
    assert all(h["display_title"] for h in result["hits"])
    every = _json(data_dir, "firearms", "--all-copies")
    assert every["stories"] is None and len(every["hits"]) == 5


def test_an_untitled_post_prints_its_first_words_not_a_blank(data_dir: Path) -> None:
    out = _search(data_dir, "garage")
    assert out.returncode == 0, out.stderr
    (line,) = out.stdout.splitlines()[1:]
    assert "[en] Saw two vans unloading firearms behind the garage on Mill Lane again…  " in line


def test_sort_by_relevance_score_puts_the_most_relevant_first(data_dir: Path) -> None:
    hits = _json(data_dir, "firearms", "--sort", "relevance_score", "--all-copies")["hits"]
    assert [h["relevance"] for h in hits] == [0.9, 0.7, 0.7, 0.7, 0.2]
    newest = _json(data_dir, "firearms", "--sort=-published", "--all-copies")["hits"]
    assert [h["published_at"] for h in newest] == sorted((h["published_at"] for h in newest), reverse=True)
    assert [h["id"] for h in _json(data_dir, "firearms", "--sort", "newest", "--all-copies")["hits"]] == [
        h["id"] for h in newest]
    # "relevance" is the old name of best match, and still accepted.
    old = _json(data_dir, "firearms", "--sort", "relevance")
    best = _json(data_dir, "firearms", "--sort", "best_match")
    assert [h["id"] for h in old["hits"]] == [h["id"] for h in best["hits"]]
    scores = [h["score"] for h in best["hits"]]
    assert scores == sorted(scores, reverse=True) and scores[0] > 0
