"""Telling partners anonymously (UI-free): pick the infection and how many partners; get one link each.

    state.partner.prefill("res_1")                 # "chlamydia" for a positive chlamydia result
    state.partner.make("chlamydia", 2, "res_1")    # two one-time links, made offline too
    state.partner.links()                          # [NoticeLink(code, url, infection, ready), …] newest first
    state.partner.message(link)                    # the text the share sheet sends with the link

The codes are made on this device (:func:`companion.core.partner_notice.new_code`) and kept in the
encrypted vault, so the patient can share them again later; the clinic gets them with the next
sync (mutation ``partner.notify``) and keeps only their hashes — never who made them — plus a count
against the result. A link works once the clinic has it (``ready``). The patient shares each from
the phone's own share sheet or copies it: the app sends nothing to partners and stores no contact.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ..core.errors import RecordError
from ..core.partner_notice import INFECTIONS, MAX_PARTNERS, Infection, infection_for_test, new_code, notice_path
from ..i18n import N_, _
from .context import IntentContext
from .notices import intent

__all__ = ["NOTICES_KEY", "NoticeLink", "PartnerNotices"]

NOTICES_KEY = "partner.notices"
MADE = N_("Links made. Share each one with one partner.")
# What the share sheet sends with a link, in the patient's language (the partner page itself is the clinic's English)
MESSAGE = N_("Hi — I got a test result and was advised to let partners know. This link explains what to test for "
             "and lets you book a free, confidential test. It does not say who I am: %(url)s")


@dataclass(frozen=True, slots=True)
class NoticeLink:
    code: str
    url: str
    infection: Infection
    made_at: datetime
    ready: bool  # the clinic has it: the link works


class PartnerNotices:
    """Anonymous partner notices (see the module docstring). Holds no state of its own."""

    def __init__(self, ctx: IntentContext) -> None:
        self.ctx = ctx

    def infections(self) -> tuple[Infection, ...]:
        return tuple(INFECTIONS.values())

    def prefill(self, result_id: str | None) -> str | None:
        """The infection a positive result is about, to start the choice with."""
        result = next((r for r in self.ctx.records.snapshot.results if r.id == result_id), None) if result_id else None
        return infection_for_test(result.test) if result is not None and result.interpretation == "positive" else None

    def _stored(self) -> list[dict[str, Any]]:
        vault = self.ctx.records.vault
        stored: Any = vault.meta.get(NOTICES_KEY, []) if vault is not None else []
        return [n for n in stored if isinstance(n, dict)] if isinstance(stored, list) else []

    def links(self) -> list[NoticeLink]:
        server = (self.ctx.records.snapshot.status.server_url or "").rstrip("/")
        pending = {str(c) for e in self.ctx.records.snapshot.outbox.values() if e.type == "partner.notify"
                   for c in e.payload.get("codes", [])}
        out = []
        for n in self._stored():
            infection = INFECTIONS.get(str(n.get("infection")))
            if infection is None:
                continue
            code = str(n.get("code"))
            out.append(NoticeLink(code=code, url=f"{server}{notice_path(code)}", infection=infection,
                                  made_at=datetime.fromisoformat(str(n.get("made_at"))), ready=code not in pending))
        return sorted(out, key=lambda link: link.made_at, reverse=True)

    def message(self, link: NoticeLink) -> str:
        return _(MESSAGE) % {"url": link.url}

    @intent
    def make(self, infection: str, count: int, result_id: str | None = None) -> list[str] | None:
        """One link per partner (1–10), offline too; returns the new codes."""
        if infection not in INFECTIONS:
            raise RecordError("infection", _("choose what the notice is about"))
        if not 1 <= count <= MAX_PARTNERS:
            raise RecordError("count", _("choose 1 to %(n)s partners") % {"n": MAX_PARTNERS})
        codes = [new_code() for _ in range(count)]
        payload: dict[str, object] = {"infection": infection, "codes": codes}
        if result_id and any(r.id == result_id for r in self.ctx.records.snapshot.results):
            payload["result_id"] = result_id
        vault = self.ctx.records.require_vault()
        now = self.ctx.now().isoformat()
        with vault.batch():  # the links and the command in one vault write
            vault.meta.set(NOTICES_KEY, [*self._stored(),
                                         *({"code": c, "infection": infection, "made_at": now} for c in codes)])
            self.ctx.queue("partner.notify", payload, _(MADE))
        return codes
