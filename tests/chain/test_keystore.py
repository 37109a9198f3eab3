"""Keystore v3: go-ethereum's test vectors, geth's layout, and eth-keyfile as a second opinion."""

from __future__ import annotations

import copy
import json
import random
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from typing import Any, Literal

import pytest
from eth_keyfile.keyfile import create_keyfile_json, decode_keyfile_json

from ethnet.chain.keys import PrivateKey
from ethnet.chain.keystore import (
    LIGHT_SCRYPT,
    STANDARD_SCRYPT,
    ScryptParams,
    decrypt_keystore,
    encrypt_keystore,
    keystore_filename,
    keystore_json,
)
from ethnet.errors import InvalidAddressError, KeystoreError

# --- go-ethereum vectors ----------------------------------------------------------------
# accounts/keystore/testdata/v3_test_vector.json, as used by passphrase_test.go /
# keystore_test.go (TestV3_PBKDF2_1, TestV3_31_Byte_Key, TestV3_30_Byte_Key).
WIKIPAGE_PBKDF2: dict[str, Any] = {
    "crypto": {
        "cipher": "aes-128-ctr",
        "cipherparams": {"iv": "6087dab2f9fdbbfaddc31a909735c1e6"},
        "ciphertext": "5318b4d5bcd28de64ee5559e671353e16f075ecae9f99c7a79a38af5f869aa46",
        "kdf": "pbkdf2",
        "kdfparams": {
            "c": 262144,
            "dklen": 32,
            "prf": "hmac-sha256",
            "salt": "ae3cd4e7013836a3df6bd7241b12db061dbe2c6785853cce422d148a624ce0bd",
        },
        "mac": "517ead924a9d0dc3124507e3393d175ce3ff7c1e96529c6c555ce9e51205e9b2",
    },
    "id": "3198bc9c-6672-5ab3-d995-4942343ae5b6",
    "version": 3,
}
WIKIPAGE_SCRYPT: dict[str, Any] = {
    "crypto": {
        "cipher": "aes-128-ctr",
        "cipherparams": {"iv": "83dbcc02d8ccb40e466191a123791e0e"},
        "ciphertext": "d172bf743a674da9cdad04534d56926ef8358534d458fffccd4e6ad2fbde479c",
        "kdf": "scrypt",
        "kdfparams": {
            "dklen": 32,
            "n": 262144,
            "r": 1,
            "p": 8,
            "salt": "ab0c7876052600dd703518d6fc3fe8984592145b591fc8fb5c6d43190334ba19",
        },
        "mac": "2103ac29920d71da29f15d75b4a16dbe95cfd7ff8faea1056c33131d846e3097",
    },
    "id": "3198bc9c-6672-5ab3-d995-4942343ae5b6",
    "version": 3,
}
KEY_31_BYTES: dict[str, Any] = {
    "crypto": {
        "cipher": "aes-128-ctr",
        "cipherparams": {"iv": "e0c41130a323adc1446fc82f724bca2f"},
        "ciphertext": "9517cd5bdbe69076f9bf5057248c6c050141e970efa36ce53692d5d59a3984",
        "kdf": "scrypt",
        "kdfparams": {
            "dklen": 32,
            "n": 2,
            "r": 8,
            "p": 1,
            "salt": "711f816911c92d649fb4c84b047915679933555030b3552c1212609b38208c63",
        },
        "mac": "d5e116151c6aa71470e67a7d42c9620c75c4d23229847dcc127794f0732b0db5",
    },
    "id": "fecfc4ce-e956-48fd-953b-30f8b52ed66c",
    "version": 3,
}
KEY_30_BYTES: dict[str, Any] = {
    "crypto": {
        "cipher": "aes-128-ctr",
        "cipherparams": {"iv": "3ca92af36ad7c2cd92454c59cea5ef00"},
        "ciphertext": "108b7d34f3442fc26ab1ab90ca91476ba6bfa8c00975a49ef9051dc675aa",
        "kdf": "scrypt",
        "kdfparams": {
            "dklen": 32,
            "n": 2,
            "r": 8,
            "p": 1,
            "salt": "d0769e608fb86cda848065642a9c6fa046845c928175662b8e356c77f914cd3b",
        },
        "mac": "75d0e6759f7b3cefa319c3be41680ab6beea7d8328653474bd06706d4cc67420",
    },
    "id": "a37e1559-5955-450d-8075-7b8931b392b2",
    "version": 3,
}

