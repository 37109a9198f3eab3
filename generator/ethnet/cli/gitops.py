"""``ethnet new``, ``sync``, ``render``, ``diff`` and ``check``: the GitOps workflow."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ethnet.cli.common import (
    EXIT_OK,
    EXIT_USER,
    add_directory,
    end_progress,
    info,
    layout,
    now,
    progress,
    warn,
)
from ethnet.errors import EthnetError
from ethnet.repo.layout import ethnet_home


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    new = commands.add_parser(
        "new",
        help="create a network repository (the main job)",
        description="Create a network repository in DIR from the cookiecutter template: "
        "network.yaml, README, CI workflow; git init; a dev sealing key for every environment "
        "without a certificate (private key in $ETHNET_HOME, never in the repository); node "
        "keys, genesis, rendered manifests; first commit. Template variables: network_name, "
        "profile (besu-qbft|geth-clique), environments (comma-separated), validators, "
        "rpc_nodes, bootnodes, chain_id_base, gitops_engine (argocd|flux|both), components "
        "(comma-separated: ethstats, blockscout, monitoring, rpc-ingress), repo_url, branch, "
        "live_environments.",
    )
    new.add_argument("directory", type=Path, metavar="DIR", help="where (must be empty or new)")
    new.add_argument("--no-input", action="store_true", help="take defaults instead of asking")
    new.add_argument(
        "--set", action="append", default=[], metavar="KEY=VALUE", help="a template variable"
    )
    new.set_defaults(handler=_new)

    sync_parser = commands.add_parser(
        "sync",
        help="regenerate, render every environment, commit",
        description="Regenerate base/, components/, deploy/ and overlays/*/generated/ from "
        "network.yaml (never re-sealing existing keys), render every environment with "
        "kustomize into rendered/<env>/ (one file per object), and commit if anything "
        "changed. All or nothing: a failure before the first file is written leaves the work "
        "tree, index and HEAD as they were; from then on a journal in .git/ethnet/ records "
        "the whole change, and if the process dies the next sync finishes it. When nothing "
        "changed since the last sync, nothing is rendered (see --full).",
    )
    add_directory(sync_parser)
    sync_parser.add_argument(
        "--no-commit", action="store_true", help="update the files but do not commit"
    )
    sync_parser.add_argument(
        "--allow-dirty",
        action="store_true",
        help="run even with uncommitted changes outside the network's files",
    )
    sync_parser.add_argument(
        "--push",
        action="store_true",
        help="then push the branch to its upstream (else origin); a rejected push is "
        "reported with the remote's reason and exit code 1, and the commit stays local",
    )
    sync_parser.add_argument(
        "--full",
        action="store_true",
        help="render every environment even when nothing changed since the last sync "
        "(by default a sync whose inputs and outputs are byte-identical to what the last "
        "sync left, with the same ethnet and kustomize, stops there)",
    )
    sync_parser.set_defaults(handler=_sync)

    render = commands.add_parser(
        "render",
        help="print one environment's hydrated manifests",
        description="Print the manifests sync would render for ENV, without changing anything.",
    )
    add_directory(render)
    render.add_argument("--env", required=True, metavar="ENV")
    render.set_defaults(handler=_render)

    diff = commands.add_parser(
        "diff",
        help="rendered changes per environment and object (Markdown)",
        description="The rendered objects that differ between a revision and the work tree, "
        "grouped by environment, as Markdown for a pull request comment or job summary.",
    )
    add_directory(diff)
    diff.add_argument(
        "--base", metavar="REV", help="compare with REV (default: origin/<branch>, else HEAD)"
    )
    diff.set_defaults(handler=_diff)

    check_parser = commands.add_parser(
        "check",
        help="what CI runs on every pull request",
        description="Check the repository: network.yaml valid; generated/, rendered/ and "
        "deploy/ identical to a fresh render; SealedSecret scopes match their names and "
        "namespaces; keys.yaml agrees with genesis and static nodes; images pinned; the "
        "genesis of every live environment unchanged since --base. Each finding names the "
        "command that fixes it. Exit code 1 when anything is found.",
    )
    add_directory(check_parser)
    check_parser.add_argument(
        "--base", metavar="REV", help="for the live-genesis check (default: origin/<branch>)"
    )
    check_parser.add_argument(
        "--allow-genesis-change",
        action="store_true",
        help="accept a changed genesis on a live environment (a chain reset, on purpose)",
    )
    check_parser.set_defaults(handler=_check)


UNCHANGED = "everything is up to date: nothing changed since the last sync (--full renders anyway)"


def _settings(pairs: list[str]) -> dict[str, str]:
    settings = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise EthnetError(f"--set {pair!r}: expected KEY=VALUE")
        settings[key] = value
    return settings


def _new(args: argparse.Namespace) -> int:
    from ethnet.gitops.new import new_network

    try:
        created = new_network(
            args.directory,
            settings=_settings(args.set),
            no_input=args.no_input,
            home=ethnet_home(),
            now=now(),
            progress=progress,
        )
    finally:
        end_progress()
    info(f"created {created.path}: network {created.name}, commit {str(created.commit)[:12]}")
    for env, secret in created.dev_keys.items():
        info(f"  {env}: dev sealing key; install it with kubectl apply -f {secret}")
    info(f"next: cd {created.path}; see README.md (connect clusters, PR flow, rollback)")
    return EXIT_OK


def _sync(args: argparse.Namespace) -> int:
    from ethnet.gitops import fingerprint

    root = layout(args).root
    # The no-op fast path, before the rest of ethnet is even imported.
    if args.push and args.no_commit:
        raise EthnetError("--push and --no-commit do not go together")
    fast = not args.full and not args.no_commit
    if fast and fingerprint.unchanged_since_last_sync(root, allow_dirty=args.allow_dirty):
        info(UNCHANGED)
        return _push(root) if args.push else EXIT_OK

    from ethnet.gitops.sync import sync

    try:
        result = sync(
            root,
            now=now(),
            commit=not args.no_commit,
            allow_dirty=args.allow_dirty,
            progress=progress,
            full=True,  # the fingerprint was compared above; no need to hash it all again
        )
    finally:
        end_progress()
    for message in result.warnings:
        warn(message)
    for env, keys in sorted(result.generated_keys.items()):
        if keys:
            info(f"{env}: generated and sealed {', '.join(keys)}")
    if result.unchanged:
        info(UNCHANGED)
    elif not result.changed and not result.removed and result.commit is None:
        info("everything is up to date; nothing to commit")
    else:
        info(f"{len(result.changed)} file(s) written, {len(result.removed)} removed")
        if result.commit:
            info(f"committed {result.commit[:12]}")
    return _push(root) if args.push else EXIT_OK


def _push(root: Path) -> int:
    from ethnet.gitops.git import open_repository, push

    info(f"pushed to {push(open_repository(root))}")
    return EXIT_OK


def _render(args: argparse.Namespace) -> int:
    from ethnet.gitops.sync import render_preview

    sys.stdout.write(render_preview(layout(args).root, args.env, now=now()))
    return EXIT_OK


def _diff(args: argparse.Namespace) -> int:
    from ethnet.gitops.diff import markdown, rendered_changes

    base, changes = rendered_changes(layout(args).root, args.base)
    sys.stdout.write(markdown(base, changes))
    return EXIT_OK


def _check(args: argparse.Namespace) -> int:
    from ethnet.gitops.check import check

    findings = check(
        layout(args).root,
        now=now(),
        base=args.base,
        allow_genesis_change=args.allow_genesis_change,
    )
    for finding in findings:
        print(finding, file=sys.stderr)
    if findings:
        print(f"{len(findings)} problem(s) found", file=sys.stderr)
        return EXIT_USER
    print("ethnet check: ok")
    return EXIT_OK
