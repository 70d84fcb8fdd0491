"""Home: the next appointment with its countdown and prep, unread messages, balance due, new results,
clinic contact and urgent help. The sync chip sits above every screen (see :mod:`.shell`)."""

from __future__ import annotations

import flet as ft

from ..i18n import _, ngettext
from ..state import AppState, Route
from ..state.formatting import money, short_date
from ..ui.kit import memo, use_observable
from .common import (
    appointment_summary,
    button,
    card,
    clinic_contact,
    feedback,
    muted,
    prep_row,
    screen,
    tid,
    title,
    urgent_help,
)

__all__ = ["HomeScreen"]


def _tile(identifier: str, glyph: ft.IconData, headline: str, detail: str, route: str, state: AppState,
          highlight: bool) -> ft.Control:
    box = ft.Container(
        ft.Column([ft.Icon(glyph, color=ft.Colors.PRIMARY), ft.Text(headline, size=16, weight=ft.FontWeight.W_600),
                   ft.Text(detail, size=13, color=ft.Colors.ON_SURFACE_VARIANT)], spacing=4, tight=True),
        padding=12, border_radius=16, expand=True, on_click=lambda: state.nav.go(route), ink=True,
        bgcolor=ft.Colors.PRIMARY_CONTAINER if highlight else ft.Colors.SURFACE_CONTAINER_LOW,
    )
    tile = tid(identifier, box, label=f"{headline}, {detail}")
    # the row's child is the semantics wrapper: it takes the third of the row, so a longer word
    # (a language's "due Thu 31 Jan") wraps inside the tile instead of pushing it off the screen
    tile.expand = True
    return tile


def _next_appointment(state: AppState) -> list[ft.Control]:
    snap = state.records.snapshot
    appt = snap.next_appointment
    if appt is None:
        return [card([ft.Text(_("No upcoming visits"), size=16, weight=ft.FontWeight.W_500),
                      muted(_("Need a test or a chat with the clinic? Ask for a visit.")),
                      button("home-request", _("Ask for a visit"), lambda: state.nav.go("request"),
                             kind="tonal", icon="ADD")], identifier="next-appointment")]
    out = [muted(_("Next visit"), 13), appointment_summary(state, appt, identifier="next-appointment")]
    steps = snap.prep_for(appt.id)
    if steps:
        left = sum(1 for s in steps if s.done_at is None)
        todo = ngettext("%(n)s to do", "%(n)s to do", left) % {"n": left} if left else _("all done")
        out.append(card([ft.Text(_("Before your visit") + " · " + todo,
                                 weight=ft.FontWeight.W_600),
                         *[prep_row(state, s, appt) for s in steps[:4]],
                         *([button("home-all-prep", _("All %(n)s steps") % {"n": len(steps)},
                                   lambda: state.nav.go("prep"), kind="text")] if len(steps) > 4 else [])],
                        identifier="home-prep"))
    return out


@ft.component
def RevokedNotice(state: AppState) -> ft.Control:
    """The clinic disconnected this device: its own component, as it follows the sync status."""
    use_observable(state.sync)
    st = state.sync.status
    if st.state != "revoked" or st.paired:
        return ft.Container()
    return ft.Container(card([ft.Text(_("This device was disconnected by the clinic."), weight=ft.FontWeight.W_600),
                 muted(_("Your clinic records were removed from it. Ask the clinic for a new pairing "
                         "code to connect again.")),
                 button("pair-again", _("Connect again"), lambda: state.nav.go("settings"), kind="tonal")],
                identifier="revoked", tone="warn"), padding=ft.Padding.only(top=14))  # the screen's spacing


_revoked_notice = memo(RevokedNotice)


@ft.component
def HomeScreen(state: AppState, route: Route, frame_width: float | None) -> ft.Control:
    """Renders when the records change (or the route or layout: ``route`` and ``frame_width``)."""
    use_observable(state.records)
    snap = state.records.snapshot
    name = (snap.profile.name.split()[0] if snap.profile and snap.profile.name.strip() else "")
    unread, new = snap.unread, len(snap.new_results)
    due = snap.next_due
    # the notice shares the feedback strip's slot: an empty slot of its own would add a gap
    items: list[ft.Control] = [title(_("Hello, %(name)s") % {"name": name} if name else _("Hello"), 26),
                               ft.Column([*feedback(state), _revoked_notice(state)], spacing=0, tight=True,
                                         horizontal_alignment=ft.CrossAxisAlignment.STRETCH)]
    items.extend(_next_appointment(state))
    items.append(ft.Row([
        _tile("tile-messages", ft.Icons.CHAT_BUBBLE_OUTLINE,
              _("%(n)s unread") % {"n": unread} if unread else _("Messages"),
              _("from the clinic") if unread else _("No new messages"), "messages", state, unread > 0),
        _tile("tile-results", ft.Icons.ASSIGNMENT_OUTLINED,
              ngettext("%(n)s new", "%(n)s new", new) % {"n": new} if new else _("Results"),
              _("results to read") if new else _("Nothing new"), "results", state, new > 0),
        _tile("tile-bills", ft.Icons.RECEIPT_LONG_OUTLINED, money(snap.balance_cents) if snap.balance_cents
              else _("Bills"), _("due %(date)s") % {"date": short_date(due)} if due else _("Nothing to pay"), "bills",
              state, snap.balance_cents > 0),
    ], spacing=10, vertical_alignment=ft.CrossAxisAlignment.START))
    items.extend([clinic_contact(state), urgent_help(state)])
    return screen(state, items)
