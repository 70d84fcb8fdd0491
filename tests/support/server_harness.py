"""Run the REAL clinic server in a subprocess and drive its staff API from tests.

Stable API for every test that needs a server (sync client, CLI, app, server tests)::

    from tests.support.server_harness import ServerProcess, StaffApi

    def test_something(server):                    # fixture from tests/fixtures/server.py
        pid = server.staff.add_patient(name="Ada")["id"]
        device = server.pair_device(pid)            # {"device_id", "token", "patient_id", "clinic"}
        server.staff.send_message(pid, "hello")
        with server.device_client(device["token"]) as http:
            page = http.get("/v1/sync").json()

:class:`ServerProcess` — ``python -m companion.clinic.server.cli serve --db URL --port 0`` as a child
process with its output captured to a file. Attributes: ``base_url``, ``port``, ``db_url``,
``backend`` ("sqlite" | "postgresql"), ``tokens`` (role -> staff token, one account per role
made before the first start), ``staff`` (:class:`StaffApi`). Methods: ``start()``, ``stop()``
(SIGTERM, then SIGKILL), ``kill()`` (SIGKILL: crash tests), ``restart()`` (same port and
database), ``log_text()`` (everything the server printed), ``pair_device(patient_id)``,
``caught_up_device(name)`` (a new patient's paired device and its cursor, for long-poll tests),
``device_client(token)`` (an ``httpx.Client`` with the protocol header), ``url(path)``.
Device-side helpers: :func:`mutation` builds a push entry with a fresh UUID, :func:`pull_all`
pulls until ``has_more`` is false and returns ``(changes, cursor)``.
``env`` passes settings such as ``{"COMPANION_PAIRING_TTL": "1"}`` (see companion/clinic/server/settings.py).

:class:`StaffApi` — the one staff client (:mod:`companion.clinic.staff_api`) with test defaults: one
method per staff action, each returning the decoded JSON and raising
:class:`~companion.core.errors.StaffApiError` on a refusal: ``add_patient``,
``pairing_code``, ``add_appointment``, ``reschedule``, ``cancel_appointment``, ``add_prep``,
``add_bill``, ``add_result`` and ``release_result`` (as the clinician), ``send_message``,
``add_article``, ``verify_insurance``, ``devices``, ``revoke_device``, ``inbox``, plus
``request(method, path, role="psr", **kw)`` for anything else (returns the raw response),
``as_role(role)`` (that role's :class:`~companion.clinic.staff_api.StaffClient`) and
``collect(path, key, role="psr", params=None)``: every item of a paged staff list, following
``next`` (lists answer ``{key: [...], "next": cursor | null}``; see companion/clinic/server/pagination.py).
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from companion.clinic.staff_api import StaffClient
from companion.core.protocol import PROTOCOL_HEADER, PROTOCOL_VERSION

from .waiting import wait_until

REPO = Path(__file__).resolve().parents[2]
START_TIMEOUT = 30.0


def _iso(value: datetime | str) -> str:
    if isinstance(value, str):
        return value
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


class StaffApi:
    """Staff actions through the one staff client (:class:`companion.clinic.staff_api.StaffClient`), with test
    defaults; the role's token is chosen per call (results: clinician). A refusal raises
    :class:`~companion.core.errors.StaffApiError`, whose message names the status and the server's code."""

    def __init__(self, base_url: str, tokens: dict[str, str]) -> None:
        self.base_url = base_url
        self.tokens = tokens
        self._clients: dict[str, httpx.Client] = {}
        self._staff: dict[str, StaffClient] = {}

    def client(self, role: str = "psr") -> httpx.Client:
        """A raw ``httpx.Client`` with the role's token, for tests that look at answers as sent."""
        if role not in self._clients:
            self._clients[role] = httpx.Client(base_url=self.base_url, timeout=30.0,
                                               headers={"Authorization": f"Bearer {self.tokens[role]}"})
        return self._clients[role]

    def as_role(self, role: str = "psr") -> StaffClient:
        if role not in self._staff:
            self._staff[role] = StaffClient(self.base_url, self.tokens[role], timeout=30.0, user_agent="tests")
        return self._staff[role]

    def close(self) -> None:
        for raw in self._clients.values():
            raw.close()
        for staff in self._staff.values():
            staff.close()
        self._clients.clear()
        self._staff.clear()

    def request(self, method: str, path: str, role: str = "psr", **kwargs: Any) -> httpx.Response:
        return self.client(role).request(method, path, **kwargs)

    def collect(self, path: str, key: str, role: str = "psr", params: dict[str, Any] | None = None
                ) -> list[dict[str, Any]]:
        """Every item of a paged list: follows ``next`` until it is null."""
        return self.as_role(role).collect(path, key, params)[0]

    # -- patients ------------------------------------------------------------------------------
    def add_patient(self, name: str = "Test Patient", **fields: Any) -> dict[str, Any]:
        return self.as_role().add_patient(name=name, **fields)

    def pairing_code(self, patient_id: str) -> dict[str, Any]:
        """``{"code", "expires_at", "patient_id"}``."""
        return self.as_role().pairing_code(patient_id)

    def verify_insurance(self, patient_id: str, status: str = "verified", note: str | None = None) -> dict[str, Any]:
        return self.as_role().verify_insurance(patient_id, status, note)

    def devices(self, patient_id: str) -> list[dict[str, Any]]:
        return self.as_role().devices(patient_id)

    def revoke_device(self, device_id: str) -> dict[str, Any]:
        return self.as_role().revoke_device(device_id)

    # -- care ----------------------------------------------------------------------------------
    def add_appointment(self, patient_id: str, *, start: datetime | str | None = None, minutes: int = 30,
                        kind: str = "STI screening", **fields: Any) -> dict[str, Any]:
        when = start if start is not None else datetime.now(UTC) + timedelta(days=2)
        return self.as_role().add_appointment(patient_id, start=_iso(when), minutes=minutes, kind=kind, **fields)

    def reschedule(self, appointment_id: str, start: datetime | str, **fields: Any) -> dict[str, Any]:
        return self.as_role().update_appointment(appointment_id, start=_iso(start), **fields)

    def cancel_appointment(self, appointment_id: str, reason: str | None = None) -> dict[str, Any]:
        return self.as_role().cancel_appointment(appointment_id, reason)

    def add_prep(self, appointment_id: str, *, title: str = "Stop eating", body: str = "Nothing after midnight.",
                 before_minutes: int = 12 * 60) -> dict[str, Any]:
        return self.as_role().add_prep(appointment_id, title, body, before_minutes)

    def add_bill(self, patient_id: str, *, amount_cents: int = 4500, due: str = "2030-01-31",
                 description: str = "Clinic visit", insurance_paid_cents: int = 0, **fields: Any) -> dict[str, Any]:
        return self.as_role().add_bill(patient_id, amount_cents=amount_cents, due=due, description=description,
                                       insurance_paid_cents=insurance_paid_cents, **fields)

    def add_result(self, patient_id: str, *, test: str = "HIV-1/2 Ag/Ab", interpretation: str = "negative",
                   **fields: Any) -> dict[str, Any]:
        return self.as_role("clinician").add_result(patient_id, test=test, interpretation=interpretation, **fields)

    def release_result(self, result_id: str) -> dict[str, Any]:
        return self.as_role("clinician").release_result(result_id)

    # -- messages, inbox, articles ---------------------------------------------------------------
    def send_message(self, patient_id: str, body: str, thread: str = "general") -> dict[str, Any]:
        return self.as_role().send_message(patient_id, body, thread)

    def inbox(self, state: str = "open", patient_id: str | None = None) -> list[dict[str, Any]]:
        """Every item in ``state``, newest first."""
        return list(self.as_role().inbox(state, patient_id=patient_id)["items"])

    def add_article(self, title: str = "What to expect", body: str = "# Hello", **fields: Any) -> dict[str, Any]:
        return self.as_role().add_article(title, body, **fields)


