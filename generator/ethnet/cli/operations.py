"""``ethnet reseal``, ``status`` and ``promote``: day-2 operations, each one commit."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from ethnet.cli.common import (
    EXIT_OK,
    add_directory,
    add_environment,
    end_progress,
    info,
    layout,
    now,
    progress,
    warn,
)
from ethnet.errors import EthnetError


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    reseal_parser = commands.add_parser(
        "reseal",
        help="re-seal an environment's secrets for a new controller key, in one commit",
        description="When a cluster's sealed-secrets controller key changes, or an "
        "environment moves to another cluster: decrypt every SealedSecret under "
        "overlays/ENV/ (the generated ones and your own) with the old controller key(s), "
        "seal each item again for the new certificate under the same name, namespace and "
        "scope, write the certificate to overlays/ENV/sealing-cert.pem and its fingerprint "
        "to keys.yaml, render, and commit. Plaintext stays in memory. Nothing is written if "
        "any item does not decrypt with the given keys. Install the new key in the "
        "controller before the commit is deployed.",
    )
    add_environment(reseal_parser)
    reseal_parser.add_argument(
        "--cert",
        required=True,
        type=Path,
        metavar="PEM",
        help="the new certificate (kubeseal --fetch-cert against the new controller)",
    )
    reseal_parser.add_argument(
        "--key",
        action="append",
        required=True,
        type=Path,
        metavar="PEM",
        help="an old controller private key (PEM, or the YAML of backed-up key Secrets; "
        "mode 0600); repeatable",
    )
    add_directory(reseal_parser)
    reseal_parser.set_defaults(handler=_reseal)

    status = commands.add_parser(
        "status",
        help="what the repository says an environment should run (offline)",
        description="Show, without asking any cluster, what the repository says ENV should "
        "run: profile, namespace, chain ID, live or not; validators with their addresses "
        "and enodes, RPC nodes and bootnodes (keys of nodes no longer in network.yaml are "
        "marked); images, resources and storage; the sealing certificate's fingerprint and "
        "expiry; and whether rendered/ is identical to a fresh render.",
    )
    add_environment(status)
    add_directory(status)
    status.add_argument("--json", action="store_true", help="print JSON for machines")
    status.set_defaults(handler=_status)

    promote_parser = commands.add_parser(
        "promote",
        help="give one environment another's images and resources, in one commit",
        description="Set the images and the client containers' requests and limits of the "
        "--to environment to those the --from environment runs (as overrides under "
        "spec.environments.TO in network.yaml, keeping its comments), render and commit. "
        "Never promoted: keys, genesis, chain ID, namespace, node counts, the live flag, "
        "and storage (volumeClaimTemplates cannot change in place and volumes never shrink; "
        "a difference is reported). No commit when nothing differs.",
    )
    promote_parser.add_argument("--from", dest="source", required=True, metavar="ENV")
    promote_parser.add_argument("--to", dest="target", required=True, metavar="ENV")
    add_directory(promote_parser)
    promote_parser.set_defaults(handler=_promote)


def _reseal(args: argparse.Namespace) -> int:
    from ethnet.gitops.reseal import reseal
    from ethnet.repo.files import read_private_file
    from ethnet.seal.recovery import load_private_keys

    try:
        certificate = args.cert.read_bytes()
    except OSError as exc:
        raise EthnetError(f"--cert {args.cert}: {exc.strerror}") from None
    keys = []
    for path in args.key:
        keys += load_private_keys(read_private_file(path), source=str(path))
    try:
        result = reseal(
            layout(args).root,
            args.env,
            certificate=certificate,
            certificate_source=str(args.cert),
            private_keys=keys,
            now=now(),
            progress=progress,
        )
    finally:
        end_progress()
    for message in result.warnings:
        warn(message)
    if result.already_sealed:
        info(f"{args.env} is already sealed for {result.new_fingerprint}; nothing to do")
        return EXIT_OK
    info(
        f"{args.env}: re-sealed {result.items} item(s) of {result.secrets} SealedSecret(s) in "
        f"{len(result.files)} file(s) for {result.new_fingerprint}"
        + (f" (was {result.old_fingerprint})" if result.old_fingerprint else "")
    )
    if result.commit:
        info(f"committed {result.commit[:12]}")
    info(
        "next: make sure the new key is installed in the cluster's sealed-secrets controller "
        "before this commit is deployed; keep the old key backed up until then"
    )
    return EXIT_OK


def _status(args: argparse.Namespace) -> int:
    from ethnet.gitops.status import environment_status, render_text

    status = environment_status(layout(args).root, args.env, now=now())
    if args.json:
        sys.stdout.write(json.dumps(status.to_json(), indent=2) + "\n")
    else:
        sys.stdout.write(render_text(status))
    return EXIT_OK


def _promote(args: argparse.Namespace) -> int:
    from ethnet.gitops.promote import promote

    try:
        result = promote(layout(args).root, args.source, args.target, now=now(), progress=progress)
    finally:
        end_progress()
    for note in result.notes:
        info(f"note: {note}")
    if not result.changes:
        info(f"nothing to promote: {args.target} already runs {args.source}'s images and resources")
        return EXIT_OK
    info(f"promoted {args.source} to {args.target}:")
    for change in result.changes:
        info(f"  {change}")
    if result.commit:
        info(f"committed {result.commit[:12]}")
    return EXIT_OK
