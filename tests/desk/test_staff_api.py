"""The one staff API client against the real server: the protocol header on every request, https
except to this computer, answers capped, a non-JSON answer one typed error, refusals mapped into
the one exception tree, pages followed, and the desk's options (sign-in, background polls)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from companion.clinic.desk.api import DeskApi
from companion.clinic.psr.cli import main as psr_main
from companion.clinic.staff_api import MAX_RESPONSE_BYTES, StaffClient, client
from companion.clinic.staff_api.http11 import Http11Transport
from companion.core.errors import (
    CompanionError,
    InsecureServer,
    ProtocolError,
    ServerUnreachable,
    SignedOut,
    StaffApiError,
    TooManyTries,
)
from companion.core.protocol import PROTOCOL_HEADER, PROTOCOL_VERSION
from tests.fixtures.desk import DESK_USERS, PASSWORD, add_desk_user
from tests.fixtures.server import ServerFactory
from tests.support.server_harness import ServerProcess


class Recording(httpx.BaseTransport):
    """The real network transport, remembering every request it sends."""

    def __init__(self) -> None:
        self.inner = Http11Transport()
        self.sent: list[httpx.Request] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.sent.append(request)
        return self.inner.handle_request(request)

    def close(self) -> None:
        self.inner.close()


@pytest.fixture
def wire() -> Iterator[Recording]:
    recording = Recording()
    yield recording
    recording.close()


def _client(server: ServerProcess, wire: Recording | None = None, max_answer_bytes: int = MAX_RESPONSE_BYTES
            ) -> StaffClient:
    return StaffClient(server.base_url, server.tokens["psr"], transport=wire, max_answer_bytes=max_answer_bytes)


def test_every_request_carries_the_protocol_header_and_pages_are_followed(
        desk_server: ServerProcess, wire: Recording, monkeypatch: pytest.MonkeyPatch) -> None:
    made = {desk_server.staff.add_patient(f"Paged {i}")["id"] for i in range(5)}
    monkeypatch.setattr(client, "PAGE", 2)
    with _client(desk_server, wire) as api:
        found = api.list_patients(limit=5)
        assert {p["id"] for p in found["patients"]} == made and found["total"] >= 5
        assert api.me()["role"] == "psr"
    assert len(wire.sent) == 4  # three pages of at most two, then /me
    assert all(r.headers[PROTOCOL_HEADER] == str(PROTOCOL_VERSION) for r in wire.sent)
    assert [r.url.params.get("limit") for r in wire.sent[:3]] == ["2", "2", "1"]
    assert "after" not in wire.sent[0].url.params and all("after" in r.url.params for r in wire.sent[1:3])


@pytest.mark.parametrize("url", ["http://clinic.example", "http://10.0.0.5:8765", "http://127.0.0.1.example.org",
                                 "ftp://127.0.0.1", "clinic.example", "https://user:pw@clinic.example"])
def test_plain_http_beyond_this_computer_is_refused_before_any_request(url: str, wire: Recording) -> None:
    with pytest.raises(InsecureServer) as refused:
        StaffClient(url, "cps_token", transport=wire)
    assert wire.sent == [] and "\n" not in str(refused.value)


@pytest.mark.parametrize("url", ["http://127.0.0.1:8765/", "http://localhost:1", "http://[::1]:2",
                                 "https://clinic.example"])
def test_loopback_and_https_are_accepted(url: str) -> None:
    StaffClient(url, "cps_token").close()


def test_the_cli_refuses_plain_http_to_another_host_in_one_line(monkeypatch: pytest.MonkeyPatch,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("COMPANION_SERVER", "http://clinic.example:8765")
    monkeypatch.setenv("COMPANION_STAFF_TOKEN", "cps_token")
    assert psr_main(["inbox"]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("companion-psr: error: refusing plain http:// to clinic.example") and "https://" in err
    assert len(err.splitlines()) == 1


def test_an_answer_over_the_cap_is_refused(desk_server: ServerProcess) -> None:
    for i in range(3):
        desk_server.staff.add_patient(f"Capped {i}")
    with _client(desk_server, max_answer_bytes=300) as small:
        with pytest.raises(ProtocolError, match="larger than the 300 bytes"):
            small.list_patients(limit=50)
        assert small.me()["role"] == "psr"  # a small answer still fits
    with _client(desk_server) as roomy:
        assert len(roomy.list_patients(limit=50)["patients"]) >= 3


def test_a_2xx_that_is_not_json_is_a_protocol_error(desk_server: ServerProcess) -> None:
    for api in (_client(desk_server), DeskApi(desk_server.base_url)):
        with api, pytest.raises(ProtocolError, match="was not JSON"):
            api.call("GET", "/docs")  # the server's HTML API browser


def test_refusals_map_into_the_one_tree(desk_server: ServerProcess) -> None:
    with _client(desk_server) as psr:
        with pytest.raises(StaffApiError) as missing:
            psr.get_patient("pat_doesnotexist00")
        assert (missing.value.status, missing.value.code) == (404, "not_found")
        assert str(missing.value).endswith("(HTTP 404, not_found)")
        with pytest.raises(StaffApiError) as role:
            psr.audit()
        assert role.value.status == 403 and not isinstance(role.value, SignedOut)
        with pytest.raises(StaffApiError) as bad:
            psr.add_patient(name="x" * 300)
        assert bad.value.status == 422
    stranger = StaffClient(desk_server.base_url, "cps_not_a_real_token")
    with stranger, pytest.raises(SignedOut) as unknown:
        stranger.inbox()
    assert unknown.value.status == 401 and stranger.token is None
    assert isinstance(unknown.value, StaffApiError) and isinstance(unknown.value, CompanionError)


def test_an_unreachable_server_is_one_line_in_each_voice() -> None:
    with StaffClient("http://127.0.0.1:9", "cps_token") as cli, pytest.raises(ServerUnreachable) as down:
        cli.me()
    assert str(down.value).startswith("cannot reach the clinic server at http://127.0.0.1:9")
    with DeskApi("http://127.0.0.1:9") as desk, pytest.raises(ServerUnreachable) as quiet:
        desk.me()
    assert str(quiet.value) == "the clinic server is not answering; check it is running"


def test_desk_sign_in_sign_out_and_background_polls(desk_server: ServerProcess, wire: Recording) -> None:
    patients = [desk_server.staff.add_patient(f"Named {i}")["id"] for i in range(3)]
    with DeskApi(desk_server.base_url, transport=wire, desk_key="k", client_address="10.1.2.3") as desk:
        with pytest.raises(StaffApiError) as wrong:
            desk.sign_in(DESK_USERS["psr"], "not the password")
        assert not isinstance(wrong.value, SignedOut) and str(wrong.value) == "Wrong name or password."
        desk.sign_in(DESK_USERS["psr"], PASSWORD)
        assert desk.token and desk.inbox("all", limit=300, background=True)["items"] is not None
        before = len(wire.sent)
        names = desk.patient_names(patients, background=True)
        assert names == {pid: (f"Named {i}", None, None) for i, pid in enumerate(patients)}
        assert len(wire.sent) == before + 1  # one list call, not one per patient
        with pytest.raises(StaffApiError, match=r"^Your role may not do this\. "):
            desk.audit()
        desk.sign_out()
        assert desk.token is None
    polls = [r for r in wire.sent if r.headers.get("Companion-Background") == "1"]
    assert [r.url.path for r in polls] == ["/v1/staff/inbox", "/v1/staff/patients"]
    assert all(r.headers["Companion-Desk-Key"] == "k" and r.headers["Companion-Desk-Address"] == "10.1.2.3"
               for r in wire.sent)
    assert wire.sent[-1].method == "DELETE" and wire.sent[-1].headers["Authorization"].startswith("Bearer ")


def test_after_a_sign_in_ended_every_call_says_why_until_the_next_sign_in(desk_server: ServerProcess,
                                                                         wire: Recording) -> None:
    with DeskApi(desk_server.base_url, transport=wire) as desk:
        desk.sign_in(DESK_USERS["psr"], PASSWORD)
        elsewhere = DeskApi(desk_server.base_url)
        elsewhere.token = desk.token
        elsewhere.sign_out()  # the same sign-in ended in another window
        elsewhere.close()
        with pytest.raises(SignedOut) as ended:
            desk.inbox("all")
        assert desk.token is None and str(ended.value) == "You signed out: sign in again."
        sent = len(wire.sent)
        with pytest.raises(SignedOut) as again:  # e.g. a screen's call started as the first 401 came in
            desk.list_patients()
        assert (str(again.value), again.value.code) == (str(ended.value), ended.value.code)
        assert len(wire.sent) == sent  # refused here: never sent without a token
        desk.sign_in(DESK_USERS["psr"], PASSWORD)
        assert desk.inbox("all")["items"] is not None


def test_backoff_is_too_many_tries_with_retry_after(server_factory: ServerFactory) -> None:
    server = server_factory(env={"COMPANION_SIGNIN_FREE": "1"})
    add_desk_user(server, "Pat Guess", "psr")
    with DeskApi(server.base_url) as desk:
        with pytest.raises(StaffApiError):
            desk.sign_in("Pat Guess", "not the password")
        with pytest.raises(TooManyTries) as waiting:
            desk.sign_in("Pat Guess", PASSWORD)
    assert 1 <= waiting.value.retry_after <= 30 and waiting.value.status == 429
    assert str(waiting.value) == f"Too many wrong passwords. Try again in {waiting.value.retry_after} seconds."
