"""The profile's new keys, plan rules, the navigation trail and the words a patient reads (no UI)."""

from __future__ import annotations

from pathlib import Path

import pytest

from companion.config import load_profile
from companion.core.errors import ConfigError
from companion.state import AppState
from companion.state.formatting import clinic_name, notifications_text
from companion.state.notices import inside_app, sentence


def test_profile_billing_and_visit_keys(tmp_path: Path) -> None:
    shipped = load_profile()
    assert shipped.checkin_opens_minutes == 24 * 60 and shipped.payment.min_instalment_cents == 2000
    assert shipped.payment.link_for("bil 1") == "https://pay.riverside-clinic.example/bill?ref=bil%201"
    toml = tmp_path / "clinic.toml"
    toml.write_text('[visits]\ncheckin_opens = "2h"\n[billing]\nmin_instalment = "$25"\nin_person = false\n')
    custom = load_profile(toml)
    assert custom.checkin_opens_minutes == 120 and custom.payment.min_instalment_cents == 2500
    assert not custom.payment.in_person and custom.payment.link_for("x") is None
    for bad, key in (('[billing]\npay_url = "http://pay.example/{reference}"\n', "billing.pay_url"),
                     ('[billing]\nmin_instalment = "lots"\n', "billing.min_instalment"),
                     ('[visits]\ncheckin_opens = "soon"\n', "visits.checkin_opens")):
        toml.write_text(bad)
        with pytest.raises(ConfigError, match=key):
            load_profile(toml)


def test_plan_choices_keep_each_instalment_above_the_minimum(populated_state: AppState) -> None:
    bills = populated_state.bills
    assert bills.plan_choices(4_500) == (2,)  # never 12 × $3.75
    assert bills.plan_choices(3_000) == ()
    assert bills.plan_choices(120_000) == (2, 3, 4, 6, 12)
    bills.ask_payment_plan("bill_1", 12)
    assert populated_state.feedback.error == "Each instalment must be at least $20.00: choose fewer months."


def test_back_returns_where_the_patient_came_from(populated_state: AppState) -> None:
    nav = populated_state.nav
    nav.go("results")
    nav.go("result", "res_pos")
    nav.go("thread", "counselling")
    nav.back()
    assert (nav.route.name, nav.route.arg) == ("result", "res_pos")
    nav.back()
    assert nav.route.name == "results"
    nav.go("appointments")
    nav.go("appointment", "apt_next")
    nav.go("checkin", "apt_next")
    nav.go("appointment", "apt_next")  # a check-in ends on its visit: the form is not behind it
    nav.back()
    assert nav.route.name == "appointments"
    nav.go("messages")  # a destination starts a new trail
    assert nav.trail == []


def test_words_a_patient_reads() -> None:
    assert sentence("wrong passcode") == "Wrong passcode."
    assert sentence("Too many tries!") == "Too many tries!"
    assert clinic_name("Your clinic", "Riverside Clinic") == "Riverside Clinic"
    assert clinic_name("Riverside Sexual Health Clinic", "Riverside Clinic") == "Riverside Sexual Health Clinic"
    assert "plyer" not in notifications_text(False, "plyer/notify-send")
    assert notifications_text(False, "plyer/notify-send").startswith("Notifications from this device aren't")
    banner = inside_app("Riverside Clinic", "You have a new message. Open the app to read it.", "message")
    assert banner.body == "You have a new message. Tap to read it." and banner.route == "messages"
    # the tap goes by what the reminder is about, not by its words
    assert inside_app("Riverside Clinic", "A bill is due tomorrow. The app has the details.", "bill").route == "bills"
    assert inside_app("Riverside Clinic", "Your appointment is tomorrow.", "prep").route == "prep"
    assert inside_app("Riverside Clinic", "There is an update for you in the app.", "appointment").route \
        == "appointments"
    assert inside_app("Reminder", "Something else").route == "home"
