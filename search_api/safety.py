"""Hostile-content guards for what the API hands to browsers."""

from __future__ import annotations

import html
import re

_TAG_RE = re.compile(r"(</?b>)")


def safe_snippet(snippet: str) -> str:
    """A highlighted snippet with everything but the ``<b>``/``</b>`` highlight tags escaped.

    The index already escapes crawled text; this re-normalises every other piece
    (unescape, then escape), so a backend bug can never let crawled markup through.
    """
    parts = _TAG_RE.split(snippet)
    return "".join(p if p in ("<b>", "</b>") else html.escape(html.unescape(p), quote=True) for p in parts)
