"""The sync engine against the real clinic server on 127.0.0.1.

Pairing and the first sync, every command reaching the clinic exactly once,
the echo of our own message, the conflict rule, business rejections, offline
then online, revocation, 426, an expired cursor, and one sync at a time.
"""

from __future__ import annotations

import base64
import threading
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from companion.core.errors import (
    DeviceRevoked,
    NotPaired,
    ServerUnreachable,
    SyncInProgress,
    UpgradeRequired,
)
from companion.core.models import Appointment
from companion.sync.client import (
    build_client,
    client_for_vault,
    discard_rejected,
    queue_mutation,
    read_status,
    sync_lock,
    synchronize,
)
from companion.sync.pull import pull_changes
from companion.sync.retry import RetryPolicy
from companion.vault import Vault
from tests.fixtures.sync import Clinic, fake_pairing, new_vault, vault_snapshot
from tests.support.fault_proxy import FaultProxy
from tests.support.waiting import wait_until

ALL_COMMANDS = ("message.send", "message.read", "appointment.request", "appointment.confirm", "prep.done",
                "result.ack", "bill.plan_request", "checkin.submit")


@pytest.fixture
def clinic(sqlite_server: object) -> Clinic:
    return Clinic(sqlite_server)


@pytest.fixture
def device(clinic: Clinic, tmp_path: Path) -> Iterator[tuple[Vault, httpx.Client]]:
    vault = clinic.pair(tmp_path / "vault")
    client = client_for_vault(vault)
    try:
        yield vault, client
    finally:
        client.close()
        vault.close()


def _queue_everything(vault: Vault, clinic: Clinic) -> list[str]:
    ids = [
        queue_mutation(vault, "message.send", {"body": "Is my result in?", "thread": "results"}).id,
        queue_mutation(vault, "message.read", {"message_id": clinic.message_id}).id,
        queue_mutation(vault, "appointment.request", {"kind": "PrEP follow-up",
                                                      "preferred": ["2031-01-02T10:00:00Z"]}).id,
        queue_mutation(vault, "appointment.confirm", {"appointment_id": clinic.appointment_id}).id,
        queue_mutation(vault, "prep.done", {"prep_id": clinic.prep_id}).id,
        queue_mutation(vault, "result.ack", {"result_id": clinic.result_id}).id,
        queue_mutation(vault, "bill.plan_request", {"bill_id": clinic.bill_id, "installments": 3}).id,
        queue_mutation(vault, "checkin.submit", {"appointment_id": clinic.appointment_id, "phone": "555-0100",
                                                 "insurance": {"payer": "Acme", "member_id": "M1"}}).id,
    ]
    return ids


def test_first_sync_brings_the_patients_records_and_a_no_op_is_one_request(
        clinic: Clinic, device: tuple[Vault, httpx.Client]) -> None:
    vault, client = device
    report = synchronize(vault, client)
    assert report.pull.changes >= 6 and report.push.sent == 0
    assert vault.appointments.get(clinic.appointment_id) is not None
    assert vault.results.get(clinic.result_id) is not None
    assert vault.profile.get() is not None and vault.profile.get().id == clinic.patient_id  # type: ignore[union-attr]
    writes = vault.file_writes
    again = synchronize(vault, client)
    assert again.requests == 1 and not again.changed
    assert vault.file_writes == writes  # a sync that changed nothing writes nothing
    status = read_status(vault)
    assert status.state == "idle" and status.last_sync is not None and status.pending == 0


def test_every_command_shows_at_once_and_reaches_the_clinic_exactly_once(
        clinic: Clinic, device: tuple[Vault, httpx.Client]) -> None:
    vault, client = device
    synchronize(vault, client)
    ids = _queue_everything(vault, clinic)
    # optimistic effects, before any network
    appt = vault.appointments.get(clinic.appointment_id)
    assert isinstance(appt, Appointment) and appt.status == "checked_in"
    assert vault.prep.get(clinic.prep_id).done_at is not None  # type: ignore[union-attr]
    assert vault.results.get(clinic.result_id).acknowledged_at is not None  # type: ignore[union-attr]
    assert vault.bills.get(clinic.bill_id).payment_plan.status == "requested"  # type: ignore[union-attr]
    assert vault.messages.get(clinic.message_id).read_at is not None  # type: ignore[union-attr]
    assert vault.profile.get().phone == "555-0100"  # type: ignore[union-attr]
    assert [m for m in vault.messages.all() if m.id.startswith("local-")]
    assert read_status(vault).pending == len(ids)

    report = synchronize(vault, client)
    assert report.push.applied == len(ids) and report.push.rejected == 0
    assert vault.outbox.all() == []
    synchronize(vault, client)  # the same again: nothing is sent twice
    inbox = Counter(clinic.inbox_mutations())
    by_type = dict(zip(ALL_COMMANDS, ids, strict=True))
    for kind in ("message.send", "appointment.request", "bill.plan_request", "checkin.submit"):
        assert inbox[by_type[kind]] == 1, kind  # the commands that reach staff: each exactly once
    # the server's versions replaced the optimistic ones
    assert vault.prep.get(clinic.prep_id).done_at is not None  # type: ignore[union-attr]
    assert not vault.meta.keys("sync.base.")


