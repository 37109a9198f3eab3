"""A scanner for leaked secrets: no plaintext key material anywhere an end-to-end flow left it.

``scan`` learns every secret a flow made, then looks for each one everywhere it must not be:

1. Secrets. Every sealing private key under the given $ETHNET_HOME directories (and any key a
   test holds only in memory), then every SealedSecret in each repository's work tree and in
   every object of its object database (``git cat-file --batch-all-objects``: the blobs of
   every commit of every ref, so keys since rotated away or re-sealed count too, and even
   unreachable ones), opened with ``tests/seal/independent_decryptor.py``. Each item's
   plaintext is a secret; a keystore's password opens it, and the private key inside is one
   more.
2. Forms. Each secret is searched as raw bytes, hex (lower and upper case, with and without
   ``0x``) and base64 (standard and URL-safe); a value that is itself hex text (a node key
   file) also as the bytes it encodes. A sealing key is searched as its PEM (PKCS#1 and
   PKCS#8), the base64 body, each PKCS#1 body line that carries private bytes, the DER, the
   base64 of the PEM (how a Secret's ``tls.key`` holds it) and its private exponent and
   primes in hex. Values under ``MIN_SECRET_BYTES`` and forms under ``MIN_FORM_LENGTH`` are
   not searched: they would match by chance.
3. Places. Every file under each repository and bare remote, ``.git`` included, the content
   of every git object (cat-file inflates loose and packed objects alike), every file left
   in the temporary directories, and the command output. An output may allow some kinds on
   purpose (``ethnet unseal`` prints the plaintext it was asked for).

A leak is reported by place and by which secret in which form, never by value.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import json
import os
import re
import stat
import subprocess
from collections.abc import Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from Crypto.Hash import keccak
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from ethnet.errors import EthnetError
from ethnet.seal.pem import pem_blocks
from tests.seal.independent_decryptor import decrypt_blob, label_of

MIN_SECRET_BYTES = 8
MIN_FORM_LENGTH = 16
KEY_FILE_LIMIT = 1 << 20
"""Files larger than this are not tried as sealing key files."""

SEALING_KEY = "sealing private key"
NODE_KEY = "node private key"
KEYSTORE = "keystore"
KEYSTORE_PASSWORD = "keystore password"
KEYSTORE_KEY = "keystore private key"
SEALED_ITEM = "sealed item"
SEALED_KINDS = frozenset({NODE_KEY, KEYSTORE, KEYSTORE_PASSWORD, KEYSTORE_KEY, SEALED_ITEM})
"""Every kind that comes out of a SealedSecret: what ``ethnet unseal`` may print."""

_HEX_DIGITS = frozenset(b"0123456789abcdefABCDEF")
_TLS_KEY = re.compile(rb"tls\.key:\s*([A-Za-z0-9+/]+=*)")


@dataclass(frozen=True)
class Secret:
    """One searched form of one secret; nothing here shows the value."""

    kind: str
    name: str
    form: str
    value: bytes = field(repr=False)


@dataclass(frozen=True)
class Output:
    """Text a flow printed, with the kinds of secret it may show on purpose."""

    where: str
    text: str | bytes = field(repr=False)
    allowed: frozenset[str] = frozenset()

    @property
    def data(self) -> bytes:
        return (
            self.text.encode("utf-8", "surrogateescape")
            if isinstance(self.text, str)
            else self.text
        )


@dataclass(frozen=True)
class Leak:
    """A secret found where it must not be: its kind, its name and the forms it took."""

    where: str
    kind: str
    name: str
    forms: tuple[str, ...]

    def describe(self) -> str:
        return f"{self.kind} {self.name} ({', '.join(self.forms)}) found in {self.where}"


@dataclass
class ScanReport:
    """What a scan found: leaks, and SealedSecrets or keystores it could not open."""

    leaks: list[Leak] = field(default_factory=list)
    unopened: list[str] = field(default_factory=list)
    secrets: int = 0
    places: int = 0

    def problems(self) -> list[str]:
        found = [leak.describe() for leak in self.leaks]
        return found + [f"cannot check (not opened): {what}" for what in self.unopened]

    def assert_clean(self) -> None:
        problems = self.problems()
        assert not problems, "secret hygiene:\n  " + "\n  ".join(problems)


# --- what is secret -------------------------------------------------------------------------


def sealing_keys_under(directory: Path) -> list[rsa.RSAPrivateKey]:
    """Every sealing private key in the files under ``directory`` (PEM or key Secret YAML)."""
    if not directory.is_dir():
        return []
    return sealing_keys_in(p for p in sorted(directory.rglob("*")) if p.is_file())


def sealing_keys_in(paths: Iterable[Path]) -> list[rsa.RSAPrivateKey]:
    """The RSA private keys held by these files, as PEM or as a key Secret's ``tls.key``;
    files that hold none are passed over."""
    keys: list[rsa.RSAPrivateKey] = []
    for path in paths:
        if path.is_symlink() or not path.is_file() or path.stat().st_size > KEY_FILE_LIMIT:
            continue
        data = path.read_bytes()
        digest = hashlib.sha256(data).digest()
        if digest not in _KEY_FILES:
            _KEY_FILES[digest] = _private_keys(data)
        keys += _KEY_FILES[digest]
    return keys


def _private_keys(data: bytes) -> list[rsa.RSAPrivateKey]:
    texts = [data]
    for match in _TLS_KEY.finditer(data):
        with contextlib.suppress(binascii.Error, ValueError):
            texts.append(base64.b64decode(match.group(1)))
    keys = []
    for text in texts:
        try:
            blocks = pem_blocks(text, source="key file")
        except EthnetError:
            continue
        for block in blocks:
            if not block.label.endswith("PRIVATE KEY"):
                continue
            try:  # our own files: the slow consistency check of the key is not needed
                key = serialization.load_pem_private_key(
                    block.text, password=None, unsafe_skip_rsa_key_validation=True
                )
            except (ValueError, TypeError):
                continue
            if isinstance(key, rsa.RSAPrivateKey):
                keys.append(key)
    return keys


def unique_keys(keys: Iterable[rsa.RSAPrivateKey]) -> list[rsa.RSAPrivateKey]:
    unique: dict[int, rsa.RSAPrivateKey] = {}
    for key in keys:
        unique.setdefault(key.private_numbers().public_numbers.n, key)
    return list(unique.values())


def sealing_key_secrets(key: rsa.RSAPrivateKey) -> list[Secret]:
    """The forms a sealing private key could leak in."""
    numbers = key.private_numbers()
    name = f"#{hashlib.sha256(str(numbers.public_numbers.n).encode()).hexdigest()[:12]}"
    found: list[Secret] = []

    def add(form: str, value: bytes) -> None:
        found.append(Secret(SEALING_KEY, name, form, value))

    for label, private_format in (
        ("PKCS#1", serialization.PrivateFormat.TraditionalOpenSSL),
        ("PKCS#8", serialization.PrivateFormat.PKCS8),
    ):
        pem = key.private_bytes(
            serialization.Encoding.PEM, private_format, serialization.NoEncryption()
        )
        der = key.private_bytes(
            serialization.Encoding.DER, private_format, serialization.NoEncryption()
        )
        lines = pem.splitlines()[1:-1]
        add(f"{label} PEM", pem)
        add(f"{label} DER", der)
        add(f"{label} PEM body", b"".join(lines))
        add(f"base64 of the {label} PEM", base64.b64encode(pem).rstrip(b"="))
        if private_format is serialization.PrivateFormat.TraditionalOpenSSL:
            # each body line on its own (as ethnet and the controller write it), in case the
            # PEM was reformatted; lines of the modulus and exponent alone are public
            public_end = _public_part_end(der, numbers.public_numbers.n)
            for index, line in enumerate(lines):
                if 48 * (index + 1) > public_end:
                    add(f"{label} PEM body line {index + 1}", line)
    for label, number in (("private exponent", numbers.d), ("prime p", numbers.p)):
        add(f"{label} hex", f"{number:x}".encode())
        add(f"{label} HEX", f"{number:X}".encode())
    add("prime q hex", f"{numbers.q:x}".encode())
    add("private exponent bytes", numbers.d.to_bytes((numbers.d.bit_length() + 7) // 8, "big"))
    return found


def _public_part_end(der: bytes, modulus: int) -> int:
    """Where the public modulus and exponent end in a private key's DER."""
    encoded = modulus.to_bytes((modulus.bit_length() + 7) // 8, "big")
    start = der.find(encoded)
    assert start >= 0, "the modulus is not in the key's DER"
    end = start + len(encoded)
    return end + 2 + der[end + 1]  # the public exponent: INTEGER tag, short length, value


def value_secrets(kind: str, name: str, value: bytes) -> list[Secret]:
    """A plaintext value in the forms it could leak in: raw, hex, HEX, 0x hex, base64; and if
    it is hex text itself (a node key file), the bytes it encodes in the same forms."""
    if len(value) < MIN_SECRET_BYTES:
        return []
    forms = _byte_forms(value)
    text = value.strip().removeprefix(b"0x").removeprefix(b"0X")
    if len(text) >= 2 * MIN_SECRET_BYTES and len(text) % 2 == 0 and set(text) <= _HEX_DIGITS:
        decoded = bytes.fromhex(text.decode("ascii"))
        forms += [(f"decoded {form}", data) for form, data in _byte_forms(decoded)]
    seen: set[bytes] = set()
    found = []
    for form, data in forms:
        if len(data) >= MIN_FORM_LENGTH and data not in seen:
            seen.add(data)
            found.append(Secret(kind, name, form, data))
    return found


def _byte_forms(value: bytes) -> list[tuple[str, bytes]]:
    hexed = value.hex().encode()
    return [
        ("raw", value),
        ("hex", hexed),
        ("HEX", hexed.upper()),
        ("0x hex", b"0x" + hexed),
        ("base64", base64.b64encode(value).rstrip(b"=")),
        ("url-safe base64", base64.urlsafe_b64encode(value).rstrip(b"=")),
    ]


def item_kind(item: str) -> str:
    if item.endswith((".key", ".nodekey")):
        return NODE_KEY
    if item.endswith(".keystore"):
        return KEYSTORE
    if item.endswith(".password"):
        return KEYSTORE_PASSWORD
    return SEALED_ITEM


# Session-wide caches: the same ciphertext or keystore turns up in many places and tests.
_PLAINTEXTS: dict[tuple[str, bytes, int], bytes] = {}  # (ciphertext, label, modulus)
_KEYSTORE_KEYS: dict[tuple[bytes, bytes], bytes | None] = {}
_DOCUMENTS: dict[bytes, list[dict[str, Any]]] = {}
_KEY_FILES: dict[bytes, list[rsa.RSAPrivateKey]] = {}
_CLEAN: set[tuple[bytes, frozenset[str], bytes]] = set()  # (content, allowed, secrets) digests


def sealed_secret_documents(data: bytes) -> list[dict[str, Any]]:
    """The SealedSecret documents in a file's content; anything else yields none."""
    if b"SealedSecret" not in data or b"encryptedData" not in data:
        return []
    digest = hashlib.sha256(data).digest()
    if digest not in _DOCUMENTS:
        try:
            documents = list(YAML(typ="safe").load_all(data.decode("utf-8")))
        except (UnicodeDecodeError, YAMLError, ValueError):
            documents = []
        _DOCUMENTS[digest] = [
            doc
            for doc in documents
            if isinstance(doc, dict)
            and doc.get("kind") == "SealedSecret"
            and isinstance(doc.get("metadata"), dict)
            and isinstance(doc.get("spec"), dict)
            and isinstance(doc["spec"].get("encryptedData"), dict)
        ]
    return _DOCUMENTS[digest]


def open_sealed_secret(
    doc: Mapping[str, Any], keys: Sequence[rsa.RSAPrivateKey]
) -> tuple[dict[str, bytes], list[str]]:
    """The items of a SealedSecret that some key opens, and the names of those none opens."""
    label = label_of(doc["metadata"])
    opened: dict[str, bytes] = {}
    closed: list[str] = []
    order = list(keys)
    for item, ciphertext in doc["spec"]["encryptedData"].items():
        plaintext = _decrypt(str(ciphertext), label, order)
        if plaintext is None:
            closed.append(str(item))
        else:
            opened[str(item)] = plaintext
    return opened, closed


def _decrypt(ciphertext: str, label: bytes, keys: list[rsa.RSAPrivateKey]) -> bytes | None:
    """Try each key whose size fits (a key that opened it before first); the key that opens
    moves to the front for the next item."""
    try:
        blob = base64.b64decode(ciphertext, validate=True)
    except (binascii.Error, ValueError):
        return None
    wrapped = int.from_bytes(blob[:2], "big")
    for key in keys:
        cached = _PLAINTEXTS.get((ciphertext, label, _modulus(key)))
        if cached is not None:
            return cached
    for index, key in enumerate(keys):
        if key.key_size // 8 != wrapped:
            continue
        try:
            plaintext = decrypt_blob(key, label, blob)
        except (ValueError, InvalidTag):
            continue
        keys.insert(0, keys.pop(index))
        _PLAINTEXTS[(ciphertext, label, _modulus(key))] = plaintext
        return plaintext
    return None


def _modulus(key: rsa.RSAPrivateKey) -> int:
    return key.public_key().public_numbers().n


def open_keystores(jobs: Iterable[tuple[bytes, bytes]]) -> dict[tuple[bytes, bytes], bytes | None]:
    """The private key in each (keystore JSON, password), or None where it does not open.

    scrypt is slow by design (geth's parameters: about a second each), so the keystores of a
    scan open side by side in threads (``hashlib.scrypt`` releases the GIL), and each one
    once per session.
    """
    todo = list(dict.fromkeys(job for job in jobs if job not in _KEYSTORE_KEYS))
    if todo:
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
        workers = min(len(todo), cores or 1)
        with ThreadPoolExecutor(max_workers=workers) as pool:
            _KEYSTORE_KEYS.update(zip(todo, pool.map(_open_keystore, todo), strict=True))
    return {job: _KEYSTORE_KEYS[job] for job in jobs}


def _open_keystore(job: tuple[bytes, bytes]) -> bytes | None:
    """A keystore v3 opened from the Web3 Secret Storage definition, without ethnet's code:
    derive with scrypt or PBKDF2-HMAC-SHA256, check ``keccak256(dk[16:32] || ciphertext)``
    against the MAC, decrypt AES-128-CTR under ``dk[:16]``."""
    keystore, password = job
    try:
        crypto = json.loads(keystore)["crypto"]
        params = crypto["kdfparams"]
        salt = bytes.fromhex(params["salt"])
        if crypto["kdf"] == "scrypt":
            n, r, p = params["n"], params["r"], params["p"]
            derived = hashlib.scrypt(
                password, salt=salt, n=n, r=r, p=p, dklen=params["dklen"], maxmem=256 * r * (n + p)
            )
        else:
            derived = hashlib.pbkdf2_hmac("sha256", password, salt, params["c"], params["dklen"])
        ciphertext = bytes.fromhex(crypto["ciphertext"])
        mac = keccak.new(digest_bits=256, data=derived[16:32] + ciphertext).digest()
        if mac != bytes.fromhex(crypto["mac"]):
            return None
        iv = bytes.fromhex(crypto["cipherparams"]["iv"])
        decryptor = Cipher(algorithms.AES(derived[:16]), modes.CTR(iv)).decryptor()
        return decryptor.update(ciphertext) + decryptor.finalize()
    except (KeyError, ValueError, TypeError):
        return None


# --- where secrets must not be --------------------------------------------------------------


@dataclass(frozen=True)
class Place:
    where: str
    data: bytes = field(repr=False)
    allowed: frozenset[str] = frozenset()
    repository: Path | None = None
    oid: str | None = None


def files_under(root: Path, label: str | None = None) -> Iterator[Place]:
    """Every regular file under ``root`` (symbolic links are not followed)."""
    for directory, _, files in sorted(os.walk(root)):
        for name in sorted(files):
            path = os.path.join(directory, name)
            if not os.path.islink(path):
                relative = os.path.relpath(path, root)
                with open(path, "rb") as file:
                    yield Place(f"{label or root}/{relative}", file.read())


def git_objects(repository: Path) -> Iterator[Place]:
    """Every object in a repository's object database, inflated, with its id and type."""
    proc = subprocess.run(
        ["git", "cat-file", "--batch-all-objects", "--batch"],
        cwd=repository,
        capture_output=True,
        check=True,
    )
    out, offset = proc.stdout, 0
    while offset < len(out):
        header_end = out.index(b"\n", offset)
        oid, kind, size = out[offset:header_end].decode().split()
        start = header_end + 1
        end = start + int(size)
        yield Place(
            f"{repository}: git {kind} {oid}", out[start:end], repository=repository, oid=oid
        )
        offset = end + 1


def is_bare_repository(path: Path) -> bool:
    return (path / "HEAD").is_file() and (path / "objects").is_dir() and (path / "refs").is_dir()


def is_git_repository(path: Path) -> bool:
    return (path / ".git").exists() or is_bare_repository(path)


def repository_places(repository: Path) -> list[Place]:
    places = list(files_under(repository))
    if is_git_repository(repository):
        places += git_objects(repository)
    return places


def _describe_object(place: Place) -> str:
    """An object's place, with the path and a commit that hold it where there are some."""
    assert place.repository is not None and place.oid is not None
    git = ["git", "-C", str(place.repository)]
    listing = subprocess.run(
        [*git, "rev-list", "--all", "--objects"], capture_output=True, text=True, check=False
    ).stdout
    paths = sorted(
        {line.split(" ", 1)[1] for line in listing.splitlines() if line.startswith(place.oid + " ")}
    )
    commits = subprocess.run(
        [*git, "log", "--all", "--format=%h", f"--find-object={place.oid}"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.split()
    details = []
    if paths:
        details.append("path " + ", ".join(paths))
    if commits:
        details.append(f"added or removed in commit {commits[-1]}")
    if not paths and not commits:
        details.append("unreachable from every ref")
    return f"{place.where} ({'; '.join(details)})"


# --- the scan -------------------------------------------------------------------------------


def scan(
    *,
    repositories: Sequence[Path] = (),
    homes: Sequence[Path] = (),
    outputs: Sequence[Output] = (),
    tmp_dirs: Sequence[Path] = (),
    remotes: Sequence[Path] = (),
    extra_keys: Sequence[rsa.RSAPrivateKey] = (),
) -> ScanReport:
    """Learn every secret of these repositories and look for it in every place named."""
    keys = unique_keys([*extra_keys, *(k for home in homes for k in sealing_keys_under(home))])
    places: list[Place] = []
    for repository in [*repositories, *remotes]:
        places += repository_places(repository)
    for directory in tmp_dirs:
        places += files_under(directory, f"$TMPDIR {directory}")
    places += [Place(output.where, output.data, output.allowed) for output in outputs]

    report = ScanReport()
    secrets = [secret for key in keys for secret in sealing_key_secrets(key)]
    secrets += _sealed_secrets(places, keys, report)
    report.secrets = len({secret.value for secret in secrets})
    report.places = len(places)
    _search(places, secrets, report)
    return report


def scan_network(
    repository: Path,
    home: Path,
    output: str | Sequence[str] = (),
    *,
    tmp_dir: Path | None = None,
    remote: Path | None = None,
) -> ScanReport:
    """``scan`` for one repository, its $ETHNET_HOME and the text its commands printed."""
    texts = [output] if isinstance(output, str) else list(output)
    return scan(
        repositories=[repository],
        homes=[home],
        outputs=[Output(f"command output #{i}", text) for i, text in enumerate(texts)],
        tmp_dirs=[tmp_dir] if tmp_dir else [],
        remotes=[remote] if remote else [],
    )


def _sealed_secrets(
    places: Sequence[Place], keys: Sequence[rsa.RSAPrivateKey], report: ScanReport
) -> list[Secret]:
    """The plaintext of every SealedSecret found in any place, in every form; for a keystore,
    also the private key its password (an item of the same SealedSecret) opens."""
    unopened: dict[str, str] = {}  # what -> where first seen
    values: dict[tuple[str, str, bytes], str] = {}  # (secret, item, plaintext) -> where
    keystores: dict[tuple[str, bytes, bytes], str] = {}  # (secret[item], json, password)
    for place in places:
        for doc in sealed_secret_documents(place.data):
            metadata = doc["metadata"]
            secret = f"{metadata.get('namespace')}/{metadata.get('name')}"
            items, closed = open_sealed_secret(doc, keys)
            for item in closed:
                unopened.setdefault(f"SealedSecret {secret}[{item}]", place.where)
            for item, value in items.items():
                values.setdefault((secret, item, value), place.where)
                if item.endswith(".keystore"):
                    password = items.get(item.removesuffix(".keystore") + ".password", b"")
                    keystores.setdefault((f"{secret}[{item}]", value, password), place.where)

    found: list[Secret] = []
    for secret, item, value in values:
        found += value_secrets(item_kind(item), f"{secret}[{item}]", value)
    opened = open_keystores([(keystore, password) for _, keystore, password in keystores])
    for (name, keystore, password), where in keystores.items():
        key = opened[(keystore, password)]
        if key is None:
            unopened.setdefault(f"keystore {name} (with its password)", where)
        else:
            found += value_secrets(KEYSTORE_KEY, name, key)
    report.unopened += [
        f"{what}, first seen in {where}: it does not open, so the scan cannot tell whether "
        "its plaintext leaked (make its key known to the scan)"
        for what, where in sorted(unopened.items())
    ]
    return found


def _search(places: Sequence[Place], secrets: Sequence[Secret], report: ScanReport) -> None:
    """Each distinct content is searched once; a hit is reported at every place holding it,
    one leak per place and secret with every form found there. A content already found clean
    for the same secrets (a module's template network, scanned after each of its tests) is
    not searched again."""
    by_value: dict[bytes, Secret] = {}
    for secret in secrets:
        by_value.setdefault(secret.value, secret)
    needles = hashlib.sha256(b"".join(sorted(hashlib.sha256(v).digest() for v in by_value)))
    groups: dict[tuple[bytes, frozenset[str]], list[Place]] = {}
    for place in places:
        digest = hashlib.sha256(place.data).digest()
        groups.setdefault((digest, place.allowed), []).append(place)
    found: dict[tuple[str, str, str], list[str]] = {}
    described: dict[str, str] = {}
    for (digest, allowed), group in groups.items():
        clean = (digest, allowed, needles.digest())
        if clean in _CLEAN:
            continue
        data = group[0].data
        hits = [s for v, s in by_value.items() if s.kind not in allowed and v in data]
        if not hits:
            _CLEAN.add(clean)
        for secret in hits:
            for place in group:
                if place.where not in described:
                    described[place.where] = _describe_object(place) if place.oid else place.where
                forms = found.setdefault((described[place.where], secret.kind, secret.name), [])
                if secret.form not in forms:
                    forms.append(secret.form)
    report.leaks += [
        Leak(where, kind, name, tuple(forms)) for (where, kind, name), forms in found.items()
    ]


# --- $ETHNET_HOME ---------------------------------------------------------------------------


def home_modes(home: Path) -> dict[Path, int]:
    """The permission bits of $ETHNET_HOME and everything under it."""
    if not home.is_dir():
        return {}
    return {path: stat.S_IMODE(path.lstat().st_mode) for path in [home, *home.rglob("*")]}


def home_mode_problem(path: Path, mode: int) -> str | None:
    """Why this path's mode breaks the $ETHNET_HOME rule (files 0600, directories 0700)."""
    if path.is_symlink():
        return f"{path}: a symbolic link in $ETHNET_HOME"
    if path.is_dir() and mode != 0o700:
        return f"{path}: directory mode {mode:04o}, not 0700"
    if not path.is_dir() and mode != 0o600:
        return f"{path}: file mode {mode:04o}, not 0600"
    return None


def home_mode_problems(home: Path) -> list[str]:
    """Every path under $ETHNET_HOME whose mode is not 0600 (files) or 0700 (directories)."""
    problems = (home_mode_problem(path, mode) for path, mode in home_modes(home).items())
    return [problem for problem in problems if problem]
