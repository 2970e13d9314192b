"""Context rules for named entities that hold in every language the stage parses.

Statistical NER labels a span by its words and a small window; these rules read a little more of
the sentence and the document, where a name's role is decided:

* **news-agency credits** ("MADRID, 3 Feb (EFE) -", "(Reuters)", "AFP/dpa"): the agency that
  filed the story is a byline, not an organisation the story is about;
* **sports teams named after their town** ("Bowling Green finished the season 8-5", "Leicester 2
  Arsenal 1"): in a sports sentence, a town that beats, loses to or scores is a club (ORG), not a
  place; national teams stay places (news and CoNLL practice alike);
* **a place read as a person**: a one-word PERSON that is a known place ("Holyhead", "Calais") is a
  place unless the text treats it as a person (a title before it, a speech verb or an age after
  it, or the surname of a person named in full in the same document);
* **a place split by the tokenizer** ("King's Lynn" read as PERSON "Lynn"): the longer place wins;
* **streets** ("Holloway Lane" as PERSON) are facilities;
* **one sense per document**: a name keeps one label through a document (the majority of its
  mentions), a person's surname alone is that person ("Orsatti" after "John Orsatti"), and a name
  recognised once is recognised at its other capitalised mentions.

Functions take a spaCy :class:`~spacy.tokens.Doc` and return decisions; the pipeline component
in :mod:`nlp.entity_rules` applies them. Word lists here are written from general knowledge of
the registers (agency names, sports vocabulary, titles), never from an evaluation set.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence

from spacy.tokens import Doc, Span

#: News agencies whose credit line opens or closes a wire story.
NEWS_AGENCIES: frozenset[str] = frozenset({
    "EFE", "Efe", "Reuters", "AFP", "AP", "dpa", "DPA", "ANSA", "Europa Press", "Xinhua", "Lusa", "Belga",
    "ANP", "PA", "PA Media", "Press Association", "TASS", "Tass", "Interfax", "Kyodo", "Yonhap", "APA",
    "SDA", "ATS", "KNA", "epd", "AAP", "CP", "UPI", "EP", "Agencia EFE", "Notimex", "ANI", "PTI", "IANS",
    "Agência Brasil", "Agence France-Presse", "Associated Press", "Deutsche Presse-Agentur", "NTB", "TT",
    "Ritzau", "STT", "CTK", "PAP", "MTI", "BTA", "HINA", "STA", "Anadolu", "AA", "WAFA", "MENA", "SPA",
})
_DASHES = frozenset({"-", "–", "—", "--", ":", "/"})

#: Words of a sports report: results, fixtures, competitions, positions.
SPORT_WORDS: frozenset[str] = frozenset("""
    season match matches game games league cup final finals semi-final semifinal quarter-final playoff playoffs
    play-off coach manager striker goalkeeper midfielder defender quarterback pitcher goal goals innings wicket
    wickets touchdown touchdowns bowl championship tournament fixture derby squad kick-off half-time halftime
    scored scoring penalty penalties draw drew win wins won victory defeat defeated beat beats beaten lost loss
    losing points title relegation promotion stadium standings division conference
    saison spiel spiele liga pokal tor tore trainer sieg niederlage unentschieden meisterschaft
    temporada partido partidos liga copa gol goles entrenador victoria derrota empate campeonato
    seizoen wedstrijd competitie beker doelpunt trainer overwinning nederlaag gelijkspel
    temporada jogo jogos campeonato taça golo golos gols treinador vitória derrota empate
    saison match championnat coupe but buts entraîneur victoire défaite nul
    stagione partita campionato coppa gol allenatore vittoria sconfitta pareggio
