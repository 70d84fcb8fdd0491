"""The visit state machine and the payment-plan guard (companion.core.care_rules), as tables.

Each table below is written out by hand, independently of the module's own sets: every visit
state × every action × both actors, then the device's time rules, then every bill state × plan ×
actor. The last tests show the app asking the same rules before it queues a command.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from companion.core.care_rules import (
    ACTORS,
    VISIT_ACTIONS,
    VISIT_STATES,
    action_for_status,
    bill_after_plan,
    visit_after,
)
from companion.core.errors import NotAllowed
from companion.state import AppState

NOW = datetime(2031, 5, 6, 10, 0, tzinfo=UTC)
LATER = NOW + timedelta(days=2)  # a visit that has not begun: the time rules stay out of the way

# "-" = refused; otherwise the status afterwards (the same status = already done, nothing changes)
VISITS = """
action    actor   requested   scheduled   confirmed   checked_in  completed   cancelled   no_show
schedule  staff   scheduled   scheduled   scheduled   scheduled   -           -           -
confirm   staff   confirmed   confirmed   confirmed   -           -           -           -
check_in  staff   checked_in  checked_in  checked_in  checked_in  -           -           -
complete  staff   -           completed   completed   completed   completed   -           -
no_show   staff   -           no_show     no_show     -           -           -           no_show
cancel    staff   cancelled   cancelled   cancelled   cancelled   -           cancelled   -
schedule  device  -           -           -           -           -           -           -
confirm   device  -           confirmed   confirmed   checked_in  -           -           -
check_in  device  -           checked_in  checked_in  checked_in  -           -           -
complete  device  -           -           -           -           -           -           -
no_show   device  -           -           -           -           -           -           -
cancel    device  cancelled   cancelled   cancelled   -           -           cancelled   -
"""


def _table() -> list[tuple[str, str, str, str]]:
    lines = VISITS.strip().splitlines()
    states = lines[0].split()[2:]
    assert tuple(states) == VISIT_STATES
    return [(row[0], row[1], state, outcome) for row in map(str.split, lines[1:])
            for state, outcome in zip(states, row[2:], strict=True)]


def test_the_table_covers_every_state_action_and_actor() -> None:
    cells = {(action, actor, state) for action, actor, state, _ in _table()}
    assert cells == {(a, who, s) for a in VISIT_ACTIONS for who in ACTORS for s in VISIT_STATES}


@pytest.mark.parametrize(("action", "actor", "state", "outcome"), _table())
def test_visit_state_machine(action: str, actor: str, state: str, outcome: str) -> None:
    def decide() -> str:
        return visit_after(state, action, actor, start=LATER, minutes=30, now=NOW)  # type: ignore[arg-type]

    if outcome == "-":
        with pytest.raises(NotAllowed):
            decide()
    else:
        assert decide() == outcome


@pytest.mark.parametrize(("state", "action", "actor", "reason"), [
    ("completed", "cancel", "staff", "the appointment already took place"),
    ("checked_in", "cancel", "device", "the appointment already took place"),
    ("no_show", "cancel", "device", "the appointment already took place"),
    ("requested", "confirm", "device", "the clinic has not scheduled this appointment yet"),
    ("requested", "check_in", "device", "the clinic has not scheduled this appointment yet"),
    ("cancelled", "confirm", "device", "the appointment is cancelled: it cannot be confirmed"),
    ("checked_in", "confirm", "staff", "the patient has already checked in"),
    ("scheduled", "complete", "device", "only the clinic can complete an appointment"),
    ("scheduled", "no_show", "device", "only the clinic can record a no-show for an appointment"),
])
def test_refusals_name_the_rule(state: str, action: str, actor: str, reason: str) -> None:
    with pytest.raises(NotAllowed) as refused:
        visit_after(state, action, actor, start=LATER, minutes=30, now=NOW)  # type: ignore[arg-type]
    assert str(refused.value) == reason


@pytest.mark.parametrize(("state", "action", "start_minutes_ago", "outcome"), [
    ("scheduled", "cancel", 0, "the appointment already took place"),      # begun is begun
    ("confirmed", "cancel", 1, "the appointment already took place"),
    ("confirmed", "cancel", -1, "cancelled"),                                # a minute before: still possible
    ("requested", "cancel", 60 * 24, "cancelled"),                          # a request is withdrawn any time
    ("scheduled", "confirm", 29, "confirmed"),                               # under way, not over
    ("scheduled", "confirm", 30, "the appointment is over"),
    ("confirmed", "check_in", 10, "checked_in"),                             # late, but still there
    ("confirmed", "check_in", 45, "the appointment is over"),
    ("confirmed", "confirm", 600, "confirmed"),                              # already done: no time rule
    ("checked_in", "check_in", 600, "checked_in"),
])
def test_the_devices_time_rules(state: str, action: str, start_minutes_ago: int, outcome: str) -> None:
    start = NOW - timedelta(minutes=start_minutes_ago)
    try:
        got = visit_after(state, action, "device", start=start, minutes=30, now=NOW)
    except NotAllowed as exc:
        got = str(exc)
    assert got == outcome


@pytest.mark.parametrize(("state", "action", "outcome"), [
    ("scheduled", "cancel", "cancelled"), ("confirmed", "no_show", "no_show"), ("checked_in", "complete", "completed"),
    ("scheduled", "check_in", "checked_in"),
])
def test_staff_record_what_happened_whenever_they_learn_it(state: str, action: str, outcome: str) -> None:
    assert visit_after(state, action, "staff", start=NOW - timedelta(days=3), minutes=30, now=NOW) == outcome


def test_unknown_actions_states_and_target_statuses_are_refused() -> None:
    with pytest.raises(NotAllowed, match="unknown appointment action"):
        visit_after("scheduled", "teleport", "staff", start=LATER, minutes=30, now=NOW)
    with pytest.raises(NotAllowed, match="unknown"):
        visit_after("lost", "cancel", "staff", start=LATER, minutes=30, now=NOW)
    assert [action_for_status(s) for s in ("scheduled", "checked_in", "no_show")] == ["schedule", "check_in",
                                                                                       "no_show"]
    with pytest.raises(NotAllowed, match="cannot be set to 'requested'"):
        action_for_status("requested")


# -- payment plans ---------------------------------------------------------------------------------
# (bill status, current plan, plan recorded, actor, owed cents) -> bill status afterwards, or "-"
PLANS = [
    ("open", None, "requested", "device", 4500, "open"),
    ("open", "requested", "requested", "device", 4500, "open"),   # asking again (other instalments)
    ("open", "declined", "requested", "device", 4500, "open"),
    ("plan", "active", "requested", "device", 4500, "-"),
    ("open", None, "requested", "device", 0, "-"),                # nothing owed
    ("open", None, "active", "device", 4500, "-"),                # only the clinic approves
    ("open", "requested", "declined", "device", 4500, "-"),
    ("open", "requested", "active", "staff", 4500, "plan"),
    ("open", "requested", "declined", "staff", 4500, "open"),
    ("plan", "active", "declined", "staff", 4500, "open"),
    ("open", None, "requested", "staff", 0, "open"),
    ("open", None, "cancelled", "staff", 4500, "-"),              # not a plan state
]
PLANS += [(closed, plan, wanted, who, 4500, "-") for closed in ("paid", "void") for plan in (None, "active")
          for wanted in ("requested", "active", "declined") for who in ("staff", "device")]


@pytest.mark.parametrize(("bill", "plan", "wanted", "actor", "owed", "outcome"), PLANS)
def test_payment_plan_guard(bill: str, plan: str | None, wanted: str, actor: str, owed: int, outcome: str) -> None:
    def decide() -> str:
        return bill_after_plan(bill, plan, wanted, actor, owed_cents=owed)  # type: ignore[arg-type]

    if outcome == "-":
        with pytest.raises(NotAllowed):
            decide()
    else:
        assert decide() == outcome


def test_a_closed_bill_names_its_state() -> None:
    with pytest.raises(NotAllowed, match=r"^the bill is paid: no payment plan for it$"):
        bill_after_plan("paid", None, "active", "staff", owed_cents=100)


# -- the app asks the same rules before it queues ---------------------------------------------------
def test_the_app_refuses_at_once_what_the_clinic_would_refuse(populated_state: AppState) -> None:
    state = populated_state
    state.visits.cancel("apt_past")  # completed 20 days ago
    assert state.feedback.error == "The appointment already took place."
    state.visits.confirm("apt_past")
    assert state.feedback.error == "The appointment is completed: it cannot be confirmed."
    assert state.records.snapshot.status.pending == 0  # nothing was queued
    state.visits.check_in("apt_next", "", "", "", "")
    assert state.feedback.error is None and state.records.snapshot.appointment("apt_next").status == "checked_in"
    state.visits.cancel("apt_next")
    assert state.feedback.error == "The appointment already took place."
    assert state.records.snapshot.status.pending == 1
