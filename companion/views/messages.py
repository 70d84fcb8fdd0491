"""Messages: threads with the clinic, unread state, compose (queued while offline until acknowledged),
and messages from the front desk appearing live."""

from __future__ import annotations

from collections.abc import Callable

import flet as ft

from ..core.models import Message
from ..core.protocol import bill_of_thread
from ..core.references import bill_reference
from ..i18n import N_, _, ngettext
from ..state import AppState, Route
from ..state.formatting import day_and_time, long_date, money
from ..state.snapshot import thread_title
from ..ui.kit import act, use_observable
from .common import body_width, button, card, empty_note, feedback, field, header, muted, screen, shown_text, tid

__all__ = ["MessagesScreen", "ThreadScreen"]

SHOWN = 60  # newest messages shown in a thread
AT_NEWEST = 48.0  # px from the end of the thread that still count as "reading the newest message"
STATES = {"queued": N_("queued"), "not sent": N_("not sent")}  # a message of the patient's not yet at the clinic
NOT_FOR_EMERGENCIES = N_("Messages are not for emergencies. The clinic replies in opening hours.")


@ft.component
def MessagesScreen(state: AppState, route: Route, frame_width: float | None) -> ft.Control:
    """Renders when the records change (a message came or went out), never for the sync status alone."""
    use_observable(state.records)
    snap = state.records.snapshot
    items: list[ft.Control] = [
        header(state, _("Messages"), actions=[button("new-message", _("New"), lambda: state.nav.go("thread", "general"),
                                                  kind="tonal", icon="EDIT")]),
        *feedback(state), muted(_(NOT_FOR_EMERGENCIES), 13)]
    if not snap.threads:
        items.append(empty_note(_("No messages yet. Write to the clinic team any time."), "no-messages"))
    for t in snap.threads:
        last = t.last
        preview = (last.body[:90] + ("…" if len(last.body) > 90 else "")) if last else ""
        when = day_and_time(last.sent_at, state.services.tz, state.now()) if last else ""
        badge = [ft.Container(ft.Text(str(t.unread), size=12, color=ft.Colors.ON_PRIMARY),
                              bgcolor=ft.Colors.PRIMARY, border_radius=10,
                              padding=ft.Padding.symmetric(horizontal=8, vertical=2))] if t.unread else []
        items.append(card([ft.Row([ft.Text(t.title, weight=ft.FontWeight.W_700 if t.unread else ft.FontWeight.W_600,
                                           expand=True), muted(when, 12), *badge]),
                           ft.Text(preview, size=14, max_lines=2)],
                          identifier=f"thread-{t.key}",
                          on_click=lambda _e, k=t.key: act(state.messages.open_thread, k)))
    return screen(state, items)


def _bubble(state: AppState, m: Message) -> ft.Control:
    mine = m.author == "patient"
    status = state.records.snapshot.message_state(m) if mine else None
    meta = day_and_time(m.sent_at, state.services.tz, state.now())
    if not mine and m.author_name:
        meta = f"{m.author_name} · {meta}"
    if status == "queued":
        meta += " · " + _("queued, sends when online")
    elif status == "not sent":
        meta += " · " + _("not sent")
    bubble = ft.Container(
        ft.Column([ft.Text(m.body, selectable=True, size=15), muted(meta, 12)], spacing=4, tight=True),
        bgcolor=ft.Colors.PRIMARY_CONTAINER if mine else ft.Colors.SURFACE_CONTAINER_HIGH,
        padding=12, border_radius=16,
    )
    who = _("You") if mine else _("Clinic")
    label = f"{who}: {m.body}" + (f" ({_(STATES[status])})" if status in STATES else "")
    # A column, not a row: a row lets its child be as wide as its text (a long message ran off the
    # right edge); a column hands the bubble the thread's width, so the text wraps inside it and a
    # short message keeps a short bubble on its side.
    return tid(f"msg-{m.id}", ft.Container(
        ft.Column([tid(f"msg-body-{m.id}", bubble)], tight=True,
                  horizontal_alignment=ft.CrossAxisAlignment.END if mine else ft.CrossAxisAlignment.START),
        padding=ft.Padding.only(left=48 if mine else 0, right=0 if mine else 48)), label=label)


