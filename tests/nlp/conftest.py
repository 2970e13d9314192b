"""Shared fixtures for the NLP tests: the expensive pieces are built once per session."""

from __future__ import annotations

import os

# Prove nothing is fetched from a model hub while the NLP stage runs.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

from collections.abc import Callable  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

from osintel.records import Document, SourceRef  # noqa: E402
from osintel.settings import Settings, load_settings  # noqa: E402

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(scope="session")
def settings() -> Settings:
    return load_settings(env={})


@pytest.fixture(scope="session")
def enricher(settings: Settings):
    from nlp.enricher import Enricher

    return Enricher.from_settings(settings)


@pytest.fixture(scope="session")
def gazetteer(enricher):
    return enricher.gazetteer


@pytest.fixture(scope="session")
def taxonomy(enricher):
    return enricher.methods


@pytest.fixture()
def make_doc() -> Callable[..., Document]:
    counter = iter(range(10**6))

    def make(text: str, *, title: str = "", grading: str = "2BP", url: str | None = None) -> Document:
        return Document(
            url=url or f"https://news.example.org/{next(counter)}",
            source=SourceRef(id="test", name="Test", grading=grading),
            title=title,
            text=text,
        )

    return make