# accounts/keystore/testdata/very-light-scrypt.json (password "" in passphrase_test.go,
# TestKeyEncryptDecrypt), verbatim.
VERY_LIGHT_SCRYPT_JSON = """{
  "address": "45dea0fb0bba44f4fcf290bba71fd57d7117cbb8",
  "crypto": {
    "cipher": "aes-128-ctr",
    "ciphertext": "b87781948a1befd247bff51ef4063f716cf6c2d3481163e9a8f42e1f9bb74145",
    "cipherparams": {
      "iv": "dc4926b48a105133d2f16b96833abf1e"
    },
    "kdf": "scrypt",
    "kdfparams": {
      "dklen": 32,
      "n": 2,
      "p": 1,
      "r": 8,
      "salt": "004244bbdc51cadda545b1cfa43cff9ed2ae88e08c61f1479dbb45410722f8f0"
    },
    "mac": "39990c1684557447940d4c69e06b1b82b2aceacb43f284df65c956daf3046b85"
  },
  "id": "ce541d8d-c79b-40f8-9f8c-20f59616faba",
  "version": 3
}
"""

# accounts/keystore/testdata/keystore/
# UTC--2016-03-22T12-57-55.920751759Z--7ef5a6135f1fd6a02593eedc869c6d41d934aef8
# (password "foobar", keystore_test.go), verbatim: one line of geth's own json.Marshal.
FOOBAR_FILENAME = "UTC--2016-03-22T12-57-55.920751759Z--7ef5a6135f1fd6a02593eedc869c6d41d934aef8"
FOOBAR_JSON = (
    '{"address":"7ef5a6135f1fd6a02593eedc869c6d41d934aef8","crypto":{"cipher":"aes-128-ctr",'
    '"ciphertext":"1d0839166e7a15b9c1333fc865d69858b22df26815ccf601b28219b6192974e1",'
    '"cipherparams":{"iv":"8df6caa7ff1b00c4e871f002cb7921ed"},"kdf":"scrypt","kdfparams":'
    '{"dklen":32,"n":8,"p":16,"r":8,'
    '"salt":"e5e6ef3f4ea695f496b643ebd3f75c0aa58ef4070e90c80c5d3fb0241bf1595c"},'
    '"mac":"6d16dfde774845e4585357f24bce530528bc69f4f84e1e22880d34fa45c273e5"},'
    '"id":"950077c7-71e3-4c44-a4a1-143919141ed4","version":3}'
)


@pytest.mark.parametrize(
    ("keystore", "password", "private_key", "address"),
    [
        (
            WIKIPAGE_PBKDF2,
            b"testpassword",
            "7a28b5ba57c53603b0b07b56bba752f7784bf506fa95edc395f5cf6c7514fe9d",
            "008aeeda4d805471df9b2a5b0f38a0c3bcba786b",
        ),
        (
            KEY_31_BYTES,
            b"foo",
            "00fa7b3db73dc7dfdf8c5fbdb796d741e4488628c41fc4febd9160a866ba0f35",
            None,
        ),
        (
            KEY_30_BYTES,
            b"foo",
            "000081c29e8142bb6a81bef5a92bda7a8328a5c85bb2f9542e76f9b0f94fc018",
            None,
        ),
        (
            json.loads(VERY_LIGHT_SCRYPT_JSON),
            b"",
            "33ff86a4a29a842eedd42a84f569d945c771857d4ddb639de730a547f08030c3",
            "45dea0fb0bba44f4fcf290bba71fd57d7117cbb8",
        ),
        (
            json.loads(FOOBAR_JSON),
            b"foobar",
            "976f9f7772781ff6d1c93941129d417c49a209c674056a3cf5e27e225ee55fa8",
            "7ef5a6135f1fd6a02593eedc869c6d41d934aef8",
        ),
    ],
    ids=["wikipage_test_vector_pbkdf2", "31_byte_key", "30_byte_key", "very-light", "foobar"],
)
def test_go_ethereum_vectors(
    keystore: dict[str, Any], password: bytes, private_key: str, address: str | None
) -> None:
    key = decrypt_keystore(keystore, password)
    assert key.secret.hex() == private_key
    if address is not None:
        assert key.address.hex() == address


def test_wikipage_scrypt_vector_is_beyond_openssl_with_a_clear_error() -> None:
    # r=1 with n=2^18 breaks OpenSSL's n < 2^(16 r) rule; it must not look like a MemoryError.
    with pytest.raises(KeystoreError, match="OpenSSL"):
        decrypt_keystore(WIKIPAGE_SCRYPT, b"testpassword")


def test_keystore_json_is_byte_identical_to_geth() -> None:
    assert keystore_json(json.loads(FOOBAR_JSON)) == FOOBAR_JSON
    # Whatever order the keys come in, the output is geth's.
    shuffled = json.loads(FOOBAR_JSON, object_pairs_hook=lambda pairs: dict(reversed(pairs)))
    assert keystore_json(shuffled) == FOOBAR_JSON


