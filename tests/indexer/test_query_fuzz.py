"""Odd query text never escapes as anything but a :class:`QueryError` with a position.

Hypothesis builds queries from pieces of the query language (fields, operators, brackets, signs,
extreme numbers and dates, geo values, long words, stray Unicode) and from arbitrary text. Each
is parsed, compiled for Elasticsearch (and serialised as strict JSON, as the client sends it) and
run on a real embedded index. ``derandomize`` makes every run try the same inputs.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from indexer.es_query import EsCompiler
from indexer.query import parse_query
from indexer.tantivy_index import TantivyIndex
from osintel.errors import QueryError
from osintel.records import Document, SourceRef

PIECES = (
    "cocaine", "x1", "-", "+", "!", '"', "(", ")", "[", "]", "{", "}", ":", "^", "~", "~.", "*", "?",
    "\\", "/", " ", " TO ", " AND ", " OR ", "NOT ", "&&", "||", "published:", "collected:",
    "relevance:", "title:", "text:", "method:", "phone:", "wallet:", "near:", "bbox:", "id:", "1",
    "-1", "0.5", "1e308", "1e999", "nan", "-inf", "2024-01-01", "0001-01-01", "9999-12-31",
    "2024-01-01T00:00:00+23:59", "<", ">", ">=", "<=", "=", ",", ".", "_", "é", "ß", "ⓐ", "\x00",
    "\t", '"51.5,-0.1,25km"', '"91,0,1km"', '"52,-1,51,0.5"', '"1,1,1e999km"', "e" * 256,
    "0x52908400098527886E0F7030069857D2E4169EE7",
)
QUERIES = st.one_of(
    st.lists(st.sampled_from(PIECES), min_size=1, max_size=8).map("".join),
    st.text(max_size=60),
)
_COMPILER = EsCompiler()


@pytest.fixture(scope="module")
def small_index(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TantivyIndex]:
    path: Path = tmp_path_factory.mktemp("fuzz")
    with TantivyIndex(path, writer_heap_bytes=20_000_000) as index:
        source = SourceRef(id="s", name="S")
        index.upsert([Document(url=f"https://e.example/{i}", source=source, text=f"cocaine {i}") for i in range(3)])
        yield index


@settings(max_examples=600, derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(query=QUERIES)
def test_odd_query_text_is_a_query_error_with_a_position_or_a_query_both_backends_run(query: str) -> None:
    try:
        node = parse_query(query)
    except QueryError as exc:
        assert exc.position is not None and 0 <= exc.position <= len(query), (query, exc)
        return
    json.dumps(_COMPILER.compile(node), allow_nan=False)  # the body the cluster would get


@settings(max_examples=300, derandomize=True, deadline=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(query=QUERIES)
def test_odd_query_text_runs_or_is_refused_on_the_embedded_index(small_index: TantivyIndex, query: str) -> None:
    try:
        small_index.search(query, limit=3, facets=["source"])
    except QueryError as exc:
        assert exc.position is not None, (query, exc)
