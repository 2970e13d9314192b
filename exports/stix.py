"""STIX 2.1: one Report per document, with what it refers to, in a bundle.

Per document the bundle holds a ``report`` (title, text as description, published date,
confidence from the grading, TLP + grading markings, the page URL and capture SHA-256 as an
external reference) whose ``object_refs`` name:

- the source as an ``identity``;
- each geocoded place as a ``location`` (latitude/longitude and country);
- each method as an ``attack-pattern`` (see :mod:`exports.stix_vocab`);
- each identifier (URL, domain, e-mail, IP, handle, phone, wallet, IBAN, plate, IMO) as an
  observable (standard SCO or an osintel SCO defined by an extension definition).

The report's ``labels`` carry its crime types (:func:`crime_type_labels`).

Ids are deterministic (UUIDv5), as are timestamps (``created`` is the collection time), so a
re-export is the same objects. Objects shared by several documents appear once per bundle.
Crawled text only ever sits in JSON string values; no pattern or markup is built from it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator
from functools import lru_cache
from pathlib import Path
from typing import Any

import stix2

from osintel.records import Document
from exports import stix_vocab as vocab
from exports.common import clean_text, confidence, grading_of, stable_uuid
from exports.registry import ExportContext

#: HTTP media type of a STIX 2.1 bundle.
STIX_MEDIA_TYPE = "application/stix+json;version=2.1"
_WEB_KINDS = frozenset({"feed", "sitemap", "web"})


def source_identity(doc: Document) -> stix2.Identity:
    """The Identity of the document's source (stable per source id)."""
    source = doc.source
    return _source_identity(source.id, source.name, source.kind, source.platform)


# Shared objects are built once per process: constructing a stix2 object costs ~2 ms of checks.
@lru_cache(maxsize=4096)
def _source_identity(source_id: str, name: str, kind: str, platform: str | None) -> stix2.Identity:
    return stix2.Identity(
        id=f"identity--{stable_uuid('source', source_id)}", name=clean_text(name or source_id),
        identity_class="organization" if kind in _WEB_KINDS else "unknown",
        description=f"osintel source {source_id} ({kind}{', ' + platform if platform else ''})",
        created=vocab.EPOCH, modified=vocab.EPOCH,
    )


@lru_cache(maxsize=65536)
def _location(name: str, lat: float | None, lon: float | None, country: str | None, admin1: str | None,
              geonames_id: int | None, creator: str) -> stix2.Location:
    key = str(geonames_id) if geonames_id else f"{name}|{lat}|{lon}|{country}"
    kwargs: dict[str, Any] = {"name": clean_text(name)}
    if lat is not None and lon is not None:
        kwargs.update(latitude=lat, longitude=lon)
    if country:
        kwargs["country"] = country.upper()
    if admin1:
        kwargs["administrative_area"] = clean_text(admin1)
    if geonames_id:
        kwargs["external_references"] = [{"source_name": "geonames", "external_id": str(geonames_id)}]
    return stix2.Location(id=f"location--{stable_uuid('location', key)}", created_by_ref=creator,
                          created=vocab.EPOCH, modified=vocab.EPOCH, **kwargs)


def _locations(doc: Document, creator: str) -> Iterator[stix2.Location]:
    for place in doc.locations:
        if (place.lat is None or place.lon is None) and not place.country_code:
            continue  # STIX needs a point, a country or a region
        yield _location(place.name, place.lat, place.lon, place.country_code, place.admin1,
                        place.geonames_id, creator)


@lru_cache(maxsize=4096)
def _attack_pattern(method_id: str, label: str, category: str, creator: str) -> stix2.AttackPattern:
    return stix2.AttackPattern(
        id=f"attack-pattern--{stable_uuid('method', method_id)}", created_by_ref=creator,
        created=vocab.EPOCH, modified=vocab.EPOCH, name=clean_text(label or method_id),
        external_references=[{"source_name": vocab.METHOD_SOURCE, "external_id": method_id}],
        kill_chain_phases=[{
            "kill_chain_name": vocab.METHOD_KILL_CHAIN,
            "phase_name": category.lower().replace("_", "-") or "unknown",
        }],
    )


def _attack_patterns(doc: Document, creator: str) -> Iterator[stix2.AttackPattern]:
    for method in {m.id: m for m in doc.methods}.values():
        yield _attack_pattern(method.id, method.label, method.category, creator)


