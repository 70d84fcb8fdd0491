"""The patient CLI's sync commands in subprocesses against the real server.

Every command exits 0 or 1 with one line on stderr; actions are queued offline
and go out at the next ``companion sync``; the server down fails within ~10 s
with the outbox kept; a revoked device is told so; a second process is refused.
Tokens and message bodies never appear in the output of sync commands.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from companion.vault import Vault
from tests.fixtures.sync import CLI_MAIN, PASSCODE, REPO, Clinic, cli


def _one_line_error(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode == 1, (done.returncode, done.stdout, done.stderr)
    assert done.stderr.endswith("\n") and done.stderr.count("\n") == 1, done.stderr
    assert "Traceback" not in done.stderr
    return done.stderr


def _token(folder: Path) -> str:
    with Vault.open(folder, PASSCODE) as vault:
        token: str = vault.meta.get("sync.token")
    return token


def test_pair_queue_every_action_and_sync(sqlite_server: object, tmp_path: Path) -> None:
    clinic = Clinic(sqlite_server)
    folder = tmp_path / "vault"
    cli(folder, "init", check=True)
    code = clinic.staff.pairing_code(clinic.patient_id)["code"]
    out = cli(folder, "pair", clinic.server.base_url, code, "--device-name", "CLI phone", check=True)
    assert "Paired" in out.stdout
    assert "Synced" in cli(folder, "sync", check=True).stdout
    body = "Can I come earlier? (private)"
    commands = [
        ("send", body, "--thread", "appointments"),
        ("message", "read", clinic.message_id),
        ("appointment", "request", "--kind", "PrEP start", "--when", "2031-03-04T10:00:00+02:00", "--note", "mornings"),
        ("appointment", "confirm", clinic.appointment_id),
        ("prep", "done", clinic.prep_id),
        ("result", "ack", clinic.result_id),
        ("bill", "plan", clinic.bill_id, "--installments", "4", "--note", "monthly"),
        ("checkin", clinic.appointment_id, "--phone", "555-0101", "--payer", "Acme", "--member-id", "M-9"),
    ]
    outputs = []
    for args in commands:
        done = cli(folder, *args, check=True)
        assert done.stdout.startswith("Queued:") and done.stdout.count("\n") == 1
        assert body not in done.stdout
        outputs.append(done.stdout)
    # checked in (as this device shows it): the visit rules refuse a cancel, in the app's words
    refused = _one_line_error(cli(folder, "appointment", "cancel", clinic.appointment_id, "--reason", "ill"))
    assert "the appointment already took place" in refused  # checked in: care_rules says so
    entry = json.loads(cli(folder, "prep", "done", clinic.prep_id, "--undo", "--json", check=True).stdout)
    assert entry["type"] == "prep.done" and entry["state"] == "pending"
    outbox = json.loads(cli(folder, "show", "outbox", "--json", check=True).stdout)
    assert len(outbox) == len(commands) + 1
    synced = cli(folder, "sync", "--json", check=True)
    report = json.loads(synced.stdout)
    assert report["sent"] + report["refused"] == len(commands) + 1
    status = json.loads(cli(folder, "show", "status", "--json", check=True).stdout)
    assert status["pending"] == 0 and status["last_sync"] and status["device_id"]
    token = _token(folder)
    for text in [*outputs, synced.stdout, synced.stderr, json.dumps(status)]:
        assert token not in text
    assert set(clinic.inbox_mutations()) >= {o["id"] for o in outbox if o["type"] == "message.send"}


@pytest.mark.parametrize("args,fragment", [
    (("result", "ack", "res_nope"), "no result"),
    (("bill", "plan", "bil_x", "--installments", "1"), "installments"),
    (("appointment", "request", "--kind", "X", "--when", "tomorrow"), "ISO 8601"),
    (("send", " "), "body"),
    (("outbox", "discard", "nope"), "no refused action"),
])
def test_bad_input_is_one_line(tmp_path: Path, args: tuple[str, ...], fragment: str) -> None:
    cli(tmp_path / "v", "init", check=True)
    assert fragment in _one_line_error(cli(tmp_path / "v", *args))


def test_sync_before_pairing_says_what_to_do(tmp_path: Path) -> None:
    cli(tmp_path / "v", "init", check=True)
    assert "companion pair" in _one_line_error(cli(tmp_path / "v", "sync"))


def test_server_down_fails_fast_keeps_the_outbox_then_revocation(server_factory: object, tmp_path: Path) -> None:
    server = server_factory()  # type: ignore[operator]
    clinic = Clinic(server)
    folder = tmp_path / "vault"
    cli(folder, "init", check=True)
    cli(folder, "pair", server.base_url, clinic.staff.pairing_code(clinic.patient_id)["code"], check=True)
    cli(folder, "sync", check=True)
    server.stop()
    cli(folder, "send", "while the clinic is down", check=True)
    started = time.monotonic()
    error = _one_line_error(cli(folder, "sync"))
    assert time.monotonic() - started < 12 and "reach" in error
    assert len(json.loads(cli(folder, "show", "outbox", "--json", check=True).stdout)) == 1
    assert json.loads(cli(folder, "show", "status", "--json", check=True).stdout)["state"] == "offline"
    server.start()
    assert "sent 1" in cli(folder, "sync", check=True).stdout
    with Vault.open(folder, PASSCODE) as vault:
        device_id = vault.meta.get("sync.device_id")
    clinic.staff.revoke_device(device_id)
    error = _one_line_error(cli(folder, "sync"))
    assert "revoked" in error
    status = json.loads(cli(folder, "show", "status", "--json", check=True).stdout)
    assert status["state"] == "revoked" and not status["paired"]
    assert json.loads(cli(folder, "show", "messages", "--json", check=True).stdout) == []


def test_a_second_process_is_refused_with_a_clear_line(tmp_path: Path) -> None:
    folder = tmp_path / "vault"
    cli(folder, "init", check=True)
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys; from companion.vault import Vault; "  # holds it until stdin closes
         f"v = Vault.open(sys.argv[1], {PASSCODE!r}); print('open', flush=True); sys.stdin.read()", str(folder)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)})
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "open"
        assert "another sync or the app" in _one_line_error(cli(folder, "sync"))
        assert "another sync or the app" in _one_line_error(cli(folder, "send", "hello"))
    finally:
        holder.kill()
        holder.communicate()


def test_watch_prints_changes_and_stops_on_ctrl_c(sqlite_server: object, tmp_path: Path) -> None:
    clinic = Clinic(sqlite_server)
    folder = tmp_path / "vault"
    cli(folder, "init", check=True)
    cli(folder, "pair", clinic.server.base_url, clinic.staff.pairing_code(clinic.patient_id)["code"], check=True)
    env = {**os.environ, "COMPANION_PASSCODE": PASSCODE, "PYTHONPATH": str(REPO)}
    # Ctrl-C as at a terminal: a run started in the background by a non-interactive shell inherits
    # SIGINT *ignored*, and Python then never turns it into KeyboardInterrupt (the watch never stopped)
    watch = subprocess.Popen([sys.executable, "-c", CLI_MAIN, "--vault", str(folder), "sync", "--watch"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO, env=env,
                             preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        assert watch.stdout is not None
        first = watch.stdout.readline()  # the initial sync brings the records
        assert first.startswith("Synced:")
        clinic.staff.send_message(clinic.patient_id, "secret words from the PSR")
        line = watch.stdout.readline()
        assert "received 1 change" in line and "secret" not in line
        watch.send_signal(signal.SIGINT)
        _out, err = watch.communicate(timeout=10)
        assert watch.returncode == 0 and "Traceback" not in err
    finally:
        if watch.poll() is None:
            watch.kill()
            watch.wait()
