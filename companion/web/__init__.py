"""The guard in front of the two web surfaces: the patient's local web app and the clinic's desk.

- :mod:`.guard` — a pure ASGI middleware: Host and Origin checks (DNS rebinding, other sites'
  pages), the patient app's per-launch secret exchanged for an HttpOnly cookie, a per-browser
  cookie that binds a Flet session to the browser that opened it, a cap on open websockets per
  address, security headers (CSP with the page's inline-script hashes, ``frame-ancestors
  'none'``), and local stand-ins for what Flet's page would fetch from a CDN.
- :mod:`.flet_host` — the Flet web app behind that guard: sessions keyed to the browser cookie
  (a logged or guessed session id resumes nothing), dropped or kept for a short grace when the
  tab closes, and Flet's own logging kept free of session ids and frames.

Both composition roots (``companion.app`` and ``companion.clinic.desk.web``) use it; it imports
neither side.
"""

from __future__ import annotations

from .flet_host import guarded_flet_app, quiet_flet_logging
from .guard import BROWSER_COOKIE_SCOPE_KEY, GuardPolicy, WebGuard, loopback_hosts, loopback_origins

__all__ = ["BROWSER_COOKIE_SCOPE_KEY", "GuardPolicy", "WebGuard", "guarded_flet_app", "loopback_hosts",
           "loopback_origins", "quiet_flet_logging"]
