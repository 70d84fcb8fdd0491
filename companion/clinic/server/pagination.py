"""Every staff list answers one page at a time, in one shape (documented here, once).

Request: ``GET /v1/staff/…?limit=N&after=CURSOR``

- ``limit``: how many items, 1 to :data:`MAX_LIMIT` (default :data:`DEFAULT_LIMIT`, or what the
  list's description says).
- ``after``: absent for the first page, else the ``next`` of the previous answer (opaque).

Answer: the items under the list's own name (``{"appointments": [...]}``, ``{"items": [...]}``
for the inbox …) plus ``"next"``: the cursor of the following page, or ``null`` when this page
is the last. A client that needs everything loops until ``next`` is ``null``.

Keyset pagination: a cursor carries the sort key of the page's last item (say ``start`` and
``id``) and the next page begins strictly after it in the list's order. Items added or removed
meanwhile never make a page repeat or skip an item, as an offset would, and each page costs an
index range scan, never a walk over everything before it. A cursor names the list it belongs
to; a cursor of another list, or a mangled one, gets 422.

Use: a route declares ``page: Paging`` and calls :func:`paginate` with its query and
:class:`Order`; the store modules build the query, this module pages it.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated, Any

import sqlalchemy as sa
from fastapi import Depends, Query

from .errors import ApiError
from .schema import UtcDateTime

MAX_LIMIT = 500
DEFAULT_LIMIT = 100
_BAD_CURSOR = "after: not a cursor of this list (use the `next` of the previous page)"


@dataclass(frozen=True, slots=True)
class PageRequest:
    limit: int = DEFAULT_LIMIT
    after: str | None = None


def _page_request(
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description=f"Items per page, at most {MAX_LIMIT}")] = (
        DEFAULT_LIMIT),
    after: Annotated[str | None, Query(max_length=500, description="The `next` of the previous page")] = None,
    offset: Annotated[str | None, Query(include_in_schema=False)] = None,
) -> PageRequest:
    if offset is not None:  # a client of the offset era would otherwise get page one for ever
        raise ApiError(422, "invalid_request", "offset: lists page with `after` (the `next` of the previous page)")
    return PageRequest(limit=limit, after=after or None)


Paging = Annotated[PageRequest, Depends(_page_request)]


@dataclass(frozen=True, slots=True)
class Order:
    """A list's sort order: columns with their direction, ending in a unique one (the id)."""

    name: str
    keys: tuple[tuple[sa.ColumnElement[Any], bool], ...]  # (column, descending)

    @classmethod
    def of(cls, name: str, *keys: sa.ColumnElement[Any] | tuple[sa.ColumnElement[Any], bool]) -> Order:
        """``Order.of("bills", bills.c.due, bills.c.id)``; ``(column, True)`` sorts newest first."""
        return cls(name, tuple(k if isinstance(k, tuple) else (k, False) for k in keys))

    def clauses(self) -> list[sa.ColumnElement[Any]]:
        return [column.desc() if descending else column.asc() for column, descending in self.keys]

    def after(self, values: Sequence[Any]) -> sa.ColumnElement[bool]:
        """Rows strictly after ``values`` in this order: (a > x) or (a = x and b > y) …"""
        alternatives = []
        for i, (column, descending) in enumerate(self.keys):
            same = [self.keys[j][0] == values[j] for j in range(i)]
            beyond = column < values[i] if descending else column > values[i]
            alternatives.append(sa.and_(*same, beyond))
        return sa.or_(*alternatives)


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return value


def _typed(column: sa.ColumnElement[Any], value: Any) -> Any:
    """The cursor's value as the column's Python type; ValueError when it cannot be one."""
    kind = column.type
    if isinstance(kind, UtcDateTime):
        parsed = datetime.fromisoformat(str(value))
        if parsed.tzinfo is None:
            raise ValueError("naive time")
        return parsed
    if isinstance(kind, sa.Date):
        return date.fromisoformat(str(value))
    if isinstance(kind, sa.Integer):
        if not isinstance(value, int) or isinstance(value, bool):
            raise ValueError("not a whole number")
        return value
    if not isinstance(value, str):
        raise ValueError("not text")
    return value


def encode_cursor(order: Order, row: Any) -> str:
    key = [order.name, *(_plain(row[column]) for column, _ in order.keys)]
    return base64.urlsafe_b64encode(json.dumps(key, separators=(",", ":")).encode()).decode().rstrip("=")


def decode_cursor(order: Order, cursor: str) -> list[Any]:
    try:
        key = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if not isinstance(key, list) or len(key) != len(order.keys) + 1 or key[0] != order.name:
            raise ValueError("another list")
        return [_typed(column, value) for (column, _), value in zip(order.keys, key[1:], strict=True)]
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError):
        raise ApiError(422, "invalid_request", _BAD_CURSOR) from None


def paginate(conn: Any, query: sa.Select[Any], order: Order, page: PageRequest) -> tuple[list[Any], str | None]:
    """One page of ``query`` in ``order``: ``(rows, next cursor or None)``."""
    if page.after:
        query = query.where(order.after(decode_cursor(order, page.after)))
    rows = list(conn.execute(query.order_by(*order.clauses()).limit(page.limit + 1)).mappings())
    if len(rows) <= page.limit:
        return rows, None
    rows = rows[:page.limit]
    return rows, encode_cursor(order, rows[-1])
