"""System notifications through plyer — only where they can really show — and the notifier choice.

plyer picks a backend once per process and several of them fail silently:
on Linux ``notify-send`` returns an error code plyer ignores, and with no
session bus nothing is shown and nothing is raised. So this module decides
itself whether notifications can work, the way plyer would pick its backend:

- Linux: inside Flatpak (``/app``) plyer uses the desktop portal through
  ``gdbus``; else dbus-python when importable; else ``notify-send``. For the
  last two the session bus must answer and own (or be able to start)
  ``org.freedesktop.Notifications`` (:mod:`.session_bus` asks it).
- Android, iOS, macOS, Windows: plyer's platform module must import and give
  a real backend (pyjnius, pyobjus, win32 APIs).

:func:`choose_notifier` returns a :class:`PlyerNotifier` when that says yes,
else an :class:`~companion.reminders.notifier.InAppNotifier` whose status says
why system notifications are not used.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import shutil
import time
import warnings

from ..config import ClinicProfile
from ..core.errors import NotifyError
from .notifier import InAppNotifier, Notifier, NotifierStatus
from .session_bus import probe_notification_service, session_bus_address

__all__ = ["PlyerNotifier", "choose_notifier", "detect_plyer_backend"]

_MOBILE_AND_DESKTOP = ("android", "ios", "macosx", "win")


def _plyer_platform() -> str:
    try:
        from plyer.utils import platform
    except ImportError:
        return "missing"
    return str(platform)


def _linux_backend() -> NotifierStatus:
    if os.path.isdir("/app"):
        if shutil.which("gdbus") is None or session_bus_address() is None:
            return NotifierStatus("plyer/flatpak-portal", False, "Flatpak without gdbus or a session bus")
        return NotifierStatus("plyer/flatpak-portal", True, "desktop portal through gdbus (delivery not confirmed)")
    if importlib.util.find_spec("dbus") is not None:
        backend = "plyer/dbus-python"
    elif shutil.which("notify-send") is not None:
        backend = "plyer/notify-send"
    else:
        return NotifierStatus(
            "plyer", False, "no notification tool: install notify-send (Debian/Ubuntu: libnotify-bin)"
        )
    probe = probe_notification_service()
    return NotifierStatus(backend, probe.ok, probe.detail)


def _platform_backend(name: str) -> NotifierStatus:
    backend = f"plyer/{name}"
    try:
        from plyer.facades import Notification

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            module = importlib.import_module(f"plyer.platforms.{name}.notification")
            impl = module.instance()
    except Exception as exc:  # plyer's platform modules raise anything from ImportError to JavaException
        return NotifierStatus(backend, False, f"plyer's {name} backend cannot load ({type(exc).__name__})")
    if type(impl) is Notification:
        return NotifierStatus(backend, False, f"plyer has no usable {name} notification backend")
    return NotifierStatus(backend, True, f"{type(impl).__name__}")


def detect_plyer_backend() -> NotifierStatus:
    """Which backend plyer would use here and whether it can show a notification now (never raises)."""
    name = _plyer_platform()
    if name == "missing":
        return NotifierStatus("plyer", False, "plyer is not installed")
    if name == "linux":
        return _linux_backend()
    if name in _MOBILE_AND_DESKTOP:
        return _platform_backend(name)
    return NotifierStatus("plyer", False, f"plyer has no notification backend for platform {name!r}")


class PlyerNotifier:
    """System notifications through plyer; refuses (``NotifyError``) when :meth:`status` says they cannot show.

    ``app_name`` is shown by some desktops next to the notification: keep it
    as neutral as the clinic's ``discreet_name``. The detection result is kept
    for ``recheck_after`` seconds (a notification daemon may come and go).
    """

    def __init__(self, app_name: str = "Patient Companion", *, recheck_after: float = 30.0) -> None:
        self.app_name = app_name
        self.recheck_after = recheck_after
        self._status: NotifierStatus | None = None
        self._checked_at = 0.0

    def status(self) -> NotifierStatus:
        now = time.monotonic()
        if self._status is None or now - self._checked_at > self.recheck_after:
            self._status, self._checked_at = detect_plyer_backend(), now
        return self._status

    def notify(self, title: str, body: str, about: str = "") -> None:
        state = self.status()
        if not state.available:
            raise NotifyError(f"system notifications are not available: {state.detail}")
        try:
            from plyer import notification

            with warnings.catch_warnings():  # plyer warns when dbus-python is missing, then uses notify-send
                warnings.simplefilter("ignore")
                notification.notify(title=title, message=body, app_name=self.app_name, timeout=10)
        except Exception as exc:  # any backend failure becomes ours; the text is not repeated in the error
            raise NotifyError(f"{state.backend} could not show the notification ({type(exc).__name__})") from None


def choose_notifier(profile: ClinicProfile | None = None) -> Notifier:
    """System notifications when this device can really show them, else the in-app banners.

    ``status()`` of the result says which and why.
    """
    app_name = profile.discreet_name if profile is not None else "Patient Companion"
    plyer = PlyerNotifier(app_name)
    state = plyer.status()
    if state.available:
        return plyer
    return InAppNotifier(f"system notifications unavailable ({state.backend}: {state.detail})")
