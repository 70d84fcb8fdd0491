"""The clinic database schema (SQLAlchemy Core), identical on SQLite and PostgreSQL.

Bump :data:`SCHEMA_VERSION` and add a step to ``database.MIGRATIONS`` for every change.

Times are stored by :class:`UtcDateTime` as fixed-width ISO text, so they compare correctly as
strings on both databases and always come back as aware UTC datetimes.

The ``changes`` table is the sync feed: one row per record, holding the record's latest wire
JSON (``data``, ``NULL`` for a tombstone) under the newest global sequence number ``seq``.
``scope`` is the patient id, or :data:`CLINIC_SCOPE` for clinic-wide records (articles); a pull
is two index range scans on ``(scope, seq)``. Rows are replaced (delete + insert under a new
``seq``), never updated, so the table stays as big as the number of records.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect

SCHEMA_VERSION = 8  # 2: staff.password_hash, staff_sessions, signin_failures (desk sign-in); 3: results.sample_taken;
# 4: devices.vault_generation (the rollback check); 5: patients.prep_test_due (the next PrEP test);
# 6: devices.language (the desk shows the patient's language), articles.translations (a clinic article's
# Spanish version)
# 7: services, service_hours, schedule_blocks, bookings, notices, notice_counts (self-booking, partner notices)
# 8: ix_devices_patient_seen (a patient's language, read with the patient) replaces ix_devices_patient_id
CLINIC_SCOPE = "*"

metadata = sa.MetaData()

# BIGINT on PostgreSQL; SQLite needs exactly INTEGER for an auto-incrementing rowid alias.
BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


class UtcDateTime(sa.types.TypeDecorator[datetime]):
    """Aware datetime <-> ``YYYY-MM-DDTHH:MM:SS.ffffffZ`` text (sortable, dialect-neutral)."""

    impl = sa.String(32)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> str | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime refused: store aware UTC times only")
        # isoformat pads the year to four digits (strftime's %Y writes year 1 as "1": unreadable, unsortable)
        return value.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return datetime.strptime(str(value), "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


def _id(name: str = "id") -> sa.Column[str]:
    return sa.Column(name, sa.String(40), primary_key=True)


def _when(name: str) -> sa.Column[datetime]:
    """A moment that is always recorded (``created_at``, ``expires_at``…), UTC."""
    return sa.Column(name, UtcDateTime, nullable=False)


def _ref(name: str, target: str, *, nullable: bool = False, index: bool = True) -> sa.Column[str]:
    return sa.Column(name, sa.String(40), sa.ForeignKey(target), nullable=nullable, index=index)


meta = sa.Table(
    "meta", metadata,
    sa.Column("key", sa.String(50), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
)

staff = sa.Table(
    "staff", metadata,
    _id(),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("role", sa.String(20), nullable=False),
    sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
    _when("created_at"),
    sa.Column("created_by", sa.String(40)),
    sa.Column("revoked_at", UtcDateTime),
    sa.Column("password_hash", sa.String(200)),  # argon2id, for desk sign-in; NULL: token only
)

# Desk sign-ins: a session token works like a staff token until it idles out, expires or is ended.
staff_sessions = sa.Table(
    "staff_sessions", metadata,
    _id(),
    _ref("staff_id", "staff.id"),
    sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
    _when("created_at"),
    _when("last_used_at"),
    _when("expires_at"),
    sa.Column("ended_at", UtcDateTime),
    sa.Column("address", sa.String(64)),
)

# Failed sign-ins, keyed "account:<staff id or lower-cased name hash>" or "address:<ip>", for backoff.
signin_failures = sa.Table(
    "signin_failures", metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("key", sa.String(100), nullable=False),
    _when("at"),
    sa.Index("ix_signin_failures_key_at", "key", "at"),
    sqlite_autoincrement=True,
)

patients = sa.Table(
    "patients", metadata,
    _id(),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("search_text", sa.String(700), nullable=False),  # lower-cased name/phone/email for search
    sa.Column("dob", sa.Date),
    sa.Column("phone", sa.String(40)),
    sa.Column("email", sa.String(200)),
    sa.Column("ins_payer", sa.String(200)),
    sa.Column("ins_member_id", sa.String(200)),
    sa.Column("ins_group", sa.String(200)),
    sa.Column("ins_status", sa.String(20), nullable=False, server_default="none"),
    sa.Column("ins_note", sa.Text),
    sa.Column("prep_test_due", sa.Date),  # the next PrEP test, set on the desk; the app reminds the patient
    _when("created_at"),
    _when("updated_at"),
)

pairing_codes = sa.Table(
    "pairing_codes", metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("lookup", sa.String(8), nullable=False, index=True),  # public first part of the code
    sa.Column("code_hash", sa.String(64), nullable=False),
    _ref("patient_id", "patients.id"),
    sa.Column("created_by", sa.String(40), nullable=False),
    _when("created_at"),
    _when("expires_at"),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("used_at", UtcDateTime),
    sa.Column("device_id", sa.String(40)),
    sqlite_autoincrement=True,
)

pairing_failures = sa.Table(
    "pairing_failures", metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("address", sa.String(64), nullable=False),
    _when("at"),
    sa.Index("ix_pairing_failures_address_at", "address", "at"),
)

devices = sa.Table(
    "devices", metadata,
    _id(),
    _ref("patient_id", "patients.id", index=False),  # ix_devices_patient_seen starts with it
    sa.Column("name", sa.String(100), nullable=False),
    sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
    _when("created_at"),
    sa.Column("last_seen_at", UtcDateTime),
    sa.Column("revoked_at", UtcDateTime),
    sa.Column("revoked_by", sa.String(40)),
    # The highest vault generation the device reported (written with last_seen_at): a device
    # reporting less was put back to an older copy (see core.protocol, rollback check).
    sa.Column("vault_generation", sa.BigInteger),
    # The language the app on the device speaks, as its last pull said (core.protocol LANGUAGE_HEADER).
    sa.Column("language", sa.String(3)),
    # A patient's devices newest first, with what the patient's language (patients.LANGUAGE, read by
    # every staff route that reads a patient) filters on: one index range read, no sort, no table rows.
    # last_seen_at is written at most every auth.LAST_SEEN_EVERY per device, so keeping it is cheap.
    sa.Index("ix_devices_patient_seen", "patient_id", "last_seen_at", "revoked_at", "language"),
)

appointments = sa.Table(
    "appointments", metadata,
    _id(),
    _ref("patient_id", "patients.id"),
    _when("start"),
    sa.Column("minutes", sa.Integer, nullable=False),
    sa.Column("kind", sa.String(200), nullable=False),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("location", sa.String(500)),
    sa.Column("provider", sa.String(200)),
    sa.Column("what_to_bring", sa.Text),
    sa.Column("sensitive", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("sequence", sa.Integer, nullable=False, server_default="0"),
    sa.Column("checked_in_at", UtcDateTime),
    sa.Column("note", sa.Text),
    _when("created_at"),
    _when("updated_at"),
)

prep_steps = sa.Table(
    "prep_steps", metadata,
    _id(),
    _ref("patient_id", "patients.id"),
    _ref("appointment_id", "appointments.id"),
    sa.Column("title", sa.String(200), nullable=False),
    sa.Column("body", sa.Text, nullable=False),
    sa.Column("before_minutes", sa.Integer, nullable=False),
    sa.Column("done_at", UtcDateTime),
    _when("created_at"),
)

bills = sa.Table(
    "bills", metadata,
    _id(),
    _ref("patient_id", "patients.id"),
    sa.Column("description", sa.String(500), nullable=False),
    sa.Column("total_cents", sa.BigInteger, nullable=False),
    sa.Column("insurance_paid_cents", sa.BigInteger, nullable=False),
    sa.Column("patient_cents", sa.BigInteger, nullable=False),
    sa.Column("due", sa.Date, nullable=False),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("lines", sa.Text, nullable=False, server_default="[]"),  # JSON list of BillLine dicts
    sa.Column("plan_status", sa.String(20)),
    sa.Column("plan_installments", sa.Integer),
    sa.Column("plan_note", sa.Text),
    _when("created_at"),
    _when("updated_at"),
)

results = sa.Table(
    "results", metadata,
    _id(),
    _ref("patient_id", "patients.id"),
    sa.Column("test", sa.String(200), nullable=False),
    sa.Column("interpretation", sa.String(20), nullable=False),
    sa.Column("value", sa.String(200)),
    sa.Column("loinc", sa.String(20)),
    sa.Column("reference_range", sa.String(200)),
    sa.Column("note", sa.Text),
    sa.Column("sensitive", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("appointment_id", sa.String(40)),
    sa.Column("state", sa.String(20), nullable=False),  # held | released | blocked
    sa.Column("released_at", UtcDateTime),
    sa.Column("released_by", sa.String(40)),
    sa.Column("acknowledged_at", UtcDateTime),
    sa.Column("sample_taken", sa.Date),  # NULL for results recorded before schema 3 (and when not given)
    sa.Column("created_by", sa.String(40), nullable=False),
    _when("created_at"),
)

messages = sa.Table(
    "messages", metadata,
    _id(),
    _ref("patient_id", "patients.id"),
    sa.Column("thread", sa.String(50), nullable=False),
    sa.Column("author", sa.String(20), nullable=False),  # patient | clinic
    sa.Column("body", sa.Text, nullable=False),
    _when("sent_at"),
    sa.Column("staff_id", sa.String(40)),
    sa.Column("author_name", sa.String(200)),
    sa.Column("read_at", UtcDateTime),
    sa.Column("client_id", sa.String(100), unique=True),
)

inbox = sa.Table(
    "inbox", metadata,
    _id(),
    _ref("patient_id", "patients.id"),
    sa.Column("kind", sa.String(40), nullable=False),  # the mutation type that caused it
    sa.Column("ref_kind", sa.String(20)),
    sa.Column("ref_id", sa.String(40)),
    sa.Column("mutation_id", sa.String(100)),
    sa.Column("detail", sa.Text, nullable=False, server_default="{}"),
    _when("created_at"),
    sa.Column("read_at", UtcDateTime),
    sa.Column("read_by", sa.String(40)),
    sa.Column("handled_at", UtcDateTime),
    sa.Column("handled_by", sa.String(40)),
    sa.Index("ix_inbox_handled_created", "handled_at", "created_at"),
)

articles = sa.Table(
    "articles", metadata,
    _id(),
    sa.Column("title", sa.String(200), nullable=False),
    sa.Column("body", sa.Text, nullable=False),
    sa.Column("tags", sa.Text, nullable=False, server_default="[]"),
    sa.Column("appointment_kind", sa.String(200)),
    # the article in other languages, JSON {"es": {"title": …, "body": …}} (core.models.Article)
    sa.Column("translations", sa.Text, nullable=False, server_default="{}"),
    _when("published_at"),
    sa.Column("created_by", sa.String(40), nullable=False),
    sa.Column("retracted_at", UtcDateTime),
)

# Self-booking (see booking.py and open_times.py): what patients may book, when, and on which room or
# provider ("resource"); blocks close a resource (or the whole clinic, resource NULL) for a while.
services = sa.Table(
    "services", metadata,
    _id(),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("minutes", sa.Integer, nullable=False),
    sa.Column("prep", sa.Text, nullable=False, server_default="[]"),  # JSON list of PrepItem dicts
    sa.Column("sensitive", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
    sa.Column("fast_track", sa.Boolean, nullable=False, server_default=sa.false()),  # offered on partner notices
    _when("created_at"),
    _when("updated_at"),
)

service_hours = sa.Table(
    "service_hours", metadata,
    _id(),
    _ref("service_id", "services.id"),
    sa.Column("weekday", sa.String(3), nullable=False),  # mon..sun
    sa.Column("opens", sa.String(5), nullable=False),  # HH:MM, the clinic's local time
    sa.Column("closes", sa.String(5), nullable=False),
    sa.Column("resource", sa.String(200), nullable=False),  # a room or a provider
)

schedule_blocks = sa.Table(
    "schedule_blocks", metadata,
    _id(),
    sa.Column("resource", sa.String(200)),  # NULL: the whole clinic (a holiday)
    _when("starts_at"),
    _when("ends_at"),
    sa.Column("reason", sa.String(200)),
    sa.Column("created_by", sa.String(40), nullable=False),
    _when("created_at"),
)

# One row per visit booked from an open time: which resource it holds from start to end. A visit
# that is cancelled frees it (open times read only bookings whose appointment is still active).
bookings = sa.Table(
    "bookings", metadata,
    _id(),
    _ref("appointment_id", "appointments.id"),
    _ref("service_id", "services.id"),
    sa.Column("resource", sa.String(200), nullable=False),
    _when("start"),
    _when("end"),
    sa.Column("source", sa.String(20), nullable=False),  # patient | desk | notice
    _when("created_at"),
    sa.Index("ix_bookings_resource_start", "resource", "start"),
)

# Anonymous partner notices (see partner_notice.py): a hash of each one-time code, what it is about and
# when it expires — deliberately no patient, result, visit or device, and no creation time finer than
# the day (its expiry), so nothing joins a notice to whoever made it. The only link kept is a count
# of notices per result (notice_counts).
notices = sa.Table(
    "notices", metadata,
    sa.Column("code_hash", sa.String(64), primary_key=True),
    sa.Column("infection", sa.String(40), nullable=False),
    _when("expires_at"),
    sa.Column("opened_at", UtcDateTime),
    sa.Column("booked_at", UtcDateTime),
    sa.Column("reported_at", UtcDateTime),
    sqlite_with_rowid=False,  # stored in hash order: not even the file's row order says which came when
)

notice_counts = sa.Table(
    "notice_counts", metadata,
    sa.Column("result_id", sa.String(40), primary_key=True),
    sa.Column("made", sa.Integer, nullable=False),
)

mutations = sa.Table(
    "mutations", metadata,
    sa.Column("id", sa.String(100), primary_key=True),  # the client's UUID: at most once, by constraint
    sa.Column("device_id", sa.String(40), nullable=False),
    sa.Column("patient_id", sa.String(40), nullable=False),
    sa.Column("type", sa.String(40), nullable=False),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("reason", sa.String(300)),
    _when("received_at"),
)

changes = sa.Table(
    "changes", metadata,
    sa.Column("seq", BigId, primary_key=True, autoincrement=True),
    sa.Column("scope", sa.String(40), nullable=False),
    sa.Column("kind", sa.String(20), nullable=False),
    sa.Column("record_id", sa.String(40), nullable=False),
    sa.Column("op", sa.String(10), nullable=False),
    sa.Column("data", sa.Text),
    sa.UniqueConstraint("kind", "record_id", name="uq_changes_record"),
    sa.Index("ix_changes_scope_seq", "scope", "seq"),
    sqlite_autoincrement=True,  # never reuse a seq after a replaced row: cursors depend on it
)

audit = sa.Table(
    "audit", metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    _when("at"),
    sa.Column("actor_type", sa.String(10), nullable=False),  # staff | device | system
    sa.Column("actor_id", sa.String(40)),
    sa.Column("role", sa.String(20)),
    sa.Column("patient_id", sa.String(40)),
    sa.Column("action", sa.String(60), nullable=False),
    sa.Column("target", sa.String(120)),
    sa.Column("detail", sa.Text),  # JSON of ids and counts only: never names, bodies or values
    sa.Column("address", sa.String(64)),
    sa.Index("ix_audit_patient", "patient_id", "id"),
    sa.Index("ix_audit_actor", "actor_id", "id"),
    sqlite_autoincrement=True,
)

# The audit log is append-only at the database level too, not only by convention.
AUDIT_GUARDS: dict[str, list[str]] = {
    "sqlite": [
        "CREATE TRIGGER IF NOT EXISTS audit_no_update BEFORE UPDATE ON audit "
        "BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END",
        "CREATE TRIGGER IF NOT EXISTS audit_no_delete BEFORE DELETE ON audit "
        "BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END",
    ],
    "postgresql": [
        "CREATE OR REPLACE FUNCTION audit_append_only() RETURNS trigger LANGUAGE plpgsql AS "
        "$$ BEGIN RAISE EXCEPTION 'audit log is append-only'; END $$",
        "DROP TRIGGER IF EXISTS audit_no_change ON audit",
        "CREATE TRIGGER audit_no_change BEFORE UPDATE OR DELETE ON audit "
        "FOR EACH ROW EXECUTE FUNCTION audit_append_only()",
    ],
}
