"""The app in Spanish in real Chromium, as a patient whose phone speaks Spanish reads it: the device's
locale chooses the language from the first screen on, every screen at phone size is photographed into
build/screenshots (``es-*``), and no screen shows a word of the app's English — only what the clinic
itself wrote (a visit's kind, a message) stays as written. Settings switches to English and back."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from babel.messages.pofile import read_po

from companion.i18n.catalog import locale_dir
from tests.app.test_app_browser import _go, _resize
from tests.fixtures.app_state import PASSCODE, Clinic, seed_clinic
from tests.fixtures.browser import SHOTS, by_id, fill, onboard, open_app, painted, seen
from tests.support.server_harness import ServerProcess

pytestmark = pytest.mark.browser

# What the clinic typed (tests/fixtures/app_state.seed_clinic): shown as written, in any language.
CLINIC_WORDS = ("Clinic visit", "Welcome to Companion!", "Stop eating 12 h before",
                "Don't urinate in the hour before", "Water is fine.", "Riverside Clinic, Room 4", "Nurse Sam Okafor",
                "Photo ID and your insurance card", "HIV-1/2 Ag/Ab", "Alex Rivera", "Riverside Clinic",
                "Riverside Sexual Health Clinic", "Companion on Linux", "Chlamydia trachomatis NAAT")
# Every text and spoken label of the semantics tree (field contents excluded).
TEXTS = """() => {
  const host = document.querySelector('flt-semantics-host') || document.body, out = [];
  const walk = document.createTreeWalker(host, NodeFilter.SHOW_TEXT);
  while (walk.nextNode()) { const t = walk.currentNode.textContent.trim(); if (t) out.push(t); }
  host.querySelectorAll('[aria-label]').forEach(e => out.push(e.getAttribute('aria-label')));
  return out;
}"""


def _english() -> tuple[set[str], set[str]]:
    """The app's English that Spanish says otherwise: phrases (two words or more, looked for anywhere,
    placeholders as gaps) and single words (looked for as a whole text)."""
    with open(locale_dir() / "es" / "LC_MESSAGES" / "companion.po", "rb") as f:
        catalog = read_po(f, locale="es")
    phrases, words = set(), set()
    for m in catalog:
        ids = [m.id] if isinstance(m.id, str) else list(m.id)
        assert m.string is not None, m.id
        strings = [m.string] if isinstance(m.string, str) else list(m.string)
        for msgid in ids:
            if not msgid or msgid in strings or "\n" in msgid:
                continue
            for part in re.split(r"%\(\w+\)s", msgid):
                part = part.strip(" ·,:().—")
                if " " in part and len(part) >= 8:
                    phrases.add(part)
                elif len(part) >= 4 and part.isalpha() and part[0].isupper():
                    words.add(part)
    return phrases, words


PHRASES, WORDS = _english()


def _no_english(page: Any, screen: str) -> list[str]:
    """The texts on screen; fails naming the screen and the English found on it."""
    painted(page, 3)
    texts: list[str] = page.locator("html").evaluate(TEXTS)
    found = []
    for text in texts:
        rest = text
        for data in CLINIC_WORDS:
            rest = rest.replace(data, "")
        found += [p for p in PHRASES if p in rest]
        found += [w for w in WORDS if re.search(rf"(^|[\s,.·]){re.escape(w)}($|[\s,.·:])", rest)]
        found += re.findall(r"\bTab \d+ of \d+", rest)  # Flutter's own words follow the app's locale too
    assert not found, f"{screen}: English on a Spanish screen: {sorted(set(found))[:8]} in {json.dumps(texts)[:600]}"
    return texts


def _shot(page: Any, name: str) -> list[str]:
    texts = _no_english(page, name)
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"es-{name}-phone.png"))
    return texts


def _in_card(page: Any, card: str, text: str) -> None:
    """``text`` shows inside the card ``card``, beside its buttons."""
    box = by_id(page, card)
    box.get_by_text(text, exact=False).or_(box.get_by_label(text, exact=False)).first.wait_for(timeout=15_000)


def _picker_ok(page: Any) -> Any:
    """The open picker's OK button, in Flutter's own Spanish (its words follow the app's locale)."""
    return page.get_by_role("button", name=re.compile(r"^aceptar$", re.I))


def _prevention_in_spanish(page: Any) -> None:
    """PrEP and doxy-PEP as a Spanish-speaking patient uses them: the pickers' quick choices, the
    dial's heading and its buttons in Spanish (Flutter's own words too), counts read "2 pastillas",
    every toast and refusal is Spanish, and the two Learn articles it links to read in Spanish."""
    _go(page, "Más")
    by_id(page, "more-prevention").click()
    by_id(page, "prep-reminders").wait_for()
    texts = _shot(page, "prevention")
    assert any(t.startswith("PrEP y doxy-PEP, solo para usted") for t in texts)
    by_id(page, "prep-mode-daily").click()
    by_id(page, "prep-daily-status").wait_for()
    seen(page, "Todos los días a las 09:00.")
    _shot(page, "prevention-daily")
    by_id(page, "prep-daily-time").click()
    _picker_ok(page).wait_for()
    seen(page, "Recordatorio diario a las")  # the dial's heading
    painted(page, 30)  # the dialog fades in over some frames
    _no_english(page, "prevention time picker")
    page.screenshot(path=str(SHOTS / "es-prevention-time-picker-phone.png"))
    page.keyboard.press("Escape")
    _picker_ok(page).wait_for(state="detached")

    by_id(page, "prep-mode-event").click()
    by_id(page, "prep-event-tomorrow").wait_for()
    by_id(page, "prep-event-tomorrow").click()
    _picker_ok(page).wait_for()
    seen(page, "Cuándo espera tener relaciones, ")  # the heading names the day: "…, jue 3 de dic"
    _picker_ok(page).click()  # the dial opens on 21:00
    _in_card(page, "prep-reminders", "Dosis planeadas")
    for i in range(3):
        by_id(page, f"prep-dose-{i}").wait_for()
    seen(page, ": 2 pastillas")  # the course starts with two: a count in Spanish, by ngettext
    seen(page, "Relaciones previstas · Mañana, 21:00")
    _shot(page, "prevention-event")

    page.mouse.move(195, 400)
    page.mouse.wheel(0, 1500)
    by_id(page, "doxy-dose-log").click()  # "Ahora mismo", with no sex logged: refused
    _in_card(page, "doxy-log", "Doxy-PEP: primero anote cuándo tuvo relaciones")
    by_id(page, "doxy-sex-yesterday").click()
    _picker_ok(page).wait_for()
    seen(page, "Cuándo tuvo relaciones, ")
    _picker_ok(page).click()  # yesterday, at the time the dial opens on (now's)
    _in_card(page, "doxy-log", "Anotado. Tome su dosis lo antes posible, a más tardar")
    seen(page, "Relaciones sexuales · Ayer, ")
    _shot(page, "prevention-doxy")
    by_id(page, "doxy-dose-log").click()
    _in_card(page, "doxy-log", "Dosis anotada.")
    by_id(page, "doxy-dose-log").click()
    _in_card(page, "doxy-log", "Doxy-PEP: solo una dosis en 24 horas")
    _shot(page, "prevention-doxy-refused")

    by_id(page, "doxy-about").click()
    by_id(page, "article-body").wait_for()
    assert any("Doxy-PEP: el antibiótico del día después" in t for t in _shot(page, "article-doxy-pep"))
    by_id(page, "back").click()
    by_id(page, "prep-missed-dose").wait_for()
    by_id(page, "prep-missed-dose").click()
    by_id(page, "article-body").wait_for()
    assert any("PrEP: si olvida una dosis" in t for t in _shot(page, "article-prep-missed-dose"))
    by_id(page, "back").click()
    by_id(page, "prep-reminders").wait_for()


def test_every_screen_in_spanish_at_phone_size(new_page: Callable[..., Any], start_app: Callable[..., Any],
                                               clinic: Clinic, tmp_path: Path) -> None:
    app = start_app(tmp_path / "vault", COMPANION_SYNC_WAIT="5", LANGUAGE="es_US.UTF-8", LANG="es_US.UTF-8")
    page = new_page(390, 844)
    open_app(page, app.url)
    seen(page, "Bienvenido/a")
    assert "Bienvenido/a" in _shot(page, "onboarding")
    onboard(page, app.url, PASSCODE, clinic.server.base_url, clinic.code())
    seen(page, "Próxima cita")
    texts = _shot(page, "home")
    assert any(t.startswith("Hola, Alex") for t in texts) and any("Ayuda urgente" in t for t in texts)

    _go(page, "Citas")
    by_id(page, f"appt-{clinic.appointment_id}").wait_for()
    _shot(page, "visits")
    by_id(page, f"appt-{clinic.appointment_id}").click()
    by_id(page, "appointment-facts").wait_for()
    texts = _shot(page, "visit")
    shown = "\n".join(texts)
    assert "Qué traer" in shown and "Chequeo de ETS" in shown  # one of the app's own kinds reads in Spanish
    by_id(page, "back").click()
    by_id(page, "request-appointment").click()
    by_id(page, "send-request").wait_for()
    texts = _shot(page, "request")
    shown = "\n".join(texts)
    assert "Chequeo de ETS" in shown and "lun" in shown  # the kinds in Spanish, Babel's day names
    by_id(page, "back").click()
    by_id(page, "request-appointment").wait_for()

    _go(page, "Resultados")
    by_id(page, f"result-{clinic.result_id}").wait_for()
    assert any("Resultado protegido" in t for t in _shot(page, "results"))
    by_id(page, f"result-{clinic.result_id}").click()
    by_id(page, "result-protected").wait_for()
    _shot(page, "result-protected")
    fill(page, "reveal-passcode", PASSCODE)
    by_id(page, "reveal").click()
    by_id(page, "interpretation").wait_for(timeout=15_000)
    assert any("No detectado (negativo)" in t for t in _shot(page, "result"))

    _go(page, "Mensajes")
    by_id(page, "thread-general").wait_for()
    _shot(page, "messages")
    by_id(page, "thread-general").click()
    by_id(page, "composer").wait_for()
    _shot(page, "thread")
    by_id(page, "back").click()

    for route, ready, name in (("bills", "balance", "bills"), ("prep", None, "preparation"),
                               ("learn", "article-window-periods", "learn"),
                               ("settings", "settings-device", "settings")):
        _go(page, "Más")
        by_id(page, f"more-{route}").click()
        if ready:
            by_id(page, ready).wait_for()
        else:
            page.locator("[flt-semantics-identifier^='prep-card-']").first.wait_for()
        _shot(page, name)
        if route == "bills":
            page.locator("[flt-semantics-identifier^='bill-']").first.click()
            by_id(page, "how-to-pay").wait_for()
            _shot(page, "bill")
        if route == "learn":
            by_id(page, "article-window-periods").click()
            by_id(page, "article-body").wait_for()
            _shot(page, "article")
        if route == "settings":
            page.mouse.move(195, 400)
            page.mouse.wheel(0, 900)
            _shot(page, "settings-language")
            page.mouse.wheel(0, 2000)
            _shot(page, "settings-device")
    _prevention_in_spanish(page)
    _go(page, "Más")
    by_id(page, "more-lock").wait_for()
    _shot(page, "more")

    # the same app at desktop width: the rail's destinations in Spanish
    _resize(page, 1280, 800)
    for label, ready, name in (("Inicio", "next-appointment", "home"), ("Facturas", "balance", "bills"),
                               ("Prevención", "doxy-log", "prevention"),
                               ("Aprender", "article-window-periods", "learn"), ("Ajustes", "settings-device",
                                                                                 "settings")):
        page.get_by_role("button", name=label).first.click()
        by_id(page, ready).wait_for()
        _no_english(page, f"{name} (desktop)")
        page.screenshot(path=str(SHOTS / f"es-{name}-desktop.png"))
    _resize(page, 390, 844)

    # Settings: English, then Spanish again; the navigation follows at once
    _go(page, "Más")
    by_id(page, "more-settings").click()
    by_id(page, "language-en").click()
    page.get_by_role("tab", name="Visits").wait_for(timeout=10_000)
    by_id(page, "language-es").click()
    page.get_by_role("tab", name="Citas").wait_for(timeout=10_000)
    by_id(page, "lock-now").click()
    by_id(page, "passcode").wait_for()
    assert any("Companion está bloqueada" in t for t in _shot(page, "lock"))
    page.close()


ALL_DAY = [{"day": d, "opens": "00:00", "closes": "24:00", "resource": "Sala 2"}
           for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")]


def test_booking_and_telling_partners_in_spanish(new_page: Callable[..., Any], start_app: Callable[..., Any],
                                                 desk_server: ServerProcess, tmp_path: Path) -> None:
    """The screens merged with self-booking and partner notices, as a Spanish-speaking patient reads
    them: Book a visit (service, day, time, the confirmation card), the visit waiting as "Reservando…",
    Tell partners anonymously from a positive result (prefilled, one link each, counts by ngettext)."""
    made = desk_server.staff.request("POST", "/v1/staff/services", json={
        "name": "Chequeo rápido", "minutes": 15, "hours": ALL_DAY})  # the clinic's own words, as it typed them
    assert made.status_code == 201, made.text
    service = made.json()
    patient = seed_clinic(desk_server, sensitive_result=False)
    positive = desk_server.staff.add_result(patient.patient_id, test="Chlamydia trachomatis NAAT",
                                            interpretation="positive")
    desk_server.staff.release_result(positive["id"])
    app = start_app(tmp_path / "vault", COMPANION_SYNC_WAIT="3", LANGUAGE="es_US.UTF-8", LANG="es_US.UTF-8")
    page = new_page(390, 844)
    onboard(page, app.url, PASSCODE, desk_server.base_url, patient.code())
    seen(page, "Próxima cita")

    _go(page, "Citas")
    by_id(page, "book-appointment").click()
    by_id(page, f"service-{service['id']}").wait_for()
    assert any("Chequeo rápido · 15 min" in t for t in _shot(page, "book"))
    page.locator("[flt-semantics-identifier^='time-']").first.click()
    by_id(page, "booking-confirm").wait_for(timeout=10_000)
    texts = _shot(page, "book-confirm")
    assert any("Reservar esta hora" in t for t in texts)
    by_id(page, "book-confirm").click()
    by_id(page, "appointment-facts").wait_for(timeout=10_000)
    _shot(page, "booked")  # "Reservando…" until the clinic confirms it, then "Confirmada"
    seen(page, "Confirmada", 30_000)

    _go(page, "Resultados")
    by_id(page, "tell-a-partner").wait_for()
    assert any("Avisar a una pareja" in t for t in _shot(page, "results-with-partner"))
    by_id(page, f"result-{positive['id']}").click()
    by_id(page, "tell-partners").click()
    by_id(page, "make-links").wait_for(timeout=10_000)
    seen(page, "Crear 1 enlace")
    by_id(page, "partners-more").click()
    seen(page, "Crear 2 enlaces")
    _shot(page, "partner")
    by_id(page, "make-links").click()
    seen(page, "Listo para compartir", 30_000)  # the live loop took them to the clinic
    by_id(page, "notice-link-1").wait_for(timeout=10_000)
    assert (by_id(page, "notice-link-0").get_attribute("aria-label") or "").startswith("Clamidia")  # prefilled
    by_id(page, "notice-link-1").scroll_into_view_if_needed()
    _shot(page, "partner-links")
    page.close()
