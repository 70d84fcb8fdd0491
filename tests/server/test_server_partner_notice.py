"""Anonymous partner notices: a device registers one-time codes (after a positive result or at any
time); each code's public page names no patient, no result and no visit — by any route — tells
what to test for and why, offers a fast-track booking without an account that arrives as a new
patient linked to nobody, expires, is rate-limited and can be reported. The desk sees counts only."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from companion.clinic.server.app import create_app
from companion.clinic.server.settings import Settings
from companion.core.partner_notice import CODE_LENGTH, NOTICE_DAYS, NOTICE_PREFIX, new_code, normalise_code
from tests.fixtures.flet_session import run_isolated
from tests.fixtures.server import ServerFactory
from tests.support.server_harness import ServerProcess, mutation

SENTINEL = "Zanzibar-Notice-Sentinel"
ALL_DAY = [{"day": d, "opens": "00:00", "closes": "24:00", "resource": "Room N"}
           for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")]
SLOT = re.compile(r'name="slot" required style="width:auto" value="([^"]+)"')


@pytest.fixture(scope="module")
def clinic(sqlite_server: ServerProcess) -> dict[str, Any]:
    made = sqlite_server.staff.request("POST", "/v1/staff/services", json={
        "name": "Fast-track STI test", "minutes": 15, "hours": ALL_DAY, "fast_track": True})
    assert made.status_code == 201, made.text
    return {"service": made.json()}


@pytest.fixture
def notifier(sqlite_server: ServerProcess) -> Iterator[tuple[dict[str, str], httpx.Client]]:
    st = sqlite_server.staff
    pid = st.add_patient(SENTINEL, phone="+1 555 0166", email="notifier@example.org")["id"]
    result = st.add_result(pid, test="Chlamydia trachomatis NAAT", interpretation="positive", value="Sentinel-detected")
    st.release_result(result["id"])
    visit = st.add_appointment(pid, kind="Sentinel visit")
    with sqlite_server.device_client(sqlite_server.pair_device(pid)["token"]) as http:
        yield {"patient_id": pid, "result_id": result["id"], "appointment_id": visit["id"]}, http


def _notify(http: httpx.Client, *codes: str, **payload: Any) -> dict[str, Any]:
    m = mutation("partner.notify", codes=list(codes), **{"infection": "chlamydia", **payload})
    answer = http.post("/v1/sync", json={"mutations": [m]})
    assert answer.status_code == 200, answer.text
    result: dict[str, Any] = answer.json()["results"][0]
    return result


def _counts(server: ServerProcess) -> dict[str, int]:
    counts: dict[str, int] = server.staff.request("GET", "/v1/staff/notice-counts").json()
    return counts


def _normal(code: str) -> str:
    """The normal form of a code :func:`new_code` made (always a code, so never ``None``)."""
    normal = normalise_code(code)
    assert normal is not None, code
    return normal


def test_a_notice_page_tells_what_and_why_and_names_nobody(sqlite_server: ServerProcess, clinic: dict[str, Any],
                                                         notifier: tuple[dict[str, str], httpx.Client]) -> None:
    ids, http = notifier
    codes = [new_code(), new_code()]
    before = _counts(sqlite_server)
    answer = _notify(http, *codes, result_id=ids["result_id"])
    assert answer["status"] == "applied" and not any(_normal(c) in str(answer) for c in codes)
    with httpx.Client(timeout=10) as partner:  # a fresh browser: no token, no cookie, nothing
        page = partner.get(sqlite_server.url(f"/n/{normalise_code(codes[0])}"))
        same = partner.get(sqlite_server.url(f"/n/{codes[0].lower()}"))  # typed by hand: case and dashes ignored
    assert page.status_code == 200 and same.status_code == 200
    assert "chlamydia test" in page.text and "free and confidential" in page.text and "Report misuse" in page.text
    assert SLOT.search(page.text), "a fast-track time to book"
    assert "script" not in page.headers["content-security-policy"].replace("default-src 'none'", "")
    assert page.headers["referrer-policy"] == "no-referrer" and page.headers["cache-control"] == "no-store"
    for secret in (SENTINEL, *ids.values(), "Sentinel", "555 0166", "notifier@example.org", "NAAT"):
        assert secret not in page.text
    after = _counts(sqlite_server)
    assert (after["made"] - before["made"], after["opened"] - before["opened"]) == (2, 1)


def test_a_fast_track_booking_is_a_new_patient_linked_to_nobody(sqlite_server: ServerProcess, clinic: dict[str, Any],
                                                                notifier: tuple[dict[str, str], httpx.Client]) -> None:
    ids, http = notifier
    code = normalise_code(new_code())
    assert code is not None and _notify(http, code)["status"] == "applied"  # at any time: no result named
    before = _counts(sqlite_server)
    with httpx.Client(timeout=10) as partner:
        slot = SLOT.findall(partner.get(sqlite_server.url(f"/n/{code}")).text)[0]
        booked = partner.post(sqlite_server.url(f"/n/{code}/book"), data={"slot": slot, "name": "J. P.",
                                                                         "phone": "+1 555 0123"})
        again = partner.post(sqlite_server.url(f"/n/{code}/book"), data={"slot": slot, "name": "J. P."})
        reopened = partner.get(sqlite_server.url(f"/n/{code}"))
    assert booked.status_code == 200 and "You are booked" in booked.text
    assert again.status_code == 410 and reopened.status_code == 410 and "already used" in reopened.text
    for text in (booked.text, again.text, reopened.text):
        assert SENTINEL not in text and ids["patient_id"] not in text
    [newcomer] = [p for p in sqlite_server.staff.collect("/v1/staff/patients", "patients", params={"q": "J. P."})]
    assert newcomer["id"] != ids["patient_id"] and newcomer["phone"] == "+1 555 0123"
    [visit] = sqlite_server.staff.as_role("psr").appointments(newcomer["id"])
    assert visit["id"].startswith(f"{NOTICE_PREFIX}_") and visit["status"] == "confirmed"
    staff_view = repr(sqlite_server.staff.request("GET", f"/v1/staff/patients/{newcomer['id']}").json()) + repr(visit)
    audit = sqlite_server.staff.collect("/v1/staff/audit", "entries", role="admin",
                                        params={"patient_id": newcomer["id"]})
    for secret in (SENTINEL, ids["patient_id"], ids["result_id"]):
        assert secret not in staff_view and secret not in repr(audit)
    after = _counts(sqlite_server)
    assert after["booked"] - before["booked"] == 1 and set(after) == {"made", "opened", "booked", "reported",
                                                                      "active"}


def test_the_database_keeps_nothing_that_joins_a_notice_to_its_patient(
        sqlite_server: ServerProcess, notifier: tuple[dict[str, str], httpx.Client]) -> None:
    ids, http = notifier
    code = normalise_code(new_code())
    assert code is not None and _notify(http, code, result_id=ids["result_id"])["status"] == "applied"
    engine = sa.create_engine(sqlite_server.db_url)
    try:
        with engine.connect() as conn:
            columns = {c["name"] for c in sa.inspect(conn).get_columns("notices")}
            rows = [dict(r) for r in conn.execute(sa.text("SELECT * FROM notices")).mappings()]
            counted = conn.execute(sa.text("SELECT made FROM notice_counts WHERE result_id = :r"),
                                   {"r": ids["result_id"]}).scalar_one()
            audit = " ".join(str(dict(r)) for r in conn.execute(sa.text("SELECT * FROM audit")).mappings())
            ddl = conn.execute(sa.text("SELECT sql FROM sqlite_master WHERE name = 'notices'")).scalar_one()
    finally:
        engine.dispose()
    assert columns == {"code_hash", "infection", "expires_at", "opened_at", "booked_at", "reported_at"}
    assert "WITHOUT ROWID" in ddl  # no insertion order to line up with the patients' pushes
    assert counted >= 1
    assert all(r["expires_at"].endswith("T00:00:00.000000Z") for r in rows)  # a day, never the moment it was made
    assert code not in audit and code not in repr(rows)  # only hashes


def test_report_misuse_stops_the_link_and_is_counted(sqlite_server: ServerProcess,
                                                     notifier: tuple[dict[str, str], httpx.Client]) -> None:
    _, http = notifier
    code = normalise_code(new_code())
    assert code is not None and _notify(http, code)["status"] == "applied"
    before = _counts(sqlite_server)
    with httpx.Client(timeout=10) as partner:
        assert partner.post(sqlite_server.url(f"/n/{code}/report")).status_code == 200
        gone = partner.get(sqlite_server.url(f"/n/{code}"))
    assert gone.status_code == 410 and "no longer works" in gone.text
    assert _counts(sqlite_server)["reported"] - before["reported"] == 1


@pytest.mark.parametrize(("payload", "reason"), [
    ({"codes": ["short"]}, "payload.codes[0]"),
    ({"codes": [new_code() for _ in range(11)]}, "payload.codes"),
    ({"infection": "flu"}, "payload.infection"),
    ({"result_id": "res_doesnotexist00"}, "unknown result"),
])
def test_a_hostile_notice_is_refused_in_one_line(sqlite_server: ServerProcess,
                                                 notifier: tuple[dict[str, str], httpx.Client],
                                                 payload: dict[str, Any], reason: str) -> None:
    _, http = notifier
    body = {"codes": [new_code()], **payload}
    answer = _notify(http, *body.pop("codes"), **body)
    assert answer["status"] == "rejected" and reason in answer["reason"] and "\n" not in answer["reason"]


def test_another_patients_or_a_held_result_cannot_be_counted(sqlite_server: ServerProcess,
                                                             notifier: tuple[dict[str, str], httpx.Client]) -> None:
    _, http = notifier
    st = sqlite_server.staff
    other = st.add_patient("Other")["id"]
    theirs = st.add_result(other, test="Syphilis", interpretation="positive")
    st.release_result(theirs["id"])
    held = st.add_result(other, test="HIV", interpretation="positive")
    for result_id in (theirs["id"], held["id"]):
        answer = _notify(http, new_code(), result_id=result_id)
        assert (answer["status"], answer["reason"]) == ("rejected", "unknown result")
    code = new_code()
    assert _notify(http, code)["status"] == "applied"
    assert _notify(http, code)["status"] == "rejected"  # a code registers once


def test_unknown_and_malformed_codes_get_the_same_neutral_page(sqlite_server: ServerProcess) -> None:
    with httpx.Client(timeout=10) as partner:
        assert partner.get(sqlite_server.url("/n/%00%00")).status_code == 422  # the guard's refusal of a NUL
        for code in ("nonsense", "2" * CODE_LENGTH, "A" * 200, "K7QM-4ZTD-9WXP-EXTRA"):
            answer = partner.get(sqlite_server.url(f"/n/{code}"))
            assert answer.status_code == 404 and "This link is not valid" in answer.text
            booked = partner.post(sqlite_server.url(f"/n/{code}/book"), data={"slot": "x|y", "name": "x"})
            assert booked.status_code == 404
        too_big = partner.post(sqlite_server.url("/n/" + "2" * CODE_LENGTH + "/book"), content=b"a=" + b"x" * 5000,
                               headers={"content-type": "application/x-www-form-urlencoded"})
        assert too_big.status_code == 422


def test_a_bad_or_taken_time_on_the_form_shows_the_page_again(
        sqlite_server: ServerProcess, clinic: dict[str, Any], notifier: tuple[dict[str, str], httpx.Client]) -> None:
    _, http = notifier
    first, second = normalise_code(new_code()), normalise_code(new_code())
    assert first and second and _notify(http, first, second)["status"] == "applied"
    with httpx.Client(timeout=10) as partner:
        slot = SLOT.findall(partner.get(sqlite_server.url(f"/n/{first}")).text)[0]
        assert partner.post(sqlite_server.url(f"/n/{first}/book"), data={"slot": slot, "name": "A"}).status_code == 200
        taken = partner.post(sqlite_server.url(f"/n/{second}/book"), data={"slot": slot, "name": "B"})
        assert taken.status_code == 409 and "just taken" in taken.text and SLOT.search(taken.text)
        for bad in ("svc_doesnotexist00|2031-01-01T10:00:00Z", f"{slot.split('|')[0]}|tomorrow", ""):
            answer = partner.post(sqlite_server.url(f"/n/{second}/book"), data={"slot": bad, "name": "B"})
            assert answer.status_code == 409 and "Book a free test" in answer.text
        nameless = partner.post(sqlite_server.url(f"/n/{second}/book"), data={"slot": slot, "name": ""})
        assert nameless.status_code == 409


def test_the_pages_are_rate_limited_per_address(server_factory: ServerFactory) -> None:
    server = server_factory()
    with httpx.Client(timeout=10) as partner:
        statuses = [partner.get(server.url(f"/n/{'3' * CODE_LENGTH}")).status_code for _ in range(35)]
    assert statuses[:30] == [404] * 30 and statuses[-1] == 429


def test_a_link_expires(tmp_path: Path) -> None:
    now = [datetime(2031, 3, 1, 12, tzinfo=UTC)]
    app = create_app(Settings.from_env(f"sqlite:///{tmp_path / 'clinic.db'}"), clock=lambda: now[0])
    ctx = app.state.ctx
    from companion.clinic.server import partner_notice

    code = normalise_code(new_code())
    assert code is not None
    with ctx.db.write() as tx:
        partner_notice.register_notices(tx, "syphilis", [code], None, now[0], tz=ctx.settings.site.tz)
    async def opened() -> list[tuple[int, str]]:
        seen = []
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://127.0.0.1") as client:
            for step in (timedelta(0), timedelta(days=NOTICE_DAYS), timedelta(days=1, hours=12)):
                now[0] += step
                answer = await client.get(f"/n/{code}")
                seen.append((answer.status_code, answer.text))
        return seen

    try:
        first, last_day, after = run_isolated(opened())  # not asyncio.run: a browser test's loop may be set here
    finally:
        ctx.db.dispose()
    assert first[0] == 200 and last_day[0] == 200  # still works on its last day
    assert after[0] == 410 and "expired" in after[1]
