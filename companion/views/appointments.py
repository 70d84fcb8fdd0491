"""Visits (the patient's word for appointments, as on the navigation): upcoming and past, detail (local
time, place, provider, what to bring, prep), request, confirm, cancel, book again, e-check-in (contact
and insurance), add to calendar, "what to expect" from Learn."""

from __future__ import annotations

from collections.abc import Callable

import flet as ft

from ..core.care_rules import offers
from ..core.requests import TIMES_OF_DAY, WEEKDAYS
from ..i18n import N_, _, ngettext, weekday_abbr
from ..state import REQUEST_KINDS, AppState, Route, kind_text
from ..state.formatting import day_and_time, local_time, long_date
from ..ui.kit import act, handler, use_observable
from .booking import taken_cards
from .common import (
    appointment_summary,
    button,
    card,
    empty_note,
    feedback,
    field,
    header,
    is_booking_pending,
    is_past,
    muted,
    prep_row,
    save_export,
    screen,
    shown_text,
    tid,
    visit_status,
)

__all__ = ["AppointmentScreen", "AppointmentsScreen", "CheckinScreen", "RequestScreen"]

PAGE = 50  # past visits shown at once (a long history stays fast)


@ft.component
def AppointmentsScreen(state: AppState, route: Route, frame_width: float | None) -> ft.Control:
    use_observable(state.records)
    snap = state.records.snapshot
    _settle_request_note(state, tuple(a.id for a in snap.upcoming if a.status == "requested"))
    items: list[ft.Control] = [
        header(state, _("Visits"), actions=[
            *([button("book-appointment", _("Book"), lambda: state.nav.go("book"), icon="EVENT_AVAILABLE")]
              if snap.open_times else []),
            button("request-appointment", _("Request"), lambda: state.nav.go("request"), kind="tonal", icon="ADD")]),
        *taken_cards(state),
        *feedback(state),
        muted(_("Upcoming"), 13),
    ]
    if snap.upcoming:
        items.extend(appointment_summary(state, a, identifier=f"appt-{a.id}") for a in snap.upcoming)
    else:
        items.append(empty_note(_("No upcoming visits."), "no-upcoming"))
    if snap.past:
        items.append(muted(_("Past"), 13))
        for a in snap.past[:PAGE]:
            items.append(tid(f"appt-{a.id}", ft.ListTile(
                title=ft.Text(kind_text(a.visit_kind)),
                subtitle=ft.Text(f"{long_date(a.start.astimezone(state.services.tz).date())}"
                                 f" · {visit_status(a, state.now())}"),
                on_click=lambda _e, i=a.id: state.nav.go("appointment", i))))
        if len(snap.past) > PAGE:
            more = len(snap.past) - PAGE
            items.append(muted(ngettext("and %(n)s earlier visit", "and %(n)s earlier visits", more) % {"n": more}, 13))
    return screen(state, items)


def _settle_request_note(state: AppState, waiting: tuple[str, ...]) -> None:
    """The "Request sent…" note (the strip's good news) goes once the clinic answered a request (booked,
    declined or cancelled it: the visit is no longer "requested"), not only at the next screen change."""
    before = ft.use_ref(waiting)

    def settle() -> None:
        answered = set(before.current or ()) - set(waiting)
        before.current = waiting
        feedback = state.feedback
        if answered and feedback.toast:
            feedback.toast = None
            feedback.notify()

    ft.use_effect(settle, [waiting])


def _detail_rows(state: AppState, label: str, value: str | None, glyph: ft.IconData) -> list[ft.Control]:
    if not value:
        return []
    text = ft.Column([muted(label, 12), ft.Text(value, size=15)], spacing=0, expand=True)
    return [ft.Row([ft.Icon(glyph, size=20), text], vertical_alignment=ft.CrossAxisAlignment.START)]


