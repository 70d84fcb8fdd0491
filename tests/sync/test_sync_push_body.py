"""What a push sends: each mutation encoded once, the request body exactly the compact UTF-8 JSON
of ``{"mutations": [...]}``, batches of at most ``MAX_MUTATIONS``; against the real server."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from companion.core.protocol import MAX_MUTATIONS
from companion.sync.client import build_client, queue_mutation
from companion.sync.push import push_outbox, wire_form
from companion.sync.retry import RetryPolicy
from tests.fixtures.sync import Clinic


class RecordingTransport(httpx.HTTPTransport):
    """The real transport, keeping each push's request body as sent."""

    def __init__(self) -> None:
        super().__init__()
        self.pushes: list[bytes] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.method == "POST" and request.url.path == "/v1/sync":
            self.pushes.append(request.read())
        return super().handle_request(request)


@pytest.fixture
def clinic(sqlite_server: object) -> Clinic:
    return Clinic(sqlite_server)


def test_a_push_body_is_the_compact_json_of_its_batch_and_the_text_arrives_intact(
        clinic: Clinic, tmp_path: Path) -> None:
    vault = clinic.pair(tmp_path / "vault")
    bodies = [f"message {i}: café, naïve, 東京, 🩺 \"quoted\" \\ back" for i in range(MAX_MUTATIONS + 5)]
    entries = [queue_mutation(vault, "message.send", {"body": body}) for body in bodies]
    recorder = RecordingTransport()
    try:
        with build_client(clinic.server.base_url, transport=recorder) as client:
            stats = push_outbox(vault, client, str(vault.meta.get("sync.token")), policy=RetryPolicy())
        assert (stats.sent, stats.applied, stats.rejected) == (len(entries), len(entries), 0)
        assert vault.outbox.count() == 0
        batches = [entries[:MAX_MUTATIONS], entries[MAX_MUTATIONS:]]
        assert recorder.pushes == [json.dumps({"mutations": [wire_form(e) for e in batch]}, ensure_ascii=False,
                                              separators=(",", ":")).encode("utf-8") for batch in batches]
        received = [m["body"] for m in clinic.staff.collect(f"/v1/staff/patients/{clinic.patient_id}/messages",
                                                            "messages") if m["author"] == "patient"]
        assert sorted(received) == sorted(bodies)
    finally:
        vault.close()
