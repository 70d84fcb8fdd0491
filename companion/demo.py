"""``companion demo`` (what ``make demo`` runs): a local clinic server with realistic data, a paired vault, the app.

1. start ``companion-server serve`` on SQLite in a data folder (a temp folder unless ``--data``);
2. create staff accounts (psr, clinician) with the server CLI and fill the clinic through the staff API:
   a sexual-health screening tomorrow with prep steps, a past HIV test, a bill with insurance, a released
   negative result and a held one (both dated by that visit's sample), a welcome message from the front
   desk and two clinic articles (the built-in Learn library has "what to expect" for each visit kind);
3. create the demo vault, pair it with a pairing code and sync it once;
4. print the passcode, the URLs and ready-to-paste ``companion-psr`` commands, then run the app
   (a desktop window where possible, else the web app on http://127.0.0.1:PORT with no CDN).
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta, tzinfo
from pathlib import Path

import httpx

from .app import desktop_available, run_app
from .clinic.staff_api import StaffClient
from .config import load_profile
from .core.clinic_profile import load_clinic_site
from .core.errors import CompanionError
from .core.protocol import bill_thread
from .reminders import local_zone
from .state.care import question_subject
from .sync.engine import synchronize
from .sync.outbox import queue_mutation
from .sync.pairing import client_for_vault, pair
from .vault import Vault

__all__ = ["DEMO_PASSCODE", "run_demo", "seed_clinic"]

DEMO_PASSCODE = "river-sunrise-42"
SERVER_PORT = 8765
DESK_NAME = "Front desk (demo)"
DESK_PASSWORD = "demo-desk-2026"  # a demo only: real desk passwords are set by `companion-server staff passwd`


def _port_free(port: int) -> bool:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the server binds: a port just freed is free
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def _ended_by_signal(signum: int, _frame: object) -> None:
    """A closed terminal (SIGHUP) or ``kill`` (SIGTERM) ends the demo like Ctrl+C: its server stops too."""
    raise SystemExit(128 + signum)


def _start_server(db_url: str, port: int, log_path: Path, profile: Path | None) -> subprocess.Popen[bytes]:
    """The clinic server, reading the same clinic profile as the app (its zone, hours, place, providers)."""
    if not _port_free(port):  # never seed someone else's server (an earlier demo still running, say)
        raise CompanionError(f"port {port} on 127.0.0.1 is in use: is another demo still running? Stop it first")
    log = open(log_path, "ab")  # noqa: SIM115 - the child owns it while it runs
    proc = subprocess.Popen([sys.executable, "-m", "companion.clinic.server.cli", "serve", "--db", db_url,
                             "--host", "127.0.0.1", "--port", str(port),
                             *(["--profile", str(profile)] if profile else [])],
                            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    log.close()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise CompanionError(f"the demo server did not start (see {log_path})")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1.0).status_code == 200:
                return proc
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    proc.kill()
    raise CompanionError(f"the demo server did not become ready (see {log_path})")


def _staff_token(db_url: str, name: str, role: str, desk_password: str | None = None) -> str:
    """A new staff account's API token; with ``desk_password`` it can also sign in to the desk."""
    extra, env = (["--password"], {**os.environ, "COMPANION_STAFF_PASSWORD": desk_password}) if desk_password \
        else ([], None)
    out = subprocess.run([sys.executable, "-m", "companion.clinic.server.cli", "staff", "add", name, "--role", role,
                          "--db", db_url, "--json", *extra], capture_output=True, text=True, check=False, env=env,
                         stdin=subprocess.DEVNULL)
    if out.returncode != 0:
        raise CompanionError(f"could not create the demo staff account: {out.stderr.strip()}")
    token: str = json.loads(out.stdout)["token"]
    return token


def _local(day_offset: int, hour: int, minute: int = 0, tz: tzinfo | None = None) -> datetime:
    """A wall-clock time ``day_offset`` days from today in ``tz`` (default: this computer's), as UTC."""
    zone = tz or local_zone()
    day = datetime.now(zone).date() + timedelta(days=day_offset)
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=zone).astimezone(UTC)


