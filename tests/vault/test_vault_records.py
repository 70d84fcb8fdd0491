"""Records and meta through the vault: round trips across close/reopen, validation, repos, meta."""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from companion.core.errors import RecordError, VaultError
from companion.core.models import Appointment, Message, OutboxEntry, Profile
from companion.vault import Repo, SingletonRepo, Vault
from tests.fixtures.vault import T0, VAULT_PASSCODE, sample_records


def _reopen(vault: Vault) -> Vault:
    vault.close()
    return Vault.open(vault.folder, VAULT_PASSCODE)


def test_every_kind_round_trips_through_close_and_reopen(new_vault: Vault) -> None:
    records = sample_records("round trip")
    for kind, record in records.items():
        new_vault.repo(kind).upsert(record)
    with _reopen(new_vault) as vault:
        assert vault.profile.get() == records["profile"]
        for kind, record in records.items():
            repo = vault.repo(kind)
            assert repo.get(record.id) == record
            assert repo.all() == [record]
            assert repo.count() == 1


def test_typed_attributes_match_repo_by_kind(new_vault: Vault) -> None:
    attributes = {"profile": new_vault.profile, "appointment": new_vault.appointments, "prep": new_vault.prep,
                  "bill": new_vault.bills, "result": new_vault.results, "message": new_vault.messages,
                  "article": new_vault.articles, "outbox": new_vault.outbox}
    for kind, repo in attributes.items():
        assert new_vault.repo(kind) is repo
        assert isinstance(repo, SingletonRepo if kind == "profile" else Repo)
    with pytest.raises(RecordError, match="unknown record kind"):
        new_vault.repo("diagnosis")


def test_times_are_stored_in_utc_and_read_back_equal(new_vault: Vault) -> None:
    local = datetime.fromisoformat("2026-03-02T11:30:00+02:00")
    new_vault.appointments.upsert(Appointment(id="a", start=local, minutes=15, visit_kind="visit"))
    with _reopen(new_vault) as vault:
        stored = vault.appointments.get("a")
        assert stored is not None and stored.start == local and stored.start.utcoffset() == timedelta(0)


def test_a_record_that_could_not_be_read_back_is_refused_naming_the_field(new_vault: Vault) -> None:
    bad = Appointment(id="a", start=T0, minutes=0, visit_kind="visit")  # bypasses from_dict
    with pytest.raises(RecordError) as caught:
        new_vault.appointments.upsert(bad)
    assert caught.value.field == "appointment.minutes"
    with pytest.raises(RecordError):
        new_vault.messages.upsert(Message(id="m", thread="t", author="clinic", body="", sent_at=T0))
    with pytest.raises(RecordError):  # a naive time cannot be stored as UTC
        new_vault.appointments.upsert(replace(bad, minutes=5, start=datetime(2026, 1, 1)))
    with pytest.raises(RecordError, match="expected a Message"):
        new_vault.messages.upsert(sample_records()["appointment"])  # type: ignore[arg-type]
    entry: OutboxEntry = sample_records()["outbox"]  # type: ignore[assignment]
    with pytest.raises(RecordError) as caught:
        new_vault.outbox.upsert(replace(entry, payload={"when": T0}))
    assert caught.value.field == "outbox"
    assert new_vault.file_writes == 0 and new_vault.appointments.count() == 0


def test_upsert_many_validates_everything_before_changing_anything(new_vault: Vault) -> None:
    good = Message(id="m1", thread="t", author="clinic", body="hi", sent_at=T0)
    with pytest.raises(RecordError):
        new_vault.messages.upsert_many([good, replace(good, id="m2", author="robot")])
    assert new_vault.messages.all() == [] and new_vault.file_writes == 0
    new_vault.messages.upsert_many([good, replace(good, id="m2"), replace(good, body="again")])
    assert new_vault.file_writes == 1
    assert [m.body for m in new_vault.messages.all()] == ["again", "hi"]


