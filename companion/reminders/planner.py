"""The pure reminder planner: records + settings + now + delivery state -> reminders.

:func:`plan_reminders` is a function of its arguments only (no clock, no
vault, no environment): the same inputs give the same reminders, which is what
the property tests lean on. It

1. asks the rules (:mod:`.rules`) for every occasion the records call for;
2. leaves out those already delivered or dropped (``delivered`` holds their
   ids), unless the patient snoozed one after it showed — a snooze gives a new
   id (``<id>~<until>``), so every id still fires at most once;
3. schedules the rest: not before the rule's time nor a snooze, not before
   ``now`` (a reminder missed while the app was closed shows at the next
   start), and out of quiet hours unless the delay would take it past its
   ``expires_at`` — then it fires at its own time, inside the quiet hours,
   because a late reminder is worth less than a quiet night;
4. words it for the moment it will show (discreet rules in :mod:`.wording`), and keeps how
   (``reword``: the same wording of the same record for the same moment, in the language active
   when it is called), so an in-app banner follows a language switch with the very words the
   notification had.

:func:`triage` splits a plan at ``now`` into what to show and what to drop (it
expired unseen), and :func:`compose_notices` turns what shows at once into
notifications, folding several new messages or results into one.
"""

from __future__ import annotations

from collections.abc import Callable, Container, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, tzinfo
from functools import partial
from typing import TYPE_CHECKING, Any

from ..config import ClinicProfile
from ..core.errors import VaultError
from ..core.fields import iso
from ..core.models import Appointment, Bill, Message, PrepStep, Result
from ..core.prevention import PreventionPlan
from .local_time import QuietHours
from .notifier import Reword
from .prevention import load_plan, prevention_occasions, test_due_of
from .rules import (
    Occasion,
    appointment_occasions,
    bill_occasions,
    message_occasions,
    prep_occasions,
    result_occasions,
)
from .settings import ReminderSettings
from .wording import Wording, message_text, updates_text

if TYPE_CHECKING:
    from ..vault import Vault

__all__ = ["FORGET_AFTER", "Notice", "RecordSet", "Reminder", "compose_notices", "plan_reminders", "reworded", "triage"]

# A reminder expired longer ago than this is not planned any more, and its
# delivery record may be forgotten (see delivery.prune_delivered): both use this
# one constant so a forgotten record can never make a reminder fire again.
FORGET_AFTER = timedelta(days=7)


@dataclass(frozen=True, slots=True)
class RecordSet:
    """The records reminders are planned from (what the vault holds)."""

    appointments: Sequence[Appointment] = ()
    prep: Sequence[PrepStep] = ()
    bills: Sequence[Bill] = ()
    results: Sequence[Result] = ()
    messages: Sequence[Message] = ()
    prevention: PreventionPlan = field(default_factory=PreventionPlan)  # PrEP / doxy-PEP entries (vault meta)
    test_due: date | None = None  # the clinic's next PrEP test date (profile ``prep_test_due``)

    @classmethod
    def from_vault(cls, vault: Vault) -> RecordSet:
        """Read every record kind reminders use from an open :class:`~companion.vault.Vault`."""
        try:
            prevention = load_plan(vault.meta)
        except VaultError:  # a damaged PrEP plan must not silence the other reminders (the screen says it)
            prevention = PreventionPlan()
        return cls(
            appointments=tuple(vault.appointments.all()),
            prep=tuple(vault.prep.all()),
            bills=tuple(vault.bills.all()),
            results=tuple(vault.results.all()),
            messages=tuple(vault.messages.all()),
            prevention=prevention,
            test_due=test_due_of(vault),
        )


@dataclass(frozen=True, slots=True)
class Reminder:
    """One planned notification.

    ``id`` is stable for a record's schedule (see :mod:`.rules`); ``due_at`` is
    the rule's time, ``fire_at`` when it will show (after snooze, quiet hours
    and catch-up); ``expires_at`` when it stops being useful. ``reword`` gives ``(title, body)``
    again in the language active when it is called (see :func:`reworded`).
    """

    id: str
    kind: str  # appointment | prep | bill | message | result | prevention
    record_id: str
    due_at: datetime
    fire_at: datetime
    expires_at: datetime
    title: str
    body: str
    discreet: bool
    reword: Reword | None = field(default=None, compare=False, repr=False)

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "kind": self.kind, "record_id": self.record_id, "due_at": iso(self.due_at),
                "fire_at": iso(self.fire_at), "expires_at": iso(self.expires_at), "title": self.title,
                "body": self.body, "discreet": self.discreet}


@dataclass(frozen=True, slots=True)
class Notice:
    """What one notification shows; ``reminder_ids`` are the reminders it delivers; ``reword`` its
    text again, in the language of the moment (an in-app banner drawn after a language switch)."""

    kind: str
    title: str
    body: str
    reminder_ids: tuple[str, ...]
    fire_at: datetime
    expires_at: datetime
    discreet: bool = True
    reword: Reword | None = field(default=None, compare=False, repr=False)

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "title": self.title, "body": self.body, "reminder_ids": list(self.reminder_ids),
                "fire_at": iso(self.fire_at), "expires_at": iso(self.expires_at), "discreet": self.discreet}


