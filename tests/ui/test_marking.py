"""The document page's in-place marking, run as the browser runs it: the page's own ES module is
imported into a live UI page (allowed by its CSP: same-origin script) and fed edge cases."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from playwright.sync_api import Page

Ready = Callable[[Page], None]

_RUN = """async ([doc]) => {
  const m = await import('/ui/static/document.js');
  const chars = Array.from(doc.text);
  const frag = m.markedText(doc.text, m.collectSpans(doc, chars));
  const box = document.createElement('div');
  box.append(frag);
  return {
    text: box.textContent,
    marks: [...box.querySelectorAll('mark')].map(e => [e.className, e.textContent, e.dataset.label ?? e.dataset.method]),
    elements: [...box.querySelectorAll('*')].map(e => e.tagName),
  };
}"""


def _mark(page: Page, doc: dict[str, Any]) -> dict[str, Any]:
    return page.evaluate(_RUN, [doc])


def _ui_page(page: Page, wait_ready: Ready) -> Page:
    page.goto("/ui/")
    wait_ready(page)
    return page


def test_offsets_count_code_points_as_python_does(analyst_page: Page, wait_ready: Ready) -> None:
    page = _ui_page(analyst_page, wait_ready)
    text = "🚤🚤 crossing from Calais tonight, call 07700 900123"
    start = text.index("Calais")  # a Python (code point) offset: each emoji is one, not two UTF-16 units
    phone = text.index("07700")
    result = _mark(page, {"text": text, "entities": [
        {"text": "Calais", "label": "GPE", "start": start, "end": start + 6},
        {"text": "07700 900123", "label": "PHONE", "start": phone, "end": phone + 12},
    ]})
    assert result["text"] == text
    assert [m[1] for m in result["marks"]] == ["Calais", "07700 900123"]


def test_overlapping_and_out_of_range_spans_never_lose_or_duplicate_text(
    analyst_page: Page, wait_ready: Ready
) -> None:
    page = _ui_page(analyst_page, wait_ready)
    text = "Liverpool county lines gang"
    result = _mark(page, {
        "text": text,
        "entities": [
            {"text": "Liverpool county", "label": "ORG", "start": 0, "end": 16},
            {"text": "county lines", "label": "MISC", "start": 10, "end": 22},  # overlaps: dropped
            {"text": "x", "label": "BAD", "start": 20, "end": 999},  # past the end: dropped
            {"text": "x", "label": "BAD", "start": -1, "end": 3},  # negative: dropped
        ],
        "locations": [{"name": "Liverpool", "start": 0, "end": 9}],  # inside the ORG: dropped
        "methods": [{"id": "drugs.county_lines", "label": "county lines", "evidence": "county lines gang"}],
    })
    assert result["text"] == text
    entity_marks = [m for m in result["marks"] if m[0].startswith("ent")]
    assert entity_marks == [["ent ent-entity", "Liverpool county", "ORG"]]
    evidence = "".join(m[1] for m in result["marks"] if m[0] == "method-evidence")
    assert evidence == "county lines gang"  # found by its sentence when no offsets were recorded


def test_every_mention_of_a_place_is_marked(analyst_page: Page, wait_ready: Ready) -> None:
    page = _ui_page(analyst_page, wait_ready)
    text = "Boats left Calais at night. Calais police said more left Calais on Friday."
    starts = [i for i in range(len(text)) if text.startswith("Calais", i)]
    mentions = [{"text": "Calais", "start": s, "end": s + 6} for s in starts]
    result = _mark(page, {"text": text, "locations": [
        {"name": "Calais", "country_code": "FR", "mention": "Calais", "start": starts[0], "end": starts[0] + 6,
         "mentions": mentions},
    ]})
    assert result["text"] == text
    assert [m[1] for m in result["marks"]] == ["Calais"] * 3
    # A record from before mentions were listed still marks its one mention.
    old = _mark(page, {"text": text, "locations": [{"name": "Calais", "start": starts[1], "end": starts[1] + 6}]})
    assert [m[1] for m in old["marks"]] == ["Calais"]


def test_markup_in_text_and_labels_stays_text(analyst_page: Page, wait_ready: Ready) -> None:
    page = _ui_page(analyst_page, wait_ready)
    text = '<img src=x onerror="window.__pwned=1"> and <script>window.__pwned=2</script>'
    result = _mark(page, {"text": text, "entities": [
        {"text": "<img", "label": '"><img src=x onerror=alert(1)>', "start": 0, "end": 4},
    ]})
    assert result["text"] == text
    assert result["elements"] == ["MARK"]
    assert page.evaluate("typeof window.__pwned") == "undefined"


def test_snippet_keeps_only_its_highlight_marks(analyst_page: Page, wait_ready: Ready) -> None:
    page = _ui_page(analyst_page, wait_ready)
    result = page.evaluate("""async () => {
      const m = await import('/ui/static/dom.js');
      const box = document.createElement('div');
      box.append(m.snippetNodes('a &lt;script&gt; <b>cocaine</b> <i onclick="x()">raw</i><img src=x onerror="window.__pwned=1">'));
      return [box.textContent, [...box.querySelectorAll('*')].map(e => e.tagName)];
    }""")
    assert result == ["a <script> cocaine raw", ["MARK"]]
    page.wait_for_timeout(100)
    assert page.evaluate("typeof window.__pwned") == "undefined"


def test_only_http_links_are_made_links(analyst_page: Page, wait_ready: Ready) -> None:
    page = _ui_page(analyst_page, wait_ready)
    result = page.evaluate("""async () => {
      const m = await import('/ui/static/dom.js');
      return ['https://a.example/x', 'http://b.example', 'javascript:alert(1)', ' JaVaScRiPt:alert(1)',
              'data:text/html,<script>alert(1)</script>', 'vbscript:x', '//evil.example/', 'ftp://x']
        .map(u => m.safeHref(u));
    }""")
    assert result[:2] == ["https://a.example/x", "http://b.example/"]
    assert result[2:6] == [None, None, None, None]
    # A scheme-relative URL resolves to http(s) on another host: shown as an external link.
    assert result[6] == "http://evil.example/" and result[7] is None
