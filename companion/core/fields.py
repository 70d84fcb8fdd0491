"""Field readers that validate one value of a decoded JSON object.

Used by :mod:`companion.core.models` and :mod:`companion.core.protocol` (stdlib only)
so that every parser names the bad field the same way: each reader takes the
mapping, the key and the dotted path of the mapping, and raises
:class:`~companion.core.errors.RecordError` naming ``path.key``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any, TypeVar

from .errors import RecordError

T = TypeVar("T")

_MISSING = object()


def _where(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def parse_language(raw: str | None) -> str | None:
    """A language code as the wire carries it (``es``: 2 or 3 ASCII lower-case letters), else ``None``."""
    if raw is None or not 2 <= len(raw) <= 3 or not raw.isascii() or not raw.isalpha() or not raw.islower():
        return None
    return raw


def require_mapping(value: Any, path: str) -> Mapping[str, Any]:
    if type(value) is dict:  # what json.loads makes: the common case, without the ABC check
        for key in value:
            if type(key) is not str and not isinstance(key, str):
                raise RecordError(path or "record", "object keys must be strings")
        return value
    if not isinstance(value, Mapping):
        raise RecordError(path or "record", f"expected an object, got {type(value).__name__}")
    for key in value:
        if not isinstance(key, str):
            raise RecordError(path or "record", "object keys must be strings")
    return value


def reject_unknown(obj: Mapping[str, Any], allowed: frozenset[str] | set[str], path: str) -> None:
    if obj.keys() <= allowed:
        return
    extra = sorted(set(obj) - set(allowed))
    if extra:
        raise RecordError(_where(path, extra[0]), "unknown field")


def get_str(
    obj: Mapping[str, Any], key: str, path: str = "", *, max_len: int = 10_000, allow_empty: bool = False
) -> str:
    value = obj.get(key)
    if type(value) is str and len(value) <= max_len and (allow_empty or (value and not value.isspace())):
        return value  # the common case; anything else is named below
    value = obj.get(key, _MISSING)
    if value is _MISSING or value is None:
        raise RecordError(_where(path, key), "is required")
    if not isinstance(value, str):
        raise RecordError(_where(path, key), f"expected text, got {type(value).__name__}")
    if not allow_empty and (not value or value.isspace()):  # isspace: what strip() strips, without a copy
        raise RecordError(_where(path, key), "must not be empty")
    if len(value) > max_len:
        raise RecordError(_where(path, key), f"longer than {max_len} characters")
    return value


def opt_str(obj: Mapping[str, Any], key: str, path: str = "", *, max_len: int = 10_000) -> str | None:
    value = obj.get(key)
    if value is None:
        return None
    if type(value) is str and len(value) <= max_len:
        return value
    return get_str(obj, key, path, max_len=max_len, allow_empty=True)


def get_bool(obj: Mapping[str, Any], key: str, path: str = "", *, default: bool | None = None) -> bool:
    value = obj.get(key, _MISSING)
    if value is True or value is False:
        return value
    if value is _MISSING or value is None:
        if default is None:
            raise RecordError(_where(path, key), "is required")
        return default
    if not isinstance(value, bool):
        raise RecordError(_where(path, key), f"expected true or false, got {type(value).__name__}")
    return value


def get_int(
    obj: Mapping[str, Any],
    key: str,
    path: str = "",
    *,
    minimum: int | None = None,
    maximum: int | None = None,
    default: int | None = None,
) -> int:
    value = obj.get(key, _MISSING)
    if type(value) is int and (minimum is None or value >= minimum) and (maximum is None or value <= maximum):
        return value  # the common case; anything else is named below
    if value is _MISSING or value is None:
        if default is None:
            raise RecordError(_where(path, key), "is required")
        return default
    if isinstance(value, bool) or not isinstance(value, int):
        raise RecordError(_where(path, key), f"expected a whole number, got {type(value).__name__}")
    if minimum is not None and value < minimum:
        raise RecordError(_where(path, key), f"must be at least {minimum}")
    if maximum is not None and value > maximum:
        raise RecordError(_where(path, key), f"must be at most {maximum}")
    return value


def get_choice(
    obj: Mapping[str, Any], key: str, choices: tuple[str, ...], path: str = "", *, default: str | None = None
) -> str:
    value = obj.get(key, _MISSING)
    if type(value) is str and value in choices:
        return value
    if (value is _MISSING or value is None) and default is not None:
        return default
    text = get_str(obj, key, path)
    if text not in choices:
        raise RecordError(_where(path, key), f"must be one of {', '.join(choices)}")
    return text


def parse_datetime(text: str, where: str) -> datetime:
    """ISO 8601 with an offset -> aware UTC datetime; naive times, and times with no UTC year (1–9999), are refused."""
    if not isinstance(text, str):
        raise RecordError(where, f"expected an ISO 8601 time, got {type(text).__name__}")
    try:
        value = datetime.fromisoformat(text)  # Python 3.11 reads a trailing "Z" itself
    except ValueError:
        raise RecordError(where, f"not an ISO 8601 time: {text[:40]!r}") from None
    if value.tzinfo is UTC:  # what iso() writes: the common case, already normal
        return value
    if value.tzinfo is None or value.utcoffset() is None:
        raise RecordError(where, "time must carry a UTC offset (e.g. 2026-01-02T10:00:00Z)")
    try:
        return value.astimezone(UTC)
    except OverflowError:  # 0001-01-01T00:00+05:00 is before year 1 in UTC (9999-12-31T23:00-05:00 after 9999)
        raise RecordError(where, f"time out of range: {text[:40]!r}") from None


def get_datetime(obj: Mapping[str, Any], key: str, path: str = "") -> datetime:
    value = obj.get(key, _MISSING)
    if value is _MISSING or value is None:
        raise RecordError(_where(path, key), "is required")
    return parse_datetime(value, _where(path, key))


def opt_datetime(obj: Mapping[str, Any], key: str, path: str = "") -> datetime | None:
    if obj.get(key) is None:
        return None
    return get_datetime(obj, key, path)


def get_date(obj: Mapping[str, Any], key: str, path: str = "") -> date:
    value = obj.get(key, _MISSING)
    if value is _MISSING or value is None:
        raise RecordError(_where(path, key), "is required")
    if not isinstance(value, str):
        raise RecordError(_where(path, key), f"expected a date YYYY-MM-DD, got {type(value).__name__}")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise RecordError(_where(path, key), f"not a date YYYY-MM-DD: {value[:40]!r}") from None


def opt_date(obj: Mapping[str, Any], key: str, path: str = "") -> date | None:
    if obj.get(key) is None:
        return None
    return get_date(obj, key, path)


def get_str_list(obj: Mapping[str, Any], key: str, path: str = "", *, max_items: int = 50) -> tuple[str, ...]:
    value = obj.get(key)
    if value is None:
        return ()
    if not isinstance(value, list):
        raise RecordError(_where(path, key), "expected a list of text")
    if len(value) > max_items:
        raise RecordError(_where(path, key), f"more than {max_items} items")
    for i, item in enumerate(value):
        if not isinstance(item, str):
            raise RecordError(f"{_where(path, key)}[{i}]", "expected text")
    return tuple(value)


def iso(value: datetime | None) -> str | None:
    """Aware datetime -> ISO 8601 in UTC with a ``Z``; ``None`` passes through."""
    if value is None:
        return None
    if value.tzinfo is not UTC:  # UTC already (what parse_datetime makes): no conversion
        if value.tzinfo is None:
            raise ValueError("naive datetime refused: store aware UTC times only")
        value = value.astimezone(UTC)
    return value.isoformat()[:-6] + "Z"  # isoformat of a UTC time ends with +00:00


def utcnow() -> datetime:
    return datetime.now(UTC)
