"""The base is compressed before it is sealed; a base sealed before compression still opens."""

from __future__ import annotations

import json
import zlib
from dataclasses import replace
from pathlib import Path

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from companion.core.models import Message
from companion.vault import PasscodeKeyProvider, Vault
from companion.vault.fileformat import HEADER_SIZE, parse_file
from tests.fixtures.vault import T0, VAULT_PASSCODE


def _plaintext(folder: Path) -> bytes:
    """The decrypted (not decompressed) body of the current base, opened the way unlock does."""
    sealed = parse_file((folder / "vault.pcv").read_bytes())
    kek = PasscodeKeyProvider().derive_kek(VAULT_PASSCODE, sealed.slot.salt, sealed.slot.params)
    return AESGCM(sealed.slot.unwrap(kek)).decrypt(sealed.data_nonce, sealed.body, sealed.header)


def _messages(n: int) -> list[Message]:
    body = "Your results from the visit on Monday are ready to view in the app. " * 4
    return [Message(id=f"m{i}", thread="general", author="clinic", body=body, sent_at=T0) for i in range(n)]


def test_a_compacted_base_is_compressed_and_reads_back(vault_folder: Path) -> None:
    messages = _messages(300)
    with Vault.create(vault_folder, VAULT_PASSCODE) as vault:
        vault.messages.upsert_many(messages)
        vault.compact()
    plaintext = _plaintext(vault_folder)
    document = zlib.decompress(plaintext)
    assert plaintext[:1] == b"\x78" and json.loads(document)["message"] == {m.id: m.to_dict() for m in messages}
    assert (vault_folder / "vault.pcv").stat().st_size < len(document) / 5
    with Vault.open(vault_folder, VAULT_PASSCODE) as vault:
        assert vault.messages.all() == messages


def test_a_base_sealed_before_compression_opens_and_the_next_compaction_compresses_it(vault_folder: Path) -> None:
    messages = _messages(20)
    with Vault.create(vault_folder, VAULT_PASSCODE) as vault:
        vault.messages.upsert_many(messages)
        vault.compact()
    # Re-seal the same base the way it was written before compression: the JSON itself.
    path = vault_folder / "vault.pcv"
    sealed = parse_file(path.read_bytes())
    kek = PasscodeKeyProvider().derive_kek(VAULT_PASSCODE, sealed.slot.salt, sealed.slot.params)
    dek = sealed.slot.unwrap(kek)
    document = zlib.decompress(AESGCM(dek).decrypt(sealed.data_nonce, sealed.body, sealed.header))
    header = path.read_bytes()[:HEADER_SIZE]
    path.write_bytes(header + AESGCM(dek).encrypt(sealed.data_nonce, document, header))
    assert _plaintext(vault_folder)[:1] == b"{"

    with Vault.open(vault_folder, VAULT_PASSCODE) as vault:
        assert vault.messages.all() == messages
        assert not vault.recovered
        vault.messages.upsert(replace(messages[0], body="edited"))
        vault.compact()
    assert _plaintext(vault_folder)[:1] == b"\x78"
    with Vault.open(vault_folder, VAULT_PASSCODE) as vault:
        assert vault.messages.get("m0") == replace(messages[0], body="edited")
        assert vault.messages.count() == 20