def test_keystore_filename_matches_geth_layout() -> None:
    when = datetime(2016, 3, 22, 12, 57, 55, 920751, tzinfo=UTC)
    address = bytes.fromhex(FOOBAR_FILENAME[-40:])
    # Python stops at microseconds: geth's 920751759 ns becomes 920751000.
    assert keystore_filename(address, when) == FOOBAR_FILENAME.replace("920751759", "920751000")


def test_keystore_filename_converts_to_utc() -> None:
    when = datetime(2024, 1, 1, 1, 2, 3, 4, tzinfo=timezone(timedelta(hours=2)))
    name = keystore_filename(b"\x11" * 20, when)
    assert name == "UTC--2023-12-31T23-02-03.000004000Z--" + "11" * 20


def test_keystore_filename_rejects_naive_time_and_bad_address() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        keystore_filename(b"\x11" * 20, datetime(2024, 1, 1))
    with pytest.raises(InvalidAddressError):
        keystore_filename(b"\x11" * 19, datetime(2024, 1, 1, tzinfo=UTC))


# --- What ethnet writes -----------------------------------------------------------------


def pinned_rng(seed: int) -> Callable[[int], bytes]:
    """A reproducible byte source for tests; never for real keys."""
    return random.Random(seed).randbytes


def fresh_key(seed: int) -> PrivateKey:
    """A key made at test time from a seed, so no key is committed."""
    return PrivateKey.generate(pinned_rng(seed))


def test_encrypt_layout_is_geths() -> None:
    key = fresh_key(1)
    draws = random.Random(99)
    salt, iv, uuid_bytes = draws.randbytes(32), draws.randbytes(16), draws.randbytes(16)
    keystore = encrypt_keystore(key, b"pw", params=LIGHT_SCRYPT, rng=pinned_rng(99))

    assert list(keystore) == ["address", "crypto", "id", "version"]
    assert keystore["address"] == key.address.hex()
    assert keystore["version"] == 3
    key_id = uuid.UUID(keystore["id"])
    assert key_id.version == 4 and str(key_id) == keystore["id"]
    assert key_id.bytes[:6] == uuid_bytes[:6]
    crypto = keystore["crypto"]
    assert list(crypto) == ["cipher", "ciphertext", "cipherparams", "kdf", "kdfparams", "mac"]
    assert crypto["cipher"] == "aes-128-ctr"
    assert crypto["kdf"] == "scrypt"
    assert crypto["cipherparams"] == {"iv": iv.hex()}
    assert crypto["kdfparams"] == {"dklen": 32, "n": 4096, "p": 6, "r": 8, "salt": salt.hex()}
    assert len(bytes.fromhex(crypto["ciphertext"])) == 32
    assert len(bytes.fromhex(crypto["mac"])) == 32
    assert decrypt_keystore(keystore, b"pw") == key


def test_encrypt_with_pinned_rng_is_byte_for_byte_reproducible() -> None:
    key = fresh_key(2)
    first = keystore_json(encrypt_keystore(key, b"pw", params=LIGHT_SCRYPT, rng=pinned_rng(5)))
    second = keystore_json(encrypt_keystore(key, b"pw", params=LIGHT_SCRYPT, rng=pinned_rng(5)))
    assert first == second
    assert first.startswith('{"address":"') and first.endswith(',"version":3}')
    other = keystore_json(encrypt_keystore(key, b"pw", params=LIGHT_SCRYPT, rng=pinned_rng(6)))
    assert other != first


def test_keystore_json_never_contains_the_secret() -> None:
    key = fresh_key(3)
    text = keystore_json(encrypt_keystore(key, b"pw", params=LIGHT_SCRYPT))
    assert key.secret.hex() not in text


def test_wrong_password_is_a_keystore_error() -> None:
    keystore = encrypt_keystore(fresh_key(4), b"right", params=LIGHT_SCRYPT)
    with pytest.raises(KeystoreError, match="wrong password"):
        decrypt_keystore(keystore, b"wrong")


def test_tampered_ciphertext_is_a_keystore_error() -> None:
    keystore: dict[str, Any] = copy.deepcopy(json.loads(VERY_LIGHT_SCRYPT_JSON))
    ciphertext = keystore["crypto"]["ciphertext"]
    flipped = ("1" if ciphertext[0] != "1" else "2") + ciphertext[1:]
    keystore["crypto"]["ciphertext"] = flipped
    with pytest.raises(KeystoreError, match="MAC does not match"):
        decrypt_keystore(keystore, b"")