def _observables(doc: Document) -> Iterator[Any]:
    seen: set[tuple[str, str]] = set()
    for entity in doc.entities:
        value = clean_text(entity.normalized or entity.text).strip()
        if not value or (entity.label, value) in seen:
            continue
        seen.add((entity.label, value))
        try:
            obj = vocab.observable(entity.label, value)
        except (stix2.exceptions.STIXError, ValueError):
            continue  # a value the STIX type refuses (e.g. a malformed IP) is not exported
        if obj is not None:
            yield obj


def crime_type_labels(doc: Document) -> list[str]:
    """``crime-type:<id>`` and ``crime-group:<group>`` for each crime type of ``doc``.

    A crime type is what the report is about, not an object it refers to (not a technique, so
    not an attack-pattern): ``labels``, the common property for "terms that describe this
    object", carries it, namespaced so a partner can filter on either level.
    """
    labels: dict[str, None] = {}
    for crime in doc.crime_types:
        labels[f"{vocab.CRIME_TYPE_LABEL}:{crime.id}"] = None
        labels[f"{vocab.CRIME_GROUP_LABEL}:{crime.id.split('.', 1)[0]}"] = None
    return list(labels)


def document_objects(doc: Document, context: ExportContext) -> list[Any]:
    """Every STIX object for ``doc``: dependencies first, the Report last."""
    producer = vocab.producer_identity(context.producer)
    grading = grading_of(doc)
    markings = vocab.grading_markings(grading)
    source = source_identity(doc)
    places = list(_locations(doc, producer.id))
    methods = list(_attack_patterns(doc, producer.id))
    observables = list(_observables(doc))
    definitions = {
        d.type: d.definition(producer)
        for d in filter(None, (vocab.custom_definition_for(o) for o in observables))
    }
    reference: dict[str, Any] = {"source_name": doc.source.id, "url": doc.url, "external_id": doc.id}
    if doc.capture is not None:
        reference["hashes"] = {"SHA-256": doc.capture.sha256}
    refs = [source.id, *(o.id for o in places), *(o.id for o in methods), *(o.id for o in observables)]
    report_kwargs: dict[str, Any] = {}
    if doc.language:
        report_kwargs["lang"] = doc.language
    labels = crime_type_labels(doc)
    if labels:
        report_kwargs["labels"] = labels
    text = clean_text(doc.text, limit=context.max_text_chars)
    if text:
        report_kwargs["description"] = text
    report = stix2.Report(
        id=f"report--{stable_uuid('report', doc.id)}", created_by_ref=producer.id,
        created=doc.collected_at, modified=doc.collected_at,
        published=doc.published_at or doc.collected_at,
        name=clean_text(doc.title, limit=500) or doc.url, report_types=["threat-report"],
        confidence=confidence(grading), object_refs=refs, external_references=[reference],
        object_marking_refs=[m.id for m in markings], allow_custom=True, **report_kwargs,
    )
    return [producer, *definitions.values(), *markings, source, *places, *methods, *observables, report]


def bundle_objects(docs: Iterable[Document], context: ExportContext) -> Iterator[Any]:
    """The objects of all ``docs``, each shared object once (in first-use order)."""
    seen: set[str] = set()
    for doc in docs:
        for obj in document_objects(doc, context):
            if obj.id not in seen:
                seen.add(obj.id)
                yield obj


def to_dict(obj: Any) -> dict[str, Any]:
    """A STIX object as plain JSON-able data."""
    data: dict[str, Any] = json.loads(obj.serialize())
    return data


class StixExporter:
    """STIX 2.1 bundle (``--format stix``), streamed to the file as objects are made."""

    name = "stix"
    media_type = STIX_MEDIA_TYPE
    suffix = ".json"
    directory = False

    def export(self, docs: Iterable[Document], target: Path, *, context: ExportContext) -> int:
        count = 0
        ids = hashlib.sha256()

        def counted() -> Iterator[Document]:
            nonlocal count
            for doc in docs:
                count += 1
                ids.update(doc.id.encode("ascii", "replace") + b"\n")
                yield doc

        with target.open("w", encoding="utf-8") as fh:
            fh.write('{"type": "bundle"')
            first = True
            for obj in bundle_objects(counted(), context):
                fh.write(', "objects": [\n' if first else ",\n")
                fh.write(obj.serialize())
                first = False
            if not first:
                fh.write("\n]")
            # The bundle id is derived from the documents it carries, so it is stable too.
            fh.write(f', "id": "bundle--{stable_uuid("bundle", ids.hexdigest())}"}}\n')
        return count
