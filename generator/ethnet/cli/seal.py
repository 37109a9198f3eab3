"""``ethnet seal`` (a user's own secrets) and ``ethnet unseal`` (disaster recovery)."""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from ethnet.cli.common import (
    EXIT_OK,
    add_directory,
    info,
    layout,
    load,
    network_file,
    now,
    warn,
)
from ethnet.errors import EthnetError
from ethnet.seal.scope import Scope

if TYPE_CHECKING:
    from ethnet.seal.certs import SealingCertificate

# Secret data keys, as Kubernetes validates them (IsConfigMapKey).
_SECRET_KEY = re.compile(r"[-._a-zA-Z0-9]{1,253}")


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    seal = commands.add_parser(
        "seal",
        help="seal your own secret for an environment's cluster",
        description="Seal a Secret for an environment's sealed-secrets controller, like "
        "kubeseal. With --env the certificate is overlays/ENV/sealing-cert.pem and the "
        "namespace the environment's; --cert and --namespace work outside a repository. "
        "With --merge-into FILE only the given items are (re)sealed into FILE, in place: "
        "every other item keeps its ciphertext byte for byte, so reviews show what changed. "
        "Prefer --from-file: --from-literal values end up in your shell history.",
    )
    seal.add_argument("--env", metavar="ENV", help="environment whose certificate seals")
    add_directory(seal)
    seal.add_argument("--name", metavar="NAME", help="Secret name (required unless merging)")
    seal.add_argument("--namespace", metavar="NS", help="default: the environment's namespace")
    seal.add_argument(
        "--scope",
        choices=[scope.value for scope in Scope],
        default=Scope.STRICT.value,
        help="strict (default): only this name in this namespace can decrypt; "
        "namespace-wide: any name in the namespace; cluster-wide: anywhere",
    )
    seal.add_argument("--type", default="Opaque", help="Secret type (default: Opaque)")
    seal.add_argument(
        "--from-literal", action="append", default=[], metavar="KEY=VALUE", help="an item"
    )
    seal.add_argument(
        "--from-file", action="append", default=[], metavar="KEY=PATH", help="an item from a file"
    )
    seal.add_argument("--cert", type=Path, metavar="PEM", help="certificate or public key PEM")
    seal.add_argument(
        "--merge-into", type=Path, metavar="FILE", help="an existing SealedSecret to update"
    )
    seal.add_argument("-o", "--output", type=Path, metavar="FILE", help="default: stdout")
    seal.set_defaults(handler=_seal)

    unseal_parser = commands.add_parser(
        "unseal",
        help="decrypt SealedSecrets with a backed-up controller key (disaster recovery)",
        description="Decrypt every SealedSecret in FILE offline, like kubeseal "
        "--recovery-unseal, and print the Secrets. Each --key is a PEM private key, or the "
        "YAML of a backed-up controller key Secret (or a List of them, as printed by "
        "kubectl get secret -n kube-system -l sealedsecrets.bitnami.com/sealed-secrets-key "
        "-o yaml); every key is tried. The output holds plaintext secrets.",
    )
    unseal_parser.add_argument("file", type=Path, help="a SealedSecret YAML file")
    unseal_parser.add_argument(
        "--key", action="append", required=True, type=Path, metavar="PEM", help="repeatable"
    )
    unseal_parser.add_argument(
        "-o", "--output", type=Path, metavar="FILE", help="write here (mode 0600), not stdout"
    )
    unseal_parser.set_defaults(handler=_unseal)


def _seal(args: argparse.Namespace) -> int:
    from ethnet.repo.emit import dump
    from ethnet.repo.files import write_atomically
    from ethnet.seal.scope import Scope
    from ethnet.seal.sealedsecret import seal_items, sealed_secret

    items = _items(args.from_literal, args.from_file)
    certificate = _certificate(args)
    if args.merge_into is not None:
        return _merge(args, items, certificate)
    if not args.name:
        raise EthnetError("--name is required (or --merge-into FILE)")
    namespace = _namespace(args)
    scope = Scope(args.scope)
    encrypted = seal_items(
        items, public_key=certificate.public_key, name=args.name, namespace=namespace, scope=scope
    )
    doc = sealed_secret(
        name=args.name,
        namespace=namespace,
        scope=scope,
        encrypted_data=encrypted,
        secret_type=args.type,
    )
    text = dump(doc)
    if args.output is None:
        sys.stdout.write(text)
    else:
        write_atomically(args.output, text)
        info(f"wrote {args.output}")
    return EXIT_OK


