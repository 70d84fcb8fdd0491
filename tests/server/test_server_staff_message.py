"""The staff message route after its lighter patient check (issue 14's live path): an unknown
patient is still a one-line 404 naming the patient, and nothing is written or published."""

from __future__ import annotations

from tests.support.server_harness import ServerProcess, pull_all


def test_a_message_to_an_unknown_patient_is_404_and_writes_nothing(sqlite_server: ServerProcess) -> None:
    st = sqlite_server.staff
    pid, device, cursor = sqlite_server.caught_up_device("Known Patient")
    refused = st.request("POST", "/v1/staff/patients/pat_doesnotexist/messages", json={"body": "hello"})
    assert refused.status_code == 404 and refused.json()["error"]["code"] == "not_found"
    assert "patient" in refused.json()["error"]["message"]
    sent = st.send_message(pid, "For the known patient")
    with sqlite_server.device_client(device["token"]) as http:
        changes, _ = pull_all(http, cursor)
    assert [c["id"] for c in changes] == [sent["id"]]  # the refused one never reached any feed
    audit = st.request("GET", "/v1/staff/audit", "admin", params={"action": "message.send", "limit": 100}).json()
    assert all(e["patient_id"] != "pat_doesnotexist" for e in audit["entries"])
