"""The command line as users see it: output, files, exit codes, help."""

from __future__ import annotations

import json
import subprocess
import sys

from ethnet import __version__
from tests.chain.test_genesis import VALIDATORS
from tests.conftest import EXAMPLES, GOLDEN

QBFT = EXAMPLES / "besu-qbft" / "network.yaml"


def _validator_args(count: int) -> list[str]:
    args: list[str] = []
    for address in VALIDATORS[:count]:
        args += ["--validator", "0x" + address.hex()]
    return args


def test_spec_check_reports_ok_with_the_environments(run_cli):
    result = run_cli("spec", "check", QBFT)

    assert result.code == 0
    assert result.out == (
        f"{QBFT}: ok: acme-chain, besu-qbft; environments: dev (chainId 1337001), "
        "staging (chainId 1337002), prod (chainId 1337003)\n"
    )
    assert result.err == ""


def test_spec_check_reads_network_yaml_in_the_directory(run_cli):
    result = run_cli("spec", "check", "-C", EXAMPLES / "geth-clique")

    assert result.code == 0
    assert "legacy-chain, geth-clique" in result.out


def test_spec_check_prints_warnings_but_succeeds(run_cli, tmp_path):
    text = QBFT.read_text().replace("validators: 4", "validators: 2")
    (tmp_path / "network.yaml").write_text(text)

    result = run_cli("spec", "check", "-C", tmp_path)

    assert result.code == 0
    assert "spec.nodes.validators: warning: 2 QBFT validator(s)" in result.err


def test_genesis_on_stdout_is_the_golden_file(run_cli):
    result = run_cli("genesis", "-f", QBFT, "--env", "staging", *_validator_args(4))

    assert result.code == 0
    assert result.out == (GOLDEN / "genesis" / "besu-qbft-staging.json").read_text()


def test_genesis_output_file_is_written_whole(run_cli, tmp_path):
    target = tmp_path / "genesis.json"

    result = run_cli(
        "genesis",
        "-C",
        EXAMPLES / "geth-clique",
        "--env",
        "prod",
        *_validator_args(3),
        "-o",
        target,
    )

    assert result.code == 0
    assert json.loads(target.read_text())["config"]["chainId"] == 4242002
    assert [p.name for p in tmp_path.iterdir()] == ["genesis.json"]  # no temporary left


def test_genesis_refuses_bad_validators_and_writes_nothing(run_cli, tmp_path):
    target = tmp_path / "genesis.json"
    cases = [
        (["--validator", "0x1234"], "not an address"),
        (_validator_args(2), "asks for 4 validator(s) in 'dev', got 2"),
        ([], "overlays/dev/generated/keys.yaml not found"),
        (["--validator", "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD"] * 4, "checksum"),
    ]
    for args, message in cases:
        result = run_cli("genesis", "-f", QBFT, "--env", "dev", *args, "-o", target)
        assert result.code == 1, args
        assert result.err.startswith("error: "), result.err
        assert message in result.err
    assert not target.exists()
    assert list(tmp_path.iterdir()) == []


def test_genesis_of_an_unknown_environment(run_cli):
    result = run_cli("genesis", "-f", QBFT, "--env", "qa", *_validator_args(4))

    assert result.code == 1
    assert "no environment 'qa' in network.yaml (known: dev, staging, prod)" in result.err


def test_usage_errors_exit_2(run_cli):
    assert run_cli().code == 2
    assert run_cli("genesis").code == 2
    assert run_cli("no-such-command").code == 2


def test_help_and_version(run_cli):
    help_text = run_cli("--help")
    assert help_text.code == 0
    for command in ("spec", "genesis"):
        assert command in help_text.out
    assert run_cli("--version").out == f"ethnet {__version__}\n"


def test_spec_schema_prints_the_shipped_schema(run_cli):
    result = run_cli("spec", "schema")

    schema = json.loads(result.out)
    assert result.code == 0
    assert schema["title"] == "ethnet network.yaml"
    assert schema["additionalProperties"] is False


def test_console_script_is_installed():
    bin_dir = __import__("pathlib").Path(sys.executable).parent
    proc = subprocess.run(
        [bin_dir / "ethnet", "--version"], capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0
    assert proc.stdout == f"ethnet {__version__}\n"
