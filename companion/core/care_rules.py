"""What a visit's state and a bill's payment plan allow, and for whom: each rule once.

The staff routes, the device mutations (both on the server) and the app's optimistic effects
ask these pure functions, so "can this visit be cancelled?" has one answer everywhere::

    visit_after("confirmed", "cancel", "device", start=start, minutes=30, now=now)  # -> "cancelled"
    visit_after("completed", "cancel", "staff", start=start, minutes=30, now=now)
    # NotAllowed: the appointment already took place
    bill_after_plan("open", None, "requested", "device", owed_cents=4500)           # -> "open"

A refusal raises :class:`~companion.core.errors.NotAllowed` whose message names the rule (the server
answers 409 to staff and ``rejected`` to a device; the app shows the line). An allowed action
returns the status afterwards, which equals the status before when there is nothing to do
(confirming a visit twice is not an error).

Visits — who may move a visit from which state (``=`` already done: allowed, nothing changes)::

    action     target       staff from                                 device from
    schedule   scheduled    requested scheduled= confirmed checked_in  (clinic only)
    confirm    confirmed    requested scheduled confirmed=             scheduled confirmed= checked_in=
    check_in   checked_in   requested scheduled confirmed checked_in=  scheduled confirmed checked_in=
    complete   completed    scheduled confirmed checked_in completed=  (clinic only)
    no_show    no_show      scheduled confirmed no_show=               (clinic only)
    cancel     cancelled    requested scheduled confirmed checked_in   requested scheduled confirmed
                            cancelled=                                 cancelled=

``schedule`` is also a reschedule: a moved visit asks the patient to confirm again. Time rules,
for the patient's device (the clinic records what happened, whenever it learns it): a scheduled
or confirmed visit cannot be cancelled once it has begun (it took place, or the clinic records a
no-show), nor confirmed or checked in to once it is over. A request (``requested``) can be
withdrawn at any time.

Payment plans: a paid or void bill takes no plan; a device may only ask (``requested``), not
while a plan is active and not when nothing is owed; the clinic records ``active``, ``declined``
or ``requested``. An active plan puts the bill in status ``plan``, any other plan leaves it
``open``.

Standard library only: this is part of the core both sides import.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Literal

from .errors import NotAllowed
from .models import APPOINTMENT_STATUSES, PLAN_STATUSES

__all__ = [
    "ACTORS",
    "DEVICE_ACTIONS",
    "VISIT_ACTIONS",
    "VISIT_STATES",
    "Actor",
    "action_for_status",
    "bill_after_plan",
    "offers",
    "visit_after",
]

Actor = Literal["staff", "device"]
ACTORS: tuple[Actor, ...] = ("staff", "device")
VISIT_STATES = APPOINTMENT_STATUSES
TARGET = {"schedule": "scheduled", "confirm": "confirmed", "check_in": "checked_in", "complete": "completed",
          "no_show": "no_show", "cancel": "cancelled"}
VISIT_ACTIONS = tuple(TARGET)
DEVICE_ACTIONS = ("confirm", "check_in", "cancel")

_REQUESTED, _TOOK_PLACE = frozenset({"requested"}), frozenset({"checked_in", "completed", "no_show"})

# actor -> action -> the states it moves a visit from
_MOVES: dict[Actor, dict[str, frozenset[str]]] = {
    "staff": {
        "schedule": frozenset({"requested", "confirmed", "checked_in"}),
        "confirm": frozenset({"requested", "scheduled"}),
        "check_in": frozenset({"requested", "scheduled", "confirmed"}),
        "complete": frozenset({"scheduled", "confirmed", "checked_in"}),
        "no_show": frozenset({"scheduled", "confirmed"}),
        "cancel": frozenset({"requested", "scheduled", "confirmed", "checked_in"}),
    },
    "device": {
        "confirm": frozenset({"scheduled"}),
        "check_in": frozenset({"scheduled", "confirmed"}),
        "cancel": frozenset({"requested", "scheduled", "confirmed"}),
    },
}
# actor -> action -> the states in which it is already done (allowed; nothing changes)
_DONE: dict[Actor, dict[str, frozenset[str]]] = {
    "staff": {action: frozenset({target}) for action, target in TARGET.items()},
    "device": {"confirm": frozenset({"confirmed", "checked_in"}), "check_in": frozenset({"checked_in"}),
               "cancel": frozenset({"cancelled"})},
}


def visit_after(status: str, action: str, actor: Actor, *, start: datetime, minutes: int, now: datetime,
                checkin_opens: int | None = None) -> str:
    """The visit's status after ``actor`` does ``action`` at ``now``; :class:`NotAllowed` says why not.

    ``start`` and ``minutes`` place the visit in time (the device's time rules); see the table in
    the module docstring. ``checkin_opens`` (minutes, the clinic profile's window) keeps a device
    from checking in earlier than that before the start; ``None`` sets no window.
    """
    if action not in TARGET:
        raise NotAllowed(f"unknown appointment action {action!r}")
    if status not in VISIT_STATES:
        raise NotAllowed(f"the appointment's status {status!r} is unknown")
    moves = _MOVES[actor]
    if action not in moves:
        raise NotAllowed(f"only the clinic can {_VERBS[action]} an appointment")
    if status in _DONE[actor][action]:
        return status
    if status not in moves[action]:
        raise NotAllowed(_why_not(status, action))
    if actor == "device" and status not in _REQUESTED:
        if action == "cancel" and now >= start:
            raise NotAllowed("the appointment already took place")
        if now >= start + timedelta(minutes=minutes):
            raise NotAllowed("the appointment is over")
        if action == "check_in" and checkin_opens is not None and now < start - timedelta(minutes=checkin_opens):
            raise NotAllowed(f"check-in opens {_window(checkin_opens)} before the appointment")
    return TARGET[action]


def _window(minutes: int) -> str:
    if minutes % 1440 == 0:
        return f"{minutes // 1440 * 24} hours" if minutes <= 2880 else f"{minutes // 1440} days"
    if minutes % 60 == 0:
        return f"{minutes // 60} hour{'s' if minutes != 60 else ''}"
    return f"{minutes} minutes"


_VERBS = {"schedule": "schedule", "confirm": "confirm", "check_in": "check in to", "complete": "complete",
          "no_show": "record a no-show for", "cancel": "cancel"}


def offers(status: str, action: str, actor: Actor, *, start: datetime, minutes: int, now: datetime,
           to_change: bool = True, checkin_opens: int | None = None) -> bool:
    """Whether a screen should offer ``action`` to ``actor`` now: allowed and, with ``to_change``, it
    would change the visit (no "Confirm" on a confirmed visit; a reschedule keeps the status)."""
    try:
        after = visit_after(status, action, actor, start=start, minutes=minutes, now=now,
                            checkin_opens=checkin_opens)
    except NotAllowed:
        return False
    return after != status or not to_change


def _why_not(status: str, action: str) -> str:
    if action == "cancel" and status in _TOOK_PLACE:
        return "the appointment already took place"
    if status in _REQUESTED:
        return "the clinic has not scheduled this appointment yet"
    if status == "checked_in":
        return "the patient has already checked in"
    return f"the appointment is {status.replace('_', ' ')}: it cannot be {_PAST[action]}"


_PAST = {"schedule": "rescheduled", "confirm": "confirmed", "check_in": "checked in to", "complete": "completed",
         "no_show": "marked a no-show", "cancel": "cancelled"}


def action_for_status(status: str) -> str:
    """The action that sets ``status`` (a staff edit names the status it wants); NotAllowed for none."""
    for action, target in TARGET.items():
        if target == status:
            return action
    raise NotAllowed(f"an appointment cannot be set to {status.replace('_', ' ')!r}")


# -- payment plans -------------------------------------------------------------------------------
def bill_after_plan(bill_status: str, plan_status: str | None, plan: str, actor: Actor, *, owed_cents: int) -> str:
    """The bill's status once ``actor`` records plan ``plan`` on it; NotAllowed says why not.

    ``plan_status`` is the plan the bill has now (``None`` for none), ``owed_cents`` what the
    patient still owes on it.
    """
    if plan not in PLAN_STATUSES:
        raise NotAllowed(f"a payment plan cannot be {plan!r}")
    if bill_status in ("paid", "void"):
        raise NotAllowed(f"the bill is {bill_status}: no payment plan for it")
    if actor == "device":
        if plan != "requested":
            raise NotAllowed("only the clinic can approve or decline a payment plan")
        if plan_status == "active":
            raise NotAllowed("a payment plan is already active for this bill")
        if owed_cents <= 0:
            raise NotAllowed("nothing is left to pay on this bill")
    return "plan" if plan == "active" else "open"
