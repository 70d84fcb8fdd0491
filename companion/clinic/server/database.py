"""Engine set-up, schema creation/versioning, and the two kinds of transaction the server uses.

- :meth:`Database.read` — one consistent snapshot (SQLite ``BEGIN``; PostgreSQL REPEATABLE READ).
- :meth:`Database.write` — the *only* way to change clinic data. Writers are serialised:
  SQLite ``BEGIN IMMEDIATE`` (one writer, no lock-upgrade deadlocks) and, on PostgreSQL, a
  transaction-scoped advisory lock taken first thing. Serialising writers makes the commit order
  equal the order of the feed's sequence numbers, so a reader can never see ``seq`` 11 committed
  while 10 is still in flight and skip it for ever with its cursor. A clinic's write rate is tiny
  next to its read rate, so this costs nothing that matters. Just before commit ``before_commit``
  sees the transaction (:mod:`.handoff` takes the feed rows it hands to waiting pulls); after
  commit, the scopes that got changes are handed to ``on_commit`` (the wake-up hub).

SQLite runs in WAL mode with ``synchronous=FULL`` and foreign keys on; a thread of its own copies the
WAL back into the database file (:mod:`.wal_checkpoints`), not the writer whose commit filled it. Every engine hides SQL
parameters in its error messages, because parameters are patient data and errors reach logs.

The SQLite file holds every patient's records, so it and its ``-wal``/``-shm`` companions are
readable by the server's user only (0600), whatever the umask and wherever the URL points: the
file is created 0600 before the engine first connects, and every new connection puts the modes
of all three back to 0600 (SQLite gives the companions the database file's mode; this also
repairs files made by an older version or another tool).
"""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from ...core.errors import ConfigError
from .schema import AUDIT_GUARDS, SCHEMA_VERSION, devices, meta, metadata
from .settings import normalise_db_url
from .wal_checkpoints import BACKSTOP_PAGES, WalCheckpointer

WRITE_LOCK_KEY = 0x636F6D70  # "comp": the advisory lock every PostgreSQL writer takes
INIT_LOCK_KEY = 0x696E6974  # "init": schema creation by several processes at once


def _add_staff_passwords(conn: Connection) -> None:
    """1 -> 2: desk sign-in. The new tables exist already (``create_all`` runs first)."""
    conn.execute(sa.text("ALTER TABLE staff ADD COLUMN password_hash VARCHAR(200)"))


def _add_result_sample_dates(conn: Connection) -> None:
    """2 -> 3: the day a result's sample was taken (unknown, ``NULL``, for results recorded before).

    A database older than the results table got it from ``create_all`` with the column already."""
    if "sample_taken" not in {c["name"] for c in sa.inspect(conn).get_columns("results")}:
        conn.execute(sa.text("ALTER TABLE results ADD COLUMN sample_taken DATE"))


def _add_device_vault_generations(conn: Connection) -> None:
    """3 -> 4: the highest vault generation each device reported (unknown, ``NULL``, until its next pull)."""
    if "vault_generation" not in {c["name"] for c in sa.inspect(conn).get_columns("devices")}:
        conn.execute(sa.text("ALTER TABLE devices ADD COLUMN vault_generation BIGINT"))


def _add_prep_test_dates(conn: Connection) -> None:
    """4 -> 5: the next PrEP test date a clinic sets for a patient (none, ``NULL``, for every patient before)."""
    if "prep_test_due" not in {c["name"] for c in sa.inspect(conn).get_columns("patients")}:
        conn.execute(sa.text("ALTER TABLE patients ADD COLUMN prep_test_due DATE"))


def _add_languages(conn: Connection) -> None:
    """5 -> 6: the language each device's app speaks (unknown, ``NULL``, until its next pull), and
    articles' versions in other languages (none yet)."""
    inspector = sa.inspect(conn)
    if "language" not in {c["name"] for c in inspector.get_columns("devices")}:
        conn.execute(sa.text("ALTER TABLE devices ADD COLUMN language VARCHAR(3)"))
    if "translations" not in {c["name"] for c in inspector.get_columns("articles")}:
        conn.execute(sa.text("ALTER TABLE articles ADD COLUMN translations TEXT NOT NULL DEFAULT '{}'"))


