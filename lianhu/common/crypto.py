"""Personal data at rest: Fernet encryption plus a keyed hash for exact-match search.

Both keys are derived from one secret, LIANHU_DATA_KEY, with HKDF, so an operator keeps one value
safe. The hash is HMAC-SHA256 over a normalised value: equal inputs find each other, but without
the key a hash cannot be turned back into an ID number by trying the (small) space of valid ones.
"""

from __future__ import annotations

import base64
import hmac
import json
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


def _derive(info: bytes) -> bytes:
    secret = settings.LIANHU_DATA_KEY
    if not secret:
        raise ImproperlyConfigured(
            "LIANHU_DATA_KEY is not set: run `python manage.py init_keys` (writes data/local.env) "
            "or set it in the environment."
        )
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=b"lianhu", info=info).derive(secret.encode())


@lru_cache(maxsize=4)
def _keys(secret: str) -> tuple[Fernet, bytes]:
    return Fernet(base64.urlsafe_b64encode(_derive(b"encrypt"))), _derive(b"search-hash")


def _fernet() -> Fernet:
    return _keys(settings.LIANHU_DATA_KEY)[0]


def encrypt(value: str) -> str:
    if value == "":
        return ""
    return _fernet().encrypt(value.encode()).decode()


def decrypt(token: str) -> str:
    if token == "":
        return ""
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken:
        raise ImproperlyConfigured("personal data cannot be decrypted: LIANHU_DATA_KEY has changed") from None


def keyed_hash(normalized: str) -> str:
    if normalized == "":
        return ""
    # hmac.digest is the one-shot C path: the same HMAC-SHA256, without building an HMAC object per value.
    return hmac.digest(_keys(settings.LIANHU_DATA_KEY)[1], normalized.encode(), "sha256").hex()


def encrypt_json(value) -> str:
    if not value:
        return ""
    return encrypt(json.dumps(value, ensure_ascii=False))


def decrypt_json(token: str, default=None):
    if not token:
        return default
    return json.loads(decrypt(token))


def encrypt_bytes(value: bytes) -> bytes:
    """Seal a whole file (an uploaded spreadsheet holds ID numbers in clear)."""
    return _fernet().encrypt(value) if value else b""


def decrypt_bytes(token: bytes) -> bytes:
    if not token:
        return b""
    try:
        return _fernet().decrypt(bytes(token))
    except InvalidToken:
        raise ImproperlyConfigured("personal data cannot be decrypted: LIANHU_DATA_KEY has changed") from None
