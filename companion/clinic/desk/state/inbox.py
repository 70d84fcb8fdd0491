"""The inbox: everything patients sent, newest first, unread counted, filterable by kind — and its poller.

:meth:`Inbox.poll` is what the background poller calls every :data:`POLL_SECONDS` (marked as
background, so it never keeps an idle sign-in alive, and quiet: no spinner, no error flash). It
notifies only when what it fetched differs from what the desk shows, and only what shows the
inbox subscribes (the rail's badge, the inbox list, Today's waiting requests): a poll never
redraws the patient page where someone is typing. The poller thread runs from each sign-in to its
sign-out (:meth:`Inbox.poll_when_signed_in`): a desk nobody signed in to runs no thread.

Accepting an appointment request is one step for the desk: schedule the requested appointment
(or book it from the request) and mark the item handled. A billing question (``bill.question``) is
answered from its item: the reply goes into the bill's conversation and the server closes the item
(:meth:`Inbox.answer`); :meth:`Inbox.open_bill` shows the patient's page at the bill.
"""

from __future__ import annotations

import threading
from datetime import date, datetime, time, timedelta
from typing import Any

from ....core.errors import StaffApiError
from ....core.observable import Observable
from ....core.requests import free_slots
from .feedback import Drafts
from .patient_page import OpenPatient
from .session import Session
from .timefmt import DeskClock, local, parse_local, patient_label

__all__ = ["FOCUS_BILL", "INBOX_KINDS", "POLL_SECONDS", "REQUEST_KINDS", "Inbox"]

INBOX_KINDS: dict[str, str] = {
    "message.send": "Message",
    "appointment.request": "Appointment request",
    "appointment.cancel": "Cancellation",
    "checkin.submit": "Checked in",
    "bill.plan_request": "Payment plan request",
    "bill.question": "Billing question",
}
REQUEST_KINDS = ("appointment.request", "appointment.cancel", "bill.plan_request", "bill.question")
FOCUS_BILL = "patient.focus_bill"  # draft: the bill the patient page shows highlighted
INBOX_WINDOW = 300  # newest items fetched per poll
POLL_SECONDS = 2.0
HORIZON_DAYS = 21  # how far ahead free times are proposed


