"""The FastAPI application factory of the clinic server.

``create_app(settings)`` wires the database, the wake-up hub (plus the PostgreSQL LISTEN thread),
the audit log, the error handlers, the request guard, gzip for large answers (when the client
sends ``Accept-Encoding: gzip``; httpx does by default) and the routers. The schema is created or
checked when the factory runs, so a misconfigured database fails at start, not at the first
request. Uvicorn serves the result (see :mod:`.cli`); tests may also drive it in-process.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime

from fastapi import FastAPI
from starlette.middleware.gzip import GZipMiddleware

from ... import __version__
from ...core.fields import utcnow
from .audit import AuditLog
from .auth import admit_before_refusal
from .context import ServerContext
from .database import Database
from .errors import install_error_handlers
from .middleware import GuardMiddleware
from .mutations import prepare_statements
from .open_times import keep_open_times_fresh
from .routes_admin import router as admin_router
from .routes_booking import router as booking_router
from .routes_care import router as care_router
from .routes_device import router as device_router
from .routes_messages import router as messages_router
from .routes_notices import router as notices_router
from .routes_patients import router as patients_router
from .routes_sessions import router as sessions_router
from .routes_smart import router as smart_router
from .settings import Settings
from .wakeups import PgListener, WakeupHub

GZIP_MINIMUM = 4096  # bytes; smaller answers cost more CPU than they save on the wire
GZIP_LEVEL = 6  # zlib's default: within a few % of level 9's size at about half its CPU

DESCRIPTION = """Clinic sync server of Patient Companion.

* Device API (`/v1/devices`, `/v1/sync`): bearer *device* token; see `companion.core.protocol`.
* Staff API (`/v1/staff/…`): bearer *staff* token; roles psr, clinician, admin.
* Every error is `{"error": {"code": …, "message": …}}`.
"""


def create_app(settings: Settings, *, clock: Callable[[], datetime] = utcnow) -> FastAPI:
    db = Database(settings.db_url)
    db.init_schema()
    prepare_statements(db)
    hub = WakeupHub()
    audit_log = AuditLog(db, clock)
    ctx = ServerContext(settings=settings, db=db, hub=hub, audit=audit_log, clock=clock)
    hub.attach(db)
    listener = PgListener(db.url, hub, db.origin) if db.is_postgres else None

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        hub.bind(asyncio.get_running_loop())
        audit_log.start()
        if db.wal is not None:
            db.wal.start()
        if listener is not None:
            listener.start()
        refresher = asyncio.create_task(keep_open_times_fresh(db, settings.site, clock))
        try:
            yield
        finally:
            refresher.cancel()
            if listener is not None:
                listener.stop()
            hub.wake_all()
            audit_log.close()
            db.dispose()

    app = FastAPI(title="Patient Companion clinic server", version=__version__, description=DESCRIPTION,
                  lifespan=lifespan, docs_url="/docs", redoc_url=None)
    app.state.ctx = ctx
    install_error_handlers(app, before_refusal=admit_before_refusal)
    # Inside the guard (added first = inner): pull pages and staff lists shrink ~3x on the wire.
    # Answers are whole bodies (a long-poll answers once, when it has its page), never streams,
    # so compressing them delays nothing. Bodies that carry a secret (a device token from
    # pairing, a desk session token) are far below the minimum, which keeps secrets out of
    # compressed answers (BREACH-style length probing needs both in one body).
    app.add_middleware(GZipMiddleware, minimum_size=GZIP_MINIMUM, compresslevel=GZIP_LEVEL)
    app.add_middleware(GuardMiddleware)
    # FastAPI tries routes in order, each request twice through the list before its own (~3 µs a
    # route): the devices' sync and the PSR's message, the live path, come first. No two routes
    # of these routers can match one request, so the order changes nothing else.
    for router in (device_router, messages_router, care_router, patients_router, sessions_router, booking_router,
                   admin_router, smart_router, notices_router):
        app.include_router(router)
    return app
