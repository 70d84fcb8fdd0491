"""The clinic's open times as SMART Scheduling Links: a ``$bulk-publish`` manifest and Location,
Schedule and Slot NDJSON files in the shapes of the Slot Publisher API (smart-on-fhir/smart-scheduling-links
specification.md), each resource also a valid FHIR R4 resource; the slots are exactly the open
times; nothing of any patient is in them; a sensitive service is never listed; the booking deep
link is a neutral page with the clinic's phone."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from fhir.resources.R4B.location import Location
from fhir.resources.R4B.schedule import Schedule
from fhir.resources.R4B.slot import Slot

from companion.core.fields import parse_datetime
from tests.support.server_harness import ServerProcess, mutation

PROFILE = """
[clinic]
name = "Riverside Sexual Health Clinic"
phone = "+1 555 0100"
address = "12 River Street, Suite 3"
city = "Riverside"
state = "MA"
postal_code = "02139"
timezone = "America/New_York"
"""
ALL_DAY = [{"day": d, "opens": "00:00", "closes": "24:00", "resource": "Room L"}
           for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")]
SPEC_ID = re.compile(r"^[A-Za-z0-9_.]{1,64}$")  # the specification's ids (FHIR's validation checks its own too)
DEEP_LINK = "http://fhir-registry.smarthealthit.org/StructureDefinition/booking-deep-link"
PHONE = "http://fhir-registry.smarthealthit.org/StructureDefinition/booking-phone"
SENTINEL = "Zanzibar-Smart-Sentinel"


@pytest.fixture(scope="module")
def listed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ServerProcess, dict[str, Any]]]:
    folder: Path = tmp_path_factory.mktemp("smart-server")
    (folder / "profile.toml").write_text(PROFILE, encoding="utf-8")
    server = ServerProcess(f"sqlite:///{folder / 'clinic.db'}", folder,
                           env={"COMPANION_CLINIC_PROFILE": str(folder / "profile.toml")})
    try:
        server.start()
        made = server.staff.request("POST", "/v1/staff/services", json={
            "name": "STI screening", "minutes": 15, "hours": [dict(h, opens="09:00", closes="12:00") for h in ALL_DAY]})
        assert made.status_code == 201, made.text
        hidden = server.staff.request("POST", "/v1/staff/services", json={
            "name": "Hidden PEP follow-up", "minutes": 30, "hours": ALL_DAY, "sensitive": True})
        assert hidden.status_code == 201, hidden.text
        yield server, {"service": made.json(), "hidden": hidden.json()}
    finally:
        server.close()


def _files(server: ServerProcess) -> tuple[dict[str, Any], dict[str, list[dict[str, Any]]]]:
    with httpx.Client(timeout=10) as http:  # a public test-finder: no token, no protocol header
        manifest_answer = http.get(server.url("/$bulk-publish"))
        assert manifest_answer.status_code == 200 and manifest_answer.headers["content-type"] == "application/json"
        manifest = manifest_answer.json()
        files: dict[str, list[dict[str, Any]]] = {}
        for item in manifest["output"]:
            answer = http.get(item["url"])
            assert answer.status_code == 200, item
            assert answer.headers["content-type"].startswith("application/fhir+ndjson")
            lines = answer.text.split("\n")
            assert lines[-1] == "" and all(lines[:-1])  # one object a line, newline-terminated
            for line in lines[:-1]:
                assert json.dumps(json.loads(line), separators=(",", ":"), ensure_ascii=False) == line  # minified
            files[item["type"]] = [json.loads(line) for line in lines[:-1]]
    return manifest, files


def test_the_manifest_names_one_file_of_each_kind_by_full_url(listed: tuple[ServerProcess, dict[str, Any]]) -> None:
    server, _ = listed
    manifest, files = _files(server)
    assert set(manifest) == {"transactionTime", "request", "output", "error"} and manifest["error"] == []
    parse_datetime(manifest["transactionTime"], "transactionTime")
    assert manifest["request"] == server.url("/$bulk-publish")
    assert sorted(o["type"] for o in manifest["output"]) == ["Location", "Schedule", "Slot"]
    assert all(set(o) == {"type", "url"} and o["url"].startswith(server.base_url) for o in manifest["output"])
    assert set(files) == {"Location", "Schedule", "Slot"}


def test_every_resource_has_the_specifications_shape_and_is_valid_fhir(
        listed: tuple[ServerProcess, dict[str, Any]]) -> None:
    server, made = listed
    _, files = _files(server)
    [location] = files["Location"]
    Location.model_validate(location)
    assert location["resourceType"] == "Location" and SPEC_ID.match(location["id"]) and location["name"]
    assert location["telecom"] == [{"system": "phone", "value": "+1 555 0100"}]
    assert location["address"] == {"line": ["12 River Street, Suite 3"], "city": "Riverside", "state": "MA",
                                   "postalCode": "02139"}
    schedules = {s["id"]: s for s in files["Schedule"]}
    assert set(schedules) == {made["service"]["id"].replace("_", ".")}  # the sensitive service is not listed
    for schedule in schedules.values():
        Schedule.model_validate(schedule)
        assert SPEC_ID.match(schedule["id"]) and schedule["actor"] == [{"reference": f"Location/{location['id']}"}]
        assert schedule["serviceType"] and all(c["coding"] for c in schedule["serviceType"])
    assert files["Slot"]
    for slot in files["Slot"]:
        Slot.model_validate(slot)
        assert SPEC_ID.match(slot["id"]) and slot["status"] in ("free", "busy")
        assert slot["schedule"]["reference"].removeprefix("Schedule/") in schedules
        assert parse_datetime(slot["start"], "start") < parse_datetime(slot["end"], "end")
        if slot["status"] == "busy":  # its time and nothing more: no link to book it
            assert set(slot) == {"resourceType", "id", "schedule", "status", "start", "end"}
            continue
        links = {e["url"]: e for e in slot["extension"]}
        assert links[DEEP_LINK]["valueUrl"].startswith(server.base_url + "/smart/book/")
        assert links[PHONE]["valueString"] == "+1 555 0100"
    assert len({s["id"] for s in files["Slot"]}) == len(files["Slot"])


def test_the_slots_are_exactly_the_open_times_and_a_booked_one_leaves(
        listed: tuple[ServerProcess, dict[str, Any]]) -> None:
    server, made = listed
    service_id = made["service"]["id"]

    def listed_starts(status: str = "free") -> list[datetime]:
        return [parse_datetime(s["start"], "start") for s in _files(server)[1]["Slot"] if s["status"] == status]

    open_times = [parse_datetime(t, "t") for t in server.staff.request(
        "GET", f"/v1/staff/services/{service_id}/open-times").json()["open"]]
    assert listed_starts() == open_times and open_times
    pid = server.staff.add_patient(SENTINEL, phone="+1 555 0177", email="sentinel@example.org")["id"]
    with server.device_client(server.pair_device(pid)["token"]) as http:
        m = mutation("appointment.book", service_id=service_id, start=open_times[0].isoformat())
        assert http.post("/v1/sync", json={"mutations": [m]}).json()["results"][0]["status"] == "applied"
    assert listed_starts() == open_times[1:]
    assert open_times[0] in listed_starts("busy")  # the booked time is listed busy, with its time only
    with httpx.Client(timeout=10) as http:
        text = "".join(http.get(o["url"]).text for o in http.get(server.url("/$bulk-publish")).json()["output"])
    visits = server.staff.as_role("psr").appointments(pid)
    for secret in (SENTINEL, pid, "555 0177", "sentinel@example.org", *(v["id"] for v in visits)):
        assert secret not in text


def test_the_booking_deep_link_is_a_neutral_page_with_the_phone(listed: tuple[ServerProcess, dict[str, Any]]) -> None:
    server, made = listed
    _, files = _files(server)
    first = next(s for s in files["Slot"] if s["status"] == "free")
    link = next(e["valueUrl"] for e in first["extension"] if e["url"] == DEEP_LINK)
    with httpx.Client(timeout=10) as http:
        answer = http.get(link)
        assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/html")
        assert "script-src" not in answer.headers["content-security-policy"]  # default-src 'none': no scripts
        assert answer.headers["cache-control"] == "no-store" and answer.headers["referrer-policy"] == "no-referrer"
        assert "STI screening" in answer.text and "still open" in answer.text and "tel:+1 555 0100" in answer.text
        hidden_slot = f"{made['hidden']['id'].replace('_', '.')}.{first['id'].rsplit('.', 1)[1]}"
        for slot_id in ("nonsense", "svc.doesnotexist00.20310101T1000", hidden_slot, "x." + "9" * 80):
            refused = http.get(server.url(f"/smart/book/{slot_id}"))
            assert refused.status_code == 404 and "Hidden" not in refused.text


def test_a_blocked_day_is_listed_busy_and_comes_back_free(listed: tuple[ServerProcess, dict[str, Any]]) -> None:
    server, _ = listed

    def by_status() -> dict[str, set[str]]:
        found: dict[str, set[str]] = {"free": set(), "busy": set()}
        for slot in _files(server)[1]["Slot"]:
            found[slot["status"]].add(slot["start"])
        return found

    before = by_status()
    day = min(before["free"])[:10]
    on_day = {t for t in before["free"] if t.startswith(day)}
    block = server.staff.request("POST", "/v1/staff/blocks", json={
        "starts_at": f"{day}T00:00:00Z", "ends_at": f"{day}T23:59:00Z", "reason": "Staff training"})
    assert block.status_code == 201, block.text
    try:
        during = by_status()
        assert on_day <= during["busy"] and not on_day & during["free"]
        busy = next(s for s in _files(server)[1]["Slot"] if s["start"] in on_day)
        with httpx.Client(timeout=10) as http:
            page = http.get(server.url(f"/smart/book/{busy['id']}"))
            assert page.status_code == 200 and "just been taken" in page.text and "Staff training" not in page.text
        assert during["free"] | during["busy"] == before["free"] | before["busy"]  # the same grid
        with httpx.Client(timeout=10) as http:
            assert "Staff training" not in http.get(server.url("/smart/slots.ndjson")).text
    finally:
        assert server.staff.request("DELETE", f"/v1/staff/blocks/{block.json()['id']}").status_code in (200, 204)
    assert by_status() == before
