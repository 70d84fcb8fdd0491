"""A push's bookkeeping, on SQLite and PostgreSQL: the rows of a run go to the driver in one statement
per table (:mod:`companion.clinic.server.bulk_insert`), new messages' feed rows skip looking for rows to
replace, and the route takes the device from the pull memo when it is fresh — none of which may cost a
rule: a device revoked after its pull is refused, a refused token is refused before its body is read.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from companion.clinic.server.bulk_insert import insert_rows
from companion.clinic.server.changes import publish_many
from companion.clinic.server.database import Database
from companion.clinic.server.schema import audit, changes
from companion.core.models import Message
from tests.fixtures.server import BACKENDS, ServerFactory
from tests.support.server_harness import ServerProcess, mutation, pull_all


def _db_url(backend: str, request: pytest.FixtureRequest, tmp_path: Any) -> str:
    if backend == "postgresql":
        url: str = request.getfixturevalue("postgres_server").new_database()
        return url
    return f"sqlite:///{tmp_path / 'clinic.db'}"


@pytest.fixture(params=BACKENDS)
def database(request: pytest.FixtureRequest, tmp_path: Any) -> Any:
    db = Database(_db_url(request.param, request, tmp_path), pool_size=2)
    db.init_schema()
    try:
        yield db
    finally:
        db.dispose()


def _audit_row(at: datetime, n: int, detail: str | None) -> dict[str, Any]:
    return {"at": at, "actor_type": "device", "actor_id": f"dev_{n}", "role": None, "patient_id": "pat_bulk",
            "action": "push.message.send", "target": f"message:msg_{n}", "detail": detail, "address": "127.0.0.1"}


def test_insert_rows_stores_every_row_as_the_orm_statement_would(database: Database) -> None:
    """Times go through the column's type (fixed-width UTC text, back as aware datetimes), ``None``
    stays ``NULL``, order is kept, and one row alone works as well as many."""
    first = datetime(2026, 12, 1, 20, 0, 0, 123456, tzinfo=UTC)
    later = datetime(2026, 12, 1, 22, 30, tzinfo=UTC) - timedelta(microseconds=1)
    rows = [_audit_row(first if n % 2 else later, n, None if n % 3 else f'{{"n":{n}}}') for n in range(7)]
    with database.write() as tx:
        insert_rows(tx.conn, audit, rows)
        insert_rows(tx.conn, audit, [_audit_row(first, 99, "one")])
        insert_rows(tx.conn, audit, [])
    with database.read() as conn:
        stored = conn.execute(sa.select(audit).where(audit.c.patient_id == "pat_bulk").order_by(audit.c.id)) \
            .mappings().all()
    assert [(r["actor_id"], r["at"], r["detail"]) for r in stored] == \
        [(r["actor_id"], r["at"], r["detail"]) for r in [*rows, _audit_row(first, 99, "one")]]
    assert all(r["at"].tzinfo is UTC for r in stored)


def test_insert_rows_refuses_rows_that_name_other_columns(database: Database) -> None:
    """A row naming fewer or more columns than the first would be stored wrongly: refused, nothing stored."""
    now = datetime.now(UTC)
    short = _audit_row(now, 2, None)
    del short["address"]
    longer = {**_audit_row(now, 3, None), "id": 424242}
    for odd in (short, longer):
        with pytest.raises(ValueError, match="every row must name the columns"), database.write() as tx:
            insert_rows(tx.conn, audit, [_audit_row(now, 1, None), odd])
    with database.read() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(audit)
                            .where(audit.c.patient_id == "pat_bulk")).scalar_one() == 0


def test_insert_rows_refuses_a_table_whose_python_defaults_it_would_skip(database: Database) -> None:
    table = sa.Table("defaulted", sa.MetaData(), sa.Column("id", sa.Integer, primary_key=True),
                     sa.Column("state", sa.String(10), default="new"))
    with pytest.raises(ValueError, match="defaults for \\['state'\\]"), database.write() as tx:
        insert_rows(tx.conn, table, [{"id": 1}])


def _message(message_id: str, body: str) -> Message:
    return Message(id=message_id, thread="general", author="patient", body=body, sent_at=datetime.now(UTC))


def test_a_fresh_feed_row_for_a_record_already_in_the_feed_fails_its_transaction(database: Database) -> None:
    """``fresh`` skips the search for a previous row; should one exist after all, the unique
    ``(kind, record_id)`` refuses the insert and nothing of that transaction stays."""
    with database.write() as tx:
        publish_many(tx, "pat_fresh", [_message("msg_fresh1", "first"), _message("msg_fresh2", "second")], fresh=True)
    with pytest.raises(sa.exc.IntegrityError), database.write() as tx:
        publish_many(tx, "pat_fresh", [_message("msg_fresh3", "third")], fresh=True)
        publish_many(tx, "pat_fresh", [_message("msg_fresh1", "again")], fresh=True)
    with database.write() as tx:  # without fresh, the record's row is replaced as always
        publish_many(tx, "pat_fresh", [_message("msg_fresh2", "edited")])
    with database.read() as conn:
        rows = conn.execute(sa.select(changes.c.record_id, changes.c.data).where(changes.c.scope == "pat_fresh")
                            .order_by(changes.c.seq)).all()
    assert [(rid, '"edited"' in data) for rid, data in rows] == [("msg_fresh1", False), ("msg_fresh2", True)]


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def test_a_device_revoked_after_its_pull_cannot_push(server_factory: ServerFactory, backend: str) -> None:
    """The pull remembers the device (so the push can skip reading it); the revocation makes that
    stale at once: the push is refused as revoked and applies nothing."""
    server = server_factory(backend)
    pid = server.staff.add_patient("Revoked Pusher")["id"]
    device = server.pair_device(pid)
    with server.device_client(device["token"]) as http:
        pull_all(http)
        pull_all(http)  # answered from the memo: the device is remembered
        first = mutation("message.send", body="sent while paired")
        assert http.post("/v1/sync", json={"mutations": [first]}).json()["results"][0]["status"] == "applied"
        pull_all(http)
        server.staff.revoke_device(device["device_id"])
        late = mutation("message.send", body="sent after the revocation")
        response = http.post("/v1/sync", json={"mutations": [late]})
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "device_revoked"
    bodies = [m["body"] for m in server.staff.collect(f"/v1/staff/patients/{pid}/messages", "messages")]
    assert "sent while paired" in bodies
    assert "sent after the revocation" not in bodies


def test_a_refused_token_is_refused_before_its_body_is_read(sqlite_server: ServerProcess) -> None:
    """An unknown token with a malformed batch gets 401, not a 422 that would describe the body; the
    same batch from a paired device gets the 422."""
    junk = {"mutations": [{"id": "x", "type": "message.send", "payload": {}, "surplus": 1}]}
    with sqlite_server.device_client("cpd_" + "A" * 43) as stranger:
        response = stranger.post("/v1/sync", json=junk)
    assert response.status_code == 401, response.text
    assert response.json()["error"]["code"] == "invalid_token"
    pid = sqlite_server.staff.add_patient("Body Checked")["id"]
    device = sqlite_server.pair_device(pid)
    with sqlite_server.device_client(device["token"]) as http:
        assert http.post("/v1/sync", json=junk).status_code == 422


def test_the_server_compiles_a_run_of_messages_inserts_at_start_up(server_factory: ServerFactory) -> None:
    """The first push pays for no statement compilation: every insert a run of messages makes was
    prepared when the app was built (a column set the warm-up missed would be compiled here)."""
    from companion.clinic.server import bulk_insert
    from companion.clinic.server.app import create_app
    from companion.clinic.server.mutations import apply_push
    from companion.clinic.server.principals import DevicePrincipal
    from companion.clinic.server.settings import Settings

    server = server_factory("sqlite")
    pid = server.staff.add_patient("Warm Start")["id"]
    device = server.pair_device(pid)
    server.stop()
    bulk_insert._PLANS.clear()
    app = create_app(Settings.from_env(server.db_url))
    ctx = app.state.ctx
    try:
        prepared = dict(bulk_insert._PLANS)
        assert prepared
        principal = DevicePrincipal(id=device["device_id"], patient_id=pid, name="Test phone")
        batch = [mutation("message.send", body=f"warm {i}") for i in range(5)]
        assert {a["status"] for a in apply_push(ctx, ctx.audit, principal, batch, "127.0.0.1")} == {"applied"}
        assert prepared == bulk_insert._PLANS
    finally:
        ctx.db.dispose()


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def test_a_push_admitted_before_a_revocation_it_did_not_hear_of_applies_nothing(
        server_factory: ServerFactory, backend: str) -> None:
    """However the token was admitted (another process's memo learns of a revocation only when its
    NOTIFY arrives), the push's own transaction sees the revocation: refused whole, nothing applied."""
    from companion.clinic.server.app import create_app
    from companion.clinic.server.errors import ApiError
    from companion.clinic.server.mutations import apply_push
    from companion.clinic.server.principals import DevicePrincipal
    from companion.clinic.server.settings import Settings

    server = server_factory(backend)
    pid = server.staff.add_patient("Revoked Elsewhere")["id"]
    device = server.pair_device(pid)
    principal = DevicePrincipal(id=device["device_id"], patient_id=pid, name="Test phone")  # as admitted
    server.staff.revoke_device(device["device_id"])  # committed by the server process, unheard of here
    server.stop()
    ctx = create_app(Settings.from_env(server.db_url)).state.ctx
    try:
        with pytest.raises(ApiError) as refused:
            apply_push(ctx, ctx.audit, principal, [mutation("message.send", body="after the revocation")],
                       "127.0.0.1")
        assert refused.value.code == "device_revoked"
        with ctx.db.read() as conn:
            assert conn.execute(sa.select(sa.func.count()).select_from(changes)
                                .where(changes.c.scope == pid, changes.c.kind == "message")).scalar() == 0
    finally:
        ctx.db.dispose()


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def test_a_push_costs_few_statements_per_mutation(server_factory: ServerFactory, backend: str) -> None:
    """Round trips matter on PostgreSQL: the seen-lookup, the decisions and the audit rows are one
    statement per batch, and so is a run of plain messages (the messages, their feed rows, their inbox
    items): a push of them costs the same few statements whether it carries 20 or 60."""
    from companion.clinic.server.app import create_app
    from companion.clinic.server.mutations import apply_push
    from companion.clinic.server.principals import DevicePrincipal
    from companion.clinic.server.settings import Settings

    server = server_factory(backend)
    pid = server.staff.add_patient("Counted")["id"]
    device = server.pair_device(pid)
    server.stop()
    app = create_app(Settings.from_env(server.db_url))
    ctx = app.state.ctx
    statements: list[str] = []
    sa.event.listen(ctx.db.engine, "before_cursor_execute",
                    lambda conn, cursor, statement, *rest: statements.append(statement))
    principal = DevicePrincipal(id=device["device_id"], patient_id=pid, name="Test phone")
    try:
        for count in (20, 60):
            statements.clear()
            batch = [mutation("message.send", body=f"counted {i}") for i in range(count)]
            answers = apply_push(ctx, ctx.audit, principal, batch, "127.0.0.1")
            assert {a["status"] for a in answers} == {"applied"}
            assert len(statements) <= 14, f"{len(statements)} statements for {count} messages: {statements}"
        statements.clear()
        assert {a["status"] for a in apply_push(ctx, ctx.audit, principal, batch, "127.0.0.1")} == {"duplicate"}
        assert len(statements) <= 3, statements  # the retry of a whole batch: one lookup, no writes
    finally:
        ctx.db.dispose()
