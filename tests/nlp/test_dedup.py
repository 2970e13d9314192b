"""Near-duplicates: syndicated copies cluster with their original; different stories never do.

The negatives are the demo corpus: 393 articles in four languages written from shared templates,
i.e. different stories on the same topics that share much of their wording. The positives are
syndicated variants of its articles, made the way outlets republish agency copy.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from pathlib import Path

import pytest

from nlp.dedup import DedupOptions, NearDuplicateIndex, normalised_words, shingles
from demo.content import DemoArticle, build_corpus
from osintel.records import Document, SourceRef
from osintel.store import ControlStore

SRC = SourceRef(id="wire", name="Wire")
BYLINE = "By Crime Correspondent | Published 08:14 GMT, 3 March 2026 | Updated 11:02 GMT"
FOOTER = ("Sign up to our free daily newsletter for the latest crime and court news from your area. "
          "Copyright 2026 PA Media. All rights reserved. This material may not be published, broadcast, "
          "rewritten or redistributed. Share this article: Facebook Twitter WhatsApp Email")
EXTRA = ("A spokesperson for the force said on Tuesday that enquiries were continuing and urged anyone "
         "with information to contact Crimestoppers anonymously on 0800 555 111. Local councillor "
         "Margaret Ellison said residents had been worried about the activity for months.")
HOUSE_STYLE = [(r"\bsaid\b", "says"), (r"\bofficers\b", "police officers"), (r"\bwas\b", "had been"),
               (r"\band\b", "&")]


@pytest.fixture(scope="module")
def corpus() -> list[DemoArticle]:
    return build_corpus()


def doc(key: object, text: str) -> Document:
    return Document(url=f"https://news.example.org/{key}", source=SRC, text=text)


def body(paragraphs: list[str]) -> str:
    return "\n\n".join(paragraphs)


def house_style(text: str, edits: int, rng: random.Random) -> str:
    for _ in range(edits):
        pattern, repl = rng.choice(HOUSE_STYLE)
        matches = list(re.finditer(pattern, text))
        if matches:
            m = rng.choice(matches)
            text = text[: m.start()] + repl + text[m.end() :]
    return text


def syndicated(paragraphs: list[str], rng: random.Random) -> dict[str, str]:
    """The ways a story is republished, one change at a time and all together."""
    mid = len(paragraphs) // 2
    trimmed = paragraphs[:mid] + paragraphs[mid + 1 :]
    return {
        "new headline in the text": body(["Police smash gang in dawn raids", *paragraphs]),
        "agency boilerplate": body([BYLINE, *paragraphs, FOOTER]),
        "paragraph added": body(paragraphs[:mid] + [EXTRA] + paragraphs[mid:]),
        "paragraph removed": body(trimmed),
        "house-style edits": house_style(body(paragraphs), 5, rng),
        "all at once": body(["Gang jailed", BYLINE, *(house_style(p, 1, rng) if i % 3 == 0 else p
                                                      for i, p in enumerate(trimmed)), FOOTER]),
    }


def jaccard5(a: str, b: str) -> float:
    sa, sb = shingles(normalised_words(a), 5), shingles(normalised_words(b), 5)
    return len(sa & sb) / len(sa | sb)


def test_different_stories_on_the_same_topic_never_cluster(corpus: list[DemoArticle]) -> None:
    # The negatives are hard: two Spanish money-laundering stories share most of their wording.
    spanish_ml = [a for a in corpus if a.lang == "es" and a.topic == "ml"]
    closest = max(jaccard5(body(a.paragraphs), body(b.paragraphs))
                  for i, a in enumerate(spanish_ml) for b in spanish_ml[i + 1 :])
    assert closest > 0.7
    index = NearDuplicateIndex()
    results = index.assign([doc(n, body(a.paragraphs)) for n, a in enumerate(corpus)])
    assert [r for r in results if r.duplicate_of is not None] == []
    assert all(r.cluster_id is not None for r in results)  # every article was assessed


@pytest.mark.parametrize("kind,required", [
    ("new headline in the text", 1.0), ("agency boilerplate", 0.95), ("paragraph added", 0.95),
    ("paragraph removed", 0.95), ("house-style edits", 0.95), ("all at once", 0.7),
])
def test_syndicated_copies_join_the_original_cluster(corpus: list[DemoArticle], kind: str, required: float) -> None:
    rng = random.Random(kind)
    originals = corpus[::4]  # ~100 articles, all four languages
    found = 0
    index = NearDuplicateIndex()  # one index: a copy must also pick its own original out of all
    for n, article in enumerate(originals):
        original = doc(f"o{n}", body(article.paragraphs))
        copy = doc(f"c{n}", syndicated(article.paragraphs, rng)[kind])
        first, second = index.assign([original, copy])
        assert (first.duplicate_of, first.cluster_id) == (None, original.id)
        if (second.duplicate_of, second.cluster_id) == (original.id, original.id):
            found += 1
    assert found / len(originals) >= required, f"{kind}: {found}/{len(originals)}"


def test_a_copy_of_a_copy_joins_the_first_documents_cluster(corpus: list[DemoArticle]) -> None:
    paragraphs = corpus[0].paragraphs
    first = doc("a", body(paragraphs))
    second = doc("b", body([BYLINE, *paragraphs]))
    third = doc("c", body([BYLINE, *paragraphs[:-1], FOOTER]))
    results = NearDuplicateIndex().assign([first, second, third])
    assert [(r.duplicate_of, r.cluster_id) for r in results] == [
        (None, first.id), (first.id, first.id), (first.id, first.id)]


def test_clusters_survive_a_restart_through_the_control_store(corpus: list[DemoArticle], tmp_path: Path) -> None:
    paragraphs = corpus[1].paragraphs
    original, copy = doc("orig", body(paragraphs)), doc("copy", body([*paragraphs, FOOTER]))
    with ControlStore(tmp_path / "c.sqlite3") as store:
        NearDuplicateIndex(backing=store).assign([original, doc("other", body(corpus[2].paragraphs))])
    with ControlStore(tmp_path / "c.sqlite3") as store:  # a new process, weeks later
        index = NearDuplicateIndex(backing=store)
        assert index.refresh() == 2 and len(index) == 2
        [result] = index.assign([copy])
        assert (result.duplicate_of, result.cluster_id) == (original.id, original.id)
        rows = store.minhash_since(0)
        assert [(r.doc_id, r.cluster_id) for r in rows][-1] == (copy.id, original.id)
        assert len(rows[-1].signature) == 128 * 4  # uint32 per permutation, no text kept


def test_a_second_process_sees_fingerprints_saved_by_the_first(corpus: list[DemoArticle], tmp_path: Path) -> None:
    paragraphs = corpus[3].paragraphs
    with ControlStore(tmp_path / "c.sqlite3") as one, ControlStore(tmp_path / "c.sqlite3") as two:
        worker, cli = NearDuplicateIndex(backing=one), NearDuplicateIndex(backing=two)
        cli.refresh()
        worker.assign([doc("first", body(paragraphs))])
        [result] = cli.assign([doc("later", body([BYLINE, *paragraphs]))])  # assign refreshes first
        assert result.duplicate_of == doc("first", "").id


def test_assigning_a_known_document_again_keeps_its_first_answer(corpus: list[DemoArticle]) -> None:
    paragraphs = corpus[5].paragraphs
    original, copy = doc("x", body(paragraphs)), doc("y", body([*paragraphs, FOOTER]))
    index = NearDuplicateIndex()
    first = index.assign([original, copy])
    again = index.assign([copy, original])  # re-enrichment, or a retried batch
    assert again == list(reversed(first))
    assert again[1].duplicate_of is None  # the canonical document never becomes its own copy


def test_short_texts_are_not_assessed() -> None:
    results = NearDuplicateIndex().assign([doc(1, "Police raid in Leeds today."), doc(2, "Police raid in Leeds today.")])
    assert [(r.duplicate_of, r.cluster_id) for r in results] == [(None, None), (None, None)]


def test_fingerprints_made_with_other_parameters_are_ignored(corpus: list[DemoArticle], tmp_path: Path) -> None:
    paragraphs = corpus[6].paragraphs
    with ControlStore(tmp_path / "c.sqlite3") as store:
        NearDuplicateIndex(DedupOptions(shingle_words=4), backing=store).assign([doc("old", body(paragraphs))])
        index = NearDuplicateIndex(backing=store)
        assert index.refresh() == 0 and index.stats["dedup/skipped_rows"] == 1
        [result] = index.assign([doc("new", body(paragraphs))])
        assert result.duplicate_of is None


def test_enricher_marks_the_copy_and_records_the_dedup_version(
    enricher, corpus: list[DemoArticle], make_doc: Callable[..., Document]  # type: ignore[no-untyped-def]
) -> None:
    article = next(a for a in corpus if a.lang == "en")
    original = make_doc(body(article.paragraphs), title=article.title)
    copy = make_doc(body([BYLINE, *article.paragraphs, FOOTER]), title="A different headline")
    out = enricher.enrich([original, copy])
    assert (out[0].duplicate_of, out[0].cluster_id) == (None, original.id)
    assert (out[1].duplicate_of, out[1].cluster_id) == (original.id, original.id)
    assert out[1].enrichment["dedup"] == enricher.dedup.version
    assert out[1].text == copy.text and out[1].methods  # still fully enriched
