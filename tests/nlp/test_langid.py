"""Language identification is deterministic and never raises on junk."""

from __future__ import annotations

import pytest

from nlp.langid import LanguageIdentifier

LANG = LanguageIdentifier(seed=0)

PARAGRAPHS = {
    "en": "Police arrested three men after a large quantity of cocaine was found hidden in a lorry at the port.",
    "fr": "La police a arrêté trois hommes après la découverte d'une grande quantité de cocaïne dans un camion.",
    "es": "La policía detuvo a tres hombres tras hallar una gran cantidad de cocaína oculta en un camión en el puerto.",
    "de": "Die Polizei hat drei Männer festgenommen, nachdem im Hafen eine große Menge Kokain in einem Lastwagen gefunden wurde.",
}


@pytest.mark.parametrize("code", sorted(PARAGRAPHS))
def test_paragraphs_are_identified_with_confidence(code: str) -> None:
    lang, confidence = LANG.detect(PARAGRAPHS[code])
    assert lang == code
    assert confidence > 0.8


@pytest.mark.parametrize("text", ["", None, "   ", "🔥🔥🚀💰", "https://t.co/abc123 https://bit.ly/x", "ok", "12 34 56 !!"])
def test_text_without_language_is_undetermined(text: str | None) -> None:
    assert LANG.detect(text) == ("und", 0.0)


def test_detection_is_deterministic() -> None:
    text = "Zoll ok"  # ambiguous short text is where unseeded langdetect flips
    sample = "Customs seized goods. " + text
    assert len({LANG.detect(sample) for _ in range(5)}) == 1
