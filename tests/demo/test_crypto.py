"""Encryption of secret datastore values in st2's format (AES-CBC + HMAC-SHA1, upper-case hex)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from st2tui.demo.crypto import CryptoError, CryptoKey, decrypt, encrypt, generate_key

UPPER_HEX = re.compile(r"^[0-9A-F]+$")


@pytest.fixture(scope="module")
def key() -> str:
    return generate_key()


def test_values_round_trip(key):
    for plaintext in ["SuperSecret123", "", "späť ✓ 秘密", "x" * 1000]:
        assert decrypt(key, encrypt(key, plaintext)) == plaintext


def test_ciphertext_is_upper_case_hex_in_st2s_layout(key, contract: Path):
    real = json.loads((contract / "examples" / "keyvalue-secret.json").read_text())["value"]
    ours = encrypt(key, "SuperSecret123")  # the plaintext of the real example
    assert UPPER_HEX.match(ours)
    assert len(ours) == len(real)  # header + IV + one AES block + HMAC-SHA1
    assert ours[:10] == real[:10] == "3030303030"  # the unused keyczar header "00000"


def test_each_encryption_differs(key):
    values = {encrypt(key, "same") for _ in range(20)}
    assert len(values) == 20
    assert all(decrypt(key, value) == "same" for value in values)


def test_keys_are_aes_256_in_keyczar_json_and_differ_per_server(key):
    data = json.loads(key)
    assert data["mode"] == "CBC"
    assert data["size"] == 256
    assert data["hmacKey"]["size"] == 256
    parsed = CryptoKey.from_json(key)
    assert len(parsed.aes_key) == 32 and len(parsed.hmac_key) == 32
    assert CryptoKey.from_json(parsed.to_json()) == parsed
    assert generate_key() != key
    assert decrypt(parsed, encrypt(key, "either form of the key")) == "either form of the key"


def _flip(hex_text: str, index: int) -> str:
    replacement = "0" if hex_text[index] != "0" else "1"
    return hex_text[:index] + replacement + hex_text[index + 1 :]


@pytest.mark.parametrize(
    "tamper",
    [
        lambda c: _flip(c, 12),  # IV
        lambda c: _flip(c, 50),  # encrypted data
        lambda c: _flip(c, len(c) - 1),  # signature
        lambda c: c[:-2],  # truncated
        lambda c: c + "00",  # extended
        lambda c: c[:40],  # far too short
        lambda c: "ZZ" + c[2:],  # not hex
    ],
)
def test_altered_ciphertext_is_rejected(key, tamper):
    ciphertext = encrypt(key, "SuperSecret123")
    with pytest.raises(CryptoError):
        decrypt(key, tamper(ciphertext))


def test_ciphertext_from_another_key_is_rejected(key):
    with pytest.raises(CryptoError, match="integrity"):
        decrypt(generate_key(), encrypt(key, "value"))


def test_malformed_keys_are_refused():
    with pytest.raises(CryptoError):
        CryptoKey.from_json("{}")
    with pytest.raises(CryptoError):
        encrypt("not json", "value")
