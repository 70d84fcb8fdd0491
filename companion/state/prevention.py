"""PrEP and doxy-PEP: the Prevention screen's intents and what it reads. Nothing here reaches the clinic.

    state.prevention.set_daily("09:00")            # daily PrEP reminder at 09:00 local
    state.prevention.pause() / resume()
    state.prevention.set_event_based()             # 2-1-1
    state.prevention.plan_event("tomorrow 21:00")  # its doses follow
    state.prevention.record_supply("30")           # refill reminders from the count
    state.prevention.log_doxy_sex("yesterday 23:30")
    state.prevention.log_doxy_dose("")             # now; refused past 72 h or within 24 h of the last
    state.prevention.tick()                        # once a second: the open screen redraws as the minute turns

Every entry is the patient's own and is written to the vault (meta ``prevention``, see
:mod:`companion.reminders.prevention`), never to the outbox. After each change the reminder
loop is woken, so a reminder due now shows now. The screen subscribes to this object: a change
notifies it, and the same object of every other session of this app process that holds the
vault (another browser tab, see ``_PEERS``), so a Prevention screen open there redraws too.
What a sync brings (the clinic's test date, a released result) reaches the screen through the
records, which it subscribes to as well. Words the patient reads come from :mod:`.prevention_words`.
"""

from __future__ import annotations

import functools
import secrets
import threading
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import TYPE_CHECKING, Concatenate, ParamSpec

from ..core.errors import CompanionError, RecordError, VaultError
from ..core.observable import Observable
from ..core.prevention import (
    DOXY_WINDOW,
    MAX_ENTRIES,
    DoxyDose,
    EventSupply,
    PlannedDose,
    PreventionPlan,
    SexEvent,
    Supply,
    doxy_refusal,
    event_doses,
    event_supply,
    parse_dose_time,
    runs_out_on,
    uncovered_events,
)
from ..i18n import _
from ..reminders.prevention import doxy_check_up_of, load_plan, save_plan
from . import prevention_words as words
from .notices import intent
from .notices import refusal as said_line

if TYPE_CHECKING:
    from .context import IntentContext

__all__ = ["Prevention", "PreventionView", "parse_when"]


def parse_when(text: str, now: datetime, tz: tzinfo, field: str) -> datetime:
    """``"21:00"`` (today), ``"yesterday 21:00"``, ``"tomorrow 9:30"``, ``"2026-12-03 21:00"`` -> UTC.

    Empty text is ``now``. The words are the ones :mod:`.prevention_words` shows in the labels, in
    English or in the app's language (``"ayer 21:00"``, ``"mañana 9:30"``).
    """
    raw = " ".join(text.strip().lower().split())
    if not raw:
        return now
    today = now.astimezone(tz).date()
    day_word, _sep, clock = raw.rpartition(" ")
    offsets = {"today": 0, "tonight": 0, "yesterday": -1, "tomorrow": 1}
    days = {"": today}
    for key, offset in offsets.items():
        days[key] = days[_(words.DAY_WORDS[key]).lower()] = today + timedelta(days=offset)
    day: date | None = days.get(day_word)
    if day is None:
        try:
            day = date.fromisoformat(day_word)
        except ValueError:
            raise RecordError(field, _(words.WHEN_FORMAT)) from None
    try:
        at = parse_dose_time(clock, field)
    except RecordError:
        raise RecordError(field, _(words.WHEN_FORMAT)) from None
    return datetime.combine(day, at, tzinfo=tz).astimezone(UTC)


@dataclass(frozen=True, slots=True)
class PreventionView:
    """What the screen shows, read once per render."""

    plan: PreventionPlan
    test_due: date | None
    upcoming_doses: tuple[PlannedDose, ...]  # 2-1-1 doses from now on
    runs_out: date | None  # daily supply
    open_events: tuple[SexEvent, ...]  # doxy: logged sex no dose covers yet, still inside 72 h
    damaged: str | None = None
    event_supply: EventSupply | None = None  # 2-1-1: the count less the doses due since
    doxy_check_up: date | None = None  # doxy-PEP: the check-up day when the clinic set none ahead


P = ParamSpec("P")


def _in_card(section: str) -> Callable[[Callable[Concatenate[Prevention, P], None]],
                                       Callable[Concatenate[Prevention, P], None]]:
    """Remember which card an intent belongs to and the line it said (see ``Prevention.note_in``);
    goes under :func:`~.notices.intent`, which turns the error into that line."""

    def wrap(fn: Callable[Concatenate[Prevention, P], None]) -> Callable[Concatenate[Prevention, P], None]:
        @functools.wraps(fn)
        def run(self: Prevention, /, *args: P.args, **kwargs: P.kwargs) -> None:
            self.last_section, self.said = section, None
            try:
                fn(self, *args, **kwargs)
            except CompanionError as exc:
                self.said = said_line(exc)  # the line the feedback strip shows for it
                self.ctx.feedback.toast = None  # one outcome: a refusal replaces the last "Logged."
                raise
            self.said = self.ctx.feedback.toast

        return run

    return wrap


