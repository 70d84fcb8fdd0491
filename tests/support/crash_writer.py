"""``kill -9`` harness for the vault, shared by ``tests/test_vault_crash.py`` and ``bench/vault.py``.

Run as a script (``python tests/support/crash_writer.py serve``) it is a small fork
server: it imports the vault once, then for every ``run`` command forks a worker
process that opens the vault and writes in a loop, reporting each committed
write on stdout *after* the write returned. The parent (:class:`CrashServer`)
SIGKILLs the worker after a random delay, has it reaped, and then checks the
vault with a fresh :meth:`Vault.open`. Forking a warm process instead of starting
Python per trial keeps a trial at ~0.1 s, most of it two KDF runs.

Line protocol (every line is one ``write(2)`` < PIPE_BUF, so lines never tear)::

    parent -> server   run writes|passcode|stock FOLDER SEED PASSCODE_INDEX
    server -> parent   pid PID
    worker -> parent   ready N T          opened at monotonic time T; the vault's counter is N
    worker -> parent   ok N C             the write that set the counter to N returned; C compactions so far
    worker -> parent   pass I T           change_passcode to PASSCODES[I] returned at time T
    worker -> parent   error MESSAGE      the worker failed (a bug), exit status 3
    parent -> server   reap PID
    server -> parent   reaped PID SIGNAL  (or -EXIT_STATUS)

Writes mode mixes single upserts, single meta sets and batches of 1–40 records
(up to ~200 KB each, so the journal is compacted in the background every few
writes and kills land in appends and in compactions alike); every write sets a
counter, and a batch also records which burst records it wrote with which
counter, so the check can prove a batch is all-or-nothing. Each check also
opens the previous generation's chain (the vault without its current base):
it must hold the same state.
Stock mode runs similar upserts through stock TinyDB ``JSONStorage`` so the
benchmark can show what the vault's write path is compared with.
"""

from __future__ import annotations

import json
import os
import random
import select
import shutil
import signal
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from companion.core.errors import CompanionError, WrongPasscode
from companion.core.models import Message
from companion.vault import ScryptParams, Vault
from companion.vault.fileformat import parse_file
from companion.vault.files import BAK, MAIN
from tests.support.remembered_keys import REMEMBERED

PASSCODES = ("first crash passcode", "second crash passcode")
REPO = Path(__file__).resolve().parents[2]
_SENT = datetime(2026, 1, 1, tzinfo=UTC)


# --- the worker (runs in the forked child) -----------------------------------------


def _emit(line: str) -> None:
    os.write(1, (line + "\n").encode())


def _message(id: str, body: str) -> Message:
    return Message(id=id, thread="general", author="clinic", body=body, sent_at=_SENT)


def _state_of(document: dict[str, dict[str, Any]]) -> tuple[int, str]:
    """The counter a raw vault document holds, and '' or why its last batch is not all-or-nothing."""
    messages, meta = document.get("message", {}), document.get("meta", {})
    counter = int(messages["counter"]["body"]) if "counter" in messages else 0
    seq = int(meta["seq"]["value"]) if "seq" in meta else 0
    burst = meta.get("burst", {}).get("value")
    problem = ""
    if burst is not None:
        bodies = [messages.get(f"b{i}", {}).get("body") for i in range(burst["k"])]
        if any(body is None or not body.startswith(f"{burst['seq']}:") for body in bodies):
            problem = f"batch {burst['seq']} is only partly present: {bodies}"
    return max(counter, seq), problem


def _write_loop(vault: Vault, rng: random.Random, n: int) -> None:
    while True:
        n += 1
        choice = rng.random()
        if choice < 0.35:
            vault.messages.upsert(_message("counter", str(n)))
        elif choice < 0.5:
            vault.meta.set("seq", n)
        else:
            k = rng.randint(1, 40)
            filler = "x" * rng.choice((0, 50, 2000, 4900))
            with vault.batch():
                vault.messages.upsert_many(_message(f"b{i}", f"{n}:{filler}") for i in range(k))
                vault.meta.set("burst", {"seq": n, "k": k})
                vault.meta.set("seq", n)
                vault.messages.upsert(_message("counter", str(n)))
        _emit(f"ok {n} {vault._storage.compactor.count}")


