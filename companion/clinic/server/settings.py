"""Server settings: where the database lives and the knobs clinic IT (and tests) may turn.

Everything comes from the environment so that several server processes behind a load balancer
share one configuration, and so tests can start a real server with, say, a 1-second pairing TTL:

==============================  =========================================================
``COMPANION_DATABASE_URL``      SQLAlchemy URL; ``--db`` wins. Default: SQLite file in the data folder
``COMPANION_SERVER_DATA``       data folder (default: the platform's user data folder)
``COMPANION_CLINIC_NAME``       shown to the app at pairing (default: the profile's ``[clinic] name``,
                                else "Your clinic")
``COMPANION_CLINIC_PROFILE``    path to the clinic profile, a TOML file in ``flet.toml``'s format
                                (``serve --profile`` wins). The server reads ``[clinic] name`` and
                                ``timezone`` (IANA, default UTC) and ``[schedule]``: ``opening``
                                hours per weekday, ``slot_minutes``, the default ``place`` and
                                ``providers`` (first = default); see
                                :mod:`companion.core.clinic_profile`. The desk shows times in that
                                zone and proposes free times within those hours. A bad value stops
                                the server with an error naming the key
``COMPANION_PAIRING_TTL``       seconds a pairing code lives (default 600)
``COMPANION_PAIRING_ATTEMPTS``  wrong tries that kill a code (default 5)
``COMPANION_PAIRING_RATE``      failed pairings per address per window: ``"10/600"``
``COMPANION_LOG_LEVEL``         ``info`` (default), ``debug``, ``warning``
``COMPANION_SESSION_IDLE``      seconds a desk sign-in survives without use (default 1800)
``COMPANION_SESSION_MAX``       seconds a desk sign-in lives at most (default 43200: a long shift)
``COMPANION_SIGNIN_FREE``       wrong passwords allowed before sign-in backs off (default 5)
``COMPANION_DESK_RELOAD``       seconds a closed desk tab's sign-in can come back on a reload, in
                                that browser only (default 60); after that, or at once with 0,
                                closing the tab signs the desk out
``COMPANION_TRUSTED_PROXIES``   comma-separated IPs or CIDR networks of the clinic's reverse
                                proxies (default none). Only a request whose direct peer is one
                                of them has its ``X-Forwarded-For`` read (the rightmost address
                                that is not a trusted proxy is the client), for rate limits,
                                sign-in backoff and the audit log; from anyone else the header is
                                ignored, so a client cannot pick the address it is counted under
``COMPANION_ALLOWED_ORIGINS``   comma-separated origins (``https://desk.clinic.example``, form
                                ``scheme://host[:port]``, http or https) from which a browser may
                                open the desk's websocket besides the server's own (default none)
==============================  =========================================================
"""

from __future__ import annotations

import ipaddress
import os
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from ...core.clinic_profile import ClinicSite, load_clinic_site
from ...core.errors import ConfigError

APP_DIR_NAME = "patient-companion-server"
Networks = tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]
_ORIGIN = re.compile(r"(https?)://([a-z0-9]([a-z0-9.-]*[a-z0-9])?|\[[0-9a-f:.]+\])(:([0-9]{1,5}))?")


def default_data_dir(env: Mapping[str, str] | None = None) -> Path:
    """The folder holding the SQLite database when no URL is given."""
    env = os.environ if env is None else env
    if env.get("COMPANION_SERVER_DATA"):
        return Path(env["COMPANION_SERVER_DATA"]).expanduser()
    home = Path.home()
    if sys.platform == "win32":
        base = Path(env.get("LOCALAPPDATA") or home / "AppData" / "Local")
    elif sys.platform == "darwin":
        base = home / "Library" / "Application Support"
    else:
        base = Path(env.get("XDG_DATA_HOME") or home / ".local" / "share")
    return base / APP_DIR_NAME


