"""The answer to a question about a bill is announced like any clinic message: the notification names
neither what the bill was for (a description can name a test) nor the bill, in discreet mode or not."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from companion.config import ClinicProfile
from companion.core.models import Bill, Message
from companion.core.protocol import bill_thread
from companion.reminders import RecordSet, ReminderSettings, compose_notices, plan_reminders, triage


@pytest.mark.parametrize("discreet", [True, False])
def test_an_answer_in_a_bills_conversation_is_announced_without_the_bill(discreet: bool) -> None:
    now = datetime(2026, 6, 10, 12, tzinfo=UTC)
    bill = Bill(id="bil_hiv1", description="HIV test visit", total_cents=4500, insurance_paid_cents=0,
                patient_cents=4500, due=date(2026, 6, 30))
    answer = Message(id="msg_a", thread=bill_thread(bill.id), author="clinic", body="Your HIV test fee is covered.",
                     sent_at=now - timedelta(minutes=5), author_name="Front desk")
    records = RecordSet(bills=(bill,), messages=(answer,))
    settings = ReminderSettings(discreet=discreet)
    show, _ = triage(plan_reminders(records, settings, now, set(), tz=UTC, clinic=ClinicProfile()), now)
    notices = compose_notices(show, ClinicProfile())
    assert [n.kind for n in notices] == ["message"]
    for n in notices:
        text = f"{n.title} {n.body}"
        assert "HIV" not in text and "bil_" not in text and "covered" not in text
