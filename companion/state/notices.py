"""What the patient is told: the feedback strip of the current screen, the in-app banners, and the
wrapper every intent runs in.

:class:`Feedback` is an observable of three lines — what runs (``busy``), what went wrong
(``error``) and what went well (``toast``) — that the feedback strip above each screen renders.

:class:`Banners` are the in-app notices (the reminder fallback is never silent) of the banner slot
below every screen: only that slot subscribes, so a reminder that arrives while the patient types
redraws the slot and nothing else. The newest five are kept; a lock forgets them.

    banners.add("Appointment tomorrow", "10:30 at Riverside Clinic")
    banners.dismiss(0)

:func:`intent` wraps an intent method of any object with a ``ctx`` (an
:class:`~companion.state.context.IntentContext`): it counts as activity for the auto-lock,
clears the last error, turns a :class:`~companion.core.errors.CompanionError` into a one-line
``error`` (never a traceback), and tells the feedback strip. What else an intent changed (the
records, the route, the phase) is announced by the object that holds it, so only the screens
that show it render again.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Concatenate, ParamSpec, Protocol, TypeVar

from ..core.errors import CompanionError, RecordError
from ..core.observable import Observable
from ..i18n import N_, _
from ..reminders.notifier import Reword

if TYPE_CHECKING:
    from .context import IntentContext

__all__ = ["KEPT", "Banner", "Banners", "Feedback", "inside_app", "intent", "sentence"]

P = ParamSpec("P")
R = TypeVar("R")


class Feedback(Observable):
    """``busy`` / ``error`` / ``toast`` of the current screen (see the module docstring)."""

    def __init__(self) -> None:
        super().__init__()
        self.busy: str | None = None  # what is running ("Unlocking…"); the screen shows a progress indicator
        self.error: str | None = None  # one line for the current screen
        self.toast: str | None = None  # one line of good news ("Queued: goes out when you are online")

    def working(self, what: str | None) -> None:
        """Show (or, with ``None``, end) a progress line at once — intents block on the KDF or the network."""
        self.busy = what
        self.notify()

    def clear_feedback(self) -> None:
        self.error = None
        self.toast = None
        self.notify()


def sentence(text: str) -> str:
    """A refusal as the patient reads it: capital first letter, a full stop ("wrong passcode" -> "Wrong passcode.")."""
    text = text.strip()
    if not text:
        return text
    text = text[0].upper() + text[1:]
    return text if text[-1] in ".!?…" else text + "."


# The fields the app's own intents name in a refusal ("Note: please keep the note under 2000
# characters."), in the patient's words; a field from elsewhere is shown as it came.
FIELD_NAMES = {"auto-lock": N_("Auto-lock"), "bill": N_("Bill"), "confirmation": N_("Confirmation"),
               "count": N_("Count"), "infection": N_("Infection"), "kind": N_("Visit"), "language": N_("Language"),
               "message": N_("Message"), "new passcode": N_("New passcode"), "note": N_("Note"), "pills": N_("Pills"),
               "question": N_("Question"), "theme": N_("Theme"), "time": N_("Time"), "when": N_("When")}


# The core's refusals a patient can meet (companion/core/care_rules.py: the core speaks English
# only), marked here so the catalog has them; any other refusal is shown as it came.
CORE_REFUSALS = (N_("the appointment already took place"), N_("the appointment is over"),
                 N_("a payment plan is already active for this bill"), N_("nothing is left to pay on this bill"),
                 N_("only the clinic can approve or decline a payment plan"))


def refusal(exc: CompanionError) -> str:
    """What went wrong, as one line for the feedback strip, in the patient's language where the catalog has it."""
    if isinstance(exc, RecordError) and exc.field in FIELD_NAMES:
        return sentence(f"{_(FIELD_NAMES[exc.field])}: {exc.problem}")
    text = str(exc)
    return sentence(_(text) if text in CORE_REFUSALS else text)


class _HasContext(Protocol):
    ctx: IntentContext


S = TypeVar("S", bound=_HasContext)