@ft.component
def AppointmentScreen(state: AppState, route: Route, frame_width: float | None) -> ft.Control:
    use_observable(state.records)
    confirming, set_confirming = ft.use_state("")  # the appointment whose "Cancel?" card is open
    appt = state.records.snapshot.appointment(route.arg or "")
    if appt is None:
        taken = taken_cards(state)  # a booking the clinic refused (the time went) shows what to take instead
        return screen(state, [header(state, _("Visit"), back=True), *taken, *feedback(state),
                              *([] if taken else [empty_note(_("This visit is gone."))])])
    tz, now = state.services.tz, state.now()
    local = appt.start.astimezone(tz)
    when = f"{long_date(local.date())}, {local_time(appt.start, tz)}–{local_time(appt.end, tz)}"
    # a request's start is only when it was asked for: no time to show yet (a booking has its time)
    waiting = appt.status == "requested" and not is_booking_pending(appt)
    facts: list[ft.Control] = [
        ft.Text(kind_text(appt.visit_kind), size=20, weight=ft.FontWeight.W_600),
        muted(f"{visit_status(appt, now)} · "
              + (_("waiting for the clinic to offer you a time") if waiting else day_and_time(appt.start, tz, now))),
        *_detail_rows(state, _("When (your time)"), None if waiting else when, ft.Icons.SCHEDULE),
        *_detail_rows(state, _("Where"), appt.location, ft.Icons.PLACE_OUTLINED),
        *_detail_rows(state, _("With"), appt.provider, ft.Icons.PERSON_OUTLINE),
        *_detail_rows(state, _("What to bring"), appt.what_to_bring, ft.Icons.WORK_OUTLINE),
        *_detail_rows(state, _("Note from the clinic"), appt.note, ft.Icons.INFO_OUTLINE),
    ]
    items: list[ft.Control] = [header(state, _("Visit"), back=True), *feedback(state),
                               card(facts, identifier="appointment-facts")]
    actions: list[ft.Control] = []
    active = appt.status in ("scheduled", "confirmed", "checked_in") and not is_past(appt, now)

    def offered(action: str) -> bool:  # the one visit rule (companion.core.care_rules), as the patient's device
        return offers(appt.status, action, "device", start=appt.start, minutes=appt.minutes, now=now,
                      checkin_opens=state.services.profile.checkin_opens_minutes)

    if offered("confirm"):
        actions.append(button("confirm", _("Confirm"), handler(state.visits.confirm, appt.id), icon="CHECK"))
    if offered("check_in"):
        actions.append(button("checkin", _("Check in"), lambda: state.nav.go("checkin", appt.id), kind="tonal",
                              icon="HOW_TO_REG"))
    if active:
        actions.append(button("add-calendar", _("Add to calendar"), save_export(state, "ics", appt.id),
                              kind="outlined", icon="EVENT_AVAILABLE"))
    if appt.status == "cancelled":
        # the request form opens with this visit's kind chosen (the route's argument)
        actions.append(button("book-again", _("Book again"), lambda: state.nav.go("request", appt.visit_kind),
                              kind="tonal", icon="EVENT_REPEAT"))
    if actions:
        items.append(ft.Row(actions, wrap=True, spacing=8, run_spacing=8))
    steps = state.records.snapshot.prep_for(appt.id)
    if steps:
        items.append(card([ft.Text(_("Preparation"), weight=ft.FontWeight.W_600),
                           *[prep_row(state, s, appt) for s in steps]], identifier="appointment-prep"))
    article = state.services.library.for_visit(appt.visit_kind)
    if article is not None:
        items.append(card([ft.Row([ft.Icon(ft.Icons.MENU_BOOK_OUTLINED), ft.Text(_("What to expect"),
                                                                              weight=ft.FontWeight.W_600)]),
                           ft.Text(article.title), muted(article.summary)],
                          identifier="what-to-expect", on_click=lambda: state.nav.go("article", article.id),
                          tone="info"))
    if offered("cancel"):
        if confirming == appt.id:
            items.append(card([ft.Text(_("Withdraw this request?") if waiting else _("Cancel this visit?"),
                                       weight=ft.FontWeight.W_600),
                               field(state, "cancel.reason", _("Reason (optional)")),
                               ft.Row([button("cancel-yes", _("Yes, withdraw it") if waiting else _("Yes, cancel it"),
                                              lambda: act(state.visits.cancel, appt.id,
                                                          shown_text(state, "cancel.reason")), kind="filled"),
                                       button("cancel-no", _("Keep it"), lambda: set_confirming(""), kind="text")],
                                      wrap=True)], identifier="cancel-confirm", tone="warn"))
        else:
            items.append(button("cancel", _("Withdraw request") if waiting else _("Cancel visit"),
                                lambda: set_confirming(appt.id), kind="text", icon="EVENT_BUSY"))
    return screen(state, items)


