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
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any
from urllib.parse import parse_qs

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
from .public_pages import RateLimit, esc, page
from .records import Row

router = APIRouter(tags=["public: partner notices"])
ReadPatients = Annotated[StaffPrincipal, Depends(staff_with("patients.read"))]
LIMIT = RateLimit(limit=30, window=60.0)
PUBLIC = SystemPrincipal(id="notice")  # the audit's actor for a booking made from a notice's page
MAX_FORM_BYTES = 4096
SHOWN_TIMES = 12
TITLE = "A health message for you"
UNUSABLE = {
    "gone": "This link is not valid.",
    "expired": "This link has expired.",
    "reported": "This link no longer works.",
    "used": "This link was already used to book a visit.",
}


def _limited(request: Request) -> HTMLResponse | None:
    try:
        LIMIT.check(request)
    except ApiError:
        return page(TITLE, ["<h1>Too many requests</h1><p>Please try again in a minute.</p>"], 429)
    return None


def _phone(request: Request, text: str = "Or call") -> str:
    phone = get_ctx(request).settings.site.phone
    return f"<p>{esc(text)} <a href=\"tel:{esc(phone)}\">{esc(phone)}</a>.</p>" if phone else ""


def _clinic(name: str) -> str:
    return "the clinic" if name == "Your clinic" else name  # the built-in default reads badly mid-sentence


def _unusable(request: Request, why: str) -> HTMLResponse:
    return page(TITLE, [f"<h1>{esc(UNUSABLE[why])}</h1>",
                        "<p>You can still get a free, confidential test.</p>", _phone(request, "Call")],
                404 if why == "gone" else 410)


def _slots(request: Request, conn: Any) -> list[tuple[Row, datetime]]:
    ctx = get_ctx(request)
    found = [(s, t) for s in notices.fast_track_services(conn) for t in open_slots(conn, ctx.settings.site, s,
                                                                                      ctx.now())]
    return sorted(found, key=lambda st: st[1])[:SHOWN_TIMES]


def _when(request: Request, start: datetime) -> str:
    local = start.astimezone(get_ctx(request).settings.site.tz)
    return f"{local:%a} {local.day} {local:%b}, {local:%H:%M}"


def _form(request: Request, code: str, slots: list[tuple[Row, datetime]], note: str = "") -> str:
    if not slots:
        return "<div class=\"card\"><h2>Book a test</h2><p>No times can be booked online just now.</p>" \
               f"{_phone(request, 'Please call')}</div>"
    choices = "".join(
        f"<label style=\"font-weight:400\"><input type=\"radio\" name=\"slot\" required style=\"width:auto\" "
        f"value=\"{esc(s['id'])}|{esc(t.strftime('%Y-%m-%dT%H:%M:%SZ'))}\"> {esc(_when(request, t))} · "
        f"{esc(s['name'])}</label>" for s, t in slots)
    return (f"<form class=\"card\" method=\"post\" action=\"/n/{esc(code)}/book\"><h2>Book a free test</h2>"
            f"{note}<p class=\"muted\">No account needed. Clinic times "
            f"({esc(get_ctx(request).settings.site.timezone)}).</p>{choices}"
            "<label for=\"name\">First name or initials</label><input id=\"name\" name=\"name\" "
            "required maxlength=\"60\" autocomplete=\"given-name\"><label for=\"phone\">Phone (optional, if we need to"
            " reach you)</label><input id=\"phone\" name=\"phone\" maxlength=\"40\" inputmode=\"tel\" "
            "autocomplete=\"tel\"><p><button class=\"primary\" type=\"submit\">Book this time</button></p></form>")


def _report(code: str) -> str:
    return (f"<form method=\"post\" action=\"/n/{esc(code)}/report\"><p class=\"small muted\">Not expecting this? "
            "<button type=\"submit\" class=\"small\">Report misuse</button></p></form>")


@router.get("/n/{code}", response_class=HTMLResponse, summary="A partner notice's public page")
def notice_page(code: str, request: Request) -> HTMLResponse:
    limited = _limited(request)
    if limited is not None:
        return limited
    ctx = get_ctx(request)
    with ctx.db.write() as tx:
        notice = notices.find_notice(tx, code)
        why = notices.usable(notice, ctx.now())
        if why is not None or notice is None:
            return _unusable(request, why or "gone")
        notices.mark_opened(tx, notice, ctx.now())
        slots = _slots(request, tx)
    return _notice(request, code, notice, slots)


