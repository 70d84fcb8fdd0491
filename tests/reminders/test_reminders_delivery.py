"""Delivery against a real vault: once across restarts, missed ones, reschedules, snooze, fallback, settings."""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from companion.config import ClinicProfile, ReminderDefaults
from companion.core.errors import ConfigError
from companion.core.models import Appointment, Bill, Message, PrepStep, Result
from companion.i18n import set_language
from companion.reminders import (
    DELIVERED_KEY,
    SETTINGS_KEY,
    Banner,
    InAppNotifier,
    RecordingNotifier,
    ReminderLoop,
    deliver_due,
    due_notices,
    load_settings,
    snooze,
    update_settings,
)
from companion.vault import ScryptParams, Vault
from tests.fixtures.vault import VAULT_PASSCODE
from tests.support.waiting import wait_until

TZ = ZoneInfo("Europe/Berlin")
PROFILE = ClinicProfile(name="Riverside Sexual Health Clinic", discreet_name="Riverside Clinic")
START = datetime(2026, 6, 10, 8, 0, tzinfo=UTC)  # 10:00 in Berlin
APPT = Appointment(id="apt_1", start=START, minutes=30, visit_kind="HIV test QXVISIT", sensitive=True,
                   location="Testing suite QXROOM")


def deliver(vault: Vault, notifier: RecordingNotifier, now: datetime) -> list[tuple[str, str]]:
    before = len(notifier.shown)
    deliver_due(vault, notifier, now, PROFILE, tz=TZ)
    return notifier.shown[before:]


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    with Vault.create(tmp_path / "vault", VAULT_PASSCODE, kdf=ScryptParams.fast()) as vault:
        vault.appointments.upsert(APPT)
    return tmp_path / "vault"


def test_nothing_fires_twice_across_restarts(folder: Path) -> None:
    rec = RecordingNotifier()
    at_24h = START - timedelta(hours=24)
    with Vault.open(folder, VAULT_PASSCODE) as vault:
        assert deliver(vault, rec, at_24h) == [("Reminder from Riverside Clinic", "Appointment tomorrow at 10:00.")]
        assert deliver(vault, rec, at_24h + timedelta(minutes=1)) == []
    for _ in range(2):  # restart twice at the same and a later time
        with Vault.open(folder, VAULT_PASSCODE) as vault:
            assert deliver(vault, rec, at_24h) == []
            assert deliver(vault, rec, at_24h + timedelta(hours=3)) == []
    with Vault.open(folder, VAULT_PASSCODE) as vault:
        assert deliver(vault, rec, START - timedelta(hours=2)) == [
            ("Reminder from Riverside Clinic", "Appointment today at 10:00.")]
    with Vault.open(folder, VAULT_PASSCODE) as vault:
        assert deliver(vault, rec, START - timedelta(minutes=30)) == []
        log = vault.meta.get(DELIVERED_KEY)
    assert sorted(e["outcome"] for e in log.values()) == ["shown", "shown"]
    assert all("QX" not in f"{t} {b}" for t, b in rec.shown)


def test_missed_while_closed_fires_once_if_useful_else_dropped(folder: Path) -> None:
    rec = RecordingNotifier()
    with Vault.open(folder, VAULT_PASSCODE) as vault:  # first start an hour before: both lead times passed
        assert deliver(vault, rec, START - timedelta(hours=1)) == [
            ("Reminder from Riverside Clinic", "Appointment today at 10:00.")]
        outcomes = {k.split(":")[2]: v["outcome"] for k, v in vault.meta.get(DELIVERED_KEY).items()}
    assert outcomes == {"lead1440m": "dropped", "lead120m": "shown"}
    with Vault.open(folder, VAULT_PASSCODE) as vault:
        assert deliver(vault, rec, START - timedelta(minutes=50)) == []


def test_missed_and_useless_is_dropped_silently(folder: Path) -> None:
    rec = RecordingNotifier()
    with Vault.open(folder, VAULT_PASSCODE) as vault:
        assert deliver(vault, rec, START + timedelta(hours=1)) == []
        assert {v["outcome"] for v in vault.meta.get(DELIVERED_KEY).values()} == {"dropped"}


def test_missed_in_quiet_hours_waits_for_the_morning(folder: Path) -> None:
    rec = RecordingNotifier()
    night = datetime(2026, 6, 9, 21, 30, tzinfo=UTC)  # 23:30 Berlin: the 24h reminder (10:00) was missed
    with Vault.open(folder, VAULT_PASSCODE) as vault:
        assert due_notices(vault, night, PROFILE, tz=TZ) == []
        assert deliver(vault, rec, night) == []
        assert deliver(vault, rec, datetime(2026, 6, 10, 4, 59, tzinfo=UTC)) == []
        assert deliver(vault, rec, datetime(2026, 6, 10, 5, 0, tzinfo=UTC)) == [  # 07:00 Berlin, quiet is over
            ("Reminder from Riverside Clinic", "Appointment today at 10:00.")]


