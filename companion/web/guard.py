"""A pure ASGI guard for a Flet web surface: who may load it, who may open its websocket.

    guarded = WebGuard(flet_sub_app, GuardPolicy(name="app", origins=loopback_origins(8550),
                                                 hosts=loopback_hosts(8550), access_key=secret))

Every HTTP request and websocket passes these checks, in this order; a refusal is one line
(an HTML page for a person, HTTP 403 for a websocket) and changes nothing:

1. **Host** must be one of ``hosts`` when given: a page of another site whose name was pointed
   at 127.0.0.1 (DNS rebinding) is refused before anything is served.
2. **Origin** of a websocket (and of any non-GET request) must be in ``origins`` or, with
   ``same_origin``, equal the origin the request was addressed to: another site's page can
   neither read nor drive the app.
3. **The patient app's key** (``access_key``): the URL the app prints carries a fresh secret
   per launch; the first request with it is answered with a redirect that drops the key from
   the address and sets an HttpOnly, SameSite=Strict cookie; every later request and websocket
   must carry that cookie (the way Jupyter guards its local server).
4. **The browser cookie**: every browser gets its own random HttpOnly cookie with its first
   page; the websocket must carry it, and :mod:`.flet_host` keys Flet sessions to its digest
   (``scope[BROWSER_COOKIE_SCOPE_KEY]``), so a session id read from a screen or an old log
   resumes nothing in another browser.
5. **Websockets per address** are capped (``max_sockets``): idle connections cost nothing more.

Answers get security headers: a CSP that allows only this origin (inline scripts by hash,
``frame-ancestors 'none'``), ``nosniff``, ``no-referrer``, and never ``Access-Control-Allow-Origin``.
Flet's page would load one script from a CDN (Rive's runtime, which we do not use); the guard
serves ``main.dart.js`` with that address pointed at a local stand-in, and the CSP blocks any
other outside address, so the app makes no request its user did not ask for.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import html
import logging
import re
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import parse_qsl, urlencode

from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["BROWSER_COOKIE_SCOPE_KEY", "GuardPolicy", "WebGuard", "loopback_hosts", "loopback_origins"]

log = logging.getLogger("companion.web")

BROWSER_COOKIE_SCOPE_KEY = "companion.browser"
RIVE_CDN = b"https://cdn.jsdelivr.net/npm/@rive-app/flutter-native-wasm@44.0.0/"
# Relative to the page's <base href>, and exactly as long as the CDN address: main.dart.wasm keeps
# the address as a length-prefixed string, so the stand-in must not change its length.
RIVE_LOCAL = b"offline/rive/".ljust(len(RIVE_CDN) - 1, b"_") + b"/"
# Flutter's skwasm renderer runs multi-threaded when the page is cross-origin isolated (our COOP and
# COEP make it so): its main thread then busy-waits on a render worker, the way Emscripten's threads
# do on the Web, and a page lost in that wait answers nothing again (one CI run's freshly opened page
# stopped answering for 300 s). Single-threaded skwasm draws the same screens, as fast to the first.
SINGLE_THREADED = (b"var flutterConfig = {", b"var flutterConfig = {\n    forceSingleThreadedSkwasm: true,")
# Flet's client files the guard serves changed: each name's content type and (text, replacement) pairs.
PATCHED = {"main.dart.js": ("text/javascript", ((RIVE_CDN, RIVE_LOCAL),)),
           "main.dart.wasm": ("application/wasm", ((RIVE_CDN, RIVE_LOCAL),)),
           "flutter_bootstrap.js": ("text/javascript", (SINGLE_THREADED,))}
RIVE_STUB = (b"// Rive's runtime is not bundled: the app uses no Rive animation.\n"
             b"window.RiveNative = function () { return Promise.reject(new Error('Rive is not bundled')); };\n")
_INLINE_SCRIPT = re.compile(rb"<script>(.*?)</script>", re.S)
_REPLACED = (b"access-control-allow-origin", b"content-security-policy", b"cross-origin-opener-policy",
             b"cross-origin-embedder-policy")
_COOKIE_SHAPE = re.compile(r"^[A-Za-z0-9_-]{32,64}$")


def loopback_hosts(port: int) -> frozenset[str]:
    return frozenset({f"127.0.0.1:{port}", f"localhost:{port}", f"[::1]:{port}"})


def loopback_origins(port: int) -> frozenset[str]:
    return frozenset(f"http://{host}" for host in loopback_hosts(port))


def _peer(scope: Scope) -> str:
    client = scope.get("client")
    return str(client[0]) if client else "unknown"


@dataclass(frozen=True, slots=True)
class GuardPolicy:
    """What one surface accepts; see the module docstring for each check."""

    name: str  # "app" or "desk": the words of a refusal
    cookie_tag: str = ""  # cookies are per host, not per port: two apps on one machine need two names
    origins: frozenset[str] = frozenset()
    hosts: frozenset[str] | None = None
    same_origin: bool = False
    access_key: str | None = None
    max_sockets: int = 20
    address_of: Callable[[Scope], str] = _peer
    refusal_hint: str = "Open the address this service printed when it started."
    flet_web_dir: Path | None = None  # where main.dart.js comes from (flet-web's package folder)
    cookie_secret: str = field(default_factory=lambda: secrets.token_urlsafe(32))  # the app's access cookie


def _headers(scope: Scope) -> dict[str, str]:
    return {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", ())}


def _cookies(headers: dict[str, str]) -> dict[str, str]:
    jar: SimpleCookie = SimpleCookie()
    try:
        jar.load(headers.get("cookie", ""))
    except Exception:  # a malformed Cookie header is no cookie
        return {}
    return {k: m.value for k, m in jar.items()}


def patch_client_file(name: str, data: bytes) -> bytes:
    """``data`` of Flet's client file ``name`` with :data:`PATCHED`'s replacements; an unknown client fails loudly."""
    for text, replacement in PATCHED[name][1]:
        if text not in data:  # flet-web is pinned: a new one must be looked at, not served half changed
            raise RuntimeError(f"flet-web's {name} no longer holds {text[:40]!r}: check the guard's PATCHED")
        data = data.replace(text, replacement)
    return data


def csp_for(page: bytes) -> str:
    """The Content-Security-Policy of a page: this origin only; its inline scripts by hash."""
    scripts = ["'self'", "'wasm-unsafe-eval'", *("'sha256-" + base64.b64encode(hashlib.sha256(body).digest()).decode()
                                                 + "'" for body in _INLINE_SCRIPT.findall(page))]
    return (f"default-src 'self'; script-src {' '.join(scripts)}; "
            "style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; font-src 'self' data:; "
            "connect-src 'self'; worker-src 'self' blob:; object-src 'none'; base-uri 'self'; "
            "form-action 'self'; frame-ancestors 'none'")


class WebGuard:
    """The ASGI middleware; see the module docstring."""

    def __init__(self, app: ASGIApp, policy: GuardPolicy) -> None:
        self.app = app
        self.policy = policy
        tag = policy.cookie_tag or policy.name
        self.access_cookie = f"companion_{tag}_key"
        self.browser_cookie = f"companion_{tag}_browser"
        self._sockets: dict[str, int] = {}
        self._sockets_lock = threading.Lock()
        self._client_files: dict[str, bytes] = {}
        self._csp_default = csp_for(b"")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            await self._http(scope, receive, send)
        elif scope["type"] == "websocket":
            await self._websocket(scope, receive, send)
        else:
            await self.app(scope, receive, send)

    # --- checks shared by both kinds of request --------------------------------------------

    def _problem(self, scope: Scope, headers: dict[str, str], *, needs_origin: bool) -> str | None:
        policy = self.policy
        host = headers.get("host", "")
        if policy.hosts is not None and host not in policy.hosts:
            return f"this {policy.name} does not answer to the host name {host[:60]!r}"
        origin = headers.get("origin")
        if needs_origin or origin is not None:
            scheme = {"ws": "http", "wss": "https"}.get(scope.get("scheme", "http"), scope.get("scheme", "http"))
            own = f"{scheme}://{host}"
            if origin is None or not (origin in policy.origins or (policy.same_origin and origin == own)):
                return f"requests from another site's page are refused (origin {str(origin)[:60]!r})"
        return None

    def _has_access(self, cookies: dict[str, str]) -> bool:
        if self.policy.access_key is None:
            return True
        offered = cookies.get(self.access_cookie, "")
        return hmac.compare_digest(offered.encode(), self.policy.cookie_secret.encode())

    # --- HTTP ------------------------------------------------------------------------------

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = _headers(scope)
        method = scope.get("method", "GET")
        problem = self._problem(scope, headers, needs_origin=method not in ("GET", "HEAD"))
        if problem is not None:
            await self._refuse_page(send, 403 if "origin" in problem else 421, problem)
            return
        cookies = _cookies(headers)
        query = dict(parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True))
        key = self.policy.access_key
        if key is not None and "key" in query:
            if not hmac.compare_digest(query["key"].encode(), key.encode()):
                await self._refuse_page(send, 403, "this key is not the one the app printed at its last start")
                return
            await self._grant(scope, send, query)
            return
        if not self._has_access(cookies):
            await self._refuse_page(send, 403, "this browser has not been let in yet")
            return
        path = scope.get("path", "")
        if "/offline/rive/" in path and path.endswith("/rive_native.js"):
            await self._body(send, 200, RIVE_STUB, "text/javascript")
            return
        name = path.rsplit("/", 1)[-1]
        if name in PATCHED and self.policy.flet_web_dir is not None:
            await self._body(send, 200, self._patched(name), PATCHED[name][0])
            return
        new_browser = None if _COOKIE_SHAPE.match(cookies.get(self.browser_cookie, "")) else secrets.token_urlsafe(32)
        await self._pass(scope, receive, send, new_browser)

    async def _grant(self, scope: Scope, send: Send, query: dict[str, str]) -> None:
        """The printed URL's key is right: set the access cookie and drop the key from the address."""
        rest = urlencode({k: v for k, v in query.items() if k != "key"})
        location = (scope.get("root_path", "") + scope.get("path", "/")) + (f"?{rest}" if rest else "")
        cookie = self._cookie_header(scope, self.access_cookie, self.policy.cookie_secret)
        await send({"type": "http.response.start", "status": 303, "headers": [
            (b"location", location.encode("latin-1")), (b"set-cookie", cookie), (b"cache-control", b"no-store"),
            *self._security_headers(self._csp_default)]})
        await send({"type": "http.response.body", "body": b""})

    def _cookie_header(self, scope: Scope, name: str, value: str) -> bytes:
        secure = "; Secure" if scope.get("scheme") == "https" else ""
        return f"{name}={value}; Path=/; HttpOnly; SameSite=Strict{secure}".encode("latin-1")

    async def _pass(self, scope: Scope, receive: Receive, send: Send, new_browser: str | None) -> None:
        """Serve through the app, adding the security headers (and the page's CSP hashes)."""
        start: Message | None = None
        chunks: list[bytes] = []

        async def guarded_send(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                kept = [(k, v) for k, v in message.get("headers", []) if k.lower() not in _REPLACED]
                if new_browser is not None:
                    kept.append((b"set-cookie", self._cookie_header(scope, self.browser_cookie, new_browser)))
                start = {**message, "headers": kept}
                if not any(k.lower() == b"content-type" and v.startswith(b"text/html") for k, v in kept):
                    start["headers"] = [*kept, *self._security_headers(self._csp_default)]
                    await send(start)
                    start = None
                return
            if start is None:  # not a page: streamed through as it comes
                await send(message)
                return
            chunks.append(message.get("body", b""))
            if message.get("more_body", False):
                return
            page = b"".join(chunks)  # an HTML page: whole, to hash its inline scripts
            headers = [(k, v) for k, v in start["headers"] if k.lower() != b"content-length"]
            headers += [(b"content-length", str(len(page)).encode()), (b"cache-control", b"no-store"),
                        *self._security_headers(csp_for(page))]
            await send({**start, "headers": headers})
            await send({"type": "http.response.body", "body": page})

        await self.app(scope, receive, guarded_send)

    @staticmethod
    def _security_headers(csp: str) -> list[tuple[bytes, bytes]]:
        return [(b"content-security-policy", csp.encode()), (b"x-content-type-options", b"nosniff"),
                (b"referrer-policy", b"no-referrer"), (b"x-frame-options", b"DENY"),
                (b"cross-origin-opener-policy", b"same-origin"), (b"cross-origin-embedder-policy", b"require-corp"),
                (b"cross-origin-resource-policy", b"same-origin")]

    async def _body(self, send: Send, status: int, body: bytes, content_type: str) -> None:
        await send({"type": "http.response.start", "status": status, "headers": [
            (b"content-type", content_type.encode()), (b"content-length", str(len(body)).encode()),
            *self._security_headers(self._csp_default)]})
        await send({"type": "http.response.body", "body": body})

    async def _refuse_page(self, send: Send, status: int, why: str) -> None:
        log.warning("%s refused a request: %s", self.policy.name, why)
        text = html.escape(f"{why[0].upper()}{why[1:]}. {self.policy.refusal_hint}")
        page = (f"<!doctype html><meta charset=utf-8><meta name=viewport content='width=device-width'>"
                f"<title>Not available</title><p style='font:16px system-ui;margin:2em'>{text}</p>").encode()
        await self._body(send, status, page, "text/html; charset=utf-8")

    def _patched(self, name: str) -> bytes:
        """Flet's client file ``name`` as :data:`PATCHED` changes it (read once)."""
        if name not in self._client_files:
            assert self.policy.flet_web_dir is not None
            self._client_files[name] = patch_client_file(name, (self.policy.flet_web_dir / name).read_bytes())
        return self._client_files[name]

    # --- websocket --------------------------------------------------------------------------

    async def _websocket(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = _headers(scope)
        cookies = _cookies(headers)
        problem = self._problem(scope, headers, needs_origin=True)
        browser = cookies.get(self.browser_cookie, "")
        if problem is None and not self._has_access(cookies):
            problem = "this browser has not been let in yet"
        if problem is None and not _COOKIE_SHAPE.match(browser):
            problem = "the page was not loaded from here first"
        address = self.policy.address_of(scope)
        if problem is None and not self._take_socket(address):
            problem = f"too many open connections from one address (at most {self.policy.max_sockets})"
        if problem is not None:
            log.warning("%s refused a websocket: %s", self.policy.name, problem)
            await receive()  # websocket.connect
            await send({"type": "websocket.close", "code": 1008, "reason": problem[:120]})
            return
        log.debug("%s websocket opened (%d open from its address)", self.policy.name, self._sockets.get(address, 0))
        port = (scope.get("client") or ("", 0))[1]
        # The app sees the caller's address (behind a trusted proxy: the forwarded one) as its client.
        digest = hashlib.sha256(browser.encode()).hexdigest()
        scope = {**scope, "client": (address, port), BROWSER_COOKIE_SCOPE_KEY: digest}
        try:
            await self.app(scope, receive, send)
        finally:
            self._give_socket(address)

    def _take_socket(self, address: str) -> bool:
        with self._sockets_lock:
            count = self._sockets.get(address, 0)
            if count >= self.policy.max_sockets:
                return False
            self._sockets[address] = count + 1
            return True

    def _give_socket(self, address: str) -> None:
        with self._sockets_lock:
            count = self._sockets.get(address, 1) - 1
            if count <= 0:
                self._sockets.pop(address, None)
            else:
                self._sockets[address] = count