def _notice(request: Request, code: str, notice: Row, slots: list[tuple[Row, datetime]], note: str = "",
            status: int = 200) -> HTMLResponse:
    infection = INFECTIONS.get(notice["infection"])
    site = get_ctx(request).settings.site
    about = (f"<div class=\"card\"><h2>What to test for</h2><p>{esc(infection.test)}</p><h2>Why</h2>"
             f"<p>{esc(infection.why)}</p></div>") if infection else ""
    return page(TITLE, [
        "<h1>Someone you have been with suggests you get tested</h1>",
        f"<p>They asked {esc(_clinic(site.name))} to let you know, without giving your name or theirs. "
        f"Testing and treatment are <strong>free and confidential</strong>.</p>", about,
        _form(request, code, slots, note), _phone(request),
        f"<p class=\"small muted\">This link works until {notice['expires_at']:%d %B %Y}.</p>", _report(code)],
        status)


async def _form_fields(request: Request) -> dict[str, str]:
    body = await request.body()
    if len(body) > MAX_FORM_BYTES:
        raise NotAllowed("the form is too large")
    try:
        parsed = parse_qs(body.decode("utf-8"), max_num_fields=10, strict_parsing=False)
    except (UnicodeDecodeError, ValueError):
        raise NotAllowed("the form could not be read") from None
    return {k: v[0].strip() for k, v in parsed.items() if v}


@router.post("/n/{code}/book", response_class=HTMLResponse, summary="Book a fast-track visit from a partner notice")
async def notice_book(code: str, request: Request) -> HTMLResponse:
    limited = _limited(request)
    if limited is not None:
        return limited
    try:
        fields = await _form_fields(request)
    except NotAllowed as exc:
        return page(TITLE, [f"<h1>{esc(exc)}</h1>"], 422)
    return await run_in_threadpool(_book, request, code, fields)


def _book(request: Request, code: str, fields: dict[str, str]) -> HTMLResponse:
    ctx = get_ctx(request)
    service_id, _, start_text = fields.get("slot", "").partition("|")
    name, phone = fields.get("name", "")[:60], fields.get("phone", "")[:40] or None
    with ctx.db.write() as tx:
        notice = notices.find_notice(tx, code)
        why = notices.usable(notice, ctx.now())
        if why is not None or notice is None:
            return _unusable(request, why or "gone")
        problem = None
        try:
            start = parse_datetime(start_text, "slot")
            if not name or "\x00" in name + (phone or "") or start.year > 2199:
                raise NotAllowed("please give a first name or initials")
            visit = notices.book_from_notice(tx, ctx.settings.site, notice, service_id=service_id,
                                             start=start.astimezone(UTC), name=name, phone=phone, now=ctx.now())
            ctx.audit.record(tx, PUBLIC, "notice.book", patient_id=visit["patient_id"],
                             target=f"appointment:{visit['id']}", address=client_address(request))
        except (NotAllowed, RecordError) as exc:
            problem = str(exc)
        if problem is not None:
            slots = _slots(request, tx)
    if problem is not None:
        text = "That time was just taken — here are the nearest open times." if offered_times(problem) is not None \
            else problem
        return _notice(request, code, notice, slots, f"<p class=\"warn card\">{esc(text)}</p>", 409)
    return page(TITLE, [
        "<h1>You are booked</h1>",
        f"<div class=\"card ok\"><p><strong>{esc(_when(request, visit['start']))}</strong> · {esc(visit['kind'])}"
        f"</p><p>{esc(ctx.settings.site.name)}" + (f", {esc(ctx.settings.site.address)}" if ctx.settings.site.address
                                                   else "") + "</p></div>",
        "<p>It is free and confidential. You do not need to say who sent you.</p>",
        "<p class=\"muted\">Write the time down or keep this page: no reminder is sent.</p>",
        _phone(request, "To change or cancel, call")])


@router.post("/n/{code}/report", response_class=HTMLResponse, summary="Report a partner notice as misuse")
def notice_report(code: str, request: Request) -> HTMLResponse:
    limited = _limited(request)
    if limited is not None:
        return limited
    ctx = get_ctx(request)
    with ctx.db.write() as tx:
        notice = notices.find_notice(tx, code)
        if notice is None:
            return _unusable(request, "gone")
        notices.report_notice(tx, notice, ctx.now())
    return page(TITLE, ["<h1>Thank you</h1><p>This link no longer works. The clinic sees that it was reported.</p>",
                        _phone(request, "Questions? Call")])


@router.get("/v1/staff/notice-counts", summary="Partner notices: made, opened, booked, reported (totals only)")
def notice_counts(request: Request, member: ReadPatients) -> dict[str, Any]:
    ctx = get_ctx(request)
    with ctx.db.read() as conn:
        return notices.counts(conn, ctx.now())
