"""The criminal-method taxonomy: validated YAML, sentence evidence, one hit per method, patterns and
semantic similarity."""

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


def test_taxonomy_has_the_demo_ids_over_eight_areas(taxonomy: MethodTaxonomy) -> None:
    assert REQUIRED_IDS <= set(taxonomy.by_id)
    assert len(taxonomy.methods) >= 40
    assert {m.category for m in taxonomy.methods} >= {
        "drugs", "firearms", "oic", "slavery", "fraud", "ml", "border", "cyber"
    }
    assert sum(1 for m in taxonomy.methods if m.category == "cyber") >= 5
    assert all(len(m.examples.get("en", ())) >= 3 for m in taxonomy.methods)
    assert all(set(m.patterns) >= {"en", "fr", "es", "de"} for m in taxonomy.methods)
    assert len(taxonomy.digest) == 12
    assert taxonomy.encoder is not None and taxonomy.semantic.cues.keys() == taxonomy.categories.keys()


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
    assert hit.matched_by in {f"pattern:{lang}", "pattern:en", "pattern+semantic"}


def _semantic_cases() -> list[tuple[str, str]]:
    data = yaml.safe_load((CONFIG_DIR / "methods.yaml").read_text(encoding="utf-8"))
    return [(entry["id"], sentence) for entry in data["methods"] for sentence in entry.get("semantic_examples", [])]


def test_most_methods_have_eight_or_more_english_prototypes(taxonomy: MethodTaxonomy) -> None:
    counts = {m.id: len(m.prototypes) for m in taxonomy.methods}
    assert all(n >= 6 for n in counts.values()), counts
    assert sum(n >= 8 for n in counts.values()) >= 0.9 * len(counts), counts


@pytest.mark.parametrize(("method_id", "sentence"), _semantic_cases())
def test_every_semantic_example_is_recognised_as_its_own_method(
    taxonomy: MethodTaxonomy, method_id: str, sentence: str
) -> None:
    # A prototype the cue gate never admits, or one closer to another method's prototypes, would
    # be dead weight: each must find its own method, in a news-like context (line breaks, as
    # posts in slang have no full stop).
    text = f"Officers gave an update on Monday.\n{sentence}\nEnquiries continue."
    hits = {h.id: h for h in taxonomy.match(text, split_sentences(text), "en")}
    assert method_id in hits, sorted(hits)
    assert hits[method_id].evidence == sentence


def test_each_foreign_language_has_examples_for_most_methods(taxonomy: MethodTaxonomy) -> None:
    for lang in ("fr", "es", "de"):
        assert all(m.examples.get(lang) for m in taxonomy.methods)


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


# --- semantic matching ---------------------------------------------------------------------------

#: Paraphrases with none of the methods' pattern words, and the method each describes.
PARAPHRASES = [
    ("He let the dealers use his council flat in exchange for drugs.", "drugs.cuckooing"),
    ("Dealers moved into the home of a disabled pensioner and sold crack from his living room.", "drugs.cuckooing"),
    ("A man claiming to be a detective told the pensioner to hand her bank cards to a driver who would call round.",
     "fraud.courier"),
    ("After months of loving messages from a man she knew only online, she sent him her life savings for a visa he never got.",
     "fraud.romance"),
    ("He made a working gun at home using plastic parts from his own printer.", "firearms.3d_printed"),
]

#: Sentences with no method: ordinary life, and crime news that names no modus operandi.
NEGATIVES = [
    "He let his friend use his council flat while he was abroad.",
    "The council approved a new cycle lane.",
    "Police said the investigation into the drugs seizure is continuing.",
    "The defendant was sentenced to eight years at Crown Court for drugs offences.",
    "Officers arrested three dealers and seized cash and phones.",
    "The bank launched a new savings account for young people.",
    "The couple met on a dating app and married last year.",
    "Residents complained about drug dealing and drug litter near the park.",
    "The gun club held its annual open day for new members and their families.",
    "Walkers can follow the county lines of the old railway from the village to the coast.",
    "Hundreds of visitors came to the harbour for the annual small boat festival.",
    "The shop sells Black Forest cuckoo clocks to tourists.",
    "Encrypted messaging apps help journalists protect their sources.",
    "He slept on the floor of the airport after his flight was cancelled.",
]


@pytest.mark.parametrize(("sentence", "method_id"), PARAPHRASES)
def test_a_paraphrase_without_pattern_words_is_a_semantic_only_hit(
    taxonomy: MethodTaxonomy, sentence: str, method_id: str
) -> None:
    text = f"Officers gave an update on Monday. {sentence} Enquiries continue."
    hits = taxonomy.match(text, split_sentences(text), "en")
    assert [(h.id, h.matched_by, h.evidence) for h in hits] == [(method_id, "semantic", sentence)]
    assert 0.45 <= hits[0].confidence <= 0.8  # SEMANTIC_BASE at the threshold .. SEMANTIC_TOP