def test_decoded_records_are_stored_as_upsert_many_would_store_them(new_vault: Vault, tmp_path: Path) -> None:
    """The pull's path (records from_dict has just made, not validated again) stores the same bytes."""
    other = Vault.create(tmp_path / "other", VAULT_PASSCODE)
    records = {kind: r for kind, r in sample_records("decoded").items() if kind not in ("profile", "outbox")}
    for kind, record in records.items():
        decoded = type(record).from_dict(record.to_dict())
        repo, twin = new_vault.repo(kind), other.repo(kind)
        assert isinstance(repo, Repo) and isinstance(twin, Repo)
        repo.upsert_decoded([decoded])
        twin.upsert_many([decoded])
    assert new_vault._storage.read() == other._storage.read()
    other.close()
    with pytest.raises(RecordError, match="expected a Message"):
        new_vault.messages.upsert_decoded([records["appointment"]])  # type: ignore[list-item]
    with _reopen(new_vault) as vault:
        for kind, record in records.items():
            assert vault.repo(kind).all() == [record]


def test_outbox_keeps_insertion_order_across_updates_and_reopen(new_vault: Vault) -> None:
    base: OutboxEntry = sample_records()["outbox"]  # type: ignore[assignment]
    ids = ["c", "a", "d", "b"]
    for i in ids:
        new_vault.outbox.upsert(replace(base, id=i))
    new_vault.outbox.upsert(replace(base, id="a", attempts=5))  # an update keeps its place
    new_vault.outbox.delete("d")
    new_vault.outbox.upsert(replace(base, id="d"))  # re-added: goes last
    with _reopen(new_vault) as vault:
        assert [e.id for e in vault.outbox.all()] == ["c", "a", "b", "d"]
        entry = vault.outbox.get("a")
        assert entry is not None and entry.attempts == 5


def test_delete_clear_count_and_no_op_writes(new_vault: Vault) -> None:
    msg = Message(id="m1", thread="t", author="clinic", body="hi", sent_at=T0)
    new_vault.messages.upsert_many([msg, replace(msg, id="m2")])
    writes = new_vault.file_writes
    assert new_vault.messages.delete("nope") is False
    new_vault.articles.clear()  # already empty
    new_vault.messages.upsert_many([])
    assert new_vault.file_writes == writes
    assert new_vault.messages.delete("m1") is True and new_vault.messages.get("m1") is None
    assert new_vault.messages.count() == 1
    new_vault.messages.clear()
    assert new_vault.messages.count() == 0 and new_vault.messages.all() == []
    assert new_vault.file_writes == writes + 2


def test_delete_many_is_one_write_and_counts_what_was_there(new_vault: Vault) -> None:
    msg = Message(id="m1", thread="t", author="clinic", body="hi", sent_at=T0)
    new_vault.messages.upsert_many([replace(msg, id=f"m{n}") for n in range(1, 6)])
    writes = new_vault.file_writes
    assert new_vault.messages.delete_many(["nope", "nada"]) == 0
    assert new_vault.messages.delete_many([]) == 0
    assert new_vault.file_writes == writes  # nothing there: no write
    assert new_vault.messages.delete_many(["m2", "nope", "m4", "m2"]) == 2
    assert new_vault.file_writes == writes + 1
    assert [m.id for m in new_vault.messages.all()] == ["m1", "m3", "m5"]
    with _reopen(new_vault) as vault:
        assert [m.id for m in vault.messages.all()] == ["m1", "m3", "m5"]


def test_profile_is_a_singleton(new_vault: Vault) -> None:
    profile: Profile = sample_records()["profile"]  # type: ignore[assignment]
    assert new_vault.profile.get() is None and new_vault.profile.all() == []
    new_vault.profile.set(profile)
    new_vault.profile.upsert(replace(profile, id="pat_2", name="Sam"))
    assert new_vault.profile.count() == 1
    assert new_vault.profile.get("pat_1") is None
    assert new_vault.profile.delete("pat_1") is False
    with _reopen(new_vault) as vault:
        stored = vault.profile.get()
        assert stored is not None and stored.name == "Sam" and vault.profile.get("pat_2") == stored
        assert vault.profile.delete("pat_2") is True
        assert vault.profile.get() is None
        vault.profile.set(profile)
        vault.profile.clear()
        assert vault.profile.get() is None