class Inbox(Observable):
    def __init__(self, session: Session, drafts: Drafts, clock: DeskClock, names: dict[str, str],
                 patient: OpenPatient) -> None:
        super().__init__()
        self.session, self.api, self.drafts, self.clock = session, session.api, drafts, clock
        self.names = names           # patient id -> name, shared with Today
        self.languages: dict[str, str] = {}  # patient id -> what their app speaks (``"es"``), filled with names
        self.patient = patient
        self.items: list[dict[str, Any]] = []
        self.proposed: dict[str, list[datetime]] = {}  # open request item id -> free times that match it
        self.unread = 0
        self.filter = "all"
        self._stop = threading.Event()
        self._poll_every: float | None = None  # set by poll_when_signed_in
        self._poller: threading.Thread | None = None
        self._poller_lock = threading.Lock()

    def forget(self) -> None:
        self.items, self.unread = [], 0
        self.languages.clear()

    # -- reading -------------------------------------------------------------------------------------
    def poll(self, background: bool = True) -> None:
        """Fetch the newest items; quiet on success, and a signed-out answer ends the sign-in."""
        if not self.session.can("inbox"):
            return

        def fetch() -> list[dict[str, Any]]:
            items = list(self.api.inbox("all", background=background, limit=INBOX_WINDOW)["items"])  # newest first
            unknown = {i["patient_id"] for i in items} - set(self.names)
            found = self.api.patient_names(unknown, background=background)
            self.names.update({pid: patient_label(name, dob) for pid, (name, dob, _lang) in found.items()})
            self.languages.update({pid: lang for pid, (_name, _dob, lang) in found.items() if lang})
            self._propose(items, background)
            return items

        items = self.session.quietly(fetch) if background else self.session.attempt(fetch)
        if items is None or not self.session.signed_in:
            return
        items.sort(key=lambda i: (i["created_at"], i["id"]), reverse=True)
        unread = sum(1 for i in items if i["unread"])
        if items != self.items or unread != self.unread:
            self.items, self.unread = items, unread
            self.notify()

    def _propose(self, items: list[dict[str, Any]], background: bool) -> None:
        """Free times for requests not yet proposed for (one schedule read per poll that finds some)."""
        open_ids = {i["id"] for i in items if i["kind"] == "appointment.request" and not i["handled"]}
        fresh = [i for i in items if i["id"] in open_ids and i["id"] not in self.proposed]
        self.proposed = {k: v for k, v in self.proposed.items() if k in open_ids}
        if not fresh:
            return
        now = self.clock.now()
        booked = self.api.booked_times(now, now + timedelta(days=HORIZON_DAYS), background=background)
        for item in fresh:
            d = item["detail"]
            self.proposed[item["id"]] = free_slots(d.get("days") or (), d.get("times") or (), booked=booked,
                                                   now=now, tz=self.clock.tz, horizon_days=HORIZON_DAYS,
                                                   schedule=self.clock.site.schedule)

    def proposals(self, item_id: str) -> list[datetime]:
        return self.proposed.get(item_id, [])

    def pick_time(self, item_id: str, start: datetime) -> None:
        """Choose the time to book (a proposed slot or the pickers' date and time)."""
        moment = start.astimezone(self.clock.tz)
        self.drafts.set_draft(f"accept.{item_id}.date", moment.date().isoformat())
        self.drafts.set_draft(f"accept.{item_id}.time", f"{moment:%H:%M}")
        self.notify()

    def pick_date(self, item_id: str, day: date) -> None:
        self.drafts.set_draft(f"accept.{item_id}.date", day.isoformat())
        self.notify()

    def pick_clock(self, item_id: str, moment: time) -> None:
        self.drafts.set_draft(f"accept.{item_id}.time", f"{moment:%H:%M}")
        self.notify()

    def picked(self, item_id: str) -> datetime | None:
        """What "Accept and book" books, in the clinic's zone: the time the PSR chose (both parts set),
        else the first time the patient named, else None. The card says it, so nothing is booked unseen."""
        day, hour = self.drafts.draft(f"accept.{item_id}.date"), self.drafts.draft(f"accept.{item_id}.time")
        try:
            if day and hour:
                return parse_local(day, hour, self.clock.tz)
        except StaffApiError:
            return None
        return self.named(item_id)

    def named(self, item_id: str) -> datetime | None:
        """The first time the patient named in the request (the CLI's ``--when``), in the clinic's zone."""
        item = self._item(item_id)
        named = (item or {}).get("detail", {}).get("preferred") or [None]
        return local(named[0], self.clock.tz) if isinstance(named[0], str) else None

    def shown(self) -> list[dict[str, Any]]:
        if self.filter == "all":
            return self.items
        return [i for i in self.items if i["kind"] == self.filter]

    def set_filter(self, kind: str) -> None:
        self.filter = kind if kind in INBOX_KINDS else "all"
        self.notify()

    def waiting_requests(self) -> list[dict[str, Any]]:
        return [i for i in self.items if i["kind"] in REQUEST_KINDS and not i["handled"]]

    def unread_messages(self) -> list[dict[str, Any]]:
        return [i for i in self.items if i["kind"] == "message.send" and i["unread"]]

    def checked_in_ids(self) -> set[str]:
        """Appointments the patient checked in to from the app, not yet seen by the desk."""
        return {i["ref_id"] for i in self.items if i["kind"] == "checkin.submit" and not i["handled"]}

    def _item(self, item_id: str) -> dict[str, Any] | None:
        return next((i for i in self.items if i["id"] == item_id), None)

    # -- intents ---------------------------------------------------------------------------------------
    def open_item(self, item_id: str) -> None:
        item = self._item(item_id)
        if item is None:
            return
        if item["unread"]:
            self.session.attempt(lambda: self.api.mark_inbox(item_id, handled=False))
            item["unread"] = False
            self.unread = max(0, self.unread - 1)
            self.notify()
        self.patient.open(item["patient_id"])

    def mark_handled(self, item_id: str) -> None:
        if self.session.attempt(lambda: self.api.mark_inbox(item_id, handled=True)) is not None:
            self.poll(background=False)
            self.session.feedback.say(toast="Marked as done.")

    def accept_request(self, item_id: str) -> None:
        """One step: the requested appointment becomes scheduled (or is booked), the item is done."""
        item = self._item(item_id)
        if item is None or item["kind"] != "appointment.request":
            return
        tz = self.clock.tz

        def accept() -> dict[str, Any]:
            detail = item["detail"]
            day, hour = self.drafts.draft(f"accept.{item_id}.date"), self.drafts.draft(f"accept.{item_id}.time")
            if day and hour:
                parse_local(day, hour, tz)  # a bad part is refused by name
            chosen = self.picked(item_id)
            if chosen is None:
                raise StaffApiError(422, "Pick one of the free times, or a date and a time, first.")
            start = chosen.isoformat()
            schedule = self.clock.site.schedule  # where and with whom, from the clinic's profile
            place = {k: v for k, v in (("location", schedule.place), ("provider", schedule.provider)) if v}
            if item.get("ref_id"):  # the server closes the request's item when its visit is scheduled
                made = self.api.update_appointment(item["ref_id"], status="scheduled", start=start, **place)
            else:
                made = self.api.add_appointment(item["patient_id"], start=start, minutes=schedule.slot_minutes,
                                                kind=str(detail.get("kind") or "Clinic visit")[:200], **place)
            self.api.mark_inbox(item_id, handled=True)
            self.drafts.pop(f"accept.{item_id}.date", f"accept.{item_id}.time")
            return made

        made = self.session.attempt(accept)
        if made is not None:
            self.poll(background=False)
            when = local(made["start"], tz)
            self.session.feedback.say(toast=f"Booked {made['kind']} on {when:%a %d %b at %H:%M}." if when
                                      else "Booked.")

    def answer(self, item_id: str) -> None:
        """Reply to a billing question (or a message) from its item: the answer goes into its thread
        (the patient's bill links to it at their next sync) and the server marks the item done."""
        item = self._item(item_id)
        key = f"answer.{item_id}"
        body = self.drafts.text(key)
        if item is None:
            return
        if not body:
            self.session.feedback.say(error="Type the answer first.")
            return
        if self.session.attempt(lambda: self.api.reply_to_item(item_id, body)) is not None:
            self.drafts.pop(key)
            self.poll(background=False)
            name = self.names.get(item["patient_id"], "the patient")
            self.session.feedback.say(toast=f"Answer sent to {name}. It reaches their app at the next sync.")

    def open_bill(self, item_id: str) -> None:
        """The patient's page, with the bill the item is about highlighted."""
        item = self._item(item_id)
        if item is None or not item.get("ref_id"):
            return
        self.drafts.set_draft(FOCUS_BILL, str(item["ref_id"]))
        self.open_item(item_id)

    # -- the poller ------------------------------------------------------------------------------------
    def run_poller(self, every: float = POLL_SECONDS) -> None:
        """Poll until :meth:`stop` or sign-out; a patient's message shows within ``every`` seconds."""
        while not self._stop.wait(every) and self.session.signed_in:
            if self.session.can("inbox"):
                self.poll(background=True)

    def poll_when_signed_in(self, every: float = POLL_SECONDS) -> None:
        """Poll from each sign-in to its sign-out (started now if someone is signed in)."""
        self._poll_every = every
        if self.session.signed_in:
            self.ensure_poller()

    def ensure_poller(self) -> None:
        """Start the poller thread if polling was asked for and none runs (called at each sign-in)."""
        with self._poller_lock:
            if self._poll_every is None or (self._poller is not None and self._poller.is_alive()):
                return
            self._poller = threading.Thread(target=self.run_poller, args=(self._poll_every,),
                                            name="desk-inbox-poll", daemon=True)
            self._poller.start()

    @property
    def polling(self) -> bool:
        return self._poller is not None and self._poller.is_alive()

    def stop(self) -> None:
        self._stop.set()
