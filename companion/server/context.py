"""What one server process holds while it runs, handed to routes through ``request.app.state``.

``clock`` is injectable so in-process tests can move time (pairing expiry); subprocess tests use
the short TTL setting instead.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from fastapi import Request

from ..fields import utcnow
from .audit import AuditLog
from .database import Database
from .feed import HighWater
from .settings import Settings
from .wakeups import WakeupHub


@dataclass
class ServerContext:
    settings: Settings
    db: Database
    hub: WakeupHub
    audit: AuditLog
    clock: Callable[[], datetime] = field(default=utcnow)
    seen: HighWater = field(default_factory=HighWater)

    def now(self) -> datetime:
        return self.clock()


def get_ctx(request: Request) -> ServerContext:
    ctx: ServerContext = request.app.state.ctx
    return ctx


def client_address(request: Request) -> str:
    return (request.client.host if request.client else "unknown")[:64]
