"""Articles: write Markdown, preview it, publish it to every patient's app; the published list.

The editor's drafts are ``article.title`` and ``article.body`` (``article.preview`` is ``"yes"``
while the preview shows); publishing clears them and reloads the list.
"""

from __future__ import annotations

from typing import Any

from ....core.observable import Observable
from .feedback import Drafts
from .session import Session

__all__ = ["Articles"]


class Articles(Observable):
    def __init__(self, session: Session, drafts: Drafts) -> None:
        super().__init__()
        self.session, self.drafts = session, drafts
        self.items: list[dict[str, Any]] = []

    def forget(self) -> None:
        self.items = []

    def published(self) -> list[dict[str, Any]]:
        return [a for a in self.items if not a.get("retracted_at")]

    def refresh(self) -> None:
        rows = self.session.attempt(self.session.api.articles)
        if rows is not None:
            self.items = rows
            self.notify()

    def publish(self) -> None:
        title, body = self.drafts.text("article.title"), self.drafts.text("article.body")
        if not title or not body:
            self.session.feedback.say(error="Write a title and some text first.")
            return
        done = "Article published to patients' apps."
        if self.session.attempt(lambda: self.session.api.add_article(title, body), done=done):
            self.drafts.pop("article.title", "article.body")
            self.refresh()
            self.session.feedback.say(toast=done)