class _Place:
    """Where the patient is in one thread's scroll: at the newest message or reading back.

    Only the patient's own scrolling (between Flutter's user-scroll notifications: a drag, a fling,
    the wheel) can take them away from the newest; any scroll that ends near the end (theirs, or
    ``auto_scroll`` moving there) brings them back. A resize or a message growing the thread moves
    no one. Their own new message always brings them to the newest."""

    def __init__(self, thread: str) -> None:
        self.thread, self.at_end, self.scrolling, self.newest = thread, True, False, ""

    def scrolled(self, e: ft.OnScrollEvent) -> None:
        near_end = e.pixels >= e.max_scroll_extent - AT_NEWEST
        if e.event_type == ft.ScrollType.USER:
            self.scrolling = e.direction not in (None, ft.ScrollDirection.IDLE)
            self.at_end = near_end
        elif near_end:
            self.at_end = True
        elif self.scrolling:
            self.at_end = False


def _follows_newest(thread: str, newest: Message | None) -> tuple[bool, Callable[[ft.OnScrollEvent], None]]:
    """Whether the conversation should follow new messages (``auto_scroll``, which moves a scrolling
    column to its end whenever its content changes), and its scroll handler (see :class:`_Place`).
    Kept in a ref: scrolling renders nothing; another thread opens at its newest."""
    place: ft.MutableRef[_Place] = ft.use_ref(_Place(thread))
    if place.current is None or place.current.thread != thread:
        place.current = _Place(thread)
    here = place.current
    if newest is not None and newest.id != here.newest:
        if here.newest and newest.author == "patient":  # what they just sent is shown
            here.at_end = True
        here.newest = newest.id
    return here.at_end, here.scrolled


@ft.component
def ThreadScreen(state: AppState, route: Route, frame_width: float | None) -> ft.Control:
    """Renders when the records change; the composer's field is its own component and keeps its text.

    The conversation scrolls between the title and the composer, which stays at the bottom; it opens
    at the newest message and follows new ones while the patient is at the newest; scrolled up to
    read earlier ones, a message that arrives moves nothing (see :func:`_follows_newest`).
    A message from the clinic shown here is read: those that arrive while it is open too."""
    use_observable(state.records)
    key = route.arg or "general"
    thread = state.records.snapshot.thread(key)
    title = thread_title(key)
    draft_key = f"compose.{key}"
    unread = tuple(m.id for m in thread.messages if m.author == "clinic" and m.read_at is None) if thread else ()

    def mark_read() -> None:
        if unread:
            act(state.messages.mark_read, key)

    ft.use_effect(mark_read, [unread])

    def send() -> None:
        act(state.messages.send, shown_text(state, draft_key), key)

    said: list[ft.Control] = []
    about = bill_of_thread(key)
    bill = state.records.snapshot.bill(about) if about else None
    if bill is not None:  # a bill's conversation starts with the bill it is about
        said.append(tid("thread-about-bill", muted(
            _("About bill %(reference)s · %(amount)s · due %(date)s") % {
                "reference": bill_reference(bill.id), "amount": money(bill.patient_cents), "date": long_date(bill.due)},
            13)))
    if thread is None or not thread.messages:
        said.append(empty_note(_("Write your first message below."), "thread-empty"))
    else:
        if len(thread.messages) > SHOWN:
            hidden = len(thread.messages) - SHOWN
            said.append(muted(ngettext("%(n)s earlier message not shown", "%(n)s earlier messages not shown", hidden)
                              % {"n": hidden}, 12))
        said.extend(_bubble(state, m) for m in thread.messages[-SHOWN:])
    # The conversation is one child of the screen, however long: a message that arrives never moves
    # the composer to another place among the screen's children, where Flutter would build it anew.
    # The container takes the room the title and the composer leave (an expand inside Semantics would not).
    following, scrolled = _follows_newest(key, thread.messages[-1] if thread and thread.messages else None)
    conversation = ft.Container(tid("thread-messages", ft.Column(
        said, spacing=14, scroll=ft.ScrollMode.AUTO, auto_scroll=following, on_scroll=scrolled,
        horizontal_alignment=ft.CrossAxisAlignment.STRETCH)), expand=True)
    composer = card([ft.Row([ft.Container(field(state, draft_key, _("Write a message"), multiline=True,
                                                identifier="compose", min_lines=1, max_lines=4), expand=True),
                             button("send", _("Send"), send, icon="SEND")], spacing=8,
                            vertical_alignment=ft.CrossAxisAlignment.END),
                     muted(_(NOT_FOR_EMERGENCIES), 12)], identifier="composer")
    body = ft.Column([header(state, title, back=True), conversation, *feedback(state), composer], spacing=10,
                     expand=True, horizontal_alignment=ft.CrossAxisAlignment.STRETCH)
    width = body_width(state)
    frame = ft.Container(body, width=width, padding=ft.Padding.all(16), expand=width is None)
    return ft.Row([frame], alignment=ft.MainAxisAlignment.CENTER, vertical_alignment=ft.CrossAxisAlignment.STRETCH,
                  expand=True)