def test_reschedule_replaces_and_cancel_drops_pending(folder: Path) -> None:
    rec = RecordingNotifier()
    with Vault.open(folder, VAULT_PASSCODE) as vault:
        deliver(vault, rec, START - timedelta(hours=24))
        moved = replace(APPT, start=START + timedelta(days=2), sequence=1)
        vault.appointments.upsert(moved)
        assert deliver(vault, rec, START - timedelta(hours=2)) == []  # the old 2h reminder is gone
        assert deliver(vault, rec, moved.start - timedelta(hours=24)) == [
            ("Reminder from Riverside Clinic", "Appointment tomorrow at 10:00.")]
        vault.appointments.upsert(replace(moved, status="cancelled", sequence=2))
        assert deliver(vault, rec, moved.start - timedelta(hours=2)) == []


def test_snooze_shows_again_once_at_the_chosen_time(folder: Path) -> None:
    rec = RecordingNotifier()
    at = START - timedelta(hours=24)
    with Vault.open(folder, VAULT_PASSCODE) as vault:
        report = deliver_due(vault, rec, at, PROFILE, tz=TZ)
        snooze(vault, PROFILE, report.shown[0], at + timedelta(minutes=30))
    with Vault.open(folder, VAULT_PASSCODE) as vault:
        assert deliver(vault, rec, at + timedelta(minutes=29)) == []
        assert deliver(vault, rec, at + timedelta(minutes=30)) == [
            ("Reminder from Riverside Clinic", "Appointment tomorrow at 10:00.")]
        assert deliver(vault, rec, at + timedelta(minutes=90)) == []
        assert load_settings(vault.meta, PROFILE).snoozes == {}


def test_a_crash_after_recording_never_shows_twice(folder: Path) -> None:
    class Crash(RuntimeError):
        pass

    class CrashingNotifier(RecordingNotifier):
        def notify(self, title: str, body: str, about: str = "") -> None:
            raise Crash("power cut")

    with Vault.open(folder, VAULT_PASSCODE) as vault, pytest.raises(Crash):
        deliver_due(vault, CrashingNotifier(), START - timedelta(hours=24), PROFILE, tz=TZ)
    rec = RecordingNotifier()
    with Vault.open(folder, VAULT_PASSCODE) as vault:  # at most once: that one is lost, not repeated
        assert deliver(vault, rec, START - timedelta(hours=23)) == []


def test_failing_system_notifier_falls_back_to_in_app(folder: Path) -> None:
    banners = InAppNotifier("test")
    with Vault.open(folder, VAULT_PASSCODE) as vault:
        report = deliver_due(vault, RecordingNotifier(fail=True), START - timedelta(hours=24), PROFILE, tz=TZ,
                             fallback=banners)
        assert [(b.title, b.body) for b in banners.take()] == [
            ("Reminder from Riverside Clinic", "Appointment tomorrow at 10:00.")]
        assert len(report.fallback) == 1
        assert {v["outcome"] for v in vault.meta.get(DELIVERED_KEY).values()} == {"in_app"}


def test_an_in_app_banner_can_be_worded_again_in_another_language(folder: Path) -> None:
    """What the banner slot draws after a language switch: the same reminders (one folded from two
    messages) in Spanish, still naming no visit or room; what was delivered stays as it was."""
    banners = InAppNotifier("test")
    shown: list[Banner] = []
    banners.subscribe(shown.append)  # what the app's banner slot gets
    sent = START - timedelta(hours=25)
    with Vault.open(folder, VAULT_PASSCODE) as vault:
        vault.messages.upsert_many([Message(id=f"m{i}", thread="general", author="clinic", body="QXBODY",
                                            sent_at=sent) for i in (1, 2)])
        deliver_due(vault, banners, START - timedelta(hours=24), PROFILE, tz=TZ)
    shown.sort(key=lambda b: b.about)
    english = [("Reminder from Riverside Clinic", "Appointment tomorrow at 10:00."),
               ("Riverside Clinic", "You have 2 new messages. Open the app to read them.")]
    assert [(b.title, b.body) for b in shown] == english
    assert all(b.reword is not None for b in shown)
    # the queue, which outlives a lock, keeps the words only (a reword holds the reminder's record)
    assert [(b.title, b.body, b.reword) for b in sorted(banners.take(), key=lambda b: b.about)] == [
        (*words, None) for words in english]
    set_language("es")
    assert [b.reword() for b in shown if b.reword is not None] == [
        ("Recordatorio de Riverside Clinic", "Cita mañana a las 10:00."),
        ("Riverside Clinic", "Tiene 2 mensajes nuevos. Abra la aplicación para leerlos.")]
    assert [(b.title, b.body) for b in shown] == english


