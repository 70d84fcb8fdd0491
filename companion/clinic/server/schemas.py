"""Request bodies of the HTTP API (pydantic): unknown fields refused, types strict, sizes capped.

Size caps match :mod:`companion.core.models`, so whatever a request may carry the feed can carry too.
Dates and times must be JSON strings (``2026-03-01``, ``2026-03-01T10:00:00Z``); times need a
UTC offset. Money is integer cents.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, AwareDatetime, BaseModel, BeforeValidator, ConfigDict, Field, StrictBool, StrictInt
from pydantic import StringConstraints as Text

from ...core.models import APPOINTMENT_STATUSES, INTERPRETATIONS, MAX_BODY, MAX_INSTALLMENTS, PLAN_STATUSES
from ...core.protocol import MAX_MUTATIONS, THREADS


def _text_only(value: Any) -> Any:
    if not isinstance(value, str):
        raise ValueError("expected an ISO 8601 text value")
    return value


def _utc_year(value: datetime) -> datetime:
    """A time whose UTC day is a real one: ``0001-01-01T00:00+05:00`` is before year 1 in UTC, and every
    route compares or stores times in UTC (an OverflowError there was a 500)."""
    try:
        value.astimezone(UTC)
    except OverflowError:
        raise ValueError("expected a time between the years 1 and 9999 in UTC") from None
    return value


IsoDate = Annotated[date, BeforeValidator(_text_only)]
IsoTime = Annotated[AwareDatetime, BeforeValidator(_text_only), AfterValidator(_utc_year)]


_UNSTORABLE = re.compile(r"[\x00\ud800-\udfff]")  # one C scan, not a Python loop per character


def storable_text(value: str) -> str:
    """Refuse NUL and lone surrogates: neither database can store them (PostgreSQL errors on NUL)."""
    if _UNSTORABLE.search(value) is not None:
        raise ValueError("text contains characters that cannot be stored (NUL or a lone surrogate)")
    return value


# Text of 1..N characters, not only white space (mypy needs these spelled out as aliases).
_NONBLANK = r"\S"
_STORABLE = AfterValidator(storable_text)
T20 = Annotated[str, Text(strict=True, min_length=1, max_length=20, pattern=_NONBLANK), _STORABLE]
T40 = Annotated[str, Text(strict=True, min_length=1, max_length=40, pattern=_NONBLANK), _STORABLE]
T50 = Annotated[str, Text(strict=True, min_length=1, max_length=50, pattern=_NONBLANK), _STORABLE]
T100 = Annotated[str, Text(strict=True, min_length=1, max_length=100, pattern=_NONBLANK), _STORABLE]
T200 = Annotated[str, Text(strict=True, min_length=1, max_length=200, pattern=_NONBLANK), _STORABLE]
T300 = Annotated[str, Text(strict=True, min_length=1, max_length=300, pattern=_NONBLANK), _STORABLE]
T500 = Annotated[str, Text(strict=True, min_length=1, max_length=500, pattern=_NONBLANK), _STORABLE]
T1000 = Annotated[str, Text(strict=True, min_length=1, max_length=1000, pattern=_NONBLANK), _STORABLE]
T2000 = Annotated[str, Text(strict=True, min_length=1, max_length=2000, pattern=_NONBLANK), _STORABLE]
TBody = Annotated[str, Text(strict=True, min_length=1, max_length=MAX_BODY, pattern=_NONBLANK), _STORABLE]
MAX_ARTICLE_CHARS = 20_000  # an article's Markdown body; ~240 KB as sent even if every character is escaped
TArticle = Annotated[str, Text(strict=True, min_length=1, max_length=MAX_ARTICLE_CHARS, pattern=_NONBLANK),
                     _STORABLE]


Thread = Literal["general", "billing", "appointments", "results", "counselling"]
assert set(Thread.__args__) == set(THREADS)  # type: ignore[attr-defined]
AppointmentStatus = Literal["requested", "scheduled", "confirmed", "checked_in", "completed", "cancelled", "no_show"]
Interpretation = Literal["negative", "positive", "indeterminate"]
PlanStatus = Literal["requested", "active", "declined"]
# the wire's vocabulary is the core's (companion.core.models): one list, checked here
assert AppointmentStatus.__args__ == APPOINTMENT_STATUSES  # type: ignore[attr-defined]
assert Interpretation.__args__ == INTERPRETATIONS  # type: ignore[attr-defined]
assert PlanStatus.__args__ == PLAN_STATUSES  # type: ignore[attr-defined]
Minutes = Annotated[StrictInt, Field(ge=1, le=24 * 60)]
Cents = Annotated[StrictInt, Field(ge=0, le=10**9)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


# -- device API ------------------------------------------------------------------------------------
class PairRequest(Strict):
    code: T40
    device_name: T100 = "Unnamed device"


class MutationIn(Strict):
    id: T100
    type: T50
    payload: dict[str, Any]
    created_at: T40 | None = None


class PushRequest(Strict):
    mutations: Annotated[list[MutationIn], Field(max_length=MAX_MUTATIONS)]


# -- staff API: patients ---------------------------------------------------------------------------
class InsuranceFields(Strict):
    payer: T200 | None = None
    member_id: T100 | None = None
    group: T100 | None = None


class PatientCreate(Strict):
    name: T200
    dob: IsoDate | None = None
    phone: T40 | None = None
    email: T200 | None = None
    insurance: InsuranceFields | None = None


class PatientUpdate(PatientCreate):
    """What a create takes, every field optional (PATCH: see :func:`present`), and the next PrEP
    test date (``null`` clears it)."""

    name: T200 | None = None  # type: ignore[assignment]
    prep_test_due: Annotated[IsoDate, Field(ge=date(2000, 1, 1), le=date(2099, 12, 31))] | None = None


class InsuranceVerify(Strict):
    status: Literal["verified", "rejected"]
    note: T1000 | None = None


# -- staff API: care -------------------------------------------------------------------------------
class AppointmentCreate(Strict):
    start: IsoTime
    minutes: Minutes
    kind: T200
    location: T500 | None = None
    provider: T200 | None = None
    what_to_bring: T2000 | None = None
    sensitive: StrictBool = False
    note: T2000 | None = None
    status: Literal["scheduled", "confirmed"] = "scheduled"


class AppointmentUpdate(AppointmentCreate):
    """What a booking takes, every field optional (PATCH); ``status`` may be any the visit rules allow."""

    start: IsoTime | None = None  # type: ignore[assignment]
    minutes: Minutes | None = None  # type: ignore[assignment]
    kind: T200 | None = None  # type: ignore[assignment]
    sensitive: StrictBool | None = None  # type: ignore[assignment]
    status: AppointmentStatus | None = None  # type: ignore[assignment]


class CancelRequest(Strict):
    reason: T500 | None = None


class PrepCreate(Strict):
    title: T200
    body: Annotated[str, Text(strict=True, max_length=MAX_BODY), _STORABLE]
    before_minutes: Annotated[StrictInt, Field(ge=0, le=60 * 24 * 60)]


class BillLineIn(Strict):
    description: T300
    cents: Cents


class BillCreate(Strict):
    description: T500
    amount_cents: Cents  # what the patient owes
    insurance_paid_cents: Cents = 0
    due: IsoDate
    lines: Annotated[list[BillLineIn], Field(max_length=50)] = []


class BillUpdate(Strict):
    status: Literal["open", "paid", "void"]


class PlanSet(Strict):
    status: PlanStatus
    installments: Annotated[StrictInt, Field(ge=1, le=MAX_INSTALLMENTS)]
    note: T1000 | None = None


class ResultCreate(Strict):
    test: T200
    interpretation: Interpretation
    value: T200 | None = None
    note: TBody | None = None
    sensitive: StrictBool = False
    loinc: T20 | None = None
    reference_range: T200 | None = None
    appointment_id: T40 | None = None
    sample_taken: IsoDate | None = None  # the day the sample was taken (the window-period advice counts from it)


# -- staff API: messages, inbox, articles, staff ---------------------------------------------------
class MessageCreate(Strict):
    body: TBody
    thread: Thread = "general"


class ArticleVersion(Strict):
    """The article in another language (the app shows it to a patient whose app speaks that language)."""

    title: T200
    body: Annotated[TArticle, Field(description=f"Markdown, at most {MAX_ARTICLE_CHARS} characters")]


LanguageCode = Annotated[str, Text(strict=True, pattern=r"^[a-z]{2,3}$")]


class ArticleCreate(Strict):
    title: T200
    body: Annotated[TArticle, Field(description=f"Markdown, at most {MAX_ARTICLE_CHARS} characters")]
    tags: Annotated[list[T50], Field(max_length=50)] = []
    appointment_kind: T200 | None = None
    # e.g. {"es": {"title": "Qué esperar", "body": "…"}}: every device downloads every article, so two at most
    translations: Annotated[dict[LanguageCode, ArticleVersion], Field(max_length=2)] = {}


class StaffCreate(Strict):
    name: T200
    role: Literal["psr", "clinician", "admin"]


def present(model: BaseModel) -> dict[str, Any]:
    """The fields the caller actually sent (PATCH semantics: absent = unchanged, null = clear)."""
    return {name: getattr(model, name) for name in model.model_fields_set}

