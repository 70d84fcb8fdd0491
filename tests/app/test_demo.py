"""`make demo` never seeds a server it did not start: a port already taken is refused in one line."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from companion.core.errors import CompanionError
from companion.demo import _start_server


def test_a_taken_port_is_refused_before_anything_is_started(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(CompanionError) as refused:
            _start_server(f"sqlite:///{tmp_path / 'clinic.db'}", port, tmp_path / "server.log", None)
    assert str(refused.value) == (f"port {port} on 127.0.0.1 is in use: is another demo still running? "
                                  "Stop it first")
    assert not (tmp_path / "server.log").exists() and not (tmp_path / "clinic.db").exists()
