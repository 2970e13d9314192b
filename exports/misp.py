"""MISP: one event per document, as MISP event JSON (``--format misp``) or a MISP feed
directory (``--format misp-feed``: ``manifest.json``, ``hashes.csv``, ``<uuid>.json``).

Events are built with PyMISP's :class:`~pymisp.MISPEvent`, which checks every attribute's
``type`` and ``category`` against MISP's ``describeTypes.json`` (shipped with PyMISP). Mapping:

=================  ===================  ==================
entity label       MISP type            category
=================  ===================  ==================
URL                url                  Network activity
DOMAIN             domain               Network activity
IP_ADDRESS         ip-dst               Network activity
EMAIL              email                Social network
HANDLE             text                 Social network
PHONE              phone-number         Person
BTC/XMR_ADDRESS    btc / xmr            Financial fraud
ETH_ADDRESS        text                 Financial fraud
IBAN               iban                 Financial fraud
VEHICLE_PLATE      text                 Other
IMO                text                 Other
page URL           link                 External analysis
collected text     text                 Other
=================  ===================  ==================

``to_ids`` is off for every attribute: a value mentioned in an open-source article is a lead,
not a detection signature, and should not be pushed to partners' IDS by default. Places become
``geolocation`` objects. Names of people are not exported (data minimisation).

Tags: ``osintel:method="<method id>"`` and ``osintel:category="<category>"`` per method,
``osintel:crimetype="<crime type id>"`` and ``osintel:crimegroup="<group>"`` per crime type,
``osintel:grading="2BP"`` plus its parts (``osintel:source-evaluation``,
``osintel:intelligence-assessment``, ``osintel:handling-code``) and ``tlp:green`` (P) or
``tlp:amber`` (C). UUIDs and timestamps are derived from the document, so re-exports are stable.
The feed layout is exactly what PyMISP's ``feed_meta_generator`` writes and MISP pulls.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import Any

from pymisp import MISPEvent, MISPObject, MISPOrganisation

from osintel.records import Document
from exports.common import clean_text, grading_of, stable_uuid
from exports.registry import ExportContext

#: entity label -> (MISP type, category, comment)
ATTRIBUTE_TYPES: dict[str, tuple[str, str, str]] = {
    "URL": ("url", "Network activity", ""),
    "DOMAIN": ("domain", "Network activity", ""),
    "IP_ADDRESS": ("ip-dst", "Network activity", ""),
    "EMAIL": ("email", "Social network", ""),
    "HANDLE": ("text", "Social network", "social media handle"),
    "PHONE": ("phone-number", "Person", ""),
    "BTC_ADDRESS": ("btc", "Financial fraud", ""),
    "XMR_ADDRESS": ("xmr", "Financial fraud", ""),
    "ETH_ADDRESS": ("text", "Financial fraud", "Ethereum address"),
    "IBAN": ("iban", "Financial fraud", ""),
    "VEHICLE_PLATE": ("text", "Other", "vehicle registration plate"),
    "IMO": ("text", "Other", "IMO ship number"),
}
#: MISP ``threat_level_id`` 4 is "undefined": the system does not assess threat.
THREAT_LEVEL_UNDEFINED = 4
#: MISP ``analysis`` 0 is "initial": machine enrichment, not yet reviewed by an analyst.
ANALYSIS_INITIAL = 0
#: Largest attribute value sent, in UTF-8 bytes (MISP's value column holds 65,535).
MAX_VALUE_BYTES = 60000


def _tag_value(value: str) -> str:
    return clean_text(value).replace('"', "'")


def organisation(name: str) -> MISPOrganisation:
    """The creator organisation (``Orgc``) of every event."""
    org = MISPOrganisation()
    org.from_dict(name=name, uuid=str(stable_uuid("producer", name)))
    return org


def document_event(doc: Document, context: ExportContext) -> MISPEvent:
    """The MISP event for one document."""
    grading = grading_of(doc)
    when: datetime = doc.collected_at
    event = MISPEvent()
    event.uuid = str(stable_uuid("misp-event", doc.id))
    event.info = clean_text(doc.title, limit=250) or doc.url
    event.date = (doc.published_at or doc.collected_at).date()
    event.threat_level_id = THREAT_LEVEL_UNDEFINED
    event.analysis = ANALYSIS_INITIAL
    event.published = True
    event.timestamp = when
    event.publish_timestamp = when  # not 'now': re-exports stay byte-for-byte stable
    event.Orgc = organisation(context.producer)
    tags = [f'osintel:grading="{grading.code}"', f'osintel:source-evaluation="{grading.source}"',
            f'osintel:intelligence-assessment="{grading.intelligence}"',
            f'osintel:handling-code="{grading.handling}"', "tlp:green" if grading.handling == "P" else "tlp:amber",
            f'osintel:source="{_tag_value(doc.source.id)}"']
    for method in doc.methods:
        tags.append(f'osintel:method="{_tag_value(method.id)}"')
        tags.append(f'osintel:category="{_tag_value(method.category)}"')
    for crime in doc.crime_types:
        tags.append(f'osintel:crimetype="{_tag_value(crime.id)}"')
        tags.append(f'osintel:crimegroup="{_tag_value(crime.id.split(".", 1)[0])}"')
    for tag in dict.fromkeys(tags):
        event.add_tag(tag)

    def add(type_: str, category: str, value: str, comment: str = "") -> None:
        event.add_attribute(
            type_, value, category=category, to_ids=False, comment=comment, timestamp=when,
            uuid=str(stable_uuid("misp-attribute", f"{doc.id}|{type_}|{category}|{value}")),
        )

    capture = f"; capture SHA-256 {doc.capture.sha256}" if doc.capture else ""
    add("link", "External analysis", doc.url, f"source {doc.source.id}, collected {when.isoformat()}{capture}")
    text = clean_text(doc.text, limit=context.max_text_chars)
    # MISP stores a value in a 64 KiB TEXT column: cut by UTF-8 bytes, never mid-character.
    text = text.encode("utf-8")[:MAX_VALUE_BYTES].decode("utf-8", errors="ignore")
    if text:
        add("text", "Other", text, "collected text (verbatim, untrusted)")
    seen: set[tuple[str, str]] = set()
    for entity in doc.entities:
        mapping = ATTRIBUTE_TYPES.get(entity.label)
        value = clean_text(entity.normalized or entity.text).strip()
        if mapping is None or not value or (mapping[0], value) in seen:
            continue
        seen.add((mapping[0], value))
        add(mapping[0], mapping[1], value, mapping[2])
    for place in doc.locations:
        if place.lat is None or place.lon is None:
            continue
        obj = MISPObject("geolocation", standalone=False)
        obj.uuid = str(stable_uuid("misp-object", f"{doc.id}|{place.name}|{place.lat}|{place.lon}"))
        obj.timestamp = when
        obj.add_attribute("latitude", value=place.lat, timestamp=when)
        obj.add_attribute("longitude", value=place.lon, timestamp=when)
        obj.add_attribute("city", value=clean_text(place.name), timestamp=when)
        if place.country_code:
            obj.add_attribute("countrycode", value=place.country_code.upper(), timestamp=when)
        for attribute in obj.attributes:
            attribute.uuid = str(stable_uuid("misp-attribute", f"{obj.uuid}|{attribute.object_relation}"))
        event.add_object(obj)
    return event


def event_json(event: MISPEvent) -> dict[str, Any]:
    """An event in the form MISP's feed and import read (``{"Event": {...}}``)."""
    return event.to_feed()


