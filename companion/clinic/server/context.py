"""What one server process holds while it runs, handed to routes through ``request.app.state``.

``clock`` is injectable so in-process tests can move time (pairing expiry); subprocess tests use
the short TTL setting instead.

:func:`client_address_from` is the one rule for *who is calling* (rate limits, sign-in backoff,
the audit log); :func:`client_address` applies it to a request, and the desk applies it to its
websocket connections.
"""

from __future__ import annotations

import ipaddress
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from fastapi import Request

from ...core.fields import utcnow
from .audit import AuditLog
from .database import Database
from .feed import HighWater
from .settings import Networks, Settings
from .wakeups import WakeupHub


class AdmittedTokens:
    """The SHA-256 of staff tokens this process admitted lately (the newest ``most``): such a token's
    write may admit it inside its own transaction (:meth:`.auth.StaffCheck.admit`). Only a hint of
    where to check, never a pass: the check itself always reads the database."""

    def __init__(self, most: int = 4096) -> None:
        self._most = most
        self._hashes: OrderedDict[str, None] = OrderedDict()
        self._lock = threading.Lock()

    def __contains__(self, token_hash: object) -> bool:
        return token_hash in self._hashes

    def add(self, token_hash: str) -> None:
        with self._lock:
            self._hashes[token_hash] = None
            self._hashes.move_to_end(token_hash)
            while len(self._hashes) > self._most:
                self._hashes.popitem(last=False)

    def discard(self, token_hash: str) -> None:
        with self._lock:
            self._hashes.pop(token_hash, None)


@dataclass
class ServerContext:
    settings: Settings
    db: Database
    hub: WakeupHub
    audit: AuditLog
    clock: Callable[[], datetime] = field(default=utcnow)
    seen: HighWater = field(default_factory=HighWater)
    admitted: AdmittedTokens = field(default_factory=AdmittedTokens)

    def now(self) -> datetime:
        return self.clock()


def get_ctx(request: Request) -> ServerContext:
    ctx: ServerContext = request.app.state.ctx
    return ctx


IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


def _ip(text: str) -> IpAddress | None:
    """An address from a peer or an ``X-Forwarded-For`` hop (``1.2.3.4:80`` and ``[::1]:80`` too)."""
    text = text.strip()
    if text.startswith("["):
        text = text[1:].split("]", 1)[0]
    elif text.count(":") == 1:
        text = text.split(":", 1)[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def client_address_from(peer: str | None, headers: Mapping[str, str], trusted: Networks) -> str:
    """The caller's address: ``peer`` (the TCP peer), unless ``peer`` is one of the ``trusted``
    proxies (``Settings.trusted_proxies``). Then ``X-Forwarded-For`` is read right to left, past
    the trusted hops, and the first address that is not a trusted proxy is the caller; what lies
    left of it is whatever the client claimed and is never used. A malformed hop ends the walk at
    the last address known good (the proxy that forwarded it). Header names match in any case;
    repeated headers count as one list in order (a Starlette ``Headers`` keeps them all)."""
    if peer is None:
        return "unknown"
    address = _ip(peer)
    if address is None or not any(address in net for net in trusted):
        return peer[:64]
    hops = [hop for name, value in headers.items() if name.lower() == "x-forwarded-for" for hop in value.split(",")]
    caller = str(address)
    for hop in reversed(hops):
        forwarded = _ip(hop)
        if forwarded is None:
            break
        caller = str(forwarded)
        if not any(forwarded in net for net in trusted):
            break
    return caller[:64]


def client_address(request: Request) -> str:
    """The address of whoever sent ``request`` (see :func:`client_address_from`)."""
    trusted = get_ctx(request).settings.trusted_proxies
    return client_address_from(request.client.host if request.client else None, request.headers, trusted)
