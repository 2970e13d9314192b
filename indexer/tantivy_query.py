"""Compile the query AST (:mod:`indexer.base`) into tantivy ``Query`` objects.

Only tantivy's structured query constructors are used; user input is never spliced into a
tantivy query string. Values arrive already normalised by :mod:`indexer.query`; full-text values
are analysed here with the same analyser the index uses.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

import tantivy

from indexer.base import (
    And,
    GeoBox,
    GeoDistance,
    MatchAll,
    Node,
    Not,
    Or,
    Phrase,
    Prefix,
    Range,
    Term,
)
from indexer.query import FIELDS
from indexer.tantivy_schema import (
    GEO_CELL,
    ID_HASH,
    TEXT_FIELDS,
    prefix_analyzer,
    text_analyzer,
)
from osintel.errors import QueryError


@dataclass(frozen=True, slots=True)
class IdHashSet:
    """Internal node: the documents whose :data:`~indexer.tantivy_schema.ID_HASH` is in
    ``hashes`` (documents of a geo filter's edge cells after their exact check, see
    :mod:`indexer.tantivy_geo`)."""

    hashes: frozenset[int]


@dataclass(frozen=True, slots=True)
class CellSet:
    """Internal node: the documents with a location in one of ``cells`` (terms of
    :data:`~indexer.tantivy_schema.GEO_CELL`, see :mod:`indexer.geo_cells`)."""

    cells: frozenset[int]


@dataclass(frozen=True, slots=True)
class ConstScore:
    """Internal node: ``clause`` as a filter that adds the same score to every match, so a
    resolved geo filter never reorders relevance-ranked hits."""

    clause: Node



def internal(node: IdHashSet | CellSet | ConstScore) -> Node:
    """``node`` as a leaf of a query AST for :class:`TantivyCompiler`. :data:`~indexer.base.Node`
    lists only the public node types; these internal leaves never leave the tantivy backend."""
    return cast("Node", node)


_MUST = tantivy.Occur.Must
_SHOULD = tantivy.Occur.Should
_MUST_NOT = tantivy.Occur.MustNot


def regex_escape(value: str) -> str:
    """Escape every non-alphanumeric character for tantivy's (Rust) regex syntax."""
    return "".join(c if c.isalnum() else f"\\x{{{ord(c):x}}}" for c in value)


