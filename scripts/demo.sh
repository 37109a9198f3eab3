#!/usr/bin/env bash
# `make demo`: the main job on defaults. `ethnet new` makes a network repository (besu-qbft,
# dev/staging/prod, Argo CD), then a change goes through sync, diff and check like a pull
# request would. Everything happens in a temporary directory, with its own $ETHNET_HOME.
set -euo pipefail
ethnet=${1:-ethnet}
ethnet=$(cd "$(dirname "$ethnet")" && pwd)/$(basename "$ethnet")
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export ETHNET_HOME=$work/ethnet-home
# a git identity for the demo's commits, if this machine has none
export GIT_AUTHOR_NAME=${GIT_AUTHOR_NAME:-ethnet demo} GIT_AUTHOR_EMAIL=${GIT_AUTHOR_EMAIL:-demo@ethnet.invalid}
export GIT_COMMITTER_NAME=${GIT_COMMITTER_NAME:-ethnet demo} GIT_COMMITTER_EMAIL=${GIT_COMMITTER_EMAIL:-demo@ethnet.invalid}

step "ethnet new acme-chain --no-input"
"$ethnet" new "$work/acme-chain" --no-input
cd "$work/acme-chain"

step "the repository"
git log --oneline
find . -path ./.git -prune -o -type f -print | sed 's|^\./||' | sort | awk -F/ '
  { top = ($1 == "rendered" || $1 == "overlays") ? $1 "/" $2 : $1; n[top]++ }
  END { for (t in n) printf "  %-28s %3d file(s)\n", t, n[t] }' | sort

step "overlays/dev/generated/keys.yaml (public key material only)"
sed -n '1,14p' overlays/dev/generated/keys.yaml

step "rendered/prod/statefulset-validator.yaml (excerpt)"
sed -n '/containers:/,/ports:/p' rendered/prod/statefulset-validator.yaml | head -32

step "ethnet check"
"$ethnet" check

step "a pull request: more RPC nodes in prod"
git switch -q -c more-rpc
sed -i 's/^      chainId: 1337003$/      chainId: 1337003\n      nodes: {rpc: 3}/' network.yaml
"$ethnet" sync
git log --stat --format='%h %s' -1 | sed -n '1,12p'

step "ethnet diff (what the PR comment shows)"
"$ethnet" diff --base main | sed -n '1,30p'

step "ethnet check, then the rollback: git revert"
"$ethnet" check --base main
git revert --no-edit HEAD >/dev/null
"$ethnet" check
echo "rendered/ is back to what main had: $(git diff --quiet main -- rendered && echo yes)"