def test_the_echo_of_our_message_replaces_the_local_copy(clinic: Clinic,
                                                          device: tuple[Vault, httpx.Client]) -> None:
    vault, client = device
    entry = queue_mutation(vault, "message.send", {"body": "Hello from the bus"})
    assert vault.messages.get(f"local-{entry.id}") is not None
    synchronize(vault, client)
    mine = [m for m in vault.messages.all() if m.client_id == entry.id]
    assert len(mine) == 1 and not mine[0].id.startswith("local-") and mine[0].author == "patient"
    assert not [m for m in vault.messages.all() if m.id.startswith("local-")]


def test_a_pulled_record_never_overwrites_a_pending_change(clinic: Clinic,
                                                           device: tuple[Vault, httpx.Client]) -> None:
    vault, client = device
    synchronize(vault, client)
    queue_mutation(vault, "appointment.confirm", {"appointment_id": clinic.appointment_id})
    new_start = "2031-05-06T07:30:00Z"
    clinic.staff.reschedule(clinic.appointment_id, new_start)
    _, token = vault.meta.get("sync.server_url"), vault.meta.get("sync.token")
    pull_changes(vault, client, token, policy=RetryPolicy.once())  # a pull while the command is pending
    appt = vault.appointments.get(clinic.appointment_id)
    assert isinstance(appt, Appointment)
    assert appt.status == "confirmed"  # our pending change kept …
    assert appt.start.isoformat().startswith("2031-05-06T07:30")  # … on top of the server's new version
    synchronize(vault, client)
    appt = vault.appointments.get(clinic.appointment_id)
    assert isinstance(appt, Appointment) and appt.status == "confirmed" and appt.start.year == 2031


def test_a_rejected_command_is_kept_with_its_reason_undone_and_never_resent(
        clinic: Clinic, device: tuple[Vault, httpx.Client]) -> None:
    vault, client = device
    queue_mutation(vault, "appointment.request", {"kind": "Counselling", "preferred": ["2031-02-03T09:00:00Z"]})
    synchronize(vault, client)
    requested = [a for a in vault.appointments.all() if a.status == "requested"]
    assert len(requested) == 1
    entry = queue_mutation(vault, "appointment.confirm", {"appointment_id": requested[0].id})
    # the visit rules (companion.core.care_rules) refuse it on the device too: no optimistic effect
    assert vault.appointments.get(requested[0].id).status == "requested"  # type: ignore[union-attr]
    confirm = queue_mutation(vault, "appointment.confirm", {"appointment_id": clinic.appointment_id})
    assert vault.appointments.get(clinic.appointment_id).status == "confirmed"  # type: ignore[union-attr]
    clinic.staff.cancel_appointment(clinic.appointment_id, "clinic closed")  # meanwhile, at the desk
    report = synchronize(vault, client)
    assert report.push.rejected == 2
    stored = vault.outbox.get(entry.id)
    assert stored is not None and stored.state == "rejected" and "not scheduled" in (stored.last_error or "")
    assert vault.appointments.get(requested[0].id).status == "requested"  # type: ignore[union-attr]
    undone = vault.outbox.get(confirm.id)
    assert undone is not None and undone.state == "rejected" and "cancelled" in (undone.last_error or "")
    assert vault.appointments.get(clinic.appointment_id).status == "cancelled"  # type: ignore[union-attr]
    assert read_status(vault).rejected == 2 and read_status(vault).pending == 0
    again = synchronize(vault, client)
    assert again.push.sent == 0 and again.requests == 1  # never sent again
    assert discard_rejected(vault, entry.id) and discard_rejected(vault, confirm.id) and vault.outbox.all() == []


def test_offline_then_online_every_action_arrives_exactly_once(server_factory: object, tmp_path: Path) -> None:
    server = server_factory()  # type: ignore[operator]
    clinic = Clinic(server)
    vault = clinic.pair(tmp_path / "vault")
    with client_for_vault(vault) as client:
        synchronize(vault, client)
        server.stop()
        ids = [queue_mutation(vault, "message.send", {"body": f"offline note {i}"}).id for i in range(25)]
        ids += _queue_everything(vault, clinic)
        with pytest.raises(ServerUnreachable) as info:  # it gives up (the retry policy's deadline)
            synchronize(vault, client)
        assert "\n" not in str(info.value)
        assert [e.id for e in vault.outbox.all()] == ids  # nothing lost, order kept
        assert read_status(vault).state == "offline" and read_status(vault).pending == len(ids)
        server.start()
        report = synchronize(vault, client)
        assert report.push.applied == len(ids) and vault.outbox.all() == []
    inbox = Counter(clinic.inbox_mutations())
    sent = set(ids[:25]) | {ids[25]}
    assert sent <= set(inbox) and all(inbox[i] == 1 for i in sent)
    mine = [m for m in vault.messages.all() if m.author == "patient"]
    assert sorted(m.client_id or "" for m in mine) == sorted(sent)
    assert read_status(vault).state == "idle"
    vault.close()


