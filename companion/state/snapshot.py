"""What the screens show, read from the vault in one pass: an immutable :class:`Snapshot`.

The state rebuilds the snapshot after every change (an intent, a sync page, an
unlock), so views read plain, sorted data and never touch the vault. Only
released results exist on a device (the server never sends held ones), so
``results`` is everything the vault has.

``build_snapshot`` holds ``vault.lock`` while reading, so a sync page applied
from the live thread is seen whole or not at all.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from types import MappingProxyType

from ..core.models import Appointment, Article, Bill, Message, OpenTimes, OutboxEntry, PrepStep, Profile, Result
from ..core.protocol import bill_of_thread
from ..core.references import bill_reference
from ..i18n import N_, _
from ..sync.status import SyncStatus, read_status
from ..vault import Vault

__all__ = ["MessageThread", "Snapshot", "THREAD_TITLES", "build_snapshot", "empty_snapshot", "empty_status",
           "thread_title"]

THREAD_TITLES = {
    "general": N_("Clinic team"),
    "appointments": N_("Appointments"),
    "billing": N_("Billing"),
    "results": N_("Results"),
    "counselling": N_("Counselling"),
}


def thread_title(key: str) -> str:
    """A thread's title; a bill's names its payment reference only (never what the bill was for)."""
    bill_id = bill_of_thread(key)
    if bill_id is not None:
        return _("Billing · %(reference)s") % {"reference": bill_reference(bill_id)}
    return _(THREAD_TITLES[key]) if key in THREAD_TITLES else key.title()


ACTIVE = ("requested", "scheduled", "confirmed", "checked_in")
LOCAL_PREFIX = "local-"


@dataclass(frozen=True, slots=True)
class MessageThread:
    """One conversation with the clinic (messages oldest first)."""

    key: str
    title: str
    messages: tuple[Message, ...]
    unread: int

    @property
    def last(self) -> Message | None:
        return self.messages[-1] if self.messages else None


def empty_status() -> SyncStatus:
    return SyncStatus(paired=False, state=None, last_sync=None, last_attempt=None, last_error=None, pending=0,
                      rejected=0, device_id=None, clinic_name=None, server_url=None)


@dataclass(frozen=True, slots=True)
class Snapshot:
    """Everything the unlocked app shows, sorted for display."""

    taken_at: datetime
    profile: Profile | None = None
    upcoming: tuple[Appointment, ...] = ()  # soonest first
    past: tuple[Appointment, ...] = ()  # newest first
    appointments: Mapping[str, Appointment] = field(default_factory=lambda: MappingProxyType({}))
    prep: Mapping[str, tuple[PrepStep, ...]] = field(default_factory=lambda: MappingProxyType({}))
    bills: tuple[Bill, ...] = ()  # open first, by due date
    results: tuple[Result, ...] = ()  # newest first
    threads: tuple[MessageThread, ...] = ()  # most recent first
    articles: tuple[Article, ...] = ()
    open_times: tuple[OpenTimes, ...] = ()  # bookable services, by name
    outbox: Mapping[str, OutboxEntry] = field(default_factory=lambda: MappingProxyType({}))
    status: SyncStatus = field(default_factory=empty_status)

    @property
    def next_appointment(self) -> Appointment | None:
        return self.upcoming[0] if self.upcoming else None

    @property
    def unread(self) -> int:
        return sum(t.unread for t in self.threads)

    @property
    def balance_cents(self) -> int:
        return sum(b.patient_cents for b in self.bills if b.status in ("open", "plan"))

    @property
    def next_due(self) -> date | None:
        due = [b.due for b in self.bills if b.status == "open" and b.patient_cents > 0]
        return min(due) if due else None

    @property
    def new_results(self) -> tuple[Result, ...]:
        return tuple(r for r in self.results if r.acknowledged_at is None)

    def appointment(self, appointment_id: str) -> Appointment | None:
        return self.appointments.get(appointment_id)

    def prep_for(self, appointment_id: str) -> tuple[PrepStep, ...]:
        return self.prep.get(appointment_id, ())

    def result(self, result_id: str) -> Result | None:
        return next((r for r in self.results if r.id == result_id), None)

    def bill(self, bill_id: str) -> Bill | None:
        return next((b for b in self.bills if b.id == bill_id), None)

    def thread(self, key: str) -> MessageThread | None:
        return next((t for t in self.threads if t.key == key), None)

    def article(self, article_id: str) -> Article | None:
        return next((a for a in self.articles if a.id == article_id), None)

    def message_state(self, message: Message) -> str:
        """``sent`` (the clinic has it), ``queued`` (waiting for a connection) or ``not sent`` (refused)."""
        if not message.id.startswith(LOCAL_PREFIX):
            return "sent"
        entry = self.outbox.get(message.client_id or "")
        if entry is not None and entry.state == "rejected":
            return "not sent"
        return "queued"


def empty_snapshot(now: datetime) -> Snapshot:
    return Snapshot(taken_at=now)


def _threads(messages: list[Message]) -> tuple[MessageThread, ...]:
    grouped: dict[str, list[Message]] = {}
    for m in messages:
        grouped.setdefault(m.thread, []).append(m)
    threads = []
    for key, items in grouped.items():
        items.sort(key=lambda m: m.sent_at)
        unread = sum(1 for m in items if m.author == "clinic" and m.read_at is None)
        threads.append(MessageThread(key, thread_title(key), tuple(items), unread))
    threads.sort(key=lambda t: t.messages[-1].sent_at, reverse=True)
    return tuple(threads)


def _is_upcoming(appt: Appointment, now: datetime) -> bool:
    if appt.status == "requested":  # waiting for the clinic's time: upcoming until answered
        return True
    return appt.status in ACTIVE and appt.end > now - timedelta(minutes=30)


def build_snapshot(vault: Vault, now: datetime) -> Snapshot:
    """Read every record the screens need from an open vault (one consistent read)."""
    v = vault
    with v.lock:
        profile: Profile | None = v.profile.get()
        appts: list[Appointment] = v.appointments.all()
        steps: list[PrepStep] = v.prep.all()
        bills: list[Bill] = v.bills.all()
        results: list[Result] = v.results.all()
        messages: list[Message] = v.messages.all()
        articles: list[Article] = v.articles.all()
        open_times: list[OpenTimes] = v.open_times.all()
        outbox: list[OutboxEntry] = v.outbox.all()
        status = read_status(v)
    upcoming = sorted((a for a in appts if _is_upcoming(a, now)), key=lambda a: (a.status == "requested", a.start))
    past = sorted((a for a in appts if not _is_upcoming(a, now)), key=lambda a: a.start, reverse=True)
    prep: dict[str, list[PrepStep]] = {}
    for s in steps:
        prep.setdefault(s.appointment_id, []).append(s)
    bill_order = {"open": 0, "plan": 1, "paid": 2, "void": 3}
    return Snapshot(
        taken_at=now,
        profile=profile,
        upcoming=tuple(upcoming),
        past=tuple(past),
        appointments=MappingProxyType({a.id: a for a in appts}),
        prep=MappingProxyType({k: tuple(sorted(v_, key=lambda s: -s.before_minutes)) for k, v_ in prep.items()}),
        bills=tuple(sorted(bills, key=lambda b: (bill_order.get(b.status, 9), b.due))),
        results=tuple(sorted(results, key=lambda r: r.released_at, reverse=True)),
        threads=_threads(messages),
        articles=tuple(sorted(articles, key=lambda a: a.published_at, reverse=True)),
        open_times=tuple(sorted(open_times, key=lambda o: (o.name.lower(), o.id))),
        outbox=MappingProxyType({e.id: e for e in outbox}),
        status=status,
    )
