#!/usr/bin/env bash
# `make demo`: what ethnet does today, on the example networks in examples/.
# Everything happens in a temporary directory, with its own $ETHNET_HOME, removed at the end.
set -euo pipefail
ethnet=${1:-ethnet}
ethnet=$(cd "$(dirname "$ethnet")" && pwd)/$(basename "$ethnet")
examples=$(pwd)/examples
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export ETHNET_HOME=$work/ethnet-home

step "ethnet spec check examples/besu-qbft/network.yaml"
"$ethnet" spec check "$examples/besu-qbft/network.yaml"

step "a network.yaml with mistakes: every problem at once, located (exit code 1)"
mkdir "$work/broken"
sed -e 's/profile: besu-qbft/profile: besu-qbtf/' \
    -e 's/chainId: 1337002/chainId: 1337001/' \
    -e 's/"5 gwei"/"5 gwie"/' \
    -e 's/ethstats: true/ethstat: true/' \
    "$examples/besu-qbft/network.yaml" > "$work/broken/network.yaml"
"$ethnet" spec check -C "$work/broken" && exit 1 || echo "(exit code $?)"

for profile in besu-qbft geth-clique; do
  repo=$work/$profile
  mkdir "$repo"
  cp "$examples/$profile/network.yaml" "$repo/"
  cd "$repo"

  step "$profile: ethnet sealing-key init --env dev (a dev cluster's sealed-secrets key)"
  "$ethnet" sealing-key init --env dev --out "$work/$profile-dev-controller-key.yaml"

  step "$profile: ethnet keys generate --env dev (keys made in memory, written only sealed)"
  "$ethnet" keys generate --env dev
  ls -1 overlays/dev/generated
  echo "--- overlays/dev/generated/keys.yaml (public material only):"
  sed -n '1,16p' overlays/dev/generated/keys.yaml
  echo "..."

  step "$profile: ethnet genesis --env dev (validators from keys.yaml)"
  "$ethnet" genesis --env dev | sed -n '1,3p;/extraData/p;/alloc/,$p'

  step "$profile: ethnet unseal (disaster recovery with the dev key; item names only)"
  network=$(sed -n 's/^  network: //p' overlays/dev/generated/keys.yaml)
  "$ethnet" unseal "overlays/dev/generated/sealedsecret-validator-keys.yaml" \
      --key "$ETHNET_HOME/$network/dev/sealing-key.pem" 2>/dev/null | sed -n '/^data:/,$p' | cut -d: -f1
  cd - >/dev/null
done

step "next: ethnet new (manifests, rendering, GitOps) - see the open issues in README.md"
