"""Who is calling: ``X-Forwarded-For`` counts only from a trusted proxy (COMPANION_TRUSTED_PROXIES).

The attack: a guesser sends every sign-in or pairing attempt with a new made-up
``X-Forwarded-For`` so that each one lands under a fresh address and the per-address backoff
never starts. From an untrusted peer the header is ignored (the backoff keys on the peer); behind
a trusted proxy the rightmost address that is not a trusted proxy is used, and whatever the
client put left of it is not. Plus the settings that name proxies and desk origins.
"""

from __future__ import annotations

import ipaddress
from typing import Any

import httpx
import pytest

from companion.clinic.server.context import client_address_from
from companion.clinic.server.settings import Settings
from companion.core.errors import ConfigError
from tests.support.server_harness import ServerProcess
from tests.support.waiting import wait_until

TRUSTED = (ipaddress.ip_network("10.0.0.0/8"), ipaddress.ip_network("fd00::/8"))


@pytest.mark.parametrize(("peer", "forwarded", "caller"), [
    ("203.0.113.9", "1.2.3.4", "203.0.113.9"),  # not a proxy of ours: the header is the client's claim
    ("10.1.1.1", "198.51.100.7", "198.51.100.7"),  # our proxy names the client
    ("10.1.1.1", "6.6.6.6, 198.51.100.7", "198.51.100.7"),  # the client's own addition is ignored
    ("10.1.1.1", "6.6.6.6, 198.51.100.7, 10.2.2.2", "198.51.100.7"),  # two proxies of ours
    ("10.1.1.1", "198.51.100.7:4711", "198.51.100.7"),
    ("10.1.1.1", "not-an-ip, 10.2.2.2", "10.2.2.2"),  # a garbled hop: the last address known good
    ("10.1.1.1", "", "10.1.1.1"),
    ("10.1.1.1", "10.3.3.3", "10.3.3.3"),  # only proxies: the farthest one
    ("::ffff:10.1.1.1", "[2001:db8::5]:443", "2001:db8::5"),
    ("fd00::1", "2001:db8::6", "2001:db8::6"),
    (None, "1.2.3.4", "unknown"),
])
def test_the_caller_is_the_rightmost_untrusted_hop(peer: str | None, forwarded: str, caller: str) -> None:
    headers = {"X-Forwarded-For": forwarded} if forwarded else {}
    assert client_address_from(peer, headers, TRUSTED) == caller


def test_without_trusted_proxies_the_header_never_counts() -> None:
    assert client_address_from("10.1.1.1", {"x-forwarded-for": "1.2.3.4"}, ()) == "10.1.1.1"


def test_settings_parse_proxies_and_origins() -> None:
    env = {"COMPANION_DATABASE_URL": "sqlite:///x.db", "COMPANION_TRUSTED_PROXIES": " 10.0.0.0/8, 192.168.1.7 ,::1",
           "COMPANION_ALLOWED_ORIGINS": "https://Desk.Clinic.example, http://127.0.0.1:8765/"}
    settings = Settings.from_env(env=env)
    assert [str(n) for n in settings.trusted_proxies] == ["10.0.0.0/8", "192.168.1.7/32", "::1/128"]
    assert settings.allowed_origins == ("https://desk.clinic.example", "http://127.0.0.1:8765")
    defaults = Settings.from_env(env={"COMPANION_DATABASE_URL": "sqlite:///x.db"})
    assert defaults.trusted_proxies == () and defaults.allowed_origins == ()
    for key, value in [("COMPANION_TRUSTED_PROXIES", "10.0.0.0/33"), ("COMPANION_TRUSTED_PROXIES", "proxy.local"),
                       ("COMPANION_ALLOWED_ORIGINS", "desk.clinic.example"),
                       ("COMPANION_ALLOWED_ORIGINS", "https://desk.clinic.example/path"),
                       ("COMPANION_ALLOWED_ORIGINS", "ftp://desk.clinic.example"),
                       ("COMPANION_ALLOWED_ORIGINS", "https://desk.clinic.example:99999"),
                       ("COMPANION_ALLOWED_ORIGINS", "*")]:
        with pytest.raises(ConfigError) as caught:
            Settings.from_env(env={"COMPANION_DATABASE_URL": "sqlite:///x.db", key: value})
        assert str(caught.value).startswith(key) and "\n" not in str(caught.value)


def test_settings_desk_reload_grace() -> None:
    """How long a closed desk tab's sign-in can come back on a reload: 60 s, 0 signs out at once."""
    url = {"COMPANION_DATABASE_URL": "sqlite:///x.db"}
    assert Settings.from_env(env=url).desk_reload == 60
    assert Settings.from_env(env={**url, "COMPANION_DESK_RELOAD": "0"}).desk_reload == 0
    for value, said in (("-1", "must be at least 0"), ("soon", "expected a whole number")):
        with pytest.raises(ConfigError, match=f"^COMPANION_DESK_RELOAD: {said}"):
            Settings.from_env(env={**url, "COMPANION_DESK_RELOAD": value})


def _sign_in(server: ServerProcess, name: str, forwarded: str) -> httpx.Response:
    return httpx.post(server.url("/v1/staff/sessions"), json={"name": name, "password": "wrong password"},
                      headers={"X-Forwarded-For": forwarded}, timeout=30)


def _addresses(server: ServerProcess, action: str, count: int) -> list[str]:
    """The audit log's addresses for ``action`` once ``count`` are flushed (failures are queued)."""
    entries: list[dict[str, Any]] = []

    def flushed() -> bool:
        entries[:] = server.staff.request("GET", "/v1/staff/audit", role="admin",
                                          params={"action": action, "limit": 500}).json()["entries"]
        return len(entries) >= count

    wait_until(flushed, 10)  # the caller's assertion says what is missing when it is not
    return [e["address"] for e in entries]


def test_a_spoofed_forwarded_for_from_an_untrusted_peer_is_ignored(server_factory: Any) -> None:
    server = server_factory(env={"COMPANION_SIGNIN_FREE": "1"})  # 4 free per address
    answers = [_sign_in(server, f"Guess {i}", f"198.51.100.{i}").status_code for i in range(6)]
    assert answers == [401] * 4 + [429] * 2  # all counted under 127.0.0.1, the real peer
    assert set(_addresses(server, "staff.signin_failed", 4)) == {"127.0.0.1"}
    # the pairing rate limit keys on the peer too
    paired = server_factory(env={"COMPANION_PAIRING_RATE": "2/600"})
    codes = [httpx.post(paired.url("/v1/devices"), json={"code": "AAA-BBB-CCC"},
                        headers={"X-Forwarded-For": f"198.51.100.{i}"}).status_code for i in range(4)]
    assert codes[-1] == 429, codes


def test_a_trusted_proxy_names_the_client(server_factory: Any) -> None:
    server = server_factory(env={"COMPANION_SIGNIN_FREE": "1", "COMPANION_TRUSTED_PROXIES": "127.0.0.1"})
    # six clients behind the proxy, each with one wrong guess: nobody waits for the others' typos
    spread = [_sign_in(server, f"Guess {i}", f"6.6.6.6, 198.51.100.{i}").status_code for i in range(6)]
    assert spread == [401] * 6
    # one client guessing: its own address backs off, whatever it writes in front of it
    same = [_sign_in(server, f"Other {i}", f"203.0.113.{i}, 192.0.2.50").status_code for i in range(5)]
    assert same == [401] * 4 + [429]
    addresses = _addresses(server, "staff.signin_failed", 10)
    assert sorted(set(addresses)) == sorted({f"198.51.100.{i}" for i in range(6)} | {"192.0.2.50"})
