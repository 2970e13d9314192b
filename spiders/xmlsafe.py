"""XML bomb screening for feed and sitemap bytes, before any XML parser sees them.

``feedparser`` parses with expat through ``xml.sax`` (internal entities *are* expanded there) and
falls back to a loose SGML parser; Scrapy's sitemap parser is lxml. Neither is fed a document
whose DOCTYPE declares entities: billion laughs and quadratic blow-up need entity declarations,
and so do external-entity (XXE) payloads such as ``<!ENTITY x SYSTEM "file:///etc/passwd">``.

:func:`unsafe_xml_reason` runs ``defusedxml``'s expat parser over the prolog only: it stops at the
root element's start tag, so the cost does not grow with the feed. A DOCTYPE that merely names an
external DTD (RSS 0.91's Netscape DTD) is allowed; nothing ever fetches it. When expat cannot
read the prolog at all (leading junk, a wrong encoding declaration), a byte scan for
``<!ENTITY`` in any of the encodings feeds are sent in decides instead.
"""

from __future__ import annotations

from xml.etree.ElementTree import ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import DefusedXMLParser

#: ``<!ENTITY`` as it appears in the byte encodings a document may use.
_ENTITY_MARKERS = tuple(
    "<!ENTITY".encode(codec) for codec in ("ascii", "utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be")
)


class _RootReached(Exception):
    """Raised from the parser target at the first start tag: the prolog has been read."""


class _StopAtRoot:
    def start(self, tag: str, attrib: dict[str, str]) -> None:
        raise _RootReached

    def end(self, tag: str) -> None:  # pragma: no cover - never reached
        pass

    def data(self, data: str) -> None:
        pass

    def close(self) -> None:
        pass


def unsafe_xml_reason(body: bytes) -> str | None:
    """Why ``body`` must not be parsed (it declares entities), or ``None`` when it may be."""
    parser = DefusedXMLParser(
        target=_StopAtRoot(), forbid_dtd=False, forbid_entities=True, forbid_external=True
    )
    try:
        parser.feed(body)
        parser.close()
    except _RootReached:
        return None
    except DefusedXmlException as exc:
        return f"DOCTYPE declares entities ({exc})"
    except ParseError:
        pass  # not well-formed before the root element: decide on the bytes
    if any(marker in body for marker in _ENTITY_MARKERS):
        return "entity declaration in a document expat could not read"
    return None
