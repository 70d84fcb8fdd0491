"""The reminder rules: which records call for a reminder, when it is due, until when it is useful.

Each rule turns records into :class:`Occasion` values (pure; no quiet hours,
snoozes or delivery state — :mod:`.planner` applies those):

=============  =====================================  ==========================================
kind           due                                    useful until (``expires_at``)
=============  =====================================  ==========================================
appointment    start − each lead (default 24 h, 2 h)  the next shorter lead's time; the last: start
prep           start − ``before_minutes``             1 h after that, at most the start: a prep
                                                      step ("stop eating") is an instruction for
                                                      its moment, so it is not delayed for long
bill           10:00 local, N days before due and     the due-day reminder; then the end of the
               on the due day (open, amount > 0)      due day
message        when the clinic sent it (unread)       14 days later
result         when it was released (unacknowledged)  14 days later
=============  =====================================  ==========================================

Only scheduled or confirmed appointments remind (cancelled, completed,
requested … do not), and their prep steps only while not done.

The occasion ``id`` is ``kind:record id:rule:version``. The version is the
record's schedule (appointment sequence and start; bill due date; result
release time), so a reschedule produces new ids and the old reminders simply
stop being planned: nothing to cancel, nothing to migrate.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo

from ..config import ClinicProfile
from ..core.models import Appointment, Bill, Message, PrepStep, Result
from .settings import ReminderSettings
from .wording import Wording, appointment_text, bill_text, message_text, prep_text, result_text

__all__ = [
    "ACTIVE_APPOINTMENT_STATUSES",
    "BILL_HOUR",
    "NEWS_WINDOW",
    "PREP_GRACE",
    "Occasion",
    "appointment_occasions",
    "bill_occasions",
    "message_occasions",
    "prep_occasions",
    "result_occasions",
]

ACTIVE_APPOINTMENT_STATUSES = ("scheduled", "confirmed")
BILL_HOUR = time(10, 0)
PREP_GRACE = timedelta(hours=1)
NEWS_WINDOW = timedelta(days=14)


@dataclass(frozen=True, slots=True)
class Occasion:
    """One reminder a rule asks for; ``word(shown_at)`` gives its text for the moment it shows."""

    id: str
    kind: str
    record_id: str
    due_at: datetime
    expires_at: datetime
    word: Callable[[datetime], Wording]


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def _appointment_version(appt: Appointment) -> str:
    return f"s{appt.sequence}-{_stamp(appt.start)}"


def _active(appt: Appointment) -> bool:
    return appt.status in ACTIVE_APPOINTMENT_STATUSES


def appointment_occasions(
    appointments: Sequence[Appointment], settings: ReminderSettings, tz: tzinfo, clinic: ClinicProfile
) -> Iterator[Occasion]:
    leads = sorted(set(settings.leads_minutes), reverse=True)
    for appt in appointments:
        if not _active(appt):
            continue
        version = _appointment_version(appt)
        for i, lead in enumerate(leads):
            until = appt.start - timedelta(minutes=leads[i + 1]) if i + 1 < len(leads) else appt.start

            def word(shown_at: datetime, appt: Appointment = appt) -> Wording:
                return appointment_text(appt, shown_at, tz, clinic, discreet=settings.discreet)

            yield Occasion(
                id=f"appointment:{appt.id}:lead{lead}m:{version}",
                kind="appointment",
                record_id=appt.id,
                due_at=appt.start - timedelta(minutes=lead),
                expires_at=until,
                word=word,
            )


def prep_occasions(
    steps: Sequence[PrepStep],
    appointments: Sequence[Appointment],
    settings: ReminderSettings,
    tz: tzinfo,
    clinic: ClinicProfile,
) -> Iterator[Occasion]:
    by_id = {a.id: a for a in appointments}
    for step in steps:
        appt = by_id.get(step.appointment_id)
        if appt is None or not _active(appt) or step.done_at is not None or step.before_minutes <= 0:
            continue
        due = appt.start - timedelta(minutes=step.before_minutes)

        def word(shown_at: datetime, step: PrepStep = step, appt: Appointment = appt) -> Wording:
            return prep_text(step, appt, shown_at, tz, clinic, discreet=settings.discreet)

        yield Occasion(
            id=f"prep:{step.id}:b{step.before_minutes}m:{_appointment_version(appt)}",
            kind="prep",
            record_id=step.id,
            due_at=due,
            expires_at=min(due + PREP_GRACE, appt.start),
            word=word,
        )


def _local_instant(day: date, at: time, tz: tzinfo) -> datetime:
    return datetime.combine(day, at, tzinfo=tz).astimezone(UTC)


def bill_occasions(
    bills: Sequence[Bill], settings: ReminderSettings, tz: tzinfo, clinic: ClinicProfile
) -> Iterator[Occasion]:
    for bill in bills:
        if bill.status != "open" or bill.patient_cents <= 0:
            continue
        version = f"due{bill.due.isoformat()}"
        on_the_day = _local_instant(bill.due, BILL_HOUR, tz)
        end_of_day = _local_instant(bill.due + timedelta(days=1), time(0, 0), tz)

        def word(shown_at: datetime, bill: Bill = bill) -> Wording:
            return bill_text(bill, shown_at, tz, clinic, discreet=settings.discreet)

        days = settings.bill_days_before
        if days > 0:
            yield Occasion(
                id=f"bill:{bill.id}:before{days}d:{version}",
                kind="bill",
                record_id=bill.id,
                due_at=_local_instant(bill.due - timedelta(days=days), BILL_HOUR, tz),
                expires_at=on_the_day,
                word=word,
            )
        yield Occasion(
            id=f"bill:{bill.id}:dueday:{version}",
            kind="bill",
            record_id=bill.id,
            due_at=on_the_day,
            expires_at=end_of_day,
            word=word,
        )


def _news(kind: str, record_id: str, occasion_id: str, arrived: datetime,
          word: Callable[[datetime], Wording]) -> Occasion:
    """News (a clinic message, a released result): due when it arrived, useful for NEWS_WINDOW."""
    return Occasion(id=occasion_id, kind=kind, record_id=record_id, due_at=arrived,
                    expires_at=arrived + NEWS_WINDOW, word=word)


def message_occasions(messages: Sequence[Message], clinic: ClinicProfile) -> Iterator[Occasion]:
    for msg in messages:
        if msg.author != "clinic" or msg.read_at is not None:
            continue
        yield _news("message", msg.id, f"message:{msg.id}:new", msg.sent_at,
                    lambda _shown_at: message_text(1, clinic))


def result_occasions(
    results: Sequence[Result], settings: ReminderSettings, clinic: ClinicProfile
) -> Iterator[Occasion]:
    for res in results:
        if res.acknowledged_at is not None:
            continue

        def word(_shown_at: datetime, res: Result = res) -> Wording:
            return result_text(res, clinic, discreet=settings.discreet)

        yield _news("result", res.id, f"result:{res.id}:released:{_stamp(res.released_at)}", res.released_at, word)