class TantivyCompiler:
    """Turns an AST into a tantivy query for one schema. Build once; reuse across queries."""

    def __init__(self, schema: tantivy.Schema) -> None:
        self.schema = schema
        self.analyzer = text_analyzer()
        self.prefix_analyzer = prefix_analyzer()

    def compile(self, node: Node) -> tantivy.Query:
        query = self._compile(node)
        return tantivy.Query.all_query() if query is None else query

    # ``None`` means "no constraint" (MatchAll, or a word with no indexable characters such as
    # "&&"), so that it vanishes from an AND instead of emptying it.
    def _compile(self, node: Node) -> tantivy.Query | None:
        if isinstance(node, MatchAll):
            return None
        if isinstance(node, And):
            return self._and(node)
        if isinstance(node, Or):
            parts = [self._compile(c) for c in node.clauses]
            constrained = [p for p in parts if p is not None]
            if len(constrained) < len(parts):
                return None
            return tantivy.Query.boolean_query([(_SHOULD, p) for p in constrained])
        if isinstance(node, Not):
            inner = self._compile(node.clause)
            if inner is None:
                return tantivy.Query.empty_query()
            return tantivy.Query.boolean_query(
                [(_MUST, tantivy.Query.all_query()), (_MUST_NOT, inner)]
            )
        if isinstance(node, Term):
            if node.field is None or FIELDS[node.field].kind == "text":
                return self._text(node.field, node.value, slop=0)
            return self._keyword(node.field, node.value)
        if isinstance(node, Phrase):
            return self._text(node.field, node.text, slop=node.slop)
        if isinstance(node, Prefix):
            return self._prefix(node)
        if isinstance(node, Range):
            return self._range(node)
        if isinstance(node, IdHashSet):
            if not node.hashes:
                return tantivy.Query.empty_query()
            # Measured: a disjunction of term queries runs several times faster here than
            # term_set_query on the same values.
            terms = [tantivy.Query.term_query(self.schema, ID_HASH, h) for h in sorted(node.hashes)]
            return tantivy.Query.const_score_query(
                tantivy.Query.boolean_query([(_SHOULD, q) for q in terms]), 1.0
            )
        if isinstance(node, CellSet):
            if not node.cells:
                return tantivy.Query.empty_query()
            return tantivy.Query.term_set_query(self.schema, GEO_CELL, sorted(node.cells))
        if isinstance(node, ConstScore):
            inner = self._compile(node.clause)
            return None if inner is None else tantivy.Query.const_score_query(inner, 1.0)
        if isinstance(node, (GeoDistance, GeoBox)):
            # The index resolves geo nodes (cells + exact check at the edge) before compiling.
            raise QueryError("geo filters must be resolved before compiling")
        raise QueryError(f"cannot compile query node {node!r}")

    def _and(self, node: And) -> tantivy.Query | None:
        clauses: list[tuple[tantivy.Occur, tantivy.Query]] = []
        for child in node.clauses:
            if isinstance(child, Not):
                inner = self._compile(child.clause)
                if inner is None:
                    return tantivy.Query.empty_query()
                clauses.append((_MUST_NOT, inner))
            else:
                query = self._compile(child)
                if query is not None:
                    clauses.append((_MUST, query))
        if not clauses:
            return None
        if all(occur == _MUST_NOT for occur, _ in clauses):
            # Tantivy matches nothing with only prohibited clauses; prohibit from everything.
            clauses.insert(0, (_MUST, tantivy.Query.all_query()))
        return tantivy.Query.boolean_query(clauses)

    def _text(self, field: str | None, text: str, *, slop: int) -> tantivy.Query | None:
        tokens = self.analyzer.analyze(text)
        if not tokens:
            return None
        fields = TEXT_FIELDS if field is None else (field,)
        words: list[str | tuple[int, str]] = list(tokens)
        queries = []
        for name in fields:
            if len(tokens) == 1:
                queries.append(tantivy.Query.term_query(self.schema, name, tokens[0]))
            else:
                queries.append(tantivy.Query.phrase_query(self.schema, name, words, slop))
        if len(queries) == 1:
            return queries[0]
        return tantivy.Query.boolean_query([(_SHOULD, q) for q in queries])

    def _keyword(self, field: str, value: str) -> tantivy.Query:
        spec = FIELDS[field]
        if spec.kind == "entity":
            terms = [f"{label}|{value}" for label in spec.labels]
            if len(terms) == 1:
                return tantivy.Query.term_query(self.schema, "entity_typed", terms[0])
            return tantivy.Query.term_set_query(self.schema, "entity_typed", terms)
        return tantivy.Query.term_query(self.schema, field, value)

    def _prefix(self, node: Prefix) -> tantivy.Query | None:
        spec = FIELDS[node.field] if node.field else None
        if spec is None or spec.kind == "text":
            tokens = self.prefix_analyzer.analyze(node.value)
            if len(tokens) > 1:
                raise QueryError(f"a wildcard word must be a single word, not {node.value!r}")
            pattern = (regex_escape(tokens[0]) if tokens else "") + ".*"
            fields = TEXT_FIELDS if spec is None else (spec.name,)
            queries = [tantivy.Query.regex_query(self.schema, f, pattern) for f in fields]
            if len(queries) == 1:
                return queries[0]
            return tantivy.Query.boolean_query([(_SHOULD, q) for q in queries])
        if spec.kind == "entity":
            labels = "|".join(regex_escape(label) for label in spec.labels)
            pattern = f"({labels})\\|{regex_escape(node.value)}.*"
            return tantivy.Query.regex_query(self.schema, "entity_typed", pattern)
        return tantivy.Query.regex_query(self.schema, spec.name, regex_escape(node.value) + ".*")

    def _range(self, node: Range) -> tantivy.Query:
        is_date = FIELDS[node.field].kind == "date"
        field_type = tantivy.FieldType.Date if is_date else tantivy.FieldType.Float
        return tantivy.Query.range_query(
            self.schema,
            node.field,
            field_type,
            node.low,
            node.high,
            node.include_low if node.low is not None else True,
            node.include_high if node.high is not None else True,
        )