META_VALUES: list[Any] = [
    "https://clinic.example", 0, -7, 2**53, 3.25, True, False, None, [], {},
    ["r1", "r2"], {"quiet": {"from": "22:00", "to": "07:00"}, "discreet": True}, "ünïcødé ✓",
]


def test_meta_values_round_trip(new_vault: Vault) -> None:
    for i, value in enumerate(META_VALUES):
        new_vault.meta.set(f"k{i}", value)
    new_vault.meta.set("tuple", (1, 2))
    with _reopen(new_vault) as vault:
        for i, value in enumerate(META_VALUES):
            got = vault.meta.get(f"k{i}", "missing")
            assert got == value and type(got) is type(value)
        assert vault.meta.get("tuple") == [1, 2]
        assert vault.meta.get("absent") is None and vault.meta.get("absent", 5) == 5
        assert vault.meta.delete("k0") is True and vault.meta.delete("k0") is False
        assert "k0" not in vault.meta and "k1" in vault.meta and vault.meta.keys("k1") == ["k1", "k10", "k11", "k12"]


def test_meta_returns_private_copies_and_skips_unchanged_writes(new_vault: Vault) -> None:
    new_vault.meta.set("delivered", ["r1"])
    got = new_vault.meta.get("delivered")
    got.append("r2")
    assert new_vault.meta.get("delivered") == ["r1"]
    writes = new_vault.file_writes
    new_vault.meta.set("delivered", ["r1"])
    assert new_vault.file_writes == writes
    new_vault.meta.set("n", 1)
    new_vault.meta.set("n", True)  # equal in Python, not the same JSON
    assert new_vault.meta.get("n") is True


@pytest.mark.parametrize(("key", "value", "field"), [
    ("", 1, "meta.key"), ("x" * 201, 1, "meta.key"), ("when", T0, "meta.when"),
    ("nan", math.nan, "meta.nan"), ("set", {1, 2}, "meta.set"),
])
def test_meta_refuses_what_it_cannot_store(new_vault: Vault, key: str, value: Any, field: str) -> None:
    with pytest.raises(RecordError) as caught:
        new_vault.meta.set(key, value)
    assert caught.value.field == field
    assert new_vault.file_writes == 0


def test_clear_clinic_data_keeps_outbox_and_local_settings_in_one_write(new_vault: Vault) -> None:
    for kind, record in sample_records().items():
        new_vault.repo(kind).upsert(record)
    new_vault.meta.set("sync.token", "secret")
    new_vault.meta.set("sync.cursor", "c1")
    new_vault.meta.set("settings.discreet", True)
    writes = new_vault.file_writes
    new_vault.clear_clinic_data()
    assert new_vault.file_writes == writes + 1
    with _reopen(new_vault) as vault:
        for kind in sample_records():
            assert vault.repo(kind).count() == (1 if kind == "outbox" else 0), kind
        assert vault.meta.keys() == ["settings.discreet"]


def test_a_closed_vault_refuses_everything(new_vault: Vault, vault_folder: Path) -> None:
    new_vault.close()
    new_vault.close()  # idempotent
    for call in (lambda: new_vault.messages.all(), lambda: new_vault.messages.get("x"),
                 lambda: new_vault.meta.get("x"), lambda: new_vault.meta.set("x", 1),
                 lambda: new_vault.profile.get(), lambda: new_vault.messages.count(),
                 lambda: new_vault.change_passcode(VAULT_PASSCODE, "another good one")):
        with pytest.raises(VaultError, match="closed"):
            call()
    with pytest.raises(VaultError, match="closed"), new_vault.batch():
        pass
    with Vault.open(vault_folder, VAULT_PASSCODE):  # the lock was released
        pass
