"""Results: released results only; a sensitive one asks for the passcode again; a positive one comes with
next steps (treatment appointment, counsellor, partner notification); acknowledge."""

from __future__ import annotations

from datetime import date

import flet as ft

from ..core.models import Result
from ..i18n import N_, _
from ..state import AppState, Route
from ..state.formatting import day_and_time, long_date, short_date
from ..ui.kit import act, handler, use_observable
from .common import button, card, empty_note, feedback, field, header, muted, screen, shown_text, tid

__all__ = ["ResultScreen", "ResultsScreen"]

MEANING = {
    "negative": (N_("Not found"), N_("The test did not find this infection."), "calm"),
    "positive": (N_("Found"), N_("The test found this infection. It can be treated — here is what to do next."),
                 "warn"),
    "indeterminate": (N_("Unclear"),
                      N_("The test could not give a clear answer. The clinic will suggest a repeat test."), "info"),
}
INTERPRETATIONS = {"negative": N_("negative"), "positive": N_("positive"), "indeterminate": N_("indeterminate")}


def _hidden(state: AppState, r: Result) -> bool:
    return r.sensitive and r.id not in state.reveal.revealed


@ft.component
def ResultsScreen(state: AppState, route: Route, frame_width: float | None) -> ft.Control:
    use_observable(state.records)
    snap = state.records.snapshot
    items: list[ft.Control] = [header(state, _("Results"), actions=[  # at any time, not only after a result
        button("tell-a-partner", _("Tell a partner"), lambda: state.nav.go("partner"), kind="tonal", icon="SHARE")]),
                               *feedback(state),
                               muted(_("Only results a clinician has released appear here."))]
    if not snap.results:
        items.append(empty_note(_("No results yet. When the clinic releases one, it appears here."), "no-results"))
    seen: dict[str, int] = {}
    for r in snap.results[:100]:
        new = r.acknowledged_at is None
        headline = _row_title(state, r)
        seen[headline] = seen.get(headline, 0) + 1
        if seen[headline] > 1:  # two protected results of one day and visit still differ on screen
            headline += f" ({seen[headline]})"
        sub = (_("Tap and enter your passcode to view") if r.sensitive
               else _(MEANING[r.interpretation][0]) if r.interpretation in MEANING else "")
        row = ft.Row([
            ft.Icon(ft.Icons.LOCK_OUTLINE if r.sensitive else ft.Icons.ASSIGNMENT_OUTLINED),
            ft.Column([ft.Text(headline, weight=ft.FontWeight.W_600), muted(sub, 13)], spacing=2, expand=True),
            *([ft.Container(ft.Text(_("New"), size=12, color=ft.Colors.ON_PRIMARY), bgcolor=ft.Colors.PRIMARY,
                            border_radius=10, padding=ft.Padding.symmetric(horizontal=8, vertical=2))] if new else []),
        ])
        items.append(card([row], identifier=f"result-{r.id}", on_click=lambda _e, i=r.id: state.nav.go("result", i)))
    return screen(state, items)


def sample_date(state: AppState, r: Result) -> date | None:
    """The day the sample was taken: the clinic's own record of it (``Result.sample_taken``), else
    the day of the visit the result belongs to; ``None`` for an older result with neither."""
    if r.sample_taken is not None:
        return r.sample_taken
    appt = state.records.snapshot.appointment(r.appointment_id) if r.appointment_id else None
    return appt.start.astimezone(state.services.tz).date() if appt is not None else None


def _row_title(state: AppState, r: Result) -> str:
    """What a row says it is, naming no sensitive test before the passcode:
    "Protected result · sample taken Sat 28 Nov" (when the sample day is unknown: "· released …")."""
    sampled = sample_date(state, r)
    when = (_("sample taken %(date)s") % {"date": short_date(sampled)} if sampled is not None
            else _("released %(date)s") % {"date": short_date(r.released_at.astimezone(state.services.tz).date())})
    return " · ".join([_("Protected result") if r.sensitive else r.test, when])


def _ask_passcode(state: AppState, r: Result) -> list[ft.Control]:
    def reveal() -> None:
        code = shown_text(state, "reveal")
        state.drafts.pop("reveal")
        act(state.reveal.reveal_result, r.id, code)

    passcode = field(state, "reveal", _("Passcode"), password=True, on_submit=lambda: reveal(),
                     identifier="reveal-passcode", autofocus=True)

    return [card([ft.Row([ft.Icon(ft.Icons.LOCK_OUTLINE), ft.Text(_("This result is protected"),
                                                                  weight=ft.FontWeight.W_600)]),
                  muted(_("Enter your passcode to see it. It hides again when you leave this screen.")),
                  passcode,
                  button("reveal", _("Show result"), reveal, icon="VISIBILITY")], identifier="result-protected")]


