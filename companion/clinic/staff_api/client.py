"""The clinic's staff API as one client: ``companion-psr``, the desk, the demo and the tests use it.

::

    with StaffClient("https://clinic.example", token) as api:
        pid = api.add_patient(name="Robin Example")["id"]
        api.send_message(pid, "See you tomorrow at 10:30.")

    desk = StaffClient(own_url, desk_key=key, client_address=browser_ip)   # no token yet
    desk.sign_in(name, password)          # the session token becomes the bearer token
    desk.inbox("all", limit=300, background=True)   # a poll: not activity, no idle sign-in kept
    desk.sign_out()

One method per staff action, each returning the decoded JSON. Every request goes through
:func:`~companion.clinic.staff_api.wire.exchange`: the protocol header always, ``https://`` except to
this computer, answers capped at ``max_answer_bytes``, every failure one error of
:mod:`companion.core.errors` (table in :mod:`companion.clinic.staff_api.wire`).

Options, not other clients: ``transport`` (an ``httpx`` transport, for tests; by default
:class:`~companion.clinic.staff_api.http11.Http11Transport`), ``timeout``,
``max_answer_bytes``, ``user_agent``, and the desk's ``desk_key``/``client_address`` (the
in-process desk tells the server which browser signs in; see
``companion.clinic.server.routes_sessions``). How a failure reads is :meth:`StaffClient.refused` and
:meth:`StaffClient.unreachable`; a caller with its own voice (the desk) overrides the two.

Lists answer in pages (``limit``, ``after`` -> ``next``; ``companion.clinic.server.pagination``):
the methods that mean "all of them" follow ``next`` to the end (:meth:`StaffClient.collect`);
those with a ``limit`` return the newest ``limit``.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote

import httpx

from ...core.clinic_profile import ClinicSite, parse_clinic_site
from ...core.errors import ConfigError, ProtocolError, SignedOut, StaffApiError
from ...core.fields import parse_datetime
from .http11 import Http11Transport
from .wire import MAX_RESPONSE_BYTES, check_server_url, exchange, protocol_headers

__all__ = ["PAGE", "TIMEOUT_SECONDS", "StaffClient"]

TIMEOUT_SECONDS = 15.0
CONNECT_SECONDS = 5.0
PAGE = 500  # the server's largest page
BACKGROUND_HEADER = "Companion-Background"
DESK_KEY_HEADER = "Companion-Desk-Key"
DESK_ADDRESS_HEADER = "Companion-Desk-Address"


def _when(value: datetime | str) -> str:
    return value if isinstance(value, str) else value.isoformat()


class StaffClient:
    def __init__(self, base_url: str, token: str | None = None, *, transport: httpx.BaseTransport | None = None,
                 timeout: float = TIMEOUT_SECONDS, max_answer_bytes: int = MAX_RESPONSE_BYTES,
                 user_agent: str = "companion-staff", desk_key: str | None = None,
                 client_address: str | None = None) -> None:
        self.base_url = check_server_url(base_url)
        self.token = token or None
        self.ended: SignedOut | None = None  # the 401 that ended the last sign-in, until the next one
        self.max_answer_bytes = max_answer_bytes
        headers = {**protocol_headers(), "User-Agent": user_agent}
        if desk_key and client_address:
            headers.update({DESK_KEY_HEADER: desk_key, DESK_ADDRESS_HEADER: client_address[:64]})
        self._http = httpx.Client(base_url=self.base_url, headers=headers, transport=transport or Http11Transport(),
                                  timeout=httpx.Timeout(timeout, connect=min(timeout, CONNECT_SECONDS)),
                                  follow_redirects=False, trust_env=False)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> StaffClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- wording (override for another voice) ----------------------------------------------------------
    def refused(self, status: int, code: str, message: str, retry_after: int) -> str:
        return f"{message} (HTTP {status}, {code})"

    def unreachable(self, reason: str) -> str:
        return f"cannot reach the clinic server at {self.base_url}: {reason}"

    # -- requests ----------------------------------------------------------------------------------------
    def call(self, method: str, path: str, *, params: dict[str, Any] | None = None, json: Any = None,
             background: bool = False) -> Any:
        """One request with the bearer token; ``background`` marks a poll that is not activity.

        A 401 forgets the token it was sent with: it is no good any more, and a desk must sign in again
        (a token that replaced it meanwhile, a sign-in while the request was out, is kept). Until then a
        call is refused here with that 401's reason, not sent without a token: the server would only
        answer that a token is required, and a desk's second call, started as the first one's 401 came
        in, would tell the person that instead of why their sign-in ended.
        """
        sent = self.token
        if sent is None and self.ended is not None:
            raise SignedOut(str(self.ended), self.ended.code)
        headers = {"Authorization": f"Bearer {sent}"} if sent else {}
        if background:
            headers[BACKGROUND_HEADER] = "1"
        try:
            return exchange(self._http, method, path, wording=self, cap=self.max_answer_bytes, headers=headers,
                            params=params, body=json)
        except SignedOut as exc:
            if self.token == sent and sent is not None:
                self.token, self.ended = None, exc
            raise

    def collect(self, path: str, key: str, params: dict[str, Any] | None = None, most: int | None = None,
                *, background: bool = False) -> tuple[list[dict[str, Any]], dict[str, Any]]:
        """Every item of a paged list (or the first ``most``), and the last answer (its totals)."""
        items: list[dict[str, Any]] = []
        query = dict(params or {})
        while True:
            query["limit"] = PAGE if most is None else max(1, min(PAGE, most - len(items)))
            answer = dict(self.call("GET", path, params=query, background=background))
            items.extend(answer[key])
            if not answer.get("next") or (most is not None and len(items) >= most):
                return items, answer
            query["after"] = answer["next"]

    def _all(self, path: str, key: str, **params: Any) -> list[dict[str, Any]]:
        return self.collect(path, key, params)[0]

    def _one(self, method: str, path: str, body: Any = None) -> dict[str, Any]:
        return dict(self.call(method, path, json=body))

    # -- sign-in -----------------------------------------------------------------------------------------
    def sign_in(self, name: str, password: str) -> dict[str, Any]:
        """``{"token", "expires_at", "idle_seconds", "staff": {…}}``; later calls use the session token.

        A wrong name or password is a plain :class:`StaffApiError` 401 (nobody was signed out).
        """
        self.token, self.ended = None, None
        try:
            answer = self._one("POST", "/v1/staff/sessions", {"name": name, "password": password})
        except SignedOut as exc:
            raise StaffApiError(401, str(exc), exc.code) from None
        self.token = str(answer["token"])
        return answer

    def sign_out(self) -> None:
        if self.token:
            try:
                self.call("DELETE", "/v1/staff/sessions/current")
            finally:
                self.token, self.ended = None, None

    def me(self) -> dict[str, Any]:
        return self._one("GET", "/v1/staff/me")

    def clinic(self) -> ClinicSite:
        """The clinic profile the server runs with (time zone, opening hours, place, providers),
        read back through the core's parser: what the server sends is checked as a file would be."""
        answer = self._one("GET", "/v1/staff/clinic")
        schedule = {key: answer[key] for key in ("opening", "slot_minutes", "place", "providers")
                    if answer.get(key) is not None}
        try:
            return parse_clinic_site({"clinic": {"name": answer.get("name"), "timezone": answer.get("timezone")},
                                      "schedule": schedule}, "the server's clinic profile")
        except ConfigError as exc:
            raise ProtocolError(str(exc)) from None

    # -- patients ----------------------------------------------------------------------------------------
    def add_patient(self, **fields: Any) -> dict[str, Any]:
        return self._one("POST", "/v1/staff/patients", fields)

    def list_patients(self, query: str | None = None, limit: int = 50) -> dict[str, Any]:
        """``{"patients": the newest ``limit`` that match, "total": how many match}``."""
        items, last = self.collect("/v1/staff/patients", "patients", {"q": query} if query else {}, most=limit)
        return {"patients": items, "total": last.get("total", len(items))}

    def get_patient(self, patient_id: str) -> dict[str, Any]:
        return self._one("GET", f"/v1/staff/patients/{patient_id}")

    def patient_names(self, patient_ids: Iterable[str], *,
                      background: bool = False) -> dict[str, tuple[str, str | None, str | None]]:
        """``{id: (name, date of birth or None, language or None)}``: several at once from the newest
        page of patients, the rest one by one (two patients may share a name: the date of birth tells
        them apart; the language is what their app speaks, None until a device said).

        The server has no lookup by many ids; its newest page holds the patients a desk is
        working with, so a lookup each is left for the rare old patient.
        """
        wanted = set(patient_ids)
        names: dict[str, tuple[str, str | None, str | None]] = {}
        if len(wanted) > 1:
            page = self.call("GET", "/v1/staff/patients", params={"limit": PAGE}, background=background)
            names = {p["id"]: (p["name"], p.get("dob"), p.get("language"))
                     for p in page["patients"] if p["id"] in wanted}
        for pid in sorted(wanted - set(names)):
            found = self.call("GET", f"/v1/staff/patients/{pid}", background=background)
            names[pid] = (str(found["name"]), found.get("dob"), found.get("language"))
        return names

    def set_prep_test_due(self, patient_id: str, due: str | None) -> dict[str, Any]:
        """The next PrEP test date (``YYYY-MM-DD``; None clears it): the patient's app reminds them."""
        return self._one("PATCH", f"/v1/staff/patients/{patient_id}", {"prep_test_due": due})

    def verify_insurance(self, patient_id: str, status: str, note: str | None = None) -> dict[str, Any]:
        return self._one("POST", f"/v1/staff/patients/{patient_id}/insurance/verification",
                         {"status": status, "note": note})

    def pairing_code(self, patient_id: str) -> dict[str, Any]:
        """``{"code", "expires_at", "patient_id"}``."""
        return self._one("POST", f"/v1/staff/patients/{patient_id}/pairing-codes")

    def devices(self, patient_id: str) -> list[dict[str, Any]]:
        return self._all(f"/v1/staff/patients/{patient_id}/devices", "devices")

    def revoke_device(self, device_id: str) -> dict[str, Any]:
        return self._one("POST", f"/v1/staff/devices/{device_id}/revoke")

    # -- appointments and prep ---------------------------------------------------------------------------
    def schedule(self, start: datetime | str, end: datetime | str, *, background: bool = False
                 ) -> list[dict[str, Any]]:
        """Every appointment starting in [start, end), with patient names, by time."""
        return self.collect("/v1/staff/schedule", "appointments", {"start": _when(start), "end": _when(end)},
                            background=background)[0]

    def booked_times(self, start: datetime, end: datetime, *, background: bool = False
                     ) -> list[tuple[datetime, datetime]]:
        """``(start, end)`` of every booking in [start, end) (requests and cancellations take no time)."""
        out = []
        for a in self.schedule(start, end, background=background):
            if a["status"] not in ("requested", "cancelled"):
                begin = parse_datetime(a["start"], "schedule.start")
                out.append((begin, begin + timedelta(minutes=int(a["minutes"]))))
        return out

    def appointments(self, patient_id: str) -> list[dict[str, Any]]:
        return self._all(f"/v1/staff/patients/{patient_id}/appointments", "appointments")

    def get_appointment(self, appointment_id: str) -> dict[str, Any]:
        return self._one("GET", f"/v1/staff/appointments/{appointment_id}")

    def add_appointment(self, patient_id: str, **fields: Any) -> dict[str, Any]:
        return self._one("POST", f"/v1/staff/patients/{patient_id}/appointments", fields)

    def update_appointment(self, appointment_id: str, **fields: Any) -> dict[str, Any]:
        return self._one("PATCH", f"/v1/staff/appointments/{appointment_id}", fields)

    def cancel_appointment(self, appointment_id: str, reason: str | None = None) -> dict[str, Any]:
        return self._one("POST", f"/v1/staff/appointments/{appointment_id}/cancel", {"reason": reason})

    def add_prep(self, appointment_id: str, title: str, body: str, before_minutes: int) -> dict[str, Any]:
        return self._one("POST", f"/v1/staff/appointments/{appointment_id}/prep",
                         {"title": title, "body": body, "before_minutes": before_minutes})

    def prep(self, patient_id: str) -> list[dict[str, Any]]:
        return self._all(f"/v1/staff/patients/{patient_id}/prep", "prep")

    # -- bills and results -------------------------------------------------------------------------------
    def bills(self, patient_id: str) -> list[dict[str, Any]]:
        return self._all(f"/v1/staff/patients/{patient_id}/bills", "bills")

    def bills_by_reference(self, reference: str) -> list[dict[str, Any]]:
        """The bills with this payment reference (``BIL-4K7Q-2MXR``): usually one."""
        return list(self.call("GET", f"/v1/staff/bill-references/{quote(reference, safe='')}")["bills"])

    def add_bill(self, patient_id: str, **fields: Any) -> dict[str, Any]:
        return self._one("POST", f"/v1/staff/patients/{patient_id}/bills", fields)

    def set_payment_plan(self, bill_id: str, status: str, installments: int,
                         note: str | None = None) -> dict[str, Any]:
        return self._one("PUT", f"/v1/staff/bills/{bill_id}/payment-plan",
                         {"status": status, "installments": installments, "note": note})

    def set_bill_status(self, bill_id: str, status: str) -> dict[str, Any]:
        return self._one("PATCH", f"/v1/staff/bills/{bill_id}", {"status": status})

    def results(self, patient_id: str) -> list[dict[str, Any]]:
        return self._all(f"/v1/staff/patients/{patient_id}/results", "results")

    def add_result(self, patient_id: str, **fields: Any) -> dict[str, Any]:
        return self._one("POST", f"/v1/staff/patients/{patient_id}/results", fields)

    def release_result(self, result_id: str) -> dict[str, Any]:
        return self._one("POST", f"/v1/staff/results/{result_id}/release")

    def block_result(self, result_id: str) -> dict[str, Any]:
        return self._one("POST", f"/v1/staff/results/{result_id}/block")

    # -- messages, inbox, articles -----------------------------------------------------------------------
    def messages(self, patient_id: str, limit: int | None = None) -> list[dict[str, Any]]:
        """The conversation newest first: all of it, or the newest ``limit``."""
        return self.collect(f"/v1/staff/patients/{patient_id}/messages", "messages", most=limit)[0]

    def send_message(self, patient_id: str, body: str, thread: str = "general") -> dict[str, Any]:
        return self._one("POST", f"/v1/staff/patients/{patient_id}/messages", {"body": body, "thread": thread})

    def inbox(self, state: str = "open", *, patient_id: str | None = None, limit: int | None = None,
              background: bool = False) -> dict[str, Any]:
        """``{"items": newest first (all, or the newest ``limit``), "next", "total", "unread"}``."""
        params: dict[str, Any] = {"state": state, **({"patient_id": patient_id} if patient_id else {})}
        items, last = self.collect("/v1/staff/inbox", "items", params, most=limit, background=background)
        return {"items": items, "next": last.get("next"), "total": last["total"], "unread": last["unread"]}

    def reply_to_item(self, item_id: str, body: str) -> dict[str, Any]:
        """Answer a message or billing question in its thread; the server marks the item done."""
        return self._one("POST", f"/v1/staff/inbox/{item_id}/reply", {"body": body})

    def mark_inbox(self, item_id: str, handled: bool) -> dict[str, Any]:
        return self._one("POST", f"/v1/staff/inbox/{item_id}/{'handle' if handled else 'read'}")

    def add_article(self, title: str, body: str, **fields: Any) -> dict[str, Any]:
        """Publish to every patient; ``fields``: ``tags``, ``appointment_kind``."""
        return self._one("POST", "/v1/staff/articles", {"title": title, "body": body, **fields})

    def articles(self) -> list[dict[str, Any]]:
        return self._all("/v1/staff/articles", "articles")

    # -- admin -------------------------------------------------------------------------------------------
    def audit(self, limit: int = 100, *, patient_id: str | None = None, actor_id: str | None = None,
              action: str | None = None) -> list[dict[str, Any]]:
        """The newest ``limit`` entries that match the filters that are given."""
        filters = {"patient_id": patient_id, "actor_id": actor_id, "action": action}
        return self.collect("/v1/staff/audit", "entries", {k: v for k, v in filters.items() if v}, most=limit)[0]

    def add_staff(self, name: str, role: str) -> dict[str, Any]:
        return self._one("POST", "/v1/staff/accounts", {"name": name, "role": role})

    def list_staff(self) -> list[dict[str, Any]]:
        return self._all("/v1/staff/accounts", "staff")

    def revoke_staff(self, staff_id: str) -> dict[str, Any]:
        return self._one("POST", f"/v1/staff/accounts/{staff_id}/revoke")

    # -- self-booking: services, hours, blocks; partner notices' counts ---------------------------------
    def services(self) -> list[dict[str, Any]]:
        """Bookable services with their weekly hours (a handful: one answer, not pages)."""
        return list(self.call("GET", "/v1/staff/services")["services"])

    def save_service(self, fields: dict[str, Any], service_id: str | None = None) -> dict[str, Any]:
        """A new service (no ``service_id``) or one replaced whole: name, minutes, hours, prep, fast_track…"""
        if service_id is None:
            return self._one("POST", "/v1/staff/services", fields)
        return self._one("PUT", f"/v1/staff/services/{service_id}", fields)

    def blocks(self) -> list[dict[str, Any]]:
        return list(self.call("GET", "/v1/staff/blocks")["blocks"])

    def add_block(self, starts_at: datetime, ends_at: datetime, resource: str | None = None,
                  reason: str | None = None) -> dict[str, Any]:
        return self._one("POST", "/v1/staff/blocks", {"starts_at": starts_at.isoformat(),
                                                      "ends_at": ends_at.isoformat(), "resource": resource,
                                                      "reason": reason})

    def remove_block(self, block_id: str) -> bool:
        self.call("DELETE", f"/v1/staff/blocks/{block_id}")
        return True

    def book_open_time(self, patient_id: str, service_id: str, start: datetime) -> dict[str, Any]:
        return self._one("POST", f"/v1/staff/patients/{patient_id}/bookings",
                         {"service_id": service_id, "start": start.isoformat()})

    def notice_counts(self) -> dict[str, Any]:
        return dict(self.call("GET", "/v1/staff/notice-counts"))
