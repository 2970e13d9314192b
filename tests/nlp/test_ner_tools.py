"""The NER training tools (``tools/ner``): corpus trimming and the German lexicon, on records and
Wiktionary-style rows written for this test (no data file is read)."""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

TOOLS = Path(__file__).resolve().parents[2] / "tools" / "ner"
sys.path.insert(0, str(TOOLS))

# tools/ner is a folder of scripts, not a package mypy follows: their names are typed Any here
import corpus  # type: ignore[import-not-found]  # noqa: E402
import german_lexicon  # type: ignore[import-not-found]  # noqa: E402

from nlp.entity_de import compound_head  # noqa: E402


def test_trim_ends_a_training_entity_at_its_bracket() -> None:
    record = corpus.from_tags("Innenminister Jan Hoffmann ( CDU ) sagte".split(),
                              ["O", "B-PER", "I-PER", "I-PER", "I-PER", "I-PER", "O"], id="t")
    trimmed = corpus.trim(record)
    assert [(e["text"], e["type"]) for e in trimmed["entities"]] == [("Jan Hoffmann", "PER")]
    assert trimmed["tags_iob2"][3:6] == ["O", "O", "O"]


def test_trim_leaves_an_entity_without_breaks_alone() -> None:
    record = corpus.from_tags("Anna Lehmann wohnt in Kiel".split(), ["B-PER", "I-PER", "O", "O", "B-LOC"], id="t")
    assert corpus.trim(record) is record


def test_prepare_trims_only_when_asked() -> None:
    record = corpus.from_tags("Winsen ( Luhe )".split(), ["B-LOC", "I-LOC", "I-LOC", "I-LOC"], id="t")
    assert corpus.prepare([record])[0]["entities"][0]["text"] == "Winsen ( Luhe )"
    assert corpus.prepare([record], trim_spans=True)[0]["entities"][0]["text"] == "Winsen"


def _row(lemma: str, pos: str, *forms: str) -> dict[str, str]:
    return {"lemma": lemma, "pos": pos, "genus": "m",
            **{f"nominativ plural {k}": f for k, f in enumerate(forms)}}


def test_lexicon_keeps_plain_nouns_and_leaves_out_names() -> None:
    rows = [_row("Haftbefehl", "Substantiv", "Haftbefehle", "Haftbefehls"),
            _row("Wagner", "Substantiv", "Wagners"), _row("Wagner", "Nachname,Substantiv"),
            _row("Essen", "Substantiv"), _row("Essen", "Substantiv,Toponym"),
            _row("Zeuge", "Substantiv,adjektivische Deklination", "Zeugen"),
            _row("Kiel", "Substantiv,Toponym")]
    nouns, adjectival = german_lexicon.common_nouns(rows, (Counter(), Counter()))
    assert {"Haftbefehl", "Haftbefehle", "Haftbefehls", "Wagners", "Zeuge", "Zeugen"} <= set(nouns)
    assert not {"Wagner", "Essen", "Kiel"} & set(nouns)
    assert adjectival == ["Zeuge", "Zeugen"]


def test_lexicon_keeps_a_noun_that_names_almost_nothing_in_wikiann() -> None:
    rows = [_row("Medium", "Substantiv", "Medien"), _row("Medien", "Substantiv,Toponym")]
    inside, outside = Counter({"Medien": 0}), Counter({"Medien": 12})
    assert "Medien" in german_lexicon.common_nouns(rows, (inside, outside))[0]
    assert "Medien" not in german_lexicon.common_nouns(rows, (Counter(), Counter()))[0]


def test_compound_head_is_the_longest_noun_that_ends_the_word() -> None:
    nouns = frozenset({"Gründen", "Akten", "Suche", "Sprecher", "Bedenken"})
    assert compound_head("Kapazitätsgründen", nouns) == "Gründen"
    assert compound_head("Ermittlungsakten", nouns) == "Akten"
    assert compound_head("Model-Suche", nouns) == "Suche"
    assert compound_head("Polizeisprecher", nouns) == "Sprecher"
    assert compound_head("Hoffmann", nouns) is None
    assert compound_head("Akten", nouns) is None  # a noun itself is no compound


def test_importing_the_tools_shadows_no_package() -> None:
    # bench/ holds scripts named like the project's packages (bench/alerts.py); a tool that put
    # bench/ first on sys.path made every later import of `alerts` in this process, and in the
    # API worker processes it spawns, load the script instead of the package.
    import importlib.util

    spec = importlib.util.find_spec("alerts")
    assert spec is not None and spec.origin is not None
    assert Path(spec.origin).parent.name == "alerts", spec.origin