def test_messages_and_results_after_a_sync_and_log_pruning(folder: Path) -> None:
    rec = RecordingNotifier()
    sent = START - timedelta(days=3)
    with Vault.open(folder, VAULT_PASSCODE) as vault:
        with vault.batch():  # what a sync would apply
            vault.messages.upsert(Message(id="m1", thread="results", author="clinic", body="QXBODY", sent_at=sent))
            vault.messages.upsert(Message(id="m2", thread="general", author="clinic", body="QXBODY", sent_at=sent))
            vault.results.upsert(Result(id="r1", test="QXTEST", interpretation="positive", released_at=sent,
                                        value="QXVALUE", sensitive=True))
        shown = deliver(vault, rec, sent + timedelta(hours=1))
        assert sorted(shown) == [
            ("Riverside Clinic", "There is an update for you in the app."),
            ("Riverside Clinic", "You have 2 new messages. Open the app to read them."),
        ]
        assert deliver(vault, rec, sent + timedelta(hours=2)) == []
        assert len(vault.meta.get(DELIVERED_KEY)) == 3
        later = START + timedelta(days=40)  # everything long expired: the log is emptied, nothing refires
        assert deliver(vault, rec, later) == []
        assert vault.meta.get(DELIVERED_KEY) == {}
        assert deliver(vault, rec, later + timedelta(minutes=1)) == []


def test_prep_and_bills_are_discreet_by_default(folder: Path) -> None:
    rec = RecordingNotifier()
    with Vault.open(folder, VAULT_PASSCODE) as vault:
        vault.prep.upsert(PrepStep(id="p1", appointment_id="apt_1", title="QXPREP", body="QXPREP",
                                   before_minutes=180))
        vault.bills.upsert(Bill(id="b1", description="QXBILL", total_cents=1, insurance_paid_cents=0,
                                patient_cents=4500, due=date(2026, 6, 12)))
        shown = deliver(vault, rec, START - timedelta(hours=3))
    assert ("Reminder from Riverside Clinic",
            "Time to get ready for your appointment today at 10:00. The app has the details.") in shown
    assert ("Reminder from Riverside Clinic", "A bill is due in 2 days (Fri 12 Jun). The app has the details.") in shown
    assert all("QX" not in f"{t} {b}" for t, b in shown)


def test_settings_default_from_the_clinic_and_validate(new_vault: Vault) -> None:
    profile = replace(PROFILE, reminders=ReminderDefaults(appointment_leads_minutes=(2880,), discreet=True))
    assert load_settings(new_vault.meta, profile).leads_minutes == (2880,)
    update_settings(new_vault.meta, profile, {"quiet_hours": "off", "leads": ["3h", "1d"]})
    assert new_vault.meta.get(SETTINGS_KEY) == {"quiet_hours": "off", "leads": ["24h", "3h"]}
    with pytest.raises(ConfigError, match=r"settings\.reminders\.quiet_hours: .*HH:MM"):
        update_settings(new_vault.meta, profile, {"quiet_hours": "late"})
    with pytest.raises(ConfigError, match=r"settings\.reminders\.leads: .*14 days"):
        update_settings(new_vault.meta, profile, {"leads": ["30d"]})
    with pytest.raises(ConfigError, match=r"settings\.reminders\.colour: unknown setting"):
        update_settings(new_vault.meta, profile, {"colour": "red"})
    with pytest.raises(ConfigError, match="must differ"):
        update_settings(new_vault.meta, profile, {"quiet_hours": "07:00-07:00"})
    settings = load_settings(new_vault.meta, profile)
    assert (settings.quiet_hours, settings.leads_minutes, settings.discreet) == (None, (1440, 180), True)


def test_loop_runs_in_a_thread_until_stopped(folder: Path) -> None:
    rec = RecordingNotifier()
    with Vault.open(folder, VAULT_PASSCODE) as vault:
        loop = ReminderLoop(vault, rec, PROFILE, tz=TZ, clock=lambda: START - timedelta(hours=2))
        stop = threading.Event()
        worker = threading.Thread(target=loop.run, args=(stop, 0.05))
        worker.start()
        try:
            wait_until(lambda: bool(rec.shown), 5, step=0.01)  # what was shown is asserted below
        finally:
            stop.set()
            worker.join(5)
        assert not worker.is_alive()
        assert rec.shown == [("Reminder from Riverside Clinic", "Appointment today at 10:00.")]
        assert loop.last_error is None
        assert loop.sleep_for(loop.tick(START - timedelta(hours=3)), 60, START - timedelta(hours=3)) == 60


def test_loop_outlives_a_failing_tick(folder: Path) -> None:
    class Broken(RecordingNotifier):
        def notify(self, title: str, body: str, about: str = "") -> None:
            raise RuntimeError("a bug in a backend")

    with Vault.open(folder, VAULT_PASSCODE) as vault:
        loop = ReminderLoop(vault, Broken(), PROFILE, tz=TZ, clock=lambda: START - timedelta(hours=2))
        stop = threading.Event()
        worker = threading.Thread(target=loop.run, args=(stop, 0.02))
        worker.start()
        try:
            wait_until(lambda: loop.last_error is not None, 5, step=0.01)
            assert isinstance(loop.last_error, RuntimeError)
            assert worker.is_alive()
        finally:
            stop.set()
            worker.join(5)