def seed_clinic(psr: StaffClient, clinician: StaffClient, tz: tzinfo | None = None) -> dict[str, str]:
    """Fill the clinic with one demo patient's records (times on the clinic's clock ``tz``); returns
    the ids the printed commands use."""
    pid = psr.add_patient(name="Alex Rivera", phone="+1 555 0142", email="alex@example.org", dob="1994-06-18")["id"]
    visit = psr.add_appointment(
        pid, start=_local(1, 10, 30, tz).isoformat(), minutes=30, kind="Sexual health screening",
        location="Riverside Clinic, 12 River Street, Suite 3 (2nd floor)", provider="Nurse Sam Okafor",
        what_to_bring="Photo ID, insurance card, a list of medicines you take", sensitive=True)
    for title, body, minutes in (
        ("Stop eating 12 h before", "Your visit includes a fasting blood test. Water is fine — keep drinking it.",
         12 * 60),
        ("Skip vaginal creams and douches", "For 24 hours before, so the swab gives a clear result.", 24 * 60),
        ("Don't urinate in the hour before", "The first part of the stream holds the most to test.", 60),
        ("Bring your insurance card", "And a photo ID. The front desk will scan them.", 0),
    ):
        psr.add_prep(visit["id"], title, body, minutes)
    past_start = _local(-21, 15, 0, tz)
    past = psr.add_appointment(pid, start=past_start.isoformat(), minutes=20, kind="HIV test",
                               location="Riverside Clinic", provider="Dr. Priya Nair")
    psr.update_appointment(past["id"], status="completed")  # the desk marked it attended
    sampled = past_start.astimezone(tz or local_zone()).date().isoformat()  # that visit's samples
    bill = psr.add_bill(pid, amount_cents=4500, insurance_paid_cents=14000,
                 due=(datetime.now(UTC).date() + timedelta(days=12)).isoformat(),
                 description="Clinic visit and lab tests",
                 lines=[{"description": "Clinic visit", "cents": 9500},
                        {"description": "Laboratory tests", "cents": 9000}])
    negative = clinician.add_result(
        pid, test="HIV-1/2 antigen/antibody (4th generation)", interpretation="negative", sensitive=True,
        note="No HIV found. If you had a risk in the 6 weeks before the test, test again after that window.",
        appointment_id=past["id"], sample_taken=sampled)
    clinician.release_result(negative["id"])
    held = clinician.add_result(pid, test="Chlamydia and gonorrhoea (NAAT, urine)", interpretation="negative",
                                note="Nothing found. See you at your next routine screening.",
                                appointment_id=past["id"], sample_taken=sampled)
    psr.set_prep_test_due(pid, (datetime.now(UTC).date() + timedelta(days=69)).isoformat())  # on PrEP, 3-monthly
    psr.send_message(pid, "Welcome to Companion, Alex! This is the Riverside front desk. You can message us here "
                          "any time during opening hours — for emergencies please call 911.")
    psr.add_article("Our opening hours over the holidays",
                    "# Holiday hours\n\nWe close at 14:00 on public holiday eves. Online booking stays open.",
                    tags=["news"])
    psr.add_article("Free hepatitis B vaccination this month",
                    "# Hepatitis B vaccination\n\nAsk at your next visit: it takes a minute and protects you "
                    "for life.", tags=["vaccines"], appointment_kind="Sexual health screening")
    _seed_services(psr)
    code = psr.pairing_code(pid)["code"]
    return {"patient_id": pid, "held_result_id": held["id"], "visit_id": visit["id"], "code": code,
            "bill_id": bill["id"]}


def _weekly(opens: str, closes: str, resource: str, days: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri")
            ) -> list[dict[str, str]]:
    return [{"day": day, "opens": opens, "closes": closes, "resource": resource} for day in days]


