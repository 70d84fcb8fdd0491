"""Benchmark: unlock -> home screen rendered in a real browser, with 1,000 and 10,000 records; app memory.

    .venv/bin/python bench/app.py [--sizes 1000,10000]

For each size: a vault with that many records (appointments, prep steps, bills, results, messages,
articles), marked as paired with an unreachable clinic (the app runs offline), at the default KDF
cost (scrypt 2^17, what patients get). The app is started as ``companion app --web`` on 127.0.0.1,
headless Debian chromium types the passcode and clicks Unlock; the time until the home screen's
next-appointment card is in the DOM is measured (three unlocks, locking in between), and the app
process's resident memory (VmRSS) is read after the home screen is shown.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from companion.core.models import Appointment, Article, Bill, Message, PrepStep, Result  # noqa: E402
from companion.vault import Vault  # noqa: E402

PASSCODE = "bench passcode 42"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]


def make_vault(folder: Path, n: int) -> None:
    now = datetime.now(UTC)
    share = {"appointment": 0.15, "prep": 0.15, "bill": 0.1, "result": 0.1, "message": 0.45, "article": 0.05}
    counts = {k: max(1, int(n * v)) for k, v in share.items()}
    appts = [Appointment(id=f"apt_{i}", start=now + timedelta(days=1 + i % 30) - timedelta(days=400 * (i % 2)),
                         minutes=30, visit_kind="STI screening", location="Riverside Clinic, Room 4",
                         status="scheduled" if i % 2 == 0 else "completed") for i in range(counts["appointment"])]
    with Vault.create(folder, PASSCODE) as vault, vault.batch():
        vault.appointments.upsert_many(appts)
        vault.prep.upsert_many(PrepStep(id=f"prep_{i}", appointment_id=f"apt_{(i * 2) % counts['appointment']}",
                                        title="Stop eating 12 h before", body="Water is fine.", before_minutes=720)
                               for i in range(counts["prep"]))
        vault.bills.upsert_many(Bill(id=f"bill_{i}", description="Clinic visit", total_cents=18_500,
                                     insurance_paid_cents=14_000, patient_cents=4_500,
                                     due=date(2030, 1, 1) + timedelta(days=i % 300), status="paid" if i % 3 else "open")
                                for i in range(counts["bill"]))
        vault.results.upsert_many(Result(id=f"res_{i}", test="Syphilis antibody", interpretation="negative",
                                         released_at=now - timedelta(days=i), acknowledged_at=now)
                                  for i in range(counts["result"]))
        vault.messages.upsert_many(Message(id=f"msg_{i}", thread=("general", "billing", "results")[i % 3],
                                           author="clinic" if i % 2 else "patient", body=f"Message number {i}. " * 3,
                                           sent_at=now - timedelta(minutes=i), read_at=now)
                                   for i in range(counts["message"]))
        vault.articles.upsert_many(Article(id=f"art_{i}", title=f"Article {i}", body="# Title\n" + "Text. " * 100,
                                           published_at=now - timedelta(days=i)) for i in range(counts["article"]))
        for key, value in (("sync.server_url", "http://127.0.0.1:9"), ("sync.token", "bench"),
                           ("sync.device_id", "dev_bench"), ("sync.patient_id", "pat_bench")):
            vault.meta.set(key, value)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def run_size(browser: object, n: int, rounds: int) -> tuple[list[float], float]:
    folder = Path(tempfile.mkdtemp(prefix=f"bench-app-{n}-"))
    make_vault(folder / "vault", n)
    times: list[float] = []
    rss = 0.0
    for _ in range(rounds):  # a fresh app process each round: the patient opens the app and unlocks
        took, rss = unlock_once(browser, folder)
        times.append(took)
    return times, rss


def unlock_once(browser: object, folder: Path) -> tuple[float, float]:
    port = free_port()
    env = {**os.environ, "BROWSER": "true", "COMPANION_SYNC_WAIT": "5"}
    env.pop("DISPLAY", None)
    env.pop("COMPANION_KDF_LOG2N", None)
    log = open(folder / "app.log", "wb")  # noqa: SIM115 - the child owns it
    proc = subprocess.Popen([sys.executable, "-m", "companion.cli", "--vault", str(folder / "vault"), "app", "--web",
                             "--port", str(port)], cwd=str(REPO), env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        url = ""
        for _ in range(300):  # the app prints its address with this launch's key on a line of its own
            printed = [line for line in (folder / "app.log").read_text().splitlines() if "/?key=" in line]
            if printed:
                url = printed[0].strip()
                try:
                    if httpx.get(url, timeout=1, follow_redirects=True).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
            time.sleep(0.1)
        context = browser.new_context(viewport={"width": 390, "height": 844}, bypass_csp=True)  # type: ignore[attr-defined]
        page = context.new_page()
        page.goto(url)
        page.wait_for_selector("flt-semantics-placeholder", state="attached", timeout=30_000)
        page.evaluate("document.querySelector('flt-semantics-placeholder').click()")
        field = page.locator("[flt-semantics-identifier='passcode'] input").first
        field.wait_for(timeout=30_000)
        field.click()
        field.fill(PASSCODE)
        field.press("End")
        time.sleep(0.3)
        started = time.perf_counter()
        page.locator("[flt-semantics-identifier='unlock']").click()
        page.locator("[flt-semantics-identifier='next-appointment']").wait_for(timeout=60_000)
        took = time.perf_counter() - started
        time.sleep(1.0)
        rss = rss_mib(proc.pid)
        context.close()
        return took, rss
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        log.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="1000,10000")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    print("records  unlock->home median (min..max)  app RSS")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=ARGS)
        for n in (int(x) for x in args.sizes.split(",")):
            times, rss = run_size(browser, n, args.rounds)
            median, low, high = (statistics.median(times) * 1000, min(times) * 1000, max(times) * 1000)
            print(f"{n:>7}  {median:7.0f} ms ({low:.0f}..{high:.0f})        {rss:6.1f} MiB", flush=True)
        browser.close()


if __name__ == "__main__":
    main()
