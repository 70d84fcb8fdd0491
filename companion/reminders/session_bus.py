"""Is there a desktop notification service on the D-Bus session bus? (Linux; stdlib only)

plyer's Linux backends (dbus-python, ``notify-send``) fail silently when no
session bus or no notification daemon is there, so the app asks the bus
itself before it claims notifications work: connect to the session bus,
authenticate, ``Hello``, then ``NameHasOwner("org.freedesktop.Notifications")``
(or find the name activatable). A few hundred bytes, about a millisecond, no
notification shown.

Speaks just enough of the D-Bus wire protocol for those calls (little-endian
method calls with string arguments to ``org.freedesktop.DBus``), so it needs
no D-Bus library on the device.
"""

from __future__ import annotations

import os
import socket
import struct
from dataclasses import dataclass
from pathlib import Path

__all__ = ["BusProbe", "NOTIFICATIONS_NAME", "probe_notification_service", "session_bus_address"]

NOTIFICATIONS_NAME = "org.freedesktop.Notifications"
_DBUS = "org.freedesktop.DBus"
_METHOD_RETURN, _ERROR = 2, 3


@dataclass(frozen=True, slots=True)
class BusProbe:
    ok: bool
    detail: str


def session_bus_address() -> str | None:
    """The address clients will use: ``DBUS_SESSION_BUS_ADDRESS``, else the systemd user bus socket."""
    env = os.environ.get("DBUS_SESSION_BUS_ADDRESS")
    if env:
        return env
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    if runtime and (Path(runtime) / "bus").exists():
        return f"unix:path={Path(runtime) / 'bus'}"
    return None


def _unix_target(address: str) -> str | None:
    for entry in address.split(";"):
        transport, _, rest = entry.partition(":")
        if transport != "unix":
            continue
        params = dict(kv.split("=", 1) for kv in rest.split(",") if "=" in kv)
        if "path" in params:
            return params["path"]
        if "abstract" in params:
            return "\0" + params["abstract"]
    return None


def _pad(buf: bytearray, align: int) -> None:
    buf.extend(b"\0" * (-len(buf) % align))


def _put_string(buf: bytearray, text: str) -> None:
    _pad(buf, 4)
    raw = text.encode()
    buf.extend(struct.pack("<I", len(raw)) + raw + b"\0")


def _put_field(buf: bytearray, code: int, sig: str, value: str) -> None:
    _pad(buf, 8)
    buf.extend(bytes([code, 1]) + sig.encode() + b"\0")
    if sig == "g":
        buf.extend(bytes([len(value)]) + value.encode() + b"\0")
    else:
        _put_string(buf, value)


def _method_call(serial: int, member: str, *args: str) -> bytes:
    body = bytearray()
    for arg in args:
        _put_string(body, arg)
    fields = bytearray()
    _put_field(fields, 1, "o", "/org/freedesktop/DBus")
    _put_field(fields, 2, "s", _DBUS)
    _put_field(fields, 3, "s", member)
    _put_field(fields, 6, "s", _DBUS)
    if args:
        _put_field(fields, 8, "g", "s" * len(args))
    msg = bytearray(b"l" + bytes([1, 0, 1]) + struct.pack("<III", len(body), serial, len(fields)))
    msg.extend(fields)
    _pad(msg, 8)
    return bytes(msg + body)


class _Wire:
    def __init__(self, sock: socket.socket) -> None:
        self.sock, self.buf = sock, b""

    def read(self, n: int) -> bytes:
        while len(self.buf) < n:
            chunk = self.sock.recv(4096)
            if not chunk:
                raise ConnectionError("the bus closed the connection")
            self.buf += chunk
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def line(self) -> bytes:
        while b"\r\n" not in self.buf:
            chunk = self.sock.recv(4096)
            if not chunk:
                raise ConnectionError("the bus closed the connection")
            self.buf += chunk
        out, _, self.buf = self.buf.partition(b"\r\n")
        return out

    def reply(self) -> tuple[int, bytes, str]:
        """The next method return or error: (type, body, endianness for struct); signals are skipped."""
        while True:
            head = self.read(16)
            order = "<" if head[:1] == b"l" else ">"
            body_len, _serial, fields_len = struct.unpack(order + "III", head[4:16])
            self.read(fields_len + (-(16 + fields_len) % 8))
            body = self.read(body_len)
            if head[1] in (_METHOD_RETURN, _ERROR):
                return head[1], body, order


def _strings(body: bytes, order: str) -> list[str]:
    """Decode an ``as`` body."""
    (size,) = struct.unpack(order + "I", body[:4])
    pos, end, out = 4, 4 + size, []
    while pos < end:
        pos += -pos % 4
        (n,) = struct.unpack(order + "I", body[pos : pos + 4])
        out.append(body[pos + 4 : pos + 4 + n].decode(errors="replace"))
        pos += 4 + n + 1
    return out


def probe_notification_service(address: str | None = None, timeout: float = 1.0) -> BusProbe:
    """Ask the session bus whether a notification service is (or can be started) there; never raises."""
    address = address or session_bus_address()
    if not address:
        return BusProbe(False, "no D-Bus session bus (DBUS_SESSION_BUS_ADDRESS is not set)")
    target = _unix_target(address)
    if target is None:
        return BusProbe(False, f"unsupported D-Bus address {address.split(':', 1)[0]!r}")
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(timeout)
            sock.connect(target)
            wire = _Wire(sock)
            sock.sendall(b"\0AUTH EXTERNAL " + str(os.getuid()).encode().hex().encode() + b"\r\n")
            if not wire.line().startswith(b"OK "):
                return BusProbe(False, "the session bus refused authentication")
            sock.sendall(b"BEGIN\r\n" + _method_call(1, "Hello"))
            wire.reply()
            sock.sendall(_method_call(2, "NameHasOwner", NOTIFICATIONS_NAME))
            kind, body, order = wire.reply()
            if kind == _METHOD_RETURN and struct.unpack(order + "I", body[:4])[0]:
                return BusProbe(True, f"{NOTIFICATIONS_NAME} is running on the session bus")
            sock.sendall(_method_call(3, "ListActivatableNames"))
            kind, body, order = wire.reply()
            if kind == _METHOD_RETURN and NOTIFICATIONS_NAME in _strings(body, order):
                return BusProbe(True, f"{NOTIFICATIONS_NAME} can be started on the session bus")
            return BusProbe(False, f"no notification service ({NOTIFICATIONS_NAME}) on the session bus")
    except (OSError, ConnectionError, struct.error) as exc:
        return BusProbe(False, f"the session bus does not answer ({type(exc).__name__}: {exc})")
