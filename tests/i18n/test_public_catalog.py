"""The clinic server's public-page catalog (domain ``public``, companion/clinic/server/locale) is
complete and current, and holds only what the public pages say: a text a partner reads that has no
Spanish, a stale .pot or .mo, a lost placeholder, or a ``_()`` hidden in an f-string fails here.
(The patient app's catalog is tests/i18n/test_catalog.py's.)"""

from __future__ import annotations

import ast
import fnmatch
import io
import re
import tomllib
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import read_mo, write_mo
from babel.messages.pofile import read_po

from companion.clinic.server.public_language import LANGUAGES, PageLanguage, locale_dir
from companion.core.partner_notice import INFECTIONS

REPO = Path(__file__).resolve().parents[2]
FIELD = re.compile(r"%\((\w+)\)s")
PUBLIC_MODULES = {"companion/clinic/server/public_language.py", "companion/clinic/server/public_pages.py",
                  "companion/clinic/server/routes_notices.py", "companion/clinic/server/routes_smart.py"}


def _po(lang: str) -> Catalog:
    with open(locale_dir() / lang / "LC_MESSAGES" / "public.po", "rb") as f:
        return read_po(f, locale=lang)


def _mapping() -> tuple[list[tuple[str, str]], dict[str, dict[str, str]]]:
    with open(REPO / "babel-public.cfg", encoding="utf-8") as f:
        # babel's parse_mapping_cfg has no annotations (the rest of babel has): its result is Any here
        mapping: tuple[list[tuple[str, str]], dict[str, dict[str, str]]] = parse_mapping_cfg(f)  # type: ignore[no-untyped-call]
    return mapping


def _extracted() -> dict[str, str]:
    """What ``make catalog`` extracts for the public pages now (babel-public.cfg): msgid -> file."""
    method_map, options_map = _mapping()
    return {message: name for name, _line, message, _c, _ctx in extract_from_dir(str(REPO), method_map, options_map)
            if isinstance(message, str)}


def _ids(catalog: Catalog) -> set[str]:
    return {m.id for m in catalog if isinstance(m.id, str) and m.id}


def test_only_the_public_page_modules_are_extracted_and_the_desk_stays_english() -> None:
    method_map, _options = _mapping()
    assert {pattern for pattern, method in method_map if method == "python"} == PUBLIC_MODULES
    assert dict(method_map)["companion/core/partner_notice.py"].endswith("public_language:extract_infections")
    files = set(_extracted().values())
    assert {"routes_notices.py", "routes_smart.py", "partner_notice.py"} <= {Path(f).name for f in files}
    assert not any("desk" in f or "routes_admin" in f for f in files)


def test_every_text_of_the_public_pages_is_in_the_spanish_catalog_and_translated() -> None:
    extracted = set(_extracted())
    assert len(extracted) > 50  # the extraction really ran over the pages and the infections
    for infection in INFECTIONS.values():  # the core's English reached the catalog through its extractor
        assert {infection.test, infection.why} <= extracted, infection.key
    catalog = _po("es")
    missing = sorted(extracted - _ids(catalog))
    assert not missing, f"not in the public es catalog (run `make catalog` and translate): {missing[:10]}"
    untranslated = [m.id for m in catalog if m.id and (m.fuzzy or not m.string)]
    assert not untranslated, f"no Spanish yet: {untranslated[:10]}"
    assert set(LANGUAGES) == {"en", "es"}


def test_the_template_lists_what_the_source_says() -> None:
    with open(locale_dir() / "public.pot", "rb") as f:
        template = read_po(f)
    assert _ids(template) == set(_extracted()), "public.pot is stale: run `make catalog`"


def test_translations_keep_every_placeholder() -> None:
    for m in _po("es"):
        if isinstance(m.id, str) and m.id:
            assert set(FIELD.findall(m.id)) == set(FIELD.findall(str(m.string))), (m.id, m.string)


def test_the_committed_mo_is_the_po_compiled_and_the_pages_read_it() -> None:
    po = _po("es")
    with open(locale_dir() / "es" / "LC_MESSAGES" / "public.mo", "rb") as f:
        mo = read_mo(f)
    assert {m.id: m.string for m in mo if m.id} == {m.id: m.string for m in po if m.id}, \
        "public.mo is stale: run `make catalog`"
    buffer = io.BytesIO()
    write_mo(buffer, po)
    assert buffer.getvalue()
    assert PageLanguage("es")._("This link has expired.") == "Este enlace ha caducado."
    assert PageLanguage("en")._("This link has expired.") == "This link has expired."


def test_the_package_ships_the_catalog() -> None:
    with open(REPO / "pyproject.toml", "rb") as f:
        shipped = tomllib.load(f)["tool"]["setuptools"]["package-data"]["companion"]
    root = REPO / "companion"
    for path in (locale_dir() / "es" / "LC_MESSAGES" / "public.mo", locale_dir() / "es" / "LC_MESSAGES" / "public.po"):
        assert path.is_file()
        assert any(fnmatch.fnmatch(str(path.relative_to(root)), glob) for glob in shipped), path


def test_no_public_text_is_marked_inside_an_f_string() -> None:
    """Babel's extractor reads Python 3.11's f-string as one token: a ``_()`` inside it never reaches
    the catalog, and the partner would read English."""
    hidden = []
    for name in sorted(PUBLIC_MODULES):
        for node in ast.walk(ast.parse((REPO / name).read_text(encoding="utf-8"))):
            if isinstance(node, ast.JoinedStr):
                for call in ast.walk(node):
                    if isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute | ast.Name) and (
                            getattr(call.func, "attr", None) or getattr(call.func, "id", None)) in ("_", "N_") \
                            and any(isinstance(a, ast.Constant) for a in call.args):
                        hidden.append(f"{name}:{call.lineno}")
    assert not hidden, f"_() with a literal inside an f-string: {hidden}"