def _seed_services(psr: StaffClient) -> None:
    """What the app's "Book a visit" offers: three services on weekly hours, one of them the partner fast track."""
    psr.save_service({"name": "STI screening", "minutes": 15, "fast_track": True,
                      "hours": [*_weekly("09:00", "12:30", "Room 2"),
                                *_weekly("14:00", "17:00", "Room 2", ("tue", "thu"))],
                      "prep": [{"title": "Don't urinate in the hour before",
                                "body": "The first part of the stream holds the most to test.", "before_minutes": 60},
                               {"title": "Bring a photo ID", "before_minutes": 0}]})
    psr.save_service({"name": "PrEP review", "minutes": 30,
                      "hours": _weekly("13:00", "16:00", "Dr. Priya Nair", ("mon", "wed", "fri")),
                      "prep": [{"title": "Bring your PrEP pills or the box", "before_minutes": 0}]})
    psr.save_service({"name": "Treatment visit", "minutes": 20, "sensitive": True,
                      "hours": _weekly("10:00", "12:00", "Nurse Sam Okafor")})


def _prepare_vault(folder: Path, server: str, code: str, bill_id: str) -> None:
    """The demo patient's paired device, synced, having asked about the bill (a billing item waits on the desk)."""
    if Vault.exists(folder):
        Vault.wipe(folder)
    vault = Vault.create(folder, DEMO_PASSCODE)
    try:
        pair(vault, server, code, device_name="Demo device")
        with client_for_vault(vault) as client:
            synchronize(vault, client)
            bill = vault.bills.get(bill_id)
            if bill is not None:
                question = question_subject(bill) + "Why is the lab fee not covered by my insurance?"
                queue_mutation(vault, "message.send", {"body": question, "thread": bill_thread(bill_id)})
                synchronize(vault, client)
    finally:
        vault.close()


def _print_intro(app_url: str, server: str, psr_token: str, ids: dict[str, str], web: bool) -> None:
    psr_cli = shutil.which("companion-psr") or str(Path(sys.executable).parent / "companion-psr")
    print(f"""
Patient Companion — demo
  App:       {app_url if web else 'a desktop window'}
  Passcode:  {DEMO_PASSCODE}
  Server:    {server}
  Desk:      {server}/desk  (sign in as "{DESK_NAME}", password {DESK_PASSWORD})

Push things to the app while it is open (paste into another terminal):
  export COMPANION_SERVER={server}
  export COMPANION_STAFF_TOKEN={psr_token}
  {psr_cli} message send {ids['patient_id']} "Hi Alex, just checking you are OK for tomorrow?"
  {psr_cli} inbox

Release the held result (needs a clinician token):
  COMPANION_STAFF_TOKEN={ids['clinician_token']} {psr_cli} result release {ids['held_result_id']}

Stop with Ctrl+C.
""", flush=True)


def run_demo(*, web: bool, port: int, data: str | None) -> int:
    folder = Path(data) if data else Path(tempfile.mkdtemp(prefix="companion-demo-"))
    folder.mkdir(parents=True, exist_ok=True)
    db_url = f"sqlite:///{folder / 'clinic.db'}"
    profile = load_profile()
    site = load_clinic_site(profile.source) if profile.source else None
    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, _ended_by_signal)
    psr_token = _staff_token(db_url, DESK_NAME, "psr", DESK_PASSWORD)
    clinician_token = _staff_token(db_url, "Dr. Demo", "clinician")
    server = f"http://127.0.0.1:{SERVER_PORT}"
    proc = _start_server(db_url, SERVER_PORT, folder / "server.log", profile.source)
    try:
        with (StaffClient(server, psr_token, user_agent="companion-demo") as psr,
              StaffClient(server, clinician_token, user_agent="companion-demo") as clinician):
            ids = seed_clinic(psr, clinician, site.tz if site else None)
        ids["clinician_token"] = clinician_token
        vault_dir = folder / "vault"
        _prepare_vault(vault_dir, server, ids["code"], ids["bill_id"])
        use_web = web or not desktop_available()
        key = secrets.token_urlsafe(32)
        _print_intro(f"http://127.0.0.1:{port}/?key={key}", server, psr_token, ids, use_web)
        run_app(vault_dir, profile, web=use_web, port=port, key=key)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
    return 0
