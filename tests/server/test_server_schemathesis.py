"""Property-based API testing with schemathesis against /openapi.json: 0 server errors.

Positive and negative data (``--mode all``), a bounded number of examples per operation, on
SQLite and PostgreSQL, once per kind of caller so that every operation gets past
authentication: the PSR over the staff API, the clinician over results, the admin over
accounts/audit/devices, and a paired device over pull and push. Any 5xx fails the run; the
server log must not show an unexpected exception either.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.support.server_harness import ServerProcess

EXAMPLES = os.environ.get("COMPANION_SCHEMATHESIS_EXAMPLES", "6")
RUNS = [
    ("psr", r"^/v1/staff/"),
    ("clinician", r"^/v1/staff/(results|patients/\{patient_id\}/results)"),
    ("admin", r"^/v1/staff/(accounts|audit|devices|me)"),
    ("device", r"^/v1/(sync|devices)$"),
]


def _schemathesis() -> str:
    found = Path(sys.executable).with_name("schemathesis")
    return str(found) if found.exists() else "schemathesis"


def test_no_server_errors_under_generated_requests(server: ServerProcess, tmp_path: Path) -> None:
    pid = server.staff.add_patient("Fuzzed Patient")["id"]
    tokens = {**server.tokens, "device": server.pair_device(pid)["token"]}
    failures = []
    # One worker: with two threads, hypothesis 6.170's lambda descriptions parse source while the other
    # thread does, and CPython 3.11 raises "AST constructor recursion depth mismatch" inside schemathesis.
    for who, paths in RUNS:
        run = subprocess.run(
            [_schemathesis(), "run", server.url("/openapi.json"), "--checks", "not_a_server_error",
             "--mode", "all", "--max-examples", EXAMPLES, "--include-path-regex", paths,
             "-H", f"Authorization: Bearer {tokens[who]}", "--seed", "20261126", "--no-color",
             "--generation-database", "none", "--workers", "1", "--suppress-health-check", "all",
             "--request-timeout", "20", "--max-failures", "5", "--report-dir", str(tmp_path / who)],
            capture_output=True, text=True, timeout=300, cwd=tmp_path, stdin=subprocess.DEVNULL)
        if run.returncode != 0:
            failures.append(f"--- {who} (exit {run.returncode}) ---\n{_what_went_wrong(run.stdout)}\n"
                            f"{run.stderr[-2000:]}")
    assert not failures, "\n".join(failures)
    log = server.log_text()
    assert " 500 " not in log and "failed with" not in log, log[-3000:]


def _what_went_wrong(report: str) -> str:
    """Schemathesis' ERRORS and FAILURES sections (its tail is warnings about links), else its tail."""
    sections = [part for marker in ("= ERRORS =", "= FAILURES =") if marker in report
                for part in [report[report.index(marker):][:3000]]]
    return "\n".join(sections) or report[-4000:]
