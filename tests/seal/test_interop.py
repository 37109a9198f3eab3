"""ethnet's sealing against implementations it shares no code with.

- tests/seal/independent_decryptor.py, written from the format description only;
- the npm package @linode/kubeseal-encrypt (WebCrypto RSA-OAEP + AES-GCM, namespace-wide
  only: its label is the namespace), whose ciphertext ethnet must unseal.
"""

from __future__ import annotations

import base64
import json
import subprocess
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from ruamel.yaml import YAML

from ethnet.errors import UnsealError
from ethnet.seal.crypto import hybrid_decrypt
from ethnet.seal.scope import Scope
from ethnet.seal.sealedsecret import seal_items, sealed_secret, unseal
from tests.npm_tools import KUBESEAL_ENCRYPT, require_node, require_npm_package
from tests.seal import independent_decryptor

VALUES = {
    "plain": "hunter2",
    "unicode": "päss wörd ✓ \u4e2d\u6587",
    "multiline": "line one\nline two\n",
    "long": "x" * 3000,
}

# CommonJS: dist/index.cjs exports encryptSecretItem(pem, namespace, data) -> Promise<base64>.
NODE_SCRIPT = """
const fs = require("fs");
const { encryptSecretItem } = require(process.argv[2]);
const pem = fs.readFileSync(process.argv[3], "utf8");
const values = JSON.parse(fs.readFileSync(process.argv[4], "utf8"));
(async () => {
  const out = {};
  for (const [key, value] of Object.entries(values)) {
    out[key] = await encryptSecretItem(pem, process.argv[5], value);
  }
  process.stdout.write(JSON.stringify(out));
})().catch((err) => { console.error(err); process.exit(1); });
"""


@pytest.mark.parametrize("scope", list(Scope))
def test_independent_decryptor_opens_ethnet_output(
    rsa_key_2048: rsa.RSAPrivateKey, scope: Scope
) -> None:
    items = {key: value.encode() for key, value in VALUES.items()}
    encrypted = seal_items(
        items, public_key=rsa_key_2048.public_key(), name="app", namespace="ethnet", scope=scope
    )
    doc = sealed_secret(name="app", namespace="ethnet", scope=scope, encrypted_data=encrypted)
    assert independent_decryptor.decrypt_sealed_secret(doc, rsa_key_2048) == items


def test_independent_decryptor_checks_the_label(rsa_key_2048: rsa.RSAPrivateKey) -> None:
    encrypted = seal_items(
        {"k": b"v"},
        public_key=rsa_key_2048.public_key(),
        name="app",
        namespace="ethnet",
        scope=Scope.STRICT,
    )
    doc = sealed_secret(
        name="renamed", namespace="ethnet", scope=Scope.STRICT, encrypted_data=encrypted
    )
    with pytest.raises(ValueError):
        independent_decryptor.decrypt_sealed_secret(doc, rsa_key_2048)


def _kubeseal_encrypt(
    tmp_path: Path, public_key: rsa.RSAPublicKey, namespace: str, values: dict[str, str]
) -> dict[str, str]:
    package = require_npm_package(KUBESEAL_ENCRYPT)
    node = require_node()
    script = tmp_path / "encrypt.cjs"
    script.write_text(NODE_SCRIPT, encoding="utf-8")
    pem = tmp_path / "sealing-public-key.pem"
    pem.write_bytes(
        public_key.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    inputs = tmp_path / "values.json"
    inputs.write_text(json.dumps(values), encoding="utf-8")
    proc = subprocess.run(
        [node, str(script), str(package), str(pem), str(inputs), namespace],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    result: dict[str, str] = json.loads(proc.stdout)
    return result


def test_ethnet_unseals_kubeseal_encrypt_output(
    tmp_path: Path, rsa_key_2048: rsa.RSAPrivateKey
) -> None:
    sealed = _kubeseal_encrypt(tmp_path, rsa_key_2048.public_key(), "ethnet", VALUES)
    assert set(sealed) == set(VALUES)
    for key, text in sealed.items():
        raw = base64.b64decode(text, validate=True)
        assert raw[:2] == b"\x01\x00"
        assert len(raw) == 2 + 256 + len(VALUES[key].encode()) + 16
        assert hybrid_decrypt([rsa_key_2048], b"ethnet", raw) == VALUES[key].encode()

    doc = sealed_secret(
        name="any-name", namespace="ethnet", scope=Scope.NAMESPACE_WIDE, encrypted_data=sealed
    )
    secret = unseal(doc, [rsa_key_2048])
    assert secret["data"] == {
        key: base64.b64encode(value.encode()).decode() for key, value in sorted(VALUES.items())
    }

    strict = sealed_secret(
        name="any-name", namespace="ethnet", scope=Scope.STRICT, encrypted_data=sealed
    )
    with pytest.raises(UnsealError, match="no key could decrypt secret"):
        unseal(strict, [rsa_key_2048])


def test_ethnet_unseal_command_opens_kubeseal_encrypt_output(
    tmp_path: Path, rsa_key_2048: rsa.RSAPrivateKey, run_cli
) -> None:
    from ethnet.repo.emit import dump
    from ethnet.seal.certs import private_key_pem

    sealed = _kubeseal_encrypt(tmp_path, rsa_key_2048.public_key(), "payments", VALUES)
    doc = sealed_secret(
        name="from-node", namespace="payments", scope=Scope.NAMESPACE_WIDE, encrypted_data=sealed
    )
    (tmp_path / "sealed.yaml").write_text(dump(doc))
    key = tmp_path / "controller-key.pem"  # made at run time, removed with tmp_path
    key.write_bytes(private_key_pem(rsa_key_2048))
    key.chmod(0o600)

    result = run_cli("unseal", tmp_path / "sealed.yaml", "--key", key)

    assert result.code == 0, result.err
    secret = YAML(typ="safe").load(result.out)
    assert secret["metadata"] == {"name": "from-node", "namespace": "payments"}
    assert {k: base64.b64decode(v).decode() for k, v in secret["data"].items()} == VALUES
