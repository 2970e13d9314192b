"""Crawled content is hostile: a document whose title, text, entities, method, place, source and
URL carry script and event-handler payloads renders as inert text on every page, and the
Content-Security-Policy blocks inline script even if some future bug let one into the page."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import httpx
from playwright.sync_api import Page, expect

LiveServer = Any  # tests/ui/conftest.py: the running app, its URL, keys and documents
Ready = Callable[[Page], None]

ENTITY_PAYLOAD = '<img src=x onerror="window.__pwned=\'entity\';alert(2)">'


def _assert_inert(page: Page) -> None:
    """No payload ran: no dialog opened and the flag every payload sets is still undefined."""
    page.wait_for_timeout(300)  # let any image error / load event that might fire do so
    assert page.dialogs == []  # type: ignore[attr-defined]
    assert page.evaluate("typeof window.__pwned") == "undefined"
    # No element of the page carries an event-handler attribute or a javascript: URL.
    assert page.evaluate(
        """() => [...document.querySelectorAll('*')].filter(el =>
             [...el.attributes].some(a => a.name.startsWith('on') ||
               /^\\s*javascript:/i.test(a.value))).length"""
    ) == 0
    assert page.locator("script:not([src]):not([type='application/json'])").count() == 0
    assert page.locator("img, iframe, object, embed").count() == 0


def test_hostile_search_hit_renders_its_payloads_as_text(
    wait_ready: Ready, analyst_page: Page, live_server: LiveServer
) -> None:
    page = analyst_page
    hostile = live_server.doc("<script>")
    page.goto("/ui/?q=smuggling")
    wait_ready(page)
    hit = page.locator(f'.hit[data-id="{hostile.id}"]')
    expect(hit).to_have_count(1)
    expect(hit.locator(".hit-title")).to_have_text(hostile.title)
    # The snippet shows the escaped markup as text, with only the match marked.
    expect(hit.locator(".snippet")).to_contain_text("<")
    expect(hit.locator(".snippet mark")).to_have_text([re.compile("smuggling", re.I)])
    # The javascript: URL is shown as text, never as a link.
    expect(hit.locator(".hit-url a")).to_have_count(0)
    expect(hit.locator(".hit-url")).to_have_text(hostile.url)
    # Facet values (entity text, source, places) are text too.
    page.goto("/ui/?q=smuggling")
    wait_ready(page)
    _assert_inert(page)


def test_hostile_entity_facet_value_is_text_and_filters_safely(
    wait_ready: Ready, analyst_page: Page, live_server: LiveServer
) -> None:
    page = analyst_page
    page.goto("/ui/?q=docks")
    wait_ready(page)
    person = page.locator('.facet[data-facet="entity:PERSON"] .facet-value').first
    expect(person.locator(".facet-label")).to_contain_text("onerror")
    person.click()
    expect(page.locator("#q")).to_have_value(re.compile(r'^\(docks\) AND person:"'))
    _assert_inert(page)


def test_hostile_document_page_is_inert_and_shows_payloads_as_text(
    wait_ready: Ready, analyst_page: Page, live_server: LiveServer
) -> None:
    page = analyst_page
    hostile = live_server.doc("<script>")
    page.goto(f"/ui/documents/{hostile.id}")
    wait_ready(page)
    expect(page.locator("#doc-title")).to_have_text(hostile.title)
    assert page.locator("#doc-text").inner_text() == hostile.text
    mark = page.locator('#doc-text mark.ent[data-label="PERSON"]')
    expect(mark).to_have_text(ENTITY_PAYLOAD)
    expect(page.locator("#doc-methods")).to_contain_text("onerror")
    expect(page.locator("#doc-crimetypes blockquote")).to_have_text(hostile.crime_types[0].evidence)
    expect(page.locator("#doc-crimetypes b, #doc-crimetypes svg, #doc-crimetypes a")).to_have_count(0)
    expect(page.locator("#doc-places")).to_contain_text("<script>")
    expect(page.locator("#doc-provenance")).to_contain_text("onerror")  # the source name
    # The javascript: document URL is text in the provenance, not a link.
    expect(page.locator("#doc-provenance a")).to_have_count(0)
    expect(page.locator("#doc-provenance")).to_contain_text(hostile.url)
    expect(page).to_have_title(re.compile(re.escape(hostile.title)))
    _assert_inert(page)


def test_hostile_place_on_the_map_is_inert(wait_ready: Ready, analyst_page: Page) -> None:
    page = analyst_page
    page.goto("/ui/map?q=docks")
    wait_ready(page)
    dot = page.locator("circle.place")
    expect(dot).to_have_count(1)
    dot.click()
    expect(page.locator("#map-detail")).to_contain_text('<script>window.__pwned="place"</script>Dockside')
    _assert_inert(page)


def test_hostile_entities_and_pairs_are_text(wait_ready: Ready, analyst_page: Page) -> None:
    page = analyst_page
    page.goto("/ui/entities?q=docks")
    wait_ready(page)
    person = page.locator('.entity-column[data-label="PERSON"] li a')
    expect(person).to_have_count(1)
    expect(person).to_contain_text("onerror")
    expect(page.locator("#pairs tbody")).to_contain_text("onerror")
    _assert_inert(page)


def test_hostile_values_in_the_trends_legend_are_text(wait_ready: Ready, analyst_page: Page) -> None:
    page = analyst_page
    page.goto("/ui/trends?q=docks&by=entity:PERSON&interval=month")
    wait_ready(page)
    expect(page.locator("#legend")).to_contain_text("onerror")
    expect(page.locator("svg.line-chart g.series")).to_have_count(1)
    _assert_inert(page)


def test_ui_pages_carry_a_csp_that_forbids_inline_script(live_server: LiveServer) -> None:
    with httpx.Client(base_url=live_server.url) as client:
        for path in ("/ui/login", "/ui/", "/ui/static/app.js"):
            response = client.get(path)
            csp = response.headers["content-security-policy"]
            directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
            assert directives["script-src"] == "'self'", path
            assert directives["object-src"] == "'none'"
            assert directives["base-uri"] == "'none'"
            assert directives["frame-ancestors"] == "'none'"
            assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
            assert response.headers["x-content-type-options"] == "nosniff"
            assert response.headers["referrer-policy"] == "no-referrer"
            if not path.startswith("/ui/static/"):
                assert response.headers["cache-control"] == "no-store", path
        # The JSON API is not a page: it keeps nosniff but gets no page policy.
        api = client.get("/api/search")
        assert api.headers["x-content-type-options"] == "nosniff"
        assert "content-security-policy" not in api.headers


_INJECT = """() => {
  window.__violations = [];
  document.addEventListener('securitypolicyviolation', e => window.__violations.push(e.violatedDirective));
  const s = document.createElement('script');
  s.textContent = 'window.__pwned = "inline"';
  document.body.appendChild(s);
  const b = document.createElement('button');
  b.id = 'injected';
  b.setAttribute('onclick', 'window.__pwned = "handler"');
  document.body.appendChild(b);
}"""


def test_csp_blocks_an_injected_inline_script_and_handler(
    wait_ready: Ready, analyst_page: Page, page: Page, live_server: LiveServer
) -> None:
    page.goto("/ui/")
    wait_ready(page)
    page.evaluate(_INJECT)
    page.click("#injected")
    page.wait_for_timeout(200)
    assert page.evaluate("typeof window.__pwned") == "undefined"
    violations = page.evaluate("window.__violations")
    assert any(v.startswith("script-src") for v in violations), violations


def test_the_same_injection_runs_on_a_page_without_the_csp(page: Page) -> None:
    """The control for the test above: without the policy the injection does run."""
    page.set_content("<html><body><p>no policy</p></body></html>")
    page.evaluate(_INJECT)
    page.click("#injected")
    assert page.evaluate("window.__pwned") == "handler"
