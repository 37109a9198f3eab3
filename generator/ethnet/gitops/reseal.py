"""ethnet reseal: move one environment's sealed secrets to a new sealing key, in one commit.

When a cluster's sealed-secrets controller gets a new key, or an environment moves to
another cluster, every SealedSecret of that environment must be sealed again for the new
certificate: the ones ethnet generated (overlays/<env>/generated/) and the users' own
anywhere else under overlays/<env>/ (sealed with ``ethnet seal`` or kubeseal). Each item is
decrypted with the old controller key(s) and sealed again with the new certificate under
the same name, namespace and scope; labels, annotations and the template are kept. The
plaintext lives only in memory.

Then the new certificate replaces overlays/<env>/sealing-cert.pem, keys.yaml records its
fingerprint, and ``ethnet sync`` renders and commits: the commit changes that environment's
SealedSecret files, keys.yaml, sealing-cert.pem and rendered/<env>/sealedsecret-*.yaml, and
nothing else. Files are rewritten in place, ciphertext for ciphertext, so their comments and
layout survive. If any item does not decrypt with the given keys, nothing is written.
"""

from __future__ import annotations

import base64
import json
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric import rsa
from ruamel.yaml.error import YAMLError

from ethnet import yamlread
from ethnet.errors import EthnetError, UnsealError
from ethnet.gitops.git import changed_paths, open_repository
from ethnet.gitops.sync import SyncResult, sync
from ethnet.repo.emit import dump, dump_all
from ethnet.repo.environment import KEYS_HEADER, read_yaml_file
from ethnet.repo.files import write_files
from ethnet.repo.keys import KeyMaterial, Progress, Rng
from ethnet.repo.layout import NETWORK_FILE, RepoLayout
from ethnet.seal.certs import SealingCertificate, fingerprint, load_sealing_certificate
from ethnet.seal.pem import pem_blocks
from ethnet.seal.sealedsecret import KIND, merge_items, unseal, validate_sealed_secret
from ethnet.spec.loader import load_network

COMMAND = "ethnet reseal"
SEALED_SUFFIXES = (".yaml", ".yml", ".json")
_CERTIFICATE_LABELS = ("CERTIFICATE",)
_PUBLIC_KEY_LABELS = ("PUBLIC KEY", "RSA PUBLIC KEY")


@dataclass
class ResealResult:
    """What a reseal did."""

    environment: str
    old_fingerprint: str | None
    new_fingerprint: str
    not_after: datetime | None
    files: list[str] = field(default_factory=list)  # SealedSecret files rewritten
    secrets: int = 0
    items: int = 0
    warnings: list[str] = field(default_factory=list)
    sync: SyncResult | None = None
    already_sealed: bool = False

    @property
    def commit(self) -> str | None:
        return self.sync.commit if self.sync else None


@dataclass
class _SealedFile:
    """One file under overlays/<env>/ holding SealedSecrets, and their re-sealed versions."""

    path: Path
    text: str
    documents: list[Any]
    resealed: dict[int, dict[str, Any]] = field(default_factory=dict)  # document index -> doc


