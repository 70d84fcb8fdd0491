"""The staff HTTP API as the desk uses it: sign in, sign out, and one method per desk action.

``DeskApi(base_url, transport=None, desk_key=None)`` wraps one ``httpx.Client``; after
:meth:`sign_in` it sends the session token as the bearer token. Failures become one-line
:class:`~companion.errors.CompanionError` subclasses the state shows as they are:

    StaffApiError (companion.errors)     the server refused (403 role, 404, 409, 422 …)
    ├── SignedOut                        401: session ended, idled out, expired or revoked
    └── TooManyTries                     429 on sign-in; ``retry_after`` seconds
    ServerUnreachable                    no answer from the server

Staff lists answer in pages (``limit``, ``after`` -> ``next``; see
``companion.server.pagination``): the methods that mean "all of them" (a day's schedule, a
patient's appointments, bills …) follow ``next`` to the end; search, messages, the inbox and the
audit log return their newest page.

Background calls (the inbox poll) carry ``Companion-Background: 1`` so they do not keep an
unattended desk signed in. ``desk_key``/``client_address`` let the in-process desk tell the
server which browser is signing in (see ``companion.server.routes_sessions``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import httpx

from ..errors import ServerUnreachable, StaffApiError
from ..sync.protocol import error_of

TIMEOUT = httpx.Timeout(15.0, connect=5.0)
PAGE = 500  # the server's largest page


class SignedOut(StaffApiError):
    """The session is no longer valid; ``code`` says why (session_expired, session_ended …)."""

    def __init__(self, code: str, message: str) -> None:
        self.code = code
        super().__init__(401, message)


class TooManyTries(StaffApiError):
    def __init__(self, retry_after: int, message: str) -> None:
        self.retry_after = retry_after
        super().__init__(429, message)


def _iso(value: datetime) -> str:
    return value.isoformat()


class DeskApi:
    def __init__(self, base_url: str, transport: httpx.BaseTransport | None = None,
                 desk_key: str | None = None, client_address: str | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.token: str | None = None
        headers = {"User-Agent": "companion-desk"}
        if desk_key and client_address:
            headers.update({"Companion-Desk-Key": desk_key, "Companion-Desk-Address": client_address[:64]})
        self._http = httpx.Client(base_url=self.base_url, timeout=TIMEOUT, transport=transport, headers=headers)

    def close(self) -> None:
        self._http.close()

    # -- transport -------------------------------------------------------------------------------
    def call(self, method: str, path: str, *, background: bool = False, **kwargs: Any) -> Any:
        headers = dict(kwargs.pop("headers", {}) or {})
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        if background:
            headers["Companion-Background"] = "1"
        try:
            response = self._http.request(method, path, headers=headers, **kwargs)
        except httpx.HTTPError:
            raise ServerUnreachable("the clinic server is not answering; check it is running") from None
        if response.status_code == 204:
            return None
        try:
            data = response.json()
        except ValueError:
            raise StaffApiError(response.status_code, f"the server answered HTTP {response.status_code}") from None
        if response.status_code < 400:
            return data
        code, message = error_of(data)
        message = message[:1].upper() + message[1:] + ("" if message.endswith((".", "!")) else ".")
        if response.status_code == 401:
            self.token = None
            raise SignedOut(code, message)
        if response.status_code == 429:
            wait = int(response.headers.get("Retry-After", "30") or 30)
            raise TooManyTries(wait, f"Too many wrong passwords. Try again in {wait} seconds.")
        if response.status_code == 403:
            raise StaffApiError(403, "Your role may not do this. " + message)
        raise StaffApiError(response.status_code, message)

    def _all(self, path: str, key: str, params: dict[str, Any] | None = None,
             most: int | None = None) -> list[dict[str, Any]]:
        """Every item of a paged list (or the first ``most``), following ``next``."""
        items: list[dict[str, Any]] = []
        query = dict(params or {})
        while True:
            query["limit"] = PAGE if most is None else max(1, min(PAGE, most - len(items)))
            answer = self.call("GET", path, params=query)
            items.extend(answer[key])
            if not answer.get("next") or (most is not None and len(items) >= most):
                return items
            query["after"] = answer["next"]

    # -- sign-in -----------------------------------------------------------------------------------
    def sign_in(self, name: str, password: str) -> dict[str, Any]:
        """``{"token", "expires_at", "idle_seconds", "staff": {"id", "name", "role", "permissions"}}``."""
        self.token = None
        try:
            answer = dict(self.call("POST", "/v1/staff/sessions", json={"name": name, "password": password}))
        except SignedOut:
            raise StaffApiError(401, "Wrong name or password.") from None
        self.token = str(answer["token"])
        return answer

    def sign_out(self) -> None:
        if self.token:
            try:
                self.call("DELETE", "/v1/staff/sessions/current")
            finally:
                self.token = None

    def me(self) -> dict[str, Any]:
        return dict(self.call("GET", "/v1/staff/me"))

    # -- today, patients ---------------------------------------------------------------------------
    def schedule(self, start: datetime, end: datetime) -> list[dict[str, Any]]:
        return self._all("/v1/staff/schedule", "appointments", {"start": _iso(start), "end": _iso(end)})

    def search_patients(self, query: str, limit: int = 30) -> list[dict[str, Any]]:
        return self._all("/v1/staff/patients", "patients", {"q": query} if query else {}, most=limit)

    def patient(self, patient_id: str) -> dict[str, Any]:
        return dict(self.call("GET", f"/v1/staff/patients/{patient_id}"))

    def add_patient(self, **fields: Any) -> dict[str, Any]:
        return dict(self.call("POST", "/v1/staff/patients", json=fields))

    def verify_insurance(self, patient_id: str, status: str, note: str | None) -> dict[str, Any]:
        return dict(self.call("POST", f"/v1/staff/patients/{patient_id}/insurance/verification",
                              json={"status": status, "note": note}))

    def pairing_code(self, patient_id: str) -> dict[str, Any]:
        return dict(self.call("POST", f"/v1/staff/patients/{patient_id}/pairing-codes"))

    def devices(self, patient_id: str) -> list[dict[str, Any]]:
        return self._all(f"/v1/staff/patients/{patient_id}/devices", "devices")

    def revoke_device(self, device_id: str) -> dict[str, Any]:
        return dict(self.call("POST", f"/v1/staff/devices/{device_id}/revoke"))

    # -- care ----------------------------------------------------------------------------------------
    def appointments(self, patient_id: str) -> list[dict[str, Any]]:
        return self._all(f"/v1/staff/patients/{patient_id}/appointments", "appointments")

    def add_appointment(self, patient_id: str, **fields: Any) -> dict[str, Any]:
        return dict(self.call("POST", f"/v1/staff/patients/{patient_id}/appointments", json=fields))

    def update_appointment(self, appointment_id: str, **fields: Any) -> dict[str, Any]:
        return dict(self.call("PATCH", f"/v1/staff/appointments/{appointment_id}", json=fields))

    def cancel_appointment(self, appointment_id: str, reason: str | None = None) -> dict[str, Any]:
        return dict(self.call("POST", f"/v1/staff/appointments/{appointment_id}/cancel", json={"reason": reason}))

    def add_prep(self, appointment_id: str, title: str, body: str, before_minutes: int) -> dict[str, Any]:
        return dict(self.call("POST", f"/v1/staff/appointments/{appointment_id}/prep",
                              json={"title": title, "body": body, "before_minutes": before_minutes}))

    def prep(self, patient_id: str) -> list[dict[str, Any]]:
        return self._all(f"/v1/staff/patients/{patient_id}/prep", "prep")

    def bills(self, patient_id: str) -> list[dict[str, Any]]:
        return self._all(f"/v1/staff/patients/{patient_id}/bills", "bills")

    def add_bill(self, patient_id: str, **fields: Any) -> dict[str, Any]:
        return dict(self.call("POST", f"/v1/staff/patients/{patient_id}/bills", json=fields))

    def set_payment_plan(self, bill_id: str, status: str, installments: int, note: str | None) -> dict[str, Any]:
        return dict(self.call("PUT", f"/v1/staff/bills/{bill_id}/payment-plan",
                              json={"status": status, "installments": installments, "note": note}))

    def results(self, patient_id: str) -> list[dict[str, Any]]:
        return self._all(f"/v1/staff/patients/{patient_id}/results", "results")

    def add_result(self, patient_id: str, **fields: Any) -> dict[str, Any]:
        return dict(self.call("POST", f"/v1/staff/patients/{patient_id}/results", json=fields))

    def release_result(self, result_id: str) -> dict[str, Any]:
        return dict(self.call("POST", f"/v1/staff/results/{result_id}/release"))

    # -- messages, inbox, articles, audit --------------------------------------------------------------
    def messages(self, patient_id: str) -> list[dict[str, Any]]:
        """The newest 200 messages, newest first."""
        return self._all(f"/v1/staff/patients/{patient_id}/messages", "messages", most=200)

    def send_message(self, patient_id: str, body: str, thread: str = "general") -> dict[str, Any]:
        return dict(self.call("POST", f"/v1/staff/patients/{patient_id}/messages",
                              json={"body": body, "thread": thread}))

    def inbox(self, state: str = "all", *, background: bool = False, limit: int = 200) -> dict[str, Any]:
        """``{"items": the newest ``limit``, newest first, "next", "total", "unread"}``."""
        return dict(self.call("GET", "/v1/staff/inbox", params={"state": state, "limit": min(limit, PAGE)},
                              background=background))

    def mark_inbox(self, item_id: str, handled: bool) -> dict[str, Any]:
        return dict(self.call("POST", f"/v1/staff/inbox/{item_id}/{'handle' if handled else 'read'}"))

    def articles(self) -> list[dict[str, Any]]:
        return self._all("/v1/staff/articles", "articles")

    def publish_article(self, title: str, body: str) -> dict[str, Any]:
        return dict(self.call("POST", "/v1/staff/articles", json={"title": title, "body": body}))

    def audit(self, limit: int = 200) -> list[dict[str, Any]]:
        """The newest ``limit`` entries."""
        return self._all("/v1/staff/audit", "entries", most=limit)
