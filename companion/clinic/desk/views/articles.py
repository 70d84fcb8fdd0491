"""The Articles screen (write Markdown, preview, publish) and the Audit screen (admins: who did what, when).

Write/Preview is the screen's own state (kept in the ``article.preview`` draft, so it survives a
trip to another screen): toggling it redraws the editor, not the list of published articles.
"""

from __future__ import annotations

import flet as ft

from ....ui.kit import use_observable
from ..state import DeskState
from ..state.timefmt import when
from .common import BODY, Choice, FeedbackStrip, button, field, handler, muted, screen, section, tid, title_row

__all__ = ["ArticlesScreen", "AuditScreen"]


@ft.component
def _Editor(desk: DeskState) -> ft.Control:
    drafts = desk.drafts
    preview, set_preview = ft.use_state(drafts.draft("article.preview", "no") == "yes")
    editor: list[ft.Control] = [field(drafts, "article.title", "Title", identifier="article-title"),
                                Choice(drafts, "article.preview", [("no", "Write"), ("yes", "Preview")], "no",
                                       "article-mode", on_pick=lambda value: set_preview(value == "yes"))]
    if preview:
        editor.append(tid("article-preview", ft.Container(
            ft.Markdown(drafts.draft("article.body") or "*Nothing written yet.*", selectable=True),
            padding=16, border_radius=10, border=ft.Border.all(1, ft.Colors.OUTLINE_VARIANT))))
    else:
        editor.append(field(drafts, "article.body", "Text (Markdown: # heading, **bold**, - list)", multiline=True,
                            identifier="article-body"))
    editor.append(button("publish-article", "Publish to patients", handler(desk.articles.publish),
                         icon=ft.Icons.SEND))
    return section("New article", editor)


@ft.component
def ArticlesScreen(desk: DeskState) -> ft.Control:
    articles = desk.articles
    use_observable(articles)
    tz, now = desk.clock.tz, desk.clock.now()
    published = [ft.Row([ft.Text(a["title"], size=BODY, weight=ft.FontWeight.W_600, expand=True),
                         muted(when(a["published_at"], tz, now), 14)]) for a in articles.published()]
    return screen([title_row(desk.clock, "Articles"), FeedbackStrip(desk.feedback), _Editor(desk),
                   section(f"Published ({len(published)})", published or [muted("None yet.", BODY)])])


@ft.component
def AuditScreen(desk: DeskState) -> ft.Control:
    audit = desk.audit
    use_observable(audit)
    tz, now = desk.clock.tz, desk.clock.now()
    header = ft.Row([ft.Text(t, size=14, weight=ft.FontWeight.W_700, width=w) for t, w in
                     (("When", 170), ("Who", 160), ("Role", 90), ("Action", 220), ("What", 260), ("From", 120))])
    rows: list[ft.Control] = [header]
    for e in audit.entries:
        who = e.get("actor_id") or "-"
        rows.append(ft.Row([ft.Text(when(e["at"], tz, now), size=14, width=170),
                            ft.Text(who, size=14, width=160),
                            ft.Text(e.get("role") or e["actor_type"], size=14, width=90),
                            ft.Text(e["action"], size=14, width=220, weight=ft.FontWeight.W_600),
                            ft.Text(e.get("target") or "", size=14, width=260),
                            ft.Text(e.get("address") or "", size=14, width=120)]))
    return screen([title_row(desk.clock, "Audit", button("refresh-audit", "Refresh", handler(audit.refresh),
                                                         kind="outlined", icon=ft.Icons.REFRESH)),
                   muted("Who did what, when. Newest first.", 15), FeedbackStrip(desk.feedback),
                   tid("audit-list", ft.Column(rows, spacing=6))])