class MispExporter:
    """MISP event JSON: ``{"response": [{"Event": ...}, ...]}``, as MISP's own JSON export writes,
    which its "Import from... MISP JSON" reads back."""

    name = "misp"
    media_type = "application/json"
    suffix = ".json"
    directory = False

    def export(self, docs: Iterable[Document], target: Path, *, context: ExportContext) -> int:
        count = 0
        with target.open("w", encoding="utf-8") as fh:
            fh.write('{"response": [')
            for doc in docs:
                fh.write(",\n" if count else "\n")
                fh.write(json.dumps(event_json(document_event(doc, context)), ensure_ascii=False))
                count += 1
            fh.write("\n]}\n")
        return count


class MispFeedExporter:
    """A MISP feed directory that a MISP instance pulls over HTTP (Sync → Feeds → "MISP Feed")."""

    name = "misp-feed"
    media_type = "application/json"
    suffix = ""
    directory = True

    def export(self, docs: Iterable[Document], target: Path, *, context: ExportContext) -> int:
        manifest: dict[str, Any] = {}
        count = 0
        with (target / "hashes.csv").open("w", encoding="utf-8") as hashes:
            for doc in docs:
                event = document_event(doc, context)
                (target / f"{event.uuid}.json").write_text(
                    json.dumps(event_json(event), ensure_ascii=False), encoding="utf-8"
                )
                manifest.update(event.manifest)
                for digest in event.attributes_hashes("md5"):
                    hashes.write(f"{digest},{event.uuid}\n")
                count += 1
        (target / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False), encoding="utf-8")
        return count
