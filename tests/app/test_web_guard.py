"""The web surfaces tried as an attacker would, on the real processes: the local app and the desk.

Each attack of the "web surfaces you can trust" report, reproduced and refused: a page of another
origin opening the websocket, a request without the app's key, a foreign Host (DNS rebinding), a
logged session id resumed from another browser, a closed tab's session coming back, websockets
without end from one address, threads per unauthenticated desk connection, session ids and frames
in the log, outside requests for a CDN script, missing security headers.
"""

from __future__ import annotations

import contextlib
import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from companion.clinic.desk.web import MAX_DESK_SOCKETS
from companion.web.guard import RIVE_CDN, RIVE_LOCAL, patch_client_file
from tests.fixtures.browser import AppProcess
from tests.support.fletwire import Refused, drain, open_socket, page_cookies, register
from tests.support.server_harness import ServerProcess

EVIL = "https://evil.example"


def _ws(base: str, path: str = "/ws") -> str:
    return base.replace("http://", "ws://") + path


@pytest.fixture
def app(start_app: Callable[..., AppProcess], tmp_path: Path) -> AppProcess:
    return start_app(tmp_path / "vault")


@pytest.fixture
def debug_desk(tmp_path: Path) -> Iterator[ServerProcess]:
    server = ServerProcess(f"sqlite:///{tmp_path / 'clinic.db'}", tmp_path, env={"COMPANION_LOG_LEVEL": "debug"})
    try:
        yield server.start()
    finally:
        server.close()


# --- the patient's local web app ----------------------------------------------------------------


def test_the_app_answers_only_a_browser_that_came_with_the_printed_key(app: AppProcess) -> None:
    assert re.fullmatch(rf"{app.base}/\?key=[A-Za-z0-9_-]{{40,}}", app.url)
    bare = httpx.get(app.base + "/")
    assert bare.status_code == 403 and "printed" in bare.text and "<p" in bare.text
    wrong = httpx.get(app.base + "/?key=" + "x" * 43)
    assert wrong.status_code == 403 and "set-cookie" not in wrong.headers
    granted = httpx.get(app.url)
    assert granted.status_code == 303 and granted.headers["location"] == "/"  # the key leaves the address bar
    cookie = granted.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
    assert urlsplit(app.url).query.split("=", 1)[1] not in cookie  # the cookie is not the printed key
    with httpx.Client(follow_redirects=True) as browser:
        assert browser.get(app.url).status_code == 200
        for path in ("/", "/main.dart.js", "/manifest.json"):
            assert browser.get(app.base + path).status_code == 200, path
    for path in ("/main.dart.js", "/manifest.json", "/canvaskit/skwasm.wasm"):
        assert httpx.get(app.base + path).status_code == 403, path  # every request, not only the page


def test_the_app_refuses_another_host_name_even_with_its_cookie(app: AppProcess) -> None:
    cookies = page_cookies(app.url)
    rebound = httpx.get(app.base + "/", headers={"Host": f"evil.example:{app.port}"}, cookies=cookies)
    assert rebound.status_code == 421 and "host name" in rebound.text
    with pytest.raises(Refused):
        open_socket(_ws(app.base), origin=f"http://evil.example:{app.port}", cookies=cookies,
                    host=f"evil.example:{app.port}")


def test_the_app_websocket_refuses_other_origins_and_browsers_without_the_cookie(app: AppProcess) -> None:
    cookies = page_cookies(app.url)
    for origin, jar in ((EVIL, cookies), (None, cookies), (app.base, {}),
                        (app.base, {k: v for k, v in cookies.items() if k.endswith("_browser")})):
        with pytest.raises(Refused) as refused:
            open_socket(_ws(app.base), origin=origin, cookies=jar)
        assert refused.value.status == 403
    with open_socket(_ws(app.base), origin=app.base, cookies=cookies) as sock:
        assert register(sock)  # the patient's own browser gets a session
    assert "refused a websocket" in app.log.read_text()


def test_a_closed_app_tab_is_dropped_and_never_resumed(app: AppProcess) -> None:
    cookies = page_cookies(app.url)
    with open_socket(_ws(app.base), origin=app.base, cookies=cookies) as sock:
        first = register(sock)
        drain(sock)  # the page is drawn: the tab closes cleanly, as a browser's does
    until = time.monotonic() + 1.5  # tries spread over well after the server saw the tab close
    while time.monotonic() < until:
        with open_socket(_ws(app.base), origin=app.base, cookies=cookies) as sock:
            assert register(sock, first) != first  # a fresh (locked) session, even in the same browser