def reseal(
    root: Path,
    environment: str,
    *,
    certificate: bytes,
    certificate_source: str,
    private_keys: Sequence[rsa.RSAPrivateKey],
    now: datetime,
    rng: Rng = secrets.token_bytes,
    progress: Progress | None = None,
) -> ResealResult:
    """Re-seal every SealedSecret of ``environment`` for ``certificate`` (PEM bytes) and
    commit the result with the rendered manifests. ``private_keys`` are the old controller
    keys; every item must decrypt with one of them, or nothing is written."""
    layout = RepoLayout(root)
    network = load_network(layout.network_file).network
    network.require_environment(environment)
    new, warnings = load_sealing_certificate(certificate, source=certificate_source, now=now)
    certificate_text = _certificate_text(certificate, certificate_source)
    if not private_keys:
        raise EthnetError("no old key given", hint="give the old controller key with --key PEM")
    repo = open_repository(root)
    _require_clean(changed_paths(repo))

    keys_path = layout.keys_file(environment)
    material = (
        KeyMaterial.from_document(
            read_yaml_file(keys_path, what="keys.yaml"), source=layout.relative(keys_path)
        )
        if keys_path.is_file()
        else None
    )
    cert_path = layout.sealing_cert(environment)
    current_cert = cert_path.read_bytes() if cert_path.is_file() else None
    result = ResealResult(
        environment,
        material.sealing_fingerprint if material else None,
        new.fingerprint,
        new.not_after,
        warnings=list(warnings),
    )
    sealed_files = _sealed_files(layout, environment)
    already = current_cert == certificate_text.encode("ascii") and (
        material is None or material.sealing_fingerprint == new.fingerprint
    )

    failures: list[str] = []
    for sealed_file in sealed_files:
        if progress:
            progress(f"{environment}: re-sealing {layout.relative(sealed_file.path)}")
        failures += _reseal_file(layout, sealed_file, private_keys, new, rng, result)
    if failures and already and result.secrets == 0:
        result.already_sealed = True  # a repeated run: sealed for the new key already
        return result
    if failures:
        given = ", ".join(fingerprint(key.public_key()) for key in private_keys)
        expected = (
            f"; keys.yaml says they were sealed for {material.sealing_fingerprint}"
            if material
            else ""
        )
        raise UnsealError(
            f"cannot re-seal {environment}: {len(failures)} SealedSecret(s) do not decrypt "
            f"with the given key(s) ({given}){expected}; nothing was changed:\n  "
            + "\n  ".join(failures),
            hint="give every old controller key with --key (a PEM key, or the YAML of the "
            "backed-up controller key Secrets); the controller keeps all its keys, back them "
            "up with kubectl get secret -n kube-system "
            "-l sealedsecrets.bitnami.com/sealed-secrets-key -o yaml",
        )

    files: dict[Path, str] = {cert_path: certificate_text}
    for sealed_file in sealed_files:
        files[sealed_file.path] = _rewrite(layout, sealed_file, result.warnings)
        result.files.append(layout.relative(sealed_file.path))
    if material is not None:
        updated = replace(material, sealing_fingerprint=new.fingerprint)
        files[keys_path] = dump(updated.to_document(), header=_header(keys_path))
    originals = {path: path.read_text(encoding="utf-8") for path in files if path.is_file()}
    created = [path for path in files if not path.is_file()]
    write_files(files)
    try:
        result.sync = sync(
            root,
            now=now,
            rng=rng,
            progress=progress,
            subject=f"ethnet reseal: {environment} for {new.fingerprint}",
        )
    except BaseException:
        write_files(originals)
        for path in created:
            path.unlink(missing_ok=True)
        raise
    result.warnings += _unexpected_changes(result.sync, environment)
    return result


def _require_clean(paths: list[str]) -> None:
    if paths:
        shown = ", ".join(paths[:5]) + (" ..." if len(paths) > 5 else "")
        raise EthnetError(
            f"uncommitted changes: {shown}",
            hint="commit or stash them first: this command makes one reviewable commit of its own",
        )


def _certificate_text(data: bytes, source: str) -> str:
    """The block that seals, as load_sealing_certificate picks it (the first certificate,
    else the first public key), and only it: never a private key from the same file."""
    blocks = pem_blocks(data, source)
    for labels in (_CERTIFICATE_LABELS, _PUBLIC_KEY_LABELS):
        chosen = [block for block in blocks if block.label in labels]
        if chosen:
            return chosen[0].text.decode("ascii")
    raise EthnetError(f"{source}: no certificate in it")  # pragma: no cover - loaded before


def _sealed_files(layout: RepoLayout, environment: str) -> list[_SealedFile]:
    """Every file under overlays/<env>/ with at least one SealedSecret in it."""
    overlay = layout.overlay(environment)
    found = []
    for path in sorted(overlay.rglob("*")):
        if path.suffix not in SEALED_SUFFIXES or not (path.is_file() or path.is_symlink()):
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue  # not text: no SealedSecret a kustomization could read
        if KIND not in text:
            continue
        source = layout.relative(path)
        try:
            documents = yamlread.load_all(text)
        except YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f"{source}:{mark.line + 1}:{mark.column + 1}" if mark else source
            raise EthnetError(
                f"{where}: not valid YAML, so its SealedSecrets cannot be re-sealed",
                hint="fix the file, or move it out of the overlay",
            ) from None
        if any(_is_sealed_secret(item) for doc in documents for item in _list_items(doc)):
            raise EthnetError(
                f"{source} holds SealedSecrets inside a List, which reseal does not rewrite",
                hint="put each SealedSecret in a document of its own (--- between them)",
            )
        if not any(_is_sealed_secret(doc) for doc in documents):
            continue
        if path.is_symlink():
            raise EthnetError(
                f"{source} is a symbolic link; re-sealing it would change the file it points to",
                hint="replace the link by a copy of the file for this environment",
            )
        found.append(_SealedFile(path, text, documents))
    return found