def tampered(change: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    """very-light-scrypt.json with one change applied."""
    keystore: dict[str, Any] = json.loads(VERY_LIGHT_SCRYPT_JSON)
    change(keystore)
    return keystore


def _set(path: str, value: object) -> Callable[[dict[str, Any]], None]:
    def change(keystore: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        node = keystore
        for name in parents:
            node = node[name]
        node[last] = value

    return change


def _delete(name: str) -> Callable[[dict[str, Any]], None]:
    return lambda keystore: keystore.pop(name)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (_set("version", 1), "version 1"),
        (_set("version", "3"), "version '3'"),
        (_set("version", True), "version True"),
        (_delete("version"), "version None"),
        (_delete("id"), "id must be a UUID"),
        (_set("id", "not-a-uuid"), "id must be a UUID"),
        (_delete("crypto"), "crypto must be an object"),
        (_set("crypto.cipher", "aes-128-cbc"), "unsupported keystore cipher 'aes-128-cbc'"),
        (_set("crypto.kdf", "argon2id"), "unsupported keystore kdf 'argon2id'"),
        (_set("crypto.kdfparams.n", 3), "power of two"),
        (_set("crypto.kdfparams.n", "2"), "kdfparams.n must be an integer"),
        (_set("crypto.kdfparams.dklen", 16), "dklen must be at least 32"),
        (_set("crypto.kdfparams.r", 0), "r must be a positive"),
        (_set("crypto.kdfparams.salt", None), "kdfparams.salt must be hex"),
        (_set("crypto.mac", "0x" + "00" * 32), "crypto.mac must be hex"),
        (_set("crypto.mac", "00" * 31), "crypto.mac must be 32 bytes"),
        (_set("crypto.ciphertext", "abc"), "whole bytes"),
        (_set("crypto.ciphertext", "00" * 33), "1 to 32 bytes"),
        (_set("crypto.ciphertext", ""), "1 to 32 bytes"),
        (_set("crypto.cipherparams.iv", "00" * 8), "iv must be 16 bytes"),
        (_set("crypto.cipherparams", "iv"), "cipherparams must be an object"),
        (_set("address", "11" * 20), "does not match its key"),
        (_set("address", "xyz"), "address must be 40 hex"),
    ],
)
def test_malformed_keystores_are_keystore_errors(
    change: Callable[[dict[str, Any]], None], message: str
) -> None:
    with pytest.raises(KeystoreError, match=message):
        decrypt_keystore(tampered(change), b"")


def test_pbkdf2_with_another_prf_is_unsupported() -> None:
    keystore = copy.deepcopy(WIKIPAGE_PBKDF2)
    keystore["crypto"]["kdfparams"]["prf"] = "hmac-sha512"
    with pytest.raises(KeystoreError, match="prf 'hmac-sha512'"):
        decrypt_keystore(keystore, b"testpassword")


def test_capitalised_crypto_and_checksummed_address_are_read_like_geth() -> None:
    keystore = json.loads(VERY_LIGHT_SCRYPT_JSON)
    keystore["Crypto"] = keystore.pop("crypto")
    keystore["address"] = "0x45DEA0FB0BBA44F4FCF290BBA71FD57D7117CBB8"
    assert decrypt_keystore(keystore, b"").address.hex() == keystore["address"][2:].lower()


def test_scrypt_params_constants() -> None:
    # accounts/keystore/passphrase.go: StandardScryptN/P, LightScryptN/P, scryptR, scryptDKLen.
    assert (STANDARD_SCRYPT.n, STANDARD_SCRYPT.r, STANDARD_SCRYPT.p) == (1 << 18, 8, 1)
    assert (LIGHT_SCRYPT.n, LIGHT_SCRYPT.r, LIGHT_SCRYPT.p) == (1 << 12, 8, 6)
    assert STANDARD_SCRYPT.dklen == LIGHT_SCRYPT.dklen == 32
    with pytest.raises(KeystoreError, match="power of two"):
        ScryptParams(n=1000, r=8, p=1)


# --- Independent implementation: eth-keyfile --------------------------------------------


def test_eth_keyfile_decrypts_light_keystore_from_ethnet() -> None:
    key = fresh_key(10)
    keystore = encrypt_keystore(key, b"correct horse", params=LIGHT_SCRYPT)
    assert decode_keyfile_json(dict(keystore), b"correct horse") == key.secret


@pytest.mark.slow
def test_eth_keyfile_decrypts_standard_keystore_from_ethnet() -> None:
    # The only standard-cost derivations in the suite: one here, one in eth-keyfile.
    key = fresh_key(11)
    keystore = encrypt_keystore(key, b"correct horse", params=STANDARD_SCRYPT)
    assert keystore["crypto"]["kdfparams"]["n"] == 262144
    assert decode_keyfile_json(dict(keystore), b"correct horse") == key.secret


@pytest.mark.parametrize(("kdf", "work"), [("pbkdf2", 1000), ("scrypt", 1024)])
def test_ethnet_decrypts_keystore_from_eth_keyfile(
    kdf: Literal["pbkdf2", "scrypt"], work: int
) -> None:
    key = fresh_key(12)
    keystore = create_keyfile_json(key.secret, b"battery staple", kdf=kdf, iterations=work)
    assert decrypt_keystore(keystore, b"battery staple") == key
