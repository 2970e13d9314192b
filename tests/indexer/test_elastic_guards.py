"""Resource guards of the cluster backend: what the query DSL may and may not contain.

These tests read the request body the backend would send (``SearchRequest.build``), so they
check exactly what reaches the engine.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from indexer.es_search import MAX_RESULT_WINDOW, SearchRequest
from osintel.errors import QueryError

#: DSL constructs that run user-controlled patterns or code, or parse user syntax themselves.
FORBIDDEN = {"regexp", "wildcard", "query_string", "simple_query_string", "script", "script_score", "fuzzy"}

ANALYST_QUERIES = [
    "cocaine heroin",
    '"county lines"~2 AND title:arrest',
    "method:drugs.* OR category:firearms",
    "cocai* -rotterdam",
    'phone:"07700 900123" plate:AB12CDE',
    "published:[2024-01-01 TO 2024-12-31] relevance:>=0.5",
    'near:"51.51,-0.13,25km" OR bbox:"52,-1,51,0.5"',
    "NOT (entity:liverpool AND label:*)",
    r"text:a\*b\/c\[d\]",
]


def _build(query: str, **kwargs: Any) -> SearchRequest:
    args: dict[str, Any] = dict(limit=10, offset=0, sort="relevance", facets=(), facet_size=20, cursor=None,
                                histogram=None, max_page_size=50, timeout_s=7.5)
    args.update(kwargs)
    return SearchRequest.build(query, **args)


def _keys(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for key, inner in value.items():
            yield key
            yield from _keys(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from _keys(inner)


@pytest.mark.parametrize("query", ANALYST_QUERIES)
def test_no_regex_script_or_query_string_reaches_the_engine(query: str) -> None:
    body = _build(query).body
    assert not FORBIDDEN & set(_keys(body["query"])), body["query"]


@pytest.mark.parametrize("query", ["/coc.*/", "method:*lines", "coc?ine", "cocaine~1", "cocaine^3"])
def test_regex_leading_wildcard_fuzzy_and_boosts_are_refused_before_the_engine(query: str) -> None:
    with pytest.raises(QueryError):
        _build(query)


def test_every_search_carries_the_cluster_timeout_and_an_exact_total() -> None:
    body = _build("cocaine").body
    assert body["timeout"] == "7.5s"
    assert body["track_total_hits"] is True


def test_page_size_is_capped_and_deep_offsets_are_refused() -> None:
    assert _build("cocaine", limit=10_000).body["size"] == 51  # max_page_size + 1 look-ahead
    with pytest.raises(QueryError, match="beyond hit"):
        _build("cocaine", offset=MAX_RESULT_WINDOW, limit=1)


def test_query_length_and_clause_count_are_capped() -> None:
    with pytest.raises(QueryError, match="characters long"):
        _build("a" * 2001)
    with pytest.raises(QueryError, match="clauses"):
        _build(" OR ".join(f"w{i}" for i in range(201)))


def test_entity_facets_take_only_well_formed_labels() -> None:
    body = _build("*", facets=["entity:person"]).body
    assert body["aggs"]["facet0"]["terms"]["include"] == "PERSON\\|.*"
    with pytest.raises(QueryError, match="unknown facet"):
        _build("*", facets=["entity:.*|x"])


def test_ast_queries_built_in_code_pass_the_same_guards() -> None:
    from indexer.base import GeoDistance, Or, Term

    with pytest.raises(QueryError, match="clauses"):
        _build(Or(tuple(Term(None, f"w{i}") for i in range(201))))  # type: ignore[arg-type]
    with pytest.raises(QueryError, match="latitude"):
        _build(GeoDistance(95.0, 0.0, 10.0))  # type: ignore[arg-type]


def test_a_search_the_cluster_cut_off_is_an_error_not_partial_hits() -> None:
    import json
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from indexer.elastic import ElasticIndex, ElasticOptions
    from osintel.errors import IndexBackendError

    seen: list[dict[str, Any]] = []

    class TimedOut(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            return

        def do_POST(self) -> None:  # noqa: N802 - stdlib name
            seen.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            payload = json.dumps({"timed_out": True, "took": 5000, "hits": {"total": {"value": 1, "relation": "eq"},
                                                                            "hits": []}}).encode()
            self.send_response(200)
            for key, value in (("Content-Type", "application/json"), ("X-Elastic-Product", "Elasticsearch"),
                               ("Content-Length", str(len(payload)))):
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(payload)

    server = ThreadingHTTPServer(("127.0.0.1", 0), TimedOut)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        options = ElasticOptions(urls=(f"http://127.0.0.1:{server.server_address[1]}",), search_timeout=2.0)
        with ElasticIndex(options, create=False) as index:
            with pytest.raises(IndexBackendError, match="timed out"):
                index.search("cocaine")
    finally:
        server.shutdown()
        server.server_close()
    assert seen[0]["timeout"] == "2s"
