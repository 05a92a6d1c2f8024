"""The keyed hashes sealed values are found by: one place for their prefixes and normal forms.

An ID number and a phone are hashed as "id:<18-digit form>" and "phone:<digits>", so an ID number can
never match a phone of the same digits. Every writer and every look-up goes through here: a prefix or
a normal form that drifted between the import and the form would silently break duplicate detection.
"""

from __future__ import annotations

from collections.abc import Callable

from . import crypto
from .validators import clean_text, id_key, normalize_phone

ID_PREFIX = "id:"
PHONE_PREFIX = "phone:"


def id_number_hash(raw: str) -> str:
    """The hash of an ID number as typed (cleaned, upper-cased, a legacy 15-digit one in its 18-digit form)."""
    return crypto.keyed_hash(ID_PREFIX + id_key(clean_text(raw).upper()))


def phone_hash(raw: str) -> str:
    """The hash of a phone as typed; "" for one that is not a phone number."""
    try:
        return crypto.keyed_hash(PHONE_PREFIX + normalize_phone(raw))
    except Exception:
        return ""


def id_hasher() -> Callable[[str], str]:
    """id_number_hash for many clean values (parse_id_number's), with the key bound once (an import)."""
    hash_key = crypto.keyed_hasher()
    return lambda value: hash_key(ID_PREFIX + id_key(value))


def phone_hasher() -> Callable[[str], str]:
    """phone_hash for many normalised phones; "" stays ""."""
    hash_key = crypto.keyed_hasher()
    return lambda phone: hash_key(PHONE_PREFIX + phone) if phone else ""
