"""Many rows into one table in one driver call: what a push writes for a run of mutations (their
messages, feed rows, inbox items, decisions and audit rows: 100 of each for 100 mutations).

    insert_rows(tx.conn, audit, rows)     # rows: mappings that all name the same columns

SQLAlchemy's ``conn.execute(insert, rows)`` builds, type-processes and re-orders a parameter
dictionary per row, which for a push costs more than SQLite's own work. :func:`insert_rows`
compiles the INSERT once per table, column set and dialect, applies each column's bind processor
itself (once per distinct value: the rows of one push share one timestamp) and hands the driver
plain tuples (SQLite's ``?``) or dictionaries (psycopg's ``%(name)s``) through
``exec_driver_sql``: one prepared statement run for every row on SQLite, one pipeline on
psycopg, and SQLAlchemy's statement events still fire (tests count statements with them).

Only for tables without Python-side column defaults (a column the rows leave out gets its
server default or ``NULL``); a table with one is refused, so a default added later cannot be
skipped silently.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Dialect

__all__ = ["insert_row_returning", "insert_rows", "prepare"]

Processor = Callable[[Any], Any]
# (SQL as the driver takes it, column keys in parameter order, positional?, a bind processor per key)
_Plan = tuple[str, tuple[str, ...], bool, tuple[Processor | None, ...]]
_PLANS: dict[tuple[str, str, tuple[str, ...], str | None], _Plan] = {}  # by dialect, table, sorted columns, RETURNING


def insert_rows(conn: Connection, table: sa.Table, rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert ``rows`` (each naming exactly the columns of the first) in one ``executemany``."""
    if rows:
        conn.exec_driver_sql(*_statement(conn, table, rows))


def insert_row_returning(conn: Connection, table: sa.Table, row: Mapping[str, Any], column: str) -> Any:
    """Insert one row as :func:`insert_rows` does and return the value the database gave ``column``
    (a generated key), in the same statement (``RETURNING``: SQLite 3.35+, PostgreSQL)."""
    return conn.exec_driver_sql(*_statement(conn, table, [row], column)).scalar_one()


def _statement(conn: Connection, table: sa.Table, rows: Sequence[Mapping[str, Any]],
               returning: str | None = None) -> tuple[str, Any]:
    """The planned INSERT of ``rows`` (``RETURNING`` the column ``returning``) and its driver
    parameters (one set for one row, else a list)."""
    keys = tuple(rows[0])
    sql, order, positional, processors = _plan(conn.dialect, table, tuple(sorted(keys)), returning)
    width = len(keys)
    columns: list[list[Any]] = []
    try:
        if any(len(row) != width for row in rows):
            raise KeyError(width)
        for key, process in zip(order, processors, strict=True):
            values = [row[key] for row in rows]
            if process is not None:
                done: dict[Any, Any] = {}
                values = [None if v is None else done[v] if v in done else done.setdefault(v, process(v))
                          for v in values]
            columns.append(values)
    except KeyError:
        raise ValueError(f"insert_rows({table.name}): every row must name the columns of the first, "
                         f"{', '.join(keys)}") from None
    params: list[Any] = list(zip(*columns, strict=True))
    if not positional:
        params = [dict(zip(order, values, strict=True)) for values in params]
    return sql, params if len(params) > 1 else params[0]


def prepare(dialect: Dialect, table: sa.Table, columns: Sequence[str]) -> None:
    """Compile the INSERT of these columns now (at start-up), so the first push does not pay for it."""
    _plan(dialect, table, tuple(sorted(columns)))


def _plan(dialect: Dialect, table: sa.Table, keys: tuple[str, ...], returning: str | None = None) -> _Plan:
    cache_key = (dialect.name, table.name, keys, returning)
    plan = _PLANS.get(cache_key)
    if plan is None:
        defaulted = [c.name for c in table.columns if c.default is not None and c.name not in keys]
        if defaulted:
            raise ValueError(f"insert_rows({table.name}): Python-side defaults for {defaulted} would be skipped")
        insert = sa.insert(table) if returning is None else sa.insert(table).returning(table.c[returning])
        compiled = insert.compile(dialect=dialect, column_keys=list(keys))
        order = tuple(compiled.positiontup or ()) if compiled.positional else keys
        if sorted(order) != sorted(keys) or compiled.escaped_bind_names:
            raise ValueError(f"insert_rows({table.name}): cannot bind {keys} as plain parameters")
        processors = tuple(table.c[key].type.dialect_impl(dialect).bind_processor(dialect) for key in order)
        plan = _PLANS[cache_key] = (compiled.string, order, compiled.positional, processors)
    return plan