def _new_id() -> str:
    return secrets.token_hex(6)


# The Prevention of each session sharing one vault host (the tabs of one app process), held weakly:
# a closed tab's session goes with its state. A change in one session notifies the others that hold
# the vault now (a locked one reads nothing; it reads the plan when it unlocks).
_PEERS: weakref.WeakKeyDictionary[object, weakref.WeakSet[Prevention]] = weakref.WeakKeyDictionary()
_PEERS_GUARD = threading.Lock()


def _join_peers(host: object, member: Prevention) -> None:
    with _PEERS_GUARD:
        _PEERS.setdefault(host, weakref.WeakSet()).add(member)


def _peers_of(host: object, member: Prevention) -> list[Prevention]:
    with _PEERS_GUARD:
        peers = list(_PEERS.get(host, ()))
    return [p for p in peers if p is not member and p.ctx.records.vault is not None]


class Prevention(Observable):
    """See the module docstring."""

    def __init__(self, ctx: IntentContext) -> None:
        super().__init__()
        self.ctx = ctx
        # The card ("prep" or "doxy") whose button the patient pressed last, and the line its intent
        # said: the screen shows that line in the card, beside the button, rather than in the strip
        # at the top (scrolled out of sight on a phone when the doxy-PEP log says no).
        self.last_section: str | None = None
        self.said: str | None = None
        self._minute: datetime | None = None  # the minute the screen was last told to redraw for
        _join_peers(ctx.host, self)

    def tick(self) -> None:
        """About once a second (the app's clock, :meth:`AppState.tick`): when the minute turns, tell the
        open Prevention screen to redraw, so its countdowns ("take your dose by …, 3 h 12 min"), a
        72-hour window that closes and its "Today"/"Yesterday" labels follow the clock. Once a minute,
        from the server's clock thread; the browser polls nothing. Locked: nothing to draw."""
        minute = self.ctx.now().replace(second=0, microsecond=0)
        if minute == self._minute:
            return
        self._minute = minute
        if self.ctx.records.vault is not None:
            self.notify()

    def note_in(self, section: str) -> bool:
        """Whether the feedback line now is what an intent of card ``section`` said (it shows there)."""
        feedback = self.ctx.feedback
        shown = feedback.error or feedback.toast
        return shown is not None and self.last_section == section and shown == self.said

    # --- reading ---------------------------------------------------------------------

    def view(self) -> PreventionView:
        vault = self.ctx.records.vault
        profile = self.ctx.records.snapshot.profile
        test_due = profile.prep_test_due if profile is not None else None
        damaged = None
        plan = PreventionPlan()
        if vault is not None:
            try:
                plan = load_plan(vault.meta)
            except VaultError:
                damaged = _(words.DAMAGED)
        now = self.ctx.now()
        upcoming = tuple(d for d in event_doses(plan.prep.events) if d.at > now - timedelta(hours=4))
        runs_out = runs_out_on(plan.prep.supply) if plan.prep.supply is not None else None
        open_events = tuple(e for e in uncovered_events(plan.doxy) if e.sex_at + timedelta(hours=72) > now)
        event = plan.prep.mode == "event"
        supply = plan.prep.supply
        tz = self.ctx.services.tz
        return PreventionView(
            plan, test_due, upcoming if event else (), runs_out, open_events, damaged,
            event_supply=event_supply(supply, event_doses(plan.prep.events), now) if event and supply else None,
            doxy_check_up=doxy_check_up_of(plan, test_due, self.ctx.records.snapshot.results,
                                           now.astimezone(tz).date(), tz))

    # --- writing ---------------------------------------------------------------------

    def _plan(self) -> PreventionPlan:
        return load_plan(self.ctx.records.require_vault().meta)

    def _save(self, plan: PreventionPlan, toast: str) -> None:
        """The one write path: into the vault (never the outbox), then wake the reminders and redraw."""
        save_plan(self.ctx.records.require_vault().meta, plan)
        self.ctx.feedback.toast = toast
        self.ctx.host.wake_reminders()
        self.notify()
        for peer in _peers_of(self.ctx.host, self):  # the same screen open in another tab
            peer.notify()

    @intent
    @_in_card("prep")
    def set_daily(self, dose_time: str) -> None:
        """A daily reminder at ``dose_time`` (local ``HH:MM``), from now on."""
        try:
            at = parse_dose_time(dose_time, "time")
        except RecordError:
            raise RecordError("time", words.time_format(dose_time)) from None
        plan = self._plan().with_prep(mode="daily", dose_time=at, paused=False, since=self.ctx.now())
        self._save(plan, words.daily_saved(at))

    @intent
    @_in_card("prep")
    def set_event_based(self) -> None:
        self._save(self._plan().with_prep(mode="event", paused=False, since=self.ctx.now()), _(words.EVENT_SAVED))

    @intent
    @_in_card("prep")
    def turn_off(self) -> None:
        self._save(self._plan().with_prep(mode="off", paused=False), _(words.PREP_OFF))

    @intent
    @_in_card("prep")
    def pause(self) -> None:
        self._save(self._plan().with_prep(paused=True), _(words.PAUSED))

    @intent
    @_in_card("prep")
    def resume(self) -> None:
        self._save(self._plan().with_prep(paused=False, since=self.ctx.now()), _(words.RESUMED))

    @intent
    @_in_card("prep")
    def plan_event(self, when: str) -> None:
        """2-1-1: sex the patient expects at ``when``; the doses follow from it."""
        now = self.ctx.now()
        sex_at = parse_when(when, now, self.ctx.services.tz, "when")
        if sex_at < now - timedelta(hours=24):
            raise RecordError("when", _(words.EVENT_PAST))
        if sex_at > now + timedelta(days=30):
            raise RecordError("when", _(words.EVENT_FAR))
        plan = self._plan()
        events = (*plan.prep.events, SexEvent(_new_id(), sex_at, now))[-MAX_ENTRIES:]
        self._save(plan.with_prep(events=events), words.event_planned(sex_at - now))

    @intent
    @_in_card("prep")
    def remove_event(self, event_id: str) -> None:
        plan = self._plan()
        self._save(plan.with_prep(events=tuple(e for e in plan.prep.events if e.id != event_id)), _(words.REMOVED))

    @intent
    @_in_card("prep")
    def record_supply(self, pills: str) -> None:
        text = pills.strip()
        if not text.isdigit() or not 0 <= int(text) <= 1000:
            raise RecordError("pills", _(words.PILLS_FORMAT))
        now = self.ctx.now()
        supply = Supply(pills=int(text), counted_on=now.astimezone(self.ctx.services.tz).date(), counted_at=now)
        with self.ctx.drafts.taken("prevention.pills"):
            plan = self._plan().with_prep(supply=supply)
            if plan.prep.mode == "event":
                left = event_supply(supply, event_doses(plan.prep.events), now)
                self._save(plan, words.event_supply_saved(left.after_planned))
            else:
                self._save(plan, words.supply_saved(runs_out_on(supply)))

    @intent
    @_in_card("doxy")
    def log_doxy_sex(self, when: str) -> None:
        now = self.ctx.now()
        sex_at = parse_when(when, now, self.ctx.services.tz, "when")
        if sex_at > now + timedelta(minutes=5):
            raise RecordError("when", _(words.SEX_FUTURE))
        plan = self._plan()
        events = (*plan.doxy.events, SexEvent(_new_id(), sex_at, now))[-MAX_ENTRIES:]
        logged = plan.with_doxy(events=events)
        open_sex = [e.sex_at for e in uncovered_events(logged.doxy) if e.sex_at + DOXY_WINDOW > now]
        self._save(logged, words.sex_logged(sex_at, now, self.ctx.services.tz, min(open_sex, default=None)))

    @intent
    @_in_card("doxy")
    def log_doxy_dose(self, when: str) -> None:
        """A dose taken at ``when`` (empty: now); refused with the rule's words (72 h, 24 h, not ahead)."""
        now = self.ctx.now()
        taken_at = parse_when(when, now, self.ctx.services.tz, "when")
        plan = self._plan()
        refusal = doxy_refusal(plan.doxy, taken_at, now)
        if refusal is not None:
            raise RecordError("doxy-PEP", words.refusal_text(refusal, now, self.ctx.services.tz))
        doses = (*plan.doxy.doses, DoxyDose(_new_id(), taken_at))[-MAX_ENTRIES:]
        self._save(plan.with_doxy(doses=doses), _(words.DOSE_LOGGED))

    @intent
    @_in_card("doxy")
    def remove_doxy_entry(self, entry_id: str) -> None:
        plan = self._plan()
        self._save(plan.with_doxy(events=tuple(e for e in plan.doxy.events if e.id != entry_id),
                                  doses=tuple(d for d in plan.doxy.doses if d.id != entry_id)), _(words.REMOVED))
