"""Encryption of secret datastore values, in the format st2 uses.

st2 (`st2common/util/crypto.py`, commit c2eaf56) keeps the keyczar format it started with: an
AES-256 key plus an HMAC-SHA1 key, stored as keyczar JSON (`aesKeyString`, `hmacKey.hmacKeyString`,
URL-safe base64 without padding). A value is encrypted as

    header (b"00000", unused) + IV (16 random bytes) + AES-CBC(PKCS#7-padded UTF-8 plaintext)

followed by the HMAC-SHA1 of all of that, and the whole is shown as upper-case hex. This module
implements the same construction with the `cryptography` package, so ciphertexts look and behave
like real ones: different on every call, and rejected when altered.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hmac as std_hmac
import json
import os
from dataclasses import dataclass

from cryptography.hazmat.primitives import hashes, hmac, padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

__all__ = ["CryptoError", "CryptoKey", "decrypt", "encrypt", "generate_key"]

KEY_SIZE_BITS = 256
HEADER = b"00000"
BLOCK_SIZE = 16
SIGNATURE_SIZE = 20  # HMAC-SHA1


class CryptoError(ValueError):
    """A ciphertext is malformed, was altered, or was made with another key."""


def _b64_encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def _b64_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass(frozen=True)
class CryptoKey:
    """An AES key with its HMAC key (both 32 bytes for AES-256)."""

    aes_key: bytes
    hmac_key: bytes

    def to_json(self) -> str:
        """The key in keyczar JSON, the format of st2's `datastore_key.json`."""
        size = len(self.aes_key) * 8
        return json.dumps(
            {
                "hmacKey": {"hmacKeyString": _b64_encode(self.hmac_key), "size": len(self.hmac_key) * 8},
                "aesKeyString": _b64_encode(self.aes_key),
                "mode": "CBC",
                "size": size,
            }
        )

    @classmethod
    def from_json(cls, text: str) -> CryptoKey:
        try:
            data = json.loads(text)
            key = cls(_b64_decode(data["aesKeyString"]), _b64_decode(data["hmacKey"]["hmacKeyString"]))
        except (ValueError, KeyError, TypeError) as exc:
            raise CryptoError(f"Invalid or malformed key: {exc}") from exc
        if len(key.aes_key) * 8 < 128 or str(data.get("mode", "CBC")).upper() != "CBC":
            raise CryptoError("Unsupported key: AES-CBC with at least 128 bits is required.")
        return key


def generate_key() -> str:
    """A new random AES-256 key with its HMAC key, as keyczar JSON text (what the server stores)."""
    return CryptoKey(os.urandom(KEY_SIZE_BITS // 8), os.urandom(KEY_SIZE_BITS // 8)).to_json()


@functools.lru_cache(maxsize=8)
def _parse_key(text: str) -> CryptoKey:
    return CryptoKey.from_json(text)


def _key(key: CryptoKey | str) -> CryptoKey:
    return key if isinstance(key, CryptoKey) else _parse_key(key)


def _signature(key: CryptoKey, message: bytes) -> bytes:
    mac = hmac.HMAC(key.hmac_key, hashes.SHA1())
    mac.update(message)
    return mac.finalize()


def encrypt(key: CryptoKey | str, plaintext: str) -> str:
    """Encrypt a string with a key (a `CryptoKey` or its JSON); returns upper-case hex, different
    on every call."""
    key = _key(key)
    padder = padding.PKCS7(BLOCK_SIZE * 8).padder()
    padded = padder.update(plaintext.encode("utf-8")) + padder.finalize()
    iv = os.urandom(BLOCK_SIZE)
    encryptor = Cipher(algorithms.AES(key.aes_key), modes.CBC(iv)).encryptor()
    message = HEADER + iv + encryptor.update(padded) + encryptor.finalize()
    return binascii.hexlify(message + _signature(key, message)).decode("ascii").upper()


def decrypt(key: CryptoKey | str, ciphertext: str) -> str:
    """Decrypt what `encrypt` returned; raises `CryptoError` if it is malformed or was altered."""
    key = _key(key)
    try:
        raw = binascii.unhexlify(ciphertext)
    except (binascii.Error, ValueError, TypeError) as exc:
        raise CryptoError("Invalid or malformed ciphertext (not hex)") from exc
    body = raw[len(HEADER) :]
    if len(body) < BLOCK_SIZE + SIGNATURE_SIZE or (len(body) - SIGNATURE_SIZE) % BLOCK_SIZE:
        raise CryptoError("Invalid or malformed ciphertext (too short)")
    message, signature = raw[:-SIGNATURE_SIZE], raw[-SIGNATURE_SIZE:]
    if not std_hmac.compare_digest(_signature(key, message), signature):
        raise CryptoError("Ciphertext integrity check failed: it was altered or made with another key")
    iv, encrypted = body[:BLOCK_SIZE], body[BLOCK_SIZE:-SIGNATURE_SIZE]
    decryptor = Cipher(algorithms.AES(key.aes_key), modes.CBC(iv)).decryptor()
    padded = decryptor.update(encrypted) + decryptor.finalize()
    try:
        unpadder = padding.PKCS7(BLOCK_SIZE * 8).unpadder()
        return (unpadder.update(padded) + unpadder.finalize()).decode("utf-8")
    except ValueError as exc:
        raise CryptoError("Invalid or malformed ciphertext (bad padding)") from exc