""".split())
#: A word right after a team's name that makes it the subject of a result.
_RESULT_AFTER: frozenset[str] = frozenset("""
    beat beats defeated defeat edged edges thrashed thrash drew draw lost lose loses won win wins trail trailed
    trails led lead leads finished finish host hosts hosted visit visits visited scored score overcame routed
    rallied clinched clinch advanced eliminated
    schlug besiegte gewann verlor spielte venció ganó perdió empató derrotó goleó won verloor speelde
    venceu ganhou perdeu empatou battu bat a gagné perdu vinto perso pareggiato batte
""".split())
#: A word right before a team's name that makes it the other side of a result.
_RESULT_BEFORE: frozenset[str] = frozenset("""
    beat beating beats defeated defeating against vs vs. v v. over edged thrashed hosted hosting host hosts
    visiting at to gegen contra contre tegen contro
""".split())
_LOSS_BEFORE_TO = frozenset({"lost", "losing", "loss", "defeat", "lose", "loses", "fell", "falling", "beaten"})
_SCORE_RE = re.compile(r"(?<![\d/.,:-])(\d{1,3})\s?[-–:]\s?(\d{1,3})(?![\d/.,:-])")

#: Words before a name that make it a person ("Mr Jordan", "Sgt Lincoln", "Frau Hamburg").
PERSON_TITLES: frozenset[str] = frozenset("""
    Mr Mr. Mrs Mrs. Ms Ms. Miss Dr Dr. Sir Lord Lady Dame Prof Prof. Judge Justice Recorder Detective Sergeant
    Sgt Sgt. Constable PC DC DS DI DCI DSupt Inspector Superintendent Officer Commander Commissioner Chief
    President Minister Senator Governor Mayor Rev Rev. Father Sister Brother Saint General Gen. Colonel Col.
    Captain Capt. Lieutenant Lt. Major Maj. Herr Frau Monsieur Madame Mme M. Señor Señora Sr. Sra. Don Doña
    Signor Signora Dott. Senhor Senhora Sra Sr Dhr. Mevrouw Mevr. Meneer
""".split())
#: Words right after a name that make it a person.
_PERSON_AFTER: frozenset[str] = frozenset("""
    said says told added explained admitted denied claimed insisted wrote tweeted posted who whose aged
    sagte erklärte dijo afirmó explicó declaró zei verklaarde disse afirmou a déclaré a dit ha detto dichiarò
""".split())
#: Last words that make a name a street or a building (a facility), not a person.
STREET_WORDS: frozenset[str] = frozenset("""
    Street St Road Rd Lane Avenue Ave Drive Close Way Crescent Terrace Grove Gardens Place Square Boulevard
    Parade Row Walk Mews Wharf Quay Straße Strasse Weg Platz Allee Gasse Calle
    Avenida Plaza Rua Praça Rue Boulevard Via Viale Piazza Straat Laan Plein Gracht
""".split())


def _sentence(ent: Span) -> Span:
    """The sentence of ``ent``, or the whole document when no sentence boundaries are set."""
    doc = ent.doc
    return ent.sent if doc.has_annotation("SENT_START") else doc[:]


def is_agency_credit(doc: Doc, ent: Span) -> bool:
    """True when ``ent`` is a news agency credited in a dateline or sign-off, not reported on.

    "(EFE)", "(Reuters) -", "MADRID, 3 feb (EFE).", "AFP/dpa", and an agency name alone on the
    last or first line of the text.
    """
    if ent.text not in NEWS_AGENCIES:
        return False
    before = doc[ent.start - 1].text if ent.start > 0 else ""
    after = doc[ent.end].text if ent.end < len(doc) else ""
    if before == "(" and after in {")", "/", ","}:
        return True
    if after in _DASHES or before == "/":
        return True
    line_start = ent.start == 0 or "\n" in doc[ent.start - 1].whitespace_ + doc[ent.start - 1].text
    line_end = ent.end == len(doc) or "\n" in doc[ent.end - 1].whitespace_ or doc[ent.end].text in {".", ")"}
    return line_start and line_end


def sport_sentence(sent: Span) -> bool:
    """A sentence that reports a result or fixture: a score, or at least one sports word."""
    if _SCORE_RE.search(sent.text) and any(t.lower_ in SPORT_WORDS or t.like_num for t in sent):
        return True
    return any(t.lower_ in SPORT_WORDS for t in sent)


def is_team_by_town(doc: Doc, ent: Span) -> bool:
    """True when a town's name in a sports sentence is the subject or object of a result."""
    after = doc[ent.end].lower_ if ent.end < len(doc) else ""
    before = doc[ent.start - 1].lower_ if ent.start > 0 else ""
    before2 = doc[ent.start - 2].lower_ if ent.start > 1 else ""
    if _results_line(doc, ent):
        return True  # "Leicester 2 Arsenal 1"
    subject = after in _RESULT_AFTER
    other_side = before in _RESULT_BEFORE and (before != "to" or before2 in _LOSS_BEFORE_TO) and before != "at"
    if not (subject or other_side):
        return False
    return sport_sentence(_sentence(ent))


