"""Public, no account: the clinic's open times as SMART Scheduling Links (see :mod:`.smart_links`).

    GET /$bulk-publish              the manifest (JSON)
    GET /smart/locations.ndjson     the clinic                       application/fhir+ndjson
    GET /smart/schedules.ndjson     one Schedule per listed service
    GET /smart/slots.ndjson         one Slot per start of the hours, free or busy
    GET /smart/book/{slot_id}       the booking deep link: the time, and how to book it (HTML, English
                                    or Spanish: see :mod:`.public_language`)

Full URLs are built from the request's own address (behind a proxy: the Host it forwards).
Answers may be cached for a minute (test-finders poll the manifest every few minutes); they carry
no patient data at all, so a shared cache holding them is harmless. A service the desk marked
sensitive is never listed.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse

from ...core.fields import iso
from . import booking
from .context import get_ctx
from .errors import ApiError
from .open_times import open_slots
from .public_language import page_language
from .public_pages import RateLimit, esc, page, tag
from .smart_links import FILES, ndjson, parse_slot_id, publication

router = APIRouter(tags=["public: SMART Scheduling Links"])
PUBLIC_CACHE = {"Cache-Control": "public, max-age=60"}  # (never Access-Control-Allow-Origin: see .middleware)
LIMIT = RateLimit(limit=120, window=60.0)


def _base(request: Request) -> str:
    return str(request.base_url).rstrip("/")


def _publication(request: Request) -> Any:
    LIMIT.check(request)
    ctx = get_ctx(request)
    with ctx.db.read() as conn:
        return publication(conn, ctx.settings.site, ctx.now(), _base(request))


@router.get("/$bulk-publish", summary="SMART Scheduling Links manifest of the clinic's open times")
def bulk_publish(request: Request) -> Response:
    manifest = _publication(request).manifest(_base(request))
    return Response(json.dumps(manifest), media_type="application/json", headers=PUBLIC_CACHE)


def _ndjson(request: Request, kind: str) -> Response:
    pub = _publication(request)
    resources = {"Location": pub.locations, "Schedule": pub.schedules, "Slot": pub.slots}[kind]
    return Response(ndjson(resources), media_type="application/fhir+ndjson", headers=PUBLIC_CACHE)


@router.get(f"/smart/{FILES['Location']}", summary="The clinic as a SMART Location (NDJSON)")
def locations(request: Request) -> Response:
    return _ndjson(request, "Location")


@router.get(f"/smart/{FILES['Schedule']}", summary="One SMART Schedule per listed service (NDJSON)")
def schedules(request: Request) -> Response:
    return _ndjson(request, "Schedule")


@router.get(f"/smart/{FILES['Slot']}", summary="One SMART Slot per start of the hours, free or busy (NDJSON)")
def slots(request: Request) -> Response:
    return _ndjson(request, "Slot")


@router.get("/smart/book/{slot_id}", response_class=HTMLResponse, summary="A listed open time and how to book it")
def book_listed_time(slot_id: str, request: Request) -> HTMLResponse:
    t = page_language(request)
    here = f"/smart/book/{quote(slot_id, safe='')}"
    try:
        LIMIT.check(request)
    except ApiError:
        return page(t, here, t._("Please wait"), [tag("h1", t._("Too many requests")),
                                                  tag("p", t._("Please try again in a minute."))], 429)
    ctx = get_ctx(request)
    site = ctx.settings.site
    named = parse_slot_id(slot_id)
    with ctx.db.read() as conn:
        service = booking.get_service(conn, named[0]) if named else None
        if service is not None and (not service["active"] or service["sensitive"]):
            service = None  # not listed: the same answer as none
        still_open = service is not None and named is not None and named[1] in open_slots(conn, site, service,
                                                                                           ctx.now())
    name = t.clinic(site.name)
    phone = "".join(["<p>", esc(t._("To book it, call")), f" <a class=\"button\" href=\"tel:{esc(site.phone)}\">",
                     esc(site.phone), "</a></p>"]) if site.phone else ""
    if service is None or named is None:
        return page(t, here, name, [tag("h1", name), tag("p", t._("This time is not offered here.")), phone], 404)
    state = t._("This time is still open.") if still_open else t._("This time has just been taken.")
    zone = t._("(clinic time, %(zone)s)") % {"zone": site.timezone}
    listed = t._("%(clinic)s · listed %(when)s") % {"clinic": name, "when": iso(ctx.now()) or ""}
    return page(t, here, name, [
        tag("h1", service["name"]), "<div class=\"card\"><p>", tag("strong", t.when(named[1], site.tz, long=True)),
        " ", tag("span", zone, "class=\"muted\""), "</p>", tag("p", state), phone,
        tag("p", t._("Already a patient? Book it in the Companion app."), "class=\"muted small\""), "</div>",
        tag("p", listed, "class=\"muted small\"")])
