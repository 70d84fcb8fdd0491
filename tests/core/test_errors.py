"""The one exception tree: every exception class of the product derives from CompanionError and is
drawn in :mod:`companion.core.errors`' docstring.

Read from the source (no import of the Flet screens needed): each ``class X(Base)`` under
``companion/`` whose bases lead to a built-in exception must lead there through CompanionError.
"""

from __future__ import annotations

import ast
import builtins
import re
from pathlib import Path

import companion
from companion.core import errors

PACKAGE = Path(companion.__file__).parent
BUILTIN_EXCEPTIONS = {name for name, value in vars(builtins).items()
                      if isinstance(value, type) and issubclass(value, BaseException)}


def _classes() -> dict[str, tuple[str, list[str]]]:
    """Class name -> (file, names of its bases) for every class in the package."""
    found: dict[str, tuple[str, list[str]]] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ClassDef):
                bases = [b.id if isinstance(b, ast.Name) else b.attr if isinstance(b, ast.Attribute) else ""
                         for b in node.bases]
                found[node.name] = (str(path.relative_to(PACKAGE.parent)), bases)
    return found


def _roots(name: str, classes: dict[str, tuple[str, list[str]]], seen: frozenset[str] = frozenset()) -> set[str]:
    """The built-in exceptions and CompanionError that ``name``'s bases lead to."""
    if name == "CompanionError" or name in BUILTIN_EXCEPTIONS:
        return {name}
    if name not in classes or name in seen:
        return set()
    return set().union(*(_roots(b, classes, seen | {name}) for b in classes[name][1]), set())


def test_every_exception_class_derives_from_companion_error() -> None:
    classes = _classes()
    outside = sorted(f"{file}: {name}" for name, (file, bases) in classes.items()
                     if name != "CompanionError" and (roots := _roots(name, classes))
                     and "CompanionError" not in roots)
    assert outside == [], f"exceptions outside the one tree (derive them from a CompanionError class): {outside}"


def test_every_exception_class_is_drawn_in_the_tree() -> None:
    classes = _classes()
    tree = errors.__doc__ or ""
    ours = sorted(name for name in classes if "CompanionError" in _roots(name, classes))
    assert ours, "no exception classes found"
    missing = [name for name in ours if not re.search(rf"\b{name}\b", tree)]
    assert missing == [], f"companion.core.errors' docstring should draw {missing}"
