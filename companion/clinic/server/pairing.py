"""Pairing: staff issue a one-time code for a patient; the app trades it for a device token.

Rules (settings in :mod:`.settings`): a code lives ``pairing_ttl`` seconds (10 min), dies after
``pairing_attempts`` wrong guesses aimed at it (5; the code's first group names the code a guess
is aimed at, see :mod:`.tokens`) and after one successful use. The endpoint is rate-limited per
client address: more than ``pairing_rate_count`` failures within ``pairing_rate_window``
seconds gets 429 with ``Retry-After`` — for right codes too, so guessing cannot go on. Failures
are kept in the database, so the limit holds across several server processes.

Every failure answers the same 422 ``pairing_failed`` (wrong, expired, used up or dead), so an
attacker learns nothing about which codes exist.
"""

from __future__ import annotations

import hmac
import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from ...core.fields import iso
from .audit import AuditLog
from .context import ServerContext
from .database import Tx
from .errors import ApiError
from .principals import DevicePrincipal, StaffPrincipal
from .schema import devices, pairing_codes, pairing_failures
from .tokens import (
    DEVICE_TOKEN_PREFIX,
    code_lookup,
    hash_secret,
    new_id,
    new_pairing_code,
    new_token,
    normalise_code,
)


@dataclass(frozen=True, slots=True)
class PairedDevice:
    device_id: str
    token: str
    patient_id: str


def issue_code(tx: Tx, ctx: ServerContext, member: StaffPrincipal, patient_id: str) -> dict[str, Any]:
    """Create a code for ``patient_id`` (the caller checked the patient exists)."""
    now = ctx.now()
    expires = now + timedelta(seconds=ctx.settings.pairing_ttl)
    code = normal = ""
    for _ in range(20):  # a live code with the same lookup group would make guesses ambiguous: pick again
        code = new_pairing_code()
        normal = normalise_code(code) or ""
        clash = tx.execute(sa.select(pairing_codes.c.id).where(*_live(code_lookup(normal), now, ctx))).first()
        if clash is None:
            break
    tx.execute(sa.insert(pairing_codes).values(
        lookup=code_lookup(normal), code_hash=hash_secret(normal), patient_id=patient_id, created_by=member.id,
        created_at=now, expires_at=expires, attempts=0))
    return {"code": code, "expires_at": iso(expires), "patient_id": patient_id}


def _live(lookup: str, now: datetime, ctx: ServerContext) -> list[sa.ColumnElement[bool]]:
    return [pairing_codes.c.lookup == lookup, pairing_codes.c.used_at.is_(None), pairing_codes.c.expires_at > now,
            pairing_codes.c.attempts < ctx.settings.pairing_attempts]


def _retry_after(ctx: ServerContext, tx: Tx, address: str, now: datetime) -> int | None:
    """Seconds until this address may try again, or ``None`` when it is under the limit."""
    window_start = now - timedelta(seconds=ctx.settings.pairing_rate_window)
    recent = tx.execute(sa.select(pairing_failures.c.at)
                        .where(pairing_failures.c.address == address, pairing_failures.c.at > window_start)
                        .order_by(pairing_failures.c.at.desc())
                        .limit(ctx.settings.pairing_rate_count)).scalars().all()
    if len(recent) < ctx.settings.pairing_rate_count:
        return None
    oldest_counted: datetime = recent[-1]
    wait = (oldest_counted - window_start).total_seconds()
    return max(1, math.ceil(wait))


def redeem_code(ctx: ServerContext, audit_log: AuditLog, raw_code: str, device_name: str,
                address: str) -> PairedDevice:
    """Trade a code for a device; raises ApiError 422 ``pairing_failed`` or 429."""
    now = ctx.now()
    normal = normalise_code(raw_code)
    paired: PairedDevice | None = None
    with ctx.db.write() as tx:
        retry = _retry_after(ctx, tx, address, now)
        if retry is not None:
            raise ApiError(429, "rate_limited", f"too many pairing attempts; try again in {retry} s",
                           {"Retry-After": str(retry)})
        if normal is not None:
            candidates = tx.execute(sa.select(pairing_codes.c.id, pairing_codes.c.code_hash, pairing_codes.c.patient_id)
                                    .where(*_live(code_lookup(normal), now, ctx))).mappings().all()
            wanted = hash_secret(normal)
            match = next((c for c in candidates if hmac.compare_digest(c["code_hash"], wanted)), None)
            if match is not None:
                token = new_token(DEVICE_TOKEN_PREFIX)
                device_id = new_id("dev")
                tx.execute(sa.insert(devices).values(
                    id=device_id, patient_id=match["patient_id"], name=device_name, token_hash=hash_secret(token),
                    created_at=now, last_seen_at=now))
                tx.execute(sa.update(pairing_codes).where(pairing_codes.c.id == match["id"])
                           .values(used_at=now, device_id=device_id))
                device = DevicePrincipal(id=device_id, patient_id=match["patient_id"], name=device_name)
                audit_log.record(tx, device, "device.pair", patient_id=device.patient_id, target=f"device:{device_id}",
                                 address=address)
                paired = PairedDevice(device_id=device_id, token=token, patient_id=match["patient_id"])
            elif candidates:
                tx.execute(sa.update(pairing_codes).where(pairing_codes.c.id.in_([c["id"] for c in candidates]))
                           .values(attempts=pairing_codes.c.attempts + 1))
        if paired is None:
            tx.execute(sa.delete(pairing_failures).where(
                pairing_failures.c.at < now - timedelta(seconds=ctx.settings.pairing_rate_window)))
            tx.execute(sa.insert(pairing_failures).values(address=address, at=now))
    if paired is None:
        raise ApiError(422, "pairing_failed", "that pairing code is wrong, expired or already used; "
                       "ask the clinic for a new one")
    return paired
