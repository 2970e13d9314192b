"""The NER pipelines osintel trains and ships (``nlp/models``, built by ``tools/ner/train.py``).

Each model is loaded once per module. The sentences are news-like ones written for this test (a
person, an organisation and a place each); a model that stops finding such plain cases, or whose
files no longer match ``checksums.json``, fails here.
"""

from __future__ import annotations

import json

import pytest

from nlp import models

spacy = pytest.importorskip("spacy")

LANGS = ("de", "es", "nl", "pt", "xx")
MAX_MODEL_BYTES = 12 * 1024 * 1024

#: (language the text is in, model, text, entities that must be found as (text, label)).
CASES: list[tuple[str, str, str, set[tuple[str, str]]]] = [
    ("de", "de", "Die Staatsanwaltschaft Hamburg ermittelt gegen Thomas Becker.",
     {("Staatsanwaltschaft Hamburg", "ORG"), ("Thomas Becker", "PER")}),
    ("de", "de", "Der Vorstand der Deutschen Bank traf sich in Frankfurt.",
     {("Deutschen Bank", "ORG"), ("Frankfurt", "LOC")}),
    ("de", "de", "Bundeskanzler Olaf Scholz reiste am Montag nach Paris.",
     {("Olaf Scholz", "PER"), ("Paris", "LOC")}),
    ("es", "es", "La Audiencia Nacional procesó a Andrés Olmedo en Valencia por tráfico de drogas.",
     {("Andrés Olmedo", "PER"), ("Valencia", "LOC")}),
    ("es", "es", "El Banco Sabadell abrió una oficina en Sevilla.",
     {("Banco Sabadell", "ORG"), ("Sevilla", "LOC")}),
    ("es", "es", "El presidente Pedro Sánchez viajó a México el martes.",
     {("Pedro Sánchez", "PER"), ("México", "LOC")}),
    ("nl", "nl", "De politie in Rotterdam heeft Jan de Vries aangehouden.",
     {("Rotterdam", "LOC"), ("Jan de Vries", "PER")}),
    ("nl", "nl", "Ajax won zondag in Amsterdam.",
     {("Ajax", "ORG"), ("Amsterdam", "LOC")}),
    ("pt", "pt", "O Banco do Brasil abriu uma agência em Curitiba.",
     {("Banco do Brasil", "ORG"), ("Curitiba", "LOC")}),
    ("pt", "pt", "Carlos Oliveira foi preso em São Paulo.",
     {("Carlos Oliveira", "PER"), ("São Paulo", "LOC")}),
    ("pt", "pt", "O ministro António Costa visitou Lisboa ontem.",
     {("António Costa", "PER"), ("Lisboa", "LOC")}),
    ("it", "xx", "Marco Rossi è stato arrestato ieri.", {("Marco Rossi", "PER")}),
    ("it", "xx", "Il presidente Sergio Mattarella ha parlato alla stampa.", {("Sergio Mattarella", "PER")}),
    ("es", "xx", "Andrés Olmedo vive en Madrid.", {("Madrid", "LOC"), ("Andrés Olmedo", "PER")}),
    ("de", "xx", "Die Polizei in Berlin nahm Thomas Becker fest.",
     {("Berlin", "LOC"), ("Thomas Becker", "PER")}),
]

#: Known failures, kept so that a model that fixes them is noticed (strict xfail).
KNOWN_FAILURES = [
    pytest.param("pt", "pt", "A Polícia Federal prendeu Carlos Oliveira em São Paulo na segunda-feira.",
                 {("Polícia Federal", "ORG"), ("Carlos Oliveira", "PER"), ("São Paulo", "LOC")},
                 id="pt-pt-sentence-initial-article",
                 marks=pytest.mark.xfail(strict=True, reason="the pt model runs an ORG from a sentence-initial "
                                                             "article over the whole sentence")),
    pytest.param("it", "xx", "La Guardia di Finanza ha arrestato Marco Rossi a Napoli.",
                 {("Guardia di Finanza", "ORG"), ("Marco Rossi", "PER"), ("Napoli", "LOC")},
                 id="xx-it-city-read-as-club",
                 marks=pytest.mark.xfail(strict=True, reason="the xx model labels Italian cities ORG (their "
                                                             "football clubs in Wikipedia) and takes the "
                                                             "article into the ORG")),
]