def _passcode_loop(vault: Vault, index: int, n: int) -> None:
    while True:
        vault.change_passcode(PASSCODES[index], PASSCODES[1 - index])
        index = 1 - index
        _emit(f"pass {index} {time.monotonic()}")
        n += 1
        vault.messages.upsert(_message("counter", str(n)))
        _emit(f"ok {n}")


def _stock_loop(folder: str, seed: int) -> None:
    """The same kind of writes through stock TinyDB JSONStorage, for comparison (bench only)."""
    from tinydb import Query, TinyDB

    rng = random.Random(seed)
    table = TinyDB(Path(folder) / "stock.json").table("message")
    _emit(f"ready 0 {time.monotonic()}")
    n = 0
    while True:
        n += 1
        body = f"{n}:" + "x" * rng.choice((0, 50, 2000))
        record_id = f"b{rng.randint(0, 40)}"
        table.upsert(_message(record_id, body).to_dict(), Query().id == record_id)
        _emit(f"ok {n}")


def _worker(mode: str, folder: str, seed: int, index: int) -> None:
    if mode == "stock":
        _stock_loop(folder, seed)
    vault = Vault.open(folder, PASSCODES[index])
    counter = vault.messages.get("counter")
    n = max(int(counter.body) if counter else 0, int(vault.meta.get("seq", 0)))
    _emit(f"ready {n} {time.monotonic()}")
    if mode == "writes":
        _write_loop(vault, random.Random(seed), n)
    else:
        _passcode_loop(vault, index, n)


def serve() -> None:
    """The fork server's loop (see the module docstring)."""
    for raw in sys.stdin:
        words = raw.split()
        if words[0] == "run":
            pid = os.fork()
            if pid == 0:
                try:
                    _worker(words[1], words[2], int(words[3]), int(words[4]))
                except BaseException as error:  # report, never fall back into the server loop
                    _emit(f"error {type(error).__name__}: {error}".replace("\n", " ")[:400])
                os._exit(3)
            _emit(f"pid {pid}")
        elif words[0] == "reap":
            pid = int(words[1])
            _, status = os.waitpid(pid, 0)
            code = os.WTERMSIG(status) if os.WIFSIGNALED(status) else -os.WEXITSTATUS(status)
            _emit(f"reaped {pid} {code}")


# --- the parent side -----------------------------------------------------------------


@dataclass
class CrashReport:
    mode: str
    trials: int = 0
    unreadable: int = 0
    problems: list[str] = field(default_factory=list)
    writes_seen: int = 0  # committed writes reported by workers over all trials
    killed_mid_write: int = 0  # trials that left a temp file behind
    killed_mid_compaction: int = 0  # trials that left a new base's temp file behind
    compactions: int = 0  # compactions completed by workers over all trials
    torn_frames: int = 0  # opens that dropped a torn last frame
    split_key_slots: int = 0  # passcode mode: main and .bak wrapped for different passcodes
    seconds: float = 0.0