def reworded(word: Callable[[], Wording]) -> Reword:
    """``word`` (a wording of :mod:`.wording` with its record, moment and clinic bound) as a
    :data:`~.notifier.Reword`: the catalog messages it is made of are looked up each call, so the
    text is the one the notification had, in the language active then (the same discretion
    rules: it is the same function on the same record)."""

    def say() -> tuple[str, str]:
        text = word()
        return text.title, text.body

    return say


def _occasions(records: RecordSet, settings: ReminderSettings, now: datetime, tz: tzinfo,
               clinic: ClinicProfile) -> Iterable[Occasion]:
    yield from appointment_occasions(records.appointments, settings, tz, clinic)
    yield from prep_occasions(records.prep, records.appointments, settings, tz, clinic)
    yield from bill_occasions(records.bills, settings, tz, clinic)
    yield from message_occasions(records.messages, clinic)
    yield from result_occasions(records.results, settings, clinic)
    yield from prevention_occasions(records.prevention, records.test_due, now, tz, clinic, records.results)


def _fire_time(earliest: datetime, now: datetime, expires_at: datetime, quiet: QuietHours | None) -> datetime:
    """Not before ``earliest`` nor ``now``; out of quiet hours unless that is past ``expires_at``."""
    at = max(earliest, now)
    if quiet is None:
        return at
    later = quiet.end_of_quiet(at)
    return later if later < expires_at else at


def plan_reminders(
    records: RecordSet,
    settings: ReminderSettings,
    now: datetime,
    delivered: Container[str],
    *,
    tz: tzinfo,
    clinic: ClinicProfile,
) -> list[Reminder]:
    """Every reminder not yet delivered or dropped, ordered by ``fire_at``.

    ``now`` is an aware datetime; ``tz`` the local zone for quiet hours and
    wording; ``delivered`` the ids already shown or dropped (a mapping or set).
    The result includes reminders that expired unseen (``expires_at <= now``,
    within :data:`FORGET_AFTER`) so the caller can record them as dropped.
    """
    quiet = settings.quiet(tz)
    horizon = now - FORGET_AFTER
    plan: list[Reminder] = []
    for occ in _occasions(records, settings, now, tz, clinic):
        if occ.expires_at <= horizon or occ.due_at >= occ.expires_at:
            continue
        snooze = settings.snoozes.get(occ.id)
        rid, earliest = occ.id, occ.due_at
        if occ.id in delivered:
            if snooze is None:
                continue
            rid = f"{occ.id}~{int(snooze.until.timestamp())}"
            if rid in delivered:
                continue
            earliest = snooze.until
        elif snooze is not None:
            earliest = max(earliest, snooze.until)
        fire_at = _fire_time(earliest, now, occ.expires_at, quiet)
        text = occ.word(fire_at)
        plan.append(Reminder(id=rid, kind=occ.kind, record_id=occ.record_id, due_at=occ.due_at, fire_at=fire_at,
                             expires_at=occ.expires_at, title=text.title, body=text.body, discreet=text.discreet,
                             reword=reworded(partial(occ.word, fire_at))))
    plan.sort(key=lambda r: (r.fire_at, r.id))
    return plan


def triage(plan: Iterable[Reminder], now: datetime) -> tuple[list[Reminder], list[Reminder]]:
    """``(show, drop)`` at ``now``: due and still useful; expired without having shown."""
    show, drop = [], []
    for reminder in plan:
        if reminder.expires_at <= now:
            drop.append(reminder)
        elif reminder.fire_at <= now:
            show.append(reminder)
    return show, drop


_FOLDED = ("message", "result")


def _single(r: Reminder) -> Notice:
    return Notice(r.kind, r.title, r.body, (r.id,), r.fire_at, r.expires_at, r.discreet, r.reword)


def compose_notices(due: Sequence[Reminder], clinic: ClinicProfile) -> list[Notice]:
    """One notification per reminder, except several new messages (or results) showing at once: one each."""
    notices: list[Notice] = []
    for reminder in due:
        if reminder.kind not in _FOLDED:
            notices.append(_single(reminder))
    for kind in _FOLDED:
        group = [r for r in due if r.kind == kind]
        if not group:
            continue
        if len(group) == 1:
            notices.append(_single(group[0]))
            continue
        discreet = any(r.discreet for r in group)
        word = partial(message_text, len(group), clinic) if kind == "message" else partial(
            updates_text, len(group), clinic, discreet=discreet)
        text = word()
        notices.append(Notice(kind, text.title, text.body, tuple(r.id for r in group), max(r.fire_at for r in group),
                              min(r.expires_at for r in group), text.discreet, reworded(word)))
    notices.sort(key=lambda n: (n.fire_at, n.reminder_ids))
    return notices
