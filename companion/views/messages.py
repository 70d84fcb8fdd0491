"""Messages: threads with the clinic, unread state, compose (queued while offline until acknowledged),
and messages from the front desk appearing live."""

from __future__ import annotations

import flet as ft

from ..core.models import Message
from ..state import AppState, Route
from ..state.formatting import day_and_time
from ..state.snapshot import THREAD_TITLES
from ..ui.kit import act, use_observable
from .common import button, card, empty_note, feedback, field, header, muted, screen, shown_text, tid

__all__ = ["MessagesScreen", "ThreadScreen"]

SHOWN = 60  # newest messages shown in a thread
NOT_FOR_EMERGENCIES = "Messages are not for emergencies. The clinic replies in opening hours."


@ft.component
def MessagesScreen(state: AppState, route: Route, frame_width: float | None) -> ft.Control:
    """Renders when the records change (a message came or went out), never for the sync status alone."""
    use_observable(state.records)
    snap = state.records.snapshot
    items: list[ft.Control] = [
        header(state, "Messages", actions=[button("new-message", "New", lambda: state.nav.go("thread", "general"),
                                                  kind="tonal", icon="EDIT")]),
        *feedback(state), muted(NOT_FOR_EMERGENCIES, 13)]
    if not snap.threads:
        items.append(empty_note("No messages yet. Write to the clinic team any time.", "no-messages"))
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
        meta += " · queued, sends when online"
    elif status == "not sent":
        meta += " · not sent"
    bubble = ft.Container(
        ft.Column([ft.Text(m.body, selectable=True, size=15), muted(meta, 12)], spacing=4, tight=True),
        bgcolor=ft.Colors.PRIMARY_CONTAINER if mine else ft.Colors.SURFACE_CONTAINER_HIGH,
        padding=12, border_radius=16, margin=ft.Margin.only(left=48 if mine else 0, right=0 if mine else 48),
    )
    label = f"{'You' if mine else 'Clinic'}: {m.body}" + (f" ({status})" if status and status != "sent" else "")
    return tid(f"msg-{m.id}", ft.Row([bubble], alignment=ft.MainAxisAlignment.END if mine else
                                     ft.MainAxisAlignment.START), label=label)


@ft.component
def ThreadScreen(state: AppState, route: Route, frame_width: float | None) -> ft.Control:
    """Renders when the records change; the composer's field is its own component and keeps its text."""
    use_observable(state.records)
    key = route.arg or "general"
    thread = state.records.snapshot.thread(key)
    title = THREAD_TITLES.get(key, key.title())
    draft_key = f"compose.{key}"

    def send() -> None:
        act(state.messages.send, shown_text(state, draft_key), key)

    said: list[ft.Control] = []
    if thread is None or not thread.messages:
        said.append(empty_note("Write your first message below.", "thread-empty"))
    else:
        if len(thread.messages) > SHOWN:
            said.append(muted(f"{len(thread.messages) - SHOWN} earlier messages not shown", 12))
        said.extend(_bubble(state, m) for m in thread.messages[-SHOWN:])
    # The conversation is one child of the screen, however long: a message that arrives never moves
    # the composer to another place among the screen's children, where Flutter would build it anew.
    items: list[ft.Control] = [header(state, title, back=True),
                               ft.Column(said, spacing=14, horizontal_alignment=ft.CrossAxisAlignment.STRETCH),
                               *feedback(state)]
    items.append(card([field(state, draft_key, "Write a message", multiline=True, identifier="compose"),
                       muted(NOT_FOR_EMERGENCIES, 12),
                       button("send", "Send", send, icon="SEND")], identifier="composer"))
    return screen(state, items)
