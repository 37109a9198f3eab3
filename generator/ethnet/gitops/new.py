"""ethnet new: a working network repository from the cookiecutter template, in one step.

Template, git init, a dev sealing key for every environment without a certificate, keys,
genesis, render, first commit. The template itself never generates keys (its hooks only
validate answers), so ``cruft update`` stays usable on the repository.
"""

from __future__ import annotations

import secrets
import shutil
import tempfile
from dataclasses import dataclass, field
from datetime import datetime
from importlib import resources
from pathlib import Path

import git
from cookiecutter.exceptions import CookiecutterException, FailedHookException
from cookiecutter.main import cookiecutter

from ethnet.chain.keystore import STANDARD_SCRYPT, ScryptParams
from ethnet.errors import EthnetError
from ethnet.gitops import fingerprint
from ethnet.gitops.git import commit_paths
from ethnet.gitops.sync import SyncResult, sync
from ethnet.repo.emit import dump
from ethnet.repo.files import write_private_file
from ethnet.repo.keys import Progress, Rng
from ethnet.repo.layout import RepoLayout, sealing_key_path
from ethnet.repo.sealing_key import init_sealing_key
from ethnet.spec.loader import load_network
from ethnet.spec.names import DNS1035_LABEL

CONTROLLER_SECRET = "sealing-key-secret.yaml"


def template_dir() -> Path:
    """The cookiecutter template shipped in the package."""
    return Path(str(resources.files("ethnet").joinpath("cookiecutter-ethnet")))


@dataclass
class NewNetwork:
    path: Path
    name: str
    dev_keys: dict[str, Path] = field(default_factory=dict)
    sync: SyncResult | None = None
    commit: str | None = None


def new_network(
    directory: Path,
    *,
    settings: dict[str, str],
    no_input: bool,
    home: Path,
    now: datetime,
    rng: Rng = secrets.token_bytes,
    kdf: ScryptParams = STANDARD_SCRYPT,
    progress: Progress | None = None,
) -> NewNetwork:
    """Create the network repository at ``directory`` (which must not exist or be empty)."""
    if directory.exists() and (not directory.is_dir() or any(directory.iterdir())):
        raise EthnetError(f"{directory} already exists and is not empty")
    context = dict(settings)
    if "network_name" not in context and DNS1035_LABEL.fullmatch(directory.name):
        context["network_name"] = directory.name
    _render_template(directory, context, no_input)
    try:
        network = load_network(directory / "network.yaml").network
        repo = git.Repo.init(directory, initial_branch=network.spec.gitops.branch)
        result = NewNetwork(directory, network.name)
        layout = RepoLayout(directory)
        for env in network.environment_names:
            if layout.sealing_cert(env).exists():
                continue
            if progress:
                progress(f"{env}: generating a dev sealing key (4096-bit RSA)")
            created = init_sealing_key(layout, network.name, env, home=home, now=now)
            secret_path = sealing_key_path(home, network.name, env).with_name(CONTROLLER_SECRET)
            write_private_file(
                secret_path,
                dump(
                    created.controller_secret,
                    header="PRIVATE: installs the dev sealing key. "
                    "kubectl apply -f it; never commit it.",
                ).encode(),
            )
            result.dev_keys[env] = secret_path
        result.sync = sync(directory, now=now, commit=False, rng=rng, kdf=kdf, progress=progress)
        result.commit = commit_paths(repo, None, f"ethnet new: {network.name}\n")
        fingerprint.record(directory)  # the first sync has nothing to do
    except BaseException:
        shutil.rmtree(directory, ignore_errors=True)
        raise
    return result


def _render_template(directory: Path, context: dict[str, str], no_input: bool) -> None:
    with tempfile.TemporaryDirectory(prefix="ethnet-new-") as scratch:
        config = {
            "cookiecutters_dir": str(Path(scratch) / "cookiecutters"),
            "replay_dir": str(Path(scratch) / "replay"),
        }
        # cookiecutter writes its rendered hooks to the default temporary directory and
        # leaves them there: point it at the scratch directory, removed below
        default_tempdir = tempfile.tempdir
        tempfile.tempdir = scratch
        try:
            project = cookiecutter(
                str(template_dir()),
                no_input=no_input,
                extra_context=context,
                output_dir=str(Path(scratch) / "out"),
                default_config=config,
            )
        except FailedHookException:
            raise EthnetError(
                "the template refused the answers (see the messages above)",
                hint="fix them with --set KEY=VALUE",
            ) from None
        except CookiecutterException as exc:
            raise EthnetError(f"the template failed: {exc}") from None
        finally:
            tempfile.tempdir = default_tempdir
        directory.parent.mkdir(parents=True, exist_ok=True)
        if directory.exists():
            directory.rmdir()  # empty, checked by the caller
        shutil.move(project, directory)
