"""Book a visit from the clinic's open times: pick a service, a day, a time; confirm. Works offline
(the booking waits as "Booking…"); a time someone else just took comes back as a card offering the
nearest three (:func:`taken_cards`, also on Visits). Patient-facing words are the constants below, marked
for the catalog and translated where they are shown."""

from __future__ import annotations

from datetime import date, datetime

import flet as ft

from ..core.models import OpenTimes
from ..i18n import N_, _
from ..state import AppState, Route
from ..state.formatting import before_text, day_and_time, local_time, long_date, short_date
from ..ui.kit import act, handler, use_observable
from .common import button, card, empty_note, feedback, header, muted, screen, tid

__all__ = ["BookScreen", "taken_cards"]

TITLE = N_("Book a visit")
INTRO = N_("Choose what the visit is for and a time that suits you. You can cancel in the app if plans change.")
NOTHING = N_("Nothing can be booked in the app right now.")
ASK_INSTEAD = N_("Ask the clinic for a visit")
WHAT = N_("What is it for?")
WHICH_DAY = N_("Which day?")
WHICH_TIME = N_("Which time? (your time)")
NO_TIMES = N_("No open times in the next weeks. You can ask the clinic for a visit instead.")
CONFIRM = N_("Book this time")
TO_PREPARE = N_("To prepare")
TAKEN = N_("That time was just taken — here are the nearest three")
TAKEN_FEWER = N_("That time was just taken — here are the nearest open times")
TAKEN_NONE = N_("That time was just taken, and nothing near it is open. Please choose another.")
YOU_CHOSE = N_("You chose %(when)s.")
DISMISS = N_("Dismiss")


def _service_label(service: OpenTimes) -> str:
    return _("%(name)s · %(minutes)s min") % {"name": service.name, "minutes": service.minutes}


def _slug(text: str) -> str:
    return text.replace(":", "").replace(" ", "-").lower()


@ft.component
def BookScreen(state: AppState, route: Route, frame_width: float | None) -> ft.Control:
    """``route.arg`` may name the service to start with."""
    use_observable(state.records)
    services = state.booking.services()
    first = route.arg if route.arg and state.booking.service(route.arg) else (services[0].id if services else "")
    service_id, set_service = ft.use_state(first)
    none_day: date | None = None
    none_time: datetime | None = None
    day, set_day = ft.use_state(none_day)
    chosen, set_chosen = ft.use_state(none_time)
    items: list[ft.Control] = [header(state, _(TITLE), back=True), *taken_cards(state), *feedback(state)]
    if not services:
        items += [empty_note(_(NOTHING), "no-services"),
                  button("ask-instead", _(ASK_INSTEAD), lambda: state.nav.go("request"), kind="tonal", icon="SEND")]
        return screen(state, items)
    service = state.booking.service(service_id) or services[0]

    def pick_service(sid: str) -> None:
        set_service(sid)
        set_day(None)
        set_chosen(None)

    items += [muted(_(INTRO)), ft.Text(_(WHAT), weight=ft.FontWeight.W_600), ft.Row([
        tid(f"service-{s.id}", ft.Chip(label=ft.Text(_service_label(s)), selected=s.id == service.id,
                                       on_select=lambda _e, sid=s.id: pick_service(sid))) for s in services],
        wrap=True, spacing=8, run_spacing=8)]
    days = state.booking.days(service.id)
    if not days:
        items += [muted(_(NO_TIMES)), button("ask-instead", _(ASK_INSTEAD), lambda: state.nav.go("request"),
                                             kind="tonal", icon="SEND")]
        return screen(state, items)
    shown_day = day if day in dict(days) else days[0][0]
    tz, now = state.services.tz, state.now()
    items += [ft.Text(_(WHICH_DAY), weight=ft.FontWeight.W_600), ft.Row([
        tid(f"day-{d.isoformat()}", ft.Chip(label=ft.Text(f"{short_date(d)} · {len(times)}"),
                                            selected=d == shown_day,
                                            on_select=lambda _e, d=d: (set_day(d), set_chosen(None))))
        for d, times in days], spacing=8, scroll=ft.ScrollMode.AUTO)]  # three weeks of days: one swipeable row
    times = dict(days)[shown_day]
    items += [ft.Text(_(WHICH_TIME), weight=ft.FontWeight.W_600), ft.Row([
        button(f"time-{_slug(local_time(t, tz))}", local_time(t, tz), lambda _e=None, t=t: set_chosen(t),
               kind="filled" if t == chosen else "outlined", height=44) for t in times],
        wrap=True, spacing=8, run_spacing=8)]
    if chosen is not None and chosen in times:
        end = chosen.timestamp() + service.minutes * 60
        facts: list[ft.Control] = [
            ft.Text(service.name, size=18, weight=ft.FontWeight.W_600),
            ft.Text(f"{long_date(chosen.astimezone(tz).date())}, {local_time(chosen, tz)}–"
                    f"{local_time(datetime.fromtimestamp(end, chosen.tzinfo), tz)}", size=15),
            muted(day_and_time(chosen, tz, now)),
        ]
        if service.prep:
            facts.append(ft.Text(_(TO_PREPARE), weight=ft.FontWeight.W_600))
            facts.extend(muted(f"• {p.title}" + (f" ({before_text(p.before_minutes)})" if p.before_minutes else ""))
                         for p in service.prep)
        facts.append(button("book-confirm", _(CONFIRM), lambda: act(_book, state, service.id, chosen), icon="CHECK"))
        items.append(card(facts, identifier="booking-confirm", tone="calm"))
    return screen(state, items)


def _book(state: AppState, service_id: str, start: datetime) -> None:
    appointment_id = state.booking.book(service_id, start)
    if appointment_id is not None:
        state.nav.go("appointment", appointment_id)


def _rebook(state: AppState, entry_id: str, start: datetime) -> None:
    appointment_id = state.booking.rebook(entry_id, start)
    if appointment_id is not None:
        state.nav.go("appointment", appointment_id)


def taken_cards(state: AppState) -> list[ft.Control]:
    """One card per booking the clinic refused because the time was just taken, with the times to take instead."""
    tz, now = state.services.tz, state.now()
    cards: list[ft.Control] = []
    for entry in state.booking.taken():
        offers = state.booking.offers(entry)
        wanted = datetime.fromisoformat(str(entry.payload["start"]).replace("Z", "+00:00"))
        title = _(TAKEN if len(offers) == 3 else TAKEN_FEWER if offers else TAKEN_NONE)
        cards.append(card([
            ft.Text(title, weight=ft.FontWeight.W_600),
            muted(_(YOU_CHOSE) % {"when": day_and_time(wanted, tz, now)}),
            ft.Row([button(f"offer-{i}", day_and_time(t, tz, now), handler(_rebook, state, entry.id, t),
                           kind="tonal", height=44) for i, t in enumerate(offers)], wrap=True, spacing=8,
                   run_spacing=8),
            button(f"dismiss-{entry.id}", _(DISMISS), handler(state.booking.dismiss, entry.id), kind="text"),
        ], identifier="slot-taken", tone="warn"))
    return cards
