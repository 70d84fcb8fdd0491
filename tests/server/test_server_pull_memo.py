"""The no-op pull's memory (:mod:`companion.clinic.server.pull_memo`) with the real wake-up hub:
what a commit to the patient's scope (a revocation marks it) or to every patient makes stale.
The HTTP side is tests/server/test_server_longpoll_memo.py."""

from __future__ import annotations

import time
from datetime import timedelta

from companion.clinic.server.auth import LAST_SEEN_EVERY
from companion.clinic.server.principals import DevicePrincipal
from companion.clinic.server.pull_memo import LAST_SEEN_SPREAD, REMEMBER_FOR, KnownDevice, PullMemo
from companion.clinic.server.schema import CLINIC_SCOPE
from companion.clinic.server.tokens import hash_secret
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
    seen = utcnow() - LAST_SEEN_EVERY * (1 + LAST_SEEN_SPREAD) - timedelta(seconds=1)  # past every device's share
    stale.memo.remember_device("hash", KnownDevice(PHONE, seen, None, stale.scope_versions("pat_1"), time.monotonic()))
    assert _device(stale) is None


class FakeClock:
    """A monotonic clock the test moves by hand (the memo's ``clock``)."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


FLEET = [hash_secret(f"device-token-{i}") for i in range(200)]  # token hashes, as the server keys them


def _fleet_memo(clock: FakeClock, last_seen_age: timedelta = timedelta(0)) -> tuple[WakeupHub, PullMemo]:
    """200 devices all read at one moment (a server restart), each of its own patient."""
    hub = WakeupHub()
    memo = PullMemo(clock)
    seen = utcnow() - last_seen_age
    for i, token_hash in enumerate(FLEET):
        device = DevicePrincipal(id=f"dev_{i}", patient_id=f"pat_{i}", name="Phone", vault_generation=1)
        memo.remember_device(token_hash, KnownDevice(device, seen, None, hub.scope_versions(device.patient_id),
                                                     memo.now()))
    return hub, memo


def _remembered(hub: WakeupHub, memo: PullMemo) -> int:
    now = utcnow()
    return sum(memo.device(h, hub.scope_versions, now, LAST_SEEN_EVERY, generation=None, language=None) is not None
               for h in FLEET)


def test_devices_read_at_one_moment_are_not_all_read_again_at_one_moment() -> None:
    clock = FakeClock()
    hub, memo = _fleet_memo(clock)
    counts = []
    for fraction in (0.49, 0.625, 0.75, 0.875, 1.01):
        clock.now = 1000.0 + REMEMBER_FOR * fraction
        counts.append(_remembered(hub, memo))
    assert counts[0] == len(FLEET) and counts[-1] == 0  # none before half of REMEMBER_FOR, all by its end
    assert counts[0] > counts[1] > counts[2] > counts[3] > counts[4]  # in between, a share at a time
    assert len(FLEET) / 4 < counts[2] < len(FLEET) * 3 / 4


def test_last_seen_falls_due_for_each_device_at_its_own_time() -> None:
    clock = FakeClock()
    counts = [_remembered(*_fleet_memo(clock, LAST_SEEN_EVERY * (1 + LAST_SEEN_SPREAD * fraction)))
              for fraction in (-0.01, 0.25, 0.5, 0.75, 1.01)]
    assert counts[0] == len(FLEET) and counts[-1] == 0  # never before LAST_SEEN_EVERY, all by the spread's end
    assert counts[0] > counts[1] > counts[2] > counts[3] > counts[4]
    assert len(FLEET) / 4 < counts[2] < len(FLEET) * 3 / 4