def _toggle(chosen: tuple[str, ...], value: str, order: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(v for v in order if (v in chosen) != (v == value))


def _choice_chips(prefix: str, order: tuple[str, ...], labels: dict[str, str], chosen: tuple[str, ...],
                  choose: Callable[[tuple[str, ...]], None]) -> ft.Control:
    return ft.Row([tid(f"{prefix}-{v}", ft.Chip(label=ft.Text(labels[v]), selected=v in chosen,
                                                on_select=lambda _e, v=v: choose(_toggle(chosen, v, order))))
                   for v in order], wrap=True, spacing=8, run_spacing=8)


@ft.component
def RequestScreen(state: AppState, route: Route, frame_width: float | None) -> ft.Control:
    """Renders only for itself (the chosen kind, days and times are its own state); the feedback strip
    follows the intent. ``route.arg`` is a kind to start with (_("Book again") passes the cancelled
    visit's kind; one the list lacks gets a chip of its own)."""
    again = (route.arg or "").strip()
    kinds = REQUEST_KINDS if not again or again in REQUEST_KINDS else (again, *REQUEST_KINDS)
    kind, set_kind = ft.use_state(again or REQUEST_KINDS[0])
    none: tuple[str, ...] = ()
    days, set_days = ft.use_state(none)
    times, set_times = ft.use_state(none)
    chips = [tid(f"kind-{k.lower().replace(' ', '-')}", ft.Chip(
        label=ft.Text(_(k)), selected=k == kind, on_select=lambda _e, k=k: set_kind(k))) for k in kinds]
    return screen(state, [
        header(state, _("Ask for a visit"), back=True),
        muted(_("The clinic will offer you a time. You will see it under Visits.")),
        ft.Text(_("What is it for?"), weight=ft.FontWeight.W_600),
        ft.Row(chips, wrap=True, spacing=8, run_spacing=8),
        ft.Text(_("Which days suit you?"), weight=ft.FontWeight.W_600),
        muted(_("Choose any that work. None chosen means any day."), 13),
        _choice_chips("day", WEEKDAYS, {d: weekday_abbr(i) for i, d in enumerate(WEEKDAYS)}, days, set_days),
        ft.Text(_("What time of day?"), weight=ft.FontWeight.W_600),
        _choice_chips("time", TIMES_OF_DAY, {t: _(TIME_LABELS[t]) for t in TIMES_OF_DAY}, times, set_times),
        field(state, "request.note", _("Anything the clinic should know? (optional)"), multiline=True),
        *feedback(state),
        button("send-request", _("Send request"), lambda: act(state.visits.request, kind,
                                                           shown_text(state, "request.note"), days, times),
               icon="SEND"),
    ])


TIME_LABELS = {"morning": N_("Morning (8–12)"), "afternoon": N_("Afternoon (12–5)"), "evening": N_("Evening (5–8)")}


@ft.component
def CheckinScreen(state: AppState, route: Route, frame_width: float | None) -> ft.Control:
    use_observable(state.records)  # the profile's contact details are the fields' defaults
    appt_id = route.arg or ""
    profile = state.records.snapshot.profile
    ins = profile.insurance if profile else None

    def submit() -> None:  # the texts on screen at the click (see shown_text)
        act(state.visits.check_in, appt_id, *(shown_text(state, f"checkin.{k}") for k in ("phone", "email", "payer",
                                                                                          "member")))

    return screen(state, [
        header(state, _("Check in"), back=True),
        muted(_("Please check your contact and insurance details. The clinic uses them for this visit only.")),
        field(state, "checkin.phone", _("Phone"), default=(profile.phone or "") if profile else "",
              keyboard=ft.KeyboardType.PHONE),
        field(state, "checkin.email", _("Email"), default=(profile.email or "") if profile else "",
              keyboard=ft.KeyboardType.EMAIL),
        field(state, "checkin.payer", _("Insurance company (leave empty if none)"),
              default=(ins.payer or "") if ins else ""),
        field(state, "checkin.member", _("Member ID"), default=(ins.member_id or "") if ins else ""),
        *feedback(state),
        button("submit-checkin", _("Confirm and check in"), submit, icon="HOW_TO_REG"),
    ])
