"""The offline Learn library: plain-language articles shipped in ``assets/learn/*.md``.

Each file starts with a small header, then Markdown::

    ---
    id: sti-screening
    title: What happens at an STI screening
    summary: One sentence shown in the list.
    visit_kinds: screening, sti, sexual health
    ---
    # What happens at an STI screening
    ...

``visit_kinds`` are lower-case words matched against an appointment's kind, so an
"STI screening" visit links to "what to expect" (:meth:`LearnLibrary.for_visit`).
The clinic's own articles arrive through sync (``vault.articles``); this library
works with no network and no pairing.

The files are written in English; a patient reads them in the app's language: the title, the
summary and each Markdown block come from the gettext catalog (:mod:`companion.i18n.documents`,
whose extractor puts them there), so ``articles`` and ``get`` answer in the active language.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from ..core.errors import ConfigError
from ..i18n import gettext
from ..i18n.documents import translate_markdown

__all__ = ["LibraryArticle", "LearnLibrary", "assets_dir"]


def assets_dir() -> Path:
    """The app's ``assets`` folder (project root; also the Flet build's assets)."""
    return Path(__file__).resolve().parent.parent.parent / "assets"


@dataclass(frozen=True, slots=True)
class LibraryArticle:
    id: str
    title: str
    summary: str
    body: str  # Markdown
    visit_kinds: tuple[str, ...] = ()

    def translated(self) -> LibraryArticle:
        """This article in the active language (the English text where the catalog has none)."""
        return replace(self, title=gettext(self.title), summary=gettext(self.summary) if self.summary else "",
                       body=translate_markdown(self.body))


def parse_article(text: str, name: str) -> LibraryArticle:
    """Parse one library file; ConfigError naming the file when its header is broken."""
    if not text.startswith("---\n"):
        raise ConfigError(f"{name}: a Learn article must start with a '---' header")
    head, sep, body = text[4:].partition("\n---\n")
    if not sep:
        raise ConfigError(f"{name}: the header is not closed with '---'")
    fields: dict[str, str] = {}
    for line in head.splitlines():
        key, colon, value = line.partition(":")
        if colon:
            fields[key.strip()] = value.strip()
    for key in ("id", "title"):
        if not fields.get(key):
            raise ConfigError(f"{name}: header field {key!r} is missing")
    kinds = tuple(k.strip().lower() for k in fields.get("visit_kinds", "").split(",") if k.strip())
    return LibraryArticle(id=fields["id"], title=fields["title"], summary=fields.get("summary", ""),
                          body=body.strip() + "\n", visit_kinds=kinds)


class LearnLibrary:
    """The built-in articles, in file-name order."""

    def __init__(self, articles: tuple[LibraryArticle, ...] = ()) -> None:
        self.source = articles  # as written (English); ``articles`` in the active language

    @property
    def articles(self) -> tuple[LibraryArticle, ...]:
        return tuple(a.translated() for a in self.source)

    @classmethod
    def load(cls, folder: Path) -> LearnLibrary:
        if not folder.is_dir():
            return cls()
        items = [parse_article(p.read_text(encoding="utf-8"), p.name) for p in sorted(folder.glob("*.md"))]
        return cls(tuple(items))

    @classmethod
    def builtin(cls) -> LearnLibrary:
        return cls.load(assets_dir() / "learn")

    def get(self, article_id: str) -> LibraryArticle | None:
        found = next((a for a in self.source if a.id == article_id), None)
        return found.translated() if found else None

    def for_visit(self, visit_kind: str) -> LibraryArticle | None:
        """The "what to expect" article for a visit kind, if one matches: the one whose matching word
        is the longest (the most specific), so an "HIV test" gets the HIV-test article, not the one
        about which test is which (``test``); ties go to the first file."""
        kind = visit_kind.lower()
        best: tuple[int, LibraryArticle] | None = None
        for article in self.source:
            longest = max((len(word) for word in article.visit_kinds if word in kind), default=0)
            if longest and (best is None or longest > best[0]):
                best = (longest, article)
        return best[1].translated() if best else None
