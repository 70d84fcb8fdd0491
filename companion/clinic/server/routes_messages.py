"""Staff API: messages to and from a patient, the PSR inbox, clinic articles."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request, Response

from . import articles as article_store
from . import messaging
from . import patients as patient_store
from .auth import staff_with
from .context import client_address, get_ctx
from .errors import found
from .pagination import Paging
from .principals import StaffPrincipal
from .records import article_view, inbox_view, message_view
from .schemas import ArticleCreate, MessageCreate

router = APIRouter(tags=["staff: messages"])

ReadPatients = Annotated[StaffPrincipal, Depends(staff_with("patients.read"))]
SendMessages = Annotated[StaffPrincipal, Depends(staff_with("messages.send"))]
UseInbox = Annotated[StaffPrincipal, Depends(staff_with("inbox"))]
WriteArticles = Annotated[StaffPrincipal, Depends(staff_with("articles.write"))]


@router.post("/v1/staff/patients/{patient_id}/messages", status_code=201, summary="Message a patient")
def send_message(patient_id: str, body: MessageCreate, request: Request, member: SendMessages) -> dict[str, Any]:
    ctx = get_ctx(request)
    with ctx.db.write() as tx:
        found(patient_store.get_patient(tx, patient_id), "patient")
        row = messaging.send_clinic_message(tx, patient_id, body.body, body.thread, member.id, member.name, ctx.now())
        ctx.audit.record(tx, member, "message.send", patient_id=patient_id, target=f"message:{row['id']}",
                         detail={"thread": body.thread}, address=client_address(request))
    return message_view(row)


@router.get("/v1/staff/patients/{patient_id}/messages", summary="A patient's conversation, newest first (paged)")
def list_messages(patient_id: str, request: Request, member: ReadPatients, page: Paging) -> dict[str, Any]:
    ctx = get_ctx(request)
    with ctx.db.read() as conn:
        found(patient_store.get_patient(conn, patient_id), "patient")
        rows, after = messaging.list_messages(conn, patient_id, page)
    ctx.audit.record_later(member, "read.messages", patient_id=patient_id, address=client_address(request))
    return {"messages": [message_view(r) for r in rows], "next": after}


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
    ctx = get_ctx(request)
    with ctx.db.read() as conn:
        row = found(messaging.get_inbox_item(conn, item_id), "inbox item")
    ctx.audit.record_later(member, "read.inbox_item", patient_id=row["patient_id"], target=f"inbox:{item_id}",
                           address=client_address(request))
    return inbox_view(row)


def _mark(item_id: str, request: Request, member: StaffPrincipal, handled: bool) -> dict[str, Any]:
    ctx = get_ctx(request)
    with ctx.db.write() as tx:
        row = found(messaging.get_inbox_item(tx, item_id), "inbox item")
        row = messaging.mark_inbox_item(tx, row, member.id, handled=handled, now=ctx.now())
        ctx.audit.record(tx, member, "inbox.handle" if handled else "inbox.read", patient_id=row["patient_id"],
                         target=f"inbox:{item_id}", address=client_address(request))
    return inbox_view(row)


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
    ctx = get_ctx(request)
    with ctx.db.write() as tx:
        row = article_store.publish_article(tx, body.model_dump(), member.id, ctx.now())
        ctx.audit.record(tx, member, "article.publish", target=f"article:{row['id']}", address=client_address(request))
    return article_view(row)


@router.get("/v1/staff/articles", summary="Published articles, newest first (paged)")
def list_articles(request: Request, member: ReadPatients, page: Paging,
                  include_retracted: Annotated[bool, Query()] = False) -> dict[str, Any]:
    ctx = get_ctx(request)
    with ctx.db.read() as conn:
        rows, after = article_store.list_articles(conn, page, include_retracted=include_retracted)
    return {"articles": [article_view(r) for r in rows], "next": after}


@router.delete("/v1/staff/articles/{article_id}", status_code=204, summary="Retract an article")
def retract_article(article_id: str, request: Request, member: WriteArticles) -> Response:
    ctx = get_ctx(request)
    with ctx.db.write() as tx:
        row = found(article_store.get_article(tx, article_id), "article")
        article_store.retract_article(tx, row, ctx.now())
        ctx.audit.record(tx, member, "article.retract", target=f"article:{article_id}",
                         address=client_address(request))
    return Response(status_code=204)
