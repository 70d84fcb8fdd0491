"""Which language the app speaks and how it reads in Spanish: the device's locale, the patient's choice
(kept in the vault, applied at unlock), the clinic's default; Babel's dates, money and plurals; discreet
reminders, calendar files, in-app banners and the Learn library in Spanish."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from functools import partial
from pathlib import Path

import pytest
from icalendar import Calendar

from companion.config import ClinicProfile, load_profile
from companion.core.errors import ConfigError
from companion.core.models import Appointment, Bill
from companion.exports import build_calendar
from companion.i18n import choose_language, device_language, language, normalize_language, set_language
from companion.i18n.documents import blocks
from companion.reminders import ReminderSettings
from companion.reminders.planner import reworded
from companion.reminders.wording import appointment_text, bill_text, message_text
from companion.state import AppState, LearnLibrary
from companion.state.formatting import before_text, countdown, day_and_time, long_date, money, short_date
from companion.state.notices import Banners, inside_app
from companion.state.preferences import apply_language
from tests.fixtures.app_state import PASSCODE

CLINIC = ClinicProfile(name="Riverside Sexual Health Clinic", discreet_name="Riverside Clinic")
NOW = datetime(2026, 5, 13, 14, tzinfo=UTC)
REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(("code", "found"), [("es_US.UTF-8", "es"), ("es-MX", "es"), ("ES", "es"), ("en_GB", "en"),
                                             ("fr_FR.UTF-8", None), ("C", None), ("", None), (None, None)])
def test_locale_names_come_down_to_a_language_the_app_speaks(code: str | None, found: str | None) -> None:
    assert normalize_language(code) == found


def test_the_patients_choice_then_the_device_then_the_clinic(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"):
        monkeypatch.delenv(var, raising=False)
    assert device_language() is None and choose_language(None, "es") == "es"  # no locale: the clinic's default
    assert choose_language(None, None) == "en"
    monkeypatch.setenv("LANG", "es_US.UTF-8")
    assert device_language() == "es" and choose_language(None, "en") == "es"  # the device over the clinic
    assert choose_language("en", "es") == "en"  # the patient over both
    monkeypatch.setenv("LC_ALL", "fr_FR.UTF-8")  # the first set variable decides: not one the app speaks
    assert device_language() is None and choose_language(None, "en") == "en"
    monkeypatch.setenv("LANGUAGE", "fr:es")  # a list: the first the app speaks
    assert device_language() == "es"


def test_the_clinic_profile_sets_the_default_language(tmp_path: Path) -> None:
    profile = tmp_path / "flet.toml"
    profile.write_text('[clinic]\nlanguage = "es"\n')
    assert load_profile(profile).language == "es"
    profile.write_text('[clinic]\nlanguage = "fr"\n')
    with pytest.raises(ConfigError, match=r"flet.toml: clinic.language: expected one of en, es, got 'fr'"):
        load_profile(profile)
    assert load_profile(Path(__file__).resolve().parents[2] / "flet.toml").language == "en"


def test_settings_change_the_language_keep_it_in_the_vault_and_apply_it_at_unlock(populated_state: AppState) -> None:
    state = populated_state
    assert state.prefs.language() == "en"
    titles = {t.key: t.title for t in state.records.snapshot.threads}
    assert titles.get("general") == "Clinic team"
    state.prefs.set_language("es")
    assert language() == "es" and state.feedback.toast == "La aplicación ya está en su idioma."
    titles = {t.key: t.title for t in state.records.snapshot.threads}
    assert titles["general"] == "Equipo de la clínica", titles  # the open Messages list follows, not the next sync
    state.prefs.set_theme("dark")  # one settings object: the theme does not forget the language
    assert state.prefs.theme() == "dark"
    state.prefs.set_language("de")
    assert state.feedback.error == "Idioma: elija una opción: en, es."
    state.session.lock()
    set_language("en")  # as after a restart: the lock screen speaks the device's (or the clinic's) language
    state.session.unlock(PASSCODE)
    assert state.session.phase == "unlocked" and language() == "es"
    assert apply_language(None, state.services.profile) == "en"  # no vault: no choice to read


def test_dates_money_and_plurals_follow_the_language(in_spanish: None) -> None:
    day = date(2026, 5, 14)
    assert (short_date(day), long_date(day)) == ("jue 14 de may", "jueves 14 de mayo de 2026")
    assert money(123450) == "$1,234.50" and money(-500) == "-$5.00"  # US dollars, as a US clinic bills
    assert day_and_time(NOW + timedelta(days=1), UTC, NOW) == "Mañana, 14:00"
    assert countdown(NOW + timedelta(days=1), NOW) == "en 1 día"
    assert countdown(NOW + timedelta(days=3), NOW) == "en 3 días"
    assert before_text(90) == "1 h 30 min antes"


def test_the_same_in_english_by_default() -> None:
    day = date(2026, 5, 14)
    assert (short_date(day), long_date(day), money(123450)) == ("Thu 14 May", "Thursday 14 May 2026", "$1,234.50")
    assert countdown(NOW + timedelta(days=1), NOW) == "in 1 day"


def test_reminders_in_spanish_stay_discreet(in_spanish: None) -> None:
    appt = Appointment(id="a", start=datetime(2026, 5, 14, 14, tzinfo=UTC), minutes=30, visit_kind="HIV test",
                       location="Room 3", sensitive=True)
    words = appointment_text(appt, NOW, UTC, CLINIC, discreet=False)
    assert (words.title, words.body, words.discreet) == ("Recordatorio de Riverside Clinic",
                                                         "Cita mañana a las 14:00.", True)
    bill = Bill(id="b", description="HIV panel", total_cents=100, insurance_paid_cents=0, patient_cents=4500,
                due=date(2026, 5, 20))
    assert bill_text(bill, NOW, UTC, CLINIC, discreet=True).body == \
        "Tiene una factura que vence en 7 días (mié 20 de may). La aplicación tiene los detalles."
    assert "HIV" not in bill_text(bill, NOW, UTC, CLINIC, discreet=False).body
    assert message_text(2, CLINIC).body == "Tiene 2 mensajes nuevos. Abra la aplicación para leerlos."
    assert message_text(1, ClinicProfile()).title == "Su clínica"
    # inside the app, "open the app" becomes where to tap, in Spanish too
    assert inside_app("t", message_text(1, CLINIC).body).body == "Tiene un mensaje nuevo. Toque para leerlo."


def test_a_reminder_banner_shown_in_english_reads_in_spanish_for_inside_the_app() -> None:
    """A banner keeps its reminder's wording (the planner's ``reworded``), so after a switch it is the
    Spanish notification text with "open the app" made where to tap, as a banner that came in Spanish."""
    text = message_text(1, CLINIC)
    banners = Banners()
    banners.add(text.title, text.body, "message", reword=reworded(partial(message_text, 1, CLINIC)))
    assert banners.items[-1].words() == ("Riverside Clinic", "You have a new message. Tap to read it.")
    set_language("es")
    assert banners.items[-1].words() == ("Riverside Clinic", "Tiene un mensaje nuevo. Toque para leerlo.")
    assert banners.items[-1].route == "messages"


def test_a_calendar_file_in_spanish_names_no_visit_type(in_spanish: None) -> None:
    appt = Appointment(id="a", start=datetime(2026, 6, 10, 8, tzinfo=UTC), minutes=30, visit_kind="HIV test",
                       provider="Dr Lee")
    cal = Calendar.from_ical(build_calendar([appt], [], clinic=CLINIC, settings=ReminderSettings(discreet=True),
                                            now=NOW).to_ical())
    event = next(iter(cal.walk("VEVENT")))
    assert str(event["SUMMARY"]) == "Cita en Riverside Clinic"
    assert str(event["DESCRIPTION"]) == "Los detalles están en la aplicación Patient Companion."
    assert all("Recordatorio de Riverside Clinic" in str(a["DESCRIPTION"]) for a in event.walk("VALARM"))


def test_every_block_of_every_learn_article_reads_in_spanish(in_spanish: None) -> None:
    library = LearnLibrary.builtin()
    # every built-in article, however many there are: one per file of the folder the app ships
    files = sorted((REPO / "assets" / "learn").glob("*.md"))
    ids = [re.search(r"^id: *(\S+)", f.read_text(encoding="utf-8"), re.M) for f in files]
    assert len(files) >= 8 and all(ids)
    assert sorted(a.id for a in library.source) == sorted(m.group(1) for m in ids if m)
    assert {"prep-missed-dose", "doxy-pep"} <= {a.id for a in library.source}
    for source in library.source:
        shown = library.get(source.id)
        assert shown is not None and shown.title != source.title and shown.summary != source.summary
        english, spanish = blocks(source.body), blocks(shown.body)
        assert len(english) == len(spanish)
        untranslated = [b for b, t in zip(english, spanish, strict=True) if b == t]
        assert not untranslated, (source.id, untranslated[:1])
    set_language("en")
    assert library.get("window-periods") == next(a for a in library.source if a.id == "window-periods")


def test_a_clinic_article_shows_in_the_patients_language_when_the_clinic_wrote_it(
        populated_state: AppState) -> None:
    from companion.core.models import Article
    from tests.fixtures.flet_session import ViewHarness, run_isolated

    state = populated_state
    vault = state.records.require_vault()
    vault.articles.upsert(Article(id="art_es", title="After your visit", body="# After your visit\nResults come.",
                                  published_at=NOW, translations=(("es", "Después de su cita",
                                                                   "# Después de su cita\nLlegan los resultados."),)))
    state.records.refresh()

    async def shown() -> list[list[str]]:
        ui = await ViewHarness.start(state, width=390)
        seen = []
        try:
            for language, route, arg in (("es", "learn", None), ("es", "article", "art_es"), ("en", "learn", None)):
                set_language(language)
                state.nav.go(route, arg)
                await ui.settle()
                seen.append(ui.texts())
        finally:
            ui.close()
        return seen

    learn, article, english = run_isolated(shown())
    assert "Después de su cita" in learn and "After your visit" not in learn
    assert "Holiday opening hours" in learn  # no Spanish version: as the clinic wrote it
    assert "Después de su cita" in article and not any("After your visit" in t for t in article)
    assert "After your visit" in english


def test_the_cores_refusals_a_patient_can_meet_read_in_spanish(in_spanish: None) -> None:
    from companion.core.errors import NotAllowed, RecordError
    from companion.state.notices import refusal

    assert refusal(NotAllowed("the appointment is over")) == "La cita ya terminó."
    assert refusal(NotAllowed("an unknown rule")) == "An unknown rule."  # not in the catalog: as it came
    assert refusal(RecordError("note", "la nota debe tener menos de 2000 caracteres")) == \
        "Nota: la nota debe tener menos de 2000 caracteres."


def test_quiet_hours_are_turned_off_with_the_patients_own_word(populated_state: AppState) -> None:
    state = populated_state
    state.prefs.set_language("es")
    state.prefs.set_quiet_hours("23:00-06:00")
    assert state.prefs.reminder_settings().quiet_hours is not None
    state.prefs.set_quiet_hours("No")
    assert state.feedback.error is None and state.prefs.reminder_settings().quiet_hours is None
    state.prefs.set_quiet_hours("off")  # the word the field's rule is written in works in every language
    assert state.feedback.error is None and state.prefs.reminder_settings().quiet_hours is None
