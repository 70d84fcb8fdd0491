"""Anonymous partner notices: the public page of a code, its fast-track booking and "report misuse",
and the desk's counts.

    GET  /n/{code}              the neutral page: what to test for, why, free and confidential,
                                open times to book without an account, the phone       public
    POST /n/{code}/book         book one (form: slot, name, phone) -> a new patient   public
    POST /n/{code}/report       report misuse: the link stops working                   public
    GET  /v1/staff/notice-counts   made, opened, booked, reported, active: totals only   psr, clinician

The public pages are rate-limited per address and name no patient and no visit: the only thing a
code leads to is its infection and the clinic's open times (see :mod:`.partner_notice`). A code
that is malformed, unknown, expired, reported or spent gets the same kind of page, with the
clinic's phone. The code is in the path, never logged (it is not id-shaped, see :mod:`.middleware`).
Every page speaks English or Spanish (:mod:`.public_language`: ``?lang=``, else the browser's
language, else the clinic's); a form's answer keeps the language of the page it was sent from.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any
from urllib.parse import parse_qs, quote

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse
from starlette.concurrency import run_in_threadpool

from ...core.errors import NotAllowed, RecordError
from ...core.fields import parse_datetime
from ...core.open_times import offered_times
from ...core.partner_notice import INFECTIONS
from . import partner_notice as notices
from .auth import staff_with
from .context import client_address, get_ctx
from .errors import ApiError
from .open_times import open_slots
from .principals import StaffPrincipal, SystemPrincipal
from .public_language import N_, PageLanguage, page_language
from .public_pages import RateLimit, esc, page, tag
from .records import Row

router = APIRouter(tags=["public: partner notices"])
ReadPatients = Annotated[StaffPrincipal, Depends(staff_with("patients.read"))]
LIMIT = RateLimit(limit=30, window=60.0)
PUBLIC = SystemPrincipal(id="notice")  # the audit's actor for a booking made from a notice's page
MAX_FORM_BYTES = 4096
SHOWN_TIMES = 12
TITLE = N_("A health message for you")
UNUSABLE = {
    "gone": N_("This link is not valid."),
    "expired": N_("This link has expired."),
    "reported": N_("This link no longer works."),
    "used": N_("This link was already used to book a visit."),
}
# What the form says back, by what was wrong (never the server's own wording: it is for staff)
TAKEN = N_("That time was just taken — here are the nearest open times.")
NO_NAME = N_("Please give a first name or initials.")
NO_TIME = N_("Please choose one of the times below.")


def _here(code: str) -> str:
    return f"/n/{quote(code, safe='')}"  # the code as typed (maybe garbage): quoted, then escaped where shown


def _limited(request: Request, t: PageLanguage, code: str) -> HTMLResponse | None:
    try:
        LIMIT.check(request)
    except ApiError:
        return page(t, _here(code), t._(TITLE), [tag("h1", t._("Too many requests")),
                                                  tag("p", t._("Please try again in a minute."))], 429)
    return None


def _phone(request: Request, text: str) -> str:
    phone = get_ctx(request).settings.site.phone
    return f"<p>{esc(text)} <a href=\"tel:{esc(phone)}\">{esc(phone)}</a>.</p>" if phone else ""


def _clinic(t: PageLanguage, name: str) -> str:
    return t._("the clinic") if name == "Your clinic" else name  # the built-in default reads badly mid-sentence


def _unusable(request: Request, t: PageLanguage, code: str, why: str) -> HTMLResponse:
    return page(t, _here(code), t._(TITLE), [
        tag("h1", t._(UNUSABLE[why])), tag("p", t._("You can still get a free, confidential test.")),
        _phone(request, t._("Call"))], 404 if why == "gone" else 410)


def _slots(request: Request, conn: Any) -> list[tuple[Row, datetime]]:
    ctx = get_ctx(request)
    found = [(s, t) for s in notices.fast_track_services(conn) for t in open_slots(conn, ctx.settings.site, s,
                                                                                      ctx.now())]
    return sorted(found, key=lambda st: st[1])[:SHOWN_TIMES]


def _form(request: Request, t: PageLanguage, code: str, slots: list[tuple[Row, datetime]], note: str = "") -> str:
    site = get_ctx(request).settings.site
    if not slots:
        return "".join(["<div class=\"card\">", tag("h2", t._("Book a test")),
                        tag("p", t._("No times can be booked online just now.")),
                        _phone(request, t._("Please call")), "</div>"])
    choices = "".join(
        f"<label style=\"font-weight:400\"><input type=\"radio\" name=\"slot\" required style=\"width:auto\" "
        f"value=\"{esc(s['id'])}|{esc(start.strftime('%Y-%m-%dT%H:%M:%SZ'))}\"> {esc(t.when(start, site.tz))} · "
        f"{esc(s['name'])}</label>" for s, start in slots)
    return "".join([
        f"<form class=\"card\" method=\"post\" action=\"{esc(_here(code))}/book{t.query()}\">",
        tag("h2", t._("Book a free test")), note,
        tag("p", t._("No account needed. Clinic times (%(zone)s).") % {"zone": site.timezone}, "class=\"muted\""),
        choices, tag("label", t._("First name or initials"), "for=\"name\""),
        "<input id=\"name\" name=\"name\" required maxlength=\"60\" autocomplete=\"given-name\">",
        tag("label", t._("Phone (optional, if we need to reach you)"), "for=\"phone\""),
        "<input id=\"phone\" name=\"phone\" maxlength=\"40\" inputmode=\"tel\" autocomplete=\"tel\">",
        "<p>", tag("button", t._("Book this time"), "class=\"primary\" type=\"submit\""), "</p></form>"])


def _report(t: PageLanguage, code: str) -> str:
    return "".join([f"<form method=\"post\" action=\"{esc(_here(code))}/report{t.query()}\">",
                    "<p class=\"small muted\">", esc(t._("Not expecting this?")), " ",
                    tag("button", t._("Report misuse"), "type=\"submit\" class=\"small\""), "</p></form>"])


@router.get("/n/{code}", response_class=HTMLResponse, summary="A partner notice's public page")
def notice_page(code: str, request: Request) -> HTMLResponse:
    t = page_language(request)
    limited = _limited(request, t, code)
    if limited is not None:
        return limited
    ctx = get_ctx(request)
    with ctx.db.write() as tx:
        notice = notices.find_notice(tx, code)
        why = notices.usable(notice, ctx.now())
        if why is not None or notice is None:
            return _unusable(request, t, code, why or "gone")
        notices.mark_opened(tx, notice, ctx.now())
        slots = _slots(request, tx)
    return _notice(request, t, code, notice, slots)


def _notice(request: Request, t: PageLanguage, code: str, notice: Row, slots: list[tuple[Row, datetime]],
            note: str = "", status: int = 200) -> HTMLResponse:
    infection = INFECTIONS.get(notice["infection"])
    site = get_ctx(request).settings.site
    about = "".join(["<div class=\"card\">", tag("h2", t._("What to test for")), tag("p", t._(infection.test)),
                     tag("h2", t._("Why")), tag("p", t._(infection.why)), "</div>"]) if infection else ""
    told = t._("They asked %(clinic)s to let you know, without giving your name or theirs.") % {
        "clinic": _clinic(t, site.name)}
    free = esc(t._("Testing and treatment are %(free)s.")) % {"free": tag("strong", t._("free and confidential"))}
    # the last day it works, in the clinic's zone (expires_at is the midnight it stops)
    until = t._("This link works until %(day)s.") % {"day": t.day(notices.last_day(notice["expires_at"], site.tz))}
    return page(t, _here(code), t._(TITLE), [
        tag("h1", t._("Someone you have been with suggests you get tested")),
        f"<p>{esc(told)} {free}</p>", about,
        _form(request, t, code, slots, note), _phone(request, t._("Or call")),
        tag("p", until, "class=\"small muted\""), _report(t, code)], status)


async def _form_fields(request: Request) -> dict[str, str]:
    body = await request.body()
    if len(body) > MAX_FORM_BYTES:
        raise NotAllowed(N_("The form is too large."))
    try:
        parsed = parse_qs(body.decode("utf-8"), max_num_fields=10, strict_parsing=False)
    except (UnicodeDecodeError, ValueError):
        raise NotAllowed(N_("The form could not be read.")) from None
    return {k: v[0].strip() for k, v in parsed.items() if v}


@router.post("/n/{code}/book", response_class=HTMLResponse, summary="Book a fast-track visit from a partner notice")
async def notice_book(code: str, request: Request) -> HTMLResponse:
    t = page_language(request)
    limited = _limited(request, t, code)
    if limited is not None:
        return limited
    try:
        fields = await _form_fields(request)
    except NotAllowed as exc:
        return page(t, _here(code), t._(TITLE), [tag("h1", t._(str(exc)))], 422)
    return await run_in_threadpool(_book, request, t, code, fields)


def _problem(exc: NotAllowed | RecordError) -> str:
    """What the partner reads for a refused booking (one of the texts above)."""
    if offered_times(str(exc)) is not None:
        return TAKEN
    return NO_NAME if str(exc) == NO_NAME or (isinstance(exc, RecordError) and exc.field == "name") else NO_TIME


def _book(request: Request, t: PageLanguage, code: str, fields: dict[str, str]) -> HTMLResponse:
    ctx = get_ctx(request)
    site = ctx.settings.site
    service_id, _, start_text = fields.get("slot", "").partition("|")
    name, phone = fields.get("name", "")[:60], fields.get("phone", "")[:40] or None
    notice: Row | None = None
    try:
        with ctx.db.write() as tx:  # a refused booking rolls back whole: no stray new patient is left behind
            notice = notices.find_notice(tx, code)
            why = notices.usable(notice, ctx.now())
            if why is not None or notice is None:
                return _unusable(request, t, code, why or "gone")
            if not name or "\x00" in name + (phone or ""):
                raise NotAllowed(NO_NAME)
            start = parse_datetime(start_text, "slot")
            if start.year > 2199:
                raise RecordError("slot", "not an offered time")
            visit = notices.book_from_notice(tx, site, notice, service_id=service_id,
                                             start=start.astimezone(UTC), name=name, phone=phone, now=ctx.now())
            ctx.audit.record(tx, PUBLIC, "notice.book", patient_id=visit["patient_id"],
                             target=f"appointment:{visit['id']}", address=client_address(request))
    except (NotAllowed, RecordError) as exc:
        if notice is None:
            return _unusable(request, t, code, "gone")
        with ctx.db.read() as conn:
            slots = _slots(request, conn)
        return _notice(request, t, code, notice, slots, tag("p", t._(_problem(exc)), "class=\"warn card\""), 409)
    where = esc(t.clinic(site.name)) + (f", {esc(site.address)}" if site.address else "")
    return page(t, _here(code), t._(TITLE), [
        tag("h1", t._("You are booked")),
        f"<div class=\"card ok\"><p><strong>{esc(t.when(visit['start'], site.tz))}</strong> · {esc(visit['kind'])}"
        f"</p><p>{where}</p></div>",
        tag("p", t._("It is free and confidential. You do not need to say who sent you.")),
        tag("p", t._("Write the time down or keep this page: no reminder is sent."), "class=\"muted\""),
        _phone(request, t._("To change or cancel, call"))])


@router.post("/n/{code}/report", response_class=HTMLResponse, summary="Report a partner notice as misuse")
def notice_report(code: str, request: Request) -> HTMLResponse:
    t = page_language(request)
    limited = _limited(request, t, code)
    if limited is not None:
        return limited
    ctx = get_ctx(request)
    with ctx.db.write() as tx:
        notice = notices.find_notice(tx, code)
        if notice is None:
            return _unusable(request, t, code, "gone")
        notices.report_notice(tx, notice, ctx.now())
    return page(t, _here(code), t._(TITLE), [
        tag("h1", t._("Thank you")),
        tag("p", t._("This link no longer works. The clinic sees that it was reported.")),
        _phone(request, t._("Questions? Call"))])


@router.get("/v1/staff/notice-counts", summary="Partner notices: made, opened, booked, reported (totals only)")
def notice_counts(request: Request, member: ReadPatients) -> dict[str, Any]:
    ctx = get_ctx(request)
    with ctx.db.read() as conn:
        return notices.counts(conn, ctx.now())