def _add_self_booking(conn: Connection) -> None:
    """6 -> 7: services, their hours, blocks and bookings, partner notices and their counts: new tables
    only (``create_all`` made them)."""


def _index_device_languages(conn: Connection) -> None:
    """7 -> 8: the index a patient's language is read through (``patients.LANGUAGE``); it starts with
    ``patient_id``, so it replaces the index on that column alone (one index fewer to keep per write)."""
    [index] = [i for i in devices.indexes if i.name == "ix_devices_patient_seen"]
    index.create(conn, checkfirst=True)  # create_all makes no index on a table that was there already
    conn.execute(sa.text("DROP INDEX IF EXISTS ix_devices_patient_id"))


# Schema steps: version N -> N+1, run inside the init transaction.
MIGRATIONS: dict[int, Callable[[Connection], None]] = {1: _add_staff_passwords, 2: _add_result_sample_dates,
                                                       3: _add_device_vault_generations, 4: _add_prep_test_dates,
                                                       5: _add_languages, 6: _add_self_booking,
                                                       7: _index_device_languages}


CHANNEL = "companion_changes"  # PostgreSQL: each write's scopes, to every server process's listener
_NOTIFY = sa.text(f"SELECT pg_notify('{CHANNEL}', :payload)")


class Tx:
    """An open write transaction: the connection plus the feed scopes it touched. ``feed_start``:
    every feed row with a higher ``seq`` was written by this transaction (set at its first feed
    write to a scope someone waits on, see :mod:`.handoff`); ``handed``: what it hands to the
    long polls it wakes, by scope; ``pusher``: the device whose push this transaction applies (its
    own waiting pulls end empty instead of being handed its echo, see :meth:`.wakeups.WakeupHub.wake`)."""

    def __init__(self, conn: Connection, is_postgres: bool, watched: Callable[[str], bool], origin: str) -> None:
        self.conn = conn
        self.is_postgres = is_postgres
        self.scopes: set[str] = set()
        self.watched = watched
        self.origin = origin
        self.feed_start: int | None = None
        self.handed: dict[str, Any] = {}
        self.pusher: str | None = None
        self.timing: dict[str, float] = {}  # see Database.write

    def execute(self, statement: Any, params: Any = None) -> sa.CursorResult[Any]:
        return self.conn.execute(statement, params)

    def touch(self, scope: str) -> None:
        """This transaction changed ``scope``: after commit its long polls wake, in this process
        (``on_commit``) and, on PostgreSQL, in the others: one ``NOTIFY`` per scope, delivered at
        commit, as ``"<origin> <scope>"`` so that this process's own listener skips what its
        ``on_commit`` already did (an echo would also spoil the hand-off, :mod:`.handoff`)."""
        if scope in self.scopes:
            return
        self.scopes.add(scope)
        if self.is_postgres:
            self.conn.execute(_NOTIFY, {"payload": f"{self.origin} {scope}"})


