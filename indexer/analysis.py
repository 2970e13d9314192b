"""How full text splits into words, shared by the query parser and both backends' analysers.

Both indexes split ``title`` and ``text`` into words at the characters that are not letters or
numbers, and neither keeps a word longer than :data:`MAX_WORD_BYTES` bytes of UTF-8 (an engine
has to stop somewhere: Lucene refuses a whole document with a term above 32,766 bytes). Hashes,
wallet addresses (ETH 42 characters, Bech32 up to 62, Monero 95) and long compound words are well
inside that limit, so they are indexed and found like any other word.

The two splits differ at the edges: tantivy's ``SimpleTokenizer`` keeps every character with the
Unicode *Alphabetic* property (``ⓐ``, many vowel signs) inside a word, while the cluster's
``osintel_text`` analyser splits at anything but a letter (``\\p{L}``) or number (``\\p{N}``):
the engines here cannot express *Alphabetic*. ``strict=True`` gives the cluster's split.

The parser uses these to refuse a query word the index cannot hold (rather than let the engine
drop it silently, which would widen the query to everything or shorten a phrase) and to check
that a wildcard word is one word on both backends.
"""

from __future__ import annotations

from collections.abc import Iterator

import regex

#: Longest word (UTF-8 bytes) either index keeps; a longer query word is refused.
MAX_WORD_BYTES = 255

# Rust's char::is_alphanumeric (tantivy's SimpleTokenizer): the Alphabetic property or a number.
_WORD_RE = regex.compile(r"[\p{Alphabetic}\p{N}]+")
# The cluster analyser's char filter keeps letters and numbers (indexer/es_mapping.py).
_STRICT_WORD_RE = regex.compile(r"[\p{L}\p{N}]+")


def word_spans(text: str, *, strict: bool = False) -> Iterator[tuple[int, str]]:
    """``(offset, word)`` for every word of ``text`` as tantivy splits it (``strict``: as the
    cluster analyser splits it)."""
    for match in (_STRICT_WORD_RE if strict else _WORD_RE).finditer(text):
        yield match.start(), match.group()


def words(text: str, *, strict: bool = False) -> list[str]:
    """The words of ``text`` (before lower-casing and stemming); see :func:`word_spans`."""
    return [word for _, word in word_spans(text, strict=strict)]


def too_long(word: str) -> bool:
    """Whether the index drops ``word`` for its length."""
    return len(word.encode("utf-8")) > MAX_WORD_BYTES


def text_problem(raw: str, *, prefix: bool) -> tuple[int, str] | None:
    """``(offset in raw, message)`` when a full-text value cannot be searched as written: a word
    the index does not hold (too long), or a wildcard word that is several words."""
    for offset, word in word_spans(raw):
        if too_long(word):
            return offset, (
                f"a word of {len(word.encode('utf-8'))} bytes ({word[:12]}…) is longer than the "
                f"{MAX_WORD_BYTES} bytes a word may have in the index: no document can match it"
            )
    if not prefix:
        return None
    spans = max(list(word_spans(raw)), list(word_spans(raw, strict=True)), key=len)
    if len(spans) > 1:
        found = [word for _, word in spans]
        suggestion = " ".join(found[:-1]) + f" {found[-1]}*"
        return spans[1][0], (
            f"a * wildcard ends one word, and this value is {len(found)} words; "
            f"write them apart, such as {suggestion[:60]}"
        )
    return None
