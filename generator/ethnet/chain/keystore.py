"""Web3 Secret Storage (keystore v3): a private key encrypted under a password.

This follows go-ethereum ``accounts/keystore/passphrase.go`` and ``key.go``:

- a key-derivation function turns the password into a 32-byte key ``dk``: scrypt (what geth
  writes) or PBKDF2 with HMAC-SHA256 (read only);
- the private key is encrypted with AES-128-CTR under ``dk[:16]``;
- ``mac = keccak256(dk[16:32] || ciphertext)`` proves the password before anything is decrypted.

Passwords are ``bytes``; geth uses the UTF-8 bytes of the passphrase. Randomness (salt, IV and
the UUID) comes from an injected ``rng``, so tests can pin it and compare output byte for byte.
"""

from __future__ import annotations

import hmac
import json
import re
import secrets
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TypedDict, TypeGuard

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from ethnet.chain.address import ADDRESS_LENGTH
from ethnet.chain.keccak import keccak256
from ethnet.chain.keys import PRIVATE_KEY_LENGTH, PrivateKey
from ethnet.errors import InvalidAddressError, InvalidKeyError, KeystoreError

KEYSTORE_VERSION = 3
CIPHER = "aes-128-ctr"
KDF_SCRYPT = "scrypt"
KDF_PBKDF2 = "pbkdf2"
PBKDF2_PRF = "hmac-sha256"
SALT_LENGTH = 32
IV_LENGTH = 16
UUID_LENGTH = 16
MAC_LENGTH = 32
DERIVED_KEY_LENGTH = 32
_HEX = re.compile(r"(?:[0-9a-fA-F]{2})*")
_ADDRESS_HEX = re.compile(r"(0x)?[0-9a-fA-F]{40}")
# Field order of go-ethereum's encryptedKeyJSONV3 and CryptoJSON structs.
_GETH_FIELD_ORDER = {
    "": ("address", "crypto", "id", "version"),
    "crypto": ("cipher", "ciphertext", "cipherparams", "kdf", "kdfparams", "mac"),
}


