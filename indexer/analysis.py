"""How full text splits into words, shared by the query parser and both backends' analysers.

Both indexes split ``title`` and ``text`` into words at every character that is neither
alphabetic nor numeric (tantivy's ``SimpleTokenizer``; the ``osintel_text`` analyser on a
cluster), and neither keeps a word longer than :data:`MAX_WORD_BYTES` bytes of UTF-8 (an engine
has to stop somewhere: Lucene refuses a whole document with a term above 32,766 bytes). Hashes,
wallet addresses (ETH 42 characters, Bech32 up to 62, Monero 95) and long compound words are well
inside that limit, so they are indexed and found like any other word.

The parser uses :func:`word_spans` to refuse a query word the index cannot hold (rather than let
the engine drop it silently, which would widen the query to everything or shorten a phrase) and
to check that a wildcard word is one word.
"""

from __future__ import annotations

from collections.abc import Iterator

import regex

#: Longest word (UTF-8 bytes) either index keeps; a longer query word is refused.
MAX_WORD_BYTES = 255

# Rust's char::is_alphanumeric (tantivy's SimpleTokenizer): the Alphabetic property or a number.
_WORD_RE = regex.compile(r"[\p{Alphabetic}\p{N}]+")


def word_spans(text: str) -> Iterator[tuple[int, str]]:
    """``(offset, word)`` for every word of ``text``, as the indexes split it."""
    for match in _WORD_RE.finditer(text):
        yield match.start(), match.group()


def words(text: str) -> list[str]:
    """The words of ``text``, as the indexes split it (before lower-casing and stemming)."""
    return [word for _, word in word_spans(text)]


def too_long(word: str) -> bool:
    """Whether the index drops ``word`` for its length."""
    return len(word.encode("utf-8")) > MAX_WORD_BYTES
