"""The live row of ``bench/sync.py``: a PSR's message through the staff API, from a process of its own,
until it is committed in a watching client's vault; and where each trial's time went (:data:`PARTS`).

A trial's parts add up to its total: the server's ``Server-Timing`` on the PSR's own answer (routing
until the write, the writers' lock, the statements, the commit) and on the woken long poll (wake-up
from the commit, the rows handed over or the re-read, the render), the client's stamps
(``LiveSync.last_timing``), and, first, what is left: the PSR's own client and its request's trip
in, plus the page's trip back to the watching client.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from pathlib import Path

from companion.sync.client import LiveHooks, LiveSync, build_client
from companion.sync.engine import SyncReport
from companion.sync.pull import server_timing
from companion.vault import Vault
from tests.support.server_harness import ServerProcess

__all__ = ["ASIDE", "PARTS", "live_latency"]

REPO = Path(__file__).resolve().parents[1]


class _Watcher(LiveHooks):
    """Tells the bench when the live loop has applied something (no polling of the vault, which would
    take the GIL from the loop it measures)."""

    def __init__(self) -> None:
        self.applied = threading.Event()

    def synced(self, report: SyncReport) -> None:
        self.applied.set()


PARTS = (("staff", "staff request: the PSR's client, its trip in, and the page's trip back"),
         ("route", "staff request: routing, body, dependencies, to a worker thread (server)"),
         ("lock", "staff request: writers' lock, connection, BEGIN (server)"),
         ("write", "staff request: token check, statements, audit, hand-off (server)"),
         ("commit", "staff request: commit with its fsync (server)"),
         ("wake", "wake-up: commit -> the waiting pull runs (server)"),
         ("hand", "page: the rows the commit handed over (server)"),
         ("pool", "page: to and from a worker thread (server)"),
         ("read", "page: re-read of the feed (server)"), ("render", "page: JSON render (server)"),
         ("decode", "decode + validate (client)"), ("handover", "decoded -> the vault write starts (client)"),
         ("vault", "vault commit: apply + sealed frame + fsync (client)"))
ASIDE = (("answer", "(not in the sum) the PSR's own request, sent until its answer is in"),)


def _parts(t0: float, answered: float, timing: dict[str, float], staff_timing: str = "") -> dict[str, float]:
    """One trial's milliseconds by part (PARTS add up to the trial's total; ASIDE beside them).
    ``staff_timing``: the ``Server-Timing`` of the PSR's own answer (its write, from the server)."""
    ms = 1000.0
    server = {k: timing.get(f"server.{k}", 0.0) for k in ("wake", "hand", "pool", "read", "render")}
    written = server_timing(staff_timing)
    staff = {k: written.get(f"server.{k}", 0.0) for k in ("route", "lock", "write", "commit")}
    out = {"staff": (timing["received"] - t0) * ms - sum(server.values()) - sum(staff.values()), **staff, **server,
           "decode": (timing["decoded"] - timing["received"]) * ms,
           "handover": (timing["picked"] - timing["decoded"]) * ms,
           "vault": (timing["applied"] - timing["picked"]) * ms, "answer": (answered - t0) * ms}
    return out


PSR_LOOP = """
import json, sys, time
sys.path.insert(0, sys.argv[1])
import httpx
from companion.clinic.staff_api.client import StaffClient
from companion.clinic.staff_api.http11 import Http11Transport


class Timed(httpx.BaseTransport):  # the staff client's own transport, keeping the answer's Server-Timing
    def __init__(self):
        self.inner, self.last = Http11Transport(), ""

    def handle_request(self, request):
        response = self.inner.handle_request(request)
        self.last = response.headers.get("server-timing", "")
        return response

    def close(self):
        self.inner.close()


wire = Timed()
with StaffClient(sys.argv[2], sys.argv[3], user_agent="bench-psr", transport=wire) as psr:
    for line in sys.stdin:
        patient_id, body = json.loads(line)
        t0 = time.perf_counter()
        sent = psr.send_message(patient_id, body)
        print(json.dumps([sent["id"], t0, time.perf_counter(), wire.last]), flush=True)
"""


class _Psr:
    """The PSR at the front desk: its own process, as it is another computer than the patient's phone
    (in one process the two would share one GIL). Its stamps compare with ours: ``perf_counter`` is
    the machine's monotonic clock, the same in every process."""

    def __init__(self, server: ServerProcess) -> None:
        self.proc = subprocess.Popen([sys.executable, "-c", PSR_LOOP, str(REPO), server.base_url,
                                      server.tokens["psr"]], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)

    def send(self, patient_id: str, body: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps([patient_id, body]) + "\n")
        self.proc.stdin.flush()

    def answer(self) -> tuple[str, float, float, str]:
        """The message's id, when the PSR's request went out, when its answer was in, its Server-Timing."""
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError("the PSR process ended")
        mid, sent, answered, timing = json.loads(line)
        return str(mid), float(sent), float(answered), str(timing)

    def close(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        self.proc.wait(30)


def live_latency(server: ServerProcess, patient_id: str, vault: Vault,
                  trials: int) -> tuple[list[float], list[dict[str, float]]]:
    """Each trial: a PSR's message through the staff API (from the PSR's own process), until it is
    committed in the watching client's vault (the live loop's ``applied`` stamp, taken as the vault
    write returns), as the peer stamps the change's arrival in its local db. The PSR's own answer may
    come back before or after that: it is timed beside (``answer``), not waited for."""
    watcher = _Watcher()
    psr = _Psr(server)
    with build_client(server.base_url) as client:
        live = LiveSync(vault, client, hooks=watcher, wait=25)
        live.start()
        try:
            psr.send(patient_id, "warm-up: the PSR's connection is open")
            psr.answer()
            time.sleep(0.5)
            out, parts = [], []
            for i in range(trials):
                watcher.applied.clear()
                psr.send(patient_id, f"live trial {i}: your appointment is confirmed")
                watcher.applied.wait(10.0)  # the GIL stays with the live loop while it applies
                mid, t0, answered, written = psr.answer()
                deadline = time.perf_counter() + 10.0
                while vault.messages.get(mid) is None and time.perf_counter() < deadline:
                    watcher.applied.wait(0.05)
                    watcher.applied.clear()
                assert vault.messages.get(mid) is not None, f"live trial {i}: the message never arrived"
                timing = live.last_timing
                if timing.get("applied", 0.0) >= t0 and "received" in timing:
                    out.append((timing["applied"] - t0) * 1000)
                    parts.append(_parts(t0, answered, timing, written))
                else:  # it came by a full sync, not the long poll: when the bench saw it
                    out.append((time.perf_counter() - t0) * 1000)
                time.sleep(0.05)
            return out, parts
        finally:
            live.stop()
            psr.close()