class Database:
    """One engine for the server process; see the module docstring for the transaction rules."""

    def __init__(self, url: str, *, pool_size: int = 20) -> None:
        self.url = normalise_db_url(url)
        self.is_postgres = self.url.startswith("postgresql")
        self.on_commit: Callable[[set[str], dict[str, Any], str | None], None] = lambda scopes, handed, pusher: None
        self.watched: Callable[[str], bool] = lambda scope: False  # does a long poll wait on the scope?
        self.before_commit: Callable[[Tx], None] = lambda tx: None  # last thing inside a write (the hand-off)
        self.epoch = ""
        self.origin = secrets.token_hex(8)  # names this process's notifications (see Tx.touch)
        # SQLite has one writer at a time: this process's writers queue here, each woken the moment the
        # one before commits, where SQLite's busy handler would have them sleep 1, 2, 5, 10… ms between
        # tries (a staff message behind an audit flush). PostgreSQL writers wait on their own locks.
        self._writers: contextlib.AbstractContextManager[Any] = (
            contextlib.nullcontext() if self.is_postgres else threading.RLock())
        if self.is_postgres:
            self.engine: Engine = sa.create_engine(
                self.url, pool_size=pool_size, max_overflow=40, pool_pre_ping=True, hide_parameters=True,
                pool_timeout=30,
            )
        else:
            self.sqlite_path = _sqlite_path(self.url)
            if self.sqlite_path is not None:
                _create_private(self.sqlite_path)
            self.engine = sa.create_engine(
                self.url, pool_size=pool_size, max_overflow=40, hide_parameters=True, pool_timeout=30,
                connect_args={"check_same_thread": False, "timeout": 30},
            )
            _configure_sqlite(self.engine, self.sqlite_path)
        # SQLite files: checkpoints in the background once the server starts it (see .wal_checkpoints)
        self.wal = WalCheckpointer(self.engine) if not self.is_postgres and self.sqlite_path is not None else None

    @property
    def safe_url(self) -> str:
        """The URL without its password, for logs and messages."""
        return sa.make_url(self.url).render_as_string(hide_password=True)

    # -- schema ----------------------------------------------------------------------------------
    def init_schema(self) -> None:
        """Create missing tables, check/upgrade the schema version, remember the database epoch."""
        try:
            with self.engine.connect() as conn:
                conn.execution_options(companion_write=True)
                with conn.begin():
                    if self.is_postgres:
                        conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": INIT_LOCK_KEY})
                    metadata.create_all(conn)
                    for statement in AUDIT_GUARDS["postgresql" if self.is_postgres else "sqlite"]:
                        conn.exec_driver_sql(statement)
                    self.epoch = _check_version(conn)
        except sa.exc.OperationalError as exc:
            raise ConfigError(f"cannot open the database {self.safe_url}: {_first_line(exc)}") from None

    # -- transactions ----------------------------------------------------------------------------
    @contextmanager
    def read(self) -> Iterator[Connection]:
        """One snapshot for every statement inside (a pull reads two scopes; under PostgreSQL's
        default READ COMMITTED the second scan could see a newer commit than the first and the
        merged page would skip a sequence number for ever). Read-only, so it never conflicts."""
        with self.engine.connect() as conn:
            if self.is_postgres:
                conn.execution_options(isolation_level="REPEATABLE READ")
            with conn.begin():
                yield conn

    def first(self, query: sa.Select[Any], conn: Connection | None = None,
              params: dict[str, Any] | None = None) -> sa.RowMapping | None:
        """The first row of ``query`` (with ``params`` for its bind parameters), read through ``conn``
        when given (one snapshot with what the caller reads or writes there), else in a read
        transaction of its own."""
        if conn is not None:
            return conn.execute(query, params).mappings().first()
        with self.read() as own:
            return own.execute(query, params).mappings().first()

    @contextmanager
    def write(self) -> Iterator[Tx]:
        """One write transaction. Once it has committed, ``tx.timing`` says where its time went
        (``time.perf_counter()`` seconds): ``asked`` when it was asked for, then the durations ``lock``
        (this process's writers' lock, a connection, ``BEGIN``), ``write`` (the caller's statements and
        the hand-off) and ``commit`` (with its fsync). Staff answers carry them (:mod:`.middleware`)."""
        asked = time.perf_counter()
        with self._writers, self.engine.connect() as conn:
            conn.execution_options(companion_write=True)
            with conn.begin():
                if self.is_postgres:
                    conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": WRITE_LOCK_KEY})
                tx = Tx(conn, self.is_postgres, self.watched, self.origin)
                began = time.perf_counter()
                yield tx
                if tx.scopes:
                    self.before_commit(tx)
                committing = time.perf_counter()
            tx.timing = {"asked": asked, "lock": began - asked, "write": committing - began,
                         "commit": time.perf_counter() - committing}
            if self.wal is not None:
                self.wal.note_write()
            if tx.scopes:  # committed: wake the long polls now, while the connection goes back to the pool
                self.on_commit(tx.scopes, tx.handed, tx.pusher)

    @contextmanager
    def append(self) -> Iterator[Connection]:
        """A write that touches no feed data (audit rows, rate-limit marks): no feed lock needed."""
        with self._writers, self.engine.connect() as conn:
            conn.execution_options(companion_write=True)
            with conn.begin():
                yield conn
            if self.wal is not None:
                self.wal.note_write()

    def dispose(self) -> None:
        if self.wal is not None:
            self.wal.close()
        self.engine.dispose()


