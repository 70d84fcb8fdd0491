"""The gettext catalogs are complete and current: a string a patient reads that is not in the Spanish
catalog, a stale .pot or .mo, a placeholder lost in translation, or a screen string not marked for
translation fails here."""

from __future__ import annotations

import ast
import io
import re
from pathlib import Path

from babel.messages.catalog import Catalog, Message
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import read_mo, write_mo
from babel.messages.pofile import read_po

from companion.i18n.catalog import LANGUAGES, locale_dir

REPO = Path(__file__).resolve().parents[2]
FIELD = re.compile(r"%\((\w+)\)s")


def _po(lang: str) -> Catalog:
    with open(locale_dir() / lang / "LC_MESSAGES" / "companion.po", "rb") as f:
        return read_po(f, locale=lang)


def _extracted() -> set[str | tuple[str, ...]]:
    """What ``make catalog`` extracts from the source now (babel.cfg), as msgids."""
    with open(REPO / "babel.cfg", encoding="utf-8") as f:
        # babel's parse_mapping_cfg has no annotations (the rest of babel has): its result is Any here
        method_map, options_map = parse_mapping_cfg(f)  # type: ignore[no-untyped-call]
    found: set[str | tuple[str, ...]] = set()
    for _name, _line, message, _comments, _context in extract_from_dir(str(REPO), method_map, options_map):
        found.add(message if isinstance(message, str) else tuple(message))
    return found


def _key(value: object) -> object:
    return tuple(value) if isinstance(value, list | tuple) else value


def _translated(message: Message) -> bool:
    """Whether ``message`` has its translation: its string, or every plural form, not empty."""
    string = message.string
    return bool(string) if isinstance(string, str) else string is not None and all(string)


def _ids(catalog: Catalog) -> set[str | tuple[str, ...]]:
    return {m.id if isinstance(m.id, str) else tuple(m.id) for m in catalog if m.id}


def test_every_language_but_english_has_a_catalog() -> None:
    assert set(LANGUAGES) == {"en", "es"}
    assert (locale_dir() / "es" / "LC_MESSAGES" / "companion.po").is_file()


def test_every_string_in_the_source_is_in_the_spanish_catalog_and_translated() -> None:
    extracted = _extracted()
    catalog = _po("es")
    assert len(extracted) > 400  # the extraction really ran over the app and the Learn library
    missing = sorted(map(str, extracted - _ids(catalog)))
    assert not missing, f"not in the es catalog (run `make catalog` and translate): {missing[:10]}"
    untranslated = [m.id for m in catalog if m.id and (m.fuzzy or not _translated(m))]
    assert not untranslated, f"no Spanish yet: {untranslated[:10]}"


def test_the_template_lists_what_the_source_says() -> None:
    with open(locale_dir() / "companion.pot", "rb") as f:
        template = read_po(f)
    assert _ids(template) == _extracted(), "companion.pot is stale: run `make catalog`"


def test_translations_keep_every_placeholder() -> None:
    for m in _po("es"):
        if not m.id:
            continue
        ids = [m.id] if isinstance(m.id, str) else list(m.id)
        assert m.string is not None, m.id
        strings = [m.string] if isinstance(m.string, str) else list(m.string)
        wanted = set().union(*(set(FIELD.findall(i)) for i in ids))
        for s in strings:
            # a singular may leave out the count ("a new message"), never anything else
            assert set(FIELD.findall(s)) <= wanted and wanted - {"n"} <= set(FIELD.findall(s)), (m.id, s)


def test_translated_markdown_keeps_each_block_kind() -> None:
    """A heading stays a heading, a list a list, a table a table (the Learn articles' blocks)."""
    for m in _po("es"):
        if (isinstance(m.id, str) and "\n" in m.id) or (isinstance(m.id, str) and m.id.startswith(("#", "- ", "|"))):
            assert isinstance(m.string, str)
            for mark in ("#", "- ", "|", "1. "):
                assert m.id.startswith(mark) == m.string.startswith(mark), (m.id[:40], m.string[:40])
            assert m.id.count("\n|") == m.string.count("\n|"), m.id[:40]  # as many table rows


