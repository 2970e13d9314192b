"""Gazetteer geocoding with offline GeoNames data: every place mention, resolved from the text.

The :class:`Gazetteer` is built once per process (about two seconds) and shared. It indexes
GeoNames cities of 15,000+ people (and, for names the text supports, places down to 1,000), every
country under its short, official and former names, the first-level regions of every country
(states, provinces, regions, under ISO and GeoNames names), big second-level regions (Philippine
provinces, French departments), US counties, hand-listed regions and islands, continents, UN
subregions and macro-regions ("West Africa", "the Balkans") and a hand list of UK/EU ports
(:mod:`nlp.gazetteer_index`, tables in ``nlp/data`` built by ``tools/geo/build_places.py``).

:meth:`Gazetteer.locate` finds every mention of a place (:mod:`nlp.geo_mentions`: spaCy spans,
regions the model mislabelled when the text says what they are ("the X region", "X state"),
names the text calls villages or towns, abbreviations, datelines, a filtered scan for capitalised
names, and every other occurrence of a name once it is accepted), then picks one place per name
from the document's own evidence
(:mod:`nlp.geo_resolve`: qualifiers such as "Richmond, Va.", co-mentioned countries and regions,
kind, population, and the source's declared country as a weak prior). Each :class:`Location`
lists all of its mentions with their offsets. ``bench/geo_quality.py`` and
``bench/public_quality.py --task geo-geovirus`` measure it.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence

from nlp.gazetteer_data import Place
from nlp.gazetteer_index import PlaceIndex
from nlp.geo_lexicon import (
    COMMON_WORDS,
    COUNTRY_ALIASES,
    GB_REGIONS,
    LANGUAGE_MARKERS,
    MIN_CITY_POPULATION,
    PORTS,
    STOPLIST,
)
from nlp.geo_mentions import MentionFinder
from nlp.geo_resolve import resolve
from osintel.records import Entity, Location

__all__ = [
    "COMMON_WORDS", "COUNTRY_ALIASES", "GB_REGIONS", "MIN_CITY_POPULATION", "PORTS", "STOPLIST", "Gazetteer", "Place",
]

log = logging.getLogger(__name__)


class Gazetteer:
    """Name index over GeoNames places, countries, regions, continents and ports; build once, share."""

    def __init__(self, *, min_population: int = MIN_CITY_POPULATION, alternate_min_population: int = 100000) -> None:
        self.places = PlaceIndex(min_population=min_population, alternate_min_population=alternate_min_population)
        self.index = self.places.index  # name (folded) -> candidate places
        self.port_places = self.places.port_places
        self.qualifiers = self.places.qualifiers
        self._finder = MentionFinder(self.places)

    def locate(
        self,
        text: str,
        *,
        ner_entities: Sequence[Entity] = (),
        lang: str | None = None,
        default_country: str | None = None,
    ) -> list[Location]:
        """Geocode every place mentioned in ``text``.

        ``ner_entities`` are spaCy entities over the same text: GPE/LOC/FAC spans are trusted
        mentions; PERSON spans of two words or more and NORP spans block gazetteer matches inside
        them ("Jackson" the person, "the Meridian" gang). ``lang`` is the text's language (guessed
        from function words when not given). ``default_country`` is the source's declared country
        (ISO code, usually ``None``): a weak prior for ambiguous names that the document's own
        evidence always outweighs.

        Returns one :class:`Location` per place, in order of first mention; ``mentions`` lists
        every mention of it, repeats included.
        """
        lang = lang or _guess_language(text)
        mentions = self._finder.find(text, ner_entities, lang)
        return resolve(mentions, self.places, default_country=default_country.upper() if default_country else None)


def _guess_language(text: str) -> str:
    """The language among en/de/fr/es whose function words are most frequent in ``text``."""
    words = re.findall(r"[^\W\d_]+", text[:5000].lower())
    counts = {lang: sum(w in markers for w in words) for lang, markers in LANGUAGE_MARKERS.items()}
    best = max(counts, key=lambda lang: counts[lang])
    return best if counts[best] else "und"