def violates_foreign_key(exc: sa.exc.IntegrityError) -> bool:
    """Whether the statement behind ``exc`` named a row that is not there (a foreign key refused it):
    PostgreSQL's SQLSTATE 23503, SQLite's "FOREIGN KEY constraint failed"."""
    return getattr(exc.orig, "sqlstate", None) == "23503" or "FOREIGN KEY constraint failed" in str(exc.orig)


def _first_line(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", exc) or exc)
    return text.strip().splitlines()[0][:200] if text.strip() else type(exc).__name__


def _check_version(conn: Connection) -> str:
    rows = dict(conn.execute(sa.select(meta.c.key, meta.c.value)).all())
    if "schema_version" not in rows:
        epoch = secrets.token_hex(4)
        conn.execute(sa.insert(meta), [{"key": "schema_version", "value": str(SCHEMA_VERSION)},
                                       {"key": "epoch", "value": epoch}])
        return epoch
    version = int(rows["schema_version"])
    if version > SCHEMA_VERSION:
        raise ConfigError(f"the database has schema version {version}, newer than this server's "
                          f"{SCHEMA_VERSION}: upgrade companion-server")
    while version < SCHEMA_VERSION:
        MIGRATIONS[version](conn)
        version += 1
        conn.execute(sa.update(meta).where(meta.c.key == "schema_version").values(value=str(version)))
    return str(rows["epoch"])


PRIVATE = 0o600
SQLITE_COMPANIONS = ("", "-wal", "-shm", "-journal")


def _sqlite_path(url: str) -> str | None:
    """The file behind a ``sqlite:///…`` URL (``None`` for a ``file:`` URI we do not interpret)."""
    database = sa.make_url(url).database
    if not database or database.startswith("file:"):
        return None
    return os.path.abspath(os.path.expanduser(database))


def _create_private(path: str) -> None:
    """Create the database file 0600 if it is missing (SQLite would use 0644 less the umask)."""
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT, PRIVATE))
    except OSError as exc:
        raise ConfigError(f"cannot open the database {path}: {exc.strerror or exc}") from None
    make_private(path)


def make_private(path: str) -> None:
    """Modes 0600 for the database file and whichever of its companions exist."""
    for suffix in SQLITE_COMPANIONS:
        with contextlib.suppress(FileNotFoundError):
            if stat.S_IMODE(os.stat(path + suffix).st_mode) != PRIVATE:
                os.chmod(path + suffix, PRIVATE)


def _configure_sqlite(engine: Engine, path: str | None) -> None:
    """WAL + synchronous=FULL, private files, and our own BEGIN so writers can ask for BEGIN IMMEDIATE.
    A file's writers checkpoint only as a backstop (:data:`~.wal_checkpoints.BACKSTOP_PAGES`)."""

    @sa.event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # we emit BEGIN ourselves (below)
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA busy_timeout=30000")
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=FULL")
        cur.execute("PRAGMA foreign_keys=ON")
        if path is not None:
            cur.execute(f"PRAGMA wal_autocheckpoint={BACKSTOP_PAGES}")
        cur.close()
        if path is not None:
            make_private(path)  # the -wal/-shm files exist from here on

    @sa.event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        immediate = conn.get_execution_options().get("companion_write", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")
