"""The real notification path: plyer -> notify-send -> a private session bus -> a recording service.

plyer picks its backend once per process, so what goes through plyer runs in
a subprocess with ``DBUS_SESSION_BUS_ADDRESS`` pointed at the private bus.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from companion.config import ClinicProfile
from companion.core.errors import NotifyError
from companion.reminders import InAppNotifier, PlyerNotifier, choose_notifier, detect_plyer_backend
from tests.fixtures.dbus import RecordedNotifications

ROOT = Path(__file__).resolve().parents[2]

DELIVER = """
import json, sys
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo
from companion.config import ClinicProfile
from companion.core.models import Appointment, Result
from companion.reminders import choose_notifier, deliver_due
from companion.vault import ScryptParams, Vault

profile = ClinicProfile(name="Riverside Sexual Health Clinic", discreet_name="Riverside Clinic")
start = datetime(2026, 6, 10, 8, 0, tzinfo=UTC)
with Vault.create(sys.argv[1], "correct horse 42", kdf=ScryptParams.fast()) as vault:
    vault.appointments.upsert(Appointment(id="a1", start=start, minutes=30, visit_kind="HIV test QXVISIT",
                                          location="QXROOM", sensitive=True))
    vault.results.upsert(Result(id="r1", test="Syphilis QXTEST", interpretation="positive",
                                released_at=start - timedelta(days=1, minutes=5), value="QXVALUE", sensitive=True))
    notifier = choose_notifier(profile)
    report = deliver_due(vault, notifier, start - timedelta(hours=24), profile, tz=ZoneInfo("Europe/Berlin"))
print(json.dumps({"status": notifier.status().to_json(), "shown": len(report.shown),
                  "fallback": len(report.fallback), "failed": len(report.failed)}))
"""


def _env(**changes: str | None) -> dict[str, str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    for key, value in changes.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return env


def test_plyer_delivers_discreet_text_to_the_session_bus(
    notification_recorder: RecordedNotifications, tmp_path: Path
) -> None:
    out = subprocess.run(
        [sys.executable, "-c", DELIVER, str(tmp_path / "vault")],
        env=_env(DBUS_SESSION_BUS_ADDRESS=notification_recorder.address),
        cwd=ROOT, capture_output=True, text=True, timeout=60,
    )
    assert out.returncode == 0, out.stderr
    summary = json.loads(out.stdout)
    assert summary["status"]["backend"] == "plyer/notify-send"
    assert summary["status"]["available"] is True
    assert (summary["shown"], summary["fallback"], summary["failed"]) == (2, 0, 0)

    got = sorted((n["app_name"], n["summary"], n["body"]) for n in notification_recorder.notified())
    assert got == [
        ("Riverside Clinic", "Reminder from Riverside Clinic", "Appointment tomorrow at 10:00."),
        ("Riverside Clinic", "Riverside Clinic", "There is an update for you in the app."),
    ]
    everything = json.dumps(notification_recorder.records())
    for word in ("QX", "HIV", "Syphilis", "Sexual"):
        assert word not in everything


def test_without_a_session_bus_the_in_app_fallback_is_chosen_and_says_why(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DBUS_SESSION_BUS_ADDRESS", raising=False)
    monkeypatch.delenv("XDG_RUNTIME_DIR", raising=False)
    notifier = choose_notifier(ClinicProfile(discreet_name="Riverside Clinic"))
    assert isinstance(notifier, InAppNotifier)
    status = notifier.status()
    assert (status.backend, status.available) == ("in-app", True)
    assert "no D-Bus session bus" in status.detail
    notifier.notify("Reminder from Riverside Clinic", "Appointment today at 10:00.")
    assert [(b.title, b.body) for b in notifier.take()] == [
        ("Reminder from Riverside Clinic", "Appointment today at 10:00.")]


def test_a_bus_without_a_notification_service_is_not_claimed(
    session_bus: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", session_bus)
    status = PlyerNotifier().status()
    assert not status.available
    assert "no notification service" in status.detail
    with pytest.raises(NotifyError, match="not available"):
        PlyerNotifier().notify("t", "b")
    assert isinstance(choose_notifier(), InAppNotifier)


def test_bus_with_service_is_detected(notification_recorder: RecordedNotifications,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", notification_recorder.address)
    status = detect_plyer_backend()
    assert (status.backend, status.available) == ("plyer/notify-send", True)
    assert notification_recorder.records() == []  # detection shows nothing


def test_missing_notify_send_is_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    status = detect_plyer_backend()
    assert not status.available
    assert "libnotify-bin" in status.detail