def test_app_pages_carry_security_headers_and_fetch_nothing_from_a_cdn(app: AppProcess) -> None:
    with httpx.Client(follow_redirects=True) as browser:
        page = browser.get(app.url)
        csp = page.headers["content-security-policy"]
        assert "frame-ancestors 'none'" in csp and "default-src 'self'" in csp and "connect-src 'self'" in csp
        assert "'unsafe-inline'" not in csp.split("script-src", 1)[1].split(";", 1)[0]
        assert len(re.findall(r"'sha256-", csp)) == page.text.count("<script>")  # inline scripts by hash
        assert page.headers["x-content-type-options"] == "nosniff"
        assert page.headers["referrer-policy"] == "no-referrer"
        assert "access-control-allow-origin" not in page.headers
        for client in ("/main.dart.js", "/main.dart.wasm"):
            body = browser.get(app.base + client).content
            assert b"cdn.jsdelivr.net" not in body and b"offline/rive/" in body, client
        stub = browser.get(app.base + "/offline/rive/" + "_" * 52 + "/wasm/rive_native.js")
        assert stub.status_code == 200 and b"RiveNative" in stub.content
        bootstrap = browser.get(app.base + "/flutter_bootstrap.js").text  # skwasm on the page's own thread
        assert "var flutterConfig = {\n    forceSingleThreadedSkwasm: true," in bootstrap


def test_a_client_file_that_no_longer_holds_what_the_guard_changes_is_refused_loudly() -> None:
    with pytest.raises(RuntimeError, match=r"flet-web's flutter_bootstrap\.js no longer holds"):
        patch_client_file("flutter_bootstrap.js", b"var config = {};")
    assert patch_client_file("main.dart.js", b'x="' + RIVE_CDN + b'"') == b'x="' + RIVE_LOCAL + b'"'


def test_the_app_caps_websockets_per_address(app: AppProcess) -> None:
    cookies = page_cookies(app.url)
    with contextlib.ExitStack() as socks:
        for _ in range(8):
            socks.enter_context(open_socket(_ws(app.base), origin=app.base, cookies=cookies))
        with pytest.raises(Refused):
            open_socket(_ws(app.base), origin=app.base, cookies=cookies)
    deadline = time.monotonic() + 10  # closed sockets free their places once the server has seen them close
    while True:
        try:
            with open_socket(_ws(app.base), origin=app.base, cookies=cookies) as sock:
                assert register(sock)
                return
        except Refused:
            assert time.monotonic() < deadline, "closed websockets never freed their places"


# --- the desk ------------------------------------------------------------------------------------


def test_the_desk_websocket_accepts_only_its_own_origin_and_a_browser_that_loaded_it(
        desk_server: ServerProcess) -> None:
    base, ws = desk_server.base_url, _ws(desk_server.base_url, "/desk/ws")
    cookies = page_cookies(base + "/desk/")
    for origin, jar in ((EVIL, cookies), (None, cookies), (f"http://localhost:{desk_server.port}", cookies),
                        (base, {})):
        with pytest.raises(Refused):
            open_socket(ws, origin=origin, cookies=jar)
    with open_socket(ws, origin=base, cookies=cookies) as sock:
        assert register(sock)


def _resume(ws: str, base: str, cookies: dict[str, str], session: str) -> str:
    """Reconnect as a reload does; the server needs to have seen the old socket close, so try until then."""
    deadline = time.monotonic() + 10
    while True:
        with open_socket(ws, origin=base, cookies=cookies) as sock:
            got = register(sock, session)
        if got == session or time.monotonic() > deadline:
            return got


def test_a_desk_session_resumes_only_in_the_browser_that_holds_its_cookie(desk_server: ServerProcess) -> None:
    base, ws = desk_server.base_url, _ws(desk_server.base_url, "/desk/ws")
    mine, theirs = page_cookies(base + "/desk/"), page_cookies(base + "/desk/")
    assert mine != theirs
    with open_socket(ws, origin=base, cookies=mine) as sock:
        session = register(sock)
    assert _resume(ws, base, mine, session) == session  # the same browser reloading: back where it was
    for _ in range(3):  # a session id read from a log or a screen, tried from another browser
        with open_socket(ws, origin=base, cookies=theirs) as sock:
            assert register(sock, session) != session
        assert _resume(ws, base, mine, session) == session  # it was there, disconnected, all along


