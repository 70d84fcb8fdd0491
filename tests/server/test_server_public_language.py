"""The public pages (a partner notice and its booking, report and refusals; a listed open time) speak
English or Spanish: ``?lang=`` wins, else the browser's Accept-Language (q-values honoured, garbage
ignored), else the clinic profile's ``[clinic] language``, else English. Every page carries the
"English · Español" switch as plain links that keep the page; a Spanish page has no English text
of the catalog left on it; the ``lang`` parameter and the code in the path cannot inject markup.

The real app, in process (``create_app`` with its clock set), over httpx's ASGI transport; each
test calls from its own address so the per-address rate limits never meet."""

from __future__ import annotations

import dataclasses
import html
import itertools
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

import httpx
import pytest
import sqlalchemy as sa
from babel.messages.pofile import read_po

from companion.clinic.server import booking, partner_notice
from companion.clinic.server.app import create_app
from companion.clinic.server.public_language import accepted, choose_language, locale_dir
from companion.clinic.server.public_pages import HEADERS
from companion.clinic.server.settings import Settings
from companion.clinic.server.smart_links import slot_id
from companion.core.clinic_profile import ClinicSite, parse_clinic_site
from companion.core.errors import ConfigError
from companion.core.partner_notice import new_code, normalise_code
from tests.fixtures.flet_session import run_isolated

