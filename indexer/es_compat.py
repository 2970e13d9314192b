"""Let the official Elasticsearch client talk to an OpenSearch cluster.

The Elasticsearch 8/9 client sends ``application/vnd.elasticsearch+json; compatible-with=N``
media types, which OpenSearch does not understand, and refuses any answer without the
``X-Elastic-Product: Elasticsearch`` header, which OpenSearch does not send. The REST API
osintel uses (index templates, aliases, bulk, search with aggregations, highlighting and
``search_after``) is otherwise the same on both. :class:`OpenSearchNode` is a transport node
that sends plain ``application/json``/``application/x-ndjson`` and marks answers as accepted;
``elasticsearch.distribution = "opensearch"`` selects it.
"""

from __future__ import annotations

import dataclasses
import re
from typing import TYPE_CHECKING

from elastic_transport import HttpHeaders, Urllib3HttpNode
from elastic_transport.client_utils import DEFAULT, DefaultType

if TYPE_CHECKING:
    # The node's response type; elastic_transport exports it from this module only.
    from elastic_transport._node import NodeApiResponse

_VENDOR_RE = re.compile(r"application/vnd\.elasticsearch\+([a-z-]+)(;\s*compatible-with=\d+)?", re.I)


def plain_media_type(value: str) -> str:
    """``application/vnd.elasticsearch+x-ndjson; compatible-with=9`` -> ``application/x-ndjson``."""
    return _VENDOR_RE.sub(lambda m: f"application/{m[1]}", value)


class OpenSearchNode(Urllib3HttpNode):
    """An HTTP node speaking plain JSON media types, for OpenSearch clusters."""

    def perform_request(self, method: str, target: str, body: bytes | None = None,
                        headers: HttpHeaders | None = None,
                        request_timeout: DefaultType | float | None = DEFAULT) -> NodeApiResponse:
        if headers is not None:
            headers = HttpHeaders({key: plain_media_type(value) for key, value in headers.items()})
        response = super().perform_request(method, target, body=body, headers=headers,
                                           request_timeout=request_timeout)
        meta = response.meta
        if meta.headers.get("x-elastic-product") == "Elasticsearch":
            return response
        patched = HttpHeaders(dict(meta.headers.items()))
        patched["X-Elastic-Product"] = "Elasticsearch"
        # NodeApiResponse is a NamedTuple: _replace is its public copy-with-changes.
        return response._replace(meta=dataclasses.replace(meta, headers=patched.freeze()))
