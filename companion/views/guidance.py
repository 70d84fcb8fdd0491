"""What to do and what to know: Prep (a checklist per upcoming appointment, with when each step
starts; ticking works offline) and Learn (the clinic's articles from the feed plus the built-in
offline library, ``assets/learn``).
"""

from __future__ import annotations

import flet as ft

from ..i18n import _, language
from ..state import AppState, Route, kind_text
from ..state.formatting import day_and_time
from ..ui.kit import use_observable
from .common import card, empty_note, feedback, header, muted, prep_row, screen

__all__ = ["ArticleScreen", "LearnScreen", "PrepScreen"]


@ft.component
def PrepScreen(state: AppState, route: Route, frame_width: float | None) -> ft.Control:
    use_observable(state.records)
    snap = state.records.snapshot
    items: list[ft.Control] = [header(state, _("Preparation")), *feedback(state),
                               muted(_("Tick each step when it is done. It is saved on this device straight away "
                                       "and shared with the clinic when you are online."))]
    shown = 0
    for appt in snap.upcoming:
        steps = snap.prep_for(appt.id)
        if not steps:
            continue
        shown += 1
        when = day_and_time(appt.start, state.services.tz, state.now())
        items.append(card([ft.Text(f"{kind_text(appt.visit_kind)} · {when}", size=16, weight=ft.FontWeight.W_600),
                           *[prep_row(state, s, appt) for s in steps]], identifier=f"prep-card-{appt.id}"))
    if not shown:
        items.append(empty_note(_("Nothing to prepare right now. Steps from the clinic appear here before a visit."),
                                "no-prep"))
    return screen(state, items)


@ft.component
def LearnScreen(state: AppState, route: Route, frame_width: float | None) -> ft.Control:
    use_observable(state.records)
    items: list[ft.Control] = [header(state, _("Learn")), *feedback(state)]
    clinic = state.records.snapshot.articles
    if clinic:
        items.append(muted(_("From %(clinic)s") % {"clinic": state.services.profile.discreet_name}, 13))
        for a in clinic[:50]:
            items.append(card([ft.Text(a.in_language(language())[0], weight=ft.FontWeight.W_600)],
                              identifier=f"article-{a.id}", on_click=lambda _e, i=a.id: state.nav.go("article", i)))
    items.append(muted(_("Good to know — works offline"), 13))
    for b in state.services.library.articles:
        items.append(card([ft.Text(b.title, weight=ft.FontWeight.W_600), muted(b.summary, 13)],
                          identifier=f"article-{b.id}", on_click=lambda _e, i=b.id: state.nav.go("article", i)))
    return screen(state, items)


@ft.component
def ArticleScreen(state: AppState, route: Route, frame_width: float | None) -> ft.Control:
    use_observable(state.records)
    aid = route.arg or ""
    clinic = state.records.snapshot.article(aid)
    builtin = state.services.library.get(aid)
    if clinic is not None:  # the clinic's own version in the patient's language, when it wrote one
        title, body = clinic.in_language(language())
    elif builtin is not None:
        title, body = builtin.title, builtin.body
    else:
        title, body = _("Article"), _("This article is not available.")
    doc = ft.Markdown(body, selectable=True, extension_set=ft.MarkdownExtensionSet.GITHUB_WEB)
    return screen(state, [header(state, title, back=True), ft.Semantics(identifier="article-body", content=doc)])
