"""Quiet hours on the local wall clock across DST changes, and the local zone as the C library sees it."""

from __future__ import annotations

import os
import subprocess
import sys
import time as _time
from collections.abc import Iterator
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from companion.config import ClinicProfile
from companion.core.models import Appointment
from companion.reminders import QuietHours, RecordSet, ReminderSettings, plan_reminders
from companion.reminders.local_time import SystemLocalZone, local_zone

NY, BERLIN = ZoneInfo("America/New_York"), ZoneInfo("Europe/Berlin")
ROOT = Path(__file__).resolve().parents[2]


def local(instant: datetime, tz: ZoneInfo) -> str:
    return instant.astimezone(tz).strftime("%Y-%m-%d %H:%M %Z")


@pytest.mark.parametrize(
    ("tz", "window", "instant", "expected"),
    [
        # spring forward: the night is an hour shorter, quiet still ends at 07:00 local
        (NY, (time(22), time(7)), datetime(2026, 3, 8, 6, 0, tzinfo=UTC), "2026-03-08 07:00 EDT"),
        (BERLIN, (time(22), time(7)), datetime(2026, 3, 29, 0, 30, tzinfo=UTC), "2026-03-29 07:00 CEST"),
        # fall back: an hour longer
        (NY, (time(22), time(7)), datetime(2026, 11, 1, 5, 30, tzinfo=UTC), "2026-11-01 07:00 EST"),
        (BERLIN, (time(22), time(7)), datetime(2026, 10, 24, 23, 0, tzinfo=UTC), "2026-10-25 07:00 CET"),
        # the end (02:30) falls in the skipped hour: quiet ends when the clock jumps to 03:00
        (NY, (time(23), time(2, 30)), datetime(2026, 3, 8, 6, 45, tzinfo=UTC), "2026-03-08 03:00 EDT"),
        # the end (01:30) happens twice; on the second pass 01:10 EST is quiet again until 01:30 EST
        (NY, (time(0), time(1, 30)), datetime(2026, 11, 1, 6, 10, tzinfo=UTC), "2026-11-01 01:30 EST"),
    ],
)
def test_end_of_quiet_across_dst(
    tz: ZoneInfo, window: tuple[time, time], instant: datetime, expected: str
) -> None:
    quiet = QuietHours(window[0], window[1], tz)
    assert quiet.is_quiet(instant)
    end = quiet.end_of_quiet(instant)
    assert local(end, tz) == expected
    assert not quiet.is_quiet(end)


windows = st.tuples(st.integers(0, 23), st.integers(0, 59), st.integers(0, 23), st.integers(0, 59)).filter(
    lambda w: (w[0], w[1]) != (w[2], w[3]))


@settings(max_examples=150, deadline=None)
@given(windows, st.sampled_from([NY, BERLIN, ZoneInfo("Australia/Lord_Howe")]),
       st.integers(0, 365 * 24 * 60))
def test_end_of_quiet_is_the_first_minute_outside(window: tuple[int, int, int, int], tz: ZoneInfo, offset: int) -> None:
    quiet = QuietHours(time(window[0], window[1]), time(window[2], window[3]), tz)
    instant = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(minutes=offset)
    end = quiet.end_of_quiet(instant)
    assert end >= instant and not quiet.is_quiet(end)
    probe = instant
    while probe + timedelta(minutes=1) <= end:  # brute force: every minute before the answer is quiet
        assert quiet.is_quiet(probe), (local(probe, tz), local(end, tz))
        probe += timedelta(minutes=1)


def test_planner_delays_into_the_morning_after_a_dst_change() -> None:
    start = datetime(2026, 3, 8, 14, 0, tzinfo=UTC)  # 10:00 EDT, the morning of the change
    appt = Appointment(id="a", start=start, minutes=30, visit_kind="Check-up")
    cfg = ReminderSettings(leads_minutes=(6 * 60,), quiet_hours=(time(22), time(7)))
    (r,) = plan_reminders(RecordSet(appointments=(appt,)), cfg, start - timedelta(days=1), set(), tz=NY,
                          clinic=ClinicProfile())
    assert local(r.due_at, NY) == "2026-03-08 04:00 EDT"  # six real hours before
    assert local(r.fire_at, NY) == "2026-03-08 07:00 EDT"
    assert r.body == "Appointment today at 10:00."


@pytest.fixture
def tz_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    yield
    monkeypatch.undo()
    _time.tzset()


@pytest.mark.parametrize("name", ["America/New_York", "Europe/Berlin"])
def test_system_local_zone_agrees_with_zoneinfo(name: str, monkeypatch: pytest.MonkeyPatch, tz_env: None) -> None:
    monkeypatch.setenv("TZ", name)
    _time.tzset()
    system, real = SystemLocalZone(), ZoneInfo(name)
    instant = datetime(2026, 3, 1, tzinfo=UTC)
    while instant < datetime(2026, 12, 1, tzinfo=UTC):
        a, b = instant.astimezone(system), instant.astimezone(real)
        assert (a.replace(tzinfo=None), a.fold, a.utcoffset()) == (b.replace(tzinfo=None), b.fold, b.utcoffset())
        assert a.astimezone(UTC) == instant
        instant += timedelta(minutes=30)
    for wall in (datetime(2026, 3, 8, 2, 30), datetime(2026, 11, 1, 1, 30), datetime(2026, 3, 29, 2, 30),
                 datetime(2026, 10, 25, 2, 30)):
        for fold in (0, 1):
            ours, theirs = wall.replace(tzinfo=system, fold=fold), wall.replace(tzinfo=real, fold=fold)
            assert ours.utcoffset() == theirs.utcoffset()


def test_local_zone_follows_tz_env_in_a_fresh_process() -> None:
    code = "from companion.reminders import local_zone, zone_name; print(zone_name(local_zone()))"
    for tz, expected in [("Europe/Berlin", "Europe/Berlin"), (":America/New_York", "America/New_York"),
                         ("CET-1CEST,M3.5.0,M10.5.0/3", "local (")]:
        out = subprocess.run([sys.executable, "-c", code], env={**os.environ, "TZ": tz}, cwd=ROOT,
                             capture_output=True, text=True, check=True).stdout
        assert out.startswith(expected), (tz, out)


def test_local_zone_without_tz_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TZ", raising=False)
    assert local_zone().utcoffset(datetime(2026, 1, 1)) is not None
