"""A table of bad network.yaml inputs: each exits 1 with located one-line messages.

Lines 1-5 of every case are the header (apiVersion, kind, metadata, name, spec:), so the
spec body starts on line 6. Each case states the exact FILE:LINE:COLUMN: FIELD prefix.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.spec.helpers import network_yaml

DEV = "  environments:\n    dev:\n      chainId: 1337001\n"

# (id, network.yaml text, expected "LINE:COLUMN: field.path: message fragment" per problem)
CASES: list[tuple[str, str, list[str]]] = [
    (
        "chain-id-zero",
        network_yaml("  environments:\n    prod:\n      chainId: 0\n"),
        ["8:16: spec.environments.prod.chainId: must be a positive integer, got 0"],
    ),
    (
        "chain-id-text",
        network_yaml("  environments:\n    prod:\n      chainId: main\n"),
        ["8:16: spec.environments.prod.chainId: must be an integer, got 'main'"],
    ),
    (
        "chain-id-too-large",
        network_yaml("  environments:\n    prod:\n      chainId: 9223372036854775807\n"),
        ["8:16: spec.environments.prod.chainId: must be at most 9223372036854775771"],
    ),
    (
        "chain-id-duplicate",
        network_yaml(DEV + "    prod:\n      chainId: 1337001\n"),
        ["10:16: spec.environments.prod.chainId: chainId 1337001 is already used by"],
    ),
    (
        "environment-name-not-dns",
        network_yaml("  environments:\n    Prod_1:\n      chainId: 5\n"),
        ["7:5: spec.environments.Prod_1: key 'Prod_1' is not a DNS-1123 label"],
    ),
    (
        "namespace-not-dns",
        network_yaml(DEV + "      namespace: acme_dev\n"),
        ["9:18: spec.environments.dev.namespace: 'acme_dev' is not a DNS-1123 label"],
    ),
    (
        "network-name-starts-with-digit",
        network_yaml(DEV, name="1acme"),
        ["4:9: metadata.name: '1acme' must start with a lowercase letter"],
    ),
    (
        "derived-name-too-long",
        network_yaml("  environments:\n    staging:\n      chainId: 5\n", name="a" * 56),
        [
            "7:5: spec.environments.staging: derived name '" + "a" * 56 + "-staging' "
            "(Application and instance label) has 64 characters, over Kubernetes' limit of 63"
        ],
    ),
    (
        "no-validators",
        network_yaml("  nodes:\n    validators: 0\n" + DEV),
        ["7:17: spec.nodes.validators: must be a positive integer, got 0"],
    ),
    (
        "negative-rpc-in-environment",
        network_yaml(DEV + "      nodes: {rpc: -1}\n"),
        ["9:20: spec.environments.dev.nodes.rpc: must not be negative, got -1"],
    ),
    (
        "unknown-profile",
        network_yaml("  profile: besu-qbtf\n" + DEV),
        [
            "6:12: spec.profile: must be one of 'besu-qbft' or 'geth-clique', got 'besu-qbtf' "
            "(did you mean 'besu-qbft'?)"
        ],
    ),
    (
        "unknown-component",
        network_yaml("  components:\n    blockscot: true\n" + DEV),
        ["7:5: spec.components.blockscot: unknown field 'blockscot' (did you mean 'blockscout'?)"],
    ),
    (
        "misspelled-section",
        network_yaml("  enviroments:\n    dev: {chainId: 1}\n"),
        [
            "5:1: spec.environments: is required",
            "6:3: spec.enviroments: unknown field 'enviroments' (did you mean 'environments'?)",
        ],
    ),
    (
        "image-without-tag",
        network_yaml("  images:\n    besu: hyperledger/besu\n" + DEV),
        ["7:11: spec.images.besu: image 'hyperledger/besu' is not pinned"],
    ),
    (
        "image-malformed",
        network_yaml("  images:\n    besu: Hyperledger/Besu:26.2.0\n" + DEV),
        ["7:11: spec.images.besu: 'Hyperledger/Besu:26.2.0' is not an image reference"],
    ),
    (
        "image-floating-tag-in-environment",
        network_yaml(DEV + "      images: {besu: 'hyperledger/besu:latest'}\n"),
        [
            "9:22: spec.environments.dev.images.besu: image 'hyperledger/besu:latest' uses the "
            "floating tag 'latest'"
        ],
    ),
    (
        "balance-unknown-unit",
        network_yaml(
            "  genesis:\n    alloc:\n"
            "      - {address: '0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed', balance: 5 gwie}\n"
            + DEV
        ),
        ["8:74: spec.genesis.alloc[0].balance: unknown unit 'gwie' in '5 gwie'"],
    ),
    (
        "balance-negative",
        network_yaml(
            "  genesis:\n    alloc:\n"
            "      - address: '0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed'\n"
            "        balance: -5\n" + DEV
        ),
        ["9:18: spec.genesis.alloc[0].balance: balance must be wei (decimal or 0x-hex)"],
    ),
    (
        "balance-fraction-of-wei",
        network_yaml(
            "  genesis:\n    alloc:\n"
            "      - address: '0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed'\n"
            "        balance: 1.5 wei\n" + DEV
        ),
        ["9:18: spec.genesis.alloc[0].balance: '1.5 wei' is not a whole number of wei"],
    ),
    (
        "address-bad-checksum",
        network_yaml(
            "  genesis:\n    alloc:\n"
            "      - address: '0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD'\n"
            "        balance: 1 ether\n" + DEV
        ),
        ["8:18: spec.genesis.alloc[0].address: EIP-55 checksum mismatch"],
    ),
    (
        "address-too-short",
        network_yaml(
            "  genesis:\n    alloc:\n"
            "      - {address: '0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeA', balance: 1}\n" + DEV
        ),
        ["8:19: spec.genesis.alloc[0].address: not an address (0x followed by 40 hex digits)"],
    ),
    (
        "address-duplicate",
        network_yaml(
            "  genesis:\n    alloc:\n"
            "      - {address: '0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed', balance: 1}\n"
            "      - {address: '0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed', balance: 2}\n" + DEV
        ),
        [
            "9:19: spec.genesis.alloc[1].address: address "
            "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed is already funded by alloc[0]"
        ],
    ),
    (
        "zero-base-fee-on-clique",
        network_yaml("  profile: geth-clique\n  genesis:\n    zeroBaseFee: true\n" + DEV),
        ["8:18: spec.genesis.zeroBaseFee: zeroBaseFee is a Besu genesis option"],
    ),
    (
        "gas-limit-too-small",
        network_yaml("  genesis:\n    gasLimit: 1000\n" + DEV),
        ["7:15: spec.genesis.gasLimit: gasLimit 1000 is below the minimum of 5000"],
    ),
    (
        "gas-limit-not-a-number",
        network_yaml("  genesis:\n    gasLimit: lots\n" + DEV),
        ["7:15: spec.genesis.gasLimit: value must be a decimal or 0x-hex integer, got 'lots'"],
    ),
    (
        "live-yes-is-not-a-boolean",
        network_yaml(DEV + "      live: yes\n"),
        ["9:13: spec.environments.dev.live: must be true or false, got 'yes'"],
    ),
    (
        "storage-size-not-a-quantity",
        network_yaml("  storage:\n    size: 20GB\n" + DEV),
        ["7:11: spec.storage.size: '20GB' is not a Kubernetes quantity"],
    ),
    (
        "repo-url-not-git",
        network_yaml("  gitops:\n    repoURL: ftp://example.invalid/x\n" + DEV),
        ["7:14: spec.gitops.repoURL: 'ftp://example.invalid/x' is not a git URL"],
    ),
    (
        "branch-invalid",
        network_yaml("  gitops:\n    branch: feature..x\n" + DEV),
        ["7:13: spec.gitops.branch: 'feature..x' is not a valid git branch name"],
    ),
    (
        "no-environments",
        network_yaml("  environments: {}\n"),
        ["6:3: spec.environments: must have at least one entry"],
    ),
    (
        "wrong-api-version",
        MINIMAL_V2 := network_yaml(DEV).replace("ethnet/v1alpha1", "ethnet/v2"),
        ["1:13: apiVersion: must be one of 'ethnet/v1alpha1', got 'ethnet/v2'"],
    ),
    (
        "yaml-syntax-error",
        network_yaml("  environments:\n    dev:\n      chainId: 1\n     live: true\n"),
        ["9:6: invalid YAML: expected <block end>"],
    ),
    (
        "yaml-duplicate-key",
        network_yaml("  profile: besu-qbft\n  profile: geth-clique\n" + DEV),
        ['7:3: invalid YAML: found duplicate key "profile"'],
    ),
    (
        "yaml-alias",
        network_yaml("  nodes: &n {validators: 4}\n" + DEV + "      nodes: *n\n"),
        ["10:14: YAML aliases (*name) and merge keys are not allowed here"],
    ),
    (
        "not-a-mapping",
        "- apiVersion: ethnet/v1alpha1\n",
        ["1:1: expected a mapping with apiVersion, kind, metadata and spec"],
    ),
]


@pytest.mark.parametrize(("text", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_exits_1_with_located_messages(run_cli, tmp_path: Path, text, expected):
    spec_file = tmp_path / "network.yaml"
    spec_file.write_text(text, encoding="utf-8")

    result = run_cli("spec", "check", spec_file)

    assert result.code == 1
    assert result.out == ""
    lines = result.err.splitlines()
    problems = [line for line in lines if line.startswith(str(spec_file))]
    assert len(problems) == len(expected), result.err
    for line, fragment in zip(problems, expected, strict=True):
        assert line.startswith(f"{spec_file}:{fragment}"), f"{line!r} !~ {fragment!r}"
    assert lines[-1] == f"{len(expected)} problem{'s' if len(expected) > 1 else ''} found"
    assert "Traceback" not in result.err


def test_there_are_at_least_twenty_cases():
    assert len(CASES) >= 20
    assert MINIMAL_V2  # the walrus above keeps that case's text readable


def test_every_problem_is_reported_at_once(run_cli, tmp_path: Path):
    text = network_yaml(
        "  profile: besu\n  nodes: {validators: 0}\n"
        "  environments:\n    dev: {chainId: -1, live: maybe}\n"
    )
    (tmp_path / "network.yaml").write_text(text)

    result = run_cli("spec", "check", "-C", tmp_path)

    assert result.code == 1
    assert result.err.splitlines()[-1] == "4 problems found"
    for path in (
        "spec.profile",
        "spec.nodes.validators",
        "spec.environments.dev.chainId",
        "spec.environments.dev.live",
    ):
        assert f": {path}: " in result.err


def test_a_real_process_prints_no_traceback(tmp_path: Path):
    (tmp_path / "network.yaml").write_text(network_yaml("  environments: [dev]\n"))

    proc = subprocess.run(
        [sys.executable, "-m", "ethnet", "spec", "check", "network.yaml"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )

    assert proc.returncode == 1
    assert proc.stderr.startswith("network.yaml:6:3: spec.environments: must be a mapping")
    assert "Traceback" not in proc.stderr


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        (lambda d: None, "network.yaml: file not found"),
        (lambda d: (d / "network.yaml").mkdir(), "network.yaml: is a directory"),
        (lambda d: (d / "network.yaml").write_bytes(b"\xff\xfe"), "network.yaml: not UTF-8"),
        (
            lambda d: (d / "network.yaml").write_text("# x\n" * 300_000),
            "network.yaml: file is 1200000 bytes; a network.yaml is at most 1 MiB",
        ),
    ],
    ids=["missing", "directory", "binary", "too-large"],
)
def test_unreadable_files_are_reported_cleanly(run_cli, tmp_path: Path, setup, message):
    setup(tmp_path)

    result = run_cli("spec", "check", "-C", tmp_path)

    assert result.code == 1
    assert result.err.startswith(f"{tmp_path}/{message}")
