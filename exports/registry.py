"""The exporter extension point: declared here, registered in one place.

An exporter turns a stream of :class:`~osintel.records.Document` into one format a partner
system reads. To add one, write a class with the :class:`Exporter` attributes and ``export``
method and add its ``"module:Class"`` to :data:`BUILTIN` (the built-ins use the same
mechanism), or call :func:`register` from a plugin at start-up.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, runtime_checkable

from osintel.errors import ExportError
from osintel.records import Document

#: The built-in exporters, ``"module:Class"``, in the order ``--help`` lists them.
BUILTIN: tuple[str, ...] = (
    "exports.stix:StixExporter",
    "exports.misp:MispExporter",
    "exports.misp:MispFeedExporter",
    "exports.tabular:NdjsonExporter",
    "exports.tabular:CsvExporter",
)


@dataclass(frozen=True)
class ExportContext:
    """What every exporter may need beyond the documents themselves."""

    producer: str = "osintel"
    max_text_chars: int = 20000


@runtime_checkable
class Exporter(Protocol):
    """One output format.

    ``name`` is what ``--format`` and ``?format=`` take; ``media_type`` is the HTTP content type
    of the result; ``suffix`` the file-name suffix; ``directory`` is true when the result is a
    directory of files (a MISP feed) rather than one file.
    """

    name: str
    media_type: str
    suffix: str
    directory: bool

    def export(self, docs: Iterable[Document], target: Path, *, context: ExportContext) -> int:
        """Write ``docs`` to ``target`` (a file, or a directory that exists and is empty);
        returns the number of documents written."""
        ...


_REGISTRY: dict[str, Exporter] = {}


def register(exporter: Exporter) -> None:
    """Make ``exporter`` available under ``exporter.name`` (replacing one of the same name)."""
    if not isinstance(exporter, Exporter):
        raise TypeError(f"{exporter!r} does not implement the Exporter protocol")
    _REGISTRY[exporter.name] = exporter


def _load_builtins() -> None:
    if _REGISTRY:
        return
    for spec in BUILTIN:
        module, _, cls = spec.partition(":")
        register(getattr(importlib.import_module(module), cls)())


def exporters() -> dict[str, Exporter]:
    """Every registered exporter by name."""
    _load_builtins()
    return dict(_REGISTRY)


def get_exporter(name: str) -> Exporter:
    """The exporter called ``name``; :class:`~osintel.errors.ExportError` if there is none."""
    _load_builtins()
    try:
        return _REGISTRY[name]
    except KeyError:
        known = ", ".join(sorted(_REGISTRY))
        raise ExportError(f"unknown export format {name!r}; expected one of {known}") from None
