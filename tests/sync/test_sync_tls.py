"""TLS and address checks of the sync client against a local HTTPS server with a test CA.

Pinned CA accepted; a self-signed certificate, another CA, a wrong host name and an
expired certificate refused with one-line InsecureServer errors; plain ``http://`` to a
non-loopback host refused before any connection is attempted.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import httpx
import pytest
import trustme
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from companion.core.errors import InsecureServer
from companion.sync.client import build_client, check_server_url, pair
from companion.sync.transport import _tls_context, is_loopback, send_json
from companion.vault import ScryptParams, Vault
from tests.fixtures.sync import cli
from tests.support.tls_stub import https_stub

PASSCODE = "correct horse battery"


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


def _pem(ca: trustme.CA) -> str:
    return ca.cert_pem.bytes().decode()


def _pull(url: str, ca_pem: str | None) -> int:
    with build_client(url, ca_pem=ca_pem) as client:
        return send_json(client, "GET", "/v1/sync", token="x").status


def test_pinned_ca_is_accepted(ca: trustme.CA) -> None:
    with https_stub(ca.issue_cert("127.0.0.1")) as url:
        assert _pull(url, _pem(ca)) == 200


def test_pinned_context_trusts_only_that_ca(ca: trustme.CA) -> None:
    ctx = _tls_context(_pem(ca))
    assert len(ctx.get_ca_certs()) == 1
    assert ctx.check_hostname and ctx.verify_mode.name == "CERT_REQUIRED"


def _self_signed(tmp: Path) -> trustme.LeafCert:
    """A leaf certificate signed by its own key (what a careless server would present)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=30))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(__import__("ipaddress").ip_address(
                "127.0.0.1"))]), critical=False)
            .sign(key, hashes.SHA256()))
    cert_pem = cert.public_bytes(serialization.Encoding.PEM)
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    return trustme.LeafCert(key_pem, cert_pem, [])


@pytest.mark.parametrize("case", ["self-signed", "other CA", "wrong host", "expired", "not pinned"])
def test_bad_certificates_are_refused(ca: trustme.CA, case: str, tmp_path: Path) -> None:
    now = dt.datetime.now(dt.UTC)
    if case == "self-signed":
        cert = _self_signed(tmp_path)
    elif case == "other CA":
        cert = trustme.CA().issue_cert("127.0.0.1")
    elif case == "wrong host":
        cert = ca.issue_cert("clinic.example")
    elif case == "expired":
        cert = ca.issue_cert("127.0.0.1", not_before=now - dt.timedelta(days=30), not_after=now - dt.timedelta(days=1))
    else:
        cert = ca.issue_cert("127.0.0.1")
    with https_stub(cert) as url, pytest.raises(InsecureServer) as info:
        _pull(url, None if case == "not pinned" else _pem(ca))
    message = str(info.value)
    assert "\n" not in message and "certificate" in message
    if case == "expired":
        assert "expired" in message
    if case == "wrong host":
        assert "mismatch" in message.lower() or "host" in message.lower()


@pytest.mark.parametrize("url", ["http://clinic.example", "http://10.0.0.5:8765", "http://[2001:db8::1]/",
                                 "ftp://127.0.0.1", "https://", "http://user:pw@127.0.0.1"])
def test_insecure_addresses_are_refused_before_connecting(url: str) -> None:
    with pytest.raises(InsecureServer):
        check_server_url(url)
    with pytest.raises(InsecureServer):
        build_client(url)


@pytest.mark.parametrize("host,expected", [("127.0.0.1", True), ("127.8.9.10", True), ("::1", True),
                                           ("[::1]", True), ("localhost", True), ("10.0.0.1", False),
                                           ("clinic.example", False), ("localhost.evil.example", False)])
def test_loopback_detection(host: str, expected: bool) -> None:
    assert is_loopback(host) is expected


def test_pair_over_pinned_https_stores_the_pin(ca: trustme.CA, tmp_path: Path) -> None:
    ca_file = tmp_path / "clinic-ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    with https_stub(ca.issue_cert("127.0.0.1")) as url:
        with Vault.create(tmp_path / "v", PASSCODE, kdf=ScryptParams.fast()) as vault:
            pairing = pair(vault, url, "ABC-DEF-GHI", device_name="test", ca_file=ca_file)
            assert pairing.device_id == "dev_tls"
            assert vault.meta.get("sync.ca_pem") == _pem(ca)
        ca_file.unlink()  # the pin lives in the vault, not in the file
        with Vault.open(tmp_path / "v", PASSCODE) as vault:
            from companion.sync.client import client_for_vault
            with client_for_vault(vault) as client:
                assert send_json(client, "GET", "/v1/sync", token="x").status == 200


def test_pair_refuses_plain_http_to_a_remote_host_without_connecting(tmp_path: Path) -> None:
    calls: list[httpx.Request] = []
    def refuse(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return httpx.Response(500)

    transport = httpx.MockTransport(refuse)
    with Vault.create(tmp_path / "v", PASSCODE, kdf=ScryptParams.fast()) as vault:
        with pytest.raises(InsecureServer, match="https"):
            pair(vault, "http://clinic.example", "CODE", client=httpx.Client(transport=transport))
        assert vault.meta.get("sync.token") is None
    assert calls == []


def test_cli_pair_refuses_http_to_a_remote_host(tmp_path: Path) -> None:
    cli(tmp_path / "v", "init", check=True)
    done = cli(tmp_path / "v", "pair", "http://clinic.example:8765", "ABC-DEF")
    assert done.returncode == 1
    assert done.stderr.count("\n") == 1 and "https" in done.stderr and "Traceback" not in done.stderr
