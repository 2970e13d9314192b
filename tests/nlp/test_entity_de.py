"""German entity fixes (``nlp/entity_de.py``) on sentences written for this test.

The span tests put one entity on a blank German tokenization by hand, so each fix is checked on
its own whatever the trained model predicts; the pipeline tests run the shipped German model with
and without the fixes on sentences where the bare model is wrong.
"""

from __future__ import annotations

import pytest

spacy = pytest.importorskip("spacy")

from spacy.tokens import Doc, Span  # noqa: E402

from nlp import entity_de  # noqa: E402
from nlp.entity_de import fix_span  # noqa: E402


@pytest.fixture(scope="module")
def blank_de():
    nlp = spacy.blank("de")
    nlp.add_pipe("sentencizer")
    return nlp


def _fixed(nlp, text: str, entity: str, label: str) -> str | None:
    """``entity`` (a substring of ``text``) labelled ``label`` and passed through :func:`fix_span`."""
    doc: Doc = nlp(text)
    start = text.index(entity)
    span = doc.char_span(start, start + len(entity), label=label)
    assert span is not None, entity
    fixed = fix_span(doc, span)
    return None if fixed is None else fixed.text


def test_person_ends_before_the_party_in_brackets(blank_de) -> None:
    text = "Laut Innenminister Jan Hoffmann (CDU) wurde niemand verletzt."
    assert _fixed(blank_de, text, "Innenminister Jan Hoffmann (CDU)", "PER") == "Jan Hoffmann"


def test_place_ends_before_the_agency_credit(blank_de) -> None:
    assert _fixed(blank_de, "Bremen (dpa) Die Polizei hat zwei Männer festgenommen.", "Bremen (dpa)", "LOC") == "Bremen"


def test_name_ends_before_a_closing_quote(blank_de) -> None:
    text = "Sie war Vorsitzende des „Vereins Kieler Seeleute“ und lebte in Kiel."
    assert _fixed(blank_de, text, "Vereins Kieler Seeleute“", "ORG") == "Vereins Kieler Seeleute"


def test_a_title_line_keeps_its_disambiguation_bracket(blank_de) -> None:
    assert _fixed(blank_de, "Neustadt (Hessen)", "Neustadt (Hessen)", "LOC") == "Neustadt (Hessen)"


def test_lower_case_adjective_is_cut_off_the_front(blank_de) -> None:
    text = "Das Urteil wurde vom deutschen Bundesgerichtshof Karlsruhe bestätigt."
    assert _fixed(blank_de, text, "deutschen Bundesgerichtshof Karlsruhe", "ORG") == "Bundesgerichtshof Karlsruhe"


def test_sentence_opening_function_word_is_cut_off_a_name(blank_de) -> None:
    text = "Bereits Anna Lehmann hatte vor dem Betrug gewarnt."
    assert _fixed(blank_de, text, "Bereits Anna Lehmann", "PER") == "Anna Lehmann"


def test_sentence_opening_article_stays_in_a_name(blank_de) -> None:
    assert _fixed(blank_de, "Los Angeles meldet weniger Einbrüche.", "Los Angeles", "LOC") == "Los Angeles"


def test_common_noun_alone_is_dropped(blank_de) -> None:
    text = "Die Fahnder stellten bei der Durchsuchung Unterlagen sicher."
    assert _fixed(blank_de, text, "Unterlagen", "ORG") is None


def test_compound_of_common_nouns_is_dropped(blank_de) -> None:
    text = "Die Befragung fiel aus Kapazitätsgründen aus."
    assert _fixed(blank_de, text, "Kapazitätsgründen", "LOC") is None


def test_known_place_that_ends_in_a_noun_stays(blank_de) -> None:
    assert _fixed(blank_de, "Die Razzia fand in Saarbrücken statt.", "Saarbrücken", "LOC") == "Saarbrücken"


def test_surname_that_is_also_a_noun_stays(blank_de) -> None:
    assert _fixed(blank_de, "Gestern sagte Müller vor Gericht aus.", "Müller", "PER") == "Müller"


def test_adjective_and_noun_name_stays(blank_de) -> None:
    text = "Die Tschechische Republik liefert den Verdächtigen aus."
    assert _fixed(blank_de, text, "Tschechische Republik", "LOC") == "Tschechische Republik"


def test_derived_adjective_alone_is_dropped(blank_de) -> None:
    assert _fixed(blank_de, "Das Italienische Konsulat half.", "Italienische", "LOC") is None


def test_lexicon_keeps_nouns_that_are_also_names() -> None:
    nouns = entity_de.german_nouns()
    assert {"Unterlagen", "Durchsuchung", "Berliner"} <= nouns
    assert not {"Müller", "Mainz", "Fischer"} & nouns


# --- the shipped model with the fixes ------------------------------------------------------------


@pytest.fixture(scope="module")
def german_ner():
    from nlp.entities import SpacyNER

    return SpacyNER(model_name="osintel_de", language="de")


def _ents(nlp, text: str) -> set[tuple[str, str]]:
    return {(e.text, e.label_) for e in nlp(text).ents}


def test_german_pipeline_runs_the_fixes_after_the_sentence_splitter(german_ner) -> None:
    names = german_ner.nlp.pipe_names
    assert entity_de.COMPONENT in names
    assert names.index(entity_de.COMPONENT) > names.index("ner")
    assert names.index(entity_de.COMPONENT) < names.index("osintel_entity_fixes")


@pytest.mark.parametrize(("text", "bare_wrong", "fixed"), [
    ("Laut Polizeisprecher Jan Hoffmann (CDU) wurden die Ermittlungsakten am Montag übergeben.",
     ("Polizeisprecher Jan Hoffmann (CDU)", "PER"), ("Jan Hoffmann", "PER")),
    ("Die Fahnder stellten bei der Durchsuchung Bargeld, Waffen und Drogen sicher.",
     ("Durchsuchung", "LOC"), None),
    ("Die Täter flüchteten mit der Beute in einem Kleinwagen.", ("Kleinwagen", "LOC"), None),
])
def test_german_pipeline_corrects_what_the_bare_model_gets_wrong(
    german_ner, text: str, bare_wrong: tuple[str, str], fixed: tuple[str, str] | None,
) -> None:
    from nlp.models import model_path

    bare = spacy.load(model_path("de"))
    assert bare_wrong in _ents(bare, text)  # the trained model alone makes the mistake
    ents = _ents(german_ner.nlp, text)
    assert bare_wrong not in ents
    if fixed is not None:
        assert fixed in ents


def test_fixes_keep_a_plain_german_sentence(german_ner) -> None:
    ents = _ents(german_ner.nlp, "Zudem wurde Anna Lehmann in Kiel festgenommen.")
    assert {("Anna Lehmann", "PER"), ("Kiel", "LOC")} <= ents


def test_span_keeps_its_label(blank_de) -> None:
    doc = blank_de("Ministerin Anna Lehmann ( SPD ) sprach.")
    fixed = fix_span(doc, Span(doc, 0, 6, label="PER"))
    assert fixed is not None and (fixed.text, fixed.label_) == ("Anna Lehmann", "PER")
