"""Staff API: messages to and from a patient, the PSR inbox, clinic articles."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from . import articles as article_store
from . import messaging
from .audited import no_patient, read_patient_page, read_record, write_admitted, write_record
from .auth import StaffCheck, staff_checked_in_route, staff_with
from .context import client_address, get_ctx
from .database import Tx
from .errors import found, not_found
from .pagination import Paging
from .principals import StaffPrincipal
from .records import Row, article_view, inbox_view, message_view
from .schemas import ArticleCreate, MessageCreate, Strict, TBody

router = APIRouter(tags=["staff: messages"])

ReadPatients = Annotated[StaffPrincipal, Depends(staff_with("patients.read"))]
SendMessages = Annotated[StaffCheck, Depends(staff_checked_in_route("messages.send"))]
UseInbox = Annotated[StaffPrincipal, Depends(staff_with("inbox"))]
WriteArticles = Annotated[StaffPrincipal, Depends(staff_with("articles.write"))]


@router.post("/v1/staff/patients/{patient_id}/messages", status_code=201, response_model=None,
             summary="Message a patient")
async def send_message(patient_id: str, body: MessageCreate, request: Request, staff: SendMessages) -> JSONResponse:
    """The PSR's hot path (a live change starts here): the token check and the write share one trip to
    the thread pool, and, for a token admitted lately, one transaction (:func:`.audited.write_admitted`);
    the answer is not checked against a response model there (another trip)."""
    def send() -> dict[str, Any]:
        def change(tx: Tx, now: datetime, member: StaffPrincipal) -> Row:
            try:
                sent = messaging.send_clinic_message(tx, patient_id, body.body, body.thread, member.id, member.name,
                                                     now)
            except LookupError:
                raise not_found("patient") from None
            messaging.close_open_items(tx, patient_id, "message.send", member.id, now, thread=body.thread)
            return sent

        return message_view(write_admitted(request, staff, "message.send", change, detail={"thread": body.thread}))

    return JSONResponse(await run_in_threadpool(send), status_code=201)


@router.get("/v1/staff/patients/{patient_id}/messages", summary="A patient's conversation, newest first (paged)")
def list_messages(patient_id: str, request: Request, member: ReadPatients, page: Paging) -> dict[str, Any]:
    return read_patient_page(request, member, patient_id, "messages", message_view,
                             lambda conn, page: messaging.list_messages(conn, patient_id, page), page)


@router.get("/v1/staff/inbox",
            summary="What patients sent: messages, requests, cancellations, check-ins, plans; newest first (paged)")
def list_inbox(request: Request, member: UseInbox, page: Paging,
               state: Annotated[Literal["open", "handled", "all"], Query()] = "open",
               patient_id: Annotated[str | None, Query(max_length=40)] = None) -> dict[str, Any]:
    """``total`` and ``unread`` count every item in ``state`` (not only this page)."""
    ctx = get_ctx(request)
    with ctx.db.read() as conn:
        rows, after, total, unread = messaging.list_inbox(conn, page, state=state, patient_id=patient_id)
    ctx.audit.record_later(member, "read.inbox", patient_id=patient_id, detail={"count": len(rows)},
                           address=client_address(request))
    return {"items": [inbox_view(r) for r in rows], "next": after, "total": total, "unread": unread}


@router.get("/v1/staff/inbox/{item_id}", summary="One inbox item")
def get_inbox_item(item_id: str, request: Request, member: UseInbox) -> dict[str, Any]:
    return inbox_view(read_record(request, member, "read.inbox_item", "inbox item",
                                  lambda conn: messaging.get_inbox_item(conn, item_id), target="inbox"))


def _mark(item_id: str, request: Request, member: StaffPrincipal, handled: bool) -> dict[str, Any]:
    def mark(tx: Tx, now: datetime) -> Row:
        row = found(messaging.get_inbox_item(tx, item_id), "inbox item")
        return messaging.mark_inbox_item(tx, row, member.id, handled=handled, now=now)

    return inbox_view(write_record(request, member, "inbox.handle" if handled else "inbox.read", mark))


class ItemReply(Strict):
    body: TBody


@router.post("/v1/staff/inbox/{item_id}/reply", status_code=201,
             summary="Answer a message or billing question in its thread (settles the thread's items)")
def reply_to_item(item_id: str, body: ItemReply, request: Request, member: UseInbox) -> dict[str, Any]:
    """The reply goes into the item's thread (a billing question's: the bill's), so the patient's
    bill links to it; the item and the thread's other open items are done. 409 for other items.
    For those who work the inbox (it answers an item they see there)."""
    def reply(tx: Tx, now: datetime) -> Row:
        item = found(messaging.get_inbox_item(tx, item_id), "inbox item")
        return messaging.answer_item(tx, item, body.body, member.id, member.name, now)

    return message_view(write_record(request, member, "message.send", reply, detail={"inbox_item": item_id}))


@router.post("/v1/staff/inbox/{item_id}/read", summary="Mark an inbox item read")
def mark_read(item_id: str, request: Request, member: UseInbox) -> dict[str, Any]:
    return _mark(item_id, request, member, handled=False)


@router.post("/v1/staff/inbox/{item_id}/handle", summary="Mark an inbox item handled (done)")
def mark_handled(item_id: str, request: Request, member: UseInbox) -> dict[str, Any]:
    return _mark(item_id, request, member, handled=True)


@router.post("/v1/staff/articles", status_code=201, summary="Publish an article to every patient")
def add_article(body: ArticleCreate, request: Request, member: WriteArticles) -> dict[str, Any]:
    """Every device gets the article at its next sync. The body is Markdown of at most 20,000
    characters (a longer one gets 422 naming the limit), the title at most 200."""
    return article_view(write_record(
        request, member, "article.publish",
        lambda tx, now: article_store.publish_article(tx, body.model_dump(), member.id, now), patient_of=no_patient))


@router.get("/v1/staff/articles", summary="Published articles, newest first (paged)")
def list_articles(request: Request, member: ReadPatients, page: Paging,
                  include_retracted: Annotated[bool, Query()] = False) -> dict[str, Any]:
    ctx = get_ctx(request)
    with ctx.db.read() as conn:
        rows, after = article_store.list_articles(conn, page, include_retracted=include_retracted)
    return {"articles": [article_view(r) for r in rows], "next": after}


@router.delete("/v1/staff/articles/{article_id}", status_code=204, summary="Retract an article")
def retract_article(article_id: str, request: Request, member: WriteArticles) -> Response:
    def retract(tx: Tx, now: datetime) -> Row:
        row = found(article_store.get_article(tx, article_id), "article")
        article_store.retract_article(tx, row, now)
        return row

    write_record(request, member, "article.retract", retract, patient_of=no_patient)
    return Response(status_code=204)
