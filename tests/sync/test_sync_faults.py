"""A bad network never costs data: 3 devices of 2 patients through a fault-injecting proxy.

Over 1,000 commands are queued while the proxy drops connections, delays, answers
500, truncates bodies and loses answers AFTER the server applied the request, and
the server is killed (SIGKILL) and restarted several times mid-sync. One device
runs the live loop, the others sync in rounds. Then, with the network healed:

- 0 lost: every outbox is empty, nothing was rejected, and every command that
  reaches staff is in the clinic's inbox;
- 0 duplicated: each of those is in the inbox exactly once, and each message the
  patient wrote is in every vault of that patient exactly once (no ``local-`` copy left);
- every vault equals a fresh device's full pull of the server (converged), and
  no vault holds a record of the other patient.
"""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from companion.core.errors import SyncError
from companion.sync.client import LiveHooks, LiveSync, RetryPolicy, build_client, queue_mutation, synchronize
from tests.fixtures.sync import Clinic, inbox_mutations, vault_snapshot
from tests.support.fault_proxy import FaultProxy

COMMANDS_PER_DEVICE = 350
BATCH = 5
FAULTS = {"drop": 0.06, "delay": 0.1, "error500": 0.06, "truncate": 0.06, "lose": 0.08}
INBOX_TYPES = ("message.send", "appointment.request", "bill.plan_request")
POLICY = RetryPolicy(deadline=3.0, cap=0.5)


class Device:
    """One patient device: its vault, its client through the proxy, and what it queued."""

    def __init__(self, name: str, clinic: Clinic, folder: Path, proxy_url: str) -> None:
        self.name = name
        self.clinic = clinic
        self.vault = clinic.pair(folder, device_name=name)
        self.client = build_client(proxy_url)
        self.queued: list[tuple[str, str]] = []  # (type, id)
        self.failures: Counter[str] = Counter()  # syncs that failed even after their retries
        self.duplicates = 0  # commands the server had applied although we never got its answer
        self.rng = random.Random(name)

    def queue_some(self, n: int) -> None:
        c = self.clinic
        for _ in range(n):
            roll = self.rng.random()
            payload: dict[str, object]
            if roll < 0.75:
                kind, payload = "message.send", {"body": f"{self.name} note {len(self.queued)}",
                                                 "thread": self.rng.choice(["general", "billing", "results"])}
            elif roll < 0.83:
                kind, payload = "prep.done", {"prep_id": c.prep_id, "done": self.rng.random() < 0.5}
            elif roll < 0.88:
                kind, payload = "result.ack", {"result_id": c.result_id}
            elif roll < 0.93:
                kind, payload = "message.read", {"message_id": c.message_id}
            elif roll < 0.97:
                kind, payload = "appointment.request", {"kind": "Follow-up", "note": f"{self.name}"}
            else:
                kind, payload = "bill.plan_request", {"bill_id": c.bill_id, "installments": self.rng.randint(2, 12)}
            self.queued.append((kind, queue_mutation(self.vault, kind, payload).id))

    def sync(self) -> bool:
        try:
            report = synchronize(self.vault, self.client, policy=POLICY)
        except SyncError as exc:
            self.failures[type(exc).__name__] += 1
            return False
        self.duplicates += report.push.duplicate
        return True

    def close(self) -> None:
        self.client.close()
        self.vault.close()


def _rounds(device: Device, stop_live: LiveSync | None) -> None:
    while len(device.queued) < COMMANDS_PER_DEVICE:
        device.queue_some(BATCH)
        if stop_live is not None:
            stop_live.nudge()
            time.sleep(0.05)  # elapsed time meant: batches spread over the live loop's syncs (and the kills)
        else:
            device.sync()


def _chaos(server: Any, done: threading.Event, kills: list[float]) -> None:
    """Kill the server with SIGKILL now and then, mid-sync, and bring it back on the same port."""
    rng = random.Random(3)
    while not done.wait(rng.uniform(1.0, 2.5)):
        server.kill()
        kills.append(time.monotonic())
        time.sleep(rng.uniform(0.1, 0.6))  # elapsed time meant: the server stays down a while, mid-sync
        server.start()


def _psr(clinics: list[Clinic], done: threading.Event, sent: Counter[str]) -> None:
    """The clinic writes to both patients meanwhile (tolerating its own server being restarted)."""
    n = 0
    while not done.wait(0.15):
        clinic = clinics[n % 2]
        try:
            clinic.staff.send_message(clinic.patient_id, f"clinic note {n}")
            sent[clinic.patient_id] += 1
        except Exception:  # the server is being restarted: try the next one later
            pass
        n += 1


