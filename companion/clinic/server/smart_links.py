"""The clinic's open times as SMART Scheduling Links, so public test-finders can list the clinic.

A ``$bulk-publish`` manifest names three NDJSON files — the clinic as one ``Location``, one
``Schedule`` per bookable service, and one ``Slot`` per start of its hours, ``free`` or ``busy`` — in the shapes of the
Slot Publisher API (https://github.com/smart-on-fhir/smart-scheduling-links, specification.md).
Each free slot carries a booking deep link (a public page of this server that shows the time and
how to book it) and the clinic's booking phone; a busy one carries neither.

Everything here is public and built only from the schedule: services, their open times, the
clinic's listing. A taken or blocked start is listed ``busy``, as the specification says a
publisher SHOULD, with nothing more than its time: no patient, visit, booking, room or reason is
ever in it (a booked time and a holiday look alike). Built by :func:`publication` from
one database snapshot, so the three files always agree.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.engine import Connection

from ...core.clinic_profile import ClinicSite
from ...core.fields import iso
from . import booking
from .open_times import slot_grid

__all__ = ["BOOKING_DEEP_LINK", "BOOKING_PHONE", "LOCATION_ID", "Publication", "parse_slot_id", "publication",
           "slot_id"]

BOOKING_DEEP_LINK = "http://fhir-registry.smarthealthit.org/StructureDefinition/booking-deep-link"
BOOKING_PHONE = "http://fhir-registry.smarthealthit.org/StructureDefinition/booking-phone"
SERVICE_SYSTEM = "urn:companion:bookable-service"
LOCATION_ID = "clinic"
FILES = {"Location": "locations.ndjson", "Schedule": "schedules.ndjson", "Slot": "slots.ndjson"}


def resource_id(record_id: str) -> str:
    """Our ``svc_…`` id as a resource id: letters, digits and ``.`` only (what both the SMART
    specification, which allows ``_`` and ``.``, and FHIR, which allows ``-`` and ``.``, accept)."""
    return record_id.replace("_", ".")


def slot_id(service_id: str, start: datetime) -> str:
    """``<service's resource id>.<UTC start as YYYYMMDDTHHMM>``."""
    return f"{resource_id(service_id)}.{start:%Y%m%dT%H%M}"


def parse_slot_id(text: str) -> tuple[str, datetime] | None:
    """The service id and start a :func:`slot_id` names, or ``None``."""
    listed, _, stamp = text.rpartition(".")
    if not listed or len(text) > 64 or not all(c.isascii() and (c.isalnum() or c == ".") for c in text):
        return None
    try:
        return listed.replace(".", "_"), datetime.strptime(stamp, "%Y%m%dT%H%M").replace(tzinfo=UTC)
    except ValueError:
        return None


@dataclass(frozen=True, slots=True)
class Publication:
    transaction_time: datetime
    locations: list[dict[str, Any]]
    schedules: list[dict[str, Any]]
    slots: list[dict[str, Any]]

    def manifest(self, base_url: str) -> dict[str, Any]:
        base = base_url.rstrip("/")
        return {"transactionTime": iso(self.transaction_time), "request": f"{base}/$bulk-publish",
                "output": [{"type": kind, "url": f"{base}/smart/{name}"} for kind, name in FILES.items()],
                "error": []}


def ndjson(resources: Iterable[dict[str, Any]]) -> bytes:
    """One minified JSON object per line (the files' format)."""
    return b"".join(json.dumps(r, separators=(",", ":"), ensure_ascii=False).encode() + b"\n" for r in resources)


def _location(site: ClinicSite) -> dict[str, Any]:
    address: dict[str, Any] = {"line": [site.address] if site.address else []}
    for key, value in (("city", site.city), ("state", site.state), ("postalCode", site.postal_code)):
        if value:
            address[key] = value
    location: dict[str, Any] = {"resourceType": "Location", "id": LOCATION_ID, "name": site.name,
                                "telecom": [{"system": "phone", "value": site.phone}] if site.phone else [],
                                "address": address}
    return location


def _schedule(service: Any) -> dict[str, Any]:
    return {"resourceType": "Schedule", "id": resource_id(service["id"]),
            "serviceType": [{"coding": [{"system": SERVICE_SYSTEM, "code": service["id"], "display": service["name"]}],
                             "text": service["name"]}],
            "actor": [{"reference": f"Location/{LOCATION_ID}"}]}


def _slot(service: Any, start: datetime, base_url: str, phone: str | None, free: bool = True) -> dict[str, Any]:
    sid = slot_id(service["id"], start)
    end = start + timedelta(minutes=service["minutes"])
    schedule = {"reference": f"Schedule/{resource_id(service['id'])}"}
    if not free:
        return {"resourceType": "Slot", "id": sid, "schedule": schedule, "status": "busy", "start": iso(start),
                "end": iso(end)}
    link = f"{base_url.rstrip('/')}/smart/book/{sid}"
    extension: list[dict[str, Any]] = [{"url": BOOKING_DEEP_LINK, "valueUrl": link}]
    if phone:
        extension.append({"url": BOOKING_PHONE, "valueString": phone})
    return {"resourceType": "Slot", "id": sid, "schedule": schedule, "status": "free", "start": iso(start),
            "end": iso(end), "extension": extension}


def publication(conn: Connection, site: ClinicSite, now: datetime, base_url: str) -> Publication:
    """The three files' resources, from one snapshot of the schedule (active, non-sensitive services).

    A service the desk marked sensitive is bookable in the app but never listed publicly."""
    services = [s for s in booking.list_services(conn, include_inactive=False) if not s["sensitive"]]
    slots = [_slot(s, start, base_url, site.phone, bool(free)) for s in services
             for start, free in slot_grid(conn, site, s, now).items()]
    return Publication(transaction_time=now, locations=[_location(site)], schedules=[_schedule(s) for s in services],
                       slots=slots)