def _small_number(doc: Doc, i: int) -> bool:
    return 0 <= i < len(doc) and doc[i].is_digit and len(doc[i].text) <= 2


def _results_line(doc: Doc, ent: Span) -> bool:
    """"Leicester 2 Arsenal 1": a name, a goal count, another name, another goal count."""
    sent_end = _sentence(ent).end
    if _small_number(doc, ent.end) and ent.end + 1 < sent_end and doc[ent.end + 1].is_title:
        return any(_small_number(doc, i) for i in range(ent.end + 2, min(sent_end, ent.end + 7)))
    if _small_number(doc, ent.start - 1) and _small_number(doc, ent.end):
        return ent.start >= 2 and doc[ent.start - 2].is_alpha
    return False


def person_context(doc: Doc, ent: Span, full_names: Iterable[str] = ()) -> bool:
    """True when the text treats ``ent`` as a person: a title before it, a speech verb, "who" or an
    age after it, or it is part of a person's full name given elsewhere in the document."""
    before = doc[ent.start - 1].text if ent.start > 0 else ""
    if before in PERSON_TITLES or before.rstrip(".") in PERSON_TITLES:
        return True
    if ent.end < len(doc):
        after = doc[ent.end]
        if after.lower_ in _PERSON_AFTER:
            return True
        if after.text == "," and ent.end + 1 < len(doc) and doc[ent.end + 1].like_num and len(doc[ent.end + 1]) <= 3:
            return True  # "Wexford, 40,"
    words = set(ent.text.split())
    return any(words & set(name.split()) for name in full_names if name != ent.text)


_PERSONAL_PRONOUNS = frozenset({"he", "she", "his", "her", "him", "himself", "herself", "hers"})
_THING_PRONOUNS = frozenset({"it", "its", "itself", "they", "their", "them"})


def referred_to_as_person(doc: Doc, ent: Span, *, window: int = 12) -> bool:
    """True when the next personal pronoun in the sentence after ``ent`` is "he/she/his/her"
    before any "it/its/they" ("Orsatti was raised in Morpeth by his father")."""
    sent_end = _sentence(ent).end
    for token in doc[ent.end : min(sent_end, ent.end + window)]:
        low = token.lower_
        if low in _PERSONAL_PRONOUNS:
            return True
        if low in _THING_PRONOUNS:
            return False
    return False


#: Prepositions after which a name is a place far more often than a person ("in Marszew").
_LOCATIVE: dict[str, frozenset[str]] = {
    "en": frozenset({"in", "near", "outside", "towards", "toward", "via", "through", "across", "around"}),
    "de": frozenset({"in", "im", "nahe"}),
    "nl": frozenset({"in", "nabij"}),
    "es": frozenset({"en", "cerca"}),
    "pt": frozenset({"em", "perto"}),
}


