"""encrypt_keystore in three steps (prepare, derive, assemble) gives the same bytes as in one."""

from __future__ import annotations

import random
from collections.abc import Callable

import pytest
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt
from eth_keyfile.keyfile import decode_keyfile_json

from ethnet.chain.keccak import keccak256
from ethnet.chain.keys import PrivateKey
from ethnet.chain.keystore import (
    LIGHT_SCRYPT,
    KeystoreV3,
    ScryptParams,
    assemble_keystore,
    decrypt_keystore,
    derive_scrypt_key,
    encrypt_keystore,
    keystore_json,
    prepare_keystore,
)
from ethnet.errors import KeystoreError


def pinned_rng(seed: int) -> Callable[[int], bytes]:
    """A reproducible byte source for tests; never for real keys."""
    return random.Random(seed).randbytes


def fresh_key(seed: int) -> PrivateKey:
    """A key made at test time from a seed, so no key is committed."""
    return PrivateKey.generate(pinned_rng(1000 + seed))


def encrypt_in_one_step(
    key: PrivateKey, password: bytes, params: ScryptParams, rng: Callable[[int], bytes]
) -> KeystoreV3:
    """encrypt_keystore as it was before the split, written out with the primitives."""
    salt, iv, uuid_bytes = rng(32), rng(16), bytearray(rng(16))
    uuid_bytes[6] = (uuid_bytes[6] & 0x0F) | 0x40  # version 4
    uuid_bytes[8] = (uuid_bytes[8] & 0x3F) | 0x80  # RFC 4122 variant
    hex_id = uuid_bytes.hex()
    key_id = f"{hex_id[:8]}-{hex_id[8:12]}-{hex_id[12:16]}-{hex_id[16:20]}-{hex_id[20:]}"
    derived = Scrypt(salt=salt, length=32, n=params.n, r=params.r, p=params.p).derive(password)
    encryptor = Cipher(algorithms.AES128(derived[:16]), modes.CTR(iv)).encryptor()
    ciphertext = encryptor.update(key.secret) + encryptor.finalize()
    return {
        "address": key.address.hex(),
        "crypto": {
            "cipher": "aes-128-ctr",
            "ciphertext": ciphertext.hex(),
            "cipherparams": {"iv": iv.hex()},
            "kdf": "scrypt",
            "kdfparams": {
                "dklen": 32,
                "n": params.n,
                "p": params.p,
                "r": params.r,
                "salt": salt.hex(),
            },
            "mac": keccak256(derived[16:32] + ciphertext).hex(),
        },
        "id": key_id,
        "version": 3,
    }


@pytest.mark.parametrize("seed", range(4))
def test_three_steps_give_the_bytes_of_the_one_step_encryption(seed: int) -> None:
    key, password = fresh_key(seed), f"password {seed}".encode()

    draft = prepare_keystore(key, params=LIGHT_SCRYPT, rng=pinned_rng(seed))
    derived = derive_scrypt_key(password, draft.salt, draft.params)
    stepwise = keystore_json(assemble_keystore(draft, derived))

    one_call = keystore_json(
        encrypt_keystore(key, password, params=LIGHT_SCRYPT, rng=pinned_rng(seed))
    )
    before = keystore_json(encrypt_in_one_step(key, password, LIGHT_SCRYPT, pinned_rng(seed)))
    assert stepwise == one_call == before


def test_prepare_draws_salt_iv_and_uuid_in_that_order() -> None:
    draws: list[int] = []
    source = pinned_rng(7)

    def recording_rng(count: int) -> bytes:
        draws.append(count)
        return source(count)

    draft = prepare_keystore(fresh_key(7), params=LIGHT_SCRYPT, rng=recording_rng)

    assert draws == [32, 16, 16]
    replay = pinned_rng(7)
    assert (draft.salt, draft.iv) == (replay(32), replay(16))
    assert draft.key_id.version == 4


def test_assembled_keystore_opens_in_eth_keyfile_and_in_ethnet() -> None:
    key = fresh_key(8)
    draft = prepare_keystore(key, params=LIGHT_SCRYPT, rng=pinned_rng(8))
    keystore = assemble_keystore(draft, derive_scrypt_key(b"pw", draft.salt, draft.params))

    assert decode_keyfile_json(dict(keystore), b"pw") == key.secret
    assert decrypt_keystore(keystore, b"pw") == key


def test_a_draft_shows_no_secret() -> None:
    key = fresh_key(9)
    draft = prepare_keystore(key, params=LIGHT_SCRYPT, rng=pinned_rng(9))
    text = repr(draft)
    assert key.secret.hex() not in text
    assert draft.salt.hex() not in text and repr(draft.salt) not in text
    assert draft.iv.hex() not in text


def test_assemble_refuses_a_derived_key_of_the_wrong_length() -> None:
    draft = prepare_keystore(fresh_key(10), params=LIGHT_SCRYPT, rng=pinned_rng(10))
    with pytest.raises(ValueError, match="must be 32 bytes, got 16"):
        assemble_keystore(draft, bytes(16))


def test_uncomputable_parameters_are_refused_before_any_randomness_is_drawn() -> None:
    def no_rng(count: int) -> bytes:
        raise AssertionError("rng called")

    with pytest.raises(KeystoreError, match="beyond what OpenSSL computes"):
        prepare_keystore(fresh_key(11), params=ScryptParams(n=1 << 16, r=1, p=1), rng=no_rng)


def test_derive_wants_the_password_as_bytes() -> None:
    with pytest.raises(TypeError, match="password must be bytes"):
        derive_scrypt_key("pw", b"salt", LIGHT_SCRYPT)  # type: ignore[arg-type]