ALL_DAY = [{"day": d, "opens": "00:00", "closes": "24:00", "resource": "Room N"}
           for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")]
SLOT = re.compile(r'name="slot" required style="width:auto" value="([^"]+)"')
NOW = datetime(2031, 3, 4, 15, 7, tzinfo=UTC)  # a Tuesday (martes), 10:07 in New York
ADDRESSES = (f"10.77.{i // 250}.{i % 250 + 1}" for i in itertools.count())
Request = tuple[str, str, dict[str, Any]]


def _catalog() -> dict[str, str]:
    with open(locale_dir() / "es" / "LC_MESSAGES" / "public.po", "rb") as f:
        # no plurals in the public catalog: every msgid and msgstr is one string
        return {m.id: m.string for m in read_po(f, locale="es") if isinstance(m.id, str) and m.id
                and isinstance(m.string, str)}


SPANISH = _catalog()


class Clinic:
    """One clinic's server app with a fast-track service; ``fetch`` sends requests from one address."""

    def __init__(self, folder: Path, language: str = "en", name: str = "Riverside Clinic") -> None:
        site = ClinicSite(name=name, timezone="America/New_York", phone="+1 555 0100",
                          address="12 River Street", language=language)
        settings = dataclasses.replace(Settings.from_env(f"sqlite:///{folder / 'clinic.db'}", env={}), site=site)
        self.now = NOW
        self.app = create_app(settings, clock=lambda: self.now)
        self.ctx = self.app.state.ctx
        with self.ctx.db.write() as tx:
            self.service = booking.save_service(tx, site, {"name": "Fast-track STI test", "minutes": 15,
                                                           "fast_track": True, "hours": ALL_DAY}, NOW)

    def code(self, infection: str = "chlamydia", made: datetime | None = None) -> str:
        code = normalise_code(new_code())
        assert code is not None
        with self.ctx.db.write() as tx:
            partner_notice.register_notices(tx, infection, [code], None, made or self.now, tz=self.ctx.settings.site.tz)
        return code

    def fetch(self, *requests: Request, address: str | None = None) -> list[httpx.Response]:
        peer = address or next(ADDRESSES)

        async def send() -> list[httpx.Response]:
            transport = httpx.ASGITransport(app=self.app, client=(peer, 40000))
            async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
                return [await client.request(method, path, **kw) for method, path, kw in requests]

        return run_isolated(send())

    def one(self, method: str, path: str, **kw: Any) -> httpx.Response:
        return self.fetch((method, path, kw))[0]


@pytest.fixture
def clinic(tmp_path: Path) -> Iterator[Clinic]:
    made = Clinic(tmp_path)
    yield made
    made.ctx.db.dispose()


def _lang(page: httpx.Response) -> str:
    found = re.search(r'<html lang="([^"]+)">', page.text)
    assert found, page.text[:200]
    return found.group(1)


def _h1(page: httpx.Response) -> str:
    found = re.search(r"<h1>(.*?)</h1>", page.text)
    assert found, page.text[:400]
    return html.unescape(found.group(1))


def _english_left(page: httpx.Response) -> list[str]:
    """Every English text of the catalog (or a long piece of one around its placeholders) on the page."""
    text = html.unescape(page.text)
    left = []
    for msgid, msgstr in SPANISH.items():
        if msgid == msgstr:
            continue
        pieces = [p for p in re.split(r"%\(\w+\)s", msgid) if len(p.strip()) >= 8] if "%(" in msgid else [msgid]
        left += [p for p in pieces if re.search(rf"(?<![\w-]){re.escape(p)}(?![\w-])", text)]
    return left


def _listed(slot: str) -> str:
    """The SMART slot id of a notice form's ``service|start`` choice."""
    service_id, _, start = slot.partition("|")
    return slot_id(service_id, datetime.strptime(start, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC))


def _states(clinic: Clinic, **kw: Any) -> dict[str, httpx.Response]:
    """Every page a partner can meet, each asked for with ``kw`` (a header or the lang query)."""
    ask = kw.pop("params", {})
    valid, booked_code, reported_code, expired = clinic.code(), clinic.code(), clinic.code(), \
        clinic.code("hiv", made=NOW - timedelta(days=40))
    opened, = clinic.fetch(("GET", f"/n/{valid}", {"params": ask, **kw}))
    slot, other = SLOT.findall(opened.text)[:2]
    listed, still_open = _listed(slot), _listed(other)
    names = ["valid", "gone", "expired", "booked", "used", "taken", "no_name", "too_large", "report", "reported",
             "smart_open", "smart_taken", "smart_unknown"]
    answers = clinic.fetch(
        ("GET", f"/n/{valid}", {"params": ask, **kw}),
        ("GET", "/n/NOT-A-REAL-CODE", {"params": ask, **kw}),
        ("GET", f"/n/{expired}", {"params": ask, **kw}),
        ("POST", f"/n/{booked_code}/book", {"params": ask, "data": {"slot": slot, "name": "Sam"}, **kw}),
        ("GET", f"/n/{booked_code}", {"params": ask, **kw}),
        ("POST", f"/n/{valid}/book", {"params": ask, "data": {"slot": slot, "name": "Kim"}, **kw}),
        ("POST", f"/n/{valid}/book", {"params": ask, "data": {"slot": slot, "name": ""}, **kw}),
        ("POST", f"/n/{valid}/book", {"params": ask, "content": b"a=" + b"x" * 5000, "headers": {
            **kw.get("headers", {}), "content-type": "application/x-www-form-urlencoded"}}),
        ("POST", f"/n/{reported_code}/report", {"params": ask, **kw}),
        ("GET", f"/n/{reported_code}", {"params": ask, **kw}),
        ("GET", f"/smart/book/{still_open}", {"params": ask, **kw}),
        ("GET", f"/smart/book/{listed}", {"params": ask, **kw}),  # booked just above
        ("GET", "/smart/book/nothing.20310101T1000", {"params": ask, **kw}),
    )
    pages = dict(zip(names, answers, strict=True))
    limited = clinic.fetch(*[("GET", "/n/NOT-A-REAL-CODE", {"params": ask, **kw})] * 31)
    pages["rate_limited"] = limited[-1]
    pages["smart_rate_limited"] = clinic.fetch(*[("GET", f"/smart/book/{listed}", {"params": ask, **kw})] * 121)[-1]
    return pages


STATUS = {"valid": 200, "gone": 404, "expired": 410, "booked": 200, "used": 410, "taken": 409, "no_name": 409,
          "too_large": 422, "report": 200, "reported": 410, "smart_open": 200, "smart_taken": 200,
          "smart_unknown": 404, "rate_limited": 429, "smart_rate_limited": 429}
HEADINGS = {  # English, Spanish
    "valid": ("Someone you have been with suggests you get tested",
              "Una persona con quien usted estuvo le sugiere hacerse una prueba"),
    "gone": ("This link is not valid.", "Este enlace no es válido."),
    "expired": ("This link has expired.", "Este enlace ha caducado."),
    "booked": ("You are booked", "Su cita está reservada"),
    "used": ("This link was already used to book a visit.", "Este enlace ya se usó para reservar una cita."),
    "taken": ("Someone you have been with suggests you get tested",
              "Una persona con quien usted estuvo le sugiere hacerse una prueba"),
    "too_large": ("The form is too large.", "El formulario es demasiado grande."),
    "report": ("Thank you", "Gracias"),
    "reported": ("This link no longer works.", "Este enlace ya no funciona."),
    "smart_open": ("Fast-track STI test", "Fast-track STI test"),  # the clinic's own name for its service
    "smart_unknown": ("Riverside Clinic", "Riverside Clinic"),
    "rate_limited": ("Too many requests", "Demasiadas solicitudes"),
    "smart_rate_limited": ("Too many requests", "Demasiadas solicitudes"),
}
TEXTS = {  # a text each page must show, English and Spanish
    "valid": ("a chlamydia test (a urine sample or a swab)",
              "una prueba de clamidia (una muestra de orina o un hisopado)"),
    "expired": ("You can still get a free, confidential test.",
                "Aun así puede hacerse una prueba gratuita y confidencial."),
    "booked": ("Tue 4 Mar, 11:15", "mar 4 de marzo, 11:15"),  # 15:07 UTC is 10:07 in New York
    "taken": ("That time was just taken", "Alguien acaba de reservar esa hora"),
    "no_name": ("Please give a first name or initials.", "Escriba un nombre de pila o sus iniciales."),
    "report": ("The clinic sees that it was reported.", "La clínica verá que se reportó."),
    "smart_open": ("This time is still open.", "Esta hora sigue libre."),
    "smart_taken": ("This time has just been taken.", "Alguien acaba de reservar esta hora."),
    "smart_unknown": ("This time is not offered here.", "Esta hora no se ofrece aquí."),
    "rate_limited": ("Please try again in a minute.", "Vuelva a intentarlo en un minuto."),
}


@pytest.mark.parametrize("how", ["header", "query"])
def test_every_public_page_speaks_spanish_with_no_english_left(clinic: Clinic, how: str) -> None:
    ask: dict[str, Any] = {"headers": {"accept-language": "es-MX,es;q=0.9,en;q=0.5"}} if how == "header" else \
        {"params": {"lang": "es"}, "headers": {"accept-language": "en-US,en;q=0.9"}}  # the switch beats the browser
    pages = _states(clinic, **ask)
    assert set(pages) == set(STATUS)
    for name, page in pages.items():
        assert page.status_code == STATUS[name], (name, page.status_code)
        assert _lang(page) == "es", name
        assert not _english_left(page), (name, _english_left(page))
        assert {k: page.headers[k] for k in HEADERS} == HEADERS, name  # CSP, no-store, no-referrer kept
        if name in HEADINGS:
            assert _h1(page) == HEADINGS[name][1], name
        if name in TEXTS:
            assert TEXTS[name][1] in html.unescape(page.text), name
    valid = html.unescape(pages["valid"].text)
    assert "La clamidia a menudo no causa síntomas" in valid and "gratuitos y confidenciales" in valid
    assert "Este enlace funciona hasta el 3 de abril de 2031." in valid  # its last day (made 4 March: 30 days on)
    assert "martes 4 de marzo, 11:30" in html.unescape(pages["smart_open"].text)  # in full, in the clinic's zone


def test_english_is_the_default_and_every_page_has_it(clinic: Clinic) -> None:
    pages = _states(clinic)
    for name, page in pages.items():
        assert page.status_code == STATUS[name], (name, page.status_code)
        assert _lang(page) == "en", name
        if name in HEADINGS:
            assert _h1(page) == HEADINGS[name][0], name
        if name in TEXTS:
            assert TEXTS[name][0] in html.unescape(page.text), name
        assert not any(s in html.unescape(page.text) for s in ("Gracias", "enlace", "Llame al", "prueba")), name
    assert "This link works until 3 April 2031." in pages["valid"].text
    assert len(_english_left(pages["valid"])) > 10  # the check the Spanish pages pass finds English when it is there
    assert "Tuesday 4 March, 11:30" in pages["smart_open"].text


def test_the_switch_is_on_every_page_and_keeps_the_code_and_the_slot(clinic: Clinic) -> None:
    code = clinic.code()
    page = clinic.one("GET", f"/n/{code}", headers={"accept-language": "es"})
    assert f'<a href="/n/{code}?lang=en" hreflang="en" lang="en">English</a>' in page.text
    assert '<strong lang="es" aria-current="true">Español</strong>' in page.text
    assert f'action="/n/{code}/book?lang=es"' in page.text and f'action="/n/{code}/report?lang=es"' in page.text
    english = clinic.one("GET", f"/n/{code}", params={"lang": "en"}, headers={"accept-language": "es"})
    assert _lang(english) == "en" and f'<a href="/n/{code}?lang=es" hreflang="es" lang="es">Español</a>' in english.text
    assert f'action="/n/{code}/book?lang=en"' in english.text
    slot = SLOT.findall(english.text)[0]
    booked = clinic.one("POST", f"/n/{code}/book", params={"lang": "es"}, data={"slot": slot, "name": "Sam"})
    assert _lang(booked) == "es" and f'href="/n/{code}?lang=en"' in booked.text  # a GET of the same code
    listed = _listed(slot)
    smart = clinic.one("GET", f"/smart/book/{listed}", params={"lang": "es"})
    assert f'<a href="/smart/book/{listed}?lang=en" hreflang="en" lang="en">English</a>' in smart.text
    for state in _states(clinic).values():
        assert re.search(r'<nav class="lang small" aria-label="Language">.*?</nav>', state.text), state.text[:300]
        assert "<script" not in state.text


@pytest.mark.parametrize(("header", "expected"), [
    ("es", "es"), ("es-ES", "es"), ("es-419", "es"), ("ES-mx", "es"), ("en-GB,es;q=0.8", "en"),
    ("en;q=0.4, es;q=0.9", "es"), ("fr-CA, es-MX;q=0.8, en;q=0.7", "es"), ("es;q=0, en", "en"), ("es;q=0.000", "en"),
    ("de, fr;q=0.9", "en"), ("*", "en"), ("*, es;q=0.1", "es"), ("", "en"), (None, "en"),
    ("es;q=abc", "en"), ("es;q=2", "en"), ("es;;;", "en"), (",,,,", "en"), ("e$s", "en"), ("español", "en"),
    ("es-" + "x" * 40, "en"), ("es," * 300, "en"), ("x" * 10_000, "en"), ("fr;q=0.9, es;q=0.9", "es"),
])
def test_accept_language_is_read_as_browsers_send_it_and_garbage_counts_as_none(header: str | None,
                                                                                expected: str) -> None:
    assert choose_language(None, header, None) == expected


def test_the_order_of_wanted_languages_follows_the_q_values() -> None:
    assert accepted("fr;q=0.2, es-MX, en;q=0.8, de;q=0") == ["es-MX", "en", "fr"]
    assert accepted("a" * 600) == [] and accepted(None) == []
    assert choose_language("en", "es", "es") == "en" and choose_language("es", "en", None) == "es"
    assert choose_language("fr", "es", None) == "es" and choose_language("<b>", None, None) == "en"


def test_garbage_headers_on_the_wire_fall_back_to_english_without_error(clinic: Clinic) -> None:
    code = clinic.code()
    for header in (b"\xff\xfe\x80", b"es;q=1;q=0," * 100, b"=;,;=q", ("es-" * 2000).encode(), b"es;q=-1"):
        page = clinic.one("GET", f"/n/{code}", headers={"accept-language": header})
        assert page.status_code == 200 and _lang(page) == "en", header[:20]


def test_the_clinic_profile_language_is_the_default_when_the_browser_names_none_we_speak(tmp_path: Path) -> None:
    clinic = Clinic(tmp_path, language="es")
    try:
        code = clinic.code()
        plain, french, english, switched = clinic.fetch(
            ("GET", f"/n/{code}", {}), ("GET", f"/n/{code}", {"headers": {"accept-language": "fr-FR"}}),
            ("GET", f"/n/{code}", {"headers": {"accept-language": "en-US"}}),
            ("GET", f"/n/{code}", {"params": {"lang": "en"}}))
    finally:
        clinic.ctx.db.dispose()
    assert [_lang(p) for p in (plain, french, english, switched)] == ["es", "es", "en", "en"]


def test_a_clinic_without_a_name_is_named_in_the_page_language(tmp_path: Path) -> None:
    clinic = Clinic(tmp_path, name=ClinicSite().name)
    try:
        code = clinic.code()
        page = clinic.one("GET", f"/n/{code}", headers={"accept-language": "es"})
        booked = clinic.one("POST", f"/n/{code}/book", params={"lang": "es"},
                            data={"slot": SLOT.findall(page.text)[0], "name": "Ana"})
        unknown, english = clinic.fetch(("GET", "/smart/book/nothing.20310101T1000", {"params": {"lang": "es"}}),
                                        ("GET", "/smart/book/nothing.20310101T1000", {}))
    finally:
        clinic.ctx.db.dispose()
    assert "Esa persona pidió a la clínica que" in html.unescape(page.text)
    assert "Su clínica, 12 River Street" in html.unescape(booked.text) and _h1(unknown) == "Su clínica"
    assert not _english_left(booked) and not _english_left(unknown) and _h1(english) == "Your clinic"


def test_a_refused_booking_leaves_no_new_patient_behind(clinic: Clinic) -> None:
    """The form's booking makes a patient and books in one transaction: a taken time or a bad choice
    rolls both back (the desk would otherwise list a newcomer with no visit)."""
    first, second = clinic.code(), clinic.code()
    slot = SLOT.findall(clinic.one("GET", f"/n/{first}").text)[0]

    def patients() -> int:
        with clinic.ctx.db.read() as conn:
            return int(conn.execute(sa.text("SELECT count(*) FROM patients")).scalar_one())

    assert clinic.one("POST", f"/n/{first}/book", data={"slot": slot, "name": "Ana"}).status_code == 200
    assert patients() == 1
    for choice in (slot, f"{slot.split('|')[0]}|2031-03-04T15:16:00Z", "svc_nothing|2031-03-05T15:00:00Z"):
        refused = clinic.one("POST", f"/n/{second}/book", data={"slot": choice, "name": "Bea"})
        assert refused.status_code == 409 and SLOT.search(refused.text), choice
    assert patients() == 1
    assert clinic.one("GET", f"/n/{second}").status_code == 200  # the code is not spent either


def test_the_profile_reads_and_checks_the_clinic_language() -> None:
    assert parse_clinic_site({"clinic": {"language": "es"}}, "flet.toml").language == "es"
    assert parse_clinic_site({}, "flet.toml").language == "en"
    for bad in ("<script>", "english please", 7):
        with pytest.raises(ConfigError, match=r"clinic\.language"):
            parse_clinic_site({"clinic": {"language": bad}}, "flet.toml")


@pytest.mark.parametrize("lang", ['es"><script>alert(1)</script>', "es'onmouseover=x", "es\u202e", "es%00", "e" * 5000,
                                  "en&lang=es", "../es"])
def test_the_lang_parameter_cannot_inject_markup(clinic: Clinic, lang: str) -> None:
    code = clinic.code()
    for method, path in (("GET", f"/n/{code}"), ("GET", "/n/x"), ("POST", f"/n/{code}/report"),
                         ("GET", "/smart/book/nothing.20310101T1000")):
        page = clinic.one(method, path, params={"lang": lang})
        assert page.status_code < 500 and _lang(page) == "en", (path, page.status_code)
        assert "<script" not in page.text and "onmouseover" not in page.text and lang not in page.text


def test_the_code_in_the_path_cannot_inject_markup_through_the_switch(clinic: Clinic) -> None:
    for raw in ('"><script>x<', '"><img src=x onerror=y>', "a?lang=es#", "x' onfocus='y"):
        page = clinic.one("GET", "/n/" + quote(raw, safe=""), params={"lang": "es"})
        assert page.status_code == 404 and _lang(page) == "es"
        assert "<script" not in page.text and "<img" not in page.text and "onfocus=" not in page.text
        nav = re.search(r'<nav class="lang small"[^>]*>(.*?)</nav>', page.text)
        assert f'href="/n/{quote(raw, safe="")}?lang=en"' in page.text  # the same code, quoted once
        assert nav and re.fullmatch(r'<a href="/n/[A-Za-z0-9%._~-]+\?lang=en" hreflang="en" lang="en">English</a> · '
                                    r'<strong lang="es" aria-current="true">Español</strong>', nav.group(1)), nav


def test_the_link_says_the_last_day_it_works_in_the_clinic_s_zone(clinic: Clinic) -> None:
    """Made late in the evening in New York (the next day already in UTC), a link names the last day it
    works there, in English and Spanish, and works through that whole day (the clinic's), not after."""
    new_york = ZoneInfo("America/New_York")
    code = clinic.code(made=datetime(2031, 3, 4, 23, 30, tzinfo=new_york))  # 04:30 UTC on 5 March
    english, spanish = clinic.fetch(("GET", f"/n/{code}", {}), ("GET", f"/n/{code}", {"params": {"lang": "es"}}))
    assert "This link works until 3 April 2031." in english.text  # 4 March and 30 days, in New York
    assert "Este enlace funciona hasta el 3 de abril de 2031." in html.unescape(spanish.text)
    clinic.now = datetime(2031, 4, 3, 23, 55, tzinfo=new_york)
    assert clinic.one("GET", f"/n/{code}").status_code == 200  # late on the day it names: it still works
    clinic.now = datetime(2031, 4, 4, 0, 5, tzinfo=new_york)
    late = clinic.one("GET", f"/n/{code}")
    assert late.status_code == 410 and "This link has expired." in late.text


def test_a_slot_time_with_no_utc_day_gets_the_form_again(clinic: Clinic) -> None:
    """A posted slot at ``0001-01-01T00:00+05:00`` (before year 1 in UTC) is a refused choice, not a 500."""
    code = clinic.code()
    answer = clinic.one("POST", f"/n/{code}/book", data={"slot": f"{clinic.service['id']}|0001-01-01T00:00+05:00",
                                                          "name": "Kim"})
    assert answer.status_code == 409 and "Please choose one of the times below." in answer.text