class ServerProcess:
    """One real ``companion-server serve`` child process; see the module docstring."""

    def __init__(self, db_url: str, workdir: Path, *, env: dict[str, str] | None = None,
                 roles: tuple[str, ...] = ("psr", "clinician", "admin")) -> None:
        self.db_url = db_url
        self.backend = "postgresql" if db_url.startswith("postgres") else "sqlite"
        self.workdir = workdir
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.env = dict(env or {})
        self.port = 0
        self.tokens = self._make_staff(roles)
        self._proc: subprocess.Popen[bytes] | None = None
        self.exit_code: int | None = None  # of the process last stopped or killed
        self._log_path = workdir / "server.log"
        self._log_offset = 0
        self.staff: StaffApi = StaffApi("http://127.0.0.1:0", self.tokens)

    def _make_staff(self, roles: tuple[str, ...]) -> dict[str, str]:
        from companion.clinic.server.accounts import create_staff
        from companion.clinic.server.audit import AuditLog
        from companion.clinic.server.database import Database
        from companion.clinic.server.principals import SystemPrincipal
        from companion.core.fields import utcnow

        db = Database(self.db_url, pool_size=1)
        try:
            db.init_schema()
            audit_log = AuditLog(db, utcnow)
            return {role: create_staff(db, audit_log, SystemPrincipal(), f"Test {role}", role)["token"]
                    for role in roles}
        finally:
            db.dispose()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def url(self, path: str) -> str:
        return self.base_url + path

    @property
    def pid(self) -> int:
        """The running server's process id (benchmarks read its memory)."""
        assert self._proc is not None, "the server is not running"
        return self._proc.pid

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def start(self) -> ServerProcess:
        env = {**os.environ, "PYTHONUNBUFFERED": "1", **self.env}
        env.pop("COMPANION_DATABASE_URL", None)
        log = open(self._log_path, "ab")  # noqa: SIM115 - the child owns it while it runs
        self._log_offset = self._log_path.stat().st_size
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "companion.clinic.server.cli", "serve", "--db", self.db_url, "--host", "127.0.0.1",
             "--port", str(self.port)],
            cwd=str(REPO), env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        log.close()
        self._wait_ready()
        self.staff.close()
        self.staff = StaffApi(self.base_url, self.tokens)
        return self

    def _wait_ready(self) -> None:
        if not wait_until(self._healthy, START_TIMEOUT):
            self.kill()
            raise RuntimeError(f"server did not become healthy:\n{self.log_text()[-3000:]}")

    def _healthy(self) -> bool:
        """Whether the server answers ``/healthz`` (on the port it printed, if it chose one); raises if it exited."""
        if self._proc is not None and self._proc.poll() is not None:
            raise RuntimeError(f"server exited with {self._proc.returncode}:\n{self.log_text()[-3000:]}")
        if self.port == 0:
            found = re.search(r"listening on http://127\.0\.0\.1:(\d+)", self._new_log())
            if not found:
                return False
            self.port = int(found.group(1))
        try:
            return httpx.get(self.url("/healthz"), timeout=1.0).status_code == 200
        except httpx.HTTPError:
            return False

    def _new_log(self) -> str:
        with open(self._log_path, "rb") as f:
            f.seek(self._log_offset)
            return f.read().decode("utf-8", "replace")

    def log_text(self) -> str:
        """Everything the server printed (all starts), for assertions such as "no PHI in logs"."""
        return self._log_path.read_text(encoding="utf-8", errors="replace") if self._log_path.exists() else ""

    def stop(self) -> None:
        """SIGTERM, and SIGKILL if it has not exited 10 s later; ``exit_code`` says which (-15 or -9)."""
        if self._proc is not None and self._proc.poll() is None:
            self._proc.send_signal(signal.SIGTERM)
            try:
                self._proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
        if self._proc is not None:
            self.exit_code = self._proc.returncode
        self._proc = None

    def kill(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            self._proc.kill()
            self._proc.wait()
        if self._proc is not None:
            self.exit_code = self._proc.returncode
        self._proc = None

    def restart(self) -> ServerProcess:
        self.stop()
        return self.start()

    def close(self) -> None:
        self.staff.close()
        self.stop()

    # -- device side ---------------------------------------------------------------------------
    def device_client(self, token: str | None = None, **kwargs: Any) -> httpx.Client:
        headers = {PROTOCOL_HEADER: str(PROTOCOL_VERSION)}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        return httpx.Client(base_url=self.base_url, headers=headers, timeout=kwargs.pop("timeout", 40.0), **kwargs)

    def pair_device(self, patient_id: str, device_name: str = "Test phone") -> dict[str, Any]:
        code = self.staff.pairing_code(patient_id)["code"]
        with self.device_client() as http:
            response = http.post("/v1/devices", json={"code": code, "device_name": device_name})
        if response.status_code != 200:
            raise AssertionError(f"pairing failed {response.status_code}: {response.text[:300]}")
        result: dict[str, Any] = response.json()
        return result

    def waiting_pulls(self) -> int:
        """Device long-polls this server holds right now (``GET /v1/staff/status``)."""
        count: int = self.staff.request("GET", "/v1/staff/status", role="admin").json()["waiting_pulls"]
        return count

    def await_pulls(self, count: int = 1, timeout: float = 10) -> None:
        """Until ``count`` long-polls are registered and waiting (from then on a commit wakes them)."""
        if not wait_until(lambda: self.waiting_pulls() >= count, timeout):
            raise AssertionError(f"{count} long-poll(s) not waiting after {timeout} s: {self.waiting_pulls()}")

    def caught_up_device(self, patient_name: str, *,
                         writer: ServerProcess | None = None) -> tuple[str, dict[str, Any], str]:
        """A new patient (added through ``writer``, default this process), a device paired here that
        has pulled everything, and its cursor: ``(patient_id, device, cursor)``. Long-poll tests start here."""
        patient_id: str = (writer or self).staff.add_patient(patient_name)["id"]
        device = self.pair_device(patient_id)
        with self.device_client(device["token"]) as http:
            _, cursor = pull_all(http)
        return patient_id, device, cursor


def mutation(mtype: str, mutation_id: str | None = None, **payload: Any) -> dict[str, Any]:
    """One push entry: ``{"id": UUID, "type": mtype, "payload": payload, "created_at": now}``."""
    return {"id": mutation_id or str(uuid.uuid4()), "type": mtype, "payload": payload,
            "created_at": _iso(datetime.now(UTC))}


def pull_all(http: httpx.Client, cursor: str | None = None, limit: int = 500) -> tuple[list[dict[str, Any]], str]:
    """Pull pages until caught up; every page is checked with the app's own parser."""
    from companion.core.protocol import parse_pull_response

    changes: list[dict[str, Any]] = []
    while True:
        params: dict[str, Any] = {"limit": limit, **({"cursor": cursor} if cursor else {})}
        response = http.get("/v1/sync", params=params)
        if response.status_code != 200:
            raise AssertionError(f"pull -> {response.status_code}: {response.text[:300]}")
        page = response.json()
        parse_pull_response(page)
        changes.extend(page["changes"])
        cursor = page["cursor"]
        if not page["has_more"]:
            return changes, str(cursor)
