"""The passcode once the vault is open: the strength meter, and the re-ask before a sensitive result.

A sensitive result asks for the passcode again. The vault is already open then (and holds its
file lock), so the passcode is checked against a verifier made at unlock — a salted scrypt hash
kept in memory only, forgotten at lock. Five wrong answers lock the app, which puts the vault's
own backoff in charge.

    reveal.remember(passcode)              # at unlock (the session does it)
    reveal.reveal_result("res_1", typed)   # the result screen's "Show result"
    "res_1" in reveal.revealed             # shown until the patient leaves that result
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable
from typing import TYPE_CHECKING

from ..core.errors import WeakPasscode
from ..core.observable import Observable
from ..i18n import N_, _
from ..vault.passcode import check_new_passcode
from .navigation import Navigation
from .notices import intent

if TYPE_CHECKING:
    from .context import IntentContext

__all__ = ["MAX_REVEAL_FAILURES", "SensitiveResults", "passcode_strength"]

MAX_REVEAL_FAILURES = 5


def passcode_strength(passcode: str) -> tuple[int, str, str | None]:
    """``(score 0-4, label, problem)`` for the strength meter; ``problem`` is why the vault would refuse it."""
    if not passcode:
        return 0, _("Enter a passcode"), None
    try:
        check_new_passcode(passcode)
    except WeakPasscode as exc:
        return 0, _("Too weak"), str(exc)
    classes = sum(any(f(c) for c in passcode) for f in (str.islower, str.isupper, str.isdigit,
                                                      lambda c: not c.isalnum()))
    score = 1 + (len(passcode) >= 10) + (len(passcode) >= 14) + (classes >= 3)
    return min(score, 4), _((N_("Fair"), N_("Good"), N_("Strong"), N_("Very strong"))[min(score, 4) - 1]), None


class _Verifier:
    """A salted scrypt hash of the passcode, in memory only (see module docstring)."""

    def __init__(self, passcode: str) -> None:
        self.salt = secrets.token_bytes(16)
        self.digest = self._hash(passcode)

    def _hash(self, passcode: str) -> bytes:
        return hashlib.scrypt(passcode.encode(), salt=self.salt, n=2**14, r=8, p=1, dklen=32)

    def check(self, passcode: str) -> bool:
        return hmac.compare_digest(self.digest, self._hash(passcode))


class SensitiveResults(Observable):
    """Which sensitive results are shown now (see the module docstring)."""

    def __init__(self, ctx: IntentContext, lock: Callable[[], None]) -> None:
        super().__init__()
        self.ctx = ctx
        self._lock = lock  # too many wrong answers: the session locks
        self.revealed: set[str] = set()
        self._verifier: _Verifier | None = None
        self._failures = 0
        ctx.nav.subscribe(self._route_changed)

    def remember(self, passcode: str) -> None:
        """The passcode that opened the vault (or its new value): what a re-ask is checked against."""
        self._verifier = _Verifier(passcode)
        self._failures = 0

    def forget(self) -> None:
        self._verifier = None
        self._hide()

    def _route_changed(self) -> None:
        """Leaving a result hides it again."""
        nav: Navigation = self.ctx.nav
        if self.revealed and not (nav.route.name == "result" and nav.route.arg in self.revealed):
            self._hide()

    def _hide(self) -> None:
        if self.revealed:
            self.revealed.clear()
            self.notify()

    @intent
    def reveal_result(self, result_id: str, passcode: str) -> None:
        """Show a sensitive result once the passcode is typed again (until the patient leaves it).

        Every answer notifies, right or wrong: the screen asks again with an empty field.
        """
        try:
            self._check(result_id, passcode)
        finally:
            self.notify()

    def _check(self, result_id: str, passcode: str) -> None:
        feedback = self.ctx.feedback
        if not passcode:  # an empty field is not a wrong try
            feedback.error = _("Type your passcode.")
            return
        if self._verifier is None or not self._verifier.check(passcode):
            self._failures += 1
            if self._failures >= MAX_REVEAL_FAILURES:
                self._lock()
                feedback.error = _("Too many wrong passcodes: the app locked itself.")
                return
            feedback.error = _("That passcode is not right.")
            return
        self._failures = 0
        self.ctx.drafts.pop("reveal")
        self.revealed.add(result_id)