def intent(fn: Callable[Concatenate[S, P], R]) -> Callable[Concatenate[S, P], R | None]:
    """Wrap an intent: activity for auto-lock, expected failures become ``feedback.error``, then notify."""

    def run(self: S, /, *args: P.args, **kwargs: P.kwargs) -> R | None:
        feedback = self.ctx.feedback
        self.ctx.touch()
        feedback.error = None
        try:
            return fn(self, *args, **kwargs)
        except CompanionError as exc:
            feedback.error = refusal(exc)
            return None
        finally:
            feedback.notify()

    functools.update_wrapper(run, fn)
    return run


KEPT = 5


@dataclass(frozen=True, slots=True)
class Banner:
    """A notice shown inside the app (in-app reminders, sync news); ``route`` is the screen it is
    about (a tap goes there). Its words are those of the moment it is drawn (:meth:`words`), so a
    language switch rewords it at once: ``reword`` gives them again in the language of now (a
    reminder's notification text, the app's own news); ``title`` and ``body`` are the words it came
    with, for a banner that has no ``reword``."""

    title: str
    body: str
    route: str = "home"
    reword: Reword | None = field(default=None, compare=False, repr=False)

    def words(self) -> tuple[str, str]:
        """``(title, body)`` as shown now."""
        if self.reword is not None:
            title, body = self.reword()
            return title, _inside(body)
        return self.title, self.body


# A reminder's words are written for a notification outside the app (discreet: they name no record).
# Inside the app the patient is already there: "Open the app" becomes where to tap.
# (phrase in the notification, words inside)
# Both are messages of the catalog: a translation of a phrase is the same words as in the
# translated reminder it is part of (companion/reminders/wording.py).
_INSIDE = (
    (N_("Open the app to read them."), N_("Tap to read them.")),
    (N_("Open the app to read it."), N_("Tap to read it.")),
    (N_("an update for you in the app."), N_("an update for you. Tap to see it.")),
    (N_("updates for you in the app."), N_("updates for you. Tap to see them.")),
    (N_("results are ready in the app."), N_("results are ready. Tap to see them.")),
    (N_("result is ready in the app."), N_("result is ready. Tap to see it.")),
    (N_("The app has the details."), N_("Tap for the details.")),
)
# The tap goes to the screen of the record the reminder is about (the reminder's kind).
SCREEN_OF = {"appointment": "appointments", "prep": "prep", "bill": "bills", "message": "messages",
             "result": "results", "prevention": "prevention"}


def _inside(body: str) -> str:
    """A notification's body as words for inside the app (see ``_INSIDE``), in the active language."""
    for phrase, words in _INSIDE:
        body = body.replace(_(phrase), _(words))
    return body


def inside_app(title: str, body: str, about: str = "", reword: Reword | None = None) -> Banner:
    """A reminder's notification text as a banner inside the app (see ``_INSIDE``); a tap goes to
    the screen of ``about`` (the kind of record), or home when it names none; ``reword`` (see
    :class:`Banner`) words it again where it is drawn."""
    return Banner(title, _inside(body), SCREEN_OF.get(about, "home"), reword=reword)


class Banners(Observable):
    """The notices waiting for the patient, oldest first (see the module docstring)."""

    def __init__(self) -> None:
        super().__init__()
        self.items: tuple[Banner, ...] = ()
        self._guard = threading.Lock()  # reminders arrive on their own thread, dismissals on Flet's

    def add(self, title: str, body: str, about: str = "", *, reword: Reword | None = None) -> None:
        """A reminder that could not (or need not) show outside the app, or the app's own news, worded
        for inside it (and again after a language switch, with its ``reword``: see :class:`Banner`)."""
        with self._guard:
            self.items = (*self.items, inside_app(title, body, about, reword))[-KEPT:]
        self.notify()

    def dismiss(self, index: int) -> None:
        with self._guard:
            if 0 <= index < len(self.items):
                self.items = self.items[:index] + self.items[index + 1:]
        self.notify()

    def clear(self) -> None:
        with self._guard:
            had, self.items = bool(self.items), ()
        if had:
            self.notify()
