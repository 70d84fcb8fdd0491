"""At most two waiting long-polls per device token, against the real server (both backends).

The attack: one device token opens long-poll after long-poll (``GET /v1/sync?wait=30``), each
held open by the server. A third pull from the same device answers the oldest waiting one at
once — an empty page with its own cursor, as a timeout would — and waits in its place, so
however many a token opens, the server holds two.
"""

from __future__ import annotations

import queue
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from tests.fixtures.server import BACKENDS
from tests.support.server_harness import ServerProcess, mutation, pull_all

WAIT = 25  # seconds each poll would wait (spread_wait ends it no sooner than 18.75 s)
# How long to wait for an answer that must come from being superseded (or woken): well under the
# earliest a poll's own wait could end it, so an answer within it was not a timeout's. A bound on
# what answered, not a speed: a superseded poll answers as soon as the next one registers.
PROMPT = 15.0


class Poller:
    """Long-polls in threads, each on its own connection; answers arrive on one queue."""

    def __init__(self, server: ServerProcess, token: str, cursor: str) -> None:
        self.server, self.token, self.cursor = server, token, cursor
        self.answers: queue.Queue[tuple[int, float, int, dict[str, Any]]] = queue.Queue()
        self.threads: list[threading.Thread] = []
        self.started: dict[int, float] = {}
        self.timings: dict[int, str] = {}  # each answer's Server-Timing, by poll number

    def open(self) -> int:
        number = len(self.threads)
        self.started[number] = time.monotonic()
        thread = threading.Thread(target=self._poll, args=(number,), daemon=True)
        self.threads.append(thread)
        thread.start()
        return number

    def _poll(self, number: int) -> None:
        with self.server.device_client(self.token, timeout=WAIT + 15) as http:
            response = http.get("/v1/sync", params={"cursor": self.cursor, "wait": WAIT})
        self.timings[number] = response.headers.get("server-timing", "")
        self.answers.put((number, time.monotonic() - self.started[number], response.status_code, response.json()))

    def next_answer(self, within: float = PROMPT) -> tuple[int, float, int, dict[str, Any]]:
        return self.answers.get(timeout=within)


def _device(server: ServerProcess) -> tuple[str, str, str]:
    pid = server.staff.add_patient("Many polls")["id"]
    device = server.pair_device(pid)
    with server.device_client(device["token"]) as http:
        _, cursor = pull_all(http)
    return pid, device["token"], cursor


def _empty(answer: tuple[int, float, int, dict[str, Any]], cursor: str) -> bool:
    _, _, status, body = answer
    return status == 200 and body == {"changes": [], "cursor": cursor, "has_more": False}


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_third_poll_answers_the_oldest_and_the_newest_two_wait(server_factory: Any, backend: str) -> None:
    server = server_factory(backend)
    pid, token, cursor = _device(server)
    polls = Poller(server, token, cursor)
    for _ in range(3):
        polls.open()
    # the first answer comes once all three are waiting: it is the oldest of them, never the newest
    first = polls.next_answer()
    assert _empty(first, cursor), first
    answered = {first[0]}
    for _ in range(2):  # each further poll starts after every earlier one waits, so the order is known
        newest = polls.open()
        answer = polls.next_answer()
        assert _empty(answer, cursor) and answer[0] != newest, answer
        answered.add(answer[0])
    assert answered == {0, 1, 2}
    assert polls.answers.empty()  # the newest two (3 and 4) still wait
    server.staff.send_message(pid, "news for the two that wait")
    woken = [polls.next_answer(), polls.next_answer()]
    assert {w[0] for w in woken} == {3, 4}
    for _, _, status, body in woken:
        assert status == 200 and [c["kind"] for c in body["changes"]] == ["message"]