def after_locative(doc: Doc, ent: Span) -> bool:
    """True when ``ent`` follows a locative preposition ("in", "near", "outside") and is not a
    possessor ("in Smith's house")."""
    if ent.start == 0 or doc[ent.start - 1].lower_ not in _LOCATIVE.get(doc.lang_, frozenset()):
        return False
    if doc.lang_ != "en" and len(ent) > 1:
        return False  # the trained pipelines read multi-word names well; only one-word slips
    return not (ent.end < len(doc) and doc[ent.end].lower_ in {"'s", "’s"})


def street_span(ent: Span) -> bool:
    """A multi-word name ending in a street or building word ("Holloway Lane")."""
    return len(ent) > 1 and ent[-1].text in STREET_WORDS and ent[0].is_title


def place_extension(doc: Doc, ent: Span, places: frozenset[str] | set[str]) -> Span | None:
    """The longer place a tokenizer split: "King's Lynn" for PERSON "Lynn", "St Albans" for "Albans"."""
    for back in (2, 1):
        start = ent.start - back
        if start < 0 or doc[start].is_sent_start and not doc[start].is_title:
            continue
        span = doc[start : ent.end]
        if span.text in places:
            return Span(doc, start, ent.end, label="GPE")
    return None


_NAME_LABELS = frozenset({"PERSON", "PER", "ORG", "GPE", "LOC", "NORP", "FAC"})


def one_sense_per_document(doc: Doc, ents: Sequence[Span], *, places: frozenset[str] | set[str]) -> list[Span]:
    """Make a document's names consistent (see the module docstring); returns the new entities."""
    person = next((e.label_ for e in ents if e.label_ in {"PERSON", "PER"}), "PERSON")
    surnames = {e[-1].text for e in ents if e.label_ in {"PERSON", "PER"} and len(e) > 1 and e[-1].is_title}
    votes: dict[str, Counter[str]] = {}
    for e in ents:
        if e.label_ in _NAME_LABELS:
            votes.setdefault(e.text, Counter())[e.label_] += 1
    out: list[Span] = []
    for e in ents:
        label = e.label_
        if label in _NAME_LABELS:
            if len(e) == 1 and e.text in surnames and e.text not in places and label != person:
                label = person  # "Orsatti" after "John Orsatti"
            else:
                (best, n), *rest = votes[e.text].most_common(2) + [("", 0)]
                if best != label and n > rest[0][1]:
                    label = best
        out.append(e if label == e.label_ else Span(doc, e.start, e.end, label=label))
    # "the Amateur Hockey Association of Canada (AHAC)": the acronym names the same organisation.
    taken = {i for e in out for i in range(e.start, e.end)}
    for e in list(out):
        i = e.end
        if e.label_ == "ORG" and i + 2 < len(doc) and doc[i].text == "(" and doc[i + 2].text == ")":
            short = doc[i + 1]
            if short.is_upper and 2 <= len(short.text) <= 8 and short.i not in taken:
                out.append(Span(doc, short.i, short.i + 1, label="ORG"))
                taken.add(short.i)
    # Other capitalised mentions of a recognised name (not opening a sentence, not inside a name).
    known = {
        e.text: e.label_ for e in out
        if e.label_ in _NAME_LABELS and len(e.text) >= 2 and (e[0].is_title or (e[0].is_upper and len(e) == 1))
    }
    if not known:
        return out
    by_first: dict[str, list[str]] = {}
    for name in known:
        by_first.setdefault(name.split()[0], []).append(name)
    for token in doc:
        if token.i in taken or token.text not in by_first or token.is_sent_start:
            continue
        for name in sorted(by_first[token.text], key=len, reverse=True):
            end = token.i + len(name.split())
            if end > len(doc) or doc[token.i : end].text != name or any(i in taken for i in range(token.i, end)):
                continue
            if (token.i > 0 and doc[token.i - 1].is_title and not doc[token.i - 1].is_sent_start) or (
                end < len(doc) and doc[end].is_title
            ):
                continue  # part of a longer name
            out.append(Span(doc, token.i, end, label=known[name]))
            taken.update(range(token.i, end))
            break
    return out
