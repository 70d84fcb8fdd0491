"""Tell partners anonymously: choose the infection (prefilled from a positive result) and how many
partners, make one link each, and share every link from the phone's own share sheet or copy it.
Nothing is sent to partners by the app or the clinic. Patient-facing words are the constants below, marked
for the catalog and translated where they are shown."""

from __future__ import annotations

from typing import Any

import flet as ft

from ..i18n import N_, _, ngettext
from ..state import AppState, Route
from ..state.formatting import ago
from ..state.partner import NoticeLink
from ..ui.kit import act, use_observable
from .common import button, card, feedback, header, muted, screen, tid

__all__ = ["PartnerScreen"]

TITLE = N_("Tell partners anonymously")
INTRO = N_("Each partner gets their own link. It says what to test for and lets them book a free, confidential "
           "test. It never says who sent it, and the clinic does not know who you told.")
WHAT = N_("What is it about?")
HOW_MANY = N_("How many partners?")
YOUR_LINKS = N_("Your links")
READY = N_("Ready to share · made %(when)s")
WAITING = N_("Works after the next sync · made %(when)s")
SHARE = N_("Share")
COPY = N_("Copy")
COPIED = N_("Link copied. Paste it into a message to one partner.")
HOW_SENT = N_("You send each link yourself (text, WhatsApp, email). The app sends nothing and keeps no contacts.")
SHARE_SUBJECT = N_("A health message for you")
MAX_SHOWN = 10
# The infections a notice can be about (companion/core/partner_notice.py, whose names are the
# partner page's English), as the patient reads them in the app.
INFECTION_NAMES = {"chlamydia": N_("Chlamydia"), "gonorrhoea": N_("Gonorrhoea"), "syphilis": N_("Syphilis"),
                   "hiv": N_("HIV"), "trichomoniasis": N_("Trichomoniasis"), "mgen": N_("Mycoplasma genitalium"),
                   "hepatitis_b": N_("Hepatitis B")}


def _infection_name(key: str, name: str) -> str:
    return _(INFECTION_NAMES[key]) if key in INFECTION_NAMES else name[:1].upper() + name[1:]


def _make_label(count: int) -> str:
    return ngettext("Make %(n)s link", "Make %(n)s links", count) % {"n": count}


@ft.component
def PartnerScreen(state: AppState, route: Route, frame_width: float | None) -> ft.Control:
    """``route.arg`` may name the result it comes from (prefills the infection and counts against it)."""
    use_observable(state.records)
    prefilled = state.partner.prefill(route.arg)
    infection, set_infection = ft.use_state(prefilled or "")
    count, set_count = ft.use_state(1)
    items: list[ft.Control] = [header(state, _(TITLE), back=True), muted(_(INTRO)),
                               ft.Text(_(WHAT), weight=ft.FontWeight.W_600), ft.Row([
        tid(f"infection-{i.key}", ft.Chip(label=ft.Text(_infection_name(i.key, i.name)), selected=i.key == infection,
                                          on_select=lambda _e, k=i.key: set_infection(k)))
        for i in state.partner.infections()], wrap=True, spacing=8, run_spacing=8),
        ft.Text(_(HOW_MANY), weight=ft.FontWeight.W_600), ft.Row([
            button("partners-fewer", "−", lambda: set_count(max(1, count - 1)), kind="outlined", height=44),
            tid("partners-count", ft.Text(str(count), size=20, weight=ft.FontWeight.W_600)),
            button("partners-more", "+", lambda: set_count(min(10, count + 1)), kind="outlined", height=44)],
            spacing=12, vertical_alignment=ft.CrossAxisAlignment.CENTER),
        *feedback(state),
        button("make-links", _make_label(count),
               lambda: act(state.partner.make, infection, count, route.arg), icon="LINK", disabled=not infection),
        muted(_(HOW_SENT), 13)]
    links = state.partner.links()
    if links:
        items.append(ft.Text(_(YOUR_LINKS), size=18, weight=ft.FontWeight.W_600))
        items.extend(_link_card(state, link, i) for i, link in enumerate(links[:MAX_SHOWN]))
    return screen(state, items)


def _link_card(state: AppState, link: NoticeLink, index: int) -> ft.Control:
    when = ago(link.made_at, state.now())
    text = state.partner.message(link)

    async def share(*_e: Any) -> None:
        await ft.Share().share_text(text, subject=_(SHARE_SUBJECT))

    async def copy(*_e: Any) -> None:
        await ft.Clipboard().set(link.url)
        state.feedback.toast = _(COPIED)
        state.feedback.notify()

    return card([
        ft.Text(_infection_name(link.infection.key, link.infection.name), weight=ft.FontWeight.W_600),
        ft.Text(link.url, size=14),  # read aloud with the card; Copy takes it whole
        muted(_(READY if link.ready else WAITING) % {"when": when}, 13),
        ft.Row([button(f"share-{index}", _(SHARE), share, icon="SHARE", disabled=not link.ready),
                button(f"copy-{index}", _(COPY), copy, kind="outlined", icon="CONTENT_COPY", disabled=not link.ready)],
               wrap=True, spacing=8)], identifier=f"notice-link-{index}")

