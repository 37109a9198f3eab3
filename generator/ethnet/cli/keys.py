"""``ethnet sealing-key init`` and ``ethnet keys generate``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ethnet.cli.common import (
    EXIT_OK,
    add_directory,
    add_environment,
    end_progress,
    info,
    layout,
    load,
    network_file,
    now,
    progress,
    warn,
)
from ethnet.cli.nodes import register_rotate
from ethnet.errors import EthnetError
from ethnet.repo.layout import ethnet_home, is_inside


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    sealing = commands.add_parser(
        "sealing-key",
        help="create a sealing key pair for a cluster without one (dev, test)",
        description="Manage sealed-secrets controller keys for clusters ethnet sets up itself.",
    )
    sealing_commands = sealing.add_subparsers(title="commands", metavar="COMMAND")
    init = sealing_commands.add_parser(
        "init",
        help="generate a controller key pair for one environment",
        description="Generate a 4096-bit RSA key and self-signed certificate shaped like the "
        "sealed-secrets controller's own. The private key goes to "
        "$ETHNET_HOME/<network>/<env>/sealing-key.pem (mode 0600; ETHNET_HOME defaults to "
        "~/.ethnet), the certificate to overlays/<env>/sealing-cert.pem, and the "
        "kubernetes.io/tls Secret that installs the key into the controller is printed on "
        "stdout (or written to --out, outside the repository): apply it to the cluster and "
        "restart the controller. Refuses to replace an existing key or certificate. For a "
        "cluster that already runs a controller, fetch its certificate instead: "
        "kubeseal --fetch-cert > overlays/<env>/sealing-cert.pem",
    )
    add_environment(init)
    add_directory(init)
    init.add_argument(
        "--out",
        type=Path,
        metavar="FILE",
        help="write the controller Secret here (mode 0600, outside the repository)",
    )
    init.add_argument(
        "--controller-namespace",
        default="kube-system",
        metavar="NS",
        help="namespace of the sealed-secrets controller (default: kube-system)",
    )
    init.set_defaults(handler=_sealing_key_init)

    keys = commands.add_parser(
        "keys",
        help="generate and seal node keys",
        description="Node keys, validator keys, keystores and component secrets.",
    )
    keys_commands = keys.add_subparsers(title="commands", metavar="COMMAND")
    generate = keys_commands.add_parser(
        "generate",
        help="generate and seal the keys an environment still lacks",
        description="Generate every key the environment needs and does not have yet, in "
        "memory, and write them only as SealedSecrets (overlays/<env>/generated/"
        "sealedsecret-*.yaml), sealed with overlays/<env>/sealing-cert.pem; public material "
        "goes to overlays/<env>/generated/keys.yaml. Existing keys are never regenerated or "
        "re-sealed. geth-clique signer keystores use geth's standard scrypt parameters "
        "(about a second each).",
    )
    target = generate.add_mutually_exclusive_group(required=True)
    target.add_argument("--env", metavar="ENV", help="environment name from network.yaml")
    target.add_argument("--all", action="store_true", help="every environment")
    add_directory(generate)
    generate.set_defaults(handler=_keys_generate)
    register_rotate(keys_commands)


def _sealing_key_init(args: argparse.Namespace) -> int:
    from ethnet.repo.emit import dump
    from ethnet.repo.files import write_private_file
    from ethnet.repo.sealing_key import init_sealing_key

    repo = layout(args)
    network = load(network_file(args)).network
    network.require_environment(args.env)
    if args.out is not None and is_inside(args.out, repo.root):
        raise EthnetError(
            f"{args.out} is inside the repository; the controller Secret holds a private key",
            hint="write it outside the repository, or omit --out to print it",
        )
    created = init_sealing_key(
        repo,
        network.name,
        args.env,
        home=ethnet_home(),
        now=now(),
        controller_namespace=args.controller_namespace,
    )
    secret_text = dump(
        created.controller_secret,
        header="Installs a sealing key into the sealed-secrets controller. PRIVATE: do not commit.",
    )
    if args.out is not None:
        write_private_file(args.out, secret_text.encode("utf-8"))
        info(f"wrote the controller Secret to {args.out} (mode 0600)")
    else:
        sys.stdout.write(secret_text)
    info(f"private key: {created.key_path} (mode 0600; back it up, never commit it)")
    info(
        f"certificate: {repo.relative(created.cert_path)}, {created.fingerprint}, "
        f"valid until {created.not_after:%Y-%m-%d}"
    )
    info("next: kubectl apply -f <the Secret>, then restart the sealed-secrets controller")
    return EXIT_OK


def _keys_generate(args: argparse.Namespace) -> int:
    from ethnet.repo.environment import ensure_keys, load_certificate

    repo = layout(args)
    network = load(network_file(args)).network
    environments = list(network.environment_names) if args.all else [args.env]
    for environment in environments:
        network.require_environment(environment)
        load_certificate(repo, environment, now())  # every certificate usable before any work
    for environment in environments:
        try:
            changes, warnings = ensure_keys(
                repo,
                network,
                environment,
                now=now(),
                command="ethnet keys generate",
                progress=progress,
            )
        finally:
            end_progress()
        for message in warnings:
            warn(message)
        if changes.generated:
            info(
                f"{environment}: generated and sealed {len(changes.generated)} key(s): "
                f"{', '.join(changes.generated)}"
            )
        else:
            info(f"{environment}: every key already exists; nothing changed")
        if changes.unused:
            warn(
                f"{environment}: keys of nodes no longer in network.yaml are kept: "
                f"{', '.join(changes.unused)}"
            )
    return EXIT_OK