@pytest.mark.slow
def test_1000_commands_through_faults_and_server_kills(server_factory: Any, tmp_path: Path) -> None:
    server = server_factory()
    ann, bob = Clinic(server, "Ann Fault"), Clinic(server, "Bob Fault")
    proxy = FaultProxy(("127.0.0.1", server.port), seed=11, delay_s=0.15).start()
    devices = [Device("ann-phone", ann, tmp_path / "a1", proxy.url),
               Device("ann-laptop", ann, tmp_path / "a2", proxy.url),
               Device("bob-phone", bob, tmp_path / "b1", proxy.url)]
    live = LiveSync(devices[1].vault, devices[1].client, hooks=LiveHooks(), wait=5, backoff_base=0.05,
                    backoff_cap=0.5, policy=POLICY)
    done = threading.Event()
    kills: list[float] = []
    psr_sent: Counter[str] = Counter()
    try:
        for d in devices:
            assert d.sync()
        proxy.set_faults(**FAULTS)
        live.start()
        helpers = [threading.Thread(target=_chaos, args=(server, done, kills)),
                   threading.Thread(target=_psr, args=([ann, bob], done, psr_sent))]
        workers = [threading.Thread(target=_rounds, args=(d, live if d is devices[1] else None)) for d in devices]
        for t in helpers + workers:
            t.start()
        for t in workers:
            t.join(240)
        done.set()
        for t in helpers:
            t.join(30)
        live.stop(timeout=10)
        if not server.running:
            server.start()
        # the network heals: sync until every outbox is empty, then once more so all converge
        proxy.set_faults()
        for _ in range(10):
            for d in devices:
                d.sync()
            if all(not d.vault.outbox.all() for d in devices):
                break
        for d in devices:
            assert d.sync()
        _check(devices, ann, bob, server, tmp_path)
        assert sum(len(d.queued) for d in devices) >= 1000
        assert len(kills) >= 3, kills
        faults = {k: proxy.stats[k] for k in ("drop", "error500", "truncate", "lose", "delay")}
        assert all(n > 0 for n in faults.values()), faults
        assert sum(d.duplicates for d in devices) > 0  # answers were lost after the server applied: no double
    finally:
        done.set()
        live.stop()
        proxy.stop()
        for d in devices:
            d.close()


def _check(devices: list[Device], ann: Clinic, bob: Clinic, server: Any, tmp_path: Path) -> None:
    for d in devices:
        outbox = d.vault.outbox.all()
        assert outbox == [], (d.name, [(e.type, e.state, e.last_error) for e in outbox])  # 0 lost, 0 rejected
        assert not [m for m in d.vault.messages.all() if m.id.startswith("local-")], d.name
    truth: dict[str, dict[str, Any]] = {}
    for clinic, mine in ((ann, devices[:2]), (bob, devices[2:])):
        # the clinic's side: every command that reaches staff, exactly once
        inbox = Counter(inbox_mutations(server, clinic.patient_id))
        expected = [mid for d in mine for kind, mid in d.queued if kind in INBOX_TYPES]
        assert [mid for mid in expected if inbox[mid] != 1] == []
        assert set(inbox) == set(expected)  # nothing of the other patient, nothing invented
        # the server's view, through a fresh device on a clean network
        auditor = clinic.pair(tmp_path / f"auditor-{clinic.patient_id}", url=server.base_url)
        with build_client(server.base_url) as client:
            synchronize(auditor, client)
        truth[clinic.patient_id] = vault_snapshot(auditor, meta_prefixes=())
        sent_here = Counter(m.client_id for m in auditor.messages.all() if m.author == "patient")
        assert sent_here == Counter(mid for d in mine for kind, mid in d.queued if kind == "message.send")
        auditor.close()
        for d in mine:
            assert vault_snapshot(d.vault, meta_prefixes=()) == truth[clinic.patient_id], d.name
    a_ids = {rid for kind in truth[ann.patient_id].values() for rid in kind}
    b_ids = {rid for kind in truth[bob.patient_id].values() for rid in kind}
    shared = {rid for rid in a_ids & b_ids if not rid.startswith("art_")}  # articles are clinic-wide
    assert shared == set()
