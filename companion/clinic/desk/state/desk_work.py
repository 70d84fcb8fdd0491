"""Today, the inbox, articles and the audit trail: the desk's shared work lists.

- Today: the day's appointments by local time with check-in state, who checked in from their
  phone, and the requests still waiting (new appointment, cancellation, payment plan).
- Inbox: everything patients sent, newest first, unread first-class, filterable by kind.
  :meth:`WorkIntents.poll_inbox` is what the background poller calls every two seconds (marked
  as background, so it never keeps an idle sign-in alive). Accepting an appointment request is
  one step for the desk: schedule the requested appointment (or book it from the request) and
  mark the item handled.
- Articles: write Markdown, preview, publish. Audit (admins): who did what, when.
"""

from __future__ import annotations

from typing import Any

from ....core.errors import CompanionError, SignedOut, StaffApiError
from .core import DeskCore, Route
from .timefmt import day_bounds, local, parse_local

__all__ = ["INBOX_KINDS", "REQUEST_KINDS", "WorkIntents"]

INBOX_KINDS: dict[str, str] = {
    "message.send": "Message",
    "appointment.request": "Appointment request",
    "appointment.cancel": "Cancellation",
    "checkin.submit": "Checked in",
    "bill.plan_request": "Payment plan request",
}
REQUEST_KINDS = ("appointment.request", "appointment.cancel", "bill.plan_request")
INBOX_WINDOW = 300  # newest items fetched per poll


class WorkIntents(DeskCore):
    today: list[dict[str, Any]]
    inbox_items: list[dict[str, Any]]
    inbox_unread: int
    inbox_filter: str
    names: dict[str, str]
    articles: list[dict[str, Any]]
    audit_entries: list[dict[str, Any]]

    # -- today ---------------------------------------------------------------------------------------
    def refresh_today(self) -> None:
        start, end = day_bounds(self.now().astimezone(self.tz).date(), self.tz)
        rows = self.attempt(lambda: self.api.schedule(start, end))
        if rows is not None:
            self.today = rows
            for row in rows:
                self.names[row["patient_id"]] = row["patient_name"]
            if self.can("inbox"):
                self.poll_inbox(background=False)
            self.notify()

    def remote_checkins(self) -> list[dict[str, Any]]:
        """Today's appointments the patient checked in to from the app (not yet seen by the desk)."""
        ids = {i["ref_id"] for i in self.inbox_items if i["kind"] == "checkin.submit" and not i["handled"]}
        return [a for a in self.today if a["id"] in ids]

    def waiting_requests(self) -> list[dict[str, Any]]:
        return [i for i in self.inbox_items if i["kind"] in REQUEST_KINDS and not i["handled"]]

    # -- inbox ---------------------------------------------------------------------------------------
    def poll_inbox(self, background: bool = True) -> None:
        """Fetch the newest items; quiet on success, and a signed-out answer ends the sign-in."""
        if not self.can("inbox"):
            return

        def fetch() -> list[dict[str, Any]]:
            items = list(self.api.inbox("all", background=background, limit=INBOX_WINDOW)["items"])  # newest first
            unknown = {i["patient_id"] for i in items} - set(self.names)
            self.names.update(self.api.patient_names(unknown, background=background))
            return items

        before = (len(self.inbox_items), self.inbox_unread)
        error = self.error
        items = self.attempt(fetch) if not background else self._quiet(fetch)
        if items is None:
            return
        items.sort(key=lambda i: (i["created_at"], i["id"]), reverse=True)
        self.inbox_items = items
        self.inbox_unread = sum(1 for i in items if i["unread"])
        if background:
            self.error = error
            if (len(items), self.inbox_unread) != before:
                self.notify()

    def _quiet(self, fn: Any) -> list[dict[str, Any]] | None:
        """A background poll: no busy spinner, no error flash for a passing network blip."""
        try:
            out: list[dict[str, Any]] = fn()
            return out
        except SignedOut as exc:
            self._forget(str(exc))
        except CompanionError:
            pass
        return None

    def shown_inbox(self) -> list[dict[str, Any]]:
        if self.inbox_filter == "all":
            return self.inbox_items
        return [i for i in self.inbox_items if i["kind"] == self.inbox_filter]

    def set_inbox_filter(self, kind: str) -> None:
        self.inbox_filter = kind if kind in INBOX_KINDS else "all"
        self.notify()

    def open_inbox_item(self, item_id: str) -> None:
        item = next((i for i in self.inbox_items if i["id"] == item_id), None)
        if item is None:
            return
        if item["unread"]:
            self.attempt(lambda: self.api.mark_inbox(item_id, handled=False))
            item["unread"] = False
            self.inbox_unread = max(0, self.inbox_unread - 1)
        self.open_patient(item["patient_id"])

    def mark_handled(self, item_id: str) -> None:
        if self.attempt(lambda: self.api.mark_inbox(item_id, handled=True)) is not None:
            self.poll_inbox(background=False)
            self.toast = "Marked as done."
            self.notify()

    def accept_request(self, item_id: str) -> None:
        """One step: the requested appointment becomes scheduled (or is booked), the item is done."""
        item = next((i for i in self.inbox_items if i["id"] == item_id), None)
        if item is None or item["kind"] != "appointment.request":
            return

        def accept() -> dict[str, Any]:
            detail = item["detail"]
            day, hour = self.draft(f"accept.{item_id}.date"), self.draft(f"accept.{item_id}.time")
            start = parse_local(day, hour, self.tz).isoformat() if day and hour else None
            if item.get("ref_id"):
                fields: dict[str, Any] = {"status": "scheduled", **({"start": start} if start else {})}
                made = self.api.update_appointment(item["ref_id"], **fields)
            else:
                wished = (detail.get("preferred") or [None])[0]
                if not (start or wished):
                    raise StaffApiError(422, "Pick a date and time for this request first.")
                made = self.api.add_appointment(item["patient_id"], start=start or wished, minutes=30,
                                                kind=str(detail.get("kind") or "Clinic visit")[:200])
            self.api.mark_inbox(item_id, handled=True)
            return made

        made = self.attempt(accept)
        if made is not None:
            self.poll_inbox(background=False)
            when = local(made["start"], self.tz)
            self.toast = f"Booked {made['kind']} on {when:%a %d %b at %H:%M}." if when else "Booked."
            self.notify()

    # -- articles, audit ---------------------------------------------------------------------------------
    def refresh_articles(self) -> None:
        rows = self.attempt(self.api.articles)
        if rows is not None:
            self.articles = rows
            self.notify()

    def publish_article(self) -> None:
        title, body = self.draft("article.title").strip(), self.draft("article.body").strip()
        if not title or not body:
            self.error = "Write a title and some text first."
            self.notify()
            return
        if self.attempt(lambda: self.api.add_article(title, body), done="Article published to patients' apps."):
            for key in ("article.title", "article.body"):
                self.drafts.pop(key, None)
            self.refresh_articles()
            self.route = Route("articles")
            self.toast = "Article published to patients' apps."
            self.notify()

    def refresh_audit(self) -> None:
        rows = self.attempt(lambda: self.api.audit(limit=200))
        if rows is not None:
            self.audit_entries = rows
            self.notify()