def _treatment(state: AppState, r: Result) -> ft.Control:
    """The first next step, or what was already done about it."""
    asked = state.results.treatment_requested(r.id)
    if asked is None:
        return button("request-treatment", _("Ask for a treatment visit"),
                      handler(state.results.request_treatment, r.id), icon="EVENT_AVAILABLE")
    when = day_and_time(asked, state.services.tz, state.now())
    return tid("treatment-requested", ft.Row([
        ft.Icon(ft.Icons.CHECK_CIRCLE_OUTLINE, color=ft.Colors.PRIMARY),
        ft.Column([ft.Text(_("Treatment requested · %(when)s") % {"when": when}, weight=ft.FontWeight.W_600),
                   muted(_("The clinic will offer you a time under Visits."), 13)], spacing=2, expand=True)]))


def _next_steps(state: AppState, r: Result) -> ft.Control:
    p = state.services.profile
    rows: list[ft.Control] = [
        ft.Text(_("Next steps"), size=18, weight=ft.FontWeight.W_600),
        muted(_("Most infections found at a screening are easy to treat. You don't have to sort this out alone.")),
        _treatment(state, r),
        button("message-counsellor", _("Message a counsellor"), lambda: state.nav.go("thread", "counselling"),
               kind="tonal", icon="SUPPORT_AGENT"),
        button("tell-partners", _("Tell partners anonymously"), lambda: state.nav.go("partner", r.id), kind="tonal",
               icon="SHARE"),
        button("partner-notification", _("How partner notification works"),
               lambda: state.nav.go("article", "partner-notification"), kind="outlined", icon="GROUPS"),
    ]
    if p.counselling_phone:
        rows.append(muted(_("Prefer to talk? Call the counselling team on %(phone)s.")
                          % {"phone": p.counselling_phone}))
    return card(rows, identifier="next-steps", tone="info")


@ft.component
def ResultScreen(state: AppState, route: Route, frame_width: float | None) -> ft.Control:
    """Renders when the records change or the result is revealed (or hidden again)."""
    use_observable(state.records)
    use_observable(state.reveal)
    r = state.records.snapshot.result(route.arg or "")
    if r is None:
        return screen(state, [header(state, _("Result"), back=True), empty_note(_("This result is gone."))])
    items: list[ft.Control] = [header(state, _("Result"), back=True), *feedback(state)]
    if _hidden(state, r):
        return screen(state, [*items, *_ask_passcode(state, r)])
    word, meaning, tone = MEANING.get(r.interpretation, (r.interpretation, "", "info"))
    word, meaning = (_(word), _(meaning)) if r.interpretation in MEANING else (word, meaning)
    said = _(INTERPRETATIONS[r.interpretation]) if r.interpretation in INTERPRETATIONS else r.interpretation
    facts: list[ft.Control] = [
        ft.Text(r.test, size=20, weight=ft.FontWeight.W_600),
        tid("interpretation", ft.Text(f"{word} ({said})", size=18, weight=ft.FontWeight.W_700)),
        ft.Text(meaning),
    ]
    if r.value:
        facts.append(muted(_("Value: %(value)s") % {"value": r.value} + (
            " " + _("(reference: %(range)s)") % {"range": r.reference_range} if r.reference_range else "")))
    if r.note:
        facts.append(ft.Text(_("From your clinician: %(note)s") % {"note": r.note}))
    sampled = sample_date(state, r)
    if sampled is not None:
        facts.append(muted(_("Sample taken %(date)s") % {"date": long_date(sampled)}, 13))
    released = long_date(r.released_at.astimezone(state.services.tz).date())
    facts.append(muted(_("Released %(date)s") % {"date": released}, 13))
    items.append(card(facts, identifier="result-facts", tone="calm" if tone == "calm" else None))
    if r.interpretation == "positive":
        items.append(_next_steps(state, r))
    elif r.interpretation == "negative":
        risk = (_("Had a risk in the few weeks before %(date)s, when the sample was taken?") % {
                    "date": short_date(sampled)} if sampled is not None else _("Had a risk in the last few weeks?"))
        items.append(card([muted(f"{risk} " + _("A test can miss a very recent infection.")),
                           button("window-periods", _("About window periods"),
                                  lambda: state.nav.go("article", "window-periods"), kind="text")],
                          identifier="window-note"))
    if r.acknowledged_at is None:
        items.append(button("acknowledge", _("I have read this"), handler(state.results.acknowledge, r.id),
                            icon="DONE"))
    else:
        items.append(muted(_("You have read this result."), 13))
    items.append(button("ask-results", _("Ask the results team a question"), lambda: state.nav.go("thread", "results"),
                        kind="text", icon="CHAT_BUBBLE_OUTLINE"))
    return screen(state, items)