@pytest.mark.parametrize("sentence", NEGATIVES)
def test_crime_free_and_method_free_sentences_have_no_semantic_hit(taxonomy: MethodTaxonomy, sentence: str) -> None:
    assert taxonomy.match(sentence, split_sentences(sentence), "en") == []


def test_a_crime_sentence_hits_only_its_own_method_not_its_neighbours(taxonomy: MethodTaxonomy) -> None:
    text = "Teenage runners were sent from London to sell heroin in seaside towns on the gang's deal line."
    ids = {h.id for h in taxonomy.match(text, split_sentences(text), "en")}
    assert ids == {"drugs.county_lines"}
    text = "For six months she sent money to a man she had met on a dating site, who said he was stuck abroad."
    assert [h.id for h in taxonomy.match(text, split_sentences(text), "en")] == ["fraud.romance"]
    text = "The men worked twelve hours a day at the car wash and were never paid or allowed to leave."
    assert [h.id for h in taxonomy.match(text, split_sentences(text), "en")] == ["slavery.forced_labour"]


def test_pattern_and_semantic_evidence_combine_into_one_hit(taxonomy: MethodTaxonomy) -> None:
    text = (
        "Detectives found the flat had been cuckooed by dealers from London. "
        "Dealers moved into the home of a disabled pensioner and sold crack from his living room."
    )
    [hit] = taxonomy.match(text, split_sentences(text), "en")
    assert (hit.id, hit.matched_by) == ("drugs.cuckooing", "pattern+semantic")
    assert hit.evidence.startswith("Detectives found the flat")  # the pattern sentence is the evidence
    assert hit.confidence > 0.6  # both lines of evidence beat a single pattern hit


def test_semantic_matching_is_english_only(taxonomy: MethodTaxonomy) -> None:
    text = "He let the dealers use his council flat in exchange for drugs."
    assert taxonomy.match(text, split_sentences(text), "fr") == []
    assert taxonomy.match(text, split_sentences(text), None) == []


def test_a_batch_is_matched_like_its_documents_one_by_one(taxonomy: MethodTaxonomy) -> None:
    texts = [sentence for sentence, _ in PARAPHRASES] + NEGATIVES[:3]
    batch = taxonomy.match_batch([(t, split_sentences(t), "en") for t in texts])
    assert batch == [taxonomy.match(t, split_sentences(t), "en") for t in texts]


def test_without_an_encoder_only_patterns_match() -> None:
    taxonomy = MethodTaxonomy.from_file(CONFIG_DIR / "methods.yaml")
    text = "He let the dealers use his council flat in exchange for drugs."
    assert taxonomy.encoder is None and taxonomy.encoder_version is None
    assert taxonomy.match(text, split_sentences(text), "en") == []


