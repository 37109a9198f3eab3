#!/usr/bin/env bash
# `make demo`: what ethnet does today, on the example networks in examples/.
# Validator keys here are generated in memory and thrown away: only their addresses print.
set -euo pipefail
ethnet=${1:-ethnet}
python=$(dirname "$(command -v "$ethnet")")/python
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "ethnet spec check examples/besu-qbft/network.yaml"
"$ethnet" spec check examples/besu-qbft/network.yaml

step "ethnet spec check examples/geth-clique/network.yaml"
"$ethnet" spec check examples/geth-clique/network.yaml

step "a network.yaml with mistakes: every problem at once, located (exit code 1)"
broken=$(mktemp -d)
trap 'rm -rf "$broken"' EXIT
sed -e 's/profile: besu-qbft/profile: besu-qbtf/' \
    -e 's/chainId: 1337002/chainId: 1337001/' \
    -e 's/"5 gwei"/"5 gwie"/' \
    -e 's/ethstats: true/ethstat: true/' \
    examples/besu-qbft/network.yaml > "$broken/network.yaml"
"$ethnet" spec check -C "$broken" && exit 1 || echo "(exit code $?)"

step "ethnet genesis --env dev (besu-qbft), 4 throwaway validators"
validators=$("$python" - <<'PY'
from ethnet.chain.address import to_checksum_address
from ethnet.chain.keys import PrivateKey
print(" ".join(f"--validator {to_checksum_address(PrivateKey.generate().address)}" for _ in range(4)))
PY
)
# shellcheck disable=SC2086
"$ethnet" genesis -f examples/besu-qbft/network.yaml --env dev $validators

step "ethnet genesis --env prod (geth-clique v1.13.15), 3 throwaway signers"
signers=$(echo "$validators" | cut -d' ' -f1-6)
# shellcheck disable=SC2086
"$ethnet" genesis -f examples/geth-clique/network.yaml --env prod $signers

step "next: ethnet new (sealed keys, manifests, GitOps) - see the open issues in README.md"
