"""Fill a clinic database with many patient records quickly, straight through the server's own write path.

Used by the crash test and ``bench/sync.py``: thousands of records over the staff
API would take minutes; here each record goes through the same server functions
the API uses (so the sync feed is written exactly as in production), in one
transaction. Records cycle appointment / bill / result / message like the
PouchDB peer's documents and weigh ~500 bytes of JSON each on the wire, with
prose-like text from a small vocabulary (compresses like real text, not filler).

    seed_records(server.db_url, patient_id, 10_000)
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta

VOCABULARY = ("the a and of to for with on at in is was no not please your our we you patient follow-up visit lab "
         "result normal range reviewed dose refill clinic invoice paid insurance claim pending reply doctor nurse "
         "blood pressure scan booked cancelled reminder fasting required bring card allergy tablet daily twice "
         "morning evening week month referral x-ray ultrasound vaccine booster stable improved history medication "
         "prescription pharmacy copay balance due statement address phone email portal upload consent form signed "
         "parking entrance floor room arrive early late reschedule confirm question answer thanks regards")
WORDS = VOCABULARY.split()
KINDS = ("appointment", "bill", "result", "message")


def prose(rng: random.Random, length: int) -> str:
    out: list[str] = []
    size = 0
    while size < length:
        word = f"{rng.random() * 1000:.1f}" if rng.random() < 0.15 else rng.choice(WORDS)
        out.append(word)
        size += len(word) + 1
    return " ".join(out)[:length]


def seed_records(db_url: str, patient_id: str, n: int, *, start: int = 0, kinds: tuple[str, ...] = KINDS) -> None:
    """Add ``n`` records for ``patient_id`` (record ``i`` is of kind ``kinds[i % len(kinds)]``)."""
    from companion.clinic.server import billing, messaging, results, visits
    from companion.clinic.server.database import Database

    db = Database(db_url, pool_size=1)
    db.init_schema()
    now = datetime.now(UTC)
    try:
        with db.write() as tx:
            for i in range(start, start + n):
                rng = random.Random(i * 7919)
                kind = kinds[i % len(kinds)]
                if kind == "appointment":
                    visits.create_appointment(tx, patient_id, {
                        "start": now + timedelta(hours=i), "minutes": 30, "kind": f"visit #{i}",
                        "location": f"Room {i % 17}", "provider": f"dr-{i % 17}", "note": prose(rng, 250)}, now)
                elif kind == "bill":
                    billing.create_bill(tx, patient_id, {
                        "amount_cents": 1000 + i, "due": date(2030, 1, 1) + timedelta(days=i % 300),
                        "description": prose(rng, 300)}, now)
                elif kind == "result":
                    row = results.create_result(tx, patient_id, {
                        "test": f"panel #{i}", "interpretation": "negative", "note": prose(rng, 270)}, "stf_seed", now)
                    results.release_result(tx, row, "stf_seed", now)
                else:
                    messaging.send_clinic_message(tx, patient_id, prose(rng, 330), "general", "stf_seed", "Seeder",
                                                  now)
    finally:
        db.engine.dispose()
