"""A tiny HTTPS clinic stand-in (uvicorn + a ``trustme`` certificate) for the TLS tests.

It answers pairing and an empty pull like the real server; what the tests
check is the TLS handshake the client accepts or refuses, not the server.

    with https_stub(cert) as url:      # cert: a trustme.LeafCert
        client = build_client(url, ca_pem=ca.cert_pem.bytes().decode())
"""

from __future__ import annotations

import json
import tempfile
import threading
from collections.abc import Awaitable, Callable, Iterator, MutableMapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import trustme
import uvicorn

from .waiting import wait_until

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]

PAIRING: dict[str, object] = {"device_id": "dev_tls", "token": "tok-tls-secret", "patient_id": "pat_tls",
                              "clinic": {"name": "TLS clinic"}}
EMPTY_PAGE: dict[str, object] = {"changes": [], "cursor": "c0", "has_more": False}


async def stub_app(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] != "http":
        return
    more = True
    while more:
        event = await receive()
        more = bool(event.get("more_body"))
    path, method = scope["path"], scope["method"]
    if path == "/v1/devices" and method == "POST":
        status, body = 201, PAIRING
    elif path == "/v1/sync" and method == "GET":
        status, body = 200, EMPTY_PAGE
    else:
        status, body = 404, {"error": {"code": "not_found", "message": "no such path"}}
    raw = json.dumps(body).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(raw)).encode())]})
    await send({"type": "http.response.body", "body": raw})


@contextmanager
def https_stub(cert: trustme.LeafCert) -> Iterator[str]:
    """Serve :func:`stub_app` over TLS with ``cert`` on 127.0.0.1; yields ``https://127.0.0.1:PORT``."""
    with tempfile.TemporaryDirectory() as tmp:
        certfile, keyfile = Path(tmp, "cert.pem"), Path(tmp, "key.pem")
        cert.private_key_pem.write_to_path(str(keyfile))
        with open(certfile, "wb") as f:
            for blob in cert.cert_chain_pems:
                f.write(blob.bytes())
        config = uvicorn.Config(stub_app, host="127.0.0.1", port=0, ssl_certfile=str(certfile),
                                ssl_keyfile=str(keyfile), log_level="critical", lifespan="off")
        server = uvicorn.Server(config)
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        if not wait_until(lambda: server.started or not thread.is_alive(), 10, step=0.01) or not server.started:
            raise RuntimeError("the HTTPS stub did not start")
        port = server.servers[0].sockets[0].getsockname()[1]
        try:
            yield f"https://127.0.0.1:{port}"
        finally:
            server.should_exit = True
            thread.join(10)