def _write_raw(tmp_path: Path, data: dict) -> Path:
    path = tmp_path / "methods.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("semantic", "message"),
    [
        ({"threshold": 1.5}, r"semantic: threshold must be a number in \(0, 1\]"),
        ({"threshold": "high"}, "semantic: threshold"),
        ({"margin": -0.1}, "semantic: margin"),
        ({"cues": {"arms": ["gun"]}}, "semantic: cues for unknown category 'arms'"),
        ({"cues": {"drugs": []}}, r"semantic: cues\.drugs must be a non-empty list"),
        ({"cues": {"drugs": ["coca(ine"]}}, "semantic: cues.drugs: 'coca\\(ine' does not compile"),
        ({"background": "just one"}, "semantic: background must be a list of sentences"),
        ({"treshold": 0.5}, r"semantic: unknown keys \['treshold'\]"),
    ],
)
def test_bad_semantic_block_is_a_config_error(tmp_path: Path, semantic: dict, message: str) -> None:
    data = {"categories": {"drugs": "Drugs"}, "semantic": semantic, "methods": [_entry()]}
    with pytest.raises(ConfigError, match=message):
        MethodTaxonomy.from_file(_write_raw(tmp_path, data))


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"keywords": "flat"}, r"drugs\.x.*keywords must be a non-empty list"),
        ({"keywords": ["fl(at"]}, r"drugs\.x.*keywords: 'fl\(at' does not compile"),
        ({"semantic_threshold": 0}, r"drugs\.x.*semantic_threshold must be a number in \(0, 1\]"),
        ({"semantic_treshold": 0.7}, r"drugs\.x.*unknown keys \['semantic_treshold'\]"),
    ],
)
def test_bad_semantic_fields_of_a_method_are_config_errors(tmp_path: Path, extra: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        MethodTaxonomy.from_file(_write(tmp_path, [_entry() | extra]))


def test_a_method_added_in_yaml_only_is_matched_semantically(tmp_path: Path, taxonomy: MethodTaxonomy) -> None:
    entry = _entry("drugs.nitrous", r"nitrous oxide") | {
        "examples": [
            "Dealers sold nitrous oxide canisters to teenagers outside clubs.",
            "Nitrous oxide balloons were sold by the gang at festivals.",
            "Large nitrous oxide cylinders were sold to young people on social media.",
        ],
        "keywords": ["laughing gas", "canisters?", "balloons?"],
        "semantic_threshold": 0.5,
    }
    custom = MethodTaxonomy.from_file(_write(tmp_path, [entry]), encoder=taxonomy.encoder)
    text = "Police seized boxes of laughing gas balloons that were being sold to teenagers at a festival."
    [hit] = custom.match(text, split_sentences(text), "en")
    assert (hit.id, hit.matched_by) == ("drugs.nitrous", "semantic")


def test_semantic_examples_are_prototypes_without_matching_any_pattern(tmp_path: Path, taxonomy: MethodTaxonomy) -> None:
    entry = _entry("drugs.nitrous", r"nitrous oxide") | {
        "examples": ["Dealers sold nitrous oxide canisters to teenagers outside clubs."],
        "semantic_examples": [
            "Boxes of laughing gas balloons were sold to young people at a music festival.",
            "The gang sold large canisters of laughing gas to drivers who inhaled it at the wheel.",
        ],
        "keywords": ["laughing gas", "canisters?", "balloons?"],
    }
    custom = MethodTaxonomy.from_file(_write(tmp_path, [entry]), encoder=taxonomy.encoder)
    assert custom.by_id["drugs.nitrous"].prototypes[-1].startswith("The gang sold large canisters")
    text = "Officers seized balloons and canisters of laughing gas that a man was selling to teenagers in a park."
    [hit] = custom.match(text, split_sentences(text), "en")
    assert (hit.id, hit.matched_by) == ("drugs.nitrous", "semantic")


@pytest.mark.parametrize("bad", ["one sentence", [""], [3]])
def test_bad_semantic_examples_are_a_config_error(tmp_path: Path, bad: object) -> None:
    with pytest.raises(ConfigError, match=r"drugs\.x.*semantic_examples must be a list of English sentences"):
        MethodTaxonomy.from_file(_write(tmp_path, [_entry() | {"semantic_examples": bad}]))


def test_a_misidentified_language_still_gets_its_own_patterns(taxonomy: MethodTaxonomy) -> None:
    text = "A polícia apreendeu passaportes falsificados numa casa em Setúbal."
    hits = {h.id: h for h in taxonomy.match(text, split_sentences(text), "es")}  # short text, wrong guess
    assert hits["oic.document_fraud"].matched_by == "pattern:pt"


def test_text_whose_lower_case_changes_length_keeps_exact_evidence_offsets(taxonomy: MethodTaxonomy) -> None:
    # "İ".lower() is two characters: the fast lower-case path would shift offsets, so it is not used.
    text = "İzmir police gave an update. Officers found a cannabis factory in a warehouse."
    [hit] = [h for h in taxonomy.match(text, split_sentences(text), "en") if h.id == "drugs.cannabis_cultivation"]
    assert text[hit.start : hit.end] == hit.evidence == "Officers found a cannabis factory in a warehouse."


def test_lowercase_patterns_keep_escapes_and_match_like_ignorecase() -> None:
    import re

    from nlp.method_config import lowercase_pattern

    original = re.compile(r"EncroChat|\bSIM\b|\D\d{2}|Ärmelkanal", re.IGNORECASE)
    lowered = lowercase_pattern(original)
    assert lowered.pattern == r"encrochat|\bsim\b|\D\d{2}|ärmelkanal" and not lowered.flags & re.IGNORECASE
    for text in ["Messages on ENCROCHAT", "a sim card", "x42", "über den Ärmelkanal", "nothing here"]:
        assert bool(lowered.search(text.lower())) == bool(original.search(text))
    flagged = re.compile(r"(?-i:SIM) swap", re.IGNORECASE)
    assert lowercase_pattern(flagged).flags & re.IGNORECASE  # inline flags: left as it was


def test_a_second_method_in_a_sentence_a_pattern_explains_is_found_semantically(taxonomy: MethodTaxonomy) -> None:
    text = "He ran a dark web shop and mailed the ecstasy pills to buyers across the country in padded envelopes."
    hits = {h.id: h.matched_by for h in taxonomy.match(text, split_sentences(text), "en")}
    assert hits["drugs.darkweb_market"].startswith("pattern")
    assert "drugs.postal_supply" in hits


def test_long_documents_embed_more_sentences_than_short_ones(taxonomy: MethodTaxonomy) -> None:
    from nlp import methods

    crime = "Dealers sold crack and heroin to drug users from a flat in the town."
    filler = "The weather was mild and the market opened as usual."
    short = " ".join([crime] * 3)
    long = " ".join([crime] * 3 + [filler] * (2 * methods.SENTENCES_PER_EMBEDDING))

    def embedded(text: str) -> int:
        before = taxonomy.stats.get("methods/sentences_embedded", 0)
        taxonomy.match(text, split_sentences(text), "en")
        return taxonomy.stats.get("methods/sentences_embedded", 0) - before

    assert embedded(short) == 1
    assert embedded(long) == 3 == methods.MAX_SEMANTIC_SENTENCES
