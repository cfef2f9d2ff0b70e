#!/usr/bin/env bash
# Builds Helm from the Go module proxy into a cache folder outside the repo, keyed by version,
# and prints the binary's path. A cached binary is reused, so CI and developers build once per
# machine. Built as its own module (`go install pkg@version`), so cluster/go.mod and with it the
# control plane's cache key stay untouched.
#   cluster/helm.sh            build (or reuse) and print the path of helm
#   cluster/helm.sh --print    print the path only
set -euo pipefail

version="${AUTOSTACK_HELM_VERSION:-v4.3.2}"
dir="${AUTOSTACK_HELM_CACHE:-$HOME/.cache/autostack-helm}/$version"
helm="$dir/helm"

if [[ "${1:-}" == "--print" || -x "$helm" ]]; then
  echo "$helm"
  exit 0
fi

command -v go >/dev/null || { echo "cluster/helm.sh: Go is not installed (needs go >= 1.25)" >&2; exit 3; }
major="${version%%.*}"
partial="$dir.partial"
mkdir -p "$partial"
start=$SECONDS
echo "building helm $version (helm.sh/helm/$major/cmd/helm)" >&2
# outside any module and workspace, so no go.mod of this repo takes part; -trimpath and -s -w as
# in cluster/build.sh; the version stamp is what `helm version` prints
(cd "$partial" && GOWORK=off GOFLAGS=-buildvcs=false CGO_ENABLED=0 GOBIN="$partial" \
  go install -trimpath \
  -ldflags="-s -w -X helm.sh/helm/$major/internal/version.version=$version" \
  "helm.sh/helm/$major/cmd/helm@$version")
mkdir -p "$dir"
mv "$partial/helm" "$helm"
rm -rf "$partial"
echo "built helm $version in $((SECONDS - start))s" >&2
echo "$helm"
