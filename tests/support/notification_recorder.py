"""A recording ``org.freedesktop.Notifications`` service for tests (pure Python, jeepney).

Run as ``python -m tests.support.notification_recorder BUS_ADDRESS OUT_FILE``: it owns
the name on that bus, prints ``ready`` once it does, and appends one JSON line
per call to ``OUT_FILE`` — written and fsynced *before* the reply, so a test
can read the file as soon as the client (plyer, ``notify-send``) returns,
without sleeping. Implements what clients call: ``Notify`` (``susssasa{sv}i``
-> ``u``), ``GetCapabilities``, ``GetServerInformation``, ``CloseNotification``.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

from jeepney import HeaderFields, MessageType, new_error, new_method_return
from jeepney.bus_messages import message_bus
from jeepney.io.blocking import open_dbus_connection

NAME = "org.freedesktop.Notifications"
DO_NOT_QUEUE = 4
PRIMARY_OWNER = 1


def _plain(value: Any) -> Any:
    """Variants (signature, value) and bytes -> JSON-friendly values."""
    if isinstance(value, tuple) and len(value) == 2 and isinstance(value[0], str):
        return _plain(value[1])
    if isinstance(value, bytes):
        return value.decode(errors="replace")
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def _record(out: Path, entry: dict[str, Any]) -> None:
    with out.open("a", encoding="utf-8") as fh:
        fh.write(json.dumps(entry) + "\n")
        fh.flush()
        os.fsync(fh.fileno())


def serve(address: str, out: Path) -> None:
    conn = open_dbus_connection(bus=address)
    (answer,) = conn.send_and_get_reply(message_bus.RequestName(NAME, DO_NOT_QUEUE)).body
    if answer != PRIMARY_OWNER:
        raise SystemExit(f"could not own {NAME} (RequestName answered {answer})")
    print("ready", flush=True)
    next_id = 1
    while True:
        msg = conn.receive()
        if msg.header.message_type != MessageType.method_call:
            continue
        member = msg.header.fields.get(HeaderFields.member)
        if member == "Notify":
            app_name, replaces_id, icon, summary, body, actions, hints, timeout = msg.body
            _record(out, {"method": "Notify", "id": next_id, "app_name": app_name, "replaces_id": replaces_id,
                          "app_icon": icon, "summary": summary, "body": body, "actions": list(actions),
                          "hints": _plain(hints), "expire_timeout": timeout})
            conn.send(new_method_return(msg, "u", (next_id,)))
            next_id += 1
        elif member == "GetCapabilities":
            conn.send(new_method_return(msg, "as", (["body"],)))
        elif member == "GetServerInformation":
            conn.send(new_method_return(msg, "ssss", ("notification-recorder", "tests", "1.0", "1.2")))
        elif member == "CloseNotification":
            _record(out, {"method": "CloseNotification", "id": msg.body[0]})
            conn.send(new_method_return(msg))
        elif member == "Ping":
            conn.send(new_method_return(msg))
        else:
            conn.send(new_error(msg, "org.freedesktop.DBus.Error.UnknownMethod", "s", (f"no method {member}",)))


if __name__ == "__main__":
    serve(sys.argv[1], Path(sys.argv[2]))
