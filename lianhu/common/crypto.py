"""Personal data at rest: AES-256-GCM encryption plus a keyed hash for exact-match search.

Both keys are derived from one secret, LIANHU_DATA_KEY, with HKDF, so an operator keeps one value
safe. The hash is HMAC-SHA256 over a normalised value: equal inputs find each other, but without
the key a hash cannot be turned back into an ID number by trying the (small) space of valid ones.

A token is "g1:" + urlsafe base64 of (12-byte random nonce, cipher text, 16-byte tag): the version
tag lets a future key or algorithm change tell old tokens from new ones. Sealed files (bytes) carry
the same tag and layout without the base64.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
from collections.abc import Callable
from functools import lru_cache

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

VERSION = "g1:"
_VERSION_BYTES = VERSION.encode()
NONCE_BYTES = 12
KEY_CHANGED = "personal data cannot be decrypted: LIANHU_DATA_KEY has changed"
# Tokens written before AES-GCM (Fernet, "gAAAA…") or by a later version: say so rather than blame the key.
UNKNOWN_FORMAT = f"personal data cannot be decrypted: sealed in a format this version does not know (not {VERSION})"


def _derive(info: bytes) -> bytes:
    secret = settings.LIANHU_DATA_KEY
    if not secret:
        raise ImproperlyConfigured(
            "LIANHU_DATA_KEY is not set: run `python manage.py init_keys` (writes data/local.env) "
            "or set it in the environment."
        )
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=b"lianhu", info=info).derive(secret.encode())


@lru_cache(maxsize=4)
def _keys(secret: str) -> tuple[AESGCM, tuple]:
    # HMAC-SHA256 (RFC 2104) with its two padded key blocks hashed once: copying those two states
    # per value costs a third of hmac.digest, which sets up the key again every time.
    block = _derive(b"search-hash").ljust(64, b"\0")
    inner = hashlib.sha256(bytes(b ^ 0x36 for b in block))
    outer = hashlib.sha256(bytes(b ^ 0x5C for b in block))
    return AESGCM(_derive(b"encrypt")), (inner, outer)


def _cipher() -> AESGCM:
    return _keys(settings.LIANHU_DATA_KEY)[0]


def _seal(data: bytes) -> bytes:
    nonce = os.urandom(NONCE_BYTES)
    return nonce + _cipher().encrypt(nonce, data, None)


def _open(sealed: bytes) -> bytes:
    try:
        return _cipher().decrypt(sealed[:NONCE_BYTES], sealed[NONCE_BYTES:], None)
    except (InvalidTag, ValueError):  # ValueError: too short to hold a nonce and a tag
        raise ImproperlyConfigured(KEY_CHANGED) from None


def encrypt(value: str) -> str:
    """The token of a value, a fresh nonce each time; "" stays ""."""
    if value == "":
        return ""
    return _token(_seal(value.encode()))


def encrypter() -> Callable[[str], str]:
    """encrypt bound to the current key, for sealing many values (an import seals 200k).

    Nonces are cut from one block of os.urandom at a time (one system call per 4,096 values
    instead of one each): still 96 random bits per value, as AES-GCM asks of random nonces.
    The block is the sealer's own and unlocked: one sealer per loop, never shared between threads.
    """
    seal = _cipher().encrypt
    urandom, token = os.urandom, _token
    pool, used = b"", 0
    pool_size = NONCE_BYTES * 4096

    def encrypt(value: str) -> str:
        nonlocal pool, used
        if value == "":
            return ""
        if used == len(pool):
            pool, used = urandom(pool_size), 0
        nonce = pool[used:used + NONCE_BYTES]
        used += NONCE_BYTES
        return token(nonce + seal(nonce, value.encode(), None))

    return encrypt


_URLSAFE = bytes.maketrans(b"+/", b"-_")  # what base64.urlsafe_b64encode does after b2a_base64


def _token(sealed: bytes) -> str:
    """A token: VERSION + urlsafe base64 of the sealed bytes, as urlsafe_b64encode writes it, in two C calls."""
    return VERSION + binascii.b2a_base64(sealed, newline=False).translate(_URLSAFE).decode()


def decrypt(token: str) -> str:
    if token == "":
        return ""
    if not token.startswith(VERSION):
        raise ImproperlyConfigured(UNKNOWN_FORMAT)
    try:
        sealed = base64.urlsafe_b64decode(token[len(VERSION):])
    except (binascii.Error, ValueError):
        raise ImproperlyConfigured(KEY_CHANGED) from None
    return _open(sealed).decode()


def keyed_hash(normalized: str) -> str:
    """HMAC-SHA256 of the value under the search key, as 64 hex digits; "" stays ""."""
    return keyed_hasher()(normalized)


def keyed_hasher() -> Callable[[str], str]:
    """keyed_hash bound to the current key, for hashing many values (an import hashes 200k)."""
    inner, outer = _keys(settings.LIANHU_DATA_KEY)[1]

    def keyed_hash(normalized: str) -> str:
        if normalized == "":
            return ""
        h, o = inner.copy(), outer.copy()
        h.update(normalized.encode())
        o.update(h.digest())
        return o.hexdigest()

    return keyed_hash


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
    return _VERSION_BYTES + _seal(value) if value else b""


def decrypt_bytes(token: bytes) -> bytes:
    if not token:
        return b""
    token = bytes(token)
    if not token.startswith(_VERSION_BYTES):
        raise ImproperlyConfigured(UNKNOWN_FORMAT)
    return _open(token[len(_VERSION_BYTES):])


def decrypt_date(token: str):
    """A sealed date (a birth date), or None for ""."""
    import datetime as dt

    return dt.date.fromisoformat(decrypt(token)) if token else None


# Files too big to seal in memory (a backup): sealed in chunks, each with its own nonce, and with its
# index and whether it is the last one as associated data, so chunks cannot be dropped, reordered or
# cut off at the end without the opening failing.
STREAM_MAGIC = b"LHS1"
STREAM_CHUNK = 8 * 1024 * 1024


def seal_stream(src, dst, progress=None) -> None:
    """Read `src` (a binary file) to its end and write it sealed to `dst`."""
    import struct

    cipher = _cipher()
    dst.write(STREAM_MAGIC)
    index, chunk = 0, src.read(STREAM_CHUNK)
    while True:
        following = src.read(STREAM_CHUNK) if chunk else b""
        nonce = os.urandom(NONCE_BYTES)
        sealed = cipher.encrypt(nonce, chunk, struct.pack(">Q?", index, not following))
        dst.write(struct.pack(">I", len(sealed)) + nonce + sealed)
        if progress:
            progress(len(chunk))
        if not following:
            return
        index, chunk = index + 1, following


def open_stream(src, dst, progress=None) -> None:
    """Write to `dst` what `seal_stream` sealed in `src`; ImproperlyConfigured when the key is not the
    one it was sealed with or the file was changed, cut short or is no sealed file."""
    import struct

    if src.read(len(STREAM_MAGIC)) != STREAM_MAGIC:
        raise ImproperlyConfigured(UNKNOWN_FORMAT)
    cipher, index = _cipher(), 0
    while True:
        head = src.read(4)
        if len(head) < 4:
            raise ImproperlyConfigured(KEY_CHANGED)  # cut short: the last chunk never came
        (size,) = struct.unpack(">I", head)
        nonce, sealed = src.read(NONCE_BYTES), src.read(size)
        last = src.peek(1)[:1] == b"" if hasattr(src, "peek") else _at_end(src)
        try:
            data = cipher.decrypt(nonce, sealed, struct.pack(">Q?", index, last))
        except (InvalidTag, ValueError):
            raise ImproperlyConfigured(KEY_CHANGED) from None
        dst.write(data)
        if progress:
            progress(len(data))
        if last:
            return
        index += 1


def _at_end(src) -> bool:
    here = src.tell()
    end = src.seek(0, os.SEEK_END)
    src.seek(here)
    return here == end


def key_fingerprint() -> str:
    """A short fingerprint of LIANHU_DATA_KEY (a keyed hash of a constant): a backup records it, so a
    restore can tell before it starts whether this key opens the data."""
    return keyed_hash("lianhu key fingerprint")[:16]
