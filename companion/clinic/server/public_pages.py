"""Plain HTML pages anyone may open without an account (a partner notice, a listed open time), and the
rate limit they share. Each page speaks English or Spanish (:mod:`.public_language`).

The pages are small, server-rendered, script-free HTML: they must open on any phone from a link in
an SMS, load nothing from anywhere else, and say nothing about who sent the link. Every text is
escaped; every answer carries a strict Content-Security-Policy (no scripts at all, forms only to
this server), ``no-store``, ``no-referrer`` (the code in the address must not leak to another
site) and ``noindex``.

:class:`RateLimit` is a per-process sliding window per caller address (the clinic's proxies
honoured, see :func:`.context.client_address`): enough to stop a script walking codes from one
address; the codes themselves are long enough that walking them is hopeless anyway.
"""

from __future__ import annotations

import html
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable

from fastapi import Request
from fastapi.responses import HTMLResponse

from .context import client_address
from .errors import ApiError
from .public_language import PageLanguage

__all__ = ["RateLimit", "esc", "page", "tag"]

HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
                               "base-uri 'none'; frame-ancestors 'none'",
    "Cache-Control": "no-store", "Referrer-Policy": "no-referrer", "X-Robots-Tag": "noindex, nofollow",
    "X-Content-Type-Options": "nosniff",
}
STYLE = ("body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0;background:#f4fbf9;"
         "color:#17302b;line-height:1.5}main{max-width:34rem;margin:0 auto;padding:1.25rem}"
         "h1{font-size:1.6rem;line-height:1.25;margin:.5rem 0 1rem}h2{font-size:1.15rem;margin:1.5rem 0 .5rem}"
         ".card{background:#fff;border-radius:14px;padding:1rem 1.1rem;margin:1rem 0;box-shadow:0 1px 3px #0002}"
         ".times{display:flex;flex-wrap:wrap;gap:.5rem}button,.button{font:inherit;font-size:1rem;border:1px solid"
         " #00695c;background:#fff;color:#00695c;border-radius:22px;padding:.6rem 1rem;min-height:44px;cursor:"
         "pointer;text-decoration:none;display:inline-block}button.primary{background:#00695c;color:#fff}"
         "label{display:block;margin:.75rem 0 .25rem;font-weight:600}input{font:inherit;font-size:1rem;width:100%;"
         "box-sizing:border-box;padding:.6rem;border:1px solid #8aa;border-radius:8px}.muted{color:#4a625d}"
         ".small{font-size:.875rem}.ok{background:#e0f2ef}.warn{background:#fde8e6}a{color:#00695c}"
         "nav.lang{text-align:right;margin:-.5rem -.4rem 0}nav.lang>*{display:inline-block;padding:.7rem .4rem}")


def esc(text: object) -> str:
    return html.escape(str(text), quote=True)


def tag(name: str, text: str, attrs: str = "") -> str:
    """``<name attrs>text</name>`` with ``text`` escaped (a translated text is an argument here, never
    inside an f-string: Babel's extractor does not look into those)."""
    return f"<{name}{' ' + attrs if attrs else ''}>{esc(text)}</{name}>"


def page(t: PageLanguage, here: str, title: str, body: Iterable[str], status: int = 200) -> HTMLResponse:
    """A whole page in ``t``'s language: ``title`` (escaped here), the language switch to the page at
    ``here`` (a path), and ``body``, HTML the caller escaped (and translated)."""
    text = (f"<!doctype html><html lang=\"{t.code}\"><head><meta charset=\"utf-8\">"
            "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">"
            f"<meta name=\"robots\" content=\"noindex\"><title>{esc(title)}</title><style>{STYLE}</style></head>"
            f"<body><main>{t.switch(here)}{''.join(body)}</main></body></html>")
    return HTMLResponse(text, status_code=status, headers=HEADERS)


class RateLimit:
    """At most ``limit`` requests per ``window`` seconds per caller address (this process)."""

    def __init__(self, limit: int, window: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.limit, self.window, self.clock = limit, window, clock
        self._seen: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def check(self, request: Request) -> None:
        """429 ``rate_limited`` with ``Retry-After`` when the caller is over the limit."""
        address, now = client_address(request), self.clock()
        with self._lock:
            if len(self._seen) > 10_000:  # forget quiet callers so the table cannot grow without end
                self._seen = {a: q for a, q in self._seen.items() if q and q[-1] > now - self.window}
            hits = self._seen.setdefault(address, deque())
            while hits and hits[0] <= now - self.window:
                hits.popleft()
            if len(hits) >= self.limit:
                wait = max(1, int(hits[0] + self.window - now) + 1)
                raise ApiError(429, "rate_limited", "too many requests: try again in a minute",
                               {"Retry-After": str(wait)})
            hits.append(now)
