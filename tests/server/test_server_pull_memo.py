"""The no-op pull's memory (:mod:`companion.clinic.server.pull_memo`) with the real wake-up hub:
what a commit to the patient's scope (a revocation marks it) or to every patient makes stale.
The HTTP side is tests/server/test_server_longpoll_memo.py."""

from __future__ import annotations

import time
from datetime import timedelta

from companion.clinic.server.auth import LAST_SEEN_EVERY
from companion.clinic.server.principals import DevicePrincipal
from companion.clinic.server.pull_memo import KnownDevice
from companion.clinic.server.schema import CLINIC_SCOPE
from companion.clinic.server.wakeups import WakeupHub
from companion.core.fields import utcnow

PHONE = DevicePrincipal(id="dev_1", patient_id="pat_1", name="Phone", vault_generation=3)


def _hub_remembering(language: str | None = "en") -> WakeupHub:
    hub = WakeupHub()
    version = hub.version()
    versions = hub.versions_since("pat_1", version)
    assert versions is not None
    hub.memo.remember_device("hash", KnownDevice(PHONE, utcnow(), language, versions, time.monotonic()))
    hub.memo.remember_head("pat_1", versions, 41)
    return hub


def _device(hub: WakeupHub, **reported: object) -> DevicePrincipal | None:
    args: dict[str, object] = {"generation": None, "language": None, **reported}
    return hub.memo.device("hash", hub.scope_versions, utcnow(), LAST_SEEN_EVERY, **args)  # type: ignore[arg-type]


def test_a_commit_to_the_patients_scope_forgets_the_device_and_the_head() -> None:
    hub = _hub_remembering()
    assert _device(hub) == PHONE and hub.memo.at_head("pat_1", hub.scope_versions("pat_1"), 41)
    assert not hub.memo.at_head("pat_1", hub.scope_versions("pat_1"), 40)  # another cursor: read
    hub.wake_threadsafe(["pat_2"])  # someone else's write
    assert _device(hub) == PHONE and hub.memo.at_head("pat_1", hub.scope_versions("pat_1"), 41)
    hub.wake_threadsafe(["pat_1"])  # e.g. revoke_device's commit
    assert _device(hub) is None and not hub.memo.at_head("pat_1", hub.scope_versions("pat_1"), 41)


def test_a_clinic_wide_commit_forgets_everyone() -> None:
    hub = _hub_remembering()
    hub.wake_threadsafe([CLINIC_SCOPE])
    assert _device(hub) is None and not hub.memo.at_head("pat_1", hub.scope_versions("pat_1"), 41)


def test_a_read_during_a_commit_is_not_remembered() -> None:
    hub = WakeupHub()
    version = hub.version()
    hub.wake_threadsafe(["pat_9"])  # any commit between the snapshot's start and the remembering
    assert hub.versions_since("pat_1", version) is None


def test_a_new_language_a_first_generation_or_last_seen_due_reads_the_database() -> None:
    hub = _hub_remembering(language="en")
    assert _device(hub, language="en") == PHONE
    assert _device(hub, language="es") is None
    unknown = WakeupHub()
    versions = unknown.scope_versions("pat_1")
    fresh = DevicePrincipal(id="dev_1", patient_id="pat_1", name="Phone", vault_generation=None)
    unknown.memo.remember_device("hash", KnownDevice(fresh, utcnow(), None, versions, time.monotonic()))
    assert _device(unknown) == fresh and _device(unknown, generation=1) is None
    stale = WakeupHub()
    stale.memo.remember_device("hash", KnownDevice(PHONE, utcnow() - LAST_SEEN_EVERY - timedelta(seconds=1), None,
                                                   stale.scope_versions("pat_1"), time.monotonic()))
    assert _device(stale) is None
