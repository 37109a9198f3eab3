"""Where things live: paths inside a network repository and under $ETHNET_HOME.

Every path is built from names validated as DNS-1123 labels, so none can escape its
directory. Nothing here touches the disk.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

NETWORK_FILE = "network.yaml"
SEALING_CERT = "sealing-cert.pem"
SEALING_KEY = "sealing-key.pem"
KEYS_FILE = "keys.yaml"
GENESIS_FILE = "genesis.json"


@dataclass(frozen=True)
class RepoLayout:
    """The files of one network repository rooted at ``root``."""

    root: Path

    @property
    def network_file(self) -> Path:
        return self.root / NETWORK_FILE

    def overlay(self, environment: str) -> Path:
        return self.root / "overlays" / environment

    def sealing_cert(self, environment: str) -> Path:
        return self.overlay(environment) / SEALING_CERT

    def generated(self, environment: str) -> Path:
        return self.overlay(environment) / "generated"

    def keys_file(self, environment: str) -> Path:
        return self.generated(environment) / KEYS_FILE

    def genesis_file(self, environment: str) -> Path:
        return self.generated(environment) / GENESIS_FILE

    def sealed_secret_file(self, environment: str, name: str) -> Path:
        return self.generated(environment) / f"sealedsecret-{name}.yaml"

    def relative(self, path: Path) -> str:
        """``path`` as shown to users: relative to the repository when inside it."""
        try:
            return str(path.relative_to(self.root))
        except ValueError:
            return str(path)


def ethnet_home(environ: Mapping[str, str] = os.environ) -> Path:
    """$ETHNET_HOME, or ~/.ethnet: private material that never enters a repository."""
    configured = environ.get("ETHNET_HOME")
    return Path(configured).expanduser() if configured else Path.home() / ".ethnet"


def sealing_key_path(home: Path, network: str, environment: str) -> Path:
    """The dev sealing key of one environment: $ETHNET_HOME/<network>/<env>/sealing-key.pem."""
    return home / network / environment / SEALING_KEY


def is_inside(path: Path, directory: Path) -> bool:
    """True when ``path`` (after resolving symlinks and ``..``) lies within ``directory``."""
    try:
        path.resolve().relative_to(directory.resolve())
    except ValueError:
        return False
    return True
