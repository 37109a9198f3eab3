"""A sealing key pair for a cluster whose sealed-secrets controller has no key yet (dev, test).

The private key goes to $ETHNET_HOME/<network>/<env>/sealing-key.pem (0600, directories 0700),
never into the repository; the certificate to overlays/<env>/sealing-cert.pem; the Secret that
installs the key into the controller is returned for the caller to print.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from ethnet.errors import EthnetError
from ethnet.repo.files import make_private_directory, write_files, write_private_file
from ethnet.repo.layout import RepoLayout, is_inside, sealing_key_path
from ethnet.seal.certs import (
    certificate_pem,
    controller_key_secret,
    fingerprint,
    generate_sealing_key,
    private_key_pem,
)

CONTROLLER_NAMESPACE = "kube-system"


@dataclass(frozen=True)
class NewSealingKey:
    key_path: Path
    cert_path: Path
    fingerprint: str
    not_after: datetime
    controller_secret: dict[str, Any]


def init_sealing_key(
    layout: RepoLayout,
    network: str,
    environment: str,
    *,
    home: Path,
    now: datetime,
    bits: int = 4096,
    controller_namespace: str = CONTROLLER_NAMESPACE,
) -> NewSealingKey:
    """Create the key pair; refuse when either the key or the certificate already exists."""
    key_path = sealing_key_path(home, network, environment)
    cert_path = layout.sealing_cert(environment)
    if key_path.exists():
        raise EthnetError(
            f"{key_path} already exists; refusing to replace a sealing key",
            hint="keys sealed for it would become unreadable; delete it yourself if you mean it",
        )
    if cert_path.exists():
        raise EthnetError(
            f"{layout.relative(cert_path)} already exists: environment {environment!r} "
            "already has a sealing certificate",
            hint="sealing-key init is for a cluster without a controller key",
        )
    if is_inside(key_path, layout.root):
        raise EthnetError(
            f"ETHNET_HOME ({home}) is inside the repository; the private key must stay outside it"
        )
    key, certificate = generate_sealing_key(now=now, bits=bits)
    make_private_directory(home)
    write_private_file(key_path, private_key_pem(key))
    try:
        write_files({cert_path: certificate_pem(certificate).decode("ascii")})
    except BaseException:
        key_path.unlink(missing_ok=True)
        raise
    secret = controller_key_secret(
        key,
        certificate,
        namespace=controller_namespace,
        name=f"sealed-secrets-key-{network}-{environment}",
    )
    return NewSealingKey(
        key_path,
        cert_path,
        fingerprint(key.public_key()),
        certificate.not_valid_after_utc,
        secret,
    )