def test_revocation_removes_the_token_and_the_clinics_records(clinic: Clinic,
                                                               device: tuple[Vault, httpx.Client]) -> None:
    vault, client = device
    synchronize(vault, client)
    entry = queue_mutation(vault, "message.send", {"body": "queued before revocation"})
    clinic.staff.revoke_device(vault.meta.get("sync.device_id"))
    with pytest.raises(DeviceRevoked, match="revoked") as info:
        synchronize(vault, client)
    assert "\n" not in str(info.value)
    assert vault.meta.keys("sync.") == []
    assert all(vault.repo(k).count() == 0 for k in ("appointment", "prep", "bill", "result", "message", "profile"))
    stored = vault.outbox.get(entry.id)
    assert stored is not None and stored.state == "rejected"  # kept for the patient, never sent elsewhere
    status = read_status(vault)
    assert status.state == "revoked" and not status.paired and "revoked" in (status.last_error or "")
    with pytest.raises(NotPaired):
        synchronize(vault, client)


def test_an_old_app_is_told_to_update(clinic: Clinic, device: tuple[Vault, httpx.Client]) -> None:
    vault, _ = device
    old = build_client(vault.meta.get("sync.server_url"))
    old.headers["Companion-Protocol"] = "0"
    with old, pytest.raises(UpgradeRequired, match="update the app"):
        synchronize(vault, old)
    assert read_status(vault).state == "error"


def _foreign_cursor(seq: int) -> str:
    return base64.urlsafe_b64encode(f"another-database.{seq}".encode()).decode().rstrip("=")


def test_an_expired_cursor_resyncs_from_scratch_without_losing_the_outbox(
        clinic: Clinic, device: tuple[Vault, httpx.Client]) -> None:
    vault, client = device
    synchronize(vault, client)
    server_view = vault_snapshot(vault, meta_prefixes=())
    ghost = vault.appointments.get(clinic.appointment_id)
    assert ghost is not None
    from dataclasses import replace
    vault.appointments.upsert(replace(ghost, id="apt_gone_from_server"))
    entry = queue_mutation(vault, "message.send", {"body": "sent across a resync"})
    vault.meta.set("sync.cursor", _foreign_cursor(5))
    report = synchronize(vault, client)
    assert report.pull.resynced and report.pull.removed >= 1
    assert vault.appointments.get("apt_gone_from_server") is None
    assert vault.outbox.all() == [] and [m for m in vault.messages.all() if m.client_id == entry.id]
    after = vault_snapshot(vault, meta_prefixes=())
    for kind in ("appointment", "prep", "bill", "result", "profile"):
        assert after[kind].keys() == server_view[kind].keys()
    assert vault.meta.get("sync.resync") is None
    assert synchronize(vault, client).requests == 1


def test_a_second_concurrent_sync_is_refused(clinic: Clinic, device: tuple[Vault, httpx.Client]) -> None:
    vault, _ = device
    proxy = FaultProxy(("127.0.0.1", clinic.server.port), delay_s=1.5).start()
    proxy.set_faults(delay=1.0)
    try:
        with build_client(proxy.url) as slow:
            first: list[object] = []
            thread = threading.Thread(target=lambda: first.append(synchronize(vault, slow)))
            thread.start()
            assert wait_until(lambda: proxy.stats["requests"] > 0, 5, step=0.01)  # the first is in flight
            with pytest.raises(SyncInProgress, match="concurrent"):
                synchronize(vault, slow)
            thread.join(20)
            assert first and not isinstance(first[0], Exception)
    finally:
        proxy.stop()
    with sync_lock(vault):  # released after the first sync finished
        pass


def test_an_unpaired_vault_says_so(tmp_path: Path) -> None:
    with new_vault(tmp_path / "v") as vault, httpx.Client() as client, pytest.raises(NotPaired, match="pair"):
        synchronize(vault, client)


def test_status_is_not_rewritten_by_repeated_identical_failures(tmp_path: Path) -> None:
    with new_vault(tmp_path / "v") as vault:
        fake_pairing(vault, "http://127.0.0.1:9")  # nothing listens on port 9
        with build_client("http://127.0.0.1:9") as client:
            for _ in range(3):
                with pytest.raises(ServerUnreachable):
                    synchronize(vault, client, policy=RetryPolicy.once())
            writes = vault.file_writes
            with pytest.raises(ServerUnreachable):
                synchronize(vault, client, policy=RetryPolicy.once())
            assert vault.file_writes == writes
        assert read_status(vault).state == "offline"