def test_the_committed_mo_is_the_po_compiled() -> None:
    po = _po("es")
    with open(locale_dir() / "es" / "LC_MESSAGES" / "companion.mo", "rb") as f:
        mo = read_mo(f)
    def pairs(catalog: Catalog) -> dict[object, object]:
        return {_key(m.id): _key(m.string) for m in catalog if m.id}

    assert pairs(mo) == pairs(po), \
        "companion.mo is stale: run `make catalog`"
    buffer = io.BytesIO()
    write_mo(buffer, po)  # compiles
    assert buffer.getvalue()


# --- strings a screen shows that were never marked ------------------------------------------------------------

# helper -> the positions of its arguments that are words a patient reads
SHOWN_ARGS = {"Text": (0,), "muted": (0,), "title": (0,), "empty_note": (0,), "button": (1,), "header": (1,),
              "field": (2,), "_section": (0,), "FilledButton": (0,), "card": ()}
SHOWN_KEYWORDS = {"tooltip", "label", "hint", "helper", "dialog_title", "text"}
SCREENS = sorted((REPO / "companion" / "views").glob("*.py"))


def _name(call: ast.Call) -> str:
    f = call.func
    return f.attr if isinstance(f, ast.Attribute) else f.id if isinstance(f, ast.Name) else ""


def _bare_words(node: ast.AST) -> str | None:
    """The English words of a literal or an f-string not wrapped in ``_()``; None when it has none."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str) and re.search(r"[A-Za-z]{2}", node.value):
        return node.value
    if isinstance(node, ast.JoinedStr):
        text = "".join(v.value for v in node.values if isinstance(v, ast.Constant) and isinstance(v.value, str))
        return text if re.search(r"[A-Za-z]{2}", text) else None
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        return _bare_words(node.left) or _bare_words(node.right)
    if isinstance(node, ast.IfExp):
        return _bare_words(node.body) or _bare_words(node.orelse)
    return None


def test_no_screen_shows_a_string_that_is_not_in_the_catalog() -> None:
    assert SCREENS
    bare: list[str] = []
    for path in SCREENS:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            name = _name(node)
            shown = [node.args[i] for i in SHOWN_ARGS.get(name, ()) if i < len(node.args)]
            shown += [k.value for k in node.keywords if k.arg in SHOWN_KEYWORDS]
            for arg in shown:
                words = _bare_words(arg)
                if words is not None:
                    bare.append(f"{path.name}:{arg.lineno}: {words!r}")
    assert not bare, "shown without _(): " + "; ".join(bare)


def test_no_message_is_marked_inside_an_f_string() -> None:
    """Babel's extractor reads Python 3.11's f-string as one token: a ``_()`` inside it never reaches
    the catalog, and the patient would read English."""
    hidden = []
    for path in sorted((REPO / "companion").rglob("*.py")):
        if "clinic" in path.relative_to(REPO / "companion").parts[:1]:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.JoinedStr):
                for call in ast.walk(node):
                    if isinstance(call, ast.Call) and _name(call) in ("_", "N_", "ngettext", "gettext") and any(
                            isinstance(a, ast.Constant) for a in call.args):
                        hidden.append(f"{path.name}:{call.lineno}")
    assert not hidden, f"_() with a literal inside an f-string: {hidden}"


def test_the_check_above_finds_a_bare_string() -> None:
    tree = ast.parse('ft.Text("Hello there")\nmuted(f"Due {when}")\nft.Text(_("Fine"))\nbutton("x", "Go", go)')
    found = [_bare_words(a) for n in ast.walk(tree) if isinstance(n, ast.Call)
             for a in [n.args[i] for i in SHOWN_ARGS.get(_name(n), ()) if i < len(n.args)]]
    assert [w for w in found if w] == ["Hello there", "Due ", "Go"]