def _merge(
    args: argparse.Namespace, items: dict[str, bytes], certificate: SealingCertificate
) -> int:
    """Like kubeseal --merge-into: the file's own name, namespace and scope decide."""
    from ethnet.repo.emit import dump
    from ethnet.repo.environment import read_yaml_file
    from ethnet.repo.files import write_atomically
    from ethnet.seal.sealedsecret import merge_items, validate_sealed_secret

    existing = validate_sealed_secret(
        read_yaml_file(args.merge_into, what="SealedSecret"), source=str(args.merge_into)
    )
    current = existing["metadata"]
    for flag, value, field in (
        ("--name", args.name, "name"),
        ("--namespace", args.namespace, "namespace"),
    ):
        if value is not None and value != current.get(field):
            raise EthnetError(
                f"{flag} {value!r} does not match {args.merge_into}'s {field} "
                f"{current.get(field)!r}"
            )
    merged = merge_items(
        existing, items, public_key=certificate.public_key, source=str(args.merge_into)
    )
    write_atomically(args.merge_into, dump(merged))
    info(f"sealed {len(items)} item(s) into {args.merge_into}")
    return EXIT_OK


def _items(literals: list[str], files: list[str]) -> dict[str, bytes]:
    items: dict[str, bytes] = {}
    pairs = [("--from-literal", text) for text in literals] + [("--from-file", t) for t in files]
    if not pairs:
        raise EthnetError(
            "nothing to seal", hint="give --from-file KEY=PATH or --from-literal KEY=VALUE"
        )
    for flag, text in pairs:
        key, sep, value = text.partition("=")
        if not sep or not _SECRET_KEY.fullmatch(key):
            raise EthnetError(
                f"{flag} {key!r}: expected KEY=..., KEY made of letters, digits, '-', '_', '.'"
            )
        if key in items:
            raise EthnetError(f"{flag}: item {key!r} is given twice")
        if flag == "--from-literal":
            items[key] = value.encode("utf-8")
            continue
        try:
            items[key] = Path(value).read_bytes()
        except OSError as exc:
            raise EthnetError(f"--from-file {key}={value}: {exc.strerror}") from None
    return items


def _certificate(args: argparse.Namespace) -> SealingCertificate:
    from ethnet.repo.environment import load_certificate
    from ethnet.seal.certs import load_sealing_certificate

    if args.cert is not None:
        try:
            pem = args.cert.read_bytes()
        except OSError as exc:
            raise EthnetError(f"--cert {args.cert}: {exc.strerror}") from None
        certificate, warnings = load_sealing_certificate(pem, source=str(args.cert), now=now())
    elif args.env is not None:
        certificate, warnings = load_certificate(layout(args), args.env, now())
    else:
        raise EthnetError(
            "which certificate? give --env ENV (in a network repository) or --cert PEM"
        )
    for message in warnings:
        warn(message)
    return certificate


def _namespace(args: argparse.Namespace) -> str:
    if args.namespace is not None:
        return str(args.namespace)
    if args.env is None:
        raise EthnetError("--namespace is required with --cert (or use --env)")
    network = load(network_file(args)).network
    network.require_environment(args.env)
    return network.environment(args.env).namespace


def _unseal(args: argparse.Namespace) -> int:
    from ruamel.yaml.error import YAMLError

    from ethnet import yamlread
    from ethnet.repo.emit import dump_all
    from ethnet.repo.files import read_private_file, write_private_file
    from ethnet.seal.recovery import load_private_keys
    from ethnet.seal.sealedsecret import unseal

    keys = []
    for path in args.key:
        keys += load_private_keys(read_private_file(path), source=str(path))
    try:
        documents = [d for d in yamlread.load_all(args.file.read_text()) if d]
    except FileNotFoundError:
        raise EthnetError(f"{args.file}: no such file") from None
    except YAMLError as exc:
        raise EthnetError(f"{args.file}: not valid YAML: {getattr(exc, 'problem', exc)}") from None
    if not documents:
        raise EthnetError(f"{args.file}: no SealedSecret in it")
    secrets = [
        unseal(
            doc,
            keys,
            source=f"{args.file}" + (f" (document {i + 1})" if len(documents) > 1 else ""),
        )
        for i, doc in enumerate(documents)
    ]
    text = dump_all(secrets, header="PLAINTEXT SECRETS from ethnet unseal: do not commit")
    if args.output is not None:
        write_private_file(args.output, text.encode("utf-8"))
        info(f"wrote {len(secrets)} Secret(s) to {args.output} (mode 0600)")
    else:
        sys.stdout.write(text)
        warn("the output above holds plaintext secrets; keep it out of git and logs")
    return EXIT_OK
