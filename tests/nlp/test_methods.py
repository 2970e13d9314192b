"""The criminal-method taxonomy: validated YAML, sentence evidence, one hit per method."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from osintel.errors import ConfigError
from osintel.settings import CONFIG_DIR

from nlp.methods import MethodTaxonomy, split_sentences

REQUIRED_IDS = {
    "drugs.county_lines", "drugs.cuckooing", "drugs.darkweb_market", "drugs.postal_supply",
    "drugs.cannabis_cultivation", "drugs.container_importation", "drugs.rip_on_rip_off", "drugs.encrypted_comms",
    "firearms.converted_blank", "firearms.reactivated", "firearms.3d_printed", "firearms.postal_parts",
    "oic.small_boat", "oic.vehicle_concealment", "oic.document_fraud", "slavery.forced_labour",
    "slavery.sexual_exploitation", "slavery.debt_bondage", "slavery.forced_criminality", "fraud.romance",
    "fraud.crypto_investment", "fraud.impersonation_app", "fraud.phishing_smishing", "fraud.courier",
    "ml.money_mules", "ml.cash_smuggling", "ml.crypto_mixing", "ml.trade_based", "ml.underground_banking",
    "border.deep_concealment",
}


def test_taxonomy_has_the_demo_ids_over_seven_areas(taxonomy: MethodTaxonomy) -> None:
    assert REQUIRED_IDS <= set(taxonomy.by_id)
    assert {m.category for m in taxonomy.methods} >= {"drugs", "firearms", "oic", "slavery", "fraud", "ml", "border"}
    assert all(len(m.examples.get("en", ())) >= 2 for m in taxonomy.methods)
    assert len(taxonomy.digest) == 12


def _cases() -> list[tuple[str, str, str]]:
    data = yaml.safe_load((CONFIG_DIR / "methods.yaml").read_text(encoding="utf-8"))
    return [
        (entry["id"], lang, sentence)
        for entry in data["methods"]
        for lang, sentences in entry["examples"].items()
        for sentence in sentences
    ]


@pytest.mark.parametrize(("method_id", "lang", "sentence"), _cases())
def test_every_example_sentence_is_recognised(taxonomy: MethodTaxonomy, method_id: str, lang: str, sentence: str) -> None:
    text = f"Officers gave an update on Monday. {sentence} Enquiries continue."
    hits = {h.id: h for h in taxonomy.match(text, split_sentences(text), lang)}
    assert method_id in hits
    hit = hits[method_id]
    assert hit.evidence == sentence
    assert text[hit.start : hit.end] == sentence
    assert hit.matched_by in {f"pattern:{lang}", "pattern:en"}


def test_each_foreign_language_has_examples_for_most_methods(taxonomy: MethodTaxonomy) -> None:
    for lang in ("fr", "es", "de"):
        assert sum(1 for m in taxonomy.methods if m.examples.get(lang)) >= 20


def test_more_distinct_patterns_raise_confidence_and_best_sentence_wins(taxonomy: MethodTaxonomy) -> None:
    text = (
        "A county lines gang was jailed. "
        "The county lines network ran the 'Tom' deal line and groomed runners were sent to Devon."
    )
    [hit] = [h for h in taxonomy.match(text, split_sentences(text), "en") if h.id == "drugs.county_lines"]
    assert hit.confidence > 0.6
    assert hit.evidence.startswith("The county lines network")


def test_unrelated_text_has_no_methods(taxonomy: MethodTaxonomy) -> None:
    text = "The council approved a new cycle lane. Residents welcomed the decision at a meeting on Tuesday."
    assert taxonomy.match(text, split_sentences(text), "en") == []


def _write(tmp_path: Path, methods: list[dict]) -> Path:
    path = tmp_path / "methods.yaml"
    path.write_text(yaml.safe_dump({"categories": {"drugs": "Drugs"}, "methods": methods}), encoding="utf-8")
    return path


def _entry(method_id: str = "drugs.x", pattern: str = "x") -> dict:
    return {"id": method_id, "label": "X", "category": "drugs", "description": "", "patterns": {"en": [pattern]},
            "examples": ["x"]}


def test_duplicate_method_id_is_a_config_error_naming_it(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"drugs\.dup.*duplicate"):
        MethodTaxonomy.from_file(_write(tmp_path, [_entry("drugs.dup"), _entry("drugs.dup")]))


def test_bad_regex_is_a_config_error_naming_the_method(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"drugs\.broken.*does not compile"):
        MethodTaxonomy.from_file(_write(tmp_path, [_entry("drugs.broken", "cuckoo(ed|ing")]))


def test_unknown_category_is_a_config_error(tmp_path: Path) -> None:
    entry = _entry("arms.x") | {"category": "arms"}
    with pytest.raises(ConfigError, match=r"arms\.x.*unknown category"):
        MethodTaxonomy.from_file(_write(tmp_path, [entry]))


def test_a_method_added_in_yaml_only_is_matched(tmp_path: Path) -> None:
    taxonomy = MethodTaxonomy.from_file(_write(tmp_path, [_entry("drugs.nitrous", r"nitrous oxide|laughing gas")]))
    text = "Police seized canisters. Dealers sold laughing gas outside clubs."
    [hit] = taxonomy.match(text, split_sentences(text), "en")
    assert (hit.id, hit.evidence) == ("drugs.nitrous", "Dealers sold laughing gas outside clubs.")


def test_regex_sentence_splitter_keeps_decimals_and_domains() -> None:
    text = "He had £1.2m in cash. It went to x.onion today! Next"
    assert [text[s:e] for s, e in split_sentences(text)] == ["He had £1.2m in cash.", "It went to x.onion today!", "Next"]
