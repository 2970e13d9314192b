"""Article extraction from HTML with trafilatura: main text and metadata, no boilerplate.

Navigation, cookie banners, footers and reader comments are left out (``include_comments`` is
off). Dates come back as aware UTC datetimes.
"""

from __future__ import annotations

import html
import logging
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timezone
from email.utils import parsedate_to_datetime
from typing import Any

import lxml.html
import trafilatura
from lxml import etree

from osintel.records import utc

log = logging.getLogger(__name__)

_DATE_PARAMS = {
    "extensive_search": True,
    "original_date": True,
    "outputformat": "%Y-%m-%dT%H:%M:%S%z",
}
#: Shorter extracted text is navigation or boilerplate left on an empty page, not an article.
MIN_TEXT_CHARS = 40
_WS = re.compile(r"[ \t\r\f\v]+")
_BLANK_LINES = re.compile(r"\n{3,}")


@dataclass(frozen=True)
class ArticleFields:
    """What was extracted from one article page. ``text`` is empty when nothing was found."""

    title: str = ""
    text: str = ""
    author: str | None = None
    published_at: datetime | None = None
    language: str | None = None  # the page's declared language (``<html lang>``), not a detection


def parse_date(value: Any) -> datetime | None:
    """Parse an ISO 8601 / RFC 822 date (or a ``time.struct_time``) to an aware UTC datetime."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return utc(value)
    if isinstance(value, date):
        return datetime.combine(value, time(), tzinfo=timezone.utc)
    if hasattr(value, "tm_year"):  # feedparser's *_parsed values are UTC struct_time
        year, month, day, hour, minute, second = value[:6]
        return datetime(year, month, day, hour, minute, second, tzinfo=timezone.utc)
    text = str(value).strip()
    try:
        return utc(datetime.fromisoformat(text.replace("Z", "+00:00")))
    except ValueError:
        pass
    try:
        return utc(parsedate_to_datetime(text))
    except (TypeError, ValueError, IndexError):
        pass
    for fmt in ("%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%d"):
        try:
            return utc(datetime.strptime(text, fmt))
        except ValueError:
            continue
    return None


#: Elements whose content is never text a reader sees.
_INVISIBLE = ("script", "style", "noscript", "template")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_ANY_WS = re.compile(r"\s+")


def plain_text(value: Any) -> str:
    """One line of plain text from a feed field that may carry HTML (a title, an author).

    Tags are stripped (``<script>``/``<style>`` together with their content), character and
    entity references decoded (once more when a feed double-escaped them), control characters
    removed and whitespace collapsed.
    """
    if value is None:
        return ""
    text = _CONTROL.sub("", str(value))
    for _ in range(2):  # a second pass for HTML that was escaped twice (``&amp;lt;b&amp;gt;``)
        if "<" not in text and "&" not in text:
            break
        stripped = _strip_tags(text)
        if stripped == text:
            break
        text = stripped
    return _ANY_WS.sub(" ", text).strip()


def _strip_tags(text: str) -> str:
    try:
        root = lxml.html.fragment_fromstring(text, create_parent="div")
    except (etree.ParserError, ValueError):
        return html.unescape(text)
    for element in list(root.iter(*_INVISIBLE)):
        element.drop_tree()  # keeps the text after the element
    return str(root.text_content())


#: Elements after which a reader sees a line break.
_BLOCKS = frozenset({"p", "div", "br", "li", "ul", "ol", "blockquote", "pre", "h1", "h2", "h3", "h4",
                     "h5", "h6", "tr", "table", "section", "article", "header", "footer", "hr", "dd", "dt"})


def html_text(markup: Any) -> str:
    """Multi-line plain text of an HTML fragment (a feed entry's content, one element of a page).

    Block elements and ``<br>`` end lines; scripts and styles are dropped with their content;
    whitespace is normalised as :func:`normalise_text` does. Plain text comes back normalised.
    """
    if markup is None:
        return ""
    if isinstance(markup, str):
        if "<" not in markup and "&" not in markup:
            return normalise_text(_CONTROL.sub("", markup))
        try:
            root = lxml.html.fragment_fromstring(_CONTROL.sub("", markup), create_parent="div")
        except (etree.ParserError, ValueError):
            return normalise_text(html.unescape(markup))
    else:  # an lxml element
        root = markup
    parts: list[str] = []
    for event, element in etree.iterwalk(root, events=("start", "end")):
        tag = element.tag.lower() if isinstance(element.tag, str) else ""
        if event == "start":
            if tag in _INVISIBLE:
                continue
            if element.text and not _inside_invisible(element):
                parts.append(element.text)
        else:
            if tag in _BLOCKS:
                parts.append("\n")
            if element is not root and element.tail and not _inside_invisible(element.getparent()):
                parts.append(element.tail)
    return normalise_text("".join(parts))


def _inside_invisible(element: Any) -> bool:
    while element is not None:
        if isinstance(element.tag, str) and element.tag.lower() in _INVISIBLE:
            return True
        element = element.getparent()
    return False


def normalise_text(text: str) -> str:
    """Whitespace-normalised text: the form content hashes are computed over."""
    lines = (_WS.sub(" ", line).strip() for line in text.replace("\r\n", "\n").split("\n"))
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()


def extract_article(html: bytes | str, url: str) -> ArticleFields:
    """Extract title, main text, author and publication date from an article page.

    Never raises for bad input: empty or unparseable HTML, or a page whose main text is shorter
    than :data:`MIN_TEXT_CHARS`, gives fields with no text.
    """
    if not html or not (html.strip() if isinstance(html, (bytes, str)) else True):
        return ArticleFields()
    try:
        doc = trafilatura.bare_extraction(
            html,
            url=url,
            include_comments=False,
            include_tables=True,
            with_metadata=True,
            date_extraction_params=_DATE_PARAMS,
        )
    except Exception:  # trafilatura/lxml raise assorted errors on hostile input
        log.warning("article extraction failed for %s", url, exc_info=True, extra={"url": url})
        return ArticleFields()
    if doc is None:
        return ArticleFields()
    data: dict[str, Any] = doc.as_dict() if hasattr(doc, "as_dict") else dict(doc)
    text = normalise_text(data.get("text") or "")
    if len(text) < MIN_TEXT_CHARS:
        text = ""
    return ArticleFields(
        title=(data.get("title") or "").strip(),
        text=text,
        author=(data.get("author") or "").strip() or None,
        published_at=parse_date(data.get("date")),
        language=declared_language(html),
    )


_HTML_LANG_RE = re.compile(rb"<html\b[^>]{0,500}?\blang\s*=\s*[\"']?([A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{1,8})?)", re.I)


def declared_language(html: bytes | str) -> str | None:
    """The language the page declares in ``<html lang="...">`` (its first 4 KB), or None."""
    head = html[:4096] if isinstance(html, bytes) else html[:4096].encode("utf-8", "replace")
    match = _HTML_LANG_RE.search(head)
    return match.group(1).decode("ascii").lower() if match else None