class CrashServer:
    """Drives the fork server; use as a context manager."""

    def __init__(self) -> None:
        env = {**os.environ, "PYTHONPATH": str(REPO)}
        self._proc = subprocess.Popen([sys.executable, str(Path(__file__).resolve()), "serve"], cwd=REPO, env=env,
                                      stdin=subprocess.PIPE, stdout=subprocess.PIPE, bufsize=0)
        self._buffer = b""

    def __enter__(self) -> CrashServer:
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._proc.stdin is not None and self._proc.stdout is not None
        self._proc.stdin.close()  # EOF ends the server loop
        try:
            self._proc.wait(timeout=10)
        finally:
            self._proc.stdout.close()

    def _send(self, line: str) -> None:
        assert self._proc.stdin is not None
        self._proc.stdin.write((line + "\n").encode())

    def _line(self, timeout: float = 30.0) -> str:
        assert self._proc.stdout is not None
        fd = self._proc.stdout.fileno()
        deadline = time.monotonic() + timeout
        while b"\n" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([fd], [], [], left)[0]:
                raise TimeoutError("the crash worker said nothing for too long")
            chunk = os.read(fd, 65536)
            if not chunk:
                raise EOFError("the crash server exited")
            self._buffer += chunk
        line, self._buffer = self._buffer.split(b"\n", 1)
        return line.decode()

    def trial(self, mode: str, folder: Path, seed: int, index: int, delay: float) -> tuple[list[str], float]:
        """Start a worker, SIGKILL it ``delay`` s after it is ready; its report lines and its ready->first-pass time.

        Times come from the worker's own stamps (CLOCK_MONOTONIC is system-wide),
        so the parent's reading latency does not blur the aim.
        """
        self._send(f"run {mode} {folder} {seed} {index}")
        pid, lines, ready_at, first_pass, failed = 0, [], 0.0, 0.0, False
        while not pid or not (ready_at or failed):
            line = self._line()
            if line.startswith("pid "):
                pid = int(line.split()[1])
            elif line.startswith("ready "):
                ready_at = float(line.split()[2])
                lines.append(line)
            elif line.startswith("error "):
                lines.append(line)
                failed = True
        if ready_at:
            # Elapsed time meant: the kill is aimed ``delay`` s after the worker's stamp, mid-write.
            time.sleep(max(0.0, ready_at + delay - time.monotonic()))
        os.kill(pid, signal.SIGKILL)  # pid > 0 here: never a process group
        self._send(f"reap {pid}")
        while True:
            line = self._line()
            if line.startswith("reaped "):
                if int(line.split()[2]) != signal.SIGKILL:
                    lines.append(f"error worker ended with {line.split()[2]}, not SIGKILL")
                return lines, first_pass
            if line.startswith("pass ") and not first_pass:
                first_pass = float(line.split()[2]) - ready_at
            lines.append(line)


def prepare(folder: Path) -> None:
    """A fresh vault for the trials, with the counter at 0."""
    with Vault.create(folder, PASSCODES[0], kdf=ScryptParams.fast()) as vault:
        vault.messages.upsert(_message("counter", "0"))


def run_trials(folder: Path, mode: str, trials: int, seed: int = 1) -> CrashReport:
    """``trials`` kill -9 trials against the vault in ``folder`` (created when missing)."""
    if not Vault.exists(folder):
        prepare(folder)
    report = CrashReport(mode)
    rng = random.Random(seed)
    started = time.monotonic()
    last, index = 0, 0
    first_pass: list[float] = []
    with CrashServer() as server:
        for trial in range(trials):
            if mode == "writes":
                delay = rng.uniform(0.0, 0.030)
            else:
                # Aim half of the kills at the file writes that end a passcode change
                # (after its two KDF runs), the rest anywhere in the first two changes.
                cycle = statistics.median(first_pass) if first_pass else 0.09
                delay = cycle - rng.uniform(0.0, 0.003) if rng.random() < 0.5 else rng.uniform(0.0, 2 * cycle)
            lines, took = server.trial(mode, folder, rng.randrange(1 << 30), index, max(0.0, delay))
            if took:
                first_pass.append(took)
            report.trials += 1
            errors = [line for line in lines if line.startswith("error ")]
            if errors:
                report.problems.append(f"trial {trial}: {errors[0]}")
                break
            oks = [int(line.split()[1]) for line in lines if line.startswith(("ok ", "ready "))]
            passes = [int(line.split()[1]) for line in lines if line.startswith("pass ")]
            report.writes_seen += len(oks) - 1
            report.compactions += max((int(line.split()[2]) for line in lines
                                       if line.startswith("ok ") and len(line.split()) > 2), default=0)
            last = oks[-1] if oks else last
            expected_index = passes[-1] if passes else index
            report.killed_mid_write += any(p.name.endswith(".tmp") for p in folder.iterdir())
            report.killed_mid_compaction += any(p.name.startswith(".vault.pcv.") and p.name.endswith(".tmp")
                                                for p in folder.iterdir())
            index, problem = _check(folder, mode, last, expected_index, report)
            if problem:
                report.problems.append(f"trial {trial}: {problem}")
                if "unreadable" in problem:
                    report.unreadable += 1
    report.seconds = time.monotonic() - started
    return report


