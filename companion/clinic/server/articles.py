"""Clinic articles: Markdown pages every patient of the clinic gets ("what to expect at an STI
screening", "window periods", "how results reach you", costs and insurance).

They live in the clinic-wide feed scope, so one row serves every device. Retracting one leaves a
tombstone there. A body holds at most :data:`~.schemas.MAX_ARTICLE_CHARS` (20,000) characters:
every device downloads every article, so the limit keeps a page of them small (see :mod:`.feed`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from .changes import CLINIC_SCOPE, publish, retract
from .database import Tx
from .pagination import Order, PageRequest, paginate
from .records import Row, article_of, row_by_id
from .schema import articles
from .tokens import new_id


def get_article(conn: Connection | Tx, article_id: str) -> Row | None:
    return row_by_id(conn, articles, article_id)


ARTICLE_ORDER = Order.of("articles", (articles.c.published_at, True), articles.c.id)


def list_articles(conn: Connection, page: PageRequest, include_retracted: bool = False) -> tuple[list[Row], str | None]:
    """One page of articles, newest first."""
    query = sa.select(articles)
    if not include_retracted:
        query = query.where(articles.c.retracted_at.is_(None))
    return paginate(conn, query, ARTICLE_ORDER, page)


def publish_article(tx: Tx, fields: Mapping[str, Any], staff_id: str, now: datetime) -> Row:
    tags = sorted({t.strip() for t in fields.get("tags") or [] if t.strip()})
    values = {"id": new_id("art"), "title": fields["title"], "body": fields["body"], "tags": json.dumps(tags),
              "appointment_kind": fields.get("appointment_kind"), "published_at": now, "created_by": staff_id,
              "retracted_at": None, "translations": json.dumps(fields.get("translations") or {}, sort_keys=True)}
    tx.execute(sa.insert(articles).values(values))
    row = get_article(tx, values["id"])
    assert row is not None
    publish(tx, CLINIC_SCOPE, article_of(row))
    return row


def retract_article(tx: Tx, row: Row, now: datetime) -> Row:
    if row["retracted_at"] is None:
        tx.execute(sa.update(articles).where(articles.c.id == row["id"]).values(retracted_at=now))
        retract(tx, CLINIC_SCOPE, "article", row["id"])
    fresh = get_article(tx, row["id"])
    assert fresh is not None
    return fresh