def _threads(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("Threads:"):
            return int(line.split()[1])
    raise AssertionError("no thread count")


def test_many_polls_of_one_token_hold_two_and_no_threads(server_factory: Any) -> None:
    server = server_factory()
    _, token, cursor = _device(server)
    polls = Poller(server, token, cursor)
    polls.open()
    polls.open()
    polls.open()
    polls.next_answer()  # from here on, every poll waits before the next one opens
    assert server._proc is not None
    before = _threads(server._proc.pid)
    count = 20
    for _ in range(count):
        newest = polls.open()
        answer = polls.next_answer()
        assert _empty(answer, cursor) and answer[0] != newest, answer
    after = _threads(server._proc.pid)
    print(f"server threads with two polls waiting: {before} before, {after} after {count} more polls")
    assert after <= before + 2  # a waiting poll costs an asyncio event, not a thread
    assert polls.answers.empty()


def test_a_woken_poll_says_where_its_time_went_and_nothing_else(server_factory: Any) -> None:
    """``Server-Timing`` on a woken long poll, durations only (no names or counts): a staff message
    hands its row over (wake, hand, render); an article concerns every patient, so that poll reads
    the feed (wake, pool, read, render). An answer that did not wait carries none, or just ``memo``
    when it was answered from memory."""
    server = server_factory()
    pid, token, cursor = _device(server)
    with server.device_client(token) as http:
        assert http.get("/v1/sync", params={"cursor": cursor}).headers.get("server-timing", "memo") == "memo"

    def woken_by(write: Any, since: str) -> tuple[dict[str, str], str]:
        answers: list[Any] = []

        def poll() -> None:
            with server.device_client(token, timeout=WAIT + 15) as http:
                answers.append(http.get("/v1/sync", params={"cursor": since, "wait": WAIT}))

        thread = threading.Thread(target=poll, daemon=True)
        thread.start()
        server.await_pulls(1)
        write()
        thread.join(PROMPT)
        assert len(answers) == 1 and answers[0].json()["changes"], answers
        header = answers[0].headers["server-timing"]
        parts = dict(part.strip().split(";dur=") for part in header.split(","))
        assert all(float(v) >= 0 for v in parts.values()), header
        return parts, answers[0].json()["cursor"]

    parts, cursor = woken_by(lambda: server.staff.send_message(pid, "wake the poll"), cursor)
    assert set(parts) == {"wake", "hand", "render"}, parts
    parts, _ = woken_by(lambda: server.staff.add_article("Opening hours", "We are open on Saturdays."), cursor)
    assert set(parts) == {"wake", "pool", "read", "render"}, parts


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_devices_own_push_ends_its_poll_empty_and_hands_the_patients_other_device_the_message(
        server_factory: Any, backend: str) -> None:
    """The phone pushes a message while its own long poll and the patient's laptop's wait. The
    laptop's poll gets the message, handed over by the push's commit (no re-read); the phone's ends
    empty with its own cursor, at once: its echo would predate the push's answer, so the app would
    drop it and pull (``sync.live``), and it raced that answer on both sides. The phone's next pull
    has its message. Another patient's waiting device hears nothing."""
    server = server_factory(backend)
    pid, phone, cursor = _device(server)
    laptop = server.pair_device(pid, device_name="Laptop")["token"]
    with server.device_client(laptop) as http:
        _, laptop_cursor = pull_all(http)
    stranger_pid, stranger, stranger_cursor = _device(server)
    polls = {name: Poller(server, token, since) for name, token, since in
             [("phone", phone, cursor), ("laptop", laptop, laptop_cursor), ("stranger", stranger, stranger_cursor)]}
    for poller in polls.values():
        poller.open()
    server.await_pulls(3)
    with server.device_client(phone) as http:
        pushed = http.post("/v1/sync", json={"mutations": [mutation("message.send", body="Can I come at 9?")]})
    assert pushed.status_code == 200 and [r["status"] for r in pushed.json()["results"]] == ["applied"], pushed.text

    assert _empty(polls["phone"].next_answer(), cursor)
    _, _, status, body = polls["laptop"].next_answer()
    assert status == 200 and [(c["kind"], c["data"]["body"]) for c in body["changes"]] == \
        [("message", "Can I come at 9?")], body
    timing = polls["laptop"].timings[0]
    assert "hand;" in timing and "read;" not in timing, timing
    with server.device_client(phone) as http:
        changes, _ = pull_all(http, cursor)
    assert [(c["kind"], c["data"]["body"]) for c in changes] == [("message", "Can I come at 9?")]
    assert polls["stranger"].answers.empty()
    server.staff.send_message(stranger_pid, "Your own news")  # its first answer: it was still waiting
    _, _, status, body = polls["stranger"].next_answer()
    assert status == 200 and [c["data"]["body"] for c in body["changes"]] == ["Your own news"], body


def test_a_push_ends_only_its_own_devices_polls_on_the_scopes_it_wrote() -> None:
    """The hub itself (no server, no loop: waking sets events): a push's commit ends its device's
    poll on the scope it wrote and wakes the patient's other device as any commit does; a poll of
    the pusher on a scope the commit did not write is neither woken nor marked, so a later change
    still reaches it."""
    from companion.clinic.server.wakeups import WakeupHub

    hub = WakeupHub()
    phone, laptop = hub.register_poll("dev_phone", "pat_1"), hub.register_poll("dev_laptop", "pat_1")
    elsewhere = hub.register_poll("dev_phone", "pat_other")  # not a set-up the server makes; the rule holds
    hub.wake(["pat_1"], pusher="dev_phone")
    assert phone.event.is_set() and phone.superseded
    assert laptop.event.is_set() and not laptop.superseded
    assert not elsewhere.event.is_set() and not elsewhere.superseded
    hub.wake(["pat_other"])
    assert elsewhere.event.is_set() and not elsewhere.superseded


def test_long_waits_are_spread_over_their_last_quarter_and_short_ones_kept() -> None:
    """Devices that reconnected together (a server restart) must not re-poll in lockstep for ever."""
    from companion.clinic.server.routes_device import spread_wait

    draws = [spread_wait(30.0) for _ in range(2000)]
    assert all(22.5 <= d <= 30.0 for d in draws)
    assert max(draws) - min(draws) > 5.0  # spread, not a constant
    assert {spread_wait(1.5) for _ in range(50)} == {1.5}
