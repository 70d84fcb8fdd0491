"""Child process of the sync crash test: queue a few messages, then sync in small pages until caught up.

    python tests/support/sync_crash_child.py VAULT_DIR TAG QUEUE LIMIT

Prints ``queued ID`` after each command is stored, ``page N`` after each page is
applied (so the parent can SIGKILL it in the middle of applying pages) and
``done`` at the end. The passcode comes from ``COMPANION_PASSCODE``.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from companion.core.protocol import PullPage
from companion.sync import page_apply
from companion.sync.client import client_for_vault, queue_mutation, synchronize
from companion.sync.conflicts import RecordKey
from companion.vault import Vault


def main() -> int:
    folder, tag, queue, limit = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    applied = 0
    real_apply = page_apply.apply_page

    def apply_and_tell(vault: Vault, page: PullPage, *, seen: set[RecordKey] | None = None, sweep: bool = False) -> int:
        nonlocal applied
        removed = real_apply(vault, page, seen=seen, sweep=sweep)
        applied += 1
        print(f"page {applied}", flush=True)
        return removed

    page_apply.apply_page = apply_and_tell
    with Vault.open(folder, os.environ["COMPANION_PASSCODE"]) as vault:
        for i in range(queue):
            entry = queue_mutation(vault, "message.send", {"body": f"{tag} message {i}"})
            print(f"queued {entry.id}", flush=True)
        with client_for_vault(vault) as client:
            synchronize(vault, client, limit=limit)
    print("done", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
