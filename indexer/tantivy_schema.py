"""The tantivy schema, text analysers and the mapping from :class:`Document` to index fields.

Keyword values go through :func:`indexer.query.normalize` and
:func:`indexer.query.normalize_entity_value`, the same functions the query parser uses, so a
value typed by an analyst always meets the value indexed.
"""

from __future__ import annotations

import tantivy

from indexer.query import DEFAULT_PHONE_REGION, normalize, normalize_entity_value
from osintel.records import Document

#: Registered on every opened index (analysers are not persisted with the index).
TEXT_ANALYZER = "osintel_en"

#: Keyword fields (raw tokenizer, one term per value). Fast ones can be counted as facets.
KEYWORD_FIELDS: tuple[str, ...] = (
    "source",
    "language",
    "author",
    "entity",
    "entity_typed",
    "label",
    "method",
    "category",
    "country",
    "place",
    "grading",
    "handling",
)
FAST_KEYWORD_FIELDS = frozenset({"source", "language", "method", "category", "country", "label"})
TEXT_FIELDS: tuple[str, ...] = ("title", "text")
DATE_FIELDS: tuple[str, ...] = ("published", "collected")


def text_analyzer() -> tantivy.TextAnalyzer:
    """Full-text analyser: words, lower-cased, ASCII-folded, English-stemmed."""
    return (
        tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.simple())
        .filter(tantivy.Filter.remove_long(40))
        .filter(tantivy.Filter.lowercase())
        .filter(tantivy.Filter.ascii_fold())
        .filter(tantivy.Filter.stemmer("english"))
        .build()
    )


def prefix_analyzer() -> tantivy.TextAnalyzer:
    """Like :func:`text_analyzer` without stemming: a prefix must not be stemmed."""
    return (
        tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.simple())
        .filter(tantivy.Filter.lowercase())
        .filter(tantivy.Filter.ascii_fold())
        .build()
    )


def build_schema() -> tantivy.Schema:
    builder = tantivy.SchemaBuilder()
    builder.add_text_field("id", stored=True, tokenizer_name="raw")
    builder.add_text_field("title", stored=False, tokenizer_name=TEXT_ANALYZER)
    # Stored so that the snippet generator can highlight it.
    builder.add_text_field("text", stored=True, tokenizer_name=TEXT_ANALYZER)
    for name in KEYWORD_FIELDS:
        builder.add_text_field(
            name, fast=name in FAST_KEYWORD_FIELDS, tokenizer_name="raw", index_option="basic"
        )
    for name in DATE_FIELDS:
        builder.add_date_field(name, indexed=True, fast=True)
    builder.add_float_field("relevance", indexed=True, fast=True)
    # The whole record, so hits return full documents without a round trip to the store.
    builder.add_bytes_field("json", stored=True)
    return builder.build()


def to_tantivy(doc: Document, *, phone_region: str = DEFAULT_PHONE_REGION) -> tantivy.Document:
    """Map a record onto the index fields."""
    out = tantivy.Document()
    out.add_text("id", doc.id)
    out.add_text("title", doc.title)
    out.add_text("text", doc.text)

    values: dict[str, set[str]] = {name: set() for name in KEYWORD_FIELDS}
    values["source"].add(normalize("source", doc.source.id))
    if doc.language:
        values["language"].add(normalize("language", doc.language))
    for author in (doc.author, doc.author_handle):
        if author and author.strip():
            values["author"].add(normalize("author", author))
    for entity in doc.entities:
        label = entity.label.upper()
        values["label"].add(label)
        for raw in (entity.text, entity.normalized):
            if not raw or not raw.strip():
                continue
            canonical = normalize_entity_value(label, raw, phone_region=phone_region)
            values["entity"].update({normalize("entity", raw), canonical.casefold()})
            values["entity_typed"].add(f"{label}|{canonical}")
    for method in doc.methods:
        values["method"].add(normalize("method", method.id))
        values["category"].add(normalize("category", method.category))
    for location in doc.locations:
        if location.country_code:
            values["country"].add(normalize("country", location.country_code))
        for name in (location.name, location.mention):
            if name and name.strip():
                values["place"].add(normalize("place", name))
    if doc.grading is not None:
        values["grading"].add(doc.grading.code)
        values["handling"].add(doc.grading.handling)
    for name in KEYWORD_FIELDS:
        for value in sorted(values[name]):
            out.add_text(name, value)

    if doc.published_at is not None:
        out.add_date("published", doc.published_at)
    out.add_date("collected", doc.collected_at)
    out.add_float("relevance", float(doc.relevance))
    out.add_bytes("json", doc.to_json().encode("utf-8"))
    return out
