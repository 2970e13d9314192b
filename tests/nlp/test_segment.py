"""Hard-wrapped lines are joined before segmentation (issue 11, finding 6)."""

from __future__ import annotations

from nlp.segment import unwrap_lines

# A release as a plain-text mailing list delivers it: wrapped at 60 characters.
WRAPPED = (
    "Drugs gang jailed\n"
    "\n"
    "Detectives said the gang ran a county lines operation from\n"
    "Liverpool, sending teenagers to sell heroin in Shrewsbury\n"
    "and Telford. Sergeant Amy Holloway of West Mercia\n"
    "Police said the sentences sent a clear message.\n"
    "\n"
    "- three men jailed\n"
    "- phones seized\n"
)


def test_unwrap_keeps_length_so_offsets_hold() -> None:
    view = unwrap_lines(WRAPPED)
    assert len(view) == len(WRAPPED)
    assert [i for i, (a, b) in enumerate(zip(WRAPPED, view)) if a != b] == [
        i for i, c in enumerate(WRAPPED) if c == "\n" and view[i] == " "
    ]


def test_unwrap_joins_wrapped_lines_of_a_paragraph() -> None:
    view = unwrap_lines(WRAPPED)
    assert "operation from Liverpool, sending teenagers to sell heroin in Shrewsbury and Telford." in view
    assert "of West Mercia Police said" in view


def test_unwrap_keeps_titles_blank_lines_and_list_items() -> None:
    view = unwrap_lines(WRAPPED)
    assert view.startswith("Drugs gang jailed\n\n")  # a title is not wrapped prose
    assert "\n- three men jailed\n- phones seized\n" in view
    short = "Raid in Leeds\nThree arrested\nMore soon"
    assert unwrap_lines(short) == short  # a short post's lines are its own
    title = "Gang jailed\nThree men were jailed on Friday for running a county line into Devon."
    assert unwrap_lines(title) == title


def test_unwrap_joins_a_lower_case_continuation_whatever_the_width() -> None:
    assert unwrap_lines("Police seized\ncocaine at Dover") == "Police seized cocaine at Dover"


def test_method_evidence_is_the_whole_wrapped_sentence(enricher, make_doc) -> None:  # type: ignore[no-untyped-def]
    [out] = enricher.enrich([make_doc(WRAPPED)])
    hits = {m.id: m for m in out.methods}
    assert "drugs.county_lines" in hits
    hit = hits["drugs.county_lines"]
    assert hit.evidence.startswith("Detectives said the gang ran a county lines operation from Liverpool")
    assert hit.evidence.endswith("Shrewsbury and Telford.")
    assert out.text[hit.start : hit.end].replace("\n", " ") == hit.evidence


def test_a_name_broken_over_two_lines_is_one_entity(enricher, make_doc) -> None:  # type: ignore[no-untyped-def]
    [out] = enricher.enrich([make_doc(WRAPPED)])
    orgs = [e for e in out.entities if e.label == "ORG"]
    assert any(e.normalized == "West Mercia Police" for e in orgs), orgs
    for e in out.entities:
        assert out.text[e.start : e.end] == e.text  # entity texts quote the captured text