def _is_int(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


@dataclass(frozen=True)
class ScryptParams:
    """scrypt cost parameters: CPU/memory cost ``n``, block size ``r``, parallelism ``p``."""

    n: int
    r: int
    p: int
    dklen: int = DERIVED_KEY_LENGTH

    def __post_init__(self) -> None:
        if not _is_int(self.n) or self.n < 2 or self.n & (self.n - 1):
            raise KeystoreError(f"scrypt n must be a power of two above 1, got {self.n!r}")
        if not _is_int(self.r) or self.r < 1:
            raise KeystoreError(f"scrypt r must be a positive integer, got {self.r!r}")
        if not _is_int(self.p) or self.p < 1:
            raise KeystoreError(f"scrypt p must be a positive integer, got {self.p!r}")
        if not _is_int(self.dklen) or self.dklen < DERIVED_KEY_LENGTH:
            raise KeystoreError(
                f"scrypt dklen must be at least {DERIVED_KEY_LENGTH}, got {self.dklen!r}"
            )


STANDARD_SCRYPT = ScryptParams(n=262144, r=8, p=1)
"""geth's default (``StandardScryptN``, ``StandardScryptP``): about 1 s and 256 MiB."""

LIGHT_SCRYPT = ScryptParams(n=4096, r=8, p=6)
"""geth ``--lightkdf`` (``LightScryptN``, ``LightScryptP``): about 50 ms and 4 MiB."""


class CipherParams(TypedDict):
    """``crypto.cipherparams``: the AES-CTR initial counter block."""

    iv: str


class ScryptKdfParams(TypedDict):
    """``crypto.kdfparams`` for scrypt."""

    dklen: int
    n: int
    p: int
    r: int
    salt: str


class KeystoreCrypto(TypedDict):
    """The ``crypto`` object of a keystore ethnet writes."""

    cipher: str
    ciphertext: str
    cipherparams: CipherParams
    kdf: str
    kdfparams: ScryptKdfParams
    mac: str


class KeystoreV3(TypedDict):
    """A keystore as ethnet writes it, with geth's fields (hex without ``0x``)."""

    address: str
    crypto: KeystoreCrypto
    id: str
    version: int


@dataclass(frozen=True)
class KeystoreDraft:
    """A keystore before its key derivation: the account key, the fresh randomness, the cost.

    ``prepare_keystore`` makes one, ``derive_scrypt_key`` turns the password and ``salt``
    into the derived key (the slow step, which may run in another process), and
    ``assemble_keystore`` finishes the keystore. The repr shows no secret.
    """

    key: PrivateKey
    salt: bytes = field(repr=False)
    iv: bytes = field(repr=False)
    key_id: uuid.UUID
    params: ScryptParams


def encrypt_keystore(
    key: PrivateKey,
    password: bytes,
    *,
    params: ScryptParams = STANDARD_SCRYPT,
    rng: Callable[[int], bytes] = secrets.token_bytes,
) -> KeystoreV3:
    """Encrypt ``key`` under ``password`` as geth's ``EncryptKey`` does.

    ``rng`` is called three times, in this order: 32 bytes of salt, 16 bytes of IV, and
    16 bytes for the version-4 UUID ``id``. The three steps are also public, for callers
    that derive many keys at once (``ethnet.repo.kdf_pool``).
    """
    if not isinstance(password, bytes):
        raise TypeError(f"password must be bytes, got {type(password).__name__}")
    draft = prepare_keystore(key, params=params, rng=rng)
    derived = derive_scrypt_key(password, draft.salt, draft.params)
    return assemble_keystore(draft, derived)


def prepare_keystore(
    key: PrivateKey,
    *,
    params: ScryptParams = STANDARD_SCRYPT,
    rng: Callable[[int], bytes] = secrets.token_bytes,
) -> KeystoreDraft:
    """Step 1 of ``encrypt_keystore``: draw the salt, IV and UUID from ``rng``, in that order.

    Also refuses parameters OpenSSL cannot compute, before any work is started.
    """
    _check_computable(params)
    salt = _draw(rng, SALT_LENGTH)
    iv = _draw(rng, IV_LENGTH)
    key_id = uuid.UUID(bytes=_draw(rng, UUID_LENGTH), version=4)
    return KeystoreDraft(key=key, salt=salt, iv=iv, key_id=key_id, params=params)


def derive_scrypt_key(password: bytes, salt: bytes, params: ScryptParams) -> bytes:
    """Step 2: ``scrypt(password, salt, n, r, p, dklen)``, the slow part of a keystore.

    Pure, and its arguments pickle, so it can run in a worker process.
    """
    if not isinstance(password, bytes):
        raise TypeError(f"password must be bytes, got {type(password).__name__}")
    return _scrypt(password, salt, params)


def assemble_keystore(draft: KeystoreDraft, derived: bytes) -> KeystoreV3:
    """Step 3: encrypt the key under ``derived[:16]``, authenticate with ``derived[16:32]``."""
    if len(derived) != draft.params.dklen:
        raise ValueError(f"the derived key must be {draft.params.dklen} bytes, got {len(derived)}")
    ciphertext = _aes_128_ctr(derived[:16], draft.iv, draft.key.secret)
    mac = keccak256(derived[16:32] + ciphertext)
    params = draft.params
    return {
        "address": draft.key.address.hex(),
        "crypto": {
            "cipher": CIPHER,
            "ciphertext": ciphertext.hex(),
            "cipherparams": {"iv": draft.iv.hex()},
            "kdf": KDF_SCRYPT,
            "kdfparams": {
                "dklen": params.dklen,
                "n": params.n,
                "p": params.p,
                "r": params.r,
                "salt": draft.salt.hex(),
            },
            "mac": mac.hex(),
        },
        "id": str(draft.key_id),
        "version": KEYSTORE_VERSION,
    }


def decrypt_keystore(keystore: Mapping[str, object], password: bytes) -> PrivateKey:
    """Check the MAC and decrypt a v3 keystore (scrypt or PBKDF2-HMAC-SHA256).

    Raises ``KeystoreError`` for a wrong password, an unsupported version, cipher or KDF,
    and any malformed field; like geth, the ``id`` must be a UUID, and an ``address``, when
    present, must be the key's own.
    """
    if not isinstance(password, bytes):
        raise TypeError(f"password must be bytes, got {type(password).__name__}")
    if not isinstance(keystore, Mapping):
        raise KeystoreError(f"a keystore is a JSON object, got {type(keystore).__name__}")

    # Step 1: the envelope.
    version = keystore.get("version")
    if not _is_int(version) or version != KEYSTORE_VERSION:
        raise KeystoreError(
            f"unsupported keystore version {version!r}; only version 3 is supported"
        )
    key_id = keystore.get("id")
    if not isinstance(key_id, str) or not _is_uuid(key_id):
        raise KeystoreError(f"keystore id must be a UUID, got {key_id!r}")
    # go-ethereum's JSON field matching ignores case; some wallets wrote "Crypto".
    crypto_name = "Crypto" if "Crypto" in keystore and "crypto" not in keystore else "crypto"
    crypto = _mapping(keystore, crypto_name, "")

    # Step 2: the cipher and its fields.
    cipher = crypto.get("cipher")
    if cipher != CIPHER:
        raise KeystoreError(f"unsupported keystore cipher {cipher!r}; only {CIPHER} is supported")
    ciphertext = _hex(crypto, "ciphertext", "crypto.")
    iv = _hex(_mapping(crypto, "cipherparams", "crypto."), "iv", "crypto.cipherparams.")
    mac = _hex(crypto, "mac", "crypto.")
    if len(iv) != IV_LENGTH:
        raise KeystoreError(f"crypto.cipherparams.iv must be {IV_LENGTH} bytes, got {len(iv)}")
    if len(mac) != MAC_LENGTH:
        raise KeystoreError(f"crypto.mac must be {MAC_LENGTH} bytes, got {len(mac)}")
    if not 1 <= len(ciphertext) <= PRIVATE_KEY_LENGTH:
        raise KeystoreError(
            f"crypto.ciphertext must be 1 to {PRIVATE_KEY_LENGTH} bytes, got {len(ciphertext)}"
        )

    # Step 3: derive the key and check the MAC before decrypting anything.
    derived = _derive_key(crypto, password)
    expected_mac = keccak256(derived[16:32] + ciphertext)
    if not hmac.compare_digest(expected_mac, mac):
        raise KeystoreError(
            "wrong password: the keystore MAC does not match",
            hint="if the password is right, the keystore file is corrupted",
        )

    # Step 4: decrypt; geth left-pads keys saved without their leading zero bytes.
    plaintext = _aes_128_ctr(derived[:16], iv, ciphertext)
    try:
        key = PrivateKey.from_bytes(plaintext.rjust(PRIVATE_KEY_LENGTH, b"\x00"))
    except InvalidKeyError as error:
        raise KeystoreError(
            f"keystore decrypts to an invalid private key: {error.message}"
        ) from None
    _check_address(keystore, key)
    return key


def keystore_filename(address: bytes, now: datetime) -> str:
    """geth's file name for a keystore, ``UTC--<time>--<address hex>``, at time ``now``.

    ``now`` must carry a time zone; it is converted to UTC. Python times stop at
    microseconds, so the last three of the nine fraction digits are zero.
    """
    if len(address) != ADDRESS_LENGTH:
        raise InvalidAddressError(f"an address has {ADDRESS_LENGTH} bytes, got {len(address)}")
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError(f"keystore_filename needs a timezone-aware time, got naive {now}")
    t = now.astimezone(UTC)
    stamp = (
        f"{t.year:04d}-{t.month:02d}-{t.day:02d}"
        f"T{t.hour:02d}-{t.minute:02d}-{t.second:02d}.{t.microsecond * 1000:09d}Z"
    )
    return f"UTC--{stamp}--{address.hex()}"


def keystore_json(keystore: Mapping[str, object]) -> str:
    """Serialize a keystore exactly as geth's ``json.Marshal`` does: compact, no newline.

    Key order is fixed: the top level and ``crypto`` follow geth's struct fields
    (``address, crypto, id, version`` and ``cipher, ciphertext, cipherparams, kdf,
    kdfparams, mac``); every other object is sorted, as Go sorts map keys. Keys geth does
    not know come last, sorted. For a keystore geth wrote, the output is its file.
    """
    return json.dumps(_in_geth_order(keystore, ""), separators=(",", ":"), ensure_ascii=True)


def _in_geth_order(value: object, path: str) -> object:
    if not isinstance(value, Mapping):
        return value
    known = _GETH_FIELD_ORDER.get(path, ())
    names = [name for name in known if name in value]
    names += sorted(name for name in value if name not in known)
    return {name: _in_geth_order(value[name], f"{path}.{name}".lstrip(".")) for name in names}


def _derive_key(crypto: Mapping[str, object], password: bytes) -> bytes:
    kdf = crypto.get("kdf")
    kdfparams = _mapping(crypto, "kdfparams", "crypto.")
    salt = _hex(kdfparams, "salt", "crypto.kdfparams.")
    dklen = _int(kdfparams, "dklen", "crypto.kdfparams.")
    if kdf == KDF_SCRYPT:
        params = ScryptParams(
            n=_int(kdfparams, "n", "crypto.kdfparams."),
            r=_int(kdfparams, "r", "crypto.kdfparams."),
            p=_int(kdfparams, "p", "crypto.kdfparams."),
            dklen=dklen,
        )
        return _scrypt(password, salt, params)
    if kdf == KDF_PBKDF2:
        prf = kdfparams.get("prf")
        if prf != PBKDF2_PRF:
            raise KeystoreError(f"unsupported pbkdf2 prf {prf!r}; only {PBKDF2_PRF} is supported")
        iterations = _int(kdfparams, "c", "crypto.kdfparams.")
        if iterations < 1 or dklen < DERIVED_KEY_LENGTH:
            raise KeystoreError(
                f"pbkdf2 needs c >= 1 and dklen >= {DERIVED_KEY_LENGTH}, "
                f"got c={iterations}, dklen={dklen}"
            )
        pbkdf2 = PBKDF2HMAC(hashes.SHA256(), length=dklen, salt=salt, iterations=iterations)
        return pbkdf2.derive(password)
    raise KeystoreError(
        f"unsupported keystore kdf {kdf!r}; supported are {KDF_SCRYPT} and {KDF_PBKDF2}"
    )


def _check_computable(params: ScryptParams) -> None:
    # OpenSSL refuses N >= 2^(16 r) and reports it as a MemoryError; say what is wrong.
    if params.n >= 1 << (16 * params.r):
        raise KeystoreError(
            f"scrypt n={params.n} with r={params.r} is beyond what OpenSSL computes "
            f"(it needs n < 2^(16 r))",
            hint="geth's own parameters always use r=8",
        )


def _scrypt(password: bytes, salt: bytes, params: ScryptParams) -> bytes:
    _check_computable(params)
    try:
        kdf = Scrypt(salt=salt, length=params.dklen, n=params.n, r=params.r, p=params.p)
        return kdf.derive(password)
    except (MemoryError, ValueError) as error:
        raise KeystoreError(
            f"cannot run scrypt with n={params.n}, r={params.r}, p={params.p}: {error}"
        ) from None


def _aes_128_ctr(key: bytes, iv: bytes, data: bytes) -> bytes:
    # CTR mode: encryption and decryption are the same keystream XOR.
    transform = Cipher(algorithms.AES128(key), modes.CTR(iv)).encryptor()
    return transform.update(data) + transform.finalize()


def _check_address(keystore: Mapping[str, object], key: PrivateKey) -> None:
    stated = keystore.get("address")
    if stated is None:
        return
    if not isinstance(stated, str) or not _ADDRESS_HEX.fullmatch(stated):
        raise KeystoreError(f"keystore address must be 40 hex digits, got {stated!r}")
    actual = key.address.hex()
    if stated.removeprefix("0x").lower() != actual:
        raise KeystoreError(
            f"keystore address {stated} does not match its key, whose address is {actual}"
        )


def _draw(rng: Callable[[int], bytes], length: int) -> bytes:
    data = rng(length)
    if len(data) != length:
        raise ValueError(f"rng({length}) returned {len(data)} bytes")
    return bytes(data)


def _mapping(parent: Mapping[str, object], name: str, path: str) -> Mapping[str, object]:
    value = parent.get(name)
    if not isinstance(value, Mapping):
        raise KeystoreError(f"keystore field {path}{name} must be an object, got {value!r}")
    return value


def _hex(parent: Mapping[str, object], name: str, path: str) -> bytes:
    value = parent.get(name)
    if not isinstance(value, str) or not _HEX.fullmatch(value):
        raise KeystoreError(
            f"keystore field {path}{name} must be hex without 0x, in whole bytes, got {value!r}"
        )
    return bytes.fromhex(value)


def _int(parent: Mapping[str, object], name: str, path: str) -> int:
    value = parent.get(name)
    if not _is_int(value):
        raise KeystoreError(f"keystore field {path}{name} must be an integer, got {value!r}")
    return value


def _is_uuid(text: str) -> bool:
    try:
        uuid.UUID(text)
    except ValueError:
        return False
    return True