def normalise_db_url(url: str) -> str:
    """Accept the URL forms of CONTRACT.md and pick our drivers (psycopg 3 for PostgreSQL)."""
    url = url.strip()
    for prefix in ("postgresql+psycopg2://", "postgresql+psycopg://", "postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    if url.startswith("sqlite"):
        if not url.startswith(("sqlite:///", "sqlite+pysqlite:///")):
            raise ConfigError(f"database URL must look like sqlite:///file.db, got {url.split('://')[0]}://…")
        if url.split("///", 1)[1] in ("", ":memory:") or "mode=memory" in url:
            raise ConfigError("an in-memory SQLite database cannot be shared by the server's connections: use a file")
        return url
    scheme = url.split("://", 1)[0] if "://" in url else url[:20]
    raise ConfigError(f"unsupported database URL scheme {scheme!r}: use sqlite:///… or postgresql://…")


def resolve_db_url(cli_url: str | None, env: Mapping[str, str] | None = None) -> str:
    """``--db`` over ``COMPANION_DATABASE_URL`` over the SQLite file in the data folder."""
    env = os.environ if env is None else env
    url = cli_url or env.get("COMPANION_DATABASE_URL")
    if url:
        return normalise_db_url(url)
    folder = default_data_dir(env)
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    return f"sqlite:///{folder / 'clinic.db'}"


def _int(env: Mapping[str, str], key: str, default: int, minimum: int) -> int:
    raw = env.get(key)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{key}: expected a whole number, got {raw[:20]!r}") from None
    if value < minimum:
        raise ConfigError(f"{key}: must be at least {minimum}")
    return value


def _rate(env: Mapping[str, str], key: str, default: tuple[int, int]) -> tuple[int, int]:
    raw = env.get(key)
    if not raw:
        return default
    try:
        count, window = (int(x) for x in raw.split("/", 1))
    except ValueError:
        raise ConfigError(f"{key}: expected COUNT/SECONDS like 10/600, got {raw[:20]!r}") from None
    if count < 1 or window < 1:
        raise ConfigError(f"{key}: count and seconds must be positive")
    return count, window


def _items(env: Mapping[str, str], key: str) -> list[str]:
    return [item.strip() for item in (env.get(key) or "").split(",") if item.strip()]


def _networks(env: Mapping[str, str], key: str) -> Networks:
    out = []
    for item in _items(env, key):
        try:
            out.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            raise ConfigError(f"{key}: {item[:60]!r} is not an IP address or a CIDR network like 10.0.0.0/8") from None
    return tuple(out)


def _origins(env: Mapping[str, str], key: str) -> tuple[str, ...]:
    out = []
    for item in _items(env, key):
        origin = item.lower().removesuffix("/")
        match = _ORIGIN.fullmatch(origin)
        if match is None or (match.group(5) is not None and not 1 <= int(match.group(5)) <= 65535):
            raise ConfigError(f"{key}: {item[:80]!r} is not an origin of the form scheme://host[:port] "
                              "(like https://desk.clinic.example)")
        out.append(origin)
    return tuple(dict.fromkeys(out))


@dataclass(frozen=True, slots=True)
class Settings:
    """Resolved configuration of one server process."""

    db_url: str
    clinic_name: str = "Your clinic"
    pairing_ttl: int = 600
    pairing_attempts: int = 5
    pairing_rate_count: int = 10
    pairing_rate_window: int = 600
    log_level: str = "info"
    session_idle: int = 1800
    session_max: int = 43200
    signin_free: int = 5
    desk_reload: int = 60
    trusted_proxies: Networks = ()
    allowed_origins: tuple[str, ...] = ()
    site: ClinicSite = field(default_factory=ClinicSite)  # the clinic profile's name, time zone and schedule

    @classmethod
    def from_env(cls, db_url: str | None = None, env: Mapping[str, str] | None = None,
                 profile: str | None = None) -> Settings:
        """The settings of ``env`` (default the process's); ``profile`` (``--profile``) over
        ``COMPANION_CLINIC_PROFILE``."""
        env = os.environ if env is None else env
        profile = profile or env.get("COMPANION_CLINIC_PROFILE") or None
        site = load_clinic_site(profile) if profile else ClinicSite()
        count, window = _rate(env, "COMPANION_PAIRING_RATE", (10, 600))
        level = (env.get("COMPANION_LOG_LEVEL") or "info").lower()
        if level not in ("debug", "info", "warning", "error"):
            raise ConfigError("COMPANION_LOG_LEVEL: must be debug, info, warning or error")
        return cls(
            db_url=resolve_db_url(db_url, env),
            clinic_name=(env.get("COMPANION_CLINIC_NAME") or site.name)[:200],
            pairing_ttl=_int(env, "COMPANION_PAIRING_TTL", 600, 1),
            pairing_attempts=_int(env, "COMPANION_PAIRING_ATTEMPTS", 5, 1),
            pairing_rate_count=count,
            pairing_rate_window=window,
            log_level=level,
            session_idle=_int(env, "COMPANION_SESSION_IDLE", 1800, 1),
            session_max=_int(env, "COMPANION_SESSION_MAX", 43200, 1),
            signin_free=_int(env, "COMPANION_SIGNIN_FREE", 5, 1),
            desk_reload=_int(env, "COMPANION_DESK_RELOAD", 60, 0),
            trusted_proxies=_networks(env, "COMPANION_TRUSTED_PROXIES"),
            allowed_origins=_origins(env, "COMPANION_ALLOWED_ORIGINS"),
            site=site,
        )
