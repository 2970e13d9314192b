"""A service loads its models at start, not on the first document (the first alert after a start
would otherwise wait for them), and the warm-up leaves nothing behind."""

from __future__ import annotations

from osintel.settings import Settings


def test_warm_up_loads_the_english_pipeline_and_remembers_no_document(settings: Settings) -> None:
    from nlp.enricher import Enricher

    fresh = Enricher.from_settings(settings)
    assert fresh.ner is not None and "en" not in fresh.ner.pipelines  # lazy until used
    fresh.warm_up()
    assert "en" in fresh.ner.pipelines
    assert len(fresh.dedup) == 0  # a later real document cannot be clustered with the warm-up text
    assert fresh.stats.get("nlp/documents", 0) == 0
