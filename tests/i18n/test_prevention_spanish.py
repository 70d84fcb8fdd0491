"""The Prevention screen's words (PrEP, doxy-PEP) in Spanish: counts by the catalog's plural rule,
times and days by Babel, the day words a patient types understood in Spanish and English alike,
and the lock-screen wording still naming nothing — in Spanish too."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest

from companion.config import ClinicProfile
from companion.core.errors import RecordError
from companion.core.prevention import DoseRefusal, EventSupply
from companion.reminders.prevention_wording import (
    check_up_text,
    daily_dose_text,
    doxy_window_text,
    event_dose_text,
    refill_low_text,
    refill_text,
)
from companion.state import prevention_words as w
from companion.state.prevention import parse_when

NOW = datetime(2026, 5, 13, 14, tzinfo=UTC)  # a Wednesday
TODAY = NOW.date()


def test_the_day_words_a_patient_types_in_spanish_are_understood(in_spanish: None) -> None:
    def at(text: str) -> datetime:
        return parse_when(text, NOW, UTC, "when")

    assert at("ayer 23:30") == datetime(2026, 5, 12, 23, 30, tzinfo=UTC)
    assert at("Mañana 20:00") == datetime(2026, 5, 14, 20, tzinfo=UTC)
    assert at("esta noche 21:00") == at("hoy 21:00") == datetime(2026, 5, 13, 21, tzinfo=UTC)
    assert at("yesterday 23:30") == at("ayer 23:30")  # the English words work whatever the language
    assert at("") == NOW
    with pytest.raises(RecordError, match="escriba una hora como 21:00, ayer 21:00"):
        at("pasado mañana 20:00")


def test_spanish_words_are_not_understood_in_english() -> None:
    with pytest.raises(RecordError, match="write a time like 21:00"):
        parse_when("ayer 23:30", NOW, UTC, "when")


def test_counts_read_by_the_plural_rule_in_spanish(in_spanish: None) -> None:
    assert w.dose_line(NOW + timedelta(hours=2), 2, UTC, NOW) == "Hoy, 16:00: 2 pastillas"
    assert w.dose_line(NOW + timedelta(days=1), 1, UTC, NOW) == "Mañana, 14:00: 1 pastilla"
    assert w.event_supply_line(EventSupply(1, 1, None, None)) == (
        "Le queda aproximadamente 1 pastilla. Es menos de un ciclo (4 pastillas): es hora de pedir un resurtido.")
    assert w.event_supply_line(EventSupply(10, 6, None, None)) == (
        "Le quedan aproximadamente 10 pastillas, 6 después de las dosis planeadas.")
    assert w.event_supply_line(EventSupply(2, -2, None, None)).startswith(
        "Le quedan aproximadamente 2 pastillas: no alcanzan para las dosis planeadas (faltan 2 pastillas).")
    assert w.supply_line(TODAY + timedelta(days=2), TODAY) == \
        "Le quedan pastillas para aproximadamente 2 días (hasta el jue 14 de may)."
    assert w.supply_line(TODAY + timedelta(days=1), TODAY) == \
        "Le quedan pastillas para aproximadamente 1 día (hasta el mié 13 de may)."


def test_toasts_refusals_and_dates_in_spanish(in_spanish: None) -> None:
    assert w.daily_saved(time(9, 5)) == "Recordatorio diario para las 09:05."
    assert w.daily_status(time(23, 0), False, True, "07:00") == (
        "Todos los días a las 23:00. Esa hora cae en sus horas de silencio, así que el recordatorio espera "
        "hasta las 07:00.")
    assert w.check_up_line(date(2026, 6, 1), TODAY) == "Su próxima prueba de PrEP: lun 1 de jun (la fijó su clínica)."
    sex = NOW - timedelta(hours=10)
    assert w.sex_logged(sex, NOW, UTC) == "Anotado. Tome su dosis lo antes posible, a más tardar sáb 16 de may, 04:00."
    assert w.open_event_line(sex, UTC, NOW) == (
        "Relaciones sexuales · Hoy, 04:00: tome su dosis a más tardar sáb 16 de may, 04:00 (en 2 días).")
    gap = DoseRefusal("gap", NOW - timedelta(hours=2), NOW + timedelta(hours=22))
    assert w.refusal_text(gap, NOW, UTC).startswith(
        "solo una dosis en 24 horas. Su última dosis fue Hoy, 12:00; la siguiente puede ser a partir de Mañana, 12:00.")
    assert w.time_format("9") == "escriba una hora como 09:00, no '9'"


def test_the_same_words_in_english_as_before() -> None:
    assert w.dose_line(NOW + timedelta(hours=2), 2, UTC, NOW) == "Today, 16:00: 2 pills"
    assert w.event_supply_line(EventSupply(1, 1, None, None)) == (
        "About 1 pill left. That is less than one course (4 pills): time to ask for a refill.")
    assert w.supply_line(TODAY + timedelta(days=1), TODAY) == "About 1 day of pills left (until Wed 13 May)."
    assert w.time_format("9") == "expected a time like 09:00, got '9'"


# what a lock screen must not say (the clinic's discreet name may show)
TELLING = ("prep", "doxy", "vih", "pastilla", "dosis", "sexo", "relaciones", "antibiótico", "sexual")


def test_the_lock_screen_wording_in_spanish_names_nothing(in_spanish: None) -> None:
    clinic = ClinicProfile(name="Riverside Sexual Health Clinic", discreet_name="Riverside Clinic")
    shown = [daily_dose_text(), event_dose_text(), refill_text(7), refill_text(1), refill_low_text(),
             check_up_text(TODAY + timedelta(days=7), TODAY, clinic), check_up_text(TODAY, TODAY, clinic),
             doxy_window_text()]
    assert shown[0].title == "Su recordatorio diario"
    assert shown[2].body == \
        "Quedan aproximadamente 7 días: es hora de planear el resurtido. La aplicación tiene los detalles."
    assert shown[3].body.startswith("Queda aproximadamente 1 día:")
    assert shown[5].body == "El mié 20 de may le toca un chequeo. La aplicación tiene los detalles."
    for wording in shown:
        assert wording.discreet
        assert not any(word in f"{wording.title} {wording.body}".lower() for word in TELLING), wording