def run_stock_trials(folder: Path, trials: int, seed: int = 1) -> CrashReport:
    """The writes-mode kill -9 run against stock TinyDB ``JSONStorage``: counts unparseable files."""
    folder.mkdir(parents=True, exist_ok=True)
    report = CrashReport("stock")
    rng = random.Random(seed)
    started = time.monotonic()
    with CrashServer() as server:
        for _ in range(trials):
            lines, _ = server.trial("stock", folder, rng.randrange(1 << 30), 0, rng.uniform(0.0, 0.030))
            report.trials += 1
            report.writes_seen += sum(line.startswith("ok ") for line in lines)
            try:
                json.loads((folder / "stock.json").read_bytes() or b"{}")
            except ValueError:
                report.unreadable += 1
                (folder / "stock.json").unlink()  # start the next trial from an empty store
    report.seconds = time.monotonic() - started
    return report


def _check(folder: Path, mode: str, last: int, index: int, report: CrashReport) -> tuple[int, str]:
    """Open the vault after a kill; returns the passcode index that worked and '' or the problem."""
    main_slot, bak_slot = (parse_file((folder / n).read_bytes()).slot for n in (MAIN, BAK))
    report.split_key_slots += main_slot != bak_slot
    for candidate in (index, 1 - index):
        try:
            vault = Vault.open(folder, PASSCODES[candidate], key_provider=REMEMBERED)
        except WrongPasscode:
            continue
        except CompanionError as error:
            return index, f"unreadable: {type(error).__name__}: {error}"
        with vault:
            counter = vault.messages.get("counter")
            n = max(int(counter.body) if counter else 0, int(vault.meta.get("seq", 0)))
            report.torn_frames += vault.dropped_torn_frame
            if vault.recovered and (mode == "writes" or "previous copy" not in vault.recovery):
                return candidate, f"a kill -9 left files that needed a recovery: {vault.recovery}"
            _, partial = _state_of(vault._storage.read())
        if n not in (last, last + 1):
            return candidate, f"counter {n} after the last committed write {last}"
        if partial:
            return candidate, partial
        if mode == "writes":
            problem = _check_previous_generation(folder, PASSCODES[candidate], n)
            if problem:
                return candidate, problem
        return candidate, ""
    return index, "unreadable: neither the old nor the new passcode unlocks"


def _check_previous_generation(folder: Path, passcode: str, n: int) -> str:
    """Without its current base, the vault must still open at the same state (previous base + both journals)."""
    spare = folder.parent / f"{folder.name}-previous"
    shutil.rmtree(spare, ignore_errors=True)
    shutil.copytree(folder, spare)
    (spare / MAIN).unlink()
    try:
        with Vault.open(spare, passcode, key_provider=REMEMBERED) as vault:
            counter = vault.messages.get("counter")
            held = max(int(counter.body) if counter else 0, int(vault.meta.get("seq", 0)))
            _, partial = _state_of(vault._storage.read())
    except CompanionError as error:
        return f"the previous generation does not open: {type(error).__name__}: {error}"
    finally:
        shutil.rmtree(spare, ignore_errors=True)
    if held != n:
        return f"the previous generation holds counter {held}, the vault {n}"
    return f"previous generation: {partial}" if partial else ""


if __name__ == "__main__":
    if sys.argv[1:] == ["serve"]:
        serve()
    else:
        sys.exit("usage: crash_writer.py serve  (driven by tests/test_vault_crash.py and bench/vault.py)")