def test_desk_pages_carry_security_headers(desk_server: ServerProcess) -> None:
    page = httpx.get(desk_server.url("/desk/"))
    assert page.status_code == 200
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    assert page.headers["x-content-type-options"] == "nosniff" and page.headers["referrer-policy"] == "no-referrer"
    assert "access-control-allow-origin" not in page.headers
    cookie = page.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
    rebound = httpx.get(desk_server.url("/desk/"), headers={"Host": f"evil.example:{desk_server.port}"})
    assert rebound.status_code == 421  # a loopback-only server answers loopback names only


def _threads(server: ServerProcess) -> int:
    assert server._proc is not None
    status = Path(f"/proc/{server._proc.pid}/status").read_text()
    return int(re.search(r"^Threads:\s+(\d+)", status, re.M).group(1))  # type: ignore[union-attr]


def test_unauthenticated_desk_connections_start_no_thread_and_are_capped(desk_server: ServerProcess) -> None:
    base, ws = desk_server.base_url, _ws(desk_server.base_url, "/desk/ws")
    cookies = page_cookies(base + "/desk/")
    with open_socket(ws, origin=base, cookies=cookies) as warm:  # the first session warms Flet's pools
        register(warm)
        drain(warm)
        before = _threads(desk_server)
        with contextlib.ExitStack() as socks:
            for _ in range(MAX_DESK_SOCKETS - 1):
                sock = socks.enter_context(open_socket(ws, origin=base, cookies=cookies))
                register(sock)
            drain(sock)
            assert _threads(desk_server) <= before + 2  # was one poller thread per connection
            with pytest.raises(Refused):
                open_socket(ws, origin=base, cookies=cookies)


def test_no_session_id_or_frame_reaches_the_log_even_at_debug(debug_desk: ServerProcess) -> None:
    base, ws = debug_desk.base_url, _ws(debug_desk.base_url, "/desk/ws")
    cookies = page_cookies(base + "/desk/")
    sessions = []
    for _ in range(2):
        with open_socket(ws, origin=base, cookies=cookies) as sock:
            sessions.append(register(sock))
            drain(sock)
    with open_socket(ws, origin=base, cookies=cookies) as sock:  # a reload: the session resumes
        register(sock, sessions[0])
    log = debug_desk.log_text()
    assert "DEBUG companion.web: desk websocket opened" in log  # the server really logs at debug
    for session in sessions:
        assert session not in log
    assert "Start session" not in log and "_on_message" not in log and "send_message" not in log
    assert cookies["companion_desk_browser"] not in log


def test_behind_a_tls_proxy_the_desk_takes_the_clinics_origin_and_the_forwarded_address(tmp_path: Path) -> None:
    clinic = "https://desk.clinic.example"
    server = ServerProcess(f"sqlite:///{tmp_path / 'clinic.db'}", tmp_path, env={
        "COMPANION_ALLOWED_ORIGINS": clinic, "COMPANION_TRUSTED_PROXIES": "127.0.0.1"}).start()
    try:
        base, ws = server.base_url, _ws(server.base_url, "/desk/ws")
        cookies = page_cookies(base + "/desk/")
        with open_socket(ws, origin=clinic, cookies=cookies) as sock:  # the proxy passes the browser's Origin
            assert register(sock)
        with pytest.raises(Refused):
            open_socket(ws, origin="https://evil.example", cookies=cookies)
        # Each forwarded client has its own cap; the proxy's own address does not lump them together.
        with contextlib.ExitStack() as socks:
            for _ in range(MAX_DESK_SOCKETS):
                socks.enter_context(open_socket(ws, origin=clinic, cookies=cookies,
                                                headers={"X-Forwarded-For": "203.0.113.7"}))
            with pytest.raises(Refused):
                open_socket(ws, origin=clinic, cookies=cookies, headers={"X-Forwarded-For": "203.0.113.7"})
            with open_socket(ws, origin=clinic, cookies=cookies, headers={"X-Forwarded-For": "203.0.113.8"}) as other:
                assert register(other)
    finally:
        server.close()
