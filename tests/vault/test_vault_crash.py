"""``kill -9`` at random moments never leaves an unreadable vault or a state older than one write.

A forked worker (``tests/support/crash_writer.py``) writes bursts — single upserts,
single meta sets, batches of up to 40 records — and reports every committed
write after it returned; it is SIGKILLed 0–30 ms after it is ready. The journal
is compacted in the background every few writes, so kills land in appends and
in compactions. The vault must then open, hold the last reported write or the
one in flight, never need a recovery (a torn last frame is dropped silently:
it was never acknowledged), show every batch as all-or-nothing, and its
previous generation (without the current base) must hold the same state.

Trial counts: ``COMPANION_CRASH_TRIALS`` (default 50) and
``COMPANION_CRASH_PASSCODE_TRIALS`` (default 20); ``bench/vault.py`` runs 1,000.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.support.crash_writer import run_trials

pytestmark = pytest.mark.slow

WRITE_TRIALS = int(os.environ.get("COMPANION_CRASH_TRIALS", "50"))
PASSCODE_TRIALS = int(os.environ.get("COMPANION_CRASH_PASSCODE_TRIALS", "20"))


def test_kill_during_writes_never_loses_more_than_the_write_in_flight(tmp_path: Path) -> None:
    report = run_trials(tmp_path / "vault", "writes", WRITE_TRIALS, seed=20260302)
    assert report.problems == [], report
    assert report.trials == WRITE_TRIALS and report.unreadable == 0
    # The kills must have landed among writes, not only before the first one.
    assert report.writes_seen > WRITE_TRIALS, report
    assert report.compactions > 0 and report.killed_mid_compaction > 0, report


def test_kill_during_passcode_change_leaves_old_or_new_passcode_working(tmp_path: Path) -> None:
    report = run_trials(tmp_path / "vault", "passcode", PASSCODE_TRIALS, seed=4242)
    assert report.problems == [], report
    assert report.trials == PASSCODE_TRIALS and report.unreadable == 0