class Pipelines(dict):
    """Each shipped pipeline, loaded on first use and kept for the module."""

    def __missing__(self, lang: str):
        path = models.model_path(lang)
        assert path is not None, f"no shipped model for {lang}"
        self[lang] = spacy.load(path)
        return self[lang]


@pytest.fixture(scope="module")
def pipelines() -> Pipelines:
    return Pipelines()


def test_every_language_has_a_shipped_model() -> None:
    assert set(LANGS) <= set(models.available())
    assert models.model_path("zz") is None
    assert models.model_path("../models") is None


@pytest.mark.parametrize("lang", LANGS)
def test_model_loads_with_an_ner_pipe_and_the_project_labels(pipelines: Pipelines, lang: str) -> None:
    nlp = pipelines[lang]
    assert "ner" in nlp.pipe_names
    assert {"PER", "ORG", "LOC"} <= set(nlp.get_pipe("ner").labels)
    assert nlp.meta["name"] == f"osintel_{lang}_ner"
    assert nlp.meta["version"]
    assert nlp.meta["sources"] and nlp.meta["license"]


@pytest.mark.parametrize(("text_lang", "lang", "text", "expected"),
                         [pytest.param(*c, id=f"{c[1]}-{c[0]}-{k}") for k, c in enumerate(CASES)] + KNOWN_FAILURES)
def test_model_finds_the_person_organisation_and_place_of_a_news_sentence(
        pipelines: Pipelines, text_lang: str, lang: str, text: str, expected: set) -> None:
    found = {(e.text, e.label_) for e in pipelines[lang](text).ents}
    assert expected <= found, f"{lang} on {text!r}: missing {expected - found}, found {found}"


@pytest.mark.parametrize("lang", LANGS)
def test_model_files_match_their_recorded_checksums(lang: str) -> None:
    models.verify(lang)


def test_a_changed_missing_or_extra_model_file_fails_verification(tmp_path, monkeypatch) -> None:
    fake = tmp_path / "de"
    fake.mkdir()
    for name in ("meta.json", "config.cfg"):
        (fake / name).write_bytes((models.MODELS_DIR / "de" / name).read_bytes())
    checksums = tmp_path / "checksums.json"
    monkeypatch.setattr(models, "MODELS_DIR", tmp_path)
    monkeypatch.setattr(models, "CHECKSUMS", checksums)
    good = models.file_digests(fake)

    checksums.write_text(json.dumps({"de": good}), encoding="utf-8")
    models.verify("de")
    (fake / "config.cfg").write_text("[nlp]\n", encoding="utf-8")
    with pytest.raises(models.ModelChecksumError, match="config.cfg has SHA-256"):
        models.verify("de")
    checksums.write_text(json.dumps({"de": models.file_digests(fake) | {"ner/model": "0" * 64}}), encoding="utf-8")
    with pytest.raises(models.ModelChecksumError, match="ner/model is missing"):
        models.verify("de")
    checksums.write_text(json.dumps({"de": models.file_digests(fake)}), encoding="utf-8")
    (fake / "extra.bin").write_bytes(b"x")
    with pytest.raises(models.ModelChecksumError, match="unrecorded files.*extra.bin"):
        models.verify("de")
    with pytest.raises(models.ModelChecksumError, match="no shipped NER model"):
        models.verify("it")


@pytest.mark.parametrize("lang", LANGS)
def test_model_is_small_enough_to_ship_in_the_package(lang: str) -> None:
    path = models.model_path(lang)
    assert path is not None
    size = sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
    assert size <= MAX_MODEL_BYTES, f"{lang}: {size / 1e6:.1f} MB"
    assert not (path / "model-last").exists() and not list(path.rglob("*.spacy"))
