"""Long texts in the catalog: a Markdown document is translated block by block.

A block is what a blank line separates (a heading, a paragraph, a whole list), so a translator
sees a unit that reads on its own and a change to one paragraph marks only that one as needing
work. The built-in Learn articles (``assets/learn/*.md``) go through here: :func:`extract_markdown`
is the Babel extractor ``babel.cfg`` names for them, and :func:`translate_markdown` is what the
Learn library shows. The article header's ``title`` and ``summary`` are messages of their own.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import IO, Any

from .catalog import gettext

__all__ = ["HEADER_MESSAGES", "blocks", "extract_markdown", "translate_markdown"]

HEADER_MESSAGES = ("title", "summary")  # header fields a patient reads
_BLANK = re.compile(r"\n\s*\n")


def blocks(text: str) -> list[str]:
    """The blocks of ``text``, each stripped, in order (empty ones dropped)."""
    return [b.strip() for b in _BLANK.split(text) if b.strip()]


def translate_markdown(text: str) -> str:
    """``text`` with every block looked up in the active language's catalog."""
    return "\n\n".join(gettext(b) for b in blocks(text)) + "\n"


def extract_markdown(fileobj: IO[bytes], keywords: Any, comment_tags: Any,
                     options: Any) -> Iterator[tuple[int, str, str, list[str]]]:
    """Babel extractor: an article's header title and summary, then each body block, with line numbers."""
    text = fileobj.read().decode("utf-8")
    lineno = 1
    if text.startswith("---\n"):
        head, _sep, body = text[4:].partition("\n---\n")
        for i, line in enumerate(head.splitlines(), start=2):
            key, colon, value = line.partition(":")
            if colon and key.strip() in HEADER_MESSAGES and value.strip():
                yield i, "", value.strip(), [f"Learn article {key.strip()}"]
        lineno = head.count("\n") + 3
    else:
        body = text
    offset = 0
    for block in blocks(body):
        offset = body.index(block, offset)
        yield lineno + body.count("\n", 0, offset) + 1, "", block, []
        offset += len(block)
