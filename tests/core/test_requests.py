"""The request rules both sides share: wishes checked and ordered, free times within hours and wishes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from companion.core.errors import RecordError
from companion.core.requests import (
    CLINIC_HOURS,
    WEEKDAYS,
    check_preferences,
    describe_preferences,
    free_slots,
    request_appointment_id,
)

BERLIN = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)  # a Tuesday, 13:00 in Berlin


def test_wishes_come_back_in_the_weeks_order_and_bad_ones_name_the_field() -> None:
    assert check_preferences(["fri", "mon"], ["evening", "morning"], "p") == (("mon", "fri"), ("morning", "evening"))
    assert check_preferences(None, None, "p") == ((), ())
    for days, message in ((["noday"], "p.days: unknown weekday 'noday'"), ("mon", "p.days: expected a list"),
                          (["mon"] * 8, "p.days: expected a list"), (["tue", "tue"], "p.days: names a weekday twice")):
        with pytest.raises(RecordError, match=message):
            check_preferences(days, None, "p")
    assert describe_preferences(("mon", "wed"), ("morning",)) == "Mon, Wed · morning"
    assert describe_preferences((), ("evening",)) == "any day · evening"
    assert describe_preferences(("fri",), ()) == "Fri · any time"
    assert describe_preferences((), ()) == "any day, any time"


def test_free_slots_match_the_wishes_skip_bookings_and_keep_to_opening_hours() -> None:
    booked = [(datetime(2026, 12, 2, 7, 0, tzinfo=UTC), datetime(2026, 12, 2, 7, 45, tzinfo=UTC))]  # Wed 8:00–8:45
    slots = free_slots(("wed",), ("morning",), booked=booked, now=NOW, tz=BERLIN, limit=40, per_window=99)
    local = [s.astimezone(BERLIN) for s in slots]
    assert local[0] == datetime(2026, 12, 2, 9, 0, tzinfo=BERLIN)  # 8:00 and 8:30 overlap the booking
    assert all(t.weekday() == 2 and 8 <= t.hour < 12 and t.minute in (0, 30) for t in local)
    assert slots == sorted(slots) and len(slots) == 6 + 8 + 8  # three Wednesdays in the three weeks ahead
    sunday = free_slots(("sun",), (), booked=[], now=NOW, tz=BERLIN)
    assert sunday == []  # the clinic is closed on Sundays
    saturday = free_slots(("sat",), ("evening",), booked=[], now=NOW, tz=BERLIN)
    assert saturday == []  # open 9–13 only
    spread = free_slots(("tue", "thu"), ("morning",), booked=[], now=NOW, tz=BERLIN)
    assert [s.astimezone(BERLIN).strftime("%a %d %H:%M") for s in spread] == [
        "Thu 03 08:00", "Tue 08 08:00", "Thu 10 08:00", "Tue 15 08:00", "Thu 17 08:00"]  # today's morning is over
    soon = free_slots((), (), booked=[], now=NOW, tz=BERLIN, limit=1)
    assert soon[0] >= NOW + timedelta(hours=1) and set(CLINIC_HOURS) < set(WEEKDAYS)


def test_a_requests_visit_id_fits_the_servers_ids_and_ignores_how_the_uuid_is_spelt() -> None:
    mid = "0b7c5a52-4f1e-4d8e-9a59-8f3c2f6f6f10"
    assert request_appointment_id(mid) == request_appointment_id("{" + mid.upper() + "}")
    assert len(request_appointment_id(mid)) <= 40
