"""The analyst's path through the UI in a real headless chromium: log in, search, filter by a
facet, open a document, view the map and the trends chart, log out."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import httpx
from playwright.sync_api import Page, expect

LiveServer = Any  # tests/ui/conftest.py: the running app, its URL, keys and documents
Ready = Callable[[Page], None]


def test_pages_without_a_session_redirect_to_the_login_page(page: Page, live_server: LiveServer) -> None:
    for path in ("/ui/", "/ui/map", "/ui/trends", "/ui/documents/abc"):
        page.goto(path)
        assert page.url.startswith(f"{live_server.url}/ui/login?next="), path
        expect(page.locator("#login-form")).to_be_visible()


def test_root_and_login_shortcuts_redirect_into_the_ui(live_server: LiveServer) -> None:
    with httpx.Client(base_url=live_server.url) as client:
        assert client.get("/").headers["location"] == "/ui/"
        assert client.get("/login").headers["location"] == "/ui/login"
        page = client.get("/ui/")
        assert page.status_code == 303 and page.headers["location"] == "/ui/login?next=%2Fui%2F"


def test_login_form_cannot_send_the_key_before_its_script_runs(live_server: LiveServer) -> None:
    # Submitting before login.js attaches would otherwise GET the form: the key in a URL.
    html = httpx.get(f"{live_server.url}/ui/login").text
    assert '<form id="login-form" class="login" method="post"' in html
    assert '<button type="submit" disabled>' in html


def test_analyst_logs_in_with_an_api_key_and_lands_where_they_were_going(
    wait_ready: Ready, page: Page, live_server: LiveServer
) -> None:
    urls: list[str] = []
    page.on("request", lambda request: urls.append(request.url))
    page.goto("/ui/map?q=cocaine")
    page.fill("#api-key", "ok_nothing.wrong-key")
    page.click("#login-form button[type=submit]")
    expect(page.locator("#login-error")).to_have_text(re.compile("unknown or revoked"))

    page.fill("#api-key", live_server.analyst_key)
    page.click("#login-form button[type=submit]")
    page.wait_for_url(re.compile(r"/ui/map\?q=cocaine$"))
    wait_ready(page)
    expect(page.locator(".who")).to_contain_text("Ana Lyst")
    cookie = next(c for c in page.context.cookies() if c["name"] == "osintel_session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
    # The key itself is not left in the page, and never travelled in a URL.
    assert page.evaluate("document.documentElement.outerHTML").count(live_server.analyst_key) == 0
    assert not [u for u in urls if "wrong-key" in u or live_server.analyst_key.split(".")[1] in u]


def test_login_ignores_a_next_parameter_that_leaves_the_ui(page: Page, live_server: LiveServer) -> None:
    page.goto("/ui/login?next=//evil.example/steal")
    page.fill("#api-key", live_server.analyst_key)
    page.click("#login-form button[type=submit]")
    page.wait_for_url(f"{live_server.url}/ui/")


def test_search_shows_highlighted_hits_with_badges_and_facets(
    wait_ready: Ready, analyst_page: Page
) -> None:
    page = analyst_page
    page.goto("/ui/?q=cocaine")
    wait_ready(page)
    hits = page.locator("#results .hit")
    expect(hits).to_have_count(2)
    expect(page.locator("#summary")).to_have_text("2 matches")
    first = hits.nth(0)
    expect(first.locator(".snippet mark").first).to_have_text(re.compile("cocaine", re.I))
    expect(first.locator(".badge-relevance")).to_contain_text("relevance")
    assert sorted(hits.locator(".badge-grading").all_text_contents()) == ["1BP", "2BP"]
    # Facet sidebar counts what matched.
    expect(page.locator('.facet[data-facet="country"] .facet-value')).to_have_count(3)
    county_lines = page.locator('.facet-value[data-facet="method"][data-value="drugs.county_lines"]')
    expect(county_lines.locator(".count")).to_have_text("2")
    assert page.console_errors == []  # type: ignore[attr-defined]


def test_clicking_a_facet_value_narrows_the_search(wait_ready: Ready, analyst_page: Page) -> None:
    page = analyst_page
    page.goto("/ui/?q=cocaine")
    wait_ready(page)
    expect(page.locator("#results .hit")).to_have_count(2)
    page.click('.facet-value[data-facet="country"][data-value="NL"]')
    expect(page.locator("#results .hit")).to_have_count(1)
    expect(page.locator("#q")).to_have_value('(cocaine) AND country:"NL"')
    expect(page.locator("#results .hit-title")).to_have_text("Banana boat cocaine route")
    assert "country%3A%22NL%22" in page.url
    assert page.console_errors == []  # type: ignore[attr-defined]


def test_search_shows_crime_types_as_a_facet_and_on_hits(
    wait_ready: Ready, analyst_page: Page, live_server: LiveServer
) -> None:
    page = analyst_page
    page.goto("/ui/?q=cocaine")
    wait_ready(page)
    facet = page.locator('.facet[data-facet="crimetype"]')
    expect(facet.locator("h3")).to_have_text("Crime type")
    expect(facet.locator('.facet-value[data-value="drugs.trafficking"] .count')).to_have_text("1")
    expect(facet.locator('.facet-value[data-value="drugs"] .count')).to_have_text("1")
    county = live_server.doc("County lines")
    expect(page.locator(f'.hit[data-id="{county.id}"] .chip.crimetype')).to_have_text("drugs.trafficking")
    page.click('.facet-value[data-facet="crimetype"][data-value="drugs.trafficking"]')
    expect(page.locator("#results .hit")).to_have_count(1)
    expect(page.locator("#q")).to_have_value('(cocaine) AND crimetype:"drugs.trafficking"')
    expect(page.locator("#results .hit-title")).to_have_text(county.title)
    assert page.console_errors == []  # type: ignore[attr-defined]


def test_sort_by_date_and_more_results_follow_the_cursor(
    wait_ready: Ready, analyst_page: Page, live_server: LiveServer
) -> None:
    page = analyst_page
    page.goto("/ui/?sort=-published&limit=2")
    wait_ready(page)
    titles = page.locator("#results .hit-title")
    expect(titles).to_have_count(2)
    expect(page.locator("#summary")).to_have_text("3 matches, showing 2")
    page.click("#more")
    expect(titles).to_have_count(3)
    expect(page.locator("#more")).to_be_hidden()
    dates = page.locator("#results .badge-date").all_text_contents()
    assert dates == ["2024-05-20", "2024-04-02", "2024-03-10"]
    # Each document appears once across the pages.
    ids = [page.locator("#results .hit").nth(i).get_attribute("data-id") or "" for i in range(3)]
    assert sorted(ids) == sorted(d.id for d in live_server.documents)
    page.select_option("#sort", "published")
    expect(page.locator("#results .badge-date").first).to_have_text("2024-03-10")
    assert page.console_errors == []  # type: ignore[attr-defined]


def test_bad_query_shows_where_it_is_wrong(wait_ready: Ready, analyst_page: Page) -> None:
    page = analyst_page
    page.goto("/ui/?q=" + "title:(cocaine")
    wait_ready(page)
    expect(page.locator("#error")).to_be_visible()
    expect(page.locator("#error")).to_contain_text("character")
    expect(page.locator("#results .hit")).to_have_count(0)


def test_field_help_lists_the_query_language_fields(wait_ready: Ready, analyst_page: Page) -> None:
    page = analyst_page
    page.goto("/ui/")
    wait_ready(page)
    expect(page.locator("#field-help")).to_be_hidden()
    page.click("#help-toggle")
    help_text = page.locator("#field-help").inner_text()
    for field in ("phone:", "method:", "crimetype:", "near:", "bbox:", "published:"):
        assert field in help_text


def test_document_page_marks_entities_methods_and_shows_provenance(
    wait_ready: Ready, analyst_page: Page, live_server: LiveServer
) -> None:
    page = analyst_page
    doc = live_server.doc("County lines")
    page.goto("/ui/?q=county")
    wait_ready(page)
    page.click(f'.hit[data-id="{doc.id}"] .hit-title')
    page.wait_for_url(f"**/ui/documents/{doc.id}")
    wait_ready(page)
    expect(page.locator("#doc-title")).to_have_text(doc.title)
    phone = page.locator('#doc-text mark.ent[data-label="PHONE"]')
    expect(phone).to_have_text("07700 900123")
    expect(phone).to_have_attribute("title", re.compile(r"\+447700900123"))
    expect(page.locator("#doc-text mark.ent-place")).to_have_text("Liverpool")
    expect(page.locator('#doc-text mark.method-evidence[data-method="drugs.county_lines"]').first).to_be_visible()
    # The marks are laid over the text without changing it.
    assert page.locator("#doc-text").inner_text() == doc.text
    expect(page.locator("#doc-methods blockquote")).to_have_text(doc.methods[0].evidence)
    crime = page.locator('#doc-crimetypes li[data-crimetype="drugs.trafficking"]')
    expect(crime.locator("strong")).to_have_text("Drug trafficking")
    expect(crime.locator(".muted")).to_contain_text("drugs.trafficking · 80% · pattern:en")
    expect(crime.locator("blockquote")).to_have_text(doc.crime_types[0].evidence)
    expect(page.locator("#doc-relevance dt")).to_have_text(["score", "methods", "entities"])
    provenance = page.locator("#doc-provenance")
    expect(provenance).to_contain_text(doc.capture.sha256)
    expect(provenance).to_contain_text(doc.capture.record_id)
    expect(provenance).to_contain_text("1BP")
    link = page.locator("#capture-link")
    expect(link).to_have_attribute("href", f"/api/documents/{doc.id}/capture")
    response = page.context.request.get(f"{live_server.url}/api/documents/{doc.id}/capture")
    assert response.ok
    assert response.body() == b"<html><body>County lines gang jailed</body></html>"
    assert page.console_errors == []  # type: ignore[attr-defined]


def test_map_plots_geocoded_places_on_the_bundled_outline(
    wait_ready: Ready, analyst_page: Page, live_server: LiveServer
) -> None:
    page = analyst_page
    page.goto("/ui/map?q=cocaine")
    wait_ready(page)
    assert page.locator("svg.world path.country").count() > 150
    places = page.locator("svg.world circle.place")
    expect(places).to_have_count(3)
    rotterdam = page.locator('circle.place[data-name="Rotterdam"]')
    # Equirectangular on a 1000x500 viewBox: x = (lon+180)/360*1000, y = (90-lat)/180*500.
    assert abs(float(rotterdam.get_attribute("cx") or "nan") - (4.48 + 180) / 360 * 1000) < 1
    assert abs(float(rotterdam.get_attribute("cy") or "nan") - (90 - 51.92) / 180 * 500) < 1
    rotterdam.click()
    expect(page.locator("#map-detail")).to_contain_text("Rotterdam")
    assert page.context.off_loopback == []  # type: ignore[attr-defined]
    assert page.console_errors == []  # type: ignore[attr-defined]


def test_trends_chart_draws_one_line_per_series(wait_ready: Ready, analyst_page: Page) -> None:
    page = analyst_page
    page.goto("/ui/trends?q=cocaine&by=method&interval=month")
    wait_ready(page)
    series = page.locator("svg.line-chart g.series")
    expect(series.first).to_be_visible()
    names = [series.nth(i).get_attribute("data-series") for i in range(series.count())]
    assert "drugs.county_lines" in names and "drugs.maritime_smuggling" in names
    expect(page.locator("#legend")).to_contain_text("drugs.county_lines")
    assert page.console_errors == []  # type: ignore[attr-defined]


def test_entities_page_lists_top_entities_and_pairs_that_link_to_searches(
    wait_ready: Ready, analyst_page: Page
) -> None:
    page = analyst_page
    page.goto("/ui/entities?q=cocaine")
    wait_ready(page)
    phones = page.locator('.entity-column[data-label="PHONE"] li')
    expect(phones).to_have_count(1)
    expect(phones.first).to_contain_text("+447700900123")
    pair = page.locator("#pairs tbody tr", has_text="+447700900123")
    expect(pair.first).to_be_visible()
    phones.first.locator("a").click()
    page.wait_for_url("**/ui/?q=*")
    wait_ready(page)
    expect(page.locator("#q")).to_have_value('(cocaine) AND phone:"+447700900123"')
    expect(page.locator("#results .hit")).to_have_count(1)
    assert page.console_errors == []  # type: ignore[attr-defined]


def test_logout_ends_the_session(wait_ready: Ready, analyst_page: Page, live_server: LiveServer) -> None:
    page = analyst_page
    page.goto("/ui/")
    wait_ready(page)
    page.click("#logout")
    page.wait_for_url("**/ui/login")
    page.goto("/ui/")
    assert "/ui/login?next=" in page.url
    assert page.context.request.get(f"{live_server.url}/api/search?q=cocaine").status == 401


def test_a_role_without_the_ui_permission_is_refused_a_page(page: Page, live_server: LiveServer) -> None:
    page.context.request.post(f"{live_server.url}/api/session", data={"api_key": live_server.partner_key})
    response = page.goto("/ui/")
    assert response is not None and response.status == 403
    expect(page.locator("h1")).to_have_text("Not permitted")
