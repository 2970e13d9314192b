"""Build the development sets (``*.jsonl``) from their hand-written sources in ``src/``.

Run from the repository root after editing a source file::

    .venv/bin/python tests/data/build.py

Sources are easier to write and review than JSON with character offsets:

* ``src/entities.txt``  ``lang|text`` with spans marked ``⟦surface|LABEL⟧``; ``{P0}`` style
  placeholders take the identifiers in ``identifiers.json`` (P phone, B bitcoin, E ether, I IBAN,
  V plate, M IMO number, L URL, U e-mail).
* ``src/methods.txt``   ``lang|method ids (comma-separated) or -|text``.
* ``src/geo.txt``       ``lang|text|mention@lat,lon,CC;...`` (``-`` when the text names no place;
  CC ``-`` for a place in no single country; a leading ``~`` marks an area: country, state or
  region, whose lat/lon is a centroid). The first occurrence of the mention gives its offsets.
* ``src/langid.txt``    ``lang|text``.

Lines starting with ``#`` and blank lines are ignored. Offsets are computed here, so they are
right by construction; ``tests/nlp/test_dev_sets.py`` re-checks every file.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

HERE = Path(__file__).parent
SRC = HERE / "src"
_SPAN_RE = re.compile(r"⟦([^⟦⟧|]+)\|([A-Z_]+)⟧")
_PLACEHOLDER_RE = re.compile(r"\{([PBEIVMLU])(\d+)\}")
_KIND = {"P": "PHONE_GB", "B": "BTC", "E": "ETH", "I": "IBAN", "V": "PLATE", "M": "IMO", "L": "URL", "U": "EMAIL"}


def _lines(name: str) -> list[str]:
    out = []
    for raw in (SRC / name).read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if line and not line.startswith("#"):
            out.append(line)
    return out


def _fill(text: str, identifiers: dict[str, list[str]]) -> str:
    def value(m: re.Match[str]) -> str:
        kind = _KIND[m.group(1)]
        v = identifiers[kind][int(m.group(2))]
        return f"IMO {v}" if kind == "IMO" else v

    return _PLACEHOLDER_RE.sub(value, text)


def build_entities(identifiers: dict[str, list[str]]) -> list[dict]:
    items = []
    for n, line in enumerate(_lines("entities.txt"), 1):
        lang, marked = line.split("|", 1)
        marked = _fill(marked, identifiers)
        text, entities, cursor = "", [], 0
        for m in _SPAN_RE.finditer(marked):
            text += marked[cursor : m.start()]
            start = len(text)
            text += m.group(1)
            entities.append({"start": start, "end": len(text), "label": m.group(2)})
            cursor = m.end()
        text += marked[cursor:]
        if "⟦" in text or "⟧" in text:
            raise ValueError(f"entities line {n}: unbalanced markup: {line}")
        items.append({"id": f"ent-{n:04d}", "lang": lang, "text": text, "entities": entities})
    return items


def build_methods() -> list[dict]:
    items = []
    for n, line in enumerate(_lines("methods.txt"), 1):
        lang, ids, text = line.split("|", 2)
        methods = [] if ids.strip() == "-" else [i.strip() for i in ids.split(",")]
        items.append({"id": f"met-{n:04d}", "lang": lang, "text": text.strip(), "methods": methods})
    return items


def build_geo() -> list[dict]:
    items = []
    for n, line in enumerate(_lines("geo.txt"), 1):
        lang, text, gold = line.split("|", 2)
        text = text.strip()
        places = []
        if gold.strip() != "-":
            for part in gold.split(";"):
                mention, coords = part.rsplit("@", 1)
                lat, lon, cc = coords.split(",")
                mention = mention.strip()
                kind = "area" if mention.startswith("~") else "place"
                mention = mention.lstrip("~")
                start = text.find(mention)
                if start < 0:
                    raise ValueError(f"geo line {n}: mention {mention!r} not in text")
                places.append(
                    {
                        "mention": mention,
                        "start": start,
                        "end": start + len(mention),
                        "lat": float(lat),
                        "lon": float(lon),
                        "country_code": None if cc.strip() == "-" else cc.strip(),
                        "kind": kind,
                    }
                )
        items.append({"id": f"geo-{n:04d}", "lang": lang, "text": text, "places": places})
    return items


def build_langid() -> list[dict]:
    items = []
    for n, line in enumerate(_lines("langid.txt"), 1):
        lang, text = line.split("|", 1)
        items.append({"id": f"lid-{n:04d}", "text": text.strip(), "lang": lang})
    return items


def _write(name: str, items: list[dict]) -> None:
    with (HERE / name).open("w", encoding="utf-8") as fh:
        for item in items:
            fh.write(json.dumps(item, ensure_ascii=False) + "\n")
    print(f"{name}: {len(items)} items")


def main() -> None:
    identifiers = json.loads((HERE / "identifiers.json").read_text(encoding="utf-8"))
    builders = {
        "entities.txt": ("entities.jsonl", lambda: build_entities(identifiers)),
        "methods.txt": ("methods.jsonl", build_methods),
        "geo.txt": ("geo.jsonl", build_geo),
        "langid.txt": ("langid.jsonl", build_langid),
    }
    for source, (target, build) in builders.items():
        if (SRC / source).exists():
            _write(target, build())


if __name__ == "__main__":
    main()
