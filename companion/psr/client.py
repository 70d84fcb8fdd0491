"""The staff API over httpx, for ``companion-psr`` (and any script a clinic writes).

``StaffClient(base_url, token, transport=None)`` — one method per staff action, each returning
the decoded JSON. Every failure becomes a :class:`~companion.errors.CompanionError` with a
one-line message: :class:`~companion.errors.StaffApiError` (the server said no; ``status`` and
the server's message), :class:`~companion.errors.ServerUnreachable` (connection refused,
timeout, DNS), :class:`~companion.errors.ProtocolError` (the answer was not JSON).
Pass ``transport`` (e.g. ``httpx.MockTransport``) to test without a network.

Staff lists come in pages (``limit``, ``after`` -> ``next``; see
``companion.server.pagination``): :meth:`StaffClient.collect` follows ``next`` to the end (or to
a number of items), and the list methods that mean "all of them" use it.
"""

from __future__ import annotations

from typing import Any

import httpx

from ..errors import ConfigError, ProtocolError, ServerUnreachable, StaffApiError
from ..sync.protocol import PROTOCOL_HEADER, PROTOCOL_VERSION, error_of

TIMEOUT = httpx.Timeout(20.0, connect=5.0)
PAGE = 500  # the server's largest page


class StaffClient:
    def __init__(self, base_url: str, token: str, transport: httpx.BaseTransport | None = None) -> None:
        if not base_url.startswith(("http://", "https://")):
            raise ConfigError("the server URL must start with http:// or https:// (set COMPANION_SERVER or --server)")
        if not token:
            raise ConfigError("no staff token: set COMPANION_STAFF_TOKEN or pass --token")
        self.base_url = base_url.rstrip("/")
        self._http = httpx.Client(base_url=self.base_url, timeout=TIMEOUT, transport=transport, headers={
            "Authorization": f"Bearer {token}", PROTOCOL_HEADER: str(PROTOCOL_VERSION),
            "User-Agent": "companion-psr"})

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> StaffClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- transport -------------------------------------------------------------------------------
    def call(self, method: str, path: str, **kwargs: Any) -> Any:
        try:
            response = self._http.request(method, path, **kwargs)
        except httpx.TimeoutException:
            raise ServerUnreachable(f"the clinic server at {self.base_url} did not answer in time") from None
        except httpx.HTTPError as exc:
            reason = str(exc).splitlines()[0][:120] if str(exc) else type(exc).__name__
            raise ServerUnreachable(f"cannot reach the clinic server at {self.base_url}: {reason}") from None
        if response.status_code == 204:
            return None
        try:
            data = response.json()
        except ValueError:
            if response.status_code >= 400:
                raise StaffApiError(response.status_code, f"the server answered HTTP {response.status_code}") from None
            raise ProtocolError(f"the server's answer to {method} {path} was not JSON") from None
        if response.status_code >= 400:
            code, message = error_of(data)
            raise StaffApiError(response.status_code, f"{message} (HTTP {response.status_code}, {code})")
        return data

    def collect(self, path: str, key: str, params: dict[str, Any] | None = None,
                most: int | None = None) -> tuple[list[dict[str, Any]], dict[str, Any]]:
        """Every item of a paged list (or the first ``most``), and the last answer (its totals)."""
        items: list[dict[str, Any]] = []
        query = dict(params or {})
        while True:
            query["limit"] = PAGE if most is None else max(1, min(PAGE, most - len(items)))
            answer = dict(self.call("GET", path, params=query))
            items.extend(answer[key])
            if not answer.get("next") or (most is not None and len(items) >= most):
                return items, answer
            query["after"] = answer["next"]

    def _all(self, path: str, key: str, **params: Any) -> list[dict[str, Any]]:
        return self.collect(path, key, params)[0]

    # -- patients --------------------------------------------------------------------------------
    def add_patient(self, **fields: Any) -> dict[str, Any]:
        return dict(self.call("POST", "/v1/staff/patients", json=fields))

    def list_patients(self, query: str | None = None, limit: int = 50) -> dict[str, Any]:
        """``{"patients": the newest ``limit`` that match, "total": how many match}``."""
        items, last = self.collect("/v1/staff/patients", "patients", {"q": query} if query else {}, most=limit)
        return {"patients": items, "total": last.get("total", len(items))}

    def get_patient(self, patient_id: str) -> dict[str, Any]:
        return dict(self.call("GET", f"/v1/staff/patients/{patient_id}"))

    def verify_insurance(self, patient_id: str, status: str, note: str | None) -> dict[str, Any]:
        return dict(self.call("POST", f"/v1/staff/patients/{patient_id}/insurance/verification",
                              json={"status": status, "note": note}))

    def pairing_code(self, patient_id: str) -> dict[str, Any]:
        return dict(self.call("POST", f"/v1/staff/patients/{patient_id}/pairing-codes"))

    def devices(self, patient_id: str) -> list[dict[str, Any]]:
        return self._all(f"/v1/staff/patients/{patient_id}/devices", "devices")

    def revoke_device(self, device_id: str) -> dict[str, Any]:
        return dict(self.call("POST", f"/v1/staff/devices/{device_id}/revoke"))

    # -- care ------------------------------------------------------------------------------------
    def add_appointment(self, patient_id: str, **fields: Any) -> dict[str, Any]:
        return dict(self.call("POST", f"/v1/staff/patients/{patient_id}/appointments", json=fields))

    def appointments(self, patient_id: str) -> list[dict[str, Any]]:
        return self._all(f"/v1/staff/patients/{patient_id}/appointments", "appointments")

    def update_appointment(self, appointment_id: str, **fields: Any) -> dict[str, Any]:
        return dict(self.call("PATCH", f"/v1/staff/appointments/{appointment_id}", json=fields))

    def cancel_appointment(self, appointment_id: str, reason: str | None) -> dict[str, Any]:
        return dict(self.call("POST", f"/v1/staff/appointments/{appointment_id}/cancel", json={"reason": reason}))

    def add_prep(self, appointment_id: str, **fields: Any) -> dict[str, Any]:
        return dict(self.call("POST", f"/v1/staff/appointments/{appointment_id}/prep", json=fields))

    def add_bill(self, patient_id: str, **fields: Any) -> dict[str, Any]:
        return dict(self.call("POST", f"/v1/staff/patients/{patient_id}/bills", json=fields))

    def bills(self, patient_id: str) -> list[dict[str, Any]]:
        return self._all(f"/v1/staff/patients/{patient_id}/bills", "bills")

    def set_payment_plan(self, bill_id: str, **fields: Any) -> dict[str, Any]:
        return dict(self.call("PUT", f"/v1/staff/bills/{bill_id}/payment-plan", json=fields))

    def set_bill_status(self, bill_id: str, status: str) -> dict[str, Any]:
        return dict(self.call("PATCH", f"/v1/staff/bills/{bill_id}", json={"status": status}))

    def add_result(self, patient_id: str, **fields: Any) -> dict[str, Any]:
        return dict(self.call("POST", f"/v1/staff/patients/{patient_id}/results", json=fields))

    def results(self, patient_id: str) -> list[dict[str, Any]]:
        return self._all(f"/v1/staff/patients/{patient_id}/results", "results")

    def release_result(self, result_id: str) -> dict[str, Any]:
        return dict(self.call("POST", f"/v1/staff/results/{result_id}/release"))

    def block_result(self, result_id: str) -> dict[str, Any]:
        return dict(self.call("POST", f"/v1/staff/results/{result_id}/block"))

    # -- messages, inbox, articles ---------------------------------------------------------------
    def send_message(self, patient_id: str, body: str, thread: str = "general") -> dict[str, Any]:
        return dict(self.call("POST", f"/v1/staff/patients/{patient_id}/messages",
                              json={"body": body, "thread": thread}))

    def messages(self, patient_id: str) -> list[dict[str, Any]]:
        return self._all(f"/v1/staff/patients/{patient_id}/messages", "messages")

    def inbox(self, state: str = "open", patient_id: str | None = None, limit: int | None = None) -> dict[str, Any]:
        """``{"items": newest first (all, or the first ``limit``), "total", "unread"}``."""
        params: dict[str, Any] = {"state": state, **({"patient_id": patient_id} if patient_id else {})}
        items, last = self.collect("/v1/staff/inbox", "items", params, most=limit)
        return {"items": items, "total": last["total"], "unread": last["unread"]}

    def mark_inbox(self, item_id: str, handled: bool) -> dict[str, Any]:
        return dict(self.call("POST", f"/v1/staff/inbox/{item_id}/{'handle' if handled else 'read'}"))

    def add_article(self, **fields: Any) -> dict[str, Any]:
        return dict(self.call("POST", "/v1/staff/articles", json=fields))

    def articles(self) -> list[dict[str, Any]]:
        return self._all("/v1/staff/articles", "articles")

    # -- admin -----------------------------------------------------------------------------------
    def me(self) -> dict[str, Any]:
        return dict(self.call("GET", "/v1/staff/me"))

    def audit(self, limit: int = 100, **params: Any) -> list[dict[str, Any]]:
        """The newest ``limit`` entries that match the filters (``patient_id``, ``actor_id``, ``action``)."""
        clean = {k: v for k, v in params.items() if v is not None}
        return self.collect("/v1/staff/audit", "entries", clean, most=limit)[0]

    def add_staff(self, name: str, role: str) -> dict[str, Any]:
        return dict(self.call("POST", "/v1/staff/accounts", json={"name": name, "role": role}))

    def list_staff(self) -> list[dict[str, Any]]:
        return self._all("/v1/staff/accounts", "staff")

    def revoke_staff(self, staff_id: str) -> dict[str, Any]:
        return dict(self.call("POST", f"/v1/staff/accounts/{staff_id}/revoke"))
