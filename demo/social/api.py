"""The small contract between the demo site and a platform's demo endpoints."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass(frozen=True)
class ApiResponse:
    """A complete HTTP response from a demo endpoint (status, body, headers)."""

    status: int
    body: bytes
    content_type: str = "application/json; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def json(cls, data: Any, *, status: int = 200, headers: dict[str, str] | None = None) -> ApiResponse:
        return cls(status, json.dumps(data, ensure_ascii=False).encode("utf-8"), headers=dict(headers or {}))


class DemoAPI(Protocol):
    """One platform's endpoints. Return ``None`` for paths that are not the platform's."""

    def handle(self, path: str, query: dict[str, list[str]], base: str) -> ApiResponse | None: ...
