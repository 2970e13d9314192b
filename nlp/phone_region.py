"""The region a document's nationally written phone numbers are read in ("07700 900123").

A number written with its country code (+44 ..., 0044 ...) needs no region. One written the
national way has meaning only in a country, so :func:`choose_phone_region` picks the best one
the document offers, strongest evidence first:

1. ``source``: the country the source declares (``sources.yaml`` ``country``);
2. ``url``: the country-code top-level domain of a web page or feed item (``.co.uk`` → GB,
   ``.fr`` → FR); not for social-media posts, whose address is the platform's, and not for
   ccTLDs sold as generic names (``.io``, ``.co``, ``.tv``, ``.me`` ...);
3. ``places``: the country of most of the document's geocoded place mentions, when one country
   has more than half of them;
4. ``language``: a language written overwhelmingly in one country (Polish → PL, Italian → IT);
5. ``default``: the ``nlp.phone_default_region`` setting.

Publisher evidence (1, 2) ranks above story evidence (3, 4): a paper writes its own country's
numbers nationally and foreign numbers with their country code, wherever the story happens.
The extractor still falls back to the default region for a number that is not valid in the
chosen one (see :mod:`nlp.extractors`), so a weak guess never loses a number the default finds.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import phonenumbers
import tldextract

from osintel.records import Document, Location

#: Where a region came from, strongest first (recorded as ``enrichment["phone_region_from"]``).
REGION_SOURCES = ("source", "url", "places", "language", "default")

# The bundled public-suffix snapshot only: suffix_list_urls=() means it never fetches.
_TLD = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)

#: ccTLDs whose label is not the ISO 3166 code of the same country.
_TLD_TO_REGION = {"uk": "GB"}
#: ccTLDs mostly registered as generic names, not by people in the country.
_GENERIC_CCTLDS = frozenset(
    {"ac", "ai", "am", "cc", "cd", "co", "fm", "gg", "io", "la", "ly", "me", "nu", "sh", "so", "tk", "to", "tv", "ws"}
)

#: Languages whose writers overwhelmingly live in one country (ISO 639-1 → ISO 3166-1). Languages
#: of several countries (English, French, Spanish, German, Portuguese, Dutch, Arabic, Russian ...)
#: are deliberately absent: they say nothing about a country.
LANGUAGE_REGIONS: dict[str, str] = {
    "bg": "BG", "cs": "CZ", "da": "DK", "et": "EE", "fa": "IR", "fi": "FI", "he": "IL", "hr": "HR",
    "hu": "HU", "hy": "AM", "is": "IS", "it": "IT", "ja": "JP", "ka": "GE", "ko": "KR", "lt": "LT",
    "lv": "LV", "nb": "NO", "nn": "NO", "no": "NO", "pl": "PL", "sk": "SK", "sl": "SI", "sq": "AL",
    "sv": "SE", "th": "TH", "tr": "TR", "uk": "UA", "vi": "VN",
}


def _supported(region: str | None) -> str | None:
    region = (region or "").strip().upper()
    return region if region in phonenumbers.SUPPORTED_REGIONS else None


def region_of_url(url: str) -> str | None:
    """The country of ``url``'s country-code top-level domain, if it names one."""
    suffix = _TLD(url).suffix
    if not suffix:
        return None
    label = suffix.rsplit(".", 1)[-1].lower()
    if len(label) != 2 or label in _GENERIC_CCTLDS:
        return None
    return _supported(_TLD_TO_REGION.get(label, label))


def region_of_places(locations: Sequence[Location]) -> str | None:
    """The country of more than half of the place mentions (continents do not count)."""
    counts: Counter[str] = Counter()
    for location in locations:
        if location.country_code and location.kind != "continent":
            counts[location.country_code.upper()] += max(len(location.mentions), 1)
    if not counts:
        return None
    country, n = counts.most_common(1)[0]
    return _supported(country) if 2 * n > sum(counts.values()) else None


def choose_phone_region(
    doc: Document, *, locations: Sequence[Location], language: str | None, default: str
) -> tuple[str, str]:
    """``(region, how)``: the region national numbers in ``doc`` are read in, and which evidence
    chose it (one of :data:`REGION_SOURCES`). ``locations`` are the document's geocoded places,
    ``language`` its ISO 639-1 language (or None)."""
    region = _supported(doc.source.country)
    if region is not None:
        return region, "source"
    if doc.source.platform is None:
        region = region_of_url(doc.url)
        if region is not None:
            return region, "url"
    region = region_of_places(locations)
    if region is not None:
        return region, "places"
    region = _supported(LANGUAGE_REGIONS.get((language or "").lower()))
    if region is not None:
        return region, "language"
    return default, "default"
