"""The clinic sync server (FastAPI over SQLAlchemy Core): ``pip install .[server]``.

Imports only :mod:`companion.core.models`, :mod:`companion.core.errors`, :mod:`companion.core.fields` and
:mod:`companion.core.protocol` from the rest of the package — never the app.

Public surface: :func:`create_app` and :class:`Settings`; ``companion-server`` is :mod:`.cli`.
The full, typed API is at ``/openapi.json``; the map (roles per :mod:`.principals`):

Device (bearer device token; wire format in :mod:`companion.core.protocol`)::

    POST   /v1/devices                         pairing code -> device token        (no token)
    GET    /v1/sync?cursor&limit&wait          pull, long-poll ≤ 30 s
    POST   /v1/sync                            push mutations
    GET    /v1/devices/me    DELETE /v1/devices/me (unpair: the device revokes itself)

Staff (bearer staff token)::

    GET    /v1/staff/me                                       any role
    GET    /v1/staff/clinic                                   any role (the clinic profile: zone, hours, place)
    POST   /v1/staff/sessions   DELETE /v1/staff/sessions/current   desk sign-in/out (routes_sessions)
    GET    /v1/staff/schedule?start&end                       psr, clinician
    POST   /v1/staff/patients            GET ?q               psr | psr, clinician
    GET    /v1/staff/patients/{id}       PATCH                psr, clinician | psr
    POST   /v1/staff/patients/{id}/insurance/verification     psr
    POST   /v1/staff/patients/{id}/pairing-codes              psr
    GET    /v1/staff/patients/{id}/devices                    psr, admin
    GET    /v1/staff/devices/{id}        POST …/revoke        psr, admin
    POST|GET /v1/staff/patients/{id}/appointments             psr | psr, clinician
    GET|PATCH /v1/staff/appointments/{id}   POST …/cancel     psr, clinician | psr
    POST|GET /v1/staff/appointments/{id}/prep   GET /v1/staff/patients/{id}/prep   DELETE /v1/staff/prep/{id}
    POST|GET /v1/staff/patients/{id}/bills   GET|PATCH /v1/staff/bills/{id}   PUT …/payment-plan
    POST   /v1/staff/patients/{id}/results                    clinician
    GET    /v1/staff/patients/{id}/results   GET /v1/staff/results/{id}       psr, clinician
    POST   /v1/staff/results/{id}/release   POST …/block      clinician
    POST|GET /v1/staff/patients/{id}/messages                 psr, clinician
    GET    /v1/staff/inbox?state&patient_id   GET /v1/staff/inbox/{id}   POST …/read   POST …/handle   psr
    POST   /v1/staff/inbox/{id}/reply   (answers a message or billing item in its thread, closes it)   psr
    GET    /v1/staff/bill-references/{reference}   (a payment reference BIL-XXXX-XXXX -> its bill)   psr, clinician
    POST|GET /v1/staff/articles   DELETE /v1/staff/articles/{id}          psr, clinician
    POST|GET /v1/staff/accounts   POST /v1/staff/accounts/{id}/revoke     admin
    GET    /v1/staff/audit?since&actor_id&patient_id&action  admin
    GET    /v1/staff/status                                   admin (waiting long-polls now)

Every ``GET`` above that returns a list is paged the same way: ``?limit&after`` ->
``{<items>: […], "next": cursor | null}`` (:mod:`.pagination`).

``GET /healthz`` needs no token. Every error is ``{"error": {"code", "message"}}``.
"""

from __future__ import annotations

from .app import create_app
from .settings import Settings

__all__ = ["Settings", "create_app"]
