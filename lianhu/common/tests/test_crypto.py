"""Personal data at rest: AES-256-GCM tokens with a version tag, keyed hashes, one key for both."""

import base64

import pytest
from django.core.exceptions import ImproperlyConfigured

from lianhu.common import crypto

OTHER_KEY = "another-key-0123456789-0123456789-0123456789"


def test_values_round_trip_and_blank_stays_blank():
    for value in ("360426199101010071", "13812345678", "单雪梅", "x" * 5000):
        token = crypto.encrypt(value)
        assert token.startswith("g1:") and value not in token
        assert crypto.decrypt(token) == value
    assert crypto.encrypt("") == "" and crypto.decrypt("") == ""


def test_equal_values_give_different_tokens():
    assert crypto.encrypt("360426199101010071") != crypto.encrypt("360426199101010071")  # a fresh nonce each time


def test_a_token_is_about_half_the_size_of_fernet():
    assert len(crypto.encrypt("360426199101010071")) == 3 + 64  # "g1:" + base64 of 12 + 18 + 16 bytes


def test_json_and_bytes_round_trip():
    assert crypto.decrypt_json(crypto.encrypt_json(["残疾人", "低保"])) == ["残疾人", "低保"]
    assert crypto.encrypt_json([]) == "" and crypto.decrypt_json("", default=[]) == []
    data = b"PK\x03\x04" + bytes(range(256)) * 10
    sealed = crypto.encrypt_bytes(data)
    assert sealed.startswith(b"g1:") and data not in sealed
    assert crypto.decrypt_bytes(memoryview(sealed)) == data  # a BinaryField can come back as a memoryview
    assert crypto.encrypt_bytes(b"") == b"" and crypto.decrypt_bytes(b"") == b""


def test_another_key_cannot_decrypt_and_says_the_key_changed(settings):
    token, sealed = crypto.encrypt("360426199101010071"), crypto.encrypt_bytes(b"file")
    settings.LIANHU_DATA_KEY = OTHER_KEY
    message = "personal data cannot be decrypted: LIANHU_DATA_KEY has changed"
    with pytest.raises(ImproperlyConfigured, match=message):
        crypto.decrypt(token)
    with pytest.raises(ImproperlyConfigured, match=message):
        crypto.decrypt_bytes(sealed)


def test_a_tampered_or_truncated_token_is_refused():
    token = crypto.encrypt("360426199101010071")
    flipped = token[:10] + ("A" if token[10] != "A" else "B") + token[11:]
    for bad in (flipped, token[:20], "g1:", "g1:!!!"):
        with pytest.raises(ImproperlyConfigured):
            crypto.decrypt(bad)


def test_a_token_of_another_format_is_named_as_such():
    fernet_like = "gAAAAABnZ2ZmZmZmZmZmZmZmZmZmZmZmZmZmZmZmZmZmZmZmZmZmZmZmZmZmZmZmZmZmZmZmZmZmZmZmZmZmZmZmZmZm=="
    with pytest.raises(ImproperlyConfigured, match="format"):
        crypto.decrypt(fernet_like)


def test_the_keyed_hash_is_stable_and_depends_on_the_key(settings):
    first = crypto.keyed_hash("id:360426199101010071")
    assert first == crypto.keyed_hash("id:360426199101010071") and len(first) == 64
    assert crypto.keyed_hash("") == ""
    settings.LIANHU_DATA_KEY = OTHER_KEY
    assert crypto.keyed_hash("id:360426199101010071") != first


def test_the_keyed_hash_is_plain_hmac_sha256_under_the_derived_search_key():
    import hmac

    key = crypto._derive(b"search-hash")
    for value in ("id:360426199101010071", "phone:13812345678", "单雪梅" * 30):
        assert crypto.keyed_hash(value) == hmac.new(key, value.encode(), "sha256").hexdigest()


def test_the_bound_helpers_give_what_the_plain_functions_give():
    hasher, seal = crypto.keyed_hasher(), crypto.encrypter()
    assert hasher("id:360426199101010071") == crypto.keyed_hash("id:360426199101010071") and hasher("") == ""
    assert crypto.decrypt(seal("13812345678")) == "13812345678" and seal("") == ""


def test_the_bound_sealer_takes_a_fresh_nonce_for_every_value_across_its_random_blocks():
    seal = crypto.encrypter()
    tokens = [seal("13812345678") for _ in range(4096 * 2 + 10)]  # past two refills of the nonce block
    nonces = {base64.urlsafe_b64decode(t[len(crypto.VERSION):])[:crypto.NONCE_BYTES] for t in tokens}
    assert len(nonces) == len(tokens)
    assert {crypto.decrypt(t) for t in tokens[4090:4100]} == {"13812345678"}