def _is_sealed_secret(doc: object) -> bool:
    return isinstance(doc, dict) and doc.get("kind") == KIND


def _list_items(doc: object) -> list[object]:
    if isinstance(doc, dict) and doc.get("kind") == "List" and isinstance(doc.get("items"), list):
        return list(doc["items"])
    return []


def _reseal_file(
    layout: RepoLayout,
    sealed_file: _SealedFile,
    private_keys: Sequence[rsa.RSAPrivateKey],
    new: SealingCertificate,
    rng: Rng,
    result: ResealResult,
) -> list[str]:
    """Re-seal the SealedSecrets of one file in memory; the failures, one line each."""
    failures = []
    relative = layout.relative(sealed_file.path)
    several = len(sealed_file.documents) > 1
    for index, doc in enumerate(sealed_file.documents):
        if not _is_sealed_secret(doc):
            continue
        source = f"{relative} (document {index + 1})" if several else relative
        checked = validate_sealed_secret(doc, source=source)
        try:
            secret = unseal(checked, private_keys, source=source)
        except UnsealError as exc:
            failures.append(f"{source}: {exc.message}")
            continue
        items = {key: base64.b64decode(value) for key, value in secret["data"].items()}
        sealed_file.resealed[index] = merge_items(
            checked, items, public_key=new.public_key, rng=rng, source=source
        )
        result.secrets += 1
        result.items += len(items)
    return failures


def _rewrite(layout: RepoLayout, sealed_file: _SealedFile, warnings: list[str]) -> str:
    """The file's new text: each old ciphertext replaced by its new one, so comments, order
    and layout stay; the whole file rewritten only when that cannot be done safely."""
    expected = [
        sealed_file.resealed.get(index, doc) for index, doc in enumerate(sealed_file.documents)
    ]
    text = sealed_file.text
    replaced = True
    for index, new_doc in sealed_file.resealed.items():
        old_items = sealed_file.documents[index]["spec"]["encryptedData"]
        for key, old_value in old_items.items():
            if text.count(old_value) != 1:
                replaced = False
                break
            text = text.replace(old_value, new_doc["spec"]["encryptedData"][key])
    if replaced and _parses_as(text, expected):
        return text
    warnings.append(
        f"{layout.relative(sealed_file.path)}: rewritten whole (its comments and layout "
        "could not be kept)"
    )
    if sealed_file.path.suffix == ".json" and len(expected) == 1:
        return json.dumps(expected[0], indent=2) + "\n"
    header = _leading_comment(sealed_file.text)
    if len(expected) == 1:
        return dump(expected[0], header=header)
    return dump_all([doc for doc in expected if doc is not None], header=header)


def _parses_as(text: str, expected: list[Any]) -> bool:
    try:
        return yamlread.load_all(text) == expected
    except YAMLError:
        return False


def _leading_comment(text: str) -> str | None:
    first = text.split("\n", 1)[0]
    return first[2:] if first.startswith("# ") else None


def _header(path: Path) -> str:
    """keys.yaml keeps its header line, so the diff shows only the new fingerprint."""
    return _leading_comment(path.read_text(encoding="utf-8")) or KEYS_HEADER.format(command=COMMAND)


def _unexpected_changes(result: SyncResult, environment: str) -> list[str]:
    """Anything the commit changed besides the environment's sealed secrets (a sync of
    other pending work, such as keys for nodes added without a sync)."""
    allowed = (f"overlays/{environment}/", f"rendered/{environment}/sealedsecret-")
    others = [
        path
        for path in result.changed + result.removed
        if not path.startswith(allowed) and path != NETWORK_FILE
    ]
    if not others:
        return []
    shown = ", ".join(others[:5]) + (" ..." if len(others) > 5 else "")
    return [f"the commit also holds changes a plain sync made: {shown}"]
