"""Reusable prep-step templates the desk offers when booking (a shipped list, not a table).

Why shipped: the steps are clinical wording the clinic reviews once and changes rarely, and a
list in code is versioned, reviewed and identical on every desk. A booking copies the chosen
template into ordinary prep steps through the staff API, so patients' devices get them through
the feed like any other step, and editing the list later never changes booked appointments.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["TEMPLATES", "PrepTemplate", "template"]


@dataclass(frozen=True, slots=True)
class PrepTemplate:
    key: str
    label: str            # what the desk shows in the picker
    title: str            # the step title the patient sees
    body: str
    before_minutes: int   # when the patient's reminder fires, before the start


TEMPLATES: tuple[PrepTemplate, ...] = (
    PrepTemplate("sti-urine", "STI screening: no urinating 1 h before", "Don't urinate in the hour before",
                 "For an accurate urine test, please don't pee in the hour before your appointment.", 60),
    PrepTemplate("fasting", "Blood test: fasting 12 h", "Stop eating 12 h before",
                 "Water is fine. Please don't eat or drink anything else for 12 hours before your blood test.",
                 12 * 60),
    PrepTemplate("prep-meds", "PrEP review: bring your tablets", "Bring your PrEP tablets",
                 "Please bring your PrEP tablets or the box, so we can check your supply.", 2 * 60),
    PrepTemplate("cervical", "Cervical screening: 2 days without lubricants",
                 "No lubricants or creams for 2 days",
                 "Please avoid vaginal lubricants, creams and medicines for 2 days before your screening.",
                 2 * 24 * 60),
    PrepTemplate("id-card", "Any visit: bring ID and insurance card", "Bring ID and insurance card",
                 "Please bring a photo ID and your insurance card to check in.", 24 * 60),
)


def template(key: str) -> PrepTemplate | None:
    return next((t for t in TEMPLATES if t.key == key), None)
