"""Text views for segmentation: hard-wrapped lines joined back into their sentences.

Plain-text sources (mailing lists, pasted releases, some feeds, forum posts) wrap paragraphs at a
fixed width, so a sentence arrives as two or three lines. Split at every line break, a sentence
becomes fragments: method evidence quotes half a sentence, a name broken over two lines ("West\\n
Yorkshire Police") is two names or none, and patterns that need both halves never match.

:func:`unwrap_lines` returns a *view* of the text in which the line breaks that only wrap a
paragraph are spaces. The view has exactly the length of the text, so every offset found in it
(entities, sentences, evidence, places) is an offset into ``Document.text``; the captured text is
never changed. A line break stays a break when the next line is blank, starts a list item, or the
line is short for its paragraph (a title, a signature, a line of a list) and the next line does
not continue it in lower case.
"""

from __future__ import annotations

import re

#: Characters that end a line deliberately: a sentence or a clause ends there.
_TERMINAL = frozenset('.!?:;…"”’»)')
#: A line that starts a list item, a quote block or a table row.
_LIST_ITEM_RE = re.compile(r"^(?:[-*•·–—>|#]|\d{1,3}[.)]\s|[a-z][.)]\s)")
#: Paragraphs narrower than this are not hard-wrapped prose (lists, addresses, short posts).
MIN_WRAP_WIDTH = 40
#: A line at least this share of its paragraph's widest line was wrapped by width, not ended.
WRAPPED_SHARE = 0.7


def unwrap_lines(text: str) -> str:
    """``text`` with paragraph-wrapping line breaks replaced by spaces (same length).

    >>> unwrap_lines("Officers seized cocaine hidden in a lorry at the port of\\nDover on Tuesday.")
    'Officers seized cocaine hidden in a lorry at the port of Dover on Tuesday.'
    >>> unwrap_lines("Gang jailed\\nThree men were jailed on Friday for running a county line.")
    'Gang jailed\\nThree men were jailed on Friday for running a county line.'
    """
    if "\n" not in text:
        return text
    chars = list(text)
    lines: list[tuple[int, str]] = []  # (offset of the line's "\n" terminator or -1, content)
    pos = 0
    for line in text.split("\n"):
        end = pos + len(line)
        lines.append((end if end < len(text) else -1, line))
        pos = end + 1
    block: list[tuple[int, str]] = []
    for item in lines + [(-1, "")]:
        if item[1].strip():
            block.append(item)
            continue
        _join_block(block, chars)
        block = []
    return "".join(chars)


def _join_block(block: list[tuple[int, str]], chars: list[str]) -> None:
    """Replace the wrapping breaks inside one paragraph (consecutive non-blank lines)."""
    if len(block) < 2:
        return
    width = max(len(line.rstrip()) for _, line in block)
    for (newline, line), (_, following) in zip(block, block[1:]):
        current = line.rstrip()
        nxt = following.lstrip()
        if newline < 0 or not current or not nxt or _LIST_ITEM_RE.match(nxt):
            continue
        continues = nxt[0].islower() or nxt[0] in ",;)]"
        wrapped = (
            width >= MIN_WRAP_WIDTH
            and len(current) >= WRAPPED_SHARE * width
            and (current[-1] not in _TERMINAL or len(block) > 2)
        )
        if continues or wrapped:
            chars[newline] = " "
